"""The import baselines' hand-written insert: the very rows esaudit stored, put into the
store's own tables with sqlite3 and ``executemany`` in chunks of 5,000, with no check and no
hash (the instants and hashes are read from a store esaudit filled, outside the timing).

``bench_import`` runs it in-process; the whole-process figures (``realdata``) run it as a
process of its own, ``python -m benchmarks.baseline_insert KIND SOURCE STORED_DB TARGET``
(KIND ``jsonl`` or ``eventsourcing``), which prints the seconds it spent reading the stored
rows so the caller can leave them out. It imports nothing but the standard library.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

Row = tuple[Any, ...]
"""(position, stream_id, stream_type, version, type, recorded_at, payload, metadata, hash)."""


def insert_history(conn: sqlite3.Connection, rows: Iterable[Row]) -> None:
    """Insert ``rows`` and each stream's head, in one transaction."""
    heads: dict[str, list[Any]] = {}
    chunk: list[Row] = []
    conn.execute("BEGIN IMMEDIATE")
    for row in rows:
        chunk.append(row)
        sid, version, at, digest = row[1], row[3], row[5], row[8]
        head = heads.get(sid)
        if head is None:
            heads[sid] = [sid, row[2], version, digest, at, at]
        else:
            head[2], head[3], head[5] = version, digest, at
        if len(chunk) == 5000:
            conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)", chunk)
            chunk = []
    conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)", chunk)
    conn.executemany("INSERT INTO streams VALUES (?,?,?,?,?,?)", list(heads.values()))
    conn.execute("COMMIT")


def jsonl_rows(source: str, stored: Sequence[tuple[int, str]]) -> Iterator[Row]:
    """The rows of an export-format file, parsed and written back by the standard library;
    ``stored``: (recorded_at, hash) of each position, as esaudit stored them."""
    with open(source, "rb") as fh:
        for pos, line in enumerate(fh, start=1):
            r = json.loads(line)
            at, digest = stored[pos - 1]
            yield (pos, r["stream_id"], r["stream_type"], r["version"], r["type"], at,
                   json.dumps(r["payload"]), json.dumps(r["metadata"]), digest)


def eventsourcing_rows(source: str, stored: Sequence[Row]) -> Iterator[Row]:
    """The rows of an eventsourcing library's SQLite file, each state decoded by ``json.loads``
    and its attributes written back; ``stored``: what esaudit stored of each position besides
    the payload (stream id, type, version, event type, instant, metadata, hash)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        for pos, (_nid, _oid, _v, _topic, state) in enumerate(src.execute(
                "SELECT rowid, originator_id, originator_version, topic, state "
                "FROM stored_events ORDER BY rowid"), start=1):
            attrs = json.loads(state)
            attrs.pop("timestamp", None)
            sid, stype, version, etype, at, meta, digest = stored[pos - 1]
            yield (pos, sid, stype, version, etype, at, json.dumps(attrs), meta, digest)
    finally:
        src.close()


_STORED = {
    "jsonl": "SELECT recorded_at, hash FROM events ORDER BY position",
    "eventsourcing": "SELECT stream_id, stream_type, version, type, recorded_at, metadata, "
                     "hash FROM events ORDER BY position",
}
_ROWS = {"jsonl": jsonl_rows, "eventsourcing": eventsourcing_rows}


def main(argv: Sequence[str]) -> None:
    kind, source, stored_db, target = argv
    began = time.perf_counter()
    with sqlite3.connect(stored_db) as conn:
        stored = conn.execute(_STORED[kind]).fetchall()
    read_s = time.perf_counter() - began
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    insert_history(conn, _ROWS[kind](source, stored))
    conn.close()
    print(read_s)


if __name__ == "__main__":
    main(sys.argv[1:])
