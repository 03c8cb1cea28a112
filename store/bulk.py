"""Bulk import: many streams written in one transaction, validated as strictly as appends.

An import is all or nothing. Every row is checked before the transaction commits (versions
1..n with no gap or duplicate, one type per stream, no stream that already exists, a supplied
hash equal to the recomputed one); the first bad row raises ``ImportRejected`` naming its file
and line, the transaction rolls back and the store is exactly as it was.

Rows are inserted in chunks (``executemany``; COPY on PostgreSQL): the per-row cost is parsing,
canonical JSON and one sha256, not a SQL round trip. An import into an empty SQLite store
builds the correlation index once at the end instead of row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, NamedTuple

from .backends import import_event_rows
from .errors import StoreError
from .hashing import ChainHasher
from .records import name_problem
from .timeline_minutes import MINUTE_US, MinuteKey

if TYPE_CHECKING:
    from sqlalchemy import Connection

CHUNK = 5000


class ImportRejected(StoreError, ValueError):
    """A row of an import file is not acceptable; nothing of the file was stored."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        super().__init__(f"{source}:{line}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


class ImportCancelled(StoreError):
    """The user stopped an import; it was rolled back."""


class ImportRow(NamedTuple):
    """One event as read from a file; payload and metadata are already canonical JSON text.

    A named tuple rather than a frozen dataclass: a million are built per import, and a frozen
    dataclass's constructor costs four times as much. ``import_rows`` also takes plain tuples
    in this field order, which the JSONL fast path produces (they cross a process boundary as
    ``marshal`` data, which knows no classes).
    """

    source: str
    line: int
    stream_id: str
    stream_type: str
    version: int
    type: str
    recorded_at_us: int
    recorded_at: str  # the same instant as the hash envelope writes it (hashing.iso_from_us)
    payload: str
    metadata: str
    hash: str | None = None  # a hash the file supplies: it must equal the recomputed one
    # The hash the JSONL parser process already chained from this file's previous row of the
    # stream. import_rows accepts a row only when that previous row is the stream's head, so
    # this is then exactly the hash it would compute; it skips the work, not the check.
    chained: str | None = None


ImportTuple = tuple[str, int, str, str, int, str, int, str, str, str, str | None, str | None]
"""An ``ImportRow`` as a plain tuple, field for field (the JSONL fast path's rows, which cross
a process boundary as ``marshal`` data). Every ``ImportRow`` is one."""

_Head = list[Any]
"""A stream's head during an import: [stream type, version, head hash, first at, last at]."""

_EventParams = tuple[int, str, str, int, str, int, str, str, str]
"""An events row for the driver: position, stream id and type, version, type, recorded at,
payload, metadata, hash."""


def _reject(row: ImportTuple, reason: str) -> ImportRejected:
    return ImportRejected(row[0], row[1], reason)


@dataclass
class ImportSummary:
    events: int
    streams: int
    first_position: int
    last_position: int


def _chunks(rows: Iterable[ImportTuple], size: int) -> Iterator[list[ImportTuple]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def import_rows(
    conn: Connection, backend: str, rows: Iterable[ImportRow | ImportTuple],
    progress: Callable[[int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportSummary:
    """Write every row inside the caller's locked write transaction (which rolls back on error).

    The loop is the import's hot path (a million turns): names are checked once each, a
    stream's head is a small list, and the hash recipe comes from one ``ChainHasher``.
    SQLAlchemy is imported here, not with the module: the JSONL parser process imports this
    module's row types and needs no database layer.
    """
    from sqlalchemy import func, select

    from . import schema as s
    from .timeline_minutes import add_counts, counts_from
    from .tracing import create_correlation_index

    mark = "?" if backend == "sqlite" else "%s"
    insert_event = (f"INSERT INTO {s.events.name} (position, stream_id, stream_type, version, "
                    f"type, recorded_at, payload, metadata, hash) VALUES "
                    f"({', '.join([mark] * 9)})")
    start = int(conn.execute(select(func.coalesce(func.max(s.events.c.position), 0))).scalar()
                or 0)
    position = start
    store_has_streams = conn.execute(select(s.streams.c.stream_id).limit(1)).first() is not None
    index_after = start == 0 and backend == "sqlite" and _drop_correlation_index(conn)
    hasher = ChainHasher()
    checked: set[str] = set()
    # (minute, stream type, event type) -> events, from the events appended since the
    # counts' marker, then the import's own rows (store.timeline_minutes)
    minutes: dict[MinuteKey, int] | None = counts_from(conn, mark, start)
    # stream id -> [stream type, version, head hash, first at, last at]
    heads: dict[str, _Head] = {}
    for chunk in _chunks(rows, CHUNK):
        if cancelled is not None and cancelled():
            raise ImportCancelled("import cancelled: nothing was stored")
        if store_has_streams:
            _refuse_existing(conn, chunk, heads)
        params: list[_EventParams] = []
        append = params.append
        for row in chunk:
            _, _, sid, stype, version, etype, at, iso, payload, meta, supplied, chained = row
            if sid not in checked or stype not in checked or etype not in checked:
                _check_names(row, checked)
            head = heads.get(sid)
            if head is None:
                if version != 1:
                    raise _reject(row, f"version gap in stream {sid!r}: expected version 1, "
                                     f"found {version}")
                digest = chained or hasher.hash_text("", sid, 1, etype, iso, payload, meta)
                heads[sid] = [stype, 1, digest, at, at]
            else:
                if version != head[1] + 1:
                    if version <= head[1]:
                        raise _reject(row, f"duplicate version {version} of stream {sid!r} "
                                         f"(already at {head[1]})")
                    raise _reject(row, f"version gap in stream {sid!r}: expected version "
                                     f"{head[1] + 1}, found {version}")
                if head[0] != stype:
                    raise _reject(row, f"stream {sid!r} is a {head[0]!r} stream, not {stype!r}")
                digest = chained or hasher.hash_text(head[2], sid, version, etype, iso, payload,
                                                     meta)
                head[1] = version
                head[2] = digest
                if at < head[3]:
                    head[3] = at
                elif at > head[4]:
                    head[4] = at
            if supplied is not None and supplied != digest:
                raise _reject(row, f"hash of {sid!r} version {version} does not match the "
                                 "recomputed hash: the file was altered after export")
            position += 1
            append((position, sid, stype, version, etype, at, payload, meta, digest))
            if minutes is not None:
                key = (at // MINUTE_US, stype, etype)
                minutes[key] = minutes.get(key, 0) + 1
        import_event_rows(conn, backend, insert_event, params)
        if progress is not None:
            progress(position - start)
    if heads:
        insert_stream = (f"INSERT INTO {s.streams.name} (stream_id, stream_type, version, "
                         f"head_hash, first_at, last_at) VALUES ({', '.join([mark] * 6)})")
        items = [(sid, *h) for sid, h in heads.items()]
        for i in range(0, len(items), CHUNK):
            conn.exec_driver_sql(insert_stream, items[i:i + CHUNK])
    if index_after:
        create_correlation_index(conn)
    if minutes is not None and position > start:
        add_counts(conn, mark, minutes, position)
    return ImportSummary(events=position - start, streams=len(heads),
                         first_position=start + 1 if position > start else 0,
                         last_position=position if position > start else 0)


def _drop_correlation_index(conn: Connection) -> bool:
    """Drop the correlation index of an empty SQLite store for the import's inserts, and
    say whether it was there (the import builds it again before it commits).

    The index is over ``json_extract`` of each row's metadata: kept up row by row it costs
    about a quarter of the inserts, and built once over the finished table a third of that.
    The drop is part of the import's transaction, so a rejected or cancelled import rolls
    it back with everything else.
    """
    from .tracing import drop_correlation_index

    return drop_correlation_index(conn)


def _check_names(row: ImportTuple, checked: set[str]) -> None:
    for value, what in ((row[2], "stream_id"), (row[3], "stream_type"), (row[5], "type")):
        problem = name_problem(value, what)
        if problem:
            raise _reject(row, problem)
        checked.add(value)


def _refuse_existing(conn: Connection, chunk: list[ImportTuple],
                     heads: dict[str, _Head]) -> None:
    """A stream already in the store is a clash: an import never extends or rewrites one."""
    from sqlalchemy import select

    from . import schema as s

    new_ids = sorted({r[2] for r in chunk} - heads.keys())
    for i in range(0, len(new_ids), 500):
        part = new_ids[i:i + 500]
        found = set(conn.execute(select(s.streams.c.stream_id)
                                 .where(s.streams.c.stream_id.in_(part))).scalars())
        if found:
            first = next(r for r in chunk if r[2] in found)
            raise _reject(first, f"stream {first[2]!r} already exists in the store "
                               "(an import never changes existing streams)")


IMPORT_CACHE_KIB = 1_048_576
"""SQLite's page cache during an import, in KiB (1 GiB; the default is 2 MB)."""


@contextmanager
def import_page_cache(conn: Connection, backend: str) -> Iterator[None]:
    """A large SQLite page cache for the length of an import, then the connection's own again.

    An import is one transaction, and the unique (stream, version) index takes its rows in file
    order, which is spread over every stream: with SQLite's 2 MB cache each insert lands on a
    page that has just been spilled to the write-ahead log and is read and written back again.
    At 3M events the import took 126 s with the default cache and 82 s with this one, the two
    in turns on the same file. The cache grows only as pages are touched, so an import of a
    store that fits in a few megabytes costs no more memory than before.
    """
    if backend != "sqlite":
        yield
        return
    previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(previous or -2000)}")
