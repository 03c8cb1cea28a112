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
            **kw: object) -> VerificationReport:
    monkeypatch.setattr(verify_module, "_split_point", lambda total: split)
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
