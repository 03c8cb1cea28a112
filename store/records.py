"""Plain records that cross the store boundary: no connections or rows ever leave the store."""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

MAX_NAME = 200  # the width of the id, type and event-type columns


def name_problem(value: object, what: str) -> str | None:
    """Why a stream id, stream type or event type cannot be stored, or None if it can."""
    if (type(value) is str and 0 < len(value) <= MAX_NAME and value.isascii()
            and not value.isspace()):
        return None  # every append checks three names: the common case in one test
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        return f"{what} must be a non-empty string of at most {MAX_NAME} characters"
    if not is_unicode_text(value):
        return f"{what} holds a lone surrogate, which no database can store as text"
    return None


def is_unicode_text(value: str) -> bool:
    """Whether a string is valid Unicode text (no lone surrogates), so UTF-8 can carry it."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


EVENT_ROW_COLUMNS = ("position", "stream_id", "stream_type", "version", "type", "recorded_at",
                     "payload", "metadata", "hash")
"""The columns of an event row, in the order of ``EventRow``."""

EventRow = tuple[int, str, str, int, str, int, str, str, str]
"""An event exactly as stored: (position, stream_id, stream_type, version, type,
recorded_at in microseconds since the epoch, payload text, metadata text, hash). The texts are
canonical JSON, the very bytes the hash covers. A plain tuple, unpacked by name where it is
read, because the walks that produce it (verify, export) handle millions of them and a named
tuple per row would cost more than the rest of the walk's row handling."""


class EventPayload(NamedTuple):
    """An event as a read model sees it: the instant as integer microseconds, no metadata."""

    position: int
    stream_id: str
    stream_type: str
    version: int
    type: str
    recorded_at_us: int
    payload: dict[str, Any]


class _Any(enum.Enum):
    ANY = "any"

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any.ANY
"""Expected version meaning 'append whatever the stream's version is'."""

ExpectedVersion = int | _Any


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append. ``recorded_at`` is set only by importers and the demo seeder."""

    type: str
    payload: Mapping[str, Any]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    recorded_at: datetime | None = None


class _NoProvenance(Mapping[str, Any]):
    """An empty, immutable (and so hashable) mapping: a shared default costs nothing per
    event, where a dict per event would cost a tenth of a walk's row handling."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "{}"


PROVENANCE_KEY = "esaudit:provenance"
"""The metadata key under which an exported or imported event keeps where it came from:
namespaced, so it never takes the place of an application's own metadata (Emmett's, say, may
well have a ``source``)."""

NO_PROVENANCE: Mapping[str, Any] = _NoProvenance()
"""An esaudit event's provenance: the store itself, nothing more to say."""


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored: its place in the stream and the store, its time and its hash.

    An event read from a store esaudit did not write has no hash (``""``) and says where it
    came from in ``provenance``: the source's own names and values (its topic or message type,
    notification id or global position, message id, how its state was encoded), so an auditor
    can find the very row in the source.
    """

    position: int
    stream_id: str
    stream_type: str
    version: int
    type: str
    recorded_at: datetime
    payload: dict[str, Any]
    metadata: dict[str, Any]
    hash: str
    provenance: Mapping[str, Any] = NO_PROVENANCE


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """One row of the stream list. ``version`` is the head's version; ``first_version`` the
    first event's (1 in esaudit's store, 0 in a source whose streams count from 0)."""

    stream_id: str
    stream_type: str
    version: int
    head_hash: str
    first_at: datetime
    last_at: datetime
    first_version: int = 1


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A cached state of a stream at a version; never the source of truth."""

    stream_id: str
    version: int
    state: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FoldSnapshot:
    """A state one named fold reached at a version (``store.fold_snapshots``)."""

    stream_id: str
    fold: str
    version: int
    state: dict[str, Any]


class MinuteCount(NamedTuple):
    """Events of one stream type and event type recorded in one minute (``recorded_at_us //
    60,000,000``); see ``store.timeline_minutes``."""

    minute: int
    stream_type: str
    type: str
    events: int


class MinuteCounts(NamedTuple):
    through: int  # every event up to this position is counted, none after it
    rows: list[MinuteCount]


@dataclass(frozen=True, slots=True)
class StoreStats:
    events: int
    streams: int
    head_position: int
    snapshots: int
    streams_by_type: dict[str, int]
    events_by_type: dict[str, int]


APPENDED, IMPORTED, UNKNOWN_ORIGIN = "appended", "imported", "unknown"


@dataclass(frozen=True, slots=True)
class Origins:
    """How the events of a store got there: appended through the store's own ``append``
    (the command handlers), or copied in by an import (ranges of positions, one per import).

    An imported history keeps the stream types of the system it came from, so a stream type
    alone never says that esaudit's own domain wrote a stream: its origin does. A store made
    before origins were recorded says ``unknown`` for its older events, never a guess.
    """

    known_after: int = 0
    imported: tuple[tuple[int, int], ...] = ()
    """(first, last) positions of each import, in position order."""

    def of_position(self, position: int) -> str:
        if position <= self.known_after:
            return UNKNOWN_ORIGIN
        i = bisect.bisect_right(self.imported, (position, _MAX)) - 1
        if i >= 0 and self.imported[i][0] <= position <= self.imported[i][1]:
            return IMPORTED
        return APPENDED


    def appended_run(self, after: int, upto: int) -> tuple[int, int]:
        """``(skip_to, run_end)``: the positions ``after+1..skip_to`` were not appended here
        (imported, or of unknown origin), ``skip_to+1..run_end`` were, all within ``upto``.
        A reader of appended events alone (the domain's read models) skips whole imports
        without reading them."""
        p = after
        while True:
            if p < self.known_after:
                p = self.known_after
                continue
            i = bisect.bisect_right(self.imported, (p + 1, _MAX)) - 1
            if i >= 0 and self.imported[i][0] <= p + 1 <= self.imported[i][1]:
                p = self.imported[i][1]
                continue
            break
        skip_to = min(p, upto)
        j = bisect.bisect_right(self.imported, (skip_to, _MAX))
        run_end = upto if j == len(self.imported) else min(upto, self.imported[j][0] - 1)
        return skip_to, run_end


_MAX = 2 ** 63
