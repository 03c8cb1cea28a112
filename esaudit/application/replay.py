"""Replay: the state of a stream at a version or an instant, with or without snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store import EventStore

from ..domain.errors import InvalidCommand, UnknownStream
from ..domain.folds import fold


@dataclass(frozen=True, slots=True)
class Replayed:
    stream_id: str
    stream_type: str
    version: int
    state: dict[str, Any] | None
    snapshot_version: int | None  # the snapshot the replay started from, if any

    def as_json(self) -> dict[str, Any]:
        return {"stream_id": self.stream_id, "version": self.version, "state": self.state}


class Replayer:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    def replay(self, stream_id: str, version: int | None = None, *, at: datetime | None = None,
               use_snapshots: bool = True) -> Replayed:
        """Replay to ``version`` (default: the head) or to the last event at or before ``at``."""
        info = self.store.stream(stream_id)
        if info is None:
            raise UnknownStream(f"no stream {stream_id!r} in the store")
        if version is not None and at is not None:
            raise InvalidCommand("give a version or an instant, not both")
        target = info.version if version is None else version
        if not 0 <= target <= info.version:
            raise InvalidCommand(f"stream {stream_id} has versions 1..{info.version}, "
                                 f"not {version}")
        if at is not None:
            target = self.version_at(stream_id, at)
        state: dict[str, Any] | None = None
        start = 0
        snap_version = None
        if use_snapshots and target > 0:
            snap = self.store.load_snapshot(stream_id, target)
            if snap is not None:
                state, start, snap_version = snap.state, snap.version, snap.version
        events = (self.store.read_payloads(stream_id, start + 1, target)
                  if target > start else [])
        state = fold(info.stream_type, events, state)
        return Replayed(stream_id, info.stream_type, target, state, snap_version)

    def version_at(self, stream_id: str, at: datetime) -> int:
        """The last version of the unbroken prefix of events recorded at or before ``at``."""
        version = 0
        for e in self.store.read_stream(stream_id, until=at):
            if e.version != version + 1:
                break
            version = e.version
        return version
