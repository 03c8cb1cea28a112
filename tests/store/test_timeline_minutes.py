"""The per-minute counts an import keeps (``store.timeline_minutes``), on every backend:
complete up to their marker, committed or rolled back with the import, never moved by an
append, and caught up over the appends by the next import."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from esaudit.application.transfer import import_history
from store import ANY, NewEvent, open_store, timeline_minutes
from store.bulk import ImportRejected
from store.hashing import iso_from_us
from store.records import MinuteCounts
from store.timeline_minutes import MINUTE_US
from tests.store.older_schema import make_older

START_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z


def _history(path: Path, prefix: str, streams: int, per: int, step_us: int,
             start_us: int = START_US) -> Path:
    """``streams`` streams of ``per`` events, interleaved, ``step_us`` apart."""
    lines, i = [], 0
    for version in range(1, per + 1):
        for s in range(streams):
            stream_type, type_ = ("Order", "LineAdded") if s % 2 else ("Meter", "ReadingTaken")
            lines.append(json.dumps({
                "stream_id": f"{prefix}-{s}", "stream_type": stream_type, "version": version,
                "type": type_, "recorded_at": iso_from_us(start_us + i * step_us),
                "payload": {"i": i}, "metadata": {}}))
            i += 1
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def _grouped(target: str, through: int | None = None) -> dict[tuple[int, str, str], int]:
    """The events themselves counted per minute, stream type and event type."""
    counts: dict[tuple[int, str, str], int] = {}
    with open_store(target, read_only=True) as st:
        for page in st.iter_event_heads():
            for position, _sid, stream_type, _v, type_, at in page:
                if through is None or position <= through:
                    key = (at // MINUTE_US, stream_type, type_)
                    counts[key] = counts.get(key, 0) + 1
    return counts


def _counts(target: str) -> MinuteCounts | None:
    with open_store(target, read_only=True) as st:
        return st.timeline_minutes()


def _as_dict(counted: MinuteCounts) -> dict[tuple[int, str, str], int]:
    return {(r.minute, r.stream_type, r.type): r.events for r in counted.rows}


def test_imports_into_an_empty_store_count_every_event_per_minute(store_target: str,
                                                                   tmp_path: Path) -> None:
    with open_store(store_target) as st:
        assert st.timeline_minutes() == MinuteCounts(0, [])
        import_history(st, _history(tmp_path / "a.jsonl", "a", 6, 40, 7_000_000))
        # the second file falls in the same minutes: its counts add to theirs
        import_history(st, _history(tmp_path / "b.jsonl", "b", 3, 30, 11_000_000))
        head = st.head_position()
    counted = _counts(store_target)
    assert counted is not None and counted.through == head == 330
    assert _as_dict(counted) == _grouped(store_target)
    assert sum(r.events for r in counted.rows) == 330
    assert len({r.minute for r in counted.rows}) > 20


def test_an_import_counts_the_events_appended_since_the_marker_before_its_own(
        store_target: str, tmp_path: Path) -> None:
    with open_store(store_target) as st:
        import_history(st, _history(tmp_path / "a.jsonl", "a", 4, 10, 20_000_000))
        for i in range(3):
            st.append("a-0", "Meter", [NewEvent("ReadingTaken", {"i": -i})], ANY)
        st.append("c-0", "Cart", [NewEvent("CartOpened", {})], ANY)
        counted = st.timeline_minutes()
        assert counted is not None and counted.through == 40  # appends do not count
        import_history(st, _history(tmp_path / "b.jsonl", "b", 2, 5, 20_000_000))
        assert st.head_position() == 54
    counted = _counts(store_target)
    assert counted is not None and counted.through == 54
    assert _as_dict(counted) == _grouped(store_target)
    assert ("Cart", "CartOpened") in {(r.stream_type, r.type) for r in counted.rows}


def test_appended_events_before_1970_are_caught_up_into_the_minutes_they_fall_in(
        tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with open_store(path) as st:
        import_history(st, _history(tmp_path / "a.jsonl", "a", 2, 5, 7_000_000,
                                    start_us=-90_000_000))
        for _ in range(3):
            st.append("a-0", "Meter", [NewEvent("ReadingTaken", {})], ANY)
    with sqlite3.connect(path) as conn:  # instants only an edit can give an append
        conn.execute("UPDATE events SET recorded_at = -1 WHERE position = 11")
        conn.execute("UPDATE events SET recorded_at = -60000001 WHERE position = 12")
    with open_store(path) as st:
        import_history(st, _history(tmp_path / "b.jsonl", "b", 1, 2, 1_000_000))
    counted = _counts(str(path))
    assert counted is not None and counted.through == 15
    assert _as_dict(counted) == _grouped(str(path))
    assert {r.minute for r in counted.rows} >= {-2, -1}


def test_an_import_after_more_appends_than_it_catches_up_counts_nothing(
        store_target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timeline_minutes, "CATCH_UP_MAX", 3)
    with open_store(store_target) as st:
        import_history(st, _history(tmp_path / "a.jsonl", "a", 4, 10, 20_000_000))
        for i in range(4):
            st.append("a-0", "Meter", [NewEvent("ReadingTaken", {"i": -i})], ANY)
        import_history(st, _history(tmp_path / "b.jsonl", "b", 2, 5, 20_000_000))
        assert st.head_position() == 54
    counted = _counts(store_target)
    assert counted is not None and counted.through == 40
    assert _as_dict(counted) == _grouped(store_target, through=40)


@pytest.mark.parametrize("edit", [
    "UPDATE events SET recorded_at = 'noon' WHERE position = 41",
    "UPDATE events SET type = x'00ff' WHERE position = 41",
])
def test_an_appended_event_edited_to_a_value_esaudit_never_writes_stops_the_counting(
        tmp_path: Path, edit: str) -> None:
    path = tmp_path / "edited.db"
    with open_store(path) as st:
        import_history(st, _history(tmp_path / "a.jsonl", "a", 4, 10, 20_000_000))
        st.append("a-0", "Meter", [NewEvent("ReadingTaken", {"i": -1})], ANY)
    with sqlite3.connect(path) as conn:
        conn.execute(edit)
    with open_store(path) as st:
        import_history(st, _history(tmp_path / "b.jsonl", "b", 2, 5, 20_000_000))
        assert st.head_position() == 51
        counted = st.timeline_minutes()
    assert counted is not None and counted.through == 40
    assert _as_dict(counted) == _grouped(str(path), through=40)


def test_a_rejected_import_leaves_the_counts_as_they_were(store_target: str,
                                                          tmp_path: Path) -> None:
    with open_store(store_target) as st:
        import_history(st, _history(tmp_path / "a.jsonl", "a", 3, 10, 30_000_000))
    before = _counts(store_target)
    bad = _history(tmp_path / "b.jsonl", "b", 2, 20, 30_000_000)
    lines = bad.read_text("utf-8").splitlines()
    bad.write_text("\n".join(lines[:-1]).replace('"version": 20', '"version": 21') + "\n",
                   "utf-8")
    with open_store(store_target) as st, pytest.raises(ImportRejected):
        import_history(st, bad)
    assert _counts(store_target) == before
    assert before is not None and before.through == 30


def test_a_store_older_than_the_counts_has_none_and_a_read_only_open_leaves_it_alone(
        tmp_path: Path) -> None:
    path = tmp_path / "v4.db"
    with open_store(path) as st:
        import_history(st, _history(tmp_path / "a.jsonl", "a", 2, 5, 1_000_000))
    make_older(path, 4)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert _counts(str(path)) is None
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    with open_store(path) as st:  # upgraded: the table exists, but counts none of its events
        assert st.timeline_minutes() is None
        import_history(st, _history(tmp_path / "b.jsonl", "b", 2, 5, 1_000_000))
        assert st.timeline_minutes() is None


def test_an_empty_older_store_counts_from_its_first_import(tmp_path: Path) -> None:
    path = tmp_path / "v4.db"
    open_store(path).close()
    make_older(path, 4)
    with open_store(path) as st:
        import_history(st, _history(tmp_path / "a.jsonl", "a", 2, 5, 1_000_000))
    counted = _counts(str(path))
    assert counted is not None and counted.through == 10
    assert _as_dict(counted) == _grouped(str(path))


@pytest.mark.parametrize("edit", [
    "UPDATE es_meta SET value = 'many' WHERE key = 'timeline_minutes_through'",
    "UPDATE es_meta SET value = '-3' WHERE key = 'timeline_minutes_through'",
    f"UPDATE es_meta SET value = '{'9' * 5000}' WHERE key = 'timeline_minutes_through'",
    "UPDATE timeline_minutes SET events = 'x' WHERE rowid = 1",
    "UPDATE timeline_minutes SET events = 0 WHERE rowid = 1",
    "UPDATE timeline_minutes SET minute = 1.5 WHERE rowid = 1",
    "UPDATE timeline_minutes SET type = x'00ff' WHERE rowid = 1",
])
def test_edited_counts_count_for_nothing_and_stop_no_import(tmp_path: Path, edit: str) -> None:
    path = tmp_path / "edited.db"
    with open_store(path) as st:
        import_history(st, _history(tmp_path / "a.jsonl", "a", 2, 5, 1_000_000))
    with sqlite3.connect(path) as conn:
        conn.execute(edit)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert _counts(str(path)) is None
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    with open_store(path) as st:
        import_history(st, _history(tmp_path / "b.jsonl", "b", 2, 5, 1_000_000))
        assert st.head_position() == 20
