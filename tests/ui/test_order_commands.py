"""Order commands write on the thread pool: the window answers while a write waits."""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QTableView,
    QTreeWidget,
    QWidget,
)

from esaudit.domain import commands as c
from ui.dialogs import NewOrderDialog
from ui.main_window import MainWindow

from .conftest import new_order_through_dialog, when_modal
from .test_main_window import accept


def _select(qtbot, win: MainWindow, stream_id: str) -> None:  # type: ignore[no-untyped-def]
    win.streams.filter.setText(stream_id)
    qtbot.waitUntil(lambda: win.streams.model.total() == 1, timeout=3000)
    win.findChild(QTableView, "streamTable").selectRow(0)


def test_a_write_waiting_for_another_process_does_not_freeze_the_window(
    qtbot, opened: MainWindow, demo_path: str,  # type: ignore[no-untyped-def]
) -> None:
    svc = opened.session.services
    svc.commands.execute(c.CreateOrder("ord-ui-wait", "Wes"))
    svc.commands.execute(c.AddLine("ord-ui-wait", "SKU-1001", 1, 100))
    opened.session.historyChanged.emit()
    _select(qtbot, opened, "ord-ui-wait")
    place = opened.orders.actions["place"]
    holder = sqlite3.connect(demo_path, isolation_level=None)  # another process's writer
    holder.execute("BEGIN IMMEDIATE")
    ticks: list[int] = []
    timer = QTimer(interval=20, timeout=lambda: ticks.append(1))
    timer.start()
    try:
        place.trigger()  # returns at once: the write waits on the pool, not here
        assert not place.isEnabled() and not opened.orders.new_order.isEnabled()
        qtbot.waitUntil(lambda: opened.findChild(QProgressDialog, "progressDialog") is not None
                        and opened.findChild(QProgressDialog, "progressDialog").isVisible(),
                        timeout=5000)
        dialog = opened.findChild(QProgressDialog, "progressDialog")
        assert dialog.findChild(QPushButton) is None  # no Cancel for a write under way
        assert len(ticks) >= 10  # the event loop kept running while the write waited
        assert svc.queries.order("ord-ui-wait").status == "draft"
    finally:
        with qtbot.waitSignal(opened.orders.commandSettled, timeout=20_000) as settled:
            holder.execute("ROLLBACK")
        holder.close()
        timer.stop()
    assert settled.args == [True]
    assert svc.queries.order("ord-ui-wait").status == "pending_payment"
    assert opened.session.stream_info.version == 3
    assert opened.orders.actions["pay"].isEnabled()


def test_a_refused_line_after_the_order_was_created_says_what_was_written(
    qtbot, opened: MainWindow, monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(NewOrderDialog, "chosen_lines",
                        lambda self: [("SKU-1001", 2), ("SKU-NOT-SOLD", 1)])
    messages: list[str] = []

    def fill(dialog: QWidget) -> None:
        dialog.customer.setText("Partial Pat")
        accept(dialog)
        when_modal(lambda box: (messages.append(box.text()),
                                box.button(QMessageBox.StandardButton.Ok).click()))

    written, oid = new_order_through_dialog(qtbot, opened, fill)
    assert written is False
    assert messages and f"Order {oid} was created, but the line SKU-NOT-SOLD" in messages[0]
    row = opened.session.services.queries.order(oid)
    assert (row.customer, row.line_count) == ("Partial Pat", 1)
    # the stream list is read again on the pool: the new order shows once it is in
    qtbot.waitUntil(lambda: opened.streams.model.row_of(oid) >= 0, timeout=3000)


def test_a_long_stream_without_snapshots_replays_off_the_gui_thread(
    qtbot, opened: MainWindow, monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from esaudit.application import models as models_module
    from esaudit.application import replay as replay_module
    from store import NewEvent
    from ui import order_actions, replay_panel
    from ui.json_tree import tree_values

    for module in (replay_module, replay_panel, order_actions):
        monkeypatch.setattr(module, "QUICK_FOLD", 1_000)
    line = {"sku": "SKU-1001", "qty": 1, "unit_price_cents": 100}
    opened.session.services.store.append("ord-imported", "Order", [NewEvent(
        "OrderCreated", {"order_id": "ord-imported", "customer": "Ivy", "currency": "EUR"})] + [
        NewEvent("LineAdded", line) for _ in range(2_999)], 0)  # no snapshots, like an import
    opened.session.historyChanged.emit()
    folds: list[tuple[bool, int]] = []  # (on the GUI thread, events folded)
    original = models_module.fold

    def spy(stream_type, events, state=None):  # type: ignore[no-untyped-def]
        events = list(events)
        folds.append((QThread.currentThread() is QApplication.instance().thread(),
                      len(events)))
        return original(stream_type, events, state)

    monkeypatch.setattr(models_module, "fold", spy)
    _select(qtbot, opened, "ord-imported")
    place = opened.orders.actions["place"]
    assert "Replaying 3,000 events" in opened.replay.info.text()
    assert not place.isEnabled()  # until the state is known
    qtbot.waitUntil(lambda: place.isEnabled(), timeout=20_000)
    qtbot.waitUntil(lambda: "at version 3000 of 3000" in opened.replay.info.text(),
                    timeout=20_000)
    assert tree_values(opened.findChild(QTreeWidget, "stateView"))[
        "lines.SKU-1001.qty"] == "2999"
    qtbot.waitUntil(lambda: opened.replay._blames.idle, timeout=20_000)
    # Folded once for the state and once for the event that changed each field, on the pool.
    assert sum(n for gui, n in folds if not gui) == 6_000
    assert all(n == 0 for gui, n in folds if gui)
    folds.clear()
    opened.replay.slider.setValue(2_500)  # from a remembered state: quick, on this thread
    assert "at version 2500 of 3000" in opened.replay.info.text()
    assert [f for f in folds if f[0]] == [(True, 500)]  # (its blame folds on the pool)
