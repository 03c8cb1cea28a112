"""The time axis of a report's timeline: ticks at round instants suited to the span, each
label distinct and no more precise than the step between ticks (plain Python, no Qt).

A step is chosen from a ladder (seconds and their fractions, minutes, hours, days, weeks,
months, years) as the smallest that puts at most ``most`` ticks inside the span. Ticks sit on
round UTC instants of that step (midnight, the first of a month, Monday for weeks). Labels
say only what changes between ticks: ``14:30`` within a day (the caption names the date),
``03 Oct 12:00`` for hours over several days, ``2026-10-03`` for days, ``Oct 2026`` for
months, ``2026`` for years; within 24 hours a time of day cannot repeat, so no label does.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from ..wording import counted

MINUTE, HOUR, DAY = 60, 3600, 86_400
_FIXED = (1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02,
          0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, MINUTE, 2 * MINUTE, 5 * MINUTE,
          10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
          DAY, 2 * DAY, 7 * DAY, 14 * DAY)
_MONTHS = (1, 2, 3, 6, 12, 24, 60, 120, 240, 600, 1200)
_MONDAY = 4 * DAY  # the epoch was a Thursday: weeks are counted from the Monday after it


def _utc(t: float) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=round(t * 1e6))


def _fixed_ticks(t0: float, t1: float, step: float) -> list[float]:
    origin = _MONDAY if step >= 7 * DAY else 0.0
    first = math.ceil(round((t0 - origin) / step, 9)) * step + origin
    count = math.floor(round((t1 - first) / step, 9)) + 1 if first <= t1 else 0
    return [first + i * step for i in range(count)]


def _month_ticks(t0: float, t1: float, months: int) -> list[float]:
    start = _utc(t0)
    index = start.year * 12 + start.month - 1
    if (start.day, start.hour, start.minute, start.second, start.microsecond) != (1, 0, 0, 0, 0):
        index += 1
    index += -index % months
    ticks: list[float] = []
    while True:
        stamp = datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC).timestamp()
        if stamp > t1:
            return ticks
        ticks.append(stamp)
        index += months


def time_ticks(t0: float, t1: float, most: int = 7) -> tuple[list[float], list[str]]:
    """Tick instants (seconds since the epoch, UTC) inside ``[t0, t1]`` and their labels; one
    tick at ``t0`` with its whole instant when the span is empty."""
    if t1 <= t0:
        return [t0], [_utc(t0).strftime("%Y-%m-%d %H:%M:%S")]
    for step in _FIXED:
        if (t1 - t0) / step < most:
            ticks = _fixed_ticks(t0, t1, step)
            if len(ticks) <= most:
                return ticks, labels_for(ticks, step, t1 - t0)
    for months in _MONTHS:
        ticks = _month_ticks(t0, t1, months)
        if len(ticks) <= most or months == _MONTHS[-1]:
            break
    return ticks, labels_for(ticks, months * 31 * DAY, t1 - t0)


def labels_for(ticks: list[float], step: float, span: float) -> list[str]:
    """Each tick's label, as precise as the step and no more (see the module docstring)."""
    stamps = [_utc(t) for t in ticks]
    if step >= 365 * DAY:
        return [s.strftime("%Y") for s in stamps]
    if step >= 28 * DAY:
        return [s.strftime("%b %Y") for s in stamps]
    if step >= DAY:
        return [s.strftime("%Y-%m-%d") for s in stamps]
    if step >= MINUTE:
        fmt = "%H:%M" if span < DAY else "%d %b %H:%M"
        return [s.strftime(fmt) for s in stamps]
    if step >= 1:
        return [s.strftime("%H:%M:%S") for s in stamps]
    digits = 3 if step >= 1e-3 else 6
    return [s.strftime("%H:%M:%S.%f")[:9 + digits] for s in stamps]


def span_caption(t0: float, t1: float) -> str:
    """The span the axis covers, whole: ``2026-10-02 00:00:00 to 2026-11-25 13:58:15 UTC
    (54 days)``."""
    a, b = _utc(t0), _utc(t1)
    if t1 <= t0:
        return f"{a.strftime('%Y-%m-%d %H:%M:%S.%f')} UTC (one instant)"
    if t1 - t0 < 1:
        first = a.strftime("%Y-%m-%d %H:%M:%S.%f")
        last = b.strftime("%H:%M:%S.%f") if a.date() == b.date() else \
            b.strftime("%Y-%m-%d %H:%M:%S.%f")
    else:
        first = a.strftime("%Y-%m-%d %H:%M:%S")
        last = b.strftime("%H:%M:%S") if a.date() == b.date() else \
            b.strftime("%Y-%m-%d %H:%M:%S")
    return f"{first} to {last} UTC ({duration(t1 - t0)})"


def duration(seconds: float) -> str:
    """A span in the largest unit that keeps it whole-ish: ``54 days``, ``3 hours``."""
    if seconds >= 2 * 365.25 * DAY:
        return f"{seconds / (365.25 * DAY):.1f} years"
    for unit, size in (("day", DAY), ("hour", HOUR), ("minute", MINUTE), ("second", 1)):
        if seconds >= size:
            n = round(seconds / size)
            return counted(n, unit)
    ms = round(seconds * 1000)
    return f"{ms} ms" if ms else "under a millisecond"
