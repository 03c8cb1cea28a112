"""Writers for the history formats ``store.importers`` reads back.

Payload and metadata are spliced in as their stored canonical text, so an exported line holds
the exact bytes that were hashed, and importing it into an empty store recomputes every hash.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from typing import IO

from .hashing import canonical_json, iso_from_us
from .records import EventRow

RawRow = EventRow  # the name export code has always used
JSONL_FIELDS = ("stream_id", "stream_type", "version", "type", "recorded_at", "payload",
                "metadata")
CSV_FIELDS = ("position", *JSONL_FIELDS, "hash")


def jsonl_line(row: RawRow) -> str:
    _pos, sid, stype, version, type_, at, payload, meta, _hash = row
    head = canonical_json({"stream_id": sid, "stream_type": stype, "version": version,
                           "type": type_, "recorded_at": iso_from_us(at)})
    return f'{head[:-1]},"payload":{payload},"metadata":{meta}}}\n'


def write_jsonl(rows: Iterable[RawRow], out: IO[str],
                progress: Callable[[int], None] | None = None) -> int:
    """One JSON object per event with exactly the JSONL import fields; returns the count."""
    n = 0
    for n, row in enumerate(rows, start=1):
        out.write(jsonl_line(row))
        if progress is not None and n % 5000 == 0:
            progress(n)
    return n


def write_csv(rows: Iterable[RawRow], out: IO[str],
              progress: Callable[[int], None] | None = None) -> int:
    """One row per event, position and hash included (the importer checks the hash)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    n = 0
    for n, (pos, sid, stype, version, type_, at, payload, meta, digest) in enumerate(rows, 1):
        writer.writerow((pos, sid, stype, version, type_, iso_from_us(at), payload, meta, digest))
        if progress is not None and n % 5000 == 0:
            progress(n)
    return n
