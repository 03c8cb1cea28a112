"""Store ▸ Load model…, remembered per store, and Audit ▸ Check rules in the dock."""

from __future__ import annotations

from pathlib import Path

from tests.histories import ORDER_PLACED, imported_store, write_history
from ui.main_window import MainWindow

from .conftest import when_modal

BANK = """\
[BankAccount]
initial = { balance = 0, status = "open" }
status = "status"
[BankAccount.on.Deposited]
add = { balance = "$.amount" }
[BankAccount.on.Withdrawn]
subtract = { balance = "$.amount" }
from = ["open"]
require = ["$.amount"]
[BankAccount.on.Closed]
set = { status = "closed", reason = "$.reason" }
from = ["open"]
"""


def _bank_store(tmp_path: Path) -> str:
    """A store holding one imported account: 500 + 1000 - 120.25, closed, then a withdrawal."""
    rows = [("Opened", {"owner": "Ada"}), ("Deposited", {"amount": 500}),
            ("Deposited", {"amount": 1000}), ("Withdrawn", {"amount": "120.25"}),
            ("Closed", {"reason": "moved"}), ("Withdrawn", {"amount": 5})]
    history = write_history(tmp_path / "bank.jsonl", "acct-1", "BankAccount", rows)
    return imported_store(tmp_path / "bank.db", history)


def _open(qtbot, win: MainWindow, path: str) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(win.loaded, timeout=20_000):
        win.open_target(path)
    win.session.select_stream("acct-1")


def test_a_loaded_model_replays_the_balance_and_is_remembered_for_the_store(
        qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _bank_store(tmp_path)
    model = tmp_path / "bank.toml"
    model.write_text(BANK, "utf-8")
    _open(qtbot, window, path)
    replay = window.replay
    qtbot.waitUntil(lambda: "at version 6 of 6" in replay.info.text(), timeout=10_000)
    assert "model none" in replay.info.text()
    assert "the events' payload fields merged are shown" in replay.info.text()
    assert window.model_actions.load(model)
    qtbot.waitUntil(lambda: "model file:bank.toml" in replay.info.text(), timeout=10_000)
    assert "Note:" not in replay.info.text()
    assert window.session.services is not None
    state = window.session.services.replayer.replay("acct-1", 4).state
    assert state is not None and str(state["balance"]) == "1379.75"
    window.session.close()
    _open(qtbot, window, path)  # the model comes back with the store
    qtbot.waitUntil(lambda: "model file:bank.toml" in replay.info.text(), timeout=10_000)


def test_a_malformed_model_is_refused_with_its_line(
        qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _open(qtbot, window, _bank_store(tmp_path))
    bad = tmp_path / "bad.toml"
    bad.write_text("[BankAccount]\ninitial = { balance = 0 }\n[BankAccount.on.Deposited]\n"
                   "adds = { balance = \"$.amount\" }\n", "utf-8")
    messages: list[str] = []
    when_modal(lambda box: (messages.append(box.text()), box.accept()))  # type: ignore[attr-defined]
    assert not window.model_actions.load(bad)
    assert messages and messages[0].startswith(f"{bad}:4: ")
    assert window.session.services is not None and window.session.services.models.files == []


def test_check_rules_lists_the_violation_and_shows_its_event(
        qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model = tmp_path / "bank.toml"
    model.write_text(BANK, "utf-8")
    _open(qtbot, window, _bank_store(tmp_path))
    assert window.model_actions.load(model)
    with qtbot.waitSignal(window.jobs.finished, timeout=20_000):
        window.jobs.check_rules.trigger()
    dock = window.audit_dock
    assert dock.tabs.currentIndex() == 2 and dock.violations.rowCount() == 1
    violation = dock.violations.violation(0)
    assert (violation.stream_id, violation.version, violation.rule,
            violation.status_before) == ("acct-1", 6, "from", "closed")
    assert "1 rule violation" in dock.rules_summary.text()
    window.session.select_stream("")
    with qtbot.waitSignal(window.session.eventSelected, timeout=5000) as selected:
        dock.violation_view.doubleClicked.emit(dock.violations.index(0, 0))
    assert window.session.stream_id == "acct-1"
    events = window.session.services.store.read_stream("acct-1", 6, 6)  # type: ignore[union-attr]
    assert selected.args == [events[0].position]


def test_an_imported_order_offers_no_shop_commands(
        qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    history = write_history(tmp_path / "orders.jsonl", "o-1", "Order", ORDER_PLACED, month=2)
    path = imported_store(tmp_path / "shop.db", history)
    with qtbot.waitSignal(window.loaded, timeout=20_000):
        window.open_target(path)
    window.session.select_stream("o-1")
    qtbot.waitUntil(lambda: "at version 3 of 3" in window.replay.info.text(), timeout=10_000)
    assert "model none" in window.replay.info.text()
    actions = window.orders.actions
    assert not any(a.isEnabled() for a in actions.values())
    assert "was not written by esaudit's commands" in actions["pay"].toolTip()
