"""Readers that turn history files into ``ImportRow``s, naming the line of anything wrong.

Formats:

- ``jsonl``: one JSON object per line with exactly ``stream_id, stream_type, version, type,
  recorded_at, payload, metadata`` (plus optional ``position``, ignored, and ``hash``, which
  must then equal the recomputed hash). ``recorded_at`` is ISO 8601 with a time zone.
- ``csv``: a header row naming the same columns; payload and metadata are JSON text.
- ``eventsourcing`` and ``emmett``: a store those libraries wrote (a SQLite file or a
  PostgreSQL URL), read through its read-only adapter (``store.sources.importing``).

Readers never touch a store. They report how far through the file they are (``fraction``) so a
caller can show progress.
"""

from __future__ import annotations

import csv
import io
import json
import marshal
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Generator, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from .bulk import ImportRejected, ImportRow, ImportTuple
from .gcpause import collector_paused
from .hashing import (
    ChainHasher,
    canonical_json,
    canonical_json_parsed,
    decode_json,
    fast_loads,
    iso_from_us,
    us_from_instant,
)
from .worker import start_worker, stop_worker

FORMATS = ("jsonl", "csv", "eventsourcing", "emmett")
REQUIRED = ("stream_id", "stream_type", "version", "type", "recorded_at", "payload", "metadata")
OPTIONAL = ("position", "hash")
_KNOWN = frozenset(REQUIRED + OPTIONAL)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


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
    def __iter__(self) -> Iterator[ImportTuple]:
        """The file's events in order, raising ImportRejected at the first bad one: each an
        ``ImportRow``, or the same fields as a plain tuple (the JSONL fast path's)."""

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
        recorded_at_us=(us := _instant(record["recorded_at"])), recorded_at=iso_from_us(us),
        payload=_object_json(payload, "payload"), metadata=_object_json(metadata, "metadata"),
        hash=digest,
    )


def _plain_line(source: str, line: int, raw: bytes) -> ImportTuple | None:
    """The row of an ordinary line by the fast path, or None to let the exact path judge it.

    Ordinary: exactly the required keys, names and instant as strings, a whole version, objects
    whose canonical JSON orjson can vouch for. Anything else (including every error) goes through
    ``_row``, which holds the rules and the messages; this path only skips work, never a check
    that ``import_rows`` does not repeat (names are checked there).
    """
    try:
        record = fast_loads(raw)
    except ValueError:
        return None
    if type(record) is not dict or len(record) != len(REQUIRED):
        return None
    try:  # seven keys, all required ones present: exactly the required keys
        sid, stype, etype = record["stream_id"], record["stream_type"], record["type"]
        version, at = record["version"], record["recorded_at"]
        payload, metadata = record["payload"], record["metadata"]
    except KeyError:
        return None
    if not (type(sid) is str and type(stype) is str and type(etype) is str
            and type(version) is int and version >= 1 and type(at) is str
            and type(payload) is dict and type(metadata) is dict):
        return None
    try:
        instant = datetime.fromisoformat(at)
        if instant.tzinfo is None:
            return None
        us = (instant - _EPOCH) // _ONE_US
    except (ValueError, OverflowError):
        return None
    payload_json = canonical_json_parsed(payload)
    metadata_json = canonical_json_parsed(metadata)
    if payload_json is None or metadata_json is None:
        return None
    iso = at if _is_envelope_instant(at) else iso_from_us(us)
    return (source, line, sid, stype, version, etype, us, iso, payload_json, metadata_json, None,
            None)


def _is_envelope_instant(text: str) -> bool:
    """Whether an instant fromisoformat accepted is already written as the envelope writes it.

    ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (what esaudit exports): then the text is reused instead of
    formatting the instant again. Property-tested against ``iso_from_us``.
    """
    return (len(text) == 27 and text[26] == "Z" and text[19] == "." and text[10] == "T"
            and text[4] == "-" and text[7] == "-" and text[13] == ":" and text[16] == ":"
            and text.isascii())


def _jsonl_row(source: str, number: int, raw: bytes) -> ImportTuple | None:
    """The row of one JSONL line (None for a blank line); ImportRejected names the line."""
    return _plain_line(source, number, raw) or _exact_row(source, number, raw)


def _exact_row(source: str, number: int, raw: bytes) -> ImportTuple | None:
    """``_jsonl_row`` for a line the plain path declined: the rules and their messages."""
    if not raw.strip():
        return None
    try:
        record = _loads_line(raw)
    except UnicodeDecodeError:
        raise ImportRejected(source, number, "not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise ImportRejected(source, number, f"not a JSON object: {e.msg} at column "
                                             f"{e.colno}") from None
    except (ValueError, RecursionError) as e:
        raise ImportRejected(source, number, f"not a JSON object: {e}") from None
    if not isinstance(record, dict):
        raise ImportRejected(source, number, f"expected a JSON object, found {_kind(record)}")
    try:
        return _row(source, number, record, json_text=False)
    except (ValueError, RecursionError) as e:
        raise ImportRejected(source, number, str(e)) from None


def _jsonl_block(source: str, first_line: int, block: bytes, hasher: ChainHasher,
                 chains: dict[str, str]) -> list[ImportTuple]:
    """The rows of a run of whole lines, as plain tuples in ``ImportRow`` order, each with its
    hash chained from the previous row of its stream in ``chains``."""
    rows: list[ImportTuple] = []
    for number, raw in enumerate(block.split(b"\n"), start=first_line):
        # _jsonl_row written out: a million lines, and one call fewer each
        row = _plain_line(source, number, raw) or _exact_row(source, number, raw)
        if row is not None:
            sid = row[2]
            chained = chains[sid] = hasher.hash_text(chains.get(sid, ""), sid, row[4], row[5],
                                                     row[7], row[8], row[9])
            rows.append((*row[:11], chained))
    return rows


def _blocks(fh: BinaryIO, block_bytes: int) -> Iterator[tuple[int, bytes]]:
    """(first line number, whole lines without the last newline), from the file's position."""
    line = 1
    while block := fh.read(block_bytes):
        if not block.endswith(b"\n"):
            block += fh.readline()
        yield line, block.removesuffix(b"\n")
        line += block.count(b"\n")


def serve_jsonl_blocks(source: str, block_bytes: int) -> None:
    """The parser process: parsed blocks of ``source`` to stdout, each a length-prefixed
    ``marshal`` of ``(rows, end offset, next line)``, or of ``(("rejected", line, reason), 0,
    0)`` at the first bad line. marshal, not pickle: four times faster on a million tuples."""
    out = sys.stdout.buffer
    hasher = ChainHasher()
    chains: dict[str, str] = {}
    with collector_paused(), open(source, "rb") as fh:
        for first_line, block in _blocks(fh, block_bytes):
            try:
                message: tuple[Any, ...] = (_jsonl_block(source, first_line, block, hasher,
                                                         chains), fh.tell(),
                                            first_line + block.count(b"\n") + 1)
            except ImportRejected as e:
                message = (("rejected", e.line, e.reason), 0, 0)
            data = marshal.dumps(message)
            out.write(len(data).to_bytes(8, "little") + data)
            out.flush()
            if message[1] == 0:
                return


_WORKER = ("import sys; sys.path.insert(0, sys.argv[1]); "
           "from store.importers import serve_jsonl_blocks as serve; "
           "serve(sys.argv[2], int(sys.argv[3]))")
PARALLEL_MIN_BYTES = 32 << 20
BLOCK_BYTES = 4 << 20


class JsonlReader(HistoryReader):
    """JSONL rows in file order. A large file is parsed by a second process, block by block,
    while the caller hashes and inserts: on two cores the two halves of an import overlap.

    Lines are independent, so parsing can happen anywhere; blocks come back strictly in order,
    so the first bad line is still the one reported. Whatever the parser process does not
    deliver (it could not start, or died) is parsed here, from where it stopped.
    """

    def __init__(self, path: Path, *, parallel: bool | None = None,
                 block_bytes: int = BLOCK_BYTES) -> None:
        super().__init__(path)
        self.parallel = (self.size >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) > 1
                         if parallel is None else parallel)
        self.block_bytes = block_bytes

    def __iter__(self) -> Iterator[ImportTuple]:
        try:
            fh = self.path.open("rb")
        except OSError as e:
            raise self._fail(0, f"cannot read the file: {e.strerror}") from None
        with fh:
            line = 1
            if self.parallel:
                offset, line = yield from self._from_parser_process()
                fh.seek(offset)
            for number, raw in enumerate(fh, start=line):
                self._done += len(raw)
                row = _jsonl_row(self.source, number, raw)
                if row is not None:
                    yield row

    def _from_parser_process(self) -> Generator[ImportTuple, None, tuple[int, int]]:
        """Rows from the parser process; returns (offset, line) where it stopped delivering."""
        offset, line = 0, 1
        try:
            proc = start_worker(_WORKER, self.source, str(self.block_bytes))
        except OSError:
            return offset, line
        assert proc.stdout is not None
        try:
            while len(head := proc.stdout.read(8)) == 8:
                data = proc.stdout.read(int.from_bytes(head, "little"))
                try:
                    rows, end, next_line = marshal.loads(data)
                except (EOFError, ValueError, TypeError):
                    break  # cut short: the process died mid-message
                if end == 0:
                    raise ImportRejected(self.source, rows[1], rows[2])
                self._done = end
                offset, line = end, next_line
                yield from rows
        finally:
            stop_worker(proc)
        return offset, line


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
