"""The command line through its real entry point (the installed console script)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ESAUDIT = str(Path(sys.executable).with_name("esaudit"))


def run(db: str | Path, *args: str, read_only: bool = False) -> subprocess.CompletedProcess:
    cmd = [ESAUDIT, "--db", str(db), *(["--read-only"] if read_only else []), *args]
    env = {**os.environ, "ESAUDIT_DB": ""}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def ok(db: str | Path, *args: str) -> str:
    result = run(db, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


def test_walk_an_order_through_its_life(db: Path) -> None:
    ok(db, "seed", "--orders", "3", "--seed", "1", "--until", "2026-01-01T00:00:00Z")
    oid = ok(db, "order", "create", "--customer", "Ada Lovelace").strip()
    assert oid.startswith("ord-")
    out = json.loads(ok(db, "order", "add-line", oid, "--sku", "SKU-1002", "--qty", "2",
                        "--json"))
    assert out == {"stream_id": oid, "version": 2}
    ok(db, "order", "add-line", oid, "--sku", "CUSTOM", "--qty", "1", "--price", "12.50")
    ok(db, "order", "add-line", oid, "--sku", "SKU-1010", "--qty", "1")
    ok(db, "order", "remove-line", oid, "--sku", "SKU-1010")
    ok(db, "order", "place", oid, "--expected-version", "5")
    price = json.loads(ok(db, "replay", "product-SKU-1002", "--json"))["state"]["price_cents"]
    total = 2 * price + 1250
    ok(db, "order", "pay", oid, "--amount", "10.00", "--method", "paypal")
    ok(db, "order", "pay", oid, "--amount", f"{(total - 1000) / 100:.2f}")
    ok(db, "order", "ship", oid, "--carrier", "DHL", "--tracking", "T-1")
    ok(db, "order", "deliver", oid)
    final = json.loads(ok(db, "order", "refund", oid, "--amount", "5", "--reason", "dent",
                          "--json"))
    assert final == {"stream_id": oid, "version": 11}

    events = json.loads(ok(db, "events", oid, "--json"))
    assert [e["type"] for e in events] == [
        "OrderCreated", "LineAdded", "LineAdded", "LineAdded", "LineRemoved", "OrderPlaced",
        "PaymentReceived", "PaymentReceived", "OrderShipped", "OrderDelivered", "RefundIssued"]
    assert list(events[0]) == ["position", "stream_id", "stream_type", "version", "type",
                               "recorded_at", "payload", "metadata", "hash"]
    assert events[1]["payload"] == {"sku": "SKU-1002", "qty": 2, "unit_price_cents": price}
    assert events[2]["payload"]["unit_price_cents"] == 1250
    assert events[0]["recorded_at"].endswith("Z") and len(events[0]["recorded_at"]) == 27
    assert events[6]["payload"] == {"amount_cents": 1000, "method": "paypal"}
    assert len(json.loads(ok(db, "events", oid, "--from", "3", "--to", "4", "--json"))) == 2

    state = json.loads(ok(db, "replay", oid, "--json"))
    assert state["version"] == 11
    assert state["state"]["status"] == "delivered"
    assert (state["state"]["paid_cents"], state["state"]["refunded_cents"]) == (total, 500)
    v6 = json.loads(ok(db, "replay", oid, "--version", "6", "--no-snapshots", "--json"))
    assert (v6["version"], v6["state"]["status"]) == (6, "pending_payment")
    at = json.loads(ok(db, "replay", oid, "--at", events[5]["recorded_at"], "--json"))
    assert at["version"] >= 6

    diff = json.loads(ok(db, "diff", oid, "6", "8", "--json"))
    assert diff == [{"path": "paid_cents", "kind": "changed", "old": 0, "new": total},
                    {"path": "status", "kind": "changed", "old": "pending_payment",
                     "new": "paid"}]
    human = ok(db, "diff", oid, "6", "8")
    assert "2 changed, 0 added, 0 removed" in human and "pending_payment" in human


def test_streams_stats_and_projections(db: Path) -> None:
    ok(db, "seed", "--orders", "5", "--seed", "2", "--until", "2026-01-01T00:00:00Z")
    streams = json.loads(ok(db, "streams", "--json"))
    assert len(streams) == 17
    assert list(streams[0]) == ["stream_id", "stream_type", "version", "first_at", "last_at"]
    assert len(json.loads(ok(db, "streams", "--type", "Product", "--json"))) == 12
    stats = json.loads(ok(db, "stats", "--json"))
    assert stats["streams"] == 17 and stats["events"] == stats["head_position"]
    assert stats["projection_lag"] == {"order_summary": 0, "product_catalogue": 0}
    assert "rebuilt 2 read models" in ok(db, "projections", "rebuild")
    status = json.loads(ok(db, "projections", "status", "--json"))
    assert status[0] == {"name": "order_summary", "checkpoint": stats["events"],
                         "head": stats["events"], "lag": 0}
    table = ok(db, "streams")
    assert table.splitlines()[0].split() == ["stream", "type", "version", "first", "event",
                                             "last", "event"]


def test_exit_codes_and_one_line_errors(db: Path) -> None:
    oid = ok(db, "order", "create", "--customer", "Bob").strip()
    cases = [
        (("order", "place", oid), 4, "refused: cannot place"),
        (("order", "add-line", oid, "--sku", "X", "--qty", "1", "--price", "1",
          "--expected-version", "0"), 3, "conflict"),
        (("order", "add-line", oid, "--sku", "X", "--qty", "0", "--price", "1"), 2, "at least 1"),
        (("order", "add-line", oid, "--sku", "NOPE", "--qty", "1"), 2, "unknown product"),
        (("order", "pay", "ord-missing", "--amount", "1"), 2, "no order"),
        (("order", "pay", oid, "--amount", "1.001"), 2, "fractions of a cent"),
        (("replay", oid, "--version", "9"), 2, "versions 1..1"),
        (("replay", oid, "--at", "yesterday"), 2, "ISO 8601"),
        (("diff", "nope", "1", "2"), 2, "no stream"),
        (("frobnicate",), 2, "invalid choice"),
    ]
    for args, code, message in cases:
        result = run(db, *args)
        assert result.returncode == code, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert json.loads(ok(db, "events", oid, "--json"))[-1]["version"] == 1
    debug = run(db, "--debug", "order", "place", oid)
    assert debug.returncode == 4 and "Traceback" in debug.stderr


def test_read_only_refuses_writes_and_leaves_the_file(db: Path) -> None:
    oid = ok(db, "order", "create", "--customer", "Carol").strip()
    before = db.read_bytes()
    result = run(db, "order", "cancel", oid, "--reason", "x", read_only=True)
    assert result.returncode == 2 and "read-only" in result.stderr
    result = run(db, "seed", "--orders", "1", read_only=True)
    assert result.returncode == 2 and "read-only" in result.stderr
    assert json.loads(run(db, "replay", oid, "--json", read_only=True).stdout)["version"] == 1
    assert db.read_bytes() == before


def test_bad_targets_are_clear_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00garbage" * 100)
    result = run(junk, "stats")
    assert result.returncode == 2 and "not a readable SQLite database" in result.stderr
    assert junk.read_bytes() == b"\x00garbage" * 100
    result = run(tmp_path / "none.db", "stats", read_only=True)
    assert result.returncode == 2 and "no store" in result.stderr
    result = run("mysql://x/y", "stats")
    assert result.returncode == 2 and "unsupported store URL" in result.stderr


def test_esaudit_db_environment_variable_is_the_default(tmp_path: Path) -> None:
    env = {**os.environ, "ESAUDIT_DB": str(tmp_path / "env.db")}
    result = subprocess.run([ESAUDIT, "order", "create", "--customer", "Dee"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "env.db").exists()
