"""Contradictory input is refused with the reason (exit 2); an answer that is not a state says
what it means; an instant without a zone is said to be read as UTC."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import ok, run


@pytest.fixture
def order(tmp_path: Path) -> tuple[Path, str]:
    db = tmp_path / "a.db"
    oid = ok(db, "order", "create", "--customer", "Ada").strip()
    for sku in ("A", "B", "C"):
        ok(db, "order", "add-line", oid, "--sku", sku, "--qty", "1", "--price", "1.00")
    return db, oid


def test_report_versions_the_wrong_way_round_are_refused(order: tuple[Path, str],
                                                         tmp_path: Path) -> None:
    db, oid = order
    out = tmp_path / "r.html"
    result = run(db, "report", "--out", str(out), "--stream", oid, "--versions", "4:1")
    assert result.returncode == 2
    assert "A must not come after B (write 1:4" in result.stderr
    assert not out.exists()


def test_report_versions_past_the_stream_are_refused(order: tuple[Path, str],
                                                     tmp_path: Path) -> None:
    db, oid = order
    out = tmp_path / "r.json"
    result = run(db, "report", "--out", str(out), "--stream", oid, "--versions", "1:99")
    assert result.returncode == 2
    assert f"stream {oid} has versions 0..4" in result.stderr
    assert not out.exists()
    ok(db, "report", "--out", str(out), "--stream", oid, "--versions", "1:4")
    states = json.loads(out.read_text("utf-8"))["states"]
    assert [(s["version_a"], s["version_b"]) for s in states] == [(1, 4)]


def test_replay_before_the_first_event_says_the_stream_did_not_exist(
        order: tuple[Path, str]) -> None:
    db, oid = order
    data = json.loads(ok(db, "replay", oid, "--at", "2001-01-01T00:00:00Z", "--json"))
    assert data["version"] == 0 and data["state"] is None
    assert data["note"].startswith("the stream did not exist yet at 2001-01-01T00:00:00")
    assert "its first event was recorded at" in data["note"]
    text = ok(db, "replay", oid, "--at", "2001-01-01T00:00:00Z")
    assert "did not exist yet" in text and "field" not in text
    assert "note" not in json.loads(ok(db, "replay", oid, "--json"))


def test_events_from_after_to_is_refused(order: tuple[Path, str]) -> None:
    db, oid = order
    result = run(db, "events", oid, "--from", "5", "--to", "2")
    assert result.returncode == 2 and "--from 5 comes after --to 2" in result.stderr


def test_events_past_the_head_say_why_there_are_none(order: tuple[Path, str]) -> None:
    db, oid = order
    assert ok(db, "events", oid, "--from", "9").strip() == \
        f"no events: {oid} has versions 1..4, none from 9"
    assert json.loads(ok(db, "events", oid, "--from", "9", "--json")) == []


def test_an_instant_without_a_zone_is_said_to_be_read_as_utc(order: tuple[Path, str]) -> None:
    db, oid = order
    result = run(db, "replay", oid, "--at", "2001-01-01T00:00:00", "--json")
    assert result.returncode == 0
    assert result.stderr == "esaudit: note: 2001-01-01T00:00:00 has no time zone; read as UTC\n"
    quiet = run(db, "replay", oid, "--at", "2001-01-01T00:00:00+00:00", "--json")
    assert quiet.returncode == 0 and quiet.stderr == ""
