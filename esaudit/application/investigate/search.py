"""Searching the global log: ``--where`` expressions read into conditions, and one page of
the events that match.

An expression is ``payload.PATH OP VALUE`` or ``metadata.PATH OP VALUE``: PATH as diff and
blame write it (``lines.SKU-1.qty``, ``items[0].sku``, ``lines["SKU 1"]``), OP one of
``= != < <= > >= ~``, VALUE a JSON literal when it reads as one (``12``, ``true``, ``null``,
``"quoted text"``), else the text as written. What each condition means is
``store.search``'s; the source's database evaluates it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, cast, get_args

from store import RecordedEvent, Source
from store.hashing import us_from_instant
from store.search import OPS, Condition, EventSearch, Field, Scalar

from ..paths import PathError, parse_path
from .events import event_as_json

FIELDS: tuple[Field, ...] = get_args(Field)


class MalformedCondition(ValueError):
    """A ``--where`` expression that cannot be read; the message names it."""


def parse_condition(text: str) -> Condition:
    """``payload.PATH OP VALUE`` or ``metadata.PATH OP VALUE`` as a condition."""
    source, dot, rest = text.strip().partition(".")
    if source not in FIELDS or not dot:
        raise MalformedCondition(f"--where {text!r}: start with payload. or metadata.")
    cut = _path_end(rest)
    try:
        path = parse_path(rest[:cut].strip())
    except PathError as e:
        raise MalformedCondition(f"--where {text!r}: {e}") from None
    tail = rest[cut:].lstrip()
    op = next((o for o in OPS if tail.startswith(o)), None)
    if op is None:
        raise MalformedCondition(f"--where {text!r}: no operator (use one of "
                                 "= != < <= > >= ~)")
    raw = tail[len(op):].strip()
    if not raw:
        raise MalformedCondition(f"--where {text!r}: no value after {op}")
    if raw[0] in "=!<>~":
        raise MalformedCondition(f"--where {text!r}: one operator, then the value (quote a "
                                 f"value that starts with {raw[0]}: \"{raw}\")")
    try:
        return Condition(source, path, op, _value(raw, op))
    except ValueError as e:
        raise MalformedCondition(f"--where {text!r}: {e}") from None


def _path_end(text: str) -> int:
    """Where the path ends: the first operator character outside a quoted key."""
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch in "=!<>~" or ch.isspace():
            return i
        i += 1
    return len(text)


def _value(raw: str, op: str) -> Scalar:
    """The JSON literal ``raw`` writes, else ``raw`` as text; with ``~`` always text."""
    try:
        value: Any = json.loads(raw, parse_constant=_no_constant)
    except ValueError:
        return raw
    if isinstance(value, dict | list):
        raise MalformedCondition(f"{raw} is an object or a list: compare a field with a "
                                 "number, a string, true, false or null")
    if isinstance(value, float) and not math.isfinite(value):
        raise MalformedCondition(f"{raw} is too large a number")
    if op == "~":
        return value if isinstance(value, str) else raw
    return cast(Scalar, value)


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are text, not numbers


def event_search(where: Sequence[str] = (), *, event_types: Sequence[str] | None = None,
                 stream_glob: str | None = None, since: datetime | None = None,
                 until: datetime | None = None) -> EventSearch:
    """A search from the command line's (or a filter bar's) pieces."""
    return EventSearch(
        tuple(parse_condition(w) for w in where),
        None if event_types is None else tuple(dict.fromkeys(event_types)),
        stream_glob or None,
        None if since is None else us_from_instant(since),
        None if until is None else us_from_instant(until))


def split_conditions(text: str) -> list[str]:
    """A filter bar's conditions, written on one line separated by ``;`` (a ``;`` inside a
    quoted key or value is part of it)."""
    parts, start, quoted, i = [], 0, False, 0
    while i < len(text):
        ch = text[i]
        if quoted and ch == "\\":
            i += 1
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def instant_from_text(text: str, what: str) -> datetime | None:
    """An instant typed in a filter bar (ISO 8601: ``2026-04-01``, ``2026-04-01 12:30``,
    ``...Z``); one without a zone is UTC; None for blank."""
    if not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise MalformedCondition(f"{what} {text.strip()!r} is not a date: write 2026-04-01 or "
                                 "2026-04-01 12:30 (UTC)") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def search_from_text(where: str = "", event_types: str = "", stream_glob: str = "",
                     since: str = "", until: str = "") -> EventSearch:
    """A search from a filter bar's text fields: conditions separated by ``;``, event types
    by commas, a stream glob, ISO instants. MalformedCondition's message is one line naming
    the field, without the command line's ``--where``."""
    try:
        conditions = split_conditions(where)
        types = [t.strip() for t in event_types.split(",") if t.strip()]
        first, last = instant_from_text(since, "From"), instant_from_text(until, "To")
        if first is not None and last is not None and first > last:
            raise MalformedCondition(f"From {since.strip()} comes after To {until.strip()}")
        return event_search(conditions, event_types=types or None,
                            stream_glob=stream_glob.strip() or None, since=first, until=last)
    except MalformedCondition as e:
        raise MalformedCondition(str(e).removeprefix("--where ")) from None


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of matching events, in position order; ``more`` when others follow (ask
    again after ``events[-1].position``)."""

    events: tuple[RecordedEvent, ...]
    more: bool

    def as_json(self) -> list[dict[str, Any]]:
        """The events as ``esaudit events --json`` prints them."""
        return [event_as_json(e) for e in self.events]


def search(store: Source, query: EventSearch, *, after_position: int = 0,
           limit: int = 1000) -> SearchPage:
    """Up to ``limit`` matching events after a position."""
    found = store.search_events(query, after_position=after_position, limit=limit + 1)
    return SearchPage(tuple(found[:limit]), len(found) > limit)


def first_match_from(store: Source, query: EventSearch, instant: datetime,
                     ) -> RecordedEvent | None:
    """The first event in position order that matches and was recorded at or after an
    instant (where "jump to a date" lands), or None."""
    at = us_from_instant(instant)
    since = at if query.since_us is None else max(at, query.since_us)
    found = search(store, replace(query, since_us=since), limit=1)
    return found.events[0] if found.events else None
