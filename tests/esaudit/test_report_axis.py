"""The report timeline's time axis: ticks on round instants, labels distinct and suited to the
span (the function itself; the picture is drawn by ``reporting.chart``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from esaudit.reporting.axis import DAY, HOUR, duration, span_caption, time_ticks

START = datetime(2026, 10, 2, 13, 19, 43, 250_000, tzinfo=UTC).timestamp()

SPANS = {  # span in seconds -> the pattern every label of it has
    0.3: r"13:19:43\.\d{3}",
    4: r"13:19:4\d",
    47: r"13:\d\d:\d\d",
    600: r"13:\d\d",
    3 * HOUR: r"1\d:\d\d",
    20 * HOUR: r"\d\d:\d\d",
    2.5 * DAY: r"0\d Oct \d\d:00",
    9 * DAY: r"2026-10-\d\d",
    54 * DAY: r"2026-1\d-\d\d",
    400 * DAY: r"[A-Z][a-z]{2} 202[67]",
    30 * 365 * DAY: r"20\d\d",
}


@pytest.mark.parametrize("span", list(SPANS))
def test_labels_are_distinct_inside_the_span_and_as_precise_as_the_step(span: float) -> None:
    ticks, labels = time_ticks(START, START + span)
    assert 2 <= len(ticks) <= 7
    assert len(set(labels)) == len(labels), labels
    assert all(START <= t <= START + span for t in ticks)
    assert all(re.fullmatch(SPANS[span], label) for label in labels), labels


def test_a_short_span_gets_seconds_not_five_copies_of_one_minute() -> None:
    ticks, labels = time_ticks(START, START + 40)
    assert labels == ["13:19:50", "13:20:00", "13:20:10", "13:20:20"]
    assert ticks[1] - ticks[0] == 10


def test_hours_across_midnight_within_a_day_stay_distinct() -> None:
    _, labels = time_ticks(START, START + 20 * HOUR)
    assert labels == ["15:00", "18:00", "21:00", "00:00", "03:00", "06:00", "09:00"]


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    ticks, _ = time_ticks(START, START + 40 * DAY)
    assert {datetime.fromtimestamp(t, UTC).weekday() for t in ticks} == {0}
    ticks, labels = time_ticks(START, START + 120 * DAY)
    assert labels == ["Nov 2026", "Dec 2026", "Jan 2027"]
    assert {datetime.fromtimestamp(t, UTC).day for t in ticks} == {1}


def test_one_instant_is_one_whole_label() -> None:
    assert time_ticks(START, START) == ([START], ["2026-10-02 13:19:43"])
    assert span_caption(START, START) == "2026-10-02 13:19:43.250000 UTC (one instant)"


def test_the_caption_names_the_whole_span() -> None:
    assert span_caption(START, START + 54 * DAY) == \
        "2026-10-02 13:19:43 to 2026-11-25 13:19:43 UTC (54 days)"
    assert span_caption(START, START + 90) == "2026-10-02 13:19:43 to 13:21:13 UTC (2 minutes)"
    assert duration(1) == "1 second" and duration(3 * 365.25 * DAY) == "3.0 years"
