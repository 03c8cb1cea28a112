"""The read protocol for a store esaudit did not write, built from a few primitives.

An adapter (eventsourcing, Emmett) answers four questions about its own tables: which streams
there are (``_load_streams``), a stream's events by version (``_read``), the global log by
position (``_log_page``) and how many events each type has (``_event_type_counts``); snapshots
where the source keeps them. This class derives the rest of ``store.protocol.Source`` from them
(the stream browser's filter, sort and row numbers, counts, the timeline's columns, the raw
rows export and verify walk), so every adapter behaves alike and passes the same contract.

Every answer is taken from one cut of the history: ``refresh`` loads the stream list in one
read-only transaction and remembers the last position it saw; later reads never go past that
position, so the list, the events and the log agree even while the application goes on
appending. ``refresh`` again (the app's Refresh) to see what was added since.
"""

from __future__ import annotations

import bisect
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from ..hashing import instant_from_us, us_from_instant
from ..protocol import Capabilities, SourceIdentity
from ..records import (
    FoldSnapshot,
    MinuteCounts,
    RecordedEvent,
    Snapshot,
    StoreStats,
    StreamInfo,
)
from ..search import EventSearch
from ..stream_browser import Annotation, SortKey, StreamPageRow
from ..tracing import CORRELATION_KEYS, first_text
from .cut import EMPTY_CUT, Cut, EventHead, ForeignEvent, StreamEntry
from .database import ReadOnlyDatabase, Reads
from .log_reading import LogReading, recorded

__all__ = ["EventHead", "ForeignEvent", "ForeignSource", "StreamEntry"]


class ForeignSource(LogReading):
    """A read-only ``Source`` over another program's tables (see the module docstring)."""

    kind: ClassVar[str]

    def __init__(self, db: ReadOnlyDatabase) -> None:
        self._db = db
        self._cut = EMPTY_CUT
        self._complete = True
        """Whether ``_cut`` holds the stream list (else ``_listing`` reads it)."""
        self._single: dict[str, StreamEntry | None] = {}
        """Streams looked up one by one while the list is not read."""
        self._loaded = False
        self.snapshots_kept = False
        """Whether the source keeps snapshots (an adapter sets it once it has looked)."""
        self.identity = SourceIdentity(self.kind, db.label)
        self.read_only = True

    # -- what an adapter provides ----------------------------------------------------------
    @abstractmethod
    def _load_streams(self, conn: Reads, to_position: int | None,
                      ) -> tuple[int, list[StreamEntry]]:
        """(last position, every stream up to it), read in the one transaction given; up to
        ``to_position`` when the cut was taken before (see ``_take_cut``)."""

    def _take_cut(self, conn: Reads) -> int | None:
        """The last position, if this adapter can take a cut without reading the stream list
        (then the list is read when first needed, and ``_load_stream`` answers for one
        stream: a command about one stream of a big store never reads them all). None: the
        list is read at every refresh."""
        return None

    def _load_stream(self, conn: Reads, stream_id: str, to_position: int,
                     ) -> StreamEntry | None:
        """One stream up to a position (asked only when ``_take_cut`` gave a position). An
        adapter that can find one stream alone overrides this; here it is the whole list."""
        return self._listing.streams.get(stream_id)

    @abstractmethod
    def _read(self, conn: Reads, stream_id: str, from_version: int,
              to_version: int | None, to_position: int) -> list[ForeignEvent]:
        """A stream's events in version order, none past ``to_position``."""

    @abstractmethod
    def _log_page(self, conn: Reads, after_position: int, to_position: int,
                  stream_ids: Sequence[str] | None, limit: int) -> list[ForeignEvent]:
        """Up to ``limit`` events after a position, in position order."""

    @abstractmethod
    def _event_type_counts(self, conn: Reads, to_position: int) -> dict[str, int]: ...

    def _head_page(self, conn: Reads, after_position: int, to_position: int,
                   limit: int) -> list[EventHead]:
        """``_log_page`` without payloads: what the timeline and verify walk. An adapter
        whose payloads cost to decode reads the heads more cheaply."""
        return [EventHead(e.position, e.stream_id, e.version, e.type, e.recorded_at_us)
                for e in self._log_page(conn, after_position, to_position, None, limit)]

    def _snapshots(self, conn: Reads, stream_id: str | None) -> list[Snapshot]:
        """The source's snapshots (of one stream, or all), in stream and version order."""
        return []

    def _lookup_id(self, stream_id: str) -> str:
        """The stream id a user typed, as the stream list has it (an adapter may accept
        another spelling the source's application also prints)."""
        return stream_id

    # -- the cut ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the stream list again: what the application appended since becomes visible."""
        if self._loaded:
            self._db.refresh()
            with self._db.read() as conn:
                if self._unchanged(conn):
                    return
        with self._db.lock, self._kept_unless_read():  # no read runs until the cut is set
            self._loaded = True
            with self._db.read() as conn:
                position = self._take_cut(conn)
                if position is None:
                    self._cut = _cut_of(*self._load_streams(conn, None))
                    self._complete = True
                else:
                    self._cut = Cut(position, 0, {}, [], [])
                    self._complete = False
                    self._single = {}

    @contextmanager
    def _kept_unless_read(self) -> Iterator[None]:
        """The cut as it was if reading the new one fails, even after the read set it (a read
        refused at its end, the file having changed under it): a later refresh then compares
        with the cut that was read whole, not with one that may mix two states."""
        kept = (self._loaded, self._cut, self._complete, self._single)
        try:
            yield
        except BaseException:
            self._loaded, self._cut, self._complete, self._single = kept
            raise

    def _unchanged(self, conn: Reads) -> bool:
        """Whether the source can tell, at a glance, that nothing was committed since the
        cut (then a refresh keeps the cut): what makes following an idle store cheap, where
        reading the stream list again may read every event. Here: it cannot."""
        return False

    @property
    def _listing(self) -> Cut:
        """The cut with its whole stream list (read now if the refresh left it for later)."""
        if not self._complete:
            with self._db.lock, self._kept_unless_read(), self._db.read() as conn:
                if not self._complete:
                    position = self._cut.position
                    self._cut = _cut_of(*self._load_streams(conn, position))
                    self._complete = True
        return self._cut

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(hash_chain=False, snapshots=self.snapshots_kept, writable=False,
                            live=True)

    @property
    def label(self) -> str:
        return self._db.label

    @property
    def sqlite_path(self) -> Path | None:
        return None  # verify's second process reads esaudit's own tables only

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ForeignSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- streams ---------------------------------------------------------------------------
    def _entry(self, stream_id: str) -> StreamEntry | None:
        if self._complete:
            streams = self._cut.streams
            return streams.get(stream_id) or streams.get(self._lookup_id(stream_id))
        if stream_id not in self._single:
            with self._db.read() as conn:
                position = self._cut.position
                found = self._load_stream(conn, stream_id, position)
                if found is None and self._lookup_id(stream_id) != stream_id:
                    found = self._load_stream(conn, self._lookup_id(stream_id), position)
            self._single[stream_id] = found
        return self._single[stream_id]

    @staticmethod
    def _info(e: StreamEntry) -> StreamInfo:
        return StreamInfo(e.stream_id, e.stream_type, e.version, "", instant_from_us(
            e.first_at_us), instant_from_us(e.last_at_us), e.first_version)

    def stream(self, stream_id: str) -> StreamInfo | None:
        entry = self._entry(stream_id)
        return None if entry is None else self._info(entry)

    def streams(self, stream_type: str | None = None, *, after_id: str | None = None,
                limit: int | None = None) -> list[StreamInfo]:
        cut = self._listing
        start = 0 if after_id is None else bisect.bisect_right(cut.ids, after_id)
        out: list[StreamInfo] = []
        for sid in cut.ids[start:]:
            entry = cut.streams[sid]
            if stream_type is None or entry.stream_type == stream_type:
                out.append(self._info(entry))
                if limit is not None and len(out) >= limit:
                    break
        return out

    def stream_heads(self, stream_type: str | None = None) -> list[tuple[str, int, str]]:
        return [(e.stream_id, e.version, "") for e in self._listing.streams.values()
                if stream_type is None or e.stream_type == stream_type]

    def stream_types(self) -> list[str]:
        return list(self._listing.types)

    def stream_rows(self, text: str | None = None, stream_type: str | None = None, *,
                    sort: SortKey = "stream_id", descending: bool = False, offset: int = 0,
                    limit: int | None = None, annotation: Annotation | None = None,
                    ) -> list[StreamPageRow]:
        rows = self._listing.listed(text, stream_type, sort, descending)
        end = None if limit is None else offset + limit
        return [StreamPageRow(e.stream_id, e.stream_type, e.version, None, None,
                              e.first_at_us, e.last_at_us, "") for e in rows[offset:end]]

    def count_streams(self, text: str | None = None, stream_type: str | None = None, *,
                      annotation: Annotation | None = None) -> int:
        if not text and not stream_type:
            return len(self._listing.ids)
        return len(self._listing.matching(text, stream_type))

    def stream_row_number(self, stream_id: str, text: str | None = None,
                          stream_type: str | None = None, *, sort: SortKey = "stream_id",
                          descending: bool = False, annotation: Annotation | None = None,
                          ) -> int | None:
        rows = self._listing.listed(text, stream_type, sort, descending)
        for i, entry in enumerate(rows):
            if entry.stream_id == stream_id:
                return i
        return None

    def counts(self) -> tuple[int, int]:
        return self._listing.events, len(self._listing.ids)

    def origin_of(self, stream_id: str) -> str:
        return self.identity.kind

    def stream_origins(self, stream_type: str | None = None) -> dict[str, str]:
        return {s.stream_id: self.identity.kind for s in self.streams(stream_type)}

    def head_position(self) -> int:
        return self._cut.position

    def timeline_minutes(self, max_rows: int | None = None) -> MinuteCounts | None:
        """None: a store esaudit did not write keeps no counts, and esaudit adds none to it."""
        return None

    def stats(self) -> StoreStats:
        cut = self._listing
        with self._db.read() as conn:
            by_event_type = self._event_type_counts(conn, cut.position)
            n_snapshots = len(self._snapshots(conn, None)) if self.snapshots_kept else 0
        by_stream_type: dict[str, int] = {}
        for entry in cut.streams.values():
            by_stream_type[entry.stream_type] = by_stream_type.get(entry.stream_type, 0) + 1
        return StoreStats(events=cut.events, streams=len(cut.ids), head_position=cut.position,
                          snapshots=n_snapshots, streams_by_type=by_stream_type,
                          events_by_type=by_event_type)

    # -- one stream's events ---------------------------------------------------------------
    def _stream_events(self, stream_id: str, from_version: int, to_version: int | None,
                       until: datetime | None) -> tuple[StreamEntry, list[ForeignEvent]] | None:
        entry = self._entry(stream_id)
        if entry is None or (to_version is not None and to_version < from_version):
            return None
        with self._db.read() as conn:
            events = self._read(conn, entry.stream_id, from_version, to_version,
                                self._cut.position)
        if until is not None:
            limit = us_from_instant(until)
            events = [e for e in events if e.recorded_at_us <= limit]
        return entry, events

    def read_stream(self, stream_id: str, from_version: int = 0,
                    to_version: int | None = None, *, until: datetime | None = None,
                    ) -> list[RecordedEvent]:
        found = self._stream_events(stream_id, from_version, to_version, until)
        if found is None:
            return []
        entry, events = found
        return [recorded(e, entry.stream_type) for e in events]

    def read_payloads(self, stream_id: str, from_version: int = 0,
                      to_version: int | None = None, *, until: datetime | None = None,
                      ) -> list[tuple[int, str, Any]]:
        found = self._stream_events(stream_id, from_version, to_version, until)
        return [] if found is None else [(e.version, e.type, e.payload) for e in found[1]]

    def positions_of(self, stream_id: str) -> list[int]:
        found = self._stream_events(stream_id, 0, None, None)
        return [] if found is None else [e.position for e in found[1]]

    def first_version_after(self, stream_id: str, instant: datetime) -> int | None:
        found = self._stream_events(stream_id, 0, None, None)
        if found is None:
            return None
        after = us_from_instant(instant)
        return next((e.version for e in found[1] if e.recorded_at_us > after), None)


    # -- the global log --------------------------------------------------------------------
    def _log(self, after_position: int, to_position: int | None,
             stream_ids: Iterable[str] | None, stream_types: Iterable[str] | None,
             event_types: Iterable[str] | None, since: datetime | None,
             until: datetime | None, page_size: int,
             ) -> Iterator[list[tuple[ForeignEvent, str]]]:
        """Pages of (event, stream type) in position order, filtered."""
        cut = self._cut if stream_ids is not None else self._listing
        end = cut.position if to_position is None else min(to_position, cut.position)
        ids = None
        chosen: dict[str, StreamEntry] = {}
        if stream_ids is not None:
            chosen = {e.stream_id: e for e in map(self._entry, stream_ids) if e is not None}
            ids = sorted(chosen)
            if not ids:
                return
        types = None if stream_types is None else set(stream_types)
        kinds = None if event_types is None else set(event_types)
        lo = None if since is None else us_from_instant(since)
        hi = None if until is None else us_from_instant(until)
        last = after_position
        while last < end:
            with self._db.read() as conn:
                page = self._log_page(conn, last, end, ids, max(1, page_size))
            if not page:
                return
            last = page[-1].position
            out = []
            known = cut.streams if ids is None else chosen
            for e in page:
                entry = known.get(e.stream_id)
                if entry is None:
                    continue  # appended after the cut was taken
                if ((types is None or entry.stream_type in types)
                        and (kinds is None or e.type in kinds)
                        and (lo is None or e.recorded_at_us >= lo)
                        and (hi is None or e.recorded_at_us <= hi)):
                    out.append((e, entry.stream_type))
            if out:
                yield out
            if len(page) < page_size:
                return

    def _heads(self, after_position: int, to_position: int | None, page_size: int,
               ) -> Iterator[list[tuple[EventHead, str]]]:
        """Pages of (head, stream type) in position order, none past the cut."""
        cut = self._listing
        end = cut.position if to_position is None else min(to_position, cut.position)
        last = after_position
        while last < end:
            with self._db.read() as conn:
                page = self._head_page(conn, last, end, max(1, page_size))
            if not page:
                return
            last = page[-1].position
            streams = cut.streams
            out = [(h, entry.stream_type) for h in page
                   if (entry := streams.get(h.stream_id)) is not None]
            if out:
                yield out
            if len(page) < page_size:
                return

    # -- investigating ---------------------------------------------------------------------
    def _search_pages(self, search: EventSearch, after_position: int, page_size: int,
                      ) -> Iterator[list[tuple[ForeignEvent, str]]]:
        """Pages of (event, stream type) in position order that hold every event the search
        matches (and may hold others: ``search_events`` tests each one). Here, the whole log
        from the position, decoded page by page; an adapter whose database can test the
        search overrides this to read only the rows that may match."""
        since = None if search.since_us is None else instant_from_us(search.since_us)
        until = None if search.until_us is None else instant_from_us(search.until_us)
        yield from self._log(after_position, None, None, None, search.event_types, since,
                             until, page_size)

    def search_events(self, search: EventSearch, *, after_position: int = 0,
                      limit: int = 1000) -> list[RecordedEvent]:
        found: list[RecordedEvent] = []
        if limit <= 0:
            return found
        for page in self._search_pages(search, after_position, max(limit, 200)):
            for e, stream_type in page:
                if search.matches(e.stream_id, e.type, e.recorded_at_us, e.payload,
                                  e.metadata):
                    found.append(recorded(e, stream_type))
                    if len(found) >= limit:
                        return found
        return found

    def correlated_events(self, correlation_id: str, *, limit: int = 10_000,
                          ) -> list[RecordedEvent]:
        """Here, a walk of the whole log (an adapter whose database can find them overrides
        this)."""
        found: list[RecordedEvent] = []
        for page in self._log(0, None, None, None, None, None, None, 1000):
            for e, stream_type in page:
                if first_text(e.metadata, CORRELATION_KEYS) == correlation_id:
                    found.append(recorded(e, stream_type))
                    if len(found) >= limit:
                        return found
        return found

    # -- snapshots -------------------------------------------------------------------------
    def load_snapshot(self, stream_id: str, at_or_below: int | None = None,
                      ) -> Snapshot | None:
        entry = self._entry(stream_id)
        if entry is None or not self.snapshots_kept:
            return None
        with self._db.read() as conn:
            found = [s for s in self._snapshots(conn, entry.stream_id)
                     if at_or_below is None or s.version <= at_or_below]
        return found[-1] if found else None

    def iter_snapshots(self) -> Iterator[Snapshot]:
        if not self.snapshots_kept:
            return iter(())
        with self._db.read() as conn:
            return iter(self._snapshots(conn, None))

    def load_fold_snapshot(self, stream_id: str, fold: str, at_or_below: int | None = None
                           ) -> Snapshot | None:
        """None: esaudit keeps no states in a store it did not write."""
        return None

    def iter_fold_snapshots(self) -> Iterator[FoldSnapshot]:
        return iter(())


def _cut_of(position: int, entries: list[StreamEntry]) -> Cut:
    streams = {e.stream_id: e for e in entries}
    return Cut(position, sum(e.events for e in entries), streams, sorted(streams),
               sorted({e.stream_type for e in entries}))
