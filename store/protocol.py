"""The read protocol: everything the application and the app read from a history.

esaudit's own store implements it; an adapter for a store esaudit did not write (the
``eventsourcing`` library's tables, Emmett's) implements the same methods over its own tables,
so every reading feature (browse, replay, diff, verify, report, export, the timeline) works on
every kind of source. What a source can and cannot do is data it declares
(``capabilities``), never an ``isinstance`` check in the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .records import (
    EventPayload,
    EventRow,
    FoldSnapshot,
    MinuteCounts,
    RecordedEvent,
    Snapshot,
    StoreStats,
    StreamInfo,
)
from .search import EventSearch
from .stream_browser import Annotation, SortKey, StreamPageRow


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a source can answer, so callers say what they could not check instead of
    guessing."""

    hash_chain: bool
    """Each event carries a hash over the previous one (verify can check the chain)."""
    snapshots: bool
    """The source keeps snapshots (replays may start from one; verify compares them)."""
    writable: bool
    """Commands may append (never true for a store esaudit did not write)."""
    live: bool
    """Other processes may append while it is open (a follower sees their events)."""
    ordered: bool = True
    """Positions become visible in increasing order, so a reader that resumes after the last
    position it saw misses nothing; False where a position may commit after a higher one
    (Emmett draws positions from a sequence before its transactions commit)."""
    correlation: bool = True
    """Events may record correlation and causation ids in their metadata (``store.tracing``);
    False where the source keeps no metadata at all, so a trace says why it finds nothing."""


@dataclass(frozen=True, slots=True)
class SourceIdentity:
    """Who a source is: its kind (``esaudit``, ``eventsourcing``, ``emmett``) and its target
    as shown to people (a path, or a URL with the password hidden)."""

    kind: str
    target: str


@runtime_checkable
class Source(Protocol):
    """A history to read: streams, their events, the global log, snapshots."""

    @property
    def identity(self) -> SourceIdentity: ...

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def read_only(self) -> bool: ...

    @property
    def label(self) -> str: ...

    @property
    def sqlite_path(self) -> Path | None:
        """A SQLite file a second process may open read-only to share a long walk (verify),
        or None."""
        ...

    def close(self) -> None: ...

    def refresh(self) -> None:
        """Make what other programs appended since the open visible (a source that reads
        every answer live does nothing)."""
        ...

    # -- streams ---------------------------------------------------------------------------
    def stream(self, stream_id: str) -> StreamInfo | None:
        """A stream's head, or None if there is no such stream."""
        ...

    def streams(self, stream_type: str | None = None, *, after_id: str | None = None,
                limit: int | None = None) -> list[StreamInfo]:
        """The stream list in id order; page with ``after_id`` and ``limit``."""
        ...

    def stream_heads(self, stream_type: str | None = None) -> list[tuple[str, int, str]]:
        """(stream id, version, head hash) of every stream (of a type)."""
        ...

    def stream_types(self) -> list[str]: ...

    def stream_rows(self, text: str | None = None, stream_type: str | None = None, *,
                    sort: SortKey = "stream_id", descending: bool = False, offset: int = 0,
                    limit: int | None = None, annotation: Annotation | None = None,
                    ) -> list[StreamPageRow]:
        """A page of the stream browser (``annotation``: a read model of the same database
        to join; a source without one ignores it)."""
        ...

    def count_streams(self, text: str | None = None, stream_type: str | None = None, *,
                      annotation: Annotation | None = None) -> int: ...

    def stream_row_number(self, stream_id: str, text: str | None = None,
                          stream_type: str | None = None, *, sort: SortKey = "stream_id",
                          descending: bool = False, annotation: Annotation | None = None,
                          ) -> int | None: ...

    def counts(self) -> tuple[int, int]:
        """(events, streams)."""
        ...

    def origin_of(self, stream_id: str) -> str:
        """How a stream got here: ``appended`` (this store's own append), ``imported``,
        ``unknown``, or the kind of the program that wrote a foreign store. An import never
        extends a stream and a command never appends to an imported one, so a stream has
        one origin: that of its first event."""
        ...

    def stream_origins(self, stream_type: str | None = None) -> dict[str, str]:
        """``origin_of`` of every stream (of a type), in one read."""
        ...

    def stats(self) -> StoreStats: ...

    def head_position(self) -> int:
        """The last global position (0 for an empty source)."""
        ...

    # -- one stream's events ---------------------------------------------------------------
    def read_stream(self, stream_id: str, from_version: int = 1,
                    to_version: int | None = None, *, until: datetime | None = None,
                    ) -> list[RecordedEvent]: ...

    def read_payloads(self, stream_id: str, from_version: int = 1,
                      to_version: int | None = None, *, until: datetime | None = None,
                      ) -> list[tuple[int, str, Any]]:
        """(version, type, payload) in version order: what a fold needs."""
        ...

    def positions_of(self, stream_id: str) -> list[int]: ...

    def first_version_after(self, stream_id: str, instant: datetime) -> int | None: ...

    # -- the global log, in position order -------------------------------------------------
    def iter_events(self, after_position: int = 0, *, to_position: int | None = None,
                    stream_ids: Iterable[str] | None = None,
                    stream_types: Iterable[str] | None = None,
                    event_types: Iterable[str] | None = None, since: datetime | None = None,
                    until: datetime | None = None, page_size: int = 1000,
                    ) -> Iterator[RecordedEvent]: ...

    def iter_raw_events(self, after_position: int = 0, *, to_position: int | None = None,
                        stream_ids: Iterable[str] | None = None,
                        stream_types: Iterable[str] | None = None,
                        event_types: Iterable[str] | None = None,
                        since: datetime | None = None, until: datetime | None = None,
                        page_size: int = 5000) -> Iterator[EventRow]: ...

    def iter_event_payloads(self, after_position: int = 0, *, to_position: int | None = None,
                            stream_types: Iterable[str] | None = None, page_size: int = 5000,
                            ) -> Iterator[EventPayload]: ...

    def iter_event_heads(self, after_position: int = 0, page_size: int = 20_000, *,
                         to_position: int | None = None,
                         ) -> Iterator[list[tuple[int, str, str, int, str, int]]]:
        """Pages of (position, stream_id, stream_type, version, type, recorded_at_us)."""
        ...

    def iter_event_codes(self, stream_types: Sequence[str], event_types: Sequence[str],
                         after_position: int = 0, page_size: int = 50_000,
                         ) -> Iterator[list[tuple[int, int, int, int]]]:
        """The timeline's columns: pages of (position, recorded_at_us, stream type code,
        event type code)."""
        ...

    def timeline_minutes(self, max_rows: int | None = None) -> MinuteCounts | None:
        """The events counted per minute, stream type and event type up to a position, if
        the source keeps such counts (``store.timeline_minutes``); None where it does not, or
        where they take more than ``max_rows`` rows."""
        ...

    # -- investigating ---------------------------------------------------------------------
    def search_events(self, search: EventSearch, *, after_position: int = 0,
                      limit: int = 1000) -> list[RecordedEvent]:
        """Up to ``limit`` events that match a search (``store.search``) after a position, in
        position order; page on from the last position returned. Answered by the source's
        database, not by decoding every event, wherever its encoding allows."""
        ...

    def correlated_events(self, correlation_id: str, *, limit: int = 10_000,
                          ) -> list[RecordedEvent]:
        """Every event whose metadata names this correlation id (in any spelling
        ``store.tracing`` knows), in position order."""
        ...

    # -- snapshots -------------------------------------------------------------------------
    def load_snapshot(self, stream_id: str, at_or_below: int | None = None,
                      ) -> Snapshot | None: ...

    def iter_snapshots(self) -> Iterator[Snapshot]: ...

    def load_fold_snapshot(self, stream_id: str, fold: str, at_or_below: int | None = None
                           ) -> Snapshot | None:
        """The latest state the named fold kept at or below a version (``store.fold_snapshots``;
        None where the source keeps none)."""
        ...

    def iter_fold_snapshots(self) -> Iterator[FoldSnapshot]: ...
