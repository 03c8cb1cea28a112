"""What a search of the global log asks, and what it means, evaluated in Python.

A search is a set of filters on events (``EventSearch``): conditions on fields of the payload
or the metadata (``Condition``), event types, a stream-id glob and a time span. Every source
answers it in its database (``store.search_sql``); ``EventSearch.matches`` is the same meaning
in Python, for a source that cannot ask its database (states that are compressed or
encrypted) and for the tests that hold every source to it.

What a condition means, on every source alike:

- It compares one field of the event's JSON with a JSON scalar, by type: numbers with numbers,
  strings with strings, ``true``/``false`` with booleans. A field of another type, or a missing
  one, never holds (``!=`` included): ``payload.qty != 2`` asks for a quantity that is some
  other number, not for events without one.
- ``= null`` holds for a field that is null or missing; ``!= null`` for one that is present and
  not null.
- ``~`` is a case-insensitive substring of a string field (the value as text).
- Numbers compare by value (SQLite and Python as 64-bit floats, PostgreSQL exactly: the same
  answer for every number a double holds exactly); strings by code point (UTF-8 byte order).
- A typed value recorded as ``{"_type_": T, "_data_": TEXT}`` (the eventsourcing library's
  Decimal, UUID and datetime) compares as its recorded text, and a ``decimal_str`` also as the
  number that text writes: ``payload.amount > 10`` finds ``Decimal("10.50")``. A UUID is
  recorded as hex without dashes, so that is the text a search gives for one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Field = Literal["payload", "metadata"]
Op = Literal["=", "!=", "<", "<=", ">", ">=", "~"]
OPS: tuple[Op, ...] = ("<=", ">=", "!=", "=", "<", ">", "~")
"""The operators, longest first (how a parser tries them)."""
ORDERING: frozenset[str] = frozenset(("<", "<=", ">", ">="))
Key = str | int
Scalar = str | int | float | bool | None

JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
"""A decimal text written as a JSON number: a ``decimal_str`` that compares as a number."""
DECIMAL_TYPE = "decimal_str"


@dataclass(frozen=True, slots=True)
class Condition:
    """``FIELD.PATH OP VALUE``: one field of an event's payload or metadata against a value.

    ``path`` holds object keys (str) and list indexes (int). ``value`` is a JSON scalar; with
    ``~`` it is the text to look for.
    """

    field: Field
    path: tuple[Key, ...]
    op: Op
    value: Scalar

    def __post_init__(self) -> None:
        if not self.path:
            raise ValueError("a condition names a field of the payload or the metadata")
        if self.op not in OPS:
            raise ValueError(f"unknown operator {self.op!r}")
        if self.op == "~" and not isinstance(self.value, str):
            raise ValueError("~ looks for text")
        if self.op in ORDERING and (self.value is None or isinstance(self.value, bool)):
            raise ValueError(f"{self.op} compares numbers or strings, not "
                             f"{json.dumps(self.value)}")

    @property
    def kind(self) -> Literal["null", "bool", "number", "text"]:
        """What the value is compared as."""
        if self.value is None:
            return "null"
        if isinstance(self.value, bool):
            return "bool"
        if isinstance(self.value, int | float) and self.op != "~":
            return "number"
        return "text"

    def holds(self, document: Any) -> bool:
        """Whether the condition holds for the payload or metadata ``document``."""
        found = value_at(document, self.path)
        kind = self.kind
        if kind == "null":
            absent = found is MISSING or found is None
            return absent if self.op == "=" else not absent
        if kind == "bool":
            if type(found) is not bool:
                return False
            return (found is self.value) == (self.op == "=")
        if kind == "number":
            number = number_of(found)
            assert isinstance(self.value, int | float)
            return number is not None and compare(number, self.op, float(self.value))
        text = text_of(found)
        if text is None:
            return False
        if self.op == "~":
            return str(self.value).lower() in text.lower()
        return compare(text, self.op, self.value)


@dataclass(frozen=True, slots=True)
class EventSearch:
    """Every filter of a search; an event matches when it passes all of them."""

    conditions: tuple[Condition, ...] = ()
    event_types: tuple[str, ...] | None = None
    """Event types to keep (None: every type)."""
    stream_glob: str | None = None
    """Stream ids to keep: ``*`` any run of characters, ``?`` one; case matters."""
    since_us: int | None = None
    """Only events recorded at or after (microseconds since the epoch)."""
    until_us: int | None = None
    """Only events recorded at or before."""

    def matches(self, stream_id: str, type_: str, recorded_at_us: int,
                payload: Mapping[str, Any], metadata: Mapping[str, Any]) -> bool:
        if self.event_types is not None and type_ not in self.event_types:
            return False
        if self.stream_glob is not None and glob_regex(self.stream_glob).fullmatch(
                stream_id) is None:
            return False
        if self.since_us is not None and recorded_at_us < self.since_us:
            return False
        if self.until_us is not None and recorded_at_us > self.until_us:
            return False
        return all(c.holds(payload if c.field == "payload" else metadata)
                   for c in self.conditions)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""What ``value_at`` finds where a document has no such field (None is a value)."""


def value_at(document: Any, path: tuple[Key, ...]) -> Any:
    """The value at ``path`` (keys into objects, indexes into lists), or ``MISSING``."""
    value = document
    for key in path:
        if isinstance(key, int):
            if not isinstance(value, list) or not 0 <= key < len(value):
                return MISSING
        elif not isinstance(value, Mapping) or key not in value:
            return MISSING
        value = value[key]
    return value


def typed_parts(value: Any) -> tuple[str, Any] | None:
    """(type name, data) of a typed value: an object with a text ``_type_`` and a ``_data_``
    (the test the SQL of every database makes, so Python and SQL agree)."""
    if isinstance(value, Mapping) and isinstance(value.get("_type_"), str) and \
            "_data_" in value:
        return value["_type_"], value["_data_"]
    return None


def number_of(value: Any) -> float | None:
    """A JSON number (not a boolean), or a ``decimal_str`` writing one, as a float."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    typed = typed_parts(value)
    if typed is not None and typed[0] == DECIMAL_TYPE and isinstance(typed[1], str) \
            and JSON_NUMBER.fullmatch(typed[1]):
        return float(typed[1])
    return None


def text_of(value: Any) -> str | None:
    """A JSON string, or the recorded text of a typed value."""
    if isinstance(value, str):
        return value
    typed = typed_parts(value)
    if typed is not None and isinstance(typed[1], str):
        return typed[1]
    return None


def compare(a: Any, op: str, b: Any) -> bool:
    if op == "=":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


_GLOBS: dict[str, re.Pattern[str]] = {}


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A stream-id glob as a regular expression: ``*`` and ``?`` are the only wildcards
    (``[`` is an ordinary character, as in a stream id)."""
    found = _GLOBS.get(pattern)
    if found is None:
        parts = [".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern]
        found = _GLOBS[pattern] = re.compile("".join(parts), re.DOTALL)
    return found


def glob_prefix(pattern: str) -> str:
    """The literal text a glob starts with (what an index on stream ids can seek to)."""
    cut = min((i for i in (pattern.find("*"), pattern.find("?")) if i >= 0),
              default=len(pattern))
    return pattern[:cut]
