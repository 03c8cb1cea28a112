"""Verification in two processes finds exactly what one walk finds, wherever the halves meet."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

import esaudit.application.verify as verify_module
from esaudit.application.verify import VerificationReport, verify
from store import ANY, NewEvent, open_store
from store.hashing import chain_hash, envelope_bytes

STREAMS, VERSIONS = 5, 6  # interleaved: every stream crosses every split point


def _history(path: Path) -> None:
    with open_store(path, synchronous="NORMAL") as st:
        for v in range(1, VERSIONS + 1):
            for s in range(STREAMS):
                st.append(f"s-{s}", "Order", [NewEvent("Touched", {"v": v, "s": s})], ANY)


def _edit(conn: sqlite3.Connection, rng: random.Random) -> None:
    position = rng.randint(1, STREAMS * VERSIONS)
    kind = rng.choice(["payload", "delete", "swap", "rehash", "tail"])
    if kind == "payload":
        conn.execute("UPDATE events SET payload = '{\"v\":99}' WHERE position = ?", (position,))
    elif kind == "delete":
        conn.execute("DELETE FROM events WHERE position = ?", (position,))
    elif kind == "swap":
        sid, version = conn.execute("SELECT stream_id, version FROM events WHERE position = ?",
                                    (position,)).fetchone()
        if version < VERSIONS:
            conn.execute("UPDATE events SET version = -1 WHERE stream_id = ? AND version = ?",
                         (sid, version + 1))
            conn.execute("UPDATE events SET version = ? WHERE stream_id = ? AND version = ?",
                         (version + 1, sid, version))
            conn.execute("UPDATE events SET version = ? WHERE stream_id = ? AND version = -1",
                         (version, sid))
    elif kind == "rehash":  # a forger who recomputes the edited event's own hash
        row = conn.execute("SELECT stream_id, version, type, recorded_at, metadata FROM events "
                           "WHERE position = ?", (position,)).fetchone()
        previous = conn.execute("SELECT hash FROM events WHERE stream_id = ? AND version = ?",
                                (row[0], row[1] - 1)).fetchone()
        payload = '{"v":-1}'
        digest = chain_hash(previous[0] if previous else "",
                            envelope_bytes(row[0], row[1], row[2], row[3], payload, row[4]))
        conn.execute("UPDATE events SET payload = ?, hash = ? WHERE position = ?",
                     (payload, digest, position))
    else:
        sid = conn.execute("SELECT stream_id FROM events WHERE position = ?",
                           (position,)).fetchone()[0]
        conn.execute("DELETE FROM events WHERE stream_id = ? AND position >= ?", (sid, position))


def _report(path: Path, split: int | None, monkeypatch: pytest.MonkeyPatch,
            pivot: str | None = None, **kw: object) -> VerificationReport:
    """Verified alone (``split`` None), split by position at ``split``, or, with a ``pivot``
    too, split by stream there."""
    monkeypatch.setattr(verify_module, "_split_point", lambda total: split)
    monkeypatch.setattr(verify_module, "_stream_pivot", lambda store: pivot)
    with open_store(path, read_only=True) as st:
        return verify(st, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(5))
def test_two_halves_report_what_one_walk_reports(tmp_path: Path, seed: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v.db"
    _history(path)
    with open_store(path, read_only=True) as st:  # an earlier report: some streams grew since
        against = {sid: (version, head) for sid, version, head in st.stream_heads()}
        against |= {e.stream_id: (e.version, e.hash) for e in st.iter_events()
                    if e.version == 2 and e.stream_id < "s-3"}
    rng = random.Random(seed)
    with sqlite3.connect(path) as conn:
        for _ in range(1 + seed % 3):
            _edit(conn, rng)
    alone = _report(path, None, monkeypatch, against=against)
    assert not alone.ok
    for split in range(0, STREAMS * VERSIONS + 1, 7):
        halves = _report(path, split, monkeypatch, against=against)
        assert halves.as_json() == alone.as_json(), split


def test_a_clean_store_in_two_halves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v.db"
    _history(path)
    report = _report(path, 13, monkeypatch)
    assert report.ok and (report.events_checked, report.streams_checked) == (30, 5)
    only = _report(path, 13, monkeypatch, stream_ids=["s-1", "s-3"])
    assert only.ok and (only.events_checked, only.streams_checked) == (12, 2)


def test_a_second_process_that_fails_leaves_the_work_to_the_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v.db"
    _history(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE events SET payload = '{}' WHERE position = 27")
    monkeypatch.setattr(verify_module, "_SECOND_HALF", "tests.worker_fakes:exits_at_once")
    report = _report(path, 10, monkeypatch)
    assert [(f.kind, f.position) for f in report.findings] == [("hash_mismatch", 27)]
    assert report.events_checked == 30


def _edit_list_or_ids(conn: sqlite3.Connection, rng: random.Random) -> None:
    """Damage a split by stream must meet exactly as one walk does: the stream list edited,
    an event moved to a stream of an id that sorts anywhere, or to one that is no text."""
    kind = rng.choice(["unlist", "phantom", "head", "move", "blob"])
    sid = f"s-{rng.randrange(STREAMS)}"
    if kind == "unlist":
        conn.execute("DELETE FROM streams WHERE stream_id = ?", (sid,))
    elif kind == "phantom":
        conn.execute("INSERT INTO streams (stream_id, stream_type, version, head_hash, "
                     "first_at, last_at) VALUES (?, 'Order', 3, ?, 0, 0)",
                     (rng.choice(["", "a", "s-2x", "zz"]), "0" * 64))
    elif kind == "head":
        conn.execute("UPDATE streams SET version = version - 1 WHERE stream_id = ?", (sid,))
    else:
        position = rng.randint(1, STREAMS * VERSIONS)
        moved_to: object = rng.choice(["", "s-2x", "s-10", "~"]) if kind == "move" else b"s-1"
        conn.execute("UPDATE OR IGNORE events SET stream_id = ? WHERE position = ?",
                     (moved_to, position))


@pytest.mark.parametrize("seed", range(12))
def test_two_halves_by_stream_report_what_one_walk_reports(
        tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v.db"
    _history(path)
    rng = random.Random(seed)
    with sqlite3.connect(path) as conn:
        for _ in range(1 + seed % 3):
            (_edit if rng.random() < 0.5 else _edit_list_or_ids)(conn, rng)
        _edit_list_or_ids(conn, rng)
    alone = _report(path, None, monkeypatch)
    assert not alone.ok
    for split in range(0, STREAMS * VERSIONS + 1, 4):
        halves = _report(path, split, monkeypatch)
        assert halves.as_json() == alone.as_json(), split
    for pivot in ("", "s-0", "s-1", "s-2", "s-20", "s-4", "zzz"):  # an empty half included
        halves = _report(path, 1, monkeypatch, pivot)
        assert halves.as_json() == alone.as_json(), pivot


def test_a_whole_store_splits_by_stream_where_the_halves_are_even(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v.db"
    _history(path)
    with open_store(path, synchronous="NORMAL") as st:
        st.append("s-9", "Order", [NewEvent("Touched", {}) for _ in range(80)], ANY)
    monkeypatch.setattr(verify_module, "_split_point", lambda total: total // 2)
    ways: list[str] = []
    for name in ("_walk_by_stream", "_walk_by_position"):
        real = getattr(verify_module, name)
        monkeypatch.setattr(verify_module, name, lambda *a, real=real, name=name, **k: (
            ways.append(name), real(*a, **k))[1])
    with open_store(path, read_only=True) as st:
        assert verify_module._stream_pivot(st) is None  # s-9 holds most of the events
        assert verify(st).ok and ways == ["_walk_by_position"]
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM events WHERE stream_id = 's-9'")
        conn.execute("DELETE FROM streams WHERE stream_id = 's-9'")
    ways.clear()
    with open_store(path, read_only=True) as st:
        assert verify_module._stream_pivot(st) == "s-2"
        report = verify(st)
        assert report.ok and (report.events_checked, report.streams_checked) == (30, 5)
        assert ways == ["_walk_by_stream"]
        ways.clear()
        assert verify(st, against={"s-1": (2, "x")}).findings  # a report to hold it to
        assert ways == ["_walk_by_position"]


def test_a_second_process_that_fails_in_a_split_by_stream_leaves_the_work_to_the_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v.db"
    _history(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE events SET payload = '{}' WHERE position = 29")  # s-3's
    monkeypatch.setattr(verify_module, "_OTHER_STREAMS", "tests.worker_fakes:exits_at_once")
    report = _report(path, 1, monkeypatch, "s-2")
    assert [(f.kind, f.position) for f in report.findings] == [("hash_mismatch", 29)]
    assert (report.events_checked, report.streams_checked) == (30, 5)
