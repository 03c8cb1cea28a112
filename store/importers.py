"""Readers that turn history files into ``ImportRow``s, naming the line of anything wrong.

Formats:

- ``jsonl``: one JSON object per line with exactly ``stream_id, stream_type, version, type,
  recorded_at, payload, metadata`` (plus optional ``position``, ignored, and ``hash``, which
  must then equal the recomputed hash). ``recorded_at`` is ISO 8601 with a time zone.
- ``csv``: a header row naming the same columns; payload and metadata are JSON text.
- ``eventsourcing``: a SQLite database written by the Python ``eventsourcing`` library; each
  row of its ``stored_events`` table (originator_id, originator_version, topic, state) becomes an
  event of the stream named by its originator.

Readers never touch a store. They report how far through the file they are (``fraction``) so a
caller can show progress. The JSONL and CSV readers are in ``jsonl_reader`` and ``csv_reader``,
the rules every reader applies to a value in ``history_reader``.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .bulk import ImportRejected, ImportRow
from .csv_reader import CsvReader
from .hashing import canonical_json, iso_from_us
from .history_reader import (
    OPTIONAL,
    REQUIRED,
    HistoryReader,
    _instant,
    _kind,
    _object_json,
    _text,
    _version,
)
from .jsonl_reader import JsonlReader

__all__ = [
    "FORMATS", "OPTIONAL", "REQUIRED", "CsvReader", "EventsourcingReader", "HistoryReader",
    "JsonlReader", "detect_format", "open_reader",
]

FORMATS = ("jsonl", "csv", "eventsourcing")


def detect_format(path: Path) -> str:
    """The format implied by a file: its extension, else the SQLite magic header."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix == "csv":
        return "csv"
    if _header(path) == b"SQLite format 3\x00":
        return "eventsourcing"
    raise ImportRejected(str(path), 0, "cannot tell the format from the name; pass --format "
                         "jsonl, csv or eventsourcing")


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
    if fmt == "eventsourcing":
        return EventsourcingReader(path)
    raise ImportRejected(str(path), 0, f"unknown format {fmt!r} (use one of {', '.join(FORMATS)})")


class EventsourcingReader(HistoryReader):
    """The ``stored_events`` table of the ``eventsourcing`` library (JSON transcoder).

    A topic ``package.module:Aggregate.Event`` gives stream type ``Aggregate`` and event type
    ``Event``; the state's ``timestamp`` gives the recorded time; the rest of the state, with the
    transcoder's typed values (``{"_type_": ..., "_data_": ...}``) unwrapped to their text, is the
    payload. Line numbers in messages are row numbers in notification order.
    """

    def __iter__(self) -> Iterator[ImportRow]:
        uri = f"file:{self.path.resolve().as_posix()}?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True)
            conn.execute("PRAGMA query_only=ON")
            columns = [r[1] for r in conn.execute("PRAGMA table_info(stored_events)")]
        except sqlite3.DatabaseError as e:
            raise self._fail(0, f"not a readable SQLite database: {e}") from None
        try:
            if not columns:
                raise self._fail(0, "no stored_events table: not an eventsourcing database")
            need = {"originator_id", "originator_version", "topic", "state"}
            if not need <= set(columns):
                raise self._fail(0, f"stored_events lacks {sorted(need - set(columns))[0]!r}")
            order = "notification_id" if "notification_id" in columns else None
            total = conn.execute("SELECT count(*) FROM stored_events").fetchone()[0] or 1
            query = ("SELECT originator_id, originator_version, topic, state FROM stored_events "
                     f"ORDER BY {order or 'rowid'}")
            try:
                cursor = conn.execute(query)
            except sqlite3.OperationalError:  # WITHOUT ROWID table: per-stream order
                cursor = conn.execute(query.replace("ORDER BY rowid",
                                                    "ORDER BY originator_id, originator_version"))
            self.size = total
            for number, (origin, version, topic, state) in enumerate(cursor, start=1):
                self._done = number
                yield self._event(number, origin, version, topic, state)
        except sqlite3.DatabaseError as e:
            raise self._fail(0, f"cannot read stored_events: {e}") from None
        finally:
            conn.close()

    def _event(self, number: int, origin: object, version: object, topic: object,
               state: object) -> ImportRow:
        if not isinstance(topic, str) or ":" not in topic:
            raise self._fail(number, f"topic {topic!r} is not 'module:Class'")
        module, _, qualname = topic.partition(":")
        parts = qualname.split(".")
        event_type = parts[-1]
        stream_type = parts[-2] if len(parts) > 1 else module.rsplit(".", 1)[-1]
        data = _decode_state(state)
        if isinstance(data, str):
            raise self._fail(number, data)
        stamp = data.pop("timestamp", None)
        if stamp is None:
            raise self._fail(number, "the state has no timestamp")
        try:
            recorded = _instant(_plain(stamp))
            if isinstance(origin, bytes):
                origin = origin.hex()
            payload = _object_json(_plain(data), "state")
            return ImportRow(
                source=self.source, line=number, stream_id=_text(str(origin), "originator_id"),
                stream_type=stream_type, version=_version(version), type=event_type,
                recorded_at_us=recorded, recorded_at=iso_from_us(recorded), payload=payload,
                metadata=canonical_json({"source": "eventsourcing", "topic": topic}),
            )
        except (ValueError, RecursionError) as e:
            raise self._fail(number, str(e)) from None


def _decode_state(state: object) -> dict[str, Any] | str:
    """The state as a dict, or the reason it cannot be read."""
    if isinstance(state, str):
        state = state.encode()
    if not isinstance(state, bytes):
        return f"state is {_kind(state)}, not bytes"
    try:
        data = json.loads(state)
    except (UnicodeDecodeError, ValueError):
        try:
            zlib.decompress(state)
        except zlib.error:
            return ("state is not JSON: it looks encrypted (the eventsourcing cipher); "
                    "esaudit cannot read encrypted states, export them decrypted")
        return ("state is compressed (the eventsourcing compressor); esaudit reads "
                "uncompressed JSON states only, export them without compression")
    if not isinstance(data, dict):
        return f"state is a JSON {_kind(data)}, not an object"
    return data


def _plain(value: Any) -> Any:
    """Unwrap the JSON transcoder's typed values ({"_type_": T, "_data_": D} -> D)."""
    if isinstance(value, dict):
        if set(value) == {"_type_", "_data_"}:
            return _plain(value["_data_"])
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
