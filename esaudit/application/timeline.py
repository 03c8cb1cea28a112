"""The data behind the timeline: every event's time, lane and colour key, without payloads.

Columns of numbers, not rows of objects: a million events are ~30 MB of arrays, and every
strip the view needs (a time range, one stream's events) is a vectorised slice. Names (stream
ids, stream types, event types) are stored once and referred to by code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from store import EventStore


class Cancelled(Exception):
    """The user cancelled a long job; nothing was changed."""


def _empty(dtype: type) -> np.ndarray:
    return np.zeros(0, dtype=dtype)


@dataclass
class TimelineData:
    positions: np.ndarray = field(default_factory=lambda: _empty(np.int64))  # ascending
    times: np.ndarray = field(default_factory=lambda: _empty(np.float64))  # s since epoch, UTC
    stream_codes: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    versions: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    stream_type_codes: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    event_type_codes: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    # event indexes in time order: sorting a million times is done by the loader, off the GUI
    by_time: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    stream_ids: list[str] = field(default_factory=list)  # code -> name
    stream_types: list[str] = field(default_factory=list)
    event_types: list[str] = field(default_factory=list)
    _codes: dict[str, dict[str, int]] = field(default_factory=lambda: {
        "stream": {}, "stream_type": {}, "event_type": {}})

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def last_position(self) -> int:
        return int(self.positions[-1]) if len(self.positions) else 0

    def stream_code(self, stream_id: str) -> int | None:
        return self._codes["stream"].get(stream_id)

    def copy(self) -> TimelineData:
        """A copy that a loader may extend while the original is on screen (arrays are never
        changed in place, only replaced, so they are shared)."""
        return TimelineData(
            self.positions, self.times, self.stream_codes, self.versions,
            self.stream_type_codes, self.event_type_codes, self.by_time, list(self.stream_ids),
            list(self.stream_types), list(self.event_types),
            {k: dict(v) for k, v in self._codes.items()})

    def index_of(self, position: int) -> int | None:
        i = int(np.searchsorted(self.positions, position))
        if i < len(self.positions) and self.positions[i] == position:
            return i
        return None


def _encode(values: tuple[str, ...], codes: dict[str, int], names: list[str]) -> np.ndarray:
    out = np.empty(len(values), dtype=np.int32)
    get = codes.get
    for i, value in enumerate(values):
        code = get(value)
        if code is None:
            code = codes[value] = len(names)
            names.append(value)
        out[i] = code
    return out


def load_timeline(store: EventStore, progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None,
                  base: TimelineData | None = None) -> TimelineData:
    """Every event's timeline columns; with ``base``, only the events after it are read and
    appended (a command adds a few events to a million: the rest is not read again)."""
    data = TimelineData() if base is None else base.copy()
    total = store.head_position()
    parts: list[tuple[np.ndarray, ...]] = []
    codes = data._codes
    for page in store.iter_event_heads(after_position=data.last_position, page_size=50_000):
        if cancelled and cancelled():
            raise Cancelled("loading the timeline was cancelled")
        positions, stream_ids, stream_types, versions, types, ats = zip(*page, strict=True)
        n = len(positions)
        parts.append((
            np.fromiter(positions, np.int64, n),
            np.fromiter(ats, np.float64, n) / 1e6,
            _encode(stream_ids, codes["stream"], data.stream_ids),
            np.fromiter(versions, np.int64, n),
            _encode(stream_types, codes["stream_type"], data.stream_types),
            _encode(types, codes["event_type"], data.event_types),
        ))
        if progress:
            progress(int(positions[-1]), total)
    if parts:
        columns = ("positions", "times", "stream_codes", "versions", "stream_type_codes",
                   "event_type_codes")
        for k, name in enumerate(columns):
            setattr(data, name, np.concatenate([getattr(data, name), *(p[k] for p in parts)]))
        data.by_time = np.argsort(data.times, kind="stable")
    return data
