"""blame, history, trace, search and tail through the real entry point: JSON shapes exactly,
malformed input as one line and exit 2, tail following another process until interrupted."""

from __future__ import annotations

import getpass
import json
import os
import queue
import re
import signal
import subprocess
import threading
from pathlib import Path
from typing import IO, Any

import pytest

from tests.cli.test_cli import ESAUDIT, ok, run
from tests.cli.test_readme import README, with_executable

EVENT_KEYS = ["position", "stream_id", "version", "type", "recorded_at", "actor"]
FULL_EVENT_KEYS = ["position", "stream_id", "stream_type", "version", "type", "recorded_at",
                   "payload", "metadata", "hash"]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


@pytest.fixture
def order(db: Path) -> str:
    oid = ok(db, "order", "create", "--customer", "Ada").strip()
    ok(db, "order", "add-line", oid, "--sku", "SKU-1", "--qty", "2", "--price", "5.00")
    ok(db, "order", "add-line", oid, "--sku", "SKU-2", "--qty", "1", "--price", "2.50")
    ok(db, "order", "remove-line", oid, "--sku", "SKU-2")
    ok(db, "order", "place", oid)
    return oid


def test_blame_prints_each_field_with_the_event_that_set_it(db: Path, order: str) -> None:
    rows = json.loads(ok(db, "blame", order, "--json"))
    by_path = {r["path"]: r for r in rows}
    assert [r["path"] for r in rows] == sorted(by_path)
    assert by_path["status"] == {
        "path": "status", "value": "pending_payment", "version": 5, "type": "OrderPlaced",
        "recorded_at": by_path["status"]["recorded_at"], "actor": getpass.getuser()}
    assert by_path["status"]["recorded_at"].endswith("Z")
    assert (by_path["total_cents"]["value"], by_path["total_cents"]["version"]) == (1000, 4)
    assert "lines.SKU-2.qty" not in by_path
    earlier = {r["path"]: r for r in json.loads(ok(db, "blame", order, "--version", "3",
                                                   "--json"))}
    assert earlier["lines.SKU-2.qty"]["version"] == 3
    text = ok(db, "blame", order)
    assert "model builtin:Order" in text and "OrderPlaced" in text


def test_history_prints_every_change_of_a_field(db: Path, order: str) -> None:
    rows = json.loads(ok(db, "history", order, "--field", "lines.SKU-2.qty", "--json"))
    assert [list(r) for r in rows] == [["version", "type", "recorded_at", "actor", "old",
                                        "new"]] * 2
    assert [(r["version"], r["type"], r["old"], r["new"]) for r in rows] == [
        (3, "LineAdded", None, 1), (4, "LineRemoved", 1, None)]
    bad = run(db, "history", order, "--field", "lines..qty")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "lines..qty" in bad.stderr


def _write_conversation(path: Path) -> None:
    lines = [
        ("cart-1", "CheckoutRequested", {"messageId": "m1", "correlationId": "c-1",
                                         "userId": "ada@example.com"}),
        ("pay-1", "PaymentTaken", {"messageId": "m2", "correlationId": "c-1",
                                   "causationId": "m1"}),
        ("mail-1", "ReceiptSent", {"messageId": "m3", "correlationId": "c-1",
                                   "causationId": "m2"}),
        ("cart-2", "CheckoutRequested", {"messageId": "m4", "correlationId": "c-2"}),
    ]
    with path.open("w", encoding="utf-8") as fh:
        for k, (sid, type_, meta) in enumerate(lines):
            fh.write(json.dumps({"stream_id": sid, "stream_type": sid.split("-")[0],
                                 "version": 1, "type": type_,
                                 "recorded_at": f"2026-01-01T10:00:0{k}Z",
                                 "payload": {"total": 10 + k}, "metadata": meta}) + "\n")


def test_trace_of_an_imported_conversation(db: Path, tmp_path: Path) -> None:
    _write_conversation(tmp_path / "h.jsonl")
    ok(db, "import", str(tmp_path / "h.jsonl"))
    found = json.loads(ok(db, "trace", "pay-1@1", "--json"))
    assert list(found) == ["correlation_id", "events", "causes", "caused"]
    assert found["correlation_id"] == "c-1"
    assert [list(e) for e in found["events"]] == [EVENT_KEYS] * 3
    assert [e["stream_id"] for e in found["events"]] == ["cart-1", "pay-1", "mail-1"]
    assert found["causes"] == [{"position": 1, "stream_id": "cart-1", "version": 1,
                                "type": "CheckoutRequested",
                                "recorded_at": "2026-01-01T10:00:00.000000Z",
                                "actor": "ada@example.com"}]
    assert [(e["stream_id"], e["caused_by"]) for e in found["caused"]] == [("mail-1", 2)]
    assert list(found["caused"][0]) == [*EVENT_KEYS, "caused_by"]
    assert json.loads(ok(db, "trace", "3", "--json")) == \
        json.loads(ok(db, "trace", "mail-1@1", "--json"))
    text = ok(db, "trace", "pay-1@1")
    assert "caused by (nearest first)" in text and "what it caused" in text


def test_trace_says_what_it_cannot_say(db: Path, order: str) -> None:
    result = run(db, "trace", f"{order}@2", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert (found["causes"], found["caused"]) == ([], [])
    assert [e["version"] for e in found["events"]] == [2]
    assert "the command that appended it" in result.stderr
    for bad in (f"{order}@99", "no-such@1", order, "12345"):
        refused = run(db, "trace", bad)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1, bad


def test_search_filters_in_position_order(db: Path, tmp_path: Path) -> None:
    _write_conversation(tmp_path / "h.jsonl")
    ok(db, "import", str(tmp_path / "h.jsonl"))
    found = json.loads(ok(db, "search", "--where", "payload.total >= 11", "--json"))
    assert [list(e) for e in found] == [FULL_EVENT_KEYS] * 3
    assert [e["position"] for e in found] == [2, 3, 4]
    assert found[0]["payload"] == {"total": 11}
    assert found[0]["metadata"]["correlationId"] == "c-1"
    narrowed = json.loads(ok(db, "search", "--where", "payload.total >= 11", "--where",
                             "metadata.correlationId = c-1", "--type", "ReceiptSent",
                             "--type", "PaymentTaken", "--stream", "*-1", "--from",
                             "2026-01-01T10:00:01Z", "--to", "2026-01-01T10:00:02Z",
                             "--json"))
    assert [e["stream_id"] for e in narrowed] == ["pay-1", "mail-1"]
    limited = run(db, "search", "--stream", "cart-?", "--limit", "1", "--json")
    assert [e["stream_id"] for e in json.loads(limited.stdout)] == ["cart-1"]
    assert "more events match" in limited.stderr
    assert json.loads(ok(db, "search", "--where", "metadata.userId ~ ADA", "--json"))[0][
        "position"] == 1
    assert "CheckoutRequested" in ok(db, "search", "--where", "payload.total < 11")


@pytest.mark.parametrize("expr", ["payload.total >> 3", "total = 3", "payload.total",
                                  "payload.total < null", 'payload.x["y = 1'])
def test_a_malformed_expression_is_one_line_and_exit_2(db: Path, order: str,
                                                        expr: str) -> None:
    result = run(db, "search", "--where", expr)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("esaudit: --where ")
    assert repr(expr) in result.stderr and result.stdout == ""


def _lines(stream: IO[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def test_tail_prints_what_another_process_appends_until_interrupted(db: Path,
                                                                    order: str) -> None:
    env = {**os.environ, "ESAUDIT_DB": ""}
    tail = subprocess.Popen([ESAUDIT, "--db", str(db), "tail", "--json"], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = _lines(tail.stdout), _lines(tail.stderr)  # type: ignore[arg-type]
        assert "following" in err.get(timeout=30)
        ok(db, "order", "pay", order, "--amount", "3.00")
        other = ok(db, "order", "create", "--customer", "Bo").strip()
        got: list[dict[str, Any]] = [json.loads(out.get(timeout=10)) for _ in range(2)]
        assert [(e["stream_id"], e["type"]) for e in got] == [
            (order, "PaymentReceived"), (other, "OrderCreated")]
        assert list(got[0]) == FULL_EVENT_KEYS and got[0]["version"] == 6
        assert got[1]["position"] == got[0]["position"] + 1
        assert out.empty()
        tail.send_signal(signal.SIGINT)
        assert tail.wait(timeout=10) == 130
        assert "interrupted" in "".join(err.get(timeout=5) for _ in range(1))
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()


def test_tail_keeps_to_the_types_asked_for(db: Path, order: str) -> None:
    env = {**os.environ, "ESAUDIT_DB": ""}
    tail = subprocess.Popen([ESAUDIT, "--db", str(db), "tail", "--type", "OrderCreated"],
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = _lines(tail.stdout), _lines(tail.stderr)  # type: ignore[arg-type]
        assert "following" in err.get(timeout=30)
        ok(db, "order", "pay", order, "--amount", "3.00")
        other = ok(db, "order", "create", "--customer", "Bo").strip()
        line = out.get(timeout=10)
        assert f"{other}@1  OrderCreated  {getpass.getuser()}" in line
        assert out.empty()
    finally:
        tail.terminate()
        tail.wait(timeout=10)


def test_the_readme_examples_run_as_written(tmp_path: Path) -> None:
    """The README's "Investigating a history" block on a small demo store: every command but
    ``tail`` (which runs until interrupted) exits 0."""
    text = README.read_text("utf-8")
    section = text.split("\n## Investigating a history\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"^```sh\n(.*?)^```", section, re.S | re.M)
    assert match
    commands = [line.strip() for line in match.group(1).splitlines() if line.strip()]
    assert any(" tail" in c for c in commands)
    setup = ["esaudit --db demo.db seed --orders 20 --seed 7",
             'ID=$(esaudit --db demo.db order create --customer "Ada Lovelace")',
             "esaudit --db demo.db order add-line $ID --sku SKU-1001 --qty 2",
             "esaudit --db demo.db order place $ID"]
    lines = ["set -eu"] + [with_executable(c) for c in setup] + [
        f"{with_executable(c)} > /dev/null" for c in commands if " tail" not in c]
    script = tmp_path / "walk.sh"
    script.write_text("\n".join(lines) + "\n", "utf-8")
    result = subprocess.run(["bash", str(script)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "ESAUDIT_DB": ""})
    assert result.returncode == 0, result.stderr
