"""The timeline of a large store is read in two processes, and holds exactly what one reads:
every event's position, instant and names, the legend in the order the names are met."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

import esaudit.application.timeline as timeline_module
from esaudit.application.timeline import TimelineData, load_timeline
from store import ANY, NewEvent, open_store

START = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """80 events: the domain's names and others, some met only late, instants out of order."""
    p = tmp_path / "t.db"
    with open_store(p, synchronous="NORMAL") as st:
        for i in range(80):
            kind = ("Order", "Product", "Audit", "Meter")[i % 4 if i > 50 else i % 3]
            event = ("Touched", "Made", "Noted", "ReadingTaken")[i % 4 if i > 62 else i % 3]
            at = START + timedelta(minutes=(i * 37) % 80)
            st.append(f"{kind}-{i % 9}", kind, [NewEvent(event, {"i": i}, recorded_at=at)], ANY)
    return p


def _load(path: Path, monkeypatch: pytest.MonkeyPatch, split: int | None,
          page_size: int = 50_000) -> TimelineData:
    monkeypatch.setattr(timeline_module, "_split_point", lambda store, total: split)
    with open_store(path, read_only=True) as st:
        return load_timeline(st, page_size=page_size)


def _shown(data: TimelineData) -> tuple[object, ...]:
    return (data.positions.tolist(), data.times.tolist(), data.by_time.tolist(),
            [data.stream_types[c] for c in data.stream_type_codes],
            [data.event_types[c] for c in data.event_type_codes],
            data.stream_types, data.event_types, data.stream_count)


@pytest.mark.parametrize("split", [0, 1, 17, 50, 62, 79, 80])
def test_two_halves_load_what_one_process_loads(path: Path, split: int,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    alone = _load(path, monkeypatch, None)
    assert "Meter" in alone.stream_types and "ReadingTaken" in alone.event_types
    assert not np.all(np.diff(alone.times) >= 0)  # the time order is the loader's to make
    assert _shown(_load(path, monkeypatch, split, page_size=7)) == _shown(alone)


def test_a_second_process_that_fails_leaves_the_read_to_the_first(
        path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = _load(path, monkeypatch, None)
    monkeypatch.setattr(timeline_module, "_LATER_HALF", "tests.worker_fakes:exits_at_once")
    assert _shown(_load(path, monkeypatch, 30, page_size=7)) == _shown(alone)


def test_only_a_large_sqlite_store_of_esaudits_is_split(
        path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(path, read_only=True) as st:
        assert timeline_module._split_point(st, 80) is None  # below PARALLEL_FROM
        monkeypatch.setattr(timeline_module, "PARALLEL_FROM", 50)
        assert timeline_module._split_point(st, 80) == (80 + 200_000) // 2
        seen: list[int | None] = []
        real = timeline_module._split_point
        monkeypatch.setattr(timeline_module, "_split_point",
                            lambda store, total: seen.append(real(store, total)) or seen[-1])
        first = load_timeline(st)
        load_timeline(st, base=first)  # a reload reads only what is new: never split
    assert seen == [(80 + 200_000) // 2]
