"""Canonical bytes and the per-stream hash chain.

Anyone can re-verify a history from an export or the database with this recipe alone.

Canonical JSON of a value::

    json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
               allow_nan=False).encode("utf-8")

i.e. object keys sorted by code point, no whitespace, non-ASCII characters as raw UTF-8, floats
as Python's shortest round-trip ``repr`` and NaN/Infinity refused. The ``payload`` and ``metadata``
columns of the ``events`` table hold exactly these bytes (as text), so they can be fed to the hash
unchanged.

The envelope of an event is the canonical JSON of the six-element array::

    [stream_id, version, type, recorded_at, payload, metadata]

where ``version`` is the 1-based integer version in the stream and ``recorded_at`` is the UTC
instant as the 27-character string ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fractional digits;
the ``recorded_at`` column stores the same instant as integer microseconds since the Unix epoch).

The hash of an event is::

    sha256(previous_hash + envelope).hexdigest()      # 64 lowercase hex characters

where ``previous_hash`` is the ASCII bytes of the previous event's hex hash in the same stream,
and empty bytes for version 1. The head hash of a stream (``streams.head_hash``) is the hash of
its last event, so it fixes every event before it.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from hashlib import sha256 as _sha256
from typing import Any, Protocol

from orjson import OPT_SORT_KEYS
from orjson import dumps as _orjson_dumps
from orjson import loads as _orjson_loads

fast_loads = _orjson_loads
"""orjson's ``loads``, for JSON that holds no integer beyond 64 bits (else ``decode_json``)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_dumps = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode

json_string: Callable[[str], str] = json.encoder.encode_basestring
"""``_dumps`` of a string: the very function the encoder calls for one, without the encoder's
method around it (a fifth of its cost, which counts for a million stream ids)."""


_LONG_NUMBER = re.compile(rb"[0-9]{19}")
_LONG_NUMBER_TEXT = re.compile(r"[0-9]{19}")  # [0-9], not \d: a third faster on text


def decode_json(text: str | bytes, fallback: Callable[[Any], Any] = json.loads) -> Any:
    """Decode JSON fast and exactly: orjson where it is exact, else ``fallback`` (the stdlib).

    orjson turns integers beyond 64 bits into floats, silently changing the value; any run of
    19 or more digits (which every such integer has) therefore goes to the fallback, as does
    anything orjson refuses (so the fallback's error message is the one a caller sees).
    """
    pattern = _LONG_NUMBER if isinstance(text, bytes) else _LONG_NUMBER_TEXT
    if pattern.search(text) is not None:  # type: ignore[arg-type]
        return fallback(text)
    try:
        return fast_loads(text)
    except ValueError:
        return fallback(text)


def canonical_json(value: Any) -> str:
    """The canonical JSON text of a value (encode as UTF-8 for the canonical bytes)."""
    return canonical_json_marked(value)[0]


def canonical_json_marked(value: Any) -> tuple[str, bool]:
    """``canonical_json``, and whether orjson wrote it: then orjson also reads it back exactly,
    with no need for ``decode_json``'s scan for long numbers."""
    text = canonical_json_fast(value)
    return (_dumps(value), False) if text is None else (text, True)


def canonical_json_fast(value: Any) -> str | None:
    """The canonical JSON by orjson, or None where orjson's text could differ from the recipe.

    orjson writes exactly the recipe's bytes for dicts with string keys, lists, strings, 64-bit
    integers, booleans and None; it differs on floats (exponent form) and other types.
    Property-tested.
    """
    if not _orjson_exact(value):
        return None
    try:
        return _orjson_dumps(value, option=OPT_SORT_KEYS).decode()
    except TypeError:  # a lone surrogate: the recipe's own behaviour decides
        return None


def canonical_json_parsed(value: dict[str, Any] | list[Any]) -> str | None:
    """The canonical JSON of an object or array orjson has just parsed from JSON text, or None
    where orjson may have misread that text.

    Such a value holds only dicts with string keys, lists, strings, integers of at most 64
    bits, booleans and None, which orjson writes exactly as the recipe does, and floats. A
    float orjson read is the double the standard library reads (both round correctly), except
    that orjson also reads an integer beyond 64 bits as a float: such a float is at least
    2**63 in magnitude. orjson writes a float as the recipe does (the shortest text that reads
    back, in fixed notation) for zero and magnitudes from 1e-4 up to 1e16, where the recipe
    does not switch to an exponent. So orjson writes a value whose floats all lie there, the
    standard library (the recipe itself: the values are those it would have parsed) one with
    other floats below 2**63, and a value with a larger float is declined, to be decoded
    again exactly. A walk cheaper than ``_orjson_exact``'s, and the importer walks a million
    payloads. Property-tested against the recipe on the standard library's own parse.
    """
    floats = _floats_in(value)
    if floats == _ORJSON_WRITES:
        return _orjson_dumps(value, option=OPT_SORT_KEYS).decode()
    return _dumps(value) if floats == _RECIPE_WRITES else None


def parse_json_object(data: bytes) -> tuple[dict[str, Any], bool] | None:
    """orjson's parse of a JSON object, where it is exactly ``decode_json``'s, and whether
    orjson also writes every float in it as the recipe does; None for anything else (text
    that is not an object, that orjson refuses, or that holds a float orjson may have read
    from an integer beyond 64 bits): decode it with ``decode_json``.

    The same reading as ``decode_json`` without its scan for long runs of digits: the only
    value orjson reads differently is such an integer (see ``canonical_json_parsed``). The
    walk that finds it also says which writer the object's canonical JSON needs.
    """
    try:
        value = _orjson_loads(data)
    except ValueError:
        return None
    if type(value) is not dict:
        return None
    floats = _floats_in(value)
    if floats == _UNSURE:
        return None
    return value, floats == _ORJSON_WRITES


def canonical_json_orjson(value: dict[str, Any]) -> str:
    """orjson's canonical JSON of a value ``parse_json_object`` vouched for (or a part of one:
    an object it parsed, with keys taken out)."""
    return _orjson_dumps(value, option=OPT_SORT_KEYS).decode()


_ORJSON_WRITES, _RECIPE_WRITES, _UNSURE = 0, 1, 2
_FLOAT_LIMIT = float(2**63)


def _floats_in(value: dict[str, Any] | list[Any]) -> int:
    """``_ORJSON_WRITES`` (no float, or only floats orjson writes as the recipe does),
    ``_RECIPE_WRITES`` (other floats, all below 2**63 in magnitude) or ``_UNSURE`` (a float
    at least that large, or not a number)."""
    found = _ORJSON_WRITES
    items: Iterable[Any] = value.values() if type(value) is dict else value
    for item in items:
        kind = type(item)
        if kind is float:
            size = item if item >= 0 else -item  # NaN stays NaN and fails every test below
            if size < 1e16 and (size >= 1e-4 or size == 0.0):
                continue
            if not size < _FLOAT_LIMIT:
                return _UNSURE
            found = _RECIPE_WRITES
        elif kind is dict or kind is list:
            inner = _floats_in(item)
            if inner == _UNSURE:
                return _UNSURE
            found |= inner
    return found


_INT_MIN, _INT_END = -(2**63), 2**64


def _orjson_exact(value: Any) -> bool:
    """Whether orjson writes this value byte for byte as the recipe does (a loop, not a
    generator: it runs for every payload of an import and of every append)."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            k = type(item)
            if k is str or k is bool or item is None:
                continue
            if k is int:
                if not _INT_MIN <= item < _INT_END:
                    return False
            elif not _orjson_exact(item):
                return False
        return True
    if kind is list:
        return all(_orjson_exact(item) for item in value)
    if kind is str or kind is bool or value is None:
        return True
    return kind is int and _INT_MIN <= value < _INT_END


def instant_from_us(us: int) -> datetime:
    """A timezone-aware UTC datetime from integer microseconds since the epoch."""
    return _EPOCH + timedelta(0, 0, us)  # positional: a third cheaper than the keyword


def us_from_instant(instant: datetime) -> int:
    """Integer microseconds since the epoch; naive datetimes are refused, not guessed."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant!r}: esaudit needs timezone-aware instants")
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def iso_from_instant(instant: datetime) -> str:
    """The same fixed-width UTC text for an aware datetime (what messages and JSON show)."""
    return iso_from_us(us_from_instant(instant))


def iso_from_us(us: int) -> str:
    """The fixed-width UTC text of an instant used in the envelope."""
    d = instant_from_us(us)
    return (
        f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
        f".{d.microsecond:06d}Z"
    )


def envelope_bytes(
    stream_id: str, version: int, type_: str, recorded_at_us: int, payload_json: str,
    metadata_json: str,
) -> bytes:
    """The canonical envelope built from already-canonical payload and metadata text.

    Splicing the stored texts in is byte-identical to dumping the whole array, and avoids
    decoding and re-encoding every payload when a history is verified.
    """
    head = _dumps([stream_id, version, type_, iso_from_us(recorded_at_us)])
    return f"{head[:-1]},{payload_json},{metadata_json}]".encode()


_TWO_DIGITS = tuple(f"{i:02d}" for i in range(60))
_HOUR_MINUTE = tuple(f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60))


class Digest(Protocol):
    def hexdigest(self) -> str: ...


Sha256 = Callable[[bytes], Digest]
"""A SHA-256 constructor: ``hashlib.sha256`` (OpenSSL) or CPython's own (``cold_sha256``)."""


class ChainHasher:
    """``chain_hash(previous, envelope_bytes(...))`` for paths that hash millions of events:
    ``hash_text(previous, stream_id, version, type, iso(recorded_at_us), payload, metadata)``.

    The same recipe, with the work that repeats done once: the JSON text of each stream id and
    event type, the date part of each day's instants and the text of the last whole minute.
    Byte-identical to the plain functions (property-tested); names are remembered for the
    hasher's lifetime, so use one per job.
    """

    __slots__ = ("_days", "_last", "_names", "_sha256")

    def __init__(self, sha256: Sha256 = _sha256) -> None:
        self._names: dict[str, str] = {}
        self._days: dict[int, str] = {}
        self._last: tuple[int | None, str] = (None, "")
        self._sha256 = sha256

    def name_json(self, name: str) -> str:
        text = self._names.get(name)
        if text is None:
            if len(self._names) >= 500_000:  # a long-lived store's hasher stays small
                self._names.clear()
            text = self._names[name] = json_string(name)
        return text

    def iso(self, us: int) -> str:
        minute, rest = divmod(us, 60_000_000)
        last = self._last  # (whole minute, its text): a busy history has many events a minute
        if minute != last[0]:
            day, of_day = divmod(minute, 1440)
            date = self._days.get(day)
            if date is None:
                date = self._days[day] = iso_from_us(day * 86_400_000_000)[:11]
            last = self._last = (minute, f"{date}{_HOUR_MINUTE[of_day]}")
        seconds, fraction = divmod(rest, 1_000_000)
        # table lookups, not format specs: ``:02d`` costs more than the rest of the hash
        return f"{last[1]}{_TWO_DIGITS[seconds]}.{str(fraction + 1_000_000)[1:]}Z"

    def envelope_text(self, stream_id: str, version: int, type_: str, recorded_at: str,
                      payload_json: str, metadata_json: str) -> str:
        """The canonical envelope ``hash_text`` hashes after the previous hash (a seal's leaf
        hashes the same text: a walk that needs both builds it once)."""
        names = self._names
        sid = names.get(stream_id) or self.name_json(stream_id)
        typ = names.get(type_) or self.name_json(type_)
        return f'[{sid},{version},{typ},"{recorded_at}",{payload_json},{metadata_json}]'

    def hash_envelope(self, previous_hash: str, envelope: str) -> str:
        """``hash_text`` of an ``envelope_text``."""
        return self._sha256(f"{previous_hash}{envelope}".encode()).hexdigest()

    def hash_text(self, previous_hash: str, stream_id: str, version: int, type_: str,
                  recorded_at: str, payload_json: str, metadata_json: str) -> str:
        """The hash with the instant already as ``iso_from_us`` text (importers have it)."""
        names = self._names
        sid = names.get(stream_id) or self.name_json(stream_id)
        typ = names.get(type_) or self.name_json(type_)
        return self._sha256(
            f'{previous_hash}[{sid},{version},{typ},"{recorded_at}",'
            f"{payload_json},{metadata_json}]".encode()
        ).hexdigest()

    def hash_named(self, previous_hash: str, stream_json: str, version: int, type_json: str,
                   recorded_at: str, payload_json: str, metadata_json: str) -> str:
        """``hash_text`` with the stream id and the event type already as ``name_json``
        text: a walk that keeps each stream's text with its chain looks it up once."""
        return self._sha256(
            f'{previous_hash}[{stream_json},{version},{type_json},"{recorded_at}",'
            f"{payload_json},{metadata_json}]".encode()
        ).hexdigest()


def _cold_sha256() -> Sha256:
    """SHA-256 for one hash at a time on a cold CPU: CPython's own implementation.

    A durable append hashes one event right after the previous commit's fsync put the thread
    to sleep, with its caches cold. OpenSSL's EVP path is faster warm (0.44 vs 0.93 us for an
    envelope) but walks far more code: measured between fsyncs on the reference machine it
    costs ~10 us per append against ~3 us for the built-in one. Bulk paths (import, verify)
    keep OpenSSL.
    """
    for module in ("_sha2", "_sha256"):  # the module's name since 3.12, and before
        try:
            return importlib.import_module(module).sha256  # type: ignore[no-any-return]
        except (ImportError, AttributeError):
            continue
    return _sha256


cold_sha256 = _cold_sha256()


def chain_hash(previous_hash: str, envelope: bytes) -> str:
    """The hash of an event given the previous hash in its stream ('' for version 1)."""
    return hashlib.sha256(previous_hash.encode("ascii") + envelope).hexdigest()
