"""Causation: the events of one conversation (a correlation id) across every stream, what
caused an event and what it caused.

Every event of a conversation carries the conversation's correlation id, and each names the
message that caused it with its causation id (``store.tracing`` reads both spellings). An
event's own ids are its metadata's ``event_id``/``message_id`` (either spelling), or the
message id its source keeps (Emmett's ``message_id``; an imported event's provenance). The
causes are followed from the event up, nearest first; what it caused, down, as a tree whose
every entry says the event it was caused by. The tree is built among the correlation's events,
which one indexed query reads (the conversation's events all carry its id).

esaudit's own commands record the command as each event's cause (``causation_id`` =
``command_id``) and store no command, so their events have no cause among the events: the
events of one command share their causation id and correlation. A source that keeps no
metadata (the eventsourcing library) has neither id: its events trace to themselves alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from store import RecordedEvent, Source
from store.records import PROVENANCE_KEY
from store.tracing import CAUSATION_KEYS, CORRELATION_KEYS, MESSAGE_ID_KEYS, first_text

from ...domain.errors import InvalidCommand, UnknownStream
from .events import EventRef

MOST = 10_000
"""The most events of one correlation a trace reads."""


@dataclass(frozen=True, slots=True)
class CausedEvent:
    """An event in the tree of what another caused."""

    event: EventRef
    caused_by: int
    """The position of the event whose id its causation id names."""

    def as_json(self) -> dict[str, Any]:
        """The event's entry and ``caused_by``."""
        return {**self.event.as_json(), "caused_by": self.caused_by}


@dataclass(frozen=True, slots=True)
class Trace:
    event: EventRef
    correlation_id: str | None
    events: tuple[EventRef, ...]
    """The correlation's events in position order (the traced one among them)."""
    causes: tuple[EventRef, ...]
    """What caused the event, nearest first: its cause, that one's cause, and so on."""
    caused: tuple[CausedEvent, ...]
    """What the event caused, directly or through others, in position order."""
    note: str = ""
    """What the answer cannot say, and why (no metadata, no correlation id, ...)."""

    def as_json(self) -> dict[str, Any]:
        """``{correlation_id, events, causes, caused}``; an event entry is ``{position,
        stream_id, version, type, recorded_at, actor}``, one of ``caused`` adds
        ``caused_by`` (a position)."""
        return {"correlation_id": self.correlation_id,
                "events": [e.as_json() for e in self.events],
                "causes": [e.as_json() for e in self.causes],
                "caused": [c.as_json() for c in self.caused]}


def find_event(store: Source, ref: str) -> RecordedEvent:
    """The event ``STREAM@VERSION`` names, or the one at a global position (digits alone)."""
    text = ref.strip()
    if text.isdigit() and text.isascii():
        position = int(text)
        for e in store.iter_events(position - 1, to_position=position, page_size=1):
            return e
        raise UnknownStream(f"no event at position {position}")
    stream_id, at, version = text.rpartition("@")
    if not at or not stream_id or not (version.isdigit() and version.isascii()):
        raise InvalidCommand(f"{ref!r} names no event: give STREAM@VERSION or a position")
    info = store.stream(stream_id)
    if info is None:
        raise UnknownStream(f"no stream {stream_id!r} in the store")
    found = store.read_stream(info.stream_id, int(version), int(version)) \
        if int(version) <= info.version else []
    if not found:
        raise InvalidCommand(f"stream {info.stream_id} has versions {info.first_version}.."
                             f"{info.version}, not {version}")
    return found[0]


def ids_of(e: RecordedEvent) -> set[str]:
    """The ids another event's causation id may cite this one by."""
    ids = {v for k in MESSAGE_ID_KEYS if isinstance(v := e.metadata.get(k), str)}
    kept = e.metadata.get(PROVENANCE_KEY)
    for where in (e.provenance, kept if isinstance(kept, Mapping) else {}):
        message_id = where.get("message_id")
        if isinstance(message_id, str):
            ids.add(message_id)
    return ids


def trace(store: Source, event: RecordedEvent) -> Trace:
    """The event's correlation, causes and what it caused (see the module docstring)."""
    ref = EventRef.of(event)
    if not store.capabilities.correlation:
        return Trace(ref, None, (ref,), (), (), f"an {store.identity.kind} store records no "
                     "metadata, so no correlation or causation ids: the event traces to "
                     "itself alone")
    correlation = first_text(event.metadata, CORRELATION_KEYS)
    if correlation is None:
        return Trace(ref, None, (ref,), (), (), "the event records no correlation id")
    group = store.correlated_events(correlation, limit=MOST)
    if all(e.position != event.position for e in group):
        group = sorted([*group, event], key=lambda e: e.position)
    by_id: dict[str, RecordedEvent] = {}
    for e in group:
        for i in ids_of(e):
            by_id.setdefault(i, e)
    parent = {e.position: cause for e in group
              if (cause := _cause(e, by_id)) is not None}
    causes = []
    at, seen = event, {event.position}
    while (up := parent.get(at.position)) is not None and up.position not in seen:
        causes.append(EventRef.of(up))
        seen.add(up.position)
        at = up
    caused = _descendants(group, parent, event.position)
    return Trace(ref, correlation, tuple(EventRef.of(e) for e in group), tuple(causes),
                 tuple(caused), _note(event, causes, len(group)))


def _cause(e: RecordedEvent, by_id: Mapping[str, RecordedEvent]) -> RecordedEvent | None:
    causation = first_text(e.metadata, CAUSATION_KEYS)
    if causation is None or causation in ids_of(e):
        return None
    return by_id.get(causation)


def _descendants(group: list[RecordedEvent], parent: Mapping[int, RecordedEvent],
                 root: int) -> list[CausedEvent]:
    """What the event at ``root`` caused, in position order. One pass in position order
    finds a tree whose causes come first; passes repeat while the tree grows, for events
    recorded before their cause (different writers' clocks and positions need not agree)."""
    below = {root}
    found: list[CausedEvent] = []
    grew = True
    while grew:
        grew = False
        for e in group:
            cause = parent.get(e.position)
            if cause is not None and cause.position in below and e.position not in below:
                below.add(e.position)
                found.append(CausedEvent(EventRef.of(e), cause.position))
                grew = True
    return sorted(found, key=lambda c: c.event.position)


def _note(event: RecordedEvent, causes: list[EventRef], found: int) -> str:
    notes = []
    causation = first_text(event.metadata, CAUSATION_KEYS)
    if not causes and causation is not None and causation not in ids_of(event):
        if causation == event.metadata.get("command_id"):
            notes.append("its cause is the command that appended it (causation_id = "
                         "command_id), which is not stored as an event")
        else:
            notes.append(f"its causation id {causation} names no event of this correlation")
    if found >= MOST:
        notes.append(f"the correlation has more events than the {MOST} read")
    return "; ".join(notes)
