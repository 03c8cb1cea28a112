"""What every history file reader shares: the columns of an imported event, the rule for each
value, and the reader's base class that reports how far through its file it is.

Every rule raises ``ValueError`` with the message the user sees; the reader adds the file and
line (``ImportRejected``).
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from .bulk import ImportRejected, ImportRow, ImportTuple
from .hashing import canonical_json, iso_from_us, us_from_instant
from .two_process import FileIdentity, SecondProcess, file_identity

REQUIRED = ("stream_id", "stream_type", "version", "type", "recorded_at", "payload", "metadata")
OPTIONAL = ("position", "hash")
_KNOWN = frozenset(REQUIRED + OPTIONAL)


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
        self._started: SecondProcess | None = None
        self._started_on: FileIdentity | None = None

    @property
    def fraction(self) -> float:
        return min(self._done / self.size, 1.0)

    def start(self) -> None:
        """Start the reader's second process now, where it has one (a large JSONL file's
        parser): it begins while the importing process is still opening the store."""
        if self._started is None:
            try:
                self._started_on = file_identity(os.stat(self.path))
            except OSError:
                return  # the rows say why, in their turn
            self._started = self._second_process()

    def _second_process(self) -> SecondProcess | None:
        return None

    def _early_worker(self, fh: BinaryIO) -> SecondProcess | None:
        """The second process ``start`` began, if the file this process reads (``fh``) is
        still the one it was started on; else it is stopped and the rows start afresh, from
        the file as it is now (one replaced or written to meanwhile)."""
        started, self._started = self._started, None
        if started is not None and file_identity(os.fstat(fh.fileno())) != self._started_on:
            started.stop()
            return None
        return started

    def close(self) -> None:
        """Stop a second process ``start`` began that the rows did not use."""
        if self._started is not None:
            self._started.stop()
            self._started = None

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
