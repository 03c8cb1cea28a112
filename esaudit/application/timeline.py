"""The data behind the timeline: every event's time, lane and colour key, without payloads.

Columns of numbers, not rows of objects: a million events are ~30 MB of arrays, and every
strip the view needs (a time range, one stream's events) is a vectorised slice. Names (stream
types, event types) are stored once and referred to by code.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np

from esaudit.domain.events import ORDER, ORDER_EVENT_TYPES, PRODUCT, PRODUCT_EVENT_TYPES
from store import NotAsWritten, Source, open_store
from store.gcpause import collector_paused
from store.timeline_minutes import MINUTE_US

from .investigate.tail import LATE_WINDOW
from .jobs import Cancelled

STREAM_TYPES = (ORDER, PRODUCT)
EVENT_TYPES = ORDER_EVENT_TYPES + PRODUCT_EVENT_TYPES


def _empty(dtype: type) -> np.ndarray:
    return np.zeros(0, dtype=dtype)


@dataclass
class TimelineData:
    positions: np.ndarray = field(default_factory=lambda: _empty(np.int64))  # ascending
    times: np.ndarray = field(default_factory=lambda: _empty(np.float64))  # s since epoch, UTC
    stream_type_codes: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    event_type_codes: np.ndarray = field(default_factory=lambda: _empty(np.int32))
    # event indexes in time order: sorting a million times is done by the loader, off the GUI
    by_time: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    stream_types: list[str] = field(default_factory=list)  # code -> name
    event_types: list[str] = field(default_factory=list)
    stream_count: int = 0
    _codes: dict[str, dict[str, int]] = field(default_factory=lambda: {
        "stream_type": {}, "event_type": {}})
    # events per (minute, stream type, event type) up to a position, where the load was asked
    # for them (``minutes_upto``): counted from the integer microseconds, which ``times``
    # holds only to a float's precision
    minute_counts: dict[tuple[int, str, str], int] | None = None

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def last_position(self) -> int:
        return int(self.positions[-1]) if len(self.positions) else 0

    def copy(self) -> TimelineData:
        """A copy that a loader may extend while the original is on screen (arrays are never
        changed in place, only replaced, so they are shared)."""
        return TimelineData(
            self.positions, self.times, self.stream_type_codes, self.event_type_codes,
            self.by_time, list(self.stream_types), list(self.event_types), self.stream_count,
            {k: dict(v) for k, v in self._codes.items()})

    def keep_through(self, position: int) -> None:
        """Drop the events after ``position`` (to read them again)."""
        end = int(np.searchsorted(self.positions, position, side="right"))
        if end == len(self.positions):
            return
        self.positions, self.times = self.positions[:end], self.times[:end]
        self.stream_type_codes = self.stream_type_codes[:end]
        self.event_type_codes = self.event_type_codes[:end]
        self.by_time = np.argsort(self.times, kind="stable")

    def index_of(self, position: int) -> int | None:
        i = int(np.searchsorted(self.positions, position))
        if i < len(self.positions) and self.positions[i] == position:
            return i
        return None

    def indexes_of(self, positions: list[int]) -> np.ndarray:
        """Indexes of those of ``positions`` that are loaded (a selected stream's events)."""
        wanted = np.asarray(positions, dtype=np.int64)
        found = np.searchsorted(self.positions, wanted)
        inside = found < len(self.positions)
        found, wanted = found[inside], wanted[inside]
        loaded: np.ndarray = found[self.positions[found] == wanted]
        return loaded


class _Names:
    """One kind of name (stream types or event types) while a load runs: ``candidates`` is
    what the database is asked to turn into codes (names already met, then the domain's own),
    ``names`` only those that really occur, in the order met (the legend's)."""

    def __init__(self, names: list[str], codes: dict[str, int], expected: tuple[str, ...]):
        self.names, self.codes = names, codes
        self.candidates = [*names, *(n for n in expected if n not in codes)]

    def code(self, name: str) -> int:
        code = self.codes.get(name)
        if code is None:
            code = self.codes[name] = len(self.names)
            self.names.append(name)
        if name not in self.candidates:
            self.candidates.append(name)
        return code

    def decode(self, raw: np.ndarray, names: list[str]) -> np.ndarray:
        """Our codes for a read's (k: ``names[k - 1]``, every k at least 1: ``_read``)."""
        table = np.zeros(len(names) + 1, dtype=np.int32)
        codes, first = np.unique(raw, return_index=True)
        for k in codes[np.argsort(first)]:  # in the order met: the legend's
            table[k] = self.code(names[k - 1])
        out: np.ndarray = table[raw]
        return out


PARALLEL_FROM = 1_000_000
"""A SQLite store of esaudit's with this many positions or more has its later half read by a
second process, on the second core."""


def _split_point(store: Source, total: int) -> int | None:
    """Where the second process takes over, or None to read alone (it needs ~0.3 s to start,
    so it gets that much less than half)."""
    if (total < PARALLEL_FROM or store.sqlite_path is None
            or store.identity.kind != "esaudit" or (os.cpu_count() or 1) < 2):
        return None
    return (total + 200_000) // 2


def load_timeline(store: Source, progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None,
                  base: TimelineData | None = None, page_size: int = 50_000,
                  minutes_upto: int | None = None) -> TimelineData:
    """Every event's timeline columns; with ``base``, only the events after it are read and
    appended (a command adds a few events to a million: the rest is not read again). With
    ``minutes_upto`` (and no ``base``), ``minute_counts`` counts the events up to that
    position, to check counts drawn before the events (``timeline_overview``).

    Where positions may become visible out of order (``Capabilities.ordered`` false), the
    last ``LATE_WINDOW`` positions of ``base`` are read again, and if the events then number
    fewer than the source holds, one committed later still, further back, and everything is
    read again: the timeline never leaves out an event the source shows.

    Stream ids are not loaded: a selected stream's events are found by position
    (``Source.positions_of``), which keeps a million-event store's open under a second. A
    large SQLite store of esaudit's has its later positions read by a second process
    meanwhile (``read_later_half``): Python's turn per row is most of the load.
    """
    if cancelled and cancelled():
        raise Cancelled("loading the timeline was cancelled")
    data = TimelineData() if base is None else base.copy()
    tally: dict[tuple[int, str, str], int] | None = (
        {} if minutes_upto is not None and base is None else None)
    unordered = base is not None and not store.capabilities.ordered
    if unordered:
        data.keep_through(max(0, data.last_position - LATE_WINDOW))
    total = store.head_position()
    split = _split_point(store, total) if base is None else None
    mid = total if split is None else split
    kinds = (_Names(data.stream_types, data._codes["stream_type"], STREAM_TYPES),
             _Names(data.event_types, data._codes["event_type"], EVENT_TYPES))
    parts: list[tuple[np.ndarray, ...]] = []
    half = None
    if split is not None:
        from store.two_process import SecondProcess
        half = SecondProcess.start(_LATER_HALF, (
            str(store.sqlite_path), split, total, list(kinds[0].candidates),
            list(kinds[1].candidates), page_size))

    def report(position: int) -> None:
        if progress:  # both halves advance together: this one's share stands for both
            progress(min(position * total // max(mid, 1), total), total)

    try:
        with collector_paused():  # a million row tuples, no cycles: see store.gcpause
            reads = [_read(store, data.last_position, None if split is None else mid,
                           kinds[0].candidates, kinds[1].candidates, page_size, report,
                           cancelled)]
            if half is not None:
                reads.append(half.result(here=lambda: _read(
                    store, mid, total, kinds[0].candidates, kinds[1].candidates, page_size,
                    None, cancelled)))
            for flat, stream_types, event_types in reads:
                block = np.frombuffer(flat, dtype=np.int64).reshape(-1, 4)
                if len(block):
                    parts.append((block[:, 0], block[:, 1] / 1e6,
                                  kinds[0].decode(block[:, 2], stream_types),
                                  kinds[1].decode(block[:, 3], event_types)))
                    if tally is not None and minutes_upto is not None:
                        upto = block[:, 0] <= minutes_upto
                        _count_minutes(tally, block[upto, 1], parts[-1][2][upto],
                                       parts[-1][3][upto], data.stream_types, data.event_types)
    finally:
        if half is not None:
            half.stop()
    if parts:
        columns = ("positions", "times", "stream_type_codes", "event_type_codes")
        for k, name in enumerate(columns):
            setattr(data, name, np.concatenate([getattr(data, name), *(p[k] for p in parts)]))
        data.by_time = np.argsort(data.times, kind="stable")
    data.minute_counts = tally
    events, data.stream_count = store.counts()
    if unordered and len(data) != events:
        return load_timeline(store, progress, cancelled, None, page_size, minutes_upto)
    return data


def _count_minutes(tally: dict[tuple[int, str, str], int], recorded_at_us: np.ndarray,
                   stream_codes: np.ndarray, event_codes: np.ndarray, stream_types: list[str],
                   event_types: list[str]) -> None:
    """Add events to ``tally`` by (minute, stream type, event type): one sort of their keys."""
    if not len(recorded_at_us):
        return
    minutes = recorded_at_us // MINUTE_US  # numpy floors, as the import's ``//`` does
    width = max(len(event_types), 1)
    kinds = max(len(stream_types), 1) * width
    if max(-int(minutes.min()), int(minutes.max())) < 2**62 // kinds:
        keys = minutes * kinds + stream_codes.astype(np.int64) * width + event_codes
        found, numbers = np.unique(keys, return_counts=True)
        triples = [(k // kinds, k % kinds // width, k % width, n)
                   for k, n in zip(found.tolist(), numbers.tolist(), strict=True)]
    else:  # minutes so far out (edited rows) that one integer key could overflow
        stacked = np.stack([minutes, stream_codes.astype(np.int64),
                            event_codes.astype(np.int64)], axis=1)
        found2, numbers = np.unique(stacked, axis=0, return_counts=True)
        triples = [(m, st, et, n) for (m, st, et), n in zip(found2.tolist(), numbers.tolist(),
                                                            strict=True)]
    for minute, st, et, n in triples:
        key = (minute, stream_types[st], event_types[et])
        tally[key] = tally.get(key, 0) + n


def _up_to(pages: Iterable[list[tuple[int, int, int, int]]], to: int | None,
           ) -> Iterator[list[tuple[int, int, int, int]]]:
    """The pages' rows up to position ``to`` (all of them without one)."""
    for page in pages:
        if to is not None and page[-1][0] > to:
            kept = [row for row in page if row[0] <= to]
            if kept:
                yield kept
            return
        yield page


def _names_at(store: Source, first: int, last: int) -> Iterator[tuple[int, str, str]]:
    """(position, stream type, event type) of the events from ``first`` to ``last``."""
    for heads in store.iter_event_heads(first - 1, to_position=last):
        for position, _sid, stream_type, _version, type_, _at in heads:
            yield position, stream_type, type_


def _not_as_written(page: Iterable[tuple[Any, ...]]) -> NotAsWritten:
    """The error for a page holding a row no writer of esaudit's can have written: named by
    position, with where to find out more, not a traceback."""
    for position, at, *_codes in page:
        if type(position) is not int or type(at) is not int or not -2**63 <= at < 2**63:
            return NotAsWritten(f"the event at position {position!r} holds a time esaudit never "
                              f"writes ({at!r}): it was changed after it was written; "
                              "esaudit verify names every such event")
    return NotAsWritten("an event holds a value esaudit never writes; esaudit verify names it")


def _read(store: Source, after: int, to: int | None, stream_types: list[str],
          event_types: list[str], page_size: int,
          progress: Callable[[int], None] | None = None,
          cancelled: Callable[[], bool] | None = None,
          ) -> tuple[array[int] | bytes, list[str], list[str]]:
    """Positions ``after+1..to`` (to the end without ``to``) as flat int64 columns (position,
    recorded_at_us, stream type code, event type code) of each event, with the names the
    codes stand for (code k: the list's k-1st).

    The database turns the names into codes (``iter_event_codes``); a name met for the first
    time reads as 0, is looked up by position and joins its list, so it has a code from the
    next page on and every code returned is one of the lists'."""
    kinds = (list(stream_types), list(event_types))
    flat = array("q")
    for page in _up_to(store.iter_event_codes(kinds[0], kinds[1], after_position=after,
                                              page_size=page_size), to):
        if cancelled and cancelled():
            raise Cancelled("loading the timeline was cancelled")
        start = len(flat)
        try:
            flat.extend(chain.from_iterable(page))
        except (TypeError, OverflowError):
            raise _not_as_written(page) from None
        if progress:
            progress(page[-1][0])
        if 0 not in flat[start + 2::4] and 0 not in flat[start + 3::4]:
            continue
        unknown = [i for i, row in enumerate(page) if not row[2] or not row[3]]
        names = {position: (stream_type, type_) for position, stream_type, type_
                 in _names_at(store, page[unknown[0]][0], page[unknown[-1]][0])}
        for i in unknown:
            for column, kind, name in zip((2, 3), kinds, names[page[i][0]], strict=True):
                if name not in kind:
                    kind.append(name)
                flat[start + 4 * i + column] = kind.index(name) + 1
    return flat, kinds[0], kinds[1]


def read_later_half(job: tuple[Any, ...]) -> Iterator[tuple[bytes, list[str], list[str]]]:
    """The second process's work (``store.two_process``): the later half of a SQLite file."""
    path, after, to, stream_types, event_types, page_size = job
    with open_store(path, read_only=True) as store:
        flat, stream_types, event_types = _read(store, after, to, stream_types, event_types,
                                                page_size)
        yield bytes(flat), stream_types, event_types


_LATER_HALF = "esaudit.application.timeline:read_later_half"


def event_version_at(store: Source, position: int) -> tuple[str, int] | None:
    """(stream id, version) of the event at a position (a clicked mark), None if none."""
    for page in store.iter_event_heads(position - 1, page_size=1, to_position=position):
        return page[0][1], page[0][3]
    return None
