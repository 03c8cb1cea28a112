"""The counts the app draws of a big store before its events (``load_overview``): exactly the
events per minute and lane, the events after the counts included, and nothing where the
counts do not add up."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from esaudit.application import timeline_overview
from esaudit.application.timeline import load_timeline
from esaudit.application.timeline_overview import MINUTE_S, load_overview, minutes_differing
from esaudit.application.transfer import import_history
from store import ANY, NewEvent, open_store
from store.hashing import iso_from_us
from store.timeline_minutes import MINUTE_US
from tests.store.test_timeline_minutes import _grouped, _history


def imported_store(folder: Path, monkeypatch: pytest.MonkeyPatch, streams: int, per: int,
                   step_us: int) -> str:
    """A store of one import, which the app then counts as big enough to open on its counts
    (and its counts as few enough: a small history has about as many minutes as events)."""
    monkeypatch.setattr(timeline_overview, "OVERVIEW_FROM", 1)
    monkeypatch.setattr(timeline_overview, "COMPRESSION", 1)
    path = str(folder / "big.db")
    with open_store(path) as st:
        import_history(st, _history(folder / "a.jsonl", "a", streams, per, step_us))
    return path


@pytest.fixture
def imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return imported_store(tmp_path, monkeypatch, 5, 60, 9_000_000)


def _drawn(overview: timeline_overview.TimelineOverview) -> dict[tuple[int, str, str], int]:
    return {(int(m), overview.stream_types[s], overview.event_types[e]): int(n)
            for m, s, e, n in zip(overview.minutes, overview.stream_type_codes,
                                  overview.event_type_codes, overview.counts, strict=True)}


def test_the_overview_is_the_events_counted_per_minute_and_lane(imported: str) -> None:
    with open_store(imported, read_only=True) as st:
        overview = load_overview(st)
    assert overview is not None
    assert (overview.events, overview.stream_count) == (300, 5)
    assert _drawn(overview) == _grouped(imported)
    assert overview.stream_types == ["Meter", "Order"]  # the order first met in time
    assert np.all(np.diff(overview.minutes) >= 0)
    assert np.array_equal(overview.starts, overview.minutes * MINUTE_S)
    first, last = overview.time_span()
    assert first <= 1_767_225_600 < first + MINUTE_S and last > first


def test_events_appended_after_the_counts_are_counted_from_the_events(imported: str) -> None:
    with open_store(imported) as st:
        st.append("a-1", "Order", [NewEvent("LineAdded", {"i": 1})], ANY)
        st.append("z-1", "Parcel", [NewEvent("Shipped", {"i": 2})], ANY)
        overview = load_overview(st)
    assert overview is not None and overview.events == 302 and overview.stream_count == 6
    assert _drawn(overview) == _grouped(imported)
    assert "Parcel" in overview.stream_types and "Shipped" in overview.event_types


@pytest.mark.parametrize("edit", [
    "UPDATE events SET recorded_at = 'noon' WHERE position = 301",
    "UPDATE events SET type = x'00ff' WHERE position = 301",
])
def test_an_event_after_the_counts_holding_a_value_esaudit_never_writes_means_no_overview(
        imported: str, edit: str) -> None:
    with open_store(imported) as st:
        st.append("a-1", "Order", [NewEvent("LineAdded", {"i": 1})], ANY)
    with sqlite3.connect(imported) as conn:
        conn.execute(edit)
    with open_store(imported, read_only=True) as st:
        assert load_overview(st) is None  # the events are drawn instead, as for any edit


def test_no_overview_below_the_size_or_with_too_many_events_after_the_counts(
        imported: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(imported) as st:
        monkeypatch.setattr(timeline_overview, "OVERVIEW_FROM", 301)
        assert load_overview(st) is None
        monkeypatch.setattr(timeline_overview, "OVERVIEW_FROM", 1)
        monkeypatch.setattr(timeline_overview, "TAIL_LIMIT", 0)
        assert load_overview(st) is not None
        st.append("a-1", "Order", [NewEvent("LineAdded", {"i": 1})], ANY)
        assert load_overview(st) is None


def test_counts_that_do_not_add_up_to_the_events_are_not_drawn(imported: str) -> None:
    with sqlite3.connect(imported) as conn:
        conn.execute("DELETE FROM events WHERE position = 17")
    with open_store(imported, read_only=True) as st:
        assert load_overview(st) is None


def test_a_store_built_by_appends_has_no_overview(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timeline_overview, "OVERVIEW_FROM", 1)
    with open_store(tmp_path / "appended.db") as st:
        for i in range(3):
            st.append(f"s-{i}", "Order", [NewEvent("LineAdded", {"i": i})], ANY)
        monkeypatch.setattr(timeline_overview, "TAIL_LIMIT", 2)
        assert load_overview(st) is None


def _move_one_event(path: str) -> None:
    """Counts that still add up but are wrong: one event moved from the first minute to the
    last, as an edit behind the store's back could."""
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE timeline_minutes SET events = events - 1 WHERE rowid = "
                     "(SELECT rowid FROM timeline_minutes ORDER BY minute LIMIT 1)")
        conn.execute("UPDATE timeline_minutes SET events = events + 1 WHERE rowid = "
                     "(SELECT rowid FROM timeline_minutes ORDER BY minute DESC LIMIT 1)")


def test_the_events_read_check_the_counts_that_were_drawn(imported: str) -> None:
    with open_store(imported) as st:
        overview = load_overview(st)
        assert overview is not None and overview.head == 300
        st.append("a-1", "Order", [NewEvent("LineAdded", {"i": 1})], ANY)  # after the counts
        assert minutes_differing(overview, load_timeline(st, minutes_upto=300)) == 0
    _move_one_event(imported)
    with open_store(imported, read_only=True) as st:
        wrong = load_overview(st)
        assert wrong is not None and wrong.events == 301  # it adds up: it is drawn
        assert minutes_differing(wrong, load_timeline(st, minutes_upto=301)) == 2


def _check(path: str) -> int:
    with open_store(path, read_only=True) as st:
        overview = load_overview(st)
        assert overview is not None
        return minutes_differing(overview, load_timeline(st, minutes_upto=overview.head))


@pytest.mark.parametrize("instants_us", [
    # a microsecond either side of minute boundaries, where a float of seconds is too coarse
    [253_402_300_799_999_999, 253_402_300_740_000_000, 253_402_300_739_999_999],  # 9999-12-31
    [10_413_792_059_999_999, 10_413_792_060_000_000, 10_413_792_060_000_001],  # year 2300
    [-60_000_001, -60_000_000, -1, 0, 59_999_999],  # around 1970, before and after
])
def test_the_check_counts_minutes_as_the_import_does_at_any_instant(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instants_us: list[int]) -> None:
    monkeypatch.setattr(timeline_overview, "OVERVIEW_FROM", 1)
    monkeypatch.setattr(timeline_overview, "COMPRESSION", 1)
    lines = [json.dumps({"stream_id": f"s-{i}", "stream_type": "Thing", "version": 1,
                         "type": "Touched", "recorded_at": iso_from_us(at), "payload": {},
                         "metadata": {}}) for i, at in enumerate(instants_us)]
    (tmp_path / "h.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    path = str(tmp_path / "s.db")
    with open_store(path) as st:
        import_history(st, tmp_path / "h.jsonl")
    assert _check(path) == 0
    with open_store(path, read_only=True) as st:
        overview = load_overview(st)
    assert overview is not None and _drawn(overview) == _grouped(path)
    assert len(_grouped(path)) == len({at // MINUTE_US for at in instants_us})


def test_an_import_committed_while_the_overview_is_read_is_not_taken_for_tampering(
        imported: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(imported) as st:
        counts_of = st.timeline_minutes

        def import_meanwhile(max_rows: int | None = None) -> object:
            found = counts_of(max_rows)
            with open_store(imported) as other:  # another process's import, committed now
                import_history(other, _history(tmp_path / "b.jsonl", "b", 2, 10, 9_000_000))
            return found

        monkeypatch.setattr(st, "timeline_minutes", import_meanwhile)
        overview = load_overview(st)
        assert overview is not None and overview.events == 320 and overview.head == 320
        assert minutes_differing(overview, load_timeline(st, minutes_upto=overview.head)) == 0


def test_counts_that_take_more_rows_than_a_tenth_of_the_events_are_not_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sparse = imported_store(tmp_path, monkeypatch, 2, 10, 3_600_000_000)  # one an hour
    with open_store(sparse, read_only=True) as st:
        assert load_overview(st) is not None
        monkeypatch.setattr(timeline_overview, "COMPRESSION", 2)  # 20 rows for 20 events
        assert st.timeline_minutes() is not None and st.timeline_minutes(10) is None
        assert st.timeline_minutes(20) is not None
        assert load_overview(st) is None


def test_a_wrong_lane_in_one_minute_is_one_minute_wrong(imported: str) -> None:
    with sqlite3.connect(imported) as conn:
        minute = conn.execute("SELECT minute FROM timeline_minutes GROUP BY minute "
                              "HAVING count(*) = 2 LIMIT 1").fetchone()[0]
        conn.execute("UPDATE timeline_minutes SET events = events + 1 WHERE minute = ? AND "
                     "stream_type = 'Meter'", (minute,))
        conn.execute("UPDATE timeline_minutes SET events = events - 1 WHERE minute = ? AND "
                     "stream_type = 'Order'", (minute,))
    assert _check(imported) == 1
