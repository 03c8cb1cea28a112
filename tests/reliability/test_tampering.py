"""Verification finds every kind of edit made behind the store's back."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from esaudit.application.timeline import load_timeline
from esaudit.application.verify import heads_from_report, verify
from esaudit.bootstrap import Services, bootstrap
from esaudit.domain import commands as c
from store import NotAsWritten, StoreError
from store.hashing import chain_hash, envelope_bytes, us_from_instant

ESAUDIT = str(Path(sys.executable).with_name("esaudit"))


@pytest.fixture
def history(tmp_path: Path) -> Iterator[tuple[Path, Services]]:
    path = tmp_path / "v.db"
    svc = bootstrap(str(path), snapshot_every=3)
    for oid in ("ord-a", "ord-b"):
        svc.commands.execute(c.CreateOrder(oid, "Ada"))
        svc.commands.execute(c.AddLine(oid, "X", 2, 500))
        svc.commands.execute(c.AddLine(oid, "Y", 1, 250))
        svc.commands.execute(c.PlaceOrder(oid))
        svc.commands.execute(c.ReceivePayment(oid, 1250))
    yield path, svc
    svc.close()


def sql(path: Path, *statements: str) -> None:
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)


def heads(svc: Services) -> dict[str, tuple[int, str]]:
    return heads_from_report({"streams": [
        {"stream_id": s.stream_id, "version": s.version, "head_hash": s.head_hash}
        for s in svc.store.streams()]})


def kinds(svc: Services, **kw) -> list[tuple[str, str, int | None]]:  # type: ignore[no-untyped-def]
    return [(f.kind, f.stream_id, f.version) for f in verify(svc.store, **kw).findings]


def test_a_clean_history_verifies(history: tuple[Path, Services]) -> None:
    _, svc = history
    report = verify(svc.store, against=heads(svc))
    assert report.ok and report.as_json() == {"ok": True, "events_checked": 10,
                                              "streams_checked": 2, "findings": []}


@pytest.mark.parametrize("column, value", [
    ("payload", """'{"amount_cents":1,"method":"card"}'"""),
    ("metadata", """'{"actor":"mallory"}'"""),
    ("type", "'RefundIssued'"),
    ("recorded_at", "recorded_at + 1"),
])
def test_an_edited_field_is_found_at_that_event(history: tuple[Path, Services], column: str,
                                                value: str) -> None:
    path, svc = history
    sql(path, f"UPDATE events SET {column} = {value} "
              "WHERE stream_id = 'ord-a' AND version = 5")
    assert kinds(svc) == [("hash_mismatch", "ord-a", 5)]


@pytest.mark.parametrize("column, value, stream, version", [
    ("version", "'five'", "ord-a", None),
    ("recorded_at", "'yesterday'", "ord-a", 5),
    ("stream_id", "X'6f72642d61'", "b'ord-a'", 5),
])
def test_a_value_of_another_type_is_a_finding_not_a_crash(
        history: tuple[Path, Services], column: str, value: str, stream: str,
        version: int | None) -> None:
    """A column edited to a type esaudit never writes (SQLite keeps what it is given)."""
    path, svc = history
    sql(path, f"UPDATE events SET {column} = {value} "
              "WHERE stream_id = 'ord-a' AND version = 5")
    report = verify(svc.store, against=heads(svc))
    found = report.findings[0]
    assert (found.kind, found.stream_id, found.version) == ("malformed_event", stream, version)
    assert column in found.detail and "changed after it was written" in found.detail
    assert report.events_checked == 10
    json.dumps(report.as_json())  # the report is still one a script can read


@pytest.mark.parametrize("value", ["'yesterday'", "1.5", "X'00ff'"])
def test_an_instant_of_another_type_stops_the_timeline_with_its_position_not_a_traceback(
        history: tuple[Path, Services], value: str) -> None:
    path, svc = history
    sql(path, f"UPDATE events SET recorded_at = {value} WHERE position = 7")
    with pytest.raises(StoreError) as e:
        load_timeline(svc.store)
    assert str(e.value).startswith("the event at position 7 holds a time esaudit never writes")
    assert "esaudit verify" in str(e.value)


@pytest.mark.parametrize(("column", "value"), [
    ("recorded_at", "'yesterday'"), ("recorded_at", "X'00ff'"), ("payload", "'{not json'")])
def test_reading_an_event_of_another_type_names_it_in_one_line(
        history: tuple[Path, Services], column: str, value: str) -> None:
    """Reading a stream, the events or the command line stops at the edited event, by
    position, stream and version, instead of a TypeError from deep in the reader."""
    path, svc = history
    sql(path, f"UPDATE events SET {column} = {value} WHERE stream_id = 'ord-a' AND version = 3")
    expected = ("the event at position 3 ('ord-a' version 3) holds a value esaudit never "
                "writes: it was changed after it was written")
    for read in (lambda: svc.store.read_stream("ord-a"),
                 lambda: list(svc.store.iter_events())):
        with pytest.raises(NotAsWritten) as e:
            read()
        assert str(e.value).startswith(expected)
    assert [e.version for e in svc.store.read_stream("ord-a", 4)] == [4, 5]
    out = subprocess.run([ESAUDIT, "--db", str(path), "events", "ord-a"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [f"esaudit: {expected}; esaudit verify names "
                                               "every such event"]


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(
        history: tuple[Path, Services]) -> None:
    path, svc = history
    e = svc.store.read_stream("ord-a", 2, 2)[0]
    fake_payload = '{"qty":9,"sku":"X","unit_price_cents":500}'
    meta = json.dumps(e.metadata, sort_keys=True, separators=(",", ":"))
    prev = svc.store.read_stream("ord-a", 1, 1)[0].hash
    recorded = us_from_instant(e.recorded_at)
    forged = chain_hash(prev, envelope_bytes("ord-a", 2, e.type, recorded, fake_payload, meta))
    sql(path, f"UPDATE events SET payload = '{fake_payload}', hash = '{forged}' "
              "WHERE stream_id = 'ord-a' AND version = 2")
    assert kinds(svc)[0] == ("hash_mismatch", "ord-a", 3)


def test_a_deleted_event_is_a_gap(history: tuple[Path, Services]) -> None:
    path, svc = history
    sql(path, "DELETE FROM events WHERE stream_id = 'ord-b' AND version = 3")
    assert ("version_gap", "ord-b", 4) in kinds(svc)


def test_swapped_events_are_out_of_order(history: tuple[Path, Services]) -> None:
    path, svc = history
    a, b = [e.position for e in svc.store.read_stream("ord-a", 2, 3)]
    sql(path, f"UPDATE events SET position = -1 WHERE position = {a}",
        f"UPDATE events SET position = {a} WHERE position = {b}",
        f"UPDATE events SET position = {b} WHERE position = -1")
    found = kinds(svc)
    assert found[0][:2] == ("version_gap", "ord-a") and found[0][2] == 3


def test_a_dropped_tail_shows_in_the_stream_list(history: tuple[Path, Services]) -> None:
    path, svc = history
    sql(path, "DELETE FROM events WHERE stream_id = 'ord-a' AND version >= 4")
    assert kinds(svc) == [("head_mismatch", "ord-a", 3)]


def test_a_tail_dropped_consistently_needs_an_earlier_report(
        history: tuple[Path, Services]) -> None:
    path, svc = history
    recorded = heads(svc)
    head = svc.store.read_stream("ord-a", 3, 3)[0].hash
    sql(path, "DELETE FROM events WHERE stream_id = 'ord-a' AND version >= 4",
        "DELETE FROM snapshots WHERE stream_id = 'ord-a' AND version >= 4",
        f"UPDATE streams SET version = 3, head_hash = '{head}' WHERE stream_id = 'ord-a'")
    assert verify(svc.store).ok  # internally consistent: only history can tell
    assert kinds(svc, against=recorded) == [("truncated", "ord-a", 4)]


def test_a_deleted_stream_and_a_rewritten_history_need_an_earlier_report(
        history: tuple[Path, Services]) -> None:
    path, svc = history
    recorded = heads(svc)
    sql(path, "DELETE FROM events WHERE stream_id = 'ord-b'",
        "DELETE FROM streams WHERE stream_id = 'ord-b'",
        "DELETE FROM snapshots WHERE stream_id = 'ord-b'")
    # Rewrite ord-a from version 5 with a consistent chain and stream head.
    e4 = svc.store.read_stream("ord-a", 4, 4)[0]
    e5 = svc.store.read_stream("ord-a", 5, 5)[0]
    payload, meta = '{"amount_cents":1250,"method":"cash"}', '{}'
    us = us_from_instant(e5.recorded_at)
    forged = chain_hash(e4.hash, envelope_bytes("ord-a", 5, e5.type, us, payload, meta))
    sql(path, f"UPDATE events SET payload = '{payload}', metadata = '{meta}', "
              f"hash = '{forged}' WHERE stream_id = 'ord-a' AND version = 5",
        f"UPDATE streams SET head_hash = '{forged}' WHERE stream_id = 'ord-a'")
    assert verify(svc.store).ok
    assert kinds(svc, against=recorded) == [("rewritten", "ord-a", 5),
                                            ("stream_missing", "ord-b", 5)]


def test_a_tampered_snapshot_is_found(history: tuple[Path, Services]) -> None:
    path, svc = history
    sql(path, """UPDATE snapshots SET state = '{"status":"paid"}' WHERE stream_id = 'ord-b'""")
    assert ("snapshot_mismatch", "ord-b", 3) in kinds(svc)


def test_verify_on_the_command_line(history: tuple[Path, Services], tmp_path: Path) -> None:
    path, svc = history
    report = tmp_path / "heads.json"
    report.write_text(json.dumps({"streams": [
        {"stream_id": s.stream_id, "version": s.version, "head_hash": s.head_hash}
        for s in svc.store.streams()]}))
    clean = subprocess.run([ESAUDIT, "--db", str(path), "verify", "--json"],
                           capture_output=True, text=True, timeout=60)
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["ok"] is True
    sql(path, "DELETE FROM events WHERE stream_id = 'ord-a' AND version = 2")
    bad = subprocess.run([ESAUDIT, "--db", str(path), "--read-only", "verify", "--json",
                          "--against", str(report)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1, bad.stderr
    out = json.loads(bad.stdout)
    assert list(out) == ["ok", "events_checked", "streams_checked", "findings"]
    assert out["ok"] is False
    assert out["findings"][0] == {"kind": "version_gap", "stream_id": "ord-a", "version": 3,
                                  "position": out["findings"][0]["position"],
                                  "detail": out["findings"][0]["detail"]}
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    usage = subprocess.run([ESAUDIT, "--db", str(path), "verify", "--against", str(junk)],
                           capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "not a JSON report" in usage.stderr


def test_verify_is_clean_on_every_backend(services: Services) -> None:
    services.commands.execute(c.CreateOrder("ord-z", "Zed"))
    services.commands.execute(c.AddLine("ord-z", "X", 1, 100))
    report = verify(services.store)
    assert report.ok and report.events_checked == 2


def test_audit_projections_finds_a_drifted_row(history: tuple[Path, Services]) -> None:
    path, _ = history
    clean = subprocess.run([ESAUDIT, "--db", str(path), "audit-projections", "--json"],
                           capture_output=True, text=True, timeout=60)
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout) == {"ok": True, "orders_checked": 2, "mismatches": []}
    sql(path, "UPDATE rm_order_summary SET paid_cents = 99, status = 'shipped' "
              "WHERE order_id = 'ord-b'")
    drift = subprocess.run([ESAUDIT, "--db", str(path), "--read-only", "audit-projections",
                            "--json"], capture_output=True, text=True, timeout=60)
    assert drift.returncode == 1, drift.stderr
    assert json.loads(drift.stdout)["mismatches"] == [
        {"order_id": "ord-b", "path": "paid_cents", "read_model": 99, "replayed": 1250},
        {"order_id": "ord-b", "path": "status", "read_model": "shipped", "replayed": "paid"},
    ]
    human = subprocess.run([ESAUDIT, "--db", str(path), "audit-projections"],
                           capture_output=True, text=True, timeout=60)
    assert "2 mismatching field(s)" in human.stdout
