"""The data behind the timeline: every event's time, lane and colour key, without payloads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from store import EventStore


class Cancelled(Exception):
    """The user cancelled a long job; nothing was changed."""


@dataclass
class TimelineData:
    positions: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # seconds since the epoch, UTC
    stream_ids: list[str] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    stream_types: list[str] = field(default_factory=list)
    event_types: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.positions)


def load_timeline(store: EventStore, progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None) -> TimelineData:
    data = TimelineData()
    total = store.head_position()
    for page in store.iter_event_heads():
        if cancelled and cancelled():
            raise Cancelled("loading the timeline was cancelled")
        for position, stream_id, stream_type, version, type_, at in page:
            data.positions.append(position)
            data.times.append(at / 1e6)
            data.stream_ids.append(stream_id)
            data.versions.append(version)
            data.stream_types.append(stream_type)
            data.event_types.append(type_)
        if progress:
            progress(page[-1][0], total)
    return data
