"""The global log's public iterators, for every foreign source alike.

Each derives from the two walks a ``ForeignSource`` provides (``_log``: decoded events with
their stream type, filtered; ``_heads``: positions, ids, versions, types and times only), so
an adapter writes neither.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import ClassVar

from ..hashing import canonical_json, instant_from_us
from ..records import PROVENANCE_KEY, EventPayload, EventRow, RecordedEvent
from .cut import EventHead, ForeignEvent


def recorded(e: ForeignEvent, stream_type: str) -> RecordedEvent:
    """A decoded event as the read protocol hands it out (no hash: the source keeps none)."""
    return RecordedEvent(e.position, e.stream_id, stream_type, e.version, e.type,
                         instant_from_us(e.recorded_at_us), e.payload, e.metadata, "",
                         e.provenance)


class LogReading(ABC):
    """``iter_events``, ``iter_raw_events``, ``iter_event_payloads``, ``iter_event_heads`` and
    ``iter_event_codes`` over ``_log`` and ``_heads``."""

    kind: ClassVar[str]

    @abstractmethod
    def _log(self, after_position: int, to_position: int | None,
             stream_ids: Iterable[str] | None, stream_types: Iterable[str] | None,
             event_types: Iterable[str] | None, since: datetime | None,
             until: datetime | None, page_size: int,
             ) -> Iterator[list[tuple[ForeignEvent, str]]]: ...

    @abstractmethod
    def _heads(self, after_position: int, to_position: int | None, page_size: int,
               ) -> Iterator[list[tuple[EventHead, str]]]: ...

    def iter_events(self, after_position: int = 0, *, to_position: int | None = None,
                    stream_ids: Iterable[str] | None = None,
                    stream_types: Iterable[str] | None = None,
                    event_types: Iterable[str] | None = None, since: datetime | None = None,
                    until: datetime | None = None, page_size: int = 1000,
                    ) -> Iterator[RecordedEvent]:
        for page in self._log(after_position, to_position, stream_ids, stream_types,
                              event_types, since, until, page_size):
            for e, stream_type in page:
                yield recorded(e, stream_type)

    def iter_raw_events(self, after_position: int = 0, *, to_position: int | None = None,
                        stream_ids: Iterable[str] | None = None,
                        stream_types: Iterable[str] | None = None,
                        event_types: Iterable[str] | None = None,
                        since: datetime | None = None, until: datetime | None = None,
                        page_size: int = 5000) -> Iterator[EventRow]:
        """The events with payload and metadata as canonical JSON text and no hash (the
        source's own bytes are its encoding, maybe compressed or encrypted, not JSON). The
        metadata keeps the application's own and adds the provenance (with the source's kind)
        under ``PROVENANCE_KEY``, so an export imported elsewhere still says where each event
        came from."""
        kind = self.kind
        for page in self._log(after_position, to_position, stream_ids, stream_types,
                              event_types, since, until, page_size):
            for e, stream_type in page:
                metadata = {**e.metadata,
                            PROVENANCE_KEY: {"kind": kind, **e.provenance}}
                yield (e.position, e.stream_id, stream_type, e.version, e.type,
                       e.recorded_at_us, canonical_json(e.payload),
                       canonical_json(metadata), "")

    def iter_event_payloads(self, after_position: int = 0, *, to_position: int | None = None,
                            stream_types: Iterable[str] | None = None, page_size: int = 5000,
                            ) -> Iterator[EventPayload]:
        for page in self._log(after_position, to_position, None, stream_types, None, None,
                              None, page_size):
            for e, stream_type in page:
                yield EventPayload(e.position, e.stream_id, stream_type, e.version, e.type,
                                   e.recorded_at_us, e.payload)

    def iter_event_heads(self, after_position: int = 0, page_size: int = 20_000, *,
                         to_position: int | None = None,
                         ) -> Iterator[list[tuple[int, str, str, int, str, int]]]:
        for page in self._heads(after_position, to_position, page_size):
            yield [(h.position, h.stream_id, stream_type, h.version, h.type, h.recorded_at_us)
                   for h, stream_type in page]

    def iter_event_codes(self, stream_types: Sequence[str], event_types: Sequence[str],
                         after_position: int = 0, page_size: int = 50_000,
                         ) -> Iterator[list[tuple[int, int, int, int]]]:
        """The timeline's columns; the name lists are read again for every page, as the
        native store does, so names a caller appends get codes from the next page on."""
        for page in self._heads(after_position, None, page_size):
            st = {name: k for k, name in enumerate(stream_types, 1)}
            et = {name: k for k, name in enumerate(event_types, 1)}
            yield [(h.position, h.recorded_at_us, st.get(stream_type, 0), et.get(h.type, 0))
                   for h, stream_type in page]

