"""Bulk import: many streams written in one transaction, validated as strictly as appends.

An import is all or nothing. Every row is checked before the transaction commits (versions
1..n with no gap or duplicate, one type per stream, no stream that already exists, a supplied
hash equal to the recomputed one); the first bad row raises ``ImportRejected`` naming its file
and line, the transaction rolls back and the store is exactly as it was.

Rows are inserted with the driver's ``executemany`` in chunks: the per-row cost is parsing,
canonical JSON and one sha256, not a SQL round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import Connection, func, select

from . import schema as s
from .errors import StoreError
from .hashing import chain_hash, envelope_bytes
from .records import name_problem

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


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One event as read from a file; payload and metadata are already canonical JSON text."""

    source: str
    line: int
    stream_id: str
    stream_type: str
    version: int
    type: str
    recorded_at_us: int
    payload: str
    metadata: str
    hash: str | None = None

    def reject(self, reason: str) -> ImportRejected:
        return ImportRejected(self.source, self.line, reason)


@dataclass
class ImportSummary:
    events: int
    streams: int
    first_position: int
    last_position: int


@dataclass
class _Head:
    stream_type: str
    version: int
    hash: str
    first_at: int
    last_at: int


def _chunks(rows: Iterable[ImportRow], size: int) -> Iterator[list[ImportRow]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _check_name(row: ImportRow, value: str, what: str) -> None:
    problem = name_problem(value, what)
    if problem:
        raise row.reject(problem)


def import_rows(
    conn: Connection, backend: str, rows: Iterable[ImportRow],
    progress: Callable[[int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportSummary:
    """Write every row inside the caller's locked write transaction (which rolls back on error)."""
    mark = "?" if backend == "sqlite" else "%s"
    insert_event = (f"INSERT INTO {s.events.name} (position, stream_id, stream_type, version, "
                    f"type, recorded_at, payload, metadata, hash) VALUES "
                    f"({', '.join([mark] * 9)})")
    start = int(conn.execute(select(func.coalesce(func.max(s.events.c.position), 0))).scalar()
                or 0)
    position = start
    heads: dict[str, _Head] = {}
    for chunk in _chunks(rows, CHUNK):
        if cancelled is not None and cancelled():
            raise ImportCancelled("import cancelled: nothing was stored")
        _refuse_existing(conn, chunk, heads)
        params = []
        for row in chunk:
            _check_name(row, row.stream_id, "stream_id")
            _check_name(row, row.stream_type, "stream_type")
            _check_name(row, row.type, "type")
            head = heads.get(row.stream_id)
            expected = 1 if head is None else head.version + 1
            if row.version != expected:
                if head is not None and row.version <= head.version:
                    raise row.reject(f"duplicate version {row.version} of stream "
                                     f"{row.stream_id!r} (already at {head.version})")
                raise row.reject(f"version gap in stream {row.stream_id!r}: expected version "
                                 f"{expected}, found {row.version}")
            if head is not None and head.stream_type != row.stream_type:
                raise row.reject(f"stream {row.stream_id!r} is a {head.stream_type!r} stream, "
                                 f"not {row.stream_type!r}")
            digest = chain_hash(
                head.hash if head else "",
                envelope_bytes(row.stream_id, row.version, row.type, row.recorded_at_us,
                               row.payload, row.metadata))
            if row.hash is not None and row.hash != digest:
                raise row.reject(f"hash of {row.stream_id!r} version {row.version} does not "
                                 "match the recomputed hash: the file was altered after export")
            position += 1
            params.append((position, row.stream_id, row.stream_type, row.version, row.type,
                           row.recorded_at_us, row.payload, row.metadata, digest))
            if head is None:
                heads[row.stream_id] = _Head(row.stream_type, 1, digest, row.recorded_at_us,
                                             row.recorded_at_us)
            else:
                head.version = row.version
                head.hash = digest
                head.first_at = min(head.first_at, row.recorded_at_us)
                head.last_at = max(head.last_at, row.recorded_at_us)
        conn.exec_driver_sql(insert_event, params)
        if progress is not None:
            progress(position - start)
    if heads:
        insert_stream = (f"INSERT INTO {s.streams.name} (stream_id, stream_type, version, "
                         f"head_hash, first_at, last_at) VALUES ({', '.join([mark] * 6)})")
        items = [(sid, h.stream_type, h.version, h.hash, h.first_at, h.last_at)
                 for sid, h in heads.items()]
        for i in range(0, len(items), CHUNK):
            conn.exec_driver_sql(insert_stream, items[i:i + CHUNK])
    return ImportSummary(events=position - start, streams=len(heads),
                         first_position=start + 1 if position > start else 0,
                         last_position=position if position > start else 0)


def _refuse_existing(conn: Connection, chunk: list[ImportRow], heads: dict[str, _Head]) -> None:
    """A stream already in the store is a clash: an import never extends or rewrites one."""
    new_ids = sorted({r.stream_id for r in chunk} - heads.keys())
    for i in range(0, len(new_ids), 500):
        part = new_ids[i:i + 500]
        found = set(conn.execute(select(s.streams.c.stream_id)
                                 .where(s.streams.c.stream_id.in_(part))).scalars())
        if found:
            first = next(r for r in chunk if r.stream_id in found)
            raise first.reject(f"stream {first.stream_id!r} already exists in the store "
                               "(an import never changes existing streams)")
