"""Readers that turn history files into ``ImportRow``s, naming the line of anything wrong.

Formats:

- ``jsonl``: one JSON object per line with exactly ``stream_id, stream_type, version, type,
  recorded_at, payload, metadata`` (plus optional ``position``, ignored, and ``hash``, which
  must then equal the recomputed hash). ``recorded_at`` is ISO 8601 with a time zone.
- ``csv``: a header row naming the same columns; payload and metadata are JSON text.
- ``eventsourcing`` and ``emmett``: a store those libraries wrote (a SQLite file or a
  PostgreSQL URL), read through its read-only adapter (``store.sources.importing``).

Readers never touch a store. They report how far through the file they are (``fraction``) so a
caller can show progress. The JSONL and CSV readers are in ``jsonl_reader`` and ``csv_reader``,
the rules every reader applies to a value in ``history_reader``.
"""

from __future__ import annotations

from pathlib import Path

from .bulk import ImportRejected
from .csv_reader import CsvReader
from .history_reader import (
    OPTIONAL,
    REQUIRED,
    HistoryReader,
)
from .jsonl_reader import JsonlReader

__all__ = [
    "FORMATS", "OPTIONAL", "REQUIRED", "CsvReader", "HistoryReader", "JsonlReader",
    "detect_format", "foreign_kind", "open_reader",
]

from .formats import FORMATS


def detect_format(path: Path) -> str:
    """The format implied by a file: its extension, else the SQLite magic header."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix == "csv":
        return "csv"
    if _header(path) == b"SQLite format 3\x00":
        return foreign_kind(str(path))
    raise ImportRejected(str(path), 0, "cannot tell the format from the name; pass --format "
                         "jsonl, csv, eventsourcing or emmett")


def foreign_kind(target: str) -> str:
    """The kind of event store a database holds, if esaudit imports that kind."""
    from .errors import StoreError
    from .sources import detect_kind
    from .sources.importing import FOREIGN_FORMATS

    try:
        kind = detect_kind(target)
    except StoreError as e:
        raise ImportRejected(target, 0, str(e)) from None
    if kind not in FOREIGN_FORMATS:
        found = "an esaudit store (export it, then import the file)" if kind == "esaudit" \
            else "no event store esaudit knows"
        raise ImportRejected(target, 0, f"{target} holds {found}")
    return kind


def _header(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(16)
    except OSError:
        return b""


def open_reader(path: Path, fmt: str) -> HistoryReader:
    if fmt == "jsonl":
        return JsonlReader(path)
    if fmt == "csv":
        return CsvReader(path)
    raise ImportRejected(str(path), 0, f"unknown format {fmt!r} (use one of {', '.join(FORMATS)})")
