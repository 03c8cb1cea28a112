"""A value no read model can hold never locks a store: commands refuse it before anything is
written (exit 4, naming the field and the range), and a stored event that carries one (written
by an older esaudit, or by a program appending through the store directly) makes its stream
"not projectable", a projection-audit finding, while the store still opens, every command
works and a rebuild completes. An imported history is never projected at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from esaudit.application.audit import audit_projections
from esaudit.application.transfer import import_history
from esaudit.bootstrap import bootstrap
from esaudit.domain import commands as c
from esaudit.domain.errors import OutOfRange
from store import ANY, NewEvent, open_store

ESAUDIT = str(Path(sys.executable).with_name("esaudit"))


def esaudit(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ESAUDIT, "--db", str(db), *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "ESAUDIT_DB": ""})


def _events(db: Path) -> int:
    result = esaudit(db, "--read-only", "stats", "--json")
    assert result.returncode == 0, result.stderr
    return int(json.loads(result.stdout)["events"])


@pytest.fixture
def order_store(tmp_path: Path) -> tuple[Path, str]:
    db = tmp_path / "o.db"
    made = esaudit(db, "order", "create", "--customer", "Ada")
    assert made.returncode == 0, made.stderr
    return db, made.stdout.strip()


@pytest.mark.parametrize(("args", "field", "bounds"), [
    (["--qty", "99999999999999999999", "--price", "1"], "quantity", "between 1 and 1,000,000"),
    (["--qty", "1", "--price", "1e30"], "unit price", "between 0.00 and 10,000,000,000.00"),
    (["--qty", "1", "--price", "1e400000"], "amount", "out of any range"),
    (["--qty", "1000000", "--price", "10000000000"], "order total",
     "between 0.00 and 100,000,000,000.00"),
], ids=["qty", "price", "price-exponent", "total"])
def test_commands_refuse_out_of_range_values_before_writing(order_store: tuple[Path, str],
                                                            args: list[str], field: str,
                                                            bounds: str) -> None:
    db, oid = order_store
    before = _events(db)
    result = esaudit(db, "order", "add-line", oid, "--sku", "SKU-1001", *args)
    assert result.returncode == 4, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert field in result.stderr and bounds in result.stderr
    assert _events(db) == before
    after = esaudit(db, "order", "add-line", oid, "--sku", "SKU-1001", "--qty", "2",
                    "--price", "3.50")
    assert after.returncode == 0, after.stderr


def test_text_longer_than_its_column_is_refused(order_store: tuple[Path, str]) -> None:
    db, _ = order_store
    result = esaudit(db, "order", "create", "--customer", "x" * 401)
    assert result.returncode == 4 and "customer must be at most 400 characters" in result.stderr


def test_the_domain_itself_refuses_them(sqlite_services) -> None:  # type: ignore[no-untyped-def]
    svc = sqlite_services
    svc.commands.execute(c.CreateOrder("ord-1", "Ada"))
    with pytest.raises(OutOfRange, match="quantity"):
        svc.commands.execute(c.AddLine("ord-1", "A", 2**80, 100))
    svc.commands.execute(c.AddLine("ord-1", "A", 600_000, 100))
    with pytest.raises(OutOfRange, match="quantity of the A line"):
        svc.commands.execute(c.AddLine("ord-1", "A", 500_000, 100))
    with pytest.raises(OutOfRange, match="price"):
        svc.commands.execute(c.RegisterProduct("P", "Pen", 10**15))
    assert svc.store.stream("ord-1").version == 2  # type: ignore[union-attr]
    assert svc.store.stream("product-P") is None


def _line(stream: str, version: int, type_: str, payload: dict, stype: str = "Order") -> str:
    return json.dumps({"stream_id": stream, "stream_type": stype, "version": version,
                       "type": type_, "recorded_at": f"2026-01-01T00:00:0{version}.000000Z",
                       "payload": payload, "metadata": {}})


def _history(path: Path) -> Path:
    """Two sound orders and three a read model cannot hold: a quantity beyond 64 bits, a line
    without its quantity, a customer that is a number; and a product priced beyond 64 bits."""
    lines = []
    for oid in ("ok-1", "ok-2"):
        lines += [_line(oid, 1, "OrderCreated", {"order_id": oid, "customer": "Ada",
                                                 "currency": "EUR"}),
                  _line(oid, 2, "LineAdded", {"sku": "A", "qty": 2, "unit_price_cents": 5})]
    lines += [
        _line("huge", 1, "OrderCreated", {"order_id": "huge", "customer": "B",
                                          "currency": "EUR"}),
        _line("huge", 2, "LineAdded", {"sku": "A", "qty": 99999999999999999999,
                                       "unit_price_cents": 100}),
        _line("huge", 3, "OrderPlaced", {}),
        _line("no-qty", 1, "OrderCreated", {"order_id": "no-qty", "customer": "C",
                                            "currency": "EUR"}),
        _line("no-qty", 2, "LineAdded", {"sku": "A", "unit_price_cents": 100}),
        _line("numeric", 1, "OrderCreated", {"order_id": "numeric", "customer": 42,
                                             "currency": "EUR"}),
        _line("product-X", 1, "ProductRegistered", {"sku": "X", "name": "X",
                                                    "price_cents": 2**70}, "Product"),
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def _append_history(target: str | Path, path: Path) -> None:
    """The history's streams appended through the store itself, event by event (as an older
    esaudit, or a program using the store directly, could have written them)."""
    with open_store(target) as store:
        for line in path.read_text("utf-8").splitlines():
            row = json.loads(line)
            store.append(row["stream_id"], row["stream_type"],
                         [NewEvent(row["type"], row["payload"], row["metadata"])], ANY)


def test_imported_values_are_never_projected(store_target: str, tmp_path: Path) -> None:
    svc = bootstrap(store_target)
    try:
        import_history(svc.store, _history(tmp_path / "h.jsonl"))  # type: ignore[arg-type]
        svc.projector.catch_up()  # type: ignore[union-attr]
        assert svc.queries.unprojectable() == [] and svc.queries.orders() == []
        audit = audit_projections(svc.comparer)
        assert audit.ok and audit.orders_checked == 0
        assert {(n.stream_type, n.streams) for n in audit.not_audited} == {("Order", 5),
                                                                          ("Product", 1)}
    finally:
        svc.close()


def test_appended_values_a_read_model_cannot_hold_are_findings(store_target: str,
                                                               tmp_path: Path) -> None:
    _append_history(store_target, _history(tmp_path / "h.jsonl"))
    svc = bootstrap(store_target)
    try:
        svc.projector.catch_up()
        held = {(u.projection, u.stream_id): u for u in svc.queries.unprojectable()}
        assert set(held) == {("order_summary", "huge"), ("order_summary", "no-qty"),
                             ("order_summary", "numeric"), ("product_catalogue", "product-X")}
        assert held[("order_summary", "huge")].version == 3
        assert "total_cents" in held[("order_summary", "huge")].reason
        assert held[("order_summary", "no-qty")].version == 2
        assert "KeyError" in held[("order_summary", "no-qty")].reason
        assert "customer" in held[("order_summary", "numeric")].reason
        assert svc.queries.order("huge") is None and svc.queries.order("ok-1") is not None
        audit = audit_projections(svc.comparer)
        assert not audit.ok and audit.mismatches == []
        assert {u.stream_id for u in audit.unprojectable} == {"huge", "no-qty", "numeric",
                                                               "product-X"}
        assert svc.projector.rebuild() == 11
        assert len(svc.queries.unprojectable()) == 4
        assert [o.order_id for o in svc.queries.orders()] == ["ok-1", "ok-2"]
    finally:
        svc.close()
    bootstrap(store_target).close()  # opens writable again


def test_the_cli_keeps_working_on_such_a_store(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    _append_history(db, _history(tmp_path / "h.jsonl"))
    for args in (["stats"], ["verify"], ["streams"], ["events", "huge"], ["replay", "huge"],
                 ["projections", "status"], ["projections", "rebuild"],
                 ["order", "create", "--customer", "D"]):
        result = esaudit(db, *args)
        assert result.returncode == 0, (args, result.stderr)
    audit = esaudit(db, "audit-projections", "--json")
    assert audit.returncode == 1
    found = json.loads(audit.stdout)
    assert found["ok"] is False
    assert {u["stream_id"] for u in found["unprojectable"]} == {"huge", "no-qty", "numeric",
                                                                 "product-X"}
    text = esaudit(db, "audit-projections")
    assert "4 stream(s) a read model cannot hold" in text.stdout and "huge" in text.stdout


def test_the_app_opens_such_a_store(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QSettings

    from ui.main_window import MainWindow

    db = tmp_path / "s.db"
    _append_history(db, _history(tmp_path / "h.jsonl"))
    win = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.loaded, timeout=15_000):
        win.open_target(str(db))
    assert win.session.is_open and not win.session.read_only
    win.session.close()
