"""Following a history as another program appends to it.

A ``Follower`` remembers the last position it handed out; each ``poll`` refreshes the source
(a foreign source's reads are a cut: ``refresh`` takes a new one, cheaply when nothing was
committed) and reads what lies beyond. Polling every half second costs one small query while
the store is idle. ``follow`` is the same as a loop, for the command line.

Where positions may become visible out of order (``Capabilities.ordered`` false: Emmett draws
them from a sequence before its transactions commit), each poll reads again the last
``LATE_WINDOW`` positions and hands out only those it has not handed out before, so a
transaction that commits after a later one is still shown (once), if it lands within that
window.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

from store import RecordedEvent, Source

POLL_S = 0.5
LATE_WINDOW = 1_000


class Follower:
    """New events of one source, in position order, from a position on."""

    def __init__(self, store: Source, *, event_types: Sequence[str] | None = None,
                 after_position: int | None = None) -> None:
        self.store = store
        self.event_types = None if event_types is None else tuple(event_types)
        self.position = store.head_position() if after_position is None else after_position
        """The highest position handed out (or the head when following began)."""
        self._seen: set[int] = set()
        """Positions handed out (or there when following began) within the late window."""
        self._count: int | None = None
        if not store.capabilities.ordered:
            self._count = store.counts()[0]
            self._seen = {h[0] for page in store.iter_event_heads(
                max(0, self.position - LATE_WINDOW), to_position=self.position) for h in page}

    def poll(self) -> list[RecordedEvent]:
        """The events committed since the last poll (matching the types asked for)."""
        self.store.refresh()
        head = self.store.head_position()
        ordered = self.store.capabilities.ordered
        count = None if ordered else self.store.counts()[0]  # a late commit adds to it
        if head <= self.position and count == self._count:
            return []
        self._count = count
        start = self.position if ordered else max(0, self.position - LATE_WINDOW)
        fresh = [e for e in self.store.iter_events(start, to_position=head)
                 if e.position not in self._seen]
        if not ordered:
            self._seen.update(e.position for e in fresh)
            self._seen = {p for p in self._seen if p > head - 2 * LATE_WINDOW}
        self.position = max(self.position, head)
        kinds = self.event_types
        return [e for e in fresh if kinds is None or e.type in kinds]


def history_mark(store: Source) -> tuple[int, int]:
    """What moves when another program commits, after a refresh: (head position, event
    count where positions may commit out of order, else 0). One small query on an idle store
    (a foreign source keeps its cut when it sees nothing new), so a window may ask every
    second."""
    store.refresh()
    head = store.head_position()
    return head, 0 if store.capabilities.ordered else store.counts()[0]


def follow(store: Source, *, event_types: Sequence[str] | None = None,
           after_position: int | None = None, poll_s: float = POLL_S,
           stopped: Callable[[], bool] = lambda: False,
           sleep: Callable[[float], None] = time.sleep) -> Iterator[RecordedEvent]:
    """Events as they commit after a position (default: the head now) until ``stopped()``
    (or the caller stops reading: the command line runs until interrupted)."""
    follower = Follower(store, event_types=event_types, after_position=after_position)
    while not stopped():
        events = follower.poll()
        yield from events
        if not events:
            sleep(poll_s)
