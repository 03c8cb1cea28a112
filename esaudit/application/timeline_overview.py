"""What the timeline draws of a big store while it reads the events: the store's own count of
events per minute, stream type and event type (``store.timeline_minutes``).

Reading every event's columns takes about a second per million events and core, so on a store
of millions the app draws these counts first, a density at a minute's resolution, and replaces
them with the events once it has read them. Counts that do not add up to the events the store
holds (rows edited or deleted behind the store's back) are not drawn: the app then waits for the
events, as it does for every source that keeps no counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from store import Source
from store.timeline_minutes import MINUTE_US, count_events

from .timeline import TimelineData

MINUTE_S = MINUTE_US / 1e6
"""The counts' resolution, in seconds."""

OVERVIEW_FROM = 1_000_000
"""Positions from which the app draws the counts first (below, the events take a second)."""

TAIL_LIMIT = 200_000
"""Events after the counts' last position that are counted here, from the events; a store with
more has its counts left aside (it was written by appends, which do not count)."""


COMPRESSION = 10
"""Events per count row at least: counts of a history spread so thinly over its minutes that
they are not a tenth of its events would take as long to read as the events themselves."""


@dataclass(frozen=True)
class TimelineOverview:
    """Counts of events per minute and lane, in columns (one entry per minute, stream type
    and event type with events)."""

    minutes: np.ndarray  # int64: recorded_at_us // MINUTE_US, as the store counts them
    starts: np.ndarray  # float64: each minute's first second since the epoch, UTC (drawing)
    stream_type_codes: np.ndarray  # int32, into stream_types
    event_type_codes: np.ndarray  # int32, into event_types
    counts: np.ndarray  # int64: events in that minute of that stream type and event type
    stream_types: list[str]  # in the order first met in time, as the legend lists them
    event_types: list[str]
    events: int
    stream_count: int
    head: int  # the last position the counts stand for

    def time_span(self) -> tuple[float, float]:
        """From the first counted minute's start to the last one's end."""
        return float(self.starts[0]), float(self.starts[-1]) + MINUTE_S


def load_overview(store: Source) -> TimelineOverview | None:
    """The counts of a store of ``OVERVIEW_FROM`` positions or more that keeps them, with the
    events after them counted here; None where there are none to draw, or they do not add up
    to the store's events."""
    size = store.head_position()
    if size < OVERVIEW_FROM:
        return None
    found = store.timeline_minutes(max_rows=size // COMPRESSION)
    # The head is read after the counts: an import committed between the two is then read as
    # events after the counts, and one committed after both makes the sum below disagree.
    head = store.head_position()
    if found is None or not 0 <= head - found.through <= TAIL_LIMIT:
        return None
    tally = count_events(
        ((at, stream_type, type_)
         for page in store.iter_event_heads(found.through, to_position=head)
         for _position, _sid, stream_type, _version, type_, at in page),
        {(row.minute, row.stream_type, row.type): row.events for row in found.rows})
    if tally is None:
        return None
    events, stream_count = store.counts()
    if not tally or sum(tally.values()) != events:
        return None
    keys = sorted(tally)
    stream_types: dict[str, int] = {}
    event_types: dict[str, int] = {}
    minutes = np.fromiter((k[0] for k in keys), dtype=np.int64, count=len(keys))
    stream_codes = np.fromiter((stream_types.setdefault(k[1], len(stream_types)) for k in keys),
                               dtype=np.int32, count=len(keys))
    event_codes = np.fromiter((event_types.setdefault(k[2], len(event_types)) for k in keys),
                              dtype=np.int32, count=len(keys))
    return TimelineOverview(
        minutes, minutes * MINUTE_S, stream_codes, event_codes,
        np.fromiter((tally[k] for k in keys), dtype=np.int64, count=len(keys)),
        list(stream_types), list(event_types), events, stream_count, head)


def minutes_differing(overview: TimelineOverview, data: TimelineData) -> int:
    """In how many minutes the counts drawn got any stream type's or event type's number
    wrong, against the events read up to the same position (``load_timeline`` with
    ``minutes_upto=overview.head``): 0 where they showed exactly what the events show.

    Run once the events are read, off the GUI thread, so that counts edited behind the store's
    back are found out, not silently replaced."""
    if data.minute_counts is None:
        raise ValueError("the events were read without counting their minutes")
    read = data.minute_counts
    drawn = {(m, overview.stream_types[st], overview.event_types[et]): n
             for m, st, et, n in zip(overview.minutes.tolist(),
                                     overview.stream_type_codes.tolist(),
                                     overview.event_type_codes.tolist(),
                                     overview.counts.tolist(), strict=True)}
    return len({key[0] for key in read.keys() | drawn.keys() if read.get(key) != drawn.get(key)})
