"""Reads: a stream's events, the global log in position order, the stream list and totals.

Every read is driver SQL (``Connections.read``, or ``Connections.reads`` for several queries
that must see one snapshot), so a command that only reads starts without SQLAlchemy. The long
walks (verify, export, the timeline, projections) page by position (keyset, not OFFSET), so a
store of any size is walked with one page in memory and the time goes to the rows, not to
building statements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from .connections import Connections
from .errors import NotAsWritten
from .hashing import decode_json, instant_from_us, us_from_instant
from .records import (
    EVENT_ROW_COLUMNS,
    EventPayload,
    EventRow,
    RecordedEvent,
    StoreStats,
    StreamInfo,
)

_HEAD_COLUMNS = EVENT_ROW_COLUMNS[:6]
_PAYLOAD_COLUMNS = EVENT_ROW_COLUMNS[:7]
_EVENT_SELECT = f"SELECT {', '.join(EVENT_ROW_COLUMNS)} FROM events"
_STREAM_SELECT = ("SELECT stream_id, stream_type, version, head_hash, first_at, last_at "
                  "FROM streams")

_HEAD_POSITION = "SELECT coalesce(max(position), 0) FROM events"


def _filters(
    mark: str, to_position: int | None, stream_ids: Iterable[str] | None,
    stream_types: Iterable[str] | None, event_types: Iterable[str] | None,
    since: datetime | None, until: datetime | None,
) -> tuple[list[str], list[Any]]:
    """WHERE clauses (driver SQL with ``mark`` placeholders) and their parameters."""
    clauses: list[str] = []
    params: list[Any] = []

    def add(sql: str, *values: Any) -> None:
        clauses.append(sql)
        params.extend(values)

    if to_position is not None:
        add(f"position <= {mark}", to_position)
    for column, values in (("stream_id", stream_ids), ("stream_type", stream_types),
                           ("type", event_types)):
        if values is not None:
            values = list(values)
            if not values:
                add("1 = 0")
            else:
                add(f"{column} IN ({', '.join([mark] * len(values))})", *values)
    if since is not None:
        add(f"recorded_at >= {mark}", us_from_instant(since))
    if until is not None:
        add(f"recorded_at <= {mark}", us_from_instant(until))
    return clauses, params


StreamHalf = tuple[str, int]
"""(pivot, half): the streams whose ids sort below the pivot (half 0), or the others (half
1). Two processes that each walk one half walk every stream's whole chain, so neither needs
the other's."""


def stream_half_clause(half: StreamHalf, mark: str) -> tuple[str, str]:
    """The WHERE clause of one half and its one parameter (the pivot). Half 1 is "not half
    0", so every row is in exactly one, whatever a damaged row's id holds; the ``+`` keeps a
    walk in position order, off the (stream id, version) index."""
    pivot, which = half
    below = f"+stream_id < {mark}"
    return (f"({below}) IS NOT 1" if which else f"({below}) IS 1"), pivot


def _of_type(mark: str, stream_type: str | None) -> tuple[list[str], list[Any]]:
    """The stream list's WHERE clauses and parameters for one stream type, or none."""
    return ([f"stream_type = {mark}"], [stream_type]) if stream_type is not None else ([], [])


def row_to_event(row: Sequence[Any]) -> RecordedEvent:
    position, stream_id, stream_type, version, type_, at, payload, meta, digest = row
    try:
        recorded_at = instant_from_us(at)
        decoded = decode_json(payload)
        metadata = {} if meta == "{}" else decode_json(meta)
    except (TypeError, ValueError, OverflowError) as error:
        raise _not_as_written(f"the event at position {position!r} ({stream_id!r} version "
                              f"{version!r})") from error
    return RecordedEvent(
        position=position, stream_id=stream_id, stream_type=stream_type, version=version,
        type=type_, recorded_at=recorded_at, payload=decoded, metadata=metadata, hash=digest,
    )


def _not_as_written(event: str) -> NotAsWritten:
    return NotAsWritten(f"{event} holds a value esaudit never writes: it was changed after it "
                        "was written; esaudit verify names every such event")


def _payloads(rows: list[tuple[Any, ...]], stream_id: str) -> list[tuple[int, str, Any]]:
    """(version, type, payload) of each row; an undecodable payload is named by version."""
    try:
        return [(v, t, decode_json(p)) for v, t, p in rows]
    except (TypeError, ValueError) as error:
        bad = next((v for v, _t, p in rows if not _decodes(p)), None)
        if bad is None:
            raise
        raise _not_as_written(f"the event {stream_id!r} version {bad!r}") from error


def _decodes(payload: Any) -> bool:
    try:
        decode_json(payload)
    except (TypeError, ValueError):
        return False
    return True


def _row_to_stream(row: Sequence[Any]) -> StreamInfo:
    stream_id, stream_type, version, head_hash, first_at, last_at = row
    return StreamInfo(stream_id=stream_id, stream_type=stream_type, version=version,
                      head_hash=head_hash, first_at=instant_from_us(first_at),
                      last_at=instant_from_us(last_at))


class Reader:
    """Every read of a store's events and streams."""

    def __init__(self, connections: Connections) -> None:
        self._c = connections

    def read_stream(
        self, stream_id: str, from_version: int = 1, to_version: int | None = None,
        *, until: datetime | None = None,
    ) -> list[RecordedEvent]:
        """A stream's events in version order, optionally up to a version or an instant."""
        mark = self._c.sql.mark
        sql = f"{_EVENT_SELECT} WHERE stream_id = {mark} AND version >= {mark}"
        params: list[Any] = [stream_id, from_version]
        if to_version is not None:
            sql += f" AND version <= {mark}"
            params.append(to_version)
        if until is not None:
            sql += f" AND recorded_at <= {mark}"
            params.append(us_from_instant(until))
        return [row_to_event(r) for r in self._c.read(f"{sql} ORDER BY version", params)]

    def read_payloads(
        self, stream_id: str, from_version: int = 1, to_version: int | None = None,
        *, until: datetime | None = None,
    ) -> list[tuple[int, str, Any]]:
        """(version, type, payload) of a stream's events, in version order: what a fold needs.

        The replay hot path: one driver query, only the payload decoded (no metadata, no
        datetime objects), so reading costs about what a hand-written sqlite3 loop costs.
        """
        sql = self._c.sql.read_payloads
        params: list[Any] = [stream_id, from_version]
        if to_version is not None:
            sql += f" AND version <= {self._c.sql.mark}"
            params.append(to_version)
        if until is not None:
            sql += f" AND recorded_at <= {self._c.sql.mark}"
            params.append(us_from_instant(until))
        sql += " ORDER BY version"
        return _payloads(self._c.read(sql, params), stream_id)

    def iter_events(
        self, after_position: int = 0, *, to_position: int | None = None,
        stream_ids: Iterable[str] | None = None, stream_types: Iterable[str] | None = None,
        event_types: Iterable[str] | None = None, since: datetime | None = None,
        until: datetime | None = None, page_size: int = 1000,
    ) -> Iterator[RecordedEvent]:
        """Every matching event after a position, in position order, fetched page by page.

        Projections catch up with ``iter_events(after_position=checkpoint)``. Only one page is
        in memory at a time, so this walks a store of any size.
        """
        filters = _filters(self._c.sql.mark, to_position, stream_ids, stream_types, event_types,
                           since, until)
        for page in self._pages(EVENT_ROW_COLUMNS, filters, after_position, page_size):
            for row in page:
                yield row_to_event(row)

    def _pages(self, columns: Sequence[str] | Callable[[], tuple[Sequence[str], list[Any]]],
               filters: tuple[list[str], list[Any]], after_position: int, page_size: int
               ) -> Iterator[list[tuple[Any, ...]]]:
        """Pages of rows in position order; each page is one short read (keyset, not OFFSET).

        Driver SQL, not SQLAlchemy statements: a million-row walk (verify, export, the
        timeline) spends its time in the rows, not in building and wrapping them.
        ``columns`` must start with the position; a callable gives them (and their parameters)
        afresh for every page.
        """
        clauses, params = filters
        mark = self._c.sql.mark
        where = " AND ".join([f"position > {mark}", *clauses])
        last = after_position
        while True:
            chosen, column_params = columns() if callable(columns) else (columns, [])
            sql = (f"SELECT {', '.join(chosen)} FROM events WHERE {where} "
                   f"ORDER BY position LIMIT {int(page_size)}")
            rows = self._c.read(sql, [*column_params, last, *params])
            if rows:
                yield rows
            if len(rows) < page_size:
                return
            last = rows[-1][0]

    def iter_event_heads(self, after_position: int = 0, page_size: int = 20_000, *,
                         to_position: int | None = None,
                         ) -> Iterator[list[tuple[int, str, str, int, str, int]]]:
        """Pages of (position, stream_id, stream_type, version, type, recorded_at_us).

        No payloads are read or decoded.
        """
        filters = _filters(self._c.sql.mark, to_position, None, None, None, None, None)
        yield from self._pages(_HEAD_COLUMNS, filters, after_position,
                               page_size)

    def iter_event_codes(self, stream_types: Sequence[str], event_types: Sequence[str],
                         after_position: int = 0, page_size: int = 50_000,
                         ) -> Iterator[list[tuple[int, int, int, int]]]:
        """Pages of (position, recorded_at_us, stream type code, event type code): code k
        stands for ``names[k - 1]``, 0 for a name not in the list.

        This is how a timeline reads a million events in well under a second: the database
        turns the few distinct names into small integers (which Python does not even allocate)
        instead of handing over two strings per event. The lists are read again for every
        page, so a caller that appends the names it meets gets codes for them from then on.
        """
        mark = self._c.sql.mark

        def columns() -> tuple[list[str], list[Any]]:
            picked = ["position", "recorded_at"]
            params: list[Any] = []
            for column, names in (("stream_type", stream_types), ("type", event_types)):
                whens = " ".join(f"WHEN {mark} THEN {k}" for k in range(1, len(names) + 1))
                picked.append(f"CASE {column} {whens} ELSE 0 END" if names else "0")
                params.extend(names)
            return picked, params

        yield from self._pages(columns, ([], []), after_position, page_size)

    def iter_raw_events(
        self, after_position: int = 0, *, to_position: int | None = None,
        stream_ids: Iterable[str] | None = None, stream_types: Iterable[str] | None = None,
        event_types: Iterable[str] | None = None, since: datetime | None = None,
        until: datetime | None = None, page_size: int = 5000,
        stream_half: StreamHalf | None = None,
    ) -> Iterator[EventRow]:
        """Rows exactly as stored (payload and metadata as their canonical text); with
        ``stream_half``, only the streams of that half.

        Verify hashes these bytes and export splices them into its lines without decoding.
        """
        filters = _filters(self._c.sql.mark, to_position, stream_ids, stream_types, event_types,
                           since, until)
        if stream_half is not None:
            clause, pivot = stream_half_clause(stream_half, self._c.sql.mark)
            filters[0].append(clause)
            filters[1].append(pivot)
        for page in self._pages(EVENT_ROW_COLUMNS, filters, after_position, page_size):
            yield from page

    def iter_event_payloads(
        self, after_position: int = 0, *, to_position: int | None = None,
        stream_types: Iterable[str] | None = None, page_size: int = 5000,
    ) -> Iterator[EventPayload]:
        """What a read model needs of each event: no metadata decoded, no datetime built.

        Catching a read model up on a seeded store walks ~700k events; building a whole
        ``RecordedEvent`` for each would be a third of that walk.
        """
        filters = _filters(self._c.sql.mark, to_position, None, stream_types, None, None, None)
        for page in self._pages(_PAYLOAD_COLUMNS, filters, after_position, page_size):
            for pos, sid, stype, version, type_, at, payload in page:
                yield EventPayload(pos, sid, stype, version, type_, at, decode_json(payload))

    def stream(self, stream_id: str) -> StreamInfo | None:
        """A stream's head (inside a batch, as the batch left it). Driver SQL: every command
        starts here."""
        rows = self._c.read(self._c.sql.stream, (stream_id,))
        return _row_to_stream(rows[0]) if rows else None

    def streams(
        self, stream_type: str | None = None, *, after_id: str | None = None,
        limit: int | None = None,
    ) -> list[StreamInfo]:
        """The stream list in id order; page with ``after_id`` and ``limit``."""
        mark = self._c.sql.mark
        clauses, params = _of_type(mark, stream_type)
        if after_id is not None:
            clauses.append(f"stream_id > {mark}")
            params.append(after_id)
        sql = _STREAM_SELECT + (f" WHERE {' AND '.join(clauses)}" if clauses else "")
        sql += " ORDER BY stream_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_row_to_stream(r) for r in self._c.read(sql, params)]

    def stream_heads(self, stream_type: str | None = None,
                     stream_half: StreamHalf | None = None) -> list[tuple[str, int, str]]:
        """(stream id, version, head hash) of every stream (of a type, of a half): what
        verify compares with the chains, read in one query instead of 100k StreamInfo
        objects."""
        mark = self._c.sql.mark
        clauses, params = _of_type(mark, stream_type)
        if stream_half is not None:
            clause, pivot = stream_half_clause(stream_half, mark)
            clauses.append(clause)
            params.append(pivot)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return self._c.read(f"SELECT stream_id, version, head_hash FROM streams{where}", params)

    def stream_pivot(self) -> tuple[str, int, int] | None:
        """The middle stream id of the stream list, and the events below it and in all as
        the stream list counts them (None without streams): where two halves meet."""
        mark = self._c.sql.mark
        with self._c.reads() as q:
            pivot = q.value("SELECT stream_id FROM streams ORDER BY stream_id LIMIT 1 "
                            "OFFSET (SELECT count(*) FROM streams) / 2", [])
            if pivot is None:
                return None
            below, everything = q.rows(
                f"SELECT (SELECT coalesce(sum(version), 0) FROM streams "
                f"WHERE stream_id < {mark}), (SELECT coalesce(sum(version), 0) FROM streams)",
                [pivot])[0]
        return str(pivot), int(below), int(everything)

    def counts(self) -> tuple[int, int]:
        """(events, streams), counted: what a status bar shows after every command, without
        the per-type breakdown of ``stats`` (a third of a second on a million events)."""
        events, streams = self._c.read(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM streams)", [])[0]
        return int(events), int(streams)

    def positions_of(self, stream_id: str) -> list[int]:
        """A stream's event positions in version order, without reading the events."""
        mark = self._c.sql.mark
        return [row[0] for row in self._c.read(
            f"SELECT position FROM events WHERE stream_id = {mark} ORDER BY version",
            [stream_id])]

    def first_version_after(self, stream_id: str, instant: datetime) -> int | None:
        """The lowest version of a stream recorded after an instant (None if none is)."""
        mark = self._c.sql.mark
        rows = self._c.read(f"SELECT min(version) FROM events WHERE stream_id = {mark} "
                          f"AND recorded_at > {mark}", [stream_id, us_from_instant(instant)])
        return rows[0][0] if rows and rows[0][0] is not None else None

    def stream_types(self) -> list[str]:
        """The distinct stream types, sorted."""
        return [row[0] for row in self._c.read(
            "SELECT DISTINCT stream_type FROM streams ORDER BY stream_type", [])]

    def head_position(self) -> int:
        return int(self._c.read(_HEAD_POSITION, [])[0][0] or 0)

    def stats(self) -> StoreStats:
        """The totals, in one read transaction (they agree with each other)."""
        with self._c.reads() as q:
            events = q.value("SELECT count(*) FROM events") or 0
            head = q.value(_HEAD_POSITION)
            by_stream_type = {str(k): int(n) for k, n in q.rows(
                "SELECT stream_type, count(*) FROM streams GROUP BY stream_type")}
            by_event_type = {str(k): int(n) for k, n in q.rows(
                "SELECT type, count(*) FROM events GROUP BY type")}
            n_snapshots = q.value("SELECT count(*) FROM snapshots")
        return StoreStats(events=int(events), streams=sum(by_stream_type.values()),
                          head_position=int(head or 0), snapshots=int(n_snapshots or 0),
                          streams_by_type=by_stream_type, events_by_type=by_event_type)
