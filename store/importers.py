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
caller can show progress.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from .bulk import ImportRejected, ImportRow
from .hashing import canonical_json, decode_json, us_from_instant

FORMATS = ("jsonl", "csv", "eventsourcing")
REQUIRED = ("stream_id", "stream_type", "version", "type", "recorded_at", "payload", "metadata")
OPTIONAL = ("position", "hash")
_KNOWN = frozenset(REQUIRED + OPTIONAL)


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


class HistoryReader(ABC):
    """Iterate to get rows; ``fraction`` says how much of the file has been read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.source = str(path)
        try:
            self.size = max(path.stat().st_size, 1)
        except OSError as e:
            raise ImportRejected(self.source, 0, f"cannot read the file: {e.strerror}") from None
        self._done = 0

    @property
    def fraction(self) -> float:
        return min(self._done / self.size, 1.0)

    @abstractmethod
    def __iter__(self) -> Iterator[ImportRow]:
        """The file's events in order, raising ImportRejected at the first bad one."""

    def _fail(self, line: int, reason: str) -> ImportRejected:
        return ImportRejected(self.source, line, reason)


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string, not {_kind(value)}")
    _encodable(value, field)
    return value


def _encodable(text: str, field: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{field} holds a lone surrogate (\\u{ord(text[0]):04x}...), "
                         "which is not valid Unicode text") from None
    return text


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _version(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        else:
            raise ValueError(f"version must be a whole number, not {value!r}")
    assert isinstance(value, int)
    if value < 1:
        raise ValueError(f"version must be 1 or more, not {value}")
    return value


def _instant(value: object) -> int:
    text = _text(value, "recorded_at").strip()
    if text.endswith("z"):  # fromisoformat reads "Z" but not its lowercase form
        text = text[:-1] + "Z"
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"recorded_at is not an ISO 8601 instant: {value!r}") from None
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"recorded_at has no time zone: {value!r} (add Z or +00:00)")
    try:
        return us_from_instant(instant)
    except OverflowError:
        raise ValueError(f"recorded_at is out of range: {value!r}") from None


def _object_json(value: object, field: str) -> str:
    if not isinstance(value, dict):
        raise ValueError(f"{field} must be a JSON object, not {_kind(value)}")
    try:
        return _encodable(canonical_json(value), field)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{field} cannot be stored: {e}") from None


def _parse_json_text(value: object, field: str) -> Any:
    text = _text(value, field)
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as e:
        raise ValueError(f"{field} is not valid JSON: {e.msg} at column {e.colno}") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _loads_line(raw: bytes) -> Any:
    return decode_json(raw, partial(json.loads, parse_constant=_refuse_constant))


def _row(source: str, line: int, record: dict[str, Any], *, json_text: bool) -> ImportRow:
    unknown = sorted(set(record) - _KNOWN)
    if unknown:
        raise ValueError(f"unknown column {unknown[0]!r} (expected {', '.join(REQUIRED)})")
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise ValueError(f"missing {missing[0]!r}")
    payload = record["payload"]
    metadata = record["metadata"]
    if json_text:
        payload = _parse_json_text(payload, "payload")
        metadata = _parse_json_text(metadata, "metadata")
    digest = record.get("hash")
    if digest in ("", None):
        digest = None
    elif not isinstance(digest, str) or len(digest) != 64:
        raise ValueError(f"hash must be 64 hex characters, not {digest!r}")
    return ImportRow(
        source=source, line=line, stream_id=_text(record["stream_id"], "stream_id"),
        stream_type=_text(record["stream_type"], "stream_type"),
        version=_version(record["version"]), type=_text(record["type"], "type"),
        recorded_at_us=_instant(record["recorded_at"]),
        payload=_object_json(payload, "payload"), metadata=_object_json(metadata, "metadata"),
        hash=digest,
    )


class JsonlReader(HistoryReader):
    def __iter__(self) -> Iterator[ImportRow]:
        try:
            fh = self.path.open("rb")
        except OSError as e:
            raise self._fail(0, f"cannot read the file: {e.strerror}") from None
        with fh:
            for number, raw in enumerate(fh, start=1):
                self._done += len(raw)
                if not raw.strip():
                    continue
                try:
                    record = _loads_line(raw)
                except UnicodeDecodeError:
                    raise self._fail(number, "not UTF-8 text") from None
                except json.JSONDecodeError as e:
                    raise self._fail(number, f"not a JSON object: {e.msg} at column "
                                             f"{e.colno}") from None
                except (ValueError, RecursionError) as e:
                    raise self._fail(number, f"not a JSON object: {e}") from None
                if not isinstance(record, dict):
                    raise self._fail(number, f"expected a JSON object, found {_kind(record)}")
                try:
                    yield _row(self.source, number, record, json_text=False)
                except (ValueError, RecursionError) as e:
                    raise self._fail(number, str(e)) from None


class CsvReader(HistoryReader):
    def __iter__(self) -> Iterator[ImportRow]:
        try:
            raw = self.path.open("rb")
        except OSError as e:
            raise self._fail(0, f"cannot read the file: {e.strerror}") from None
        with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            try:
                header = next(reader, None)
                if header is None:
                    return
                unknown = [c for c in header if c not in _KNOWN]
                if unknown:
                    raise self._fail(1, f"unknown column {unknown[0]!r} "
                                        f"(expected {', '.join(REQUIRED)})")
                missing = [c for c in REQUIRED if c not in header]
                if missing:
                    raise self._fail(1, f"missing column {missing[0]!r}")
                if len(set(header)) != len(header):
                    raise self._fail(1, "a column appears twice in the header")
                for values in reader:
                    line = reader.line_num
                    self._done = raw.tell()
                    if not values:
                        continue
                    if len(values) != len(header):
                        raise self._fail(line, f"{len(values)} fields, the header has "
                                               f"{len(header)}")
                    try:
                        yield _row(self.source, line, dict(zip(header, values, strict=True)),
                                   json_text=True)
                    except (ValueError, RecursionError) as e:
                        raise self._fail(line, str(e)) from None
            except UnicodeDecodeError:
                raise self._fail(reader.line_num + 1, "not UTF-8 text") from None
            except csv.Error as e:
                raise self._fail(reader.line_num, f"malformed CSV: {e}") from None


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
                recorded_at_us=recorded, payload=payload,
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
