"""Order commands write on the thread pool: the window answers while a write waits."""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QPushButton, QTableView, QWidget

from esaudit.domain import commands as c
from ui.dialogs import NewOrderDialog
from ui.main_window import MainWindow

from .conftest import when_modal
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

    when_modal(fill)
    with qtbot.waitSignal(opened.orders.commandSettled, timeout=10_000) as settled:
        opened.orders.new_order.trigger()
    assert settled.args == [False]
    oid = opened.session.stream_id
    assert oid.startswith("ord-")
    assert messages and f"Order {oid} was created, but the line SKU-NOT-SOLD" in messages[0]
    row = opened.session.services.queries.order(oid)
    assert (row.customer, row.line_count) == ("Partial Pat", 1)
    assert opened.streams.model.row_of(oid) >= 0
