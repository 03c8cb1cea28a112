"""What the investigating answers say about an event: where it is, when, and who.

"Who" is the actor the event's metadata records: esaudit's commands write ``actor``; other
programs write their own key (Emmett's examples, and the fixture written by Emmett here, carry
``userId``). A source that records no metadata (the eventsourcing library) has no actor: None,
never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store import RecordedEvent
from store.hashing import iso_from_instant

ACTOR_KEYS = ("actor", "userId", "user_id")


def actor_of(metadata: Mapping[str, Any]) -> str | None:
    """The actor an event's metadata names (the first of ``ACTOR_KEYS`` it holds), as text."""
    for key in ACTOR_KEYS:
        value = metadata.get(key)
        if value is not None:
            return str(value)
    return None


def iso(instant: datetime | None) -> str | None:
    return None if instant is None else iso_from_instant(instant)


@dataclass(frozen=True, slots=True)
class EventRef:
    """One event as a trace lists it (and the app links to it)."""

    position: int
    stream_id: str
    version: int
    type: str
    recorded_at: datetime
    actor: str | None

    @classmethod
    def of(cls, e: RecordedEvent) -> EventRef:
        return cls(e.position, e.stream_id, e.version, e.type, e.recorded_at,
                   actor_of(e.metadata))

    def as_json(self) -> dict[str, Any]:
        """``{position, stream_id, version, type, recorded_at, actor}``."""
        return {"position": self.position, "stream_id": self.stream_id,
                "version": self.version, "type": self.type,
                "recorded_at": iso(self.recorded_at), "actor": self.actor}


def event_as_json(e: RecordedEvent) -> dict[str, Any]:
    """A whole event, as ``esaudit events --json`` prints it (``provenance`` only for an
    event another program's store recorded)."""
    out: dict[str, Any] = {"position": e.position, "stream_id": e.stream_id,
                           "stream_type": e.stream_type, "version": e.version,
                           "type": e.type, "recorded_at": iso(e.recorded_at),
                           "payload": e.payload, "metadata": e.metadata, "hash": e.hash}
    if e.provenance:
        out["provenance"] = dict(e.provenance)
    return out
