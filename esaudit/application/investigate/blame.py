"""Field provenance: which event last changed each field of a state, every change of one
field, and what one event changed.

The state is the one replay shows, under whichever model replays the stream (esaudit's own
domain, a model file, the system's own classes, or none: the payload fields merged, so each
field is then a payload field). A fold runs once over the stream, event by event, and
consecutive states are compared at their leaves (``diff.leaf_changes``): folds share what an
event did not touch, so a 10,000-event stream costs one replay and a little more. The
system's own classes replay in a child process one version per call, so there blame and
history replay every version from the first: slow on long streams (what the process can do,
not a shortcut this module skips).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store import Source, StreamInfo
from store.search import MISSING, value_at

from ...domain.errors import InvalidCommand, UnknownStream
from ..diff import Change, leaf_changes, leaves
from ..jobs import CancelCheck, Cancelled, Progress
from ..models import ModelChoice
from ..paths import parse_path
from ..replay import Replayer
from .events import EventRef, actor_of, iso

State = dict[str, Any] | None
Step = tuple[int, State, State]
"""A version with the state before its event and the state after it."""


@dataclass(frozen=True, slots=True)
class FieldOrigin:
    """One field of a state and the event that last changed it. ``event`` is None for a
    field the model's initial state holds and no event has changed."""

    path: str
    value: Any
    event: EventRef | None

    def as_json(self) -> dict[str, Any]:
        """``{path, value, version, type, recorded_at, actor}`` (the last four null for a
        field no event set)."""
        e = self.event
        return {"path": self.path, "value": self.value,
                "version": None if e is None else e.version,
                "type": None if e is None else e.type,
                "recorded_at": None if e is None else iso(e.recorded_at),
                "actor": None if e is None else e.actor}


@dataclass(frozen=True, slots=True)
class Blame:
    """Every field of a stream's state at a version, with the event that set it."""

    stream_id: str
    stream_type: str
    version: int
    model: str
    caveat: str
    fields: tuple[FieldOrigin, ...]

    def origin_of(self, path: str) -> FieldOrigin | None:
        return next((f for f in self.fields if f.path == path), None)

    def as_json(self) -> list[dict[str, Any]]:
        return [f.as_json() for f in self.fields]


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One event's change of a field: its value before and after (None when absent)."""

    event: EventRef
    old: Any
    new: Any

    def as_json(self) -> dict[str, Any]:
        """``{version, type, recorded_at, actor, old, new}``."""
        e = self.event
        return {"version": e.version, "type": e.type, "recorded_at": iso(e.recorded_at),
                "actor": e.actor, "old": self.old, "new": self.new}


@dataclass(frozen=True, slots=True)
class FieldHistory:
    """Every change of one field of a stream, in version order."""

    stream_id: str
    path: str
    model: str
    caveat: str
    changes: tuple[FieldChange, ...]

    def as_json(self) -> list[dict[str, Any]]:
        return [c.as_json() for c in self.changes]


@dataclass(frozen=True, slots=True)
class EventChanges:
    """What one event changed in its stream's state, leaf by leaf (what an inspector shows
    beside the event)."""

    event: EventRef
    model: str
    changes: tuple[Change, ...]

    def as_json(self) -> dict[str, Any]:
        """``{stream_id, version, type, model, changes: [{path, kind, old, new}]}``."""
        return {"stream_id": self.event.stream_id, "version": self.event.version,
                "type": self.event.type, "model": self.model,
                "changes": [c.as_json() for c in self.changes]}


def blame(replayer: Replayer, stream_id: str, version: int | None = None, *,
          progress: Progress | None = None, cancelled: CancelCheck | None = None) -> Blame:
    """Each field of the state at ``version`` (default: the head) and the event that last
    changed it (added it, or changed its value), fields in path order. ``progress`` counts
    the events folded (raises ``Cancelled`` once ``cancelled()``)."""
    info = _stream(replayer.store, stream_id)
    target = _version(info, version)
    choice = replayer.models.choose(info.stream_id, info.stream_type)
    initial = _initial(choice)
    last: dict[str, int] = {}
    state: State = initial
    steps = _steps(replayer, info, choice, target, initial, progress, cancelled)
    for v, before, after in steps:
        for change in leaf_changes(before, after):
            if change.kind == "removed":
                last.pop(change.path, None)
            else:
                last[change.path] = v
        state = after
    events = _events_at(replayer.store, info.stream_id, set(last.values()))
    fields = tuple(FieldOrigin(path, value, events.get(last.get(path, -1)))
                   for path, value in leaves(state))
    return Blame(info.stream_id, info.stream_type, target, choice.name,
                 _caveat(choice, info.stream_type), fields)


def history(replayer: Replayer, stream_id: str, path: str, *,
            progress: Progress | None = None, cancelled: CancelCheck | None = None,
            ) -> FieldHistory:
    """Every event that changed the field at ``path`` (a leaf, or a whole object or list:
    then any change inside it), from the first event to the head."""
    keys = parse_path(path)
    info = _stream(replayer.store, stream_id)
    choice = replayer.models.choose(info.stream_id, info.stream_type)
    initial = _initial(choice)
    changed: list[tuple[int, Any, Any]] = []
    steps = _steps(replayer, info, choice, info.version, initial, progress, cancelled)
    for v, before, after in steps:
        old, new = _at(before, keys), _at(after, keys)
        if old is not new and not (old == new and type(old) is type(new)):
            changed.append((v, old, new))
    events = _events_at(replayer.store, info.stream_id, {v for v, _, _ in changed})
    return FieldHistory(info.stream_id, path, choice.name, _caveat(choice, info.stream_type),
                        tuple(FieldChange(events[v], old, new) for v, old, new in changed))


def changes_of_event(replayer: Replayer, stream_id: str, version: int) -> EventChanges:
    """The leaves one event changed: the state before it against the state after it (two
    replays, which snapshots and remembered states keep short)."""
    info = _stream(replayer.store, stream_id)
    if not info.first_version <= version <= info.version:
        raise InvalidCommand(f"stream {info.stream_id} has versions {info.first_version}.."
                             f"{info.version}, not {version}")
    before = replayer.replay(info.stream_id, version - 1)
    after = replayer.replay(info.stream_id, version)
    event = replayer.store.read_stream(info.stream_id, version, version)[0]
    changes = sorted(leaf_changes(before.state, after.state), key=lambda c: c.path)
    return EventChanges(EventRef.of(event), after.model, tuple(changes))


def timestamp_of_version(store: Source, stream_id: str, version: int) -> datetime | None:
    """When the event at ``version`` was recorded: what a version slider's "At" shows. None
    for the version before the first event (there is no event, so no time)."""
    info = _stream(store, stream_id)
    if version < info.first_version:
        return None
    if version > info.version:
        raise InvalidCommand(f"stream {info.stream_id} ends at version {info.version}")
    return store.read_stream(info.stream_id, version, version)[0].recorded_at


# -- the walk --------------------------------------------------------------------------------
def _steps(replayer: Replayer, info: StreamInfo, choice: ModelChoice, target: int,
           initial: State, progress: Progress | None = None,
           cancelled: CancelCheck | None = None) -> Iterator[Step]:
    """Each version up to ``target`` with the states before and after its event. Only the
    payloads are read (what a fold needs); the few events an answer names are read after
    (``_events_at``), where reading every event whole would cost more than the fold."""
    if target < info.first_version:
        return
    events = replayer.store.read_payloads(info.stream_id, info.first_version, target)
    state = initial
    code = choice.code
    fold = choice.fold.fold
    every = 1 if code is not None else PROGRESS_EVERY  # a child's replay is slow
    for done, (v, type_, payload) in enumerate(events, 1):
        after: State = code.replay(replayer.store, info.stream_id, v) \
            if code is not None else fold(((v, type_, payload),), state)
        yield v, state, after
        state = after
        if done % every == 0:
            if cancelled is not None and cancelled():
                raise Cancelled(f"blame of {info.stream_id} was cancelled")
            if progress is not None:
                progress(done, len(events))
    if progress is not None:
        progress(len(events), len(events))


PROGRESS_EVERY = 1_000


def _events_at(store: Source, stream_id: str, versions: set[int]) -> dict[int, EventRef]:
    """The events at these versions, read in runs of nearby versions."""
    found: dict[int, EventRef] = {}
    wanted = sorted(versions)
    i = 0
    while i < len(wanted):
        j = i
        while j + 1 < len(wanted) and wanted[j + 1] - wanted[j] <= _GAP:
            j += 1
        for e in store.read_stream(stream_id, wanted[i], wanted[j]):
            if e.version in versions:
                found[e.version] = EventRef.of(e)
        i = j + 1
    return found


_GAP = 32
"""Versions this close are read in one run (a read per version costs more than the events
between them)."""


def _initial(choice: ModelChoice) -> State:
    """The state before any event: a model file's ``initial``, else none."""
    return None if choice.code is not None else choice.fold.fold((), None)


def _stream(store: Source, stream_id: str) -> StreamInfo:
    info = store.stream(stream_id)
    if info is None:
        raise UnknownStream(f"no stream {stream_id!r} in the store")
    return info


def _version(info: StreamInfo, version: int | None) -> int:
    if version is None:
        return info.version
    if not info.first_version - 1 <= version <= info.version:
        raise InvalidCommand(f"stream {info.stream_id} has versions {info.first_version}.."
                             f"{info.version}, not {version}")
    return version


def _at(state: State, keys: tuple[str | int, ...]) -> Any:
    found = value_at(state, keys)
    return None if found is MISSING else found


def _caveat(choice: ModelChoice, stream_type: str) -> str:
    if choice.name != "none":
        return ""
    why = choice.why_none or f"no model for {stream_type}"
    return f"{why}: the fields are the events' payload fields merged"


__all__ = ["Blame", "EventChanges", "FieldChange", "FieldHistory", "FieldOrigin", "actor_of",
           "blame", "changes_of_event", "history", "timestamp_of_version"]
