"""Investigating one stream and one event in the app: the event that last changed each field of
a replayed state, what the inspected event changed, the At field following the slider, and the
trace of an event's correlation and causation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QDateTime, Qt, QTimeZone
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from esaudit.application.records import RecordedEvent
from esaudit.domain import commands as c
from store import ANY, NewEvent, open_store
from ui import replay_panel
from ui.json_tree import item_path, tree_items, tree_values
from ui.main_window import MainWindow
from ui.replay_panel import BEFORE_FIRST, CHANGED, OriginRole

from .test_main_window import select


def changed_column(tree: QTreeWidget) -> dict[str, str]:
    """Every leaf's path -> its Changed text."""
    return {item_path(i): i.text(CHANGED) for i in tree_items(tree) if not i.childCount()}


def item_at(tree: QTreeWidget, path: str) -> QTreeWidgetItem:
    return next(i for i in tree_items(tree) if item_path(i) == path)


def origin_text(e: RecordedEvent) -> str:
    when = e.recorded_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"v{e.version} · {e.type} · {e.metadata['actor']} · {when}"


def selected_version(win: MainWindow) -> int:
    rows = win.events.table.selectionModel().selectedRows()
    assert len(rows) == 1
    return rows[0].row() + 1


def a_delivered_order(win: MainWindow) -> tuple[str, list[RecordedEvent]]:
    store = win.session.services.store  # type: ignore[union-attr]
    for info in store.streams():
        events = store.read_stream(info.stream_id)
        if info.stream_type == "Order" and events[-1].type == "OrderDelivered":
            return info.stream_id, events
    raise AssertionError("the seed has a delivered order")


def test_the_changed_column_names_the_event_that_set_each_field_at_the_head_and_before(
        qtbot, opened: MainWindow) -> None:  # type: ignore[no-untyped-def]
    order, events = a_delivered_order(opened)
    select(qtbot, opened, order)
    state = opened.replay.state_view
    assert state.headerItem().text(CHANGED) == "Changed"
    changed = changed_column(state)
    by_type = {e.type: e for e in events}  # the last of each type
    assert changed["customer"] == changed["order_id"] == origin_text(events[0])
    assert changed["status"] == origin_text(events[-1])  # delivered: the last event
    assert changed["paid_cents"] == origin_text(by_type["PaymentReceived"])
    assert set(changed) == set(tree_values(state))  # every field says where it came from

    placed = by_type["OrderPlaced"]
    opened.replay.slider.setValue(placed.version)
    changed = changed_column(state)
    assert tree_values(state)["status"] == "pending_payment"
    assert changed["status"] == origin_text(placed)
    last_line = max((e for e in events[:placed.version] if e.type in ("LineAdded",
                                                                      "LineRemoved")),
                    key=lambda e: e.version)
    assert changed["total_cents"] == origin_text(last_line)
    assert changed["paid_cents"] == origin_text(events[0])  # zero since the order was created

    state.setCurrentItem(item_at(state, "status"))
    line = opened.replay.origin_line.text()
    assert line.startswith(f"status: changed at v{placed.version} · OrderPlaced")
    assert f"(position {placed.position:,})" in line


def test_an_object_row_names_the_newest_change_inside_it(
        qtbot, opened: MainWindow) -> None:  # type: ignore[no-untyped-def]
    order, events = a_delivered_order(opened)
    select(qtbot, opened, order)
    state = opened.replay.state_view
    lines = item_at(state, "lines")
    assert lines.childCount()
    inside = [i.data(CHANGED, OriginRole)[2] for i in tree_items(state)
              if item_path(i).startswith("lines.") and not i.childCount()]
    newest = events[max(inside) - 1]
    assert newest.type == "LineAdded"
    assert lines.text(CHANGED) == f"v{newest.version} · {newest.type} (newest inside)"
    state.scrollToItem(lines)
    where = state.visualItemRect(lines).center()
    qtbot.mouseClick(state.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(state.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert selected_version(opened) == newest.version


def test_double_clicking_a_field_selects_the_event_that_changed_it(
        qtbot, opened: MainWindow) -> None:  # type: ignore[no-untyped-def]
    order, events = a_delivered_order(opened)
    select(qtbot, opened, order)
    state = opened.replay.state_view
    assert selected_version(opened) == events[-1].version
    customer = item_at(state, "customer")
    state.scrollToItem(customer)
    where = state.visualItemRect(customer).center()
    qtbot.mouseClick(state.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(state.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert selected_version(opened) == 1
    assert tree_values(opened.events.inspector)["type"] == "OrderCreated"
    assert opened.session.stream_id == order


def test_a_field_no_event_changed_says_so(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                          tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text(
        '[Account]\ninitial = { balance = 0, status = "open" }\n'
        '[Account.on.Deposited]\nadd = { balance = "$.amount" }\n')
    with open_store(tmp_path / "s.db") as st:
        st.append("acc-1", "Account", [NewEvent("Deposited", {"amount": 5}, {"actor": "atm"})],
                  ANY)
    with qtbot.waitSignal(window.loaded, timeout=20_000):
        window.open_target(str(tmp_path / "s.db"))
    window.session.services.replayer.models.load_file(tmp_path / "m.toml")  # type: ignore[union-attr]
    window.session.select_stream("acc-1")
    changed = changed_column(window.replay.state_view)
    assert changed["status"] == "initial value (no event)"
    assert changed["balance"].startswith("v1 · Deposited · atm · ")
    status = item_at(window.replay.state_view, "status")
    assert "no event has changed it" in status.toolTip(CHANGED)


def test_a_long_stream_is_blamed_on_the_pool_and_the_newest_version_wins(
        qtbot, opened: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(replay_panel, "QUICK_BLAME", 0)
    order, events = a_delivered_order(opened)
    select(qtbot, opened, order)
    state, jobs = opened.replay.state_view, opened.replay._blames
    assert set(changed_column(state).values()) == {"finding…"}  # not answered in line
    for version in range(len(events), 0, -1):  # a drag down to the first version
        opened.replay.slider.setValue(version)
    qtbot.waitUntil(lambda: jobs.idle, timeout=10_000)
    assert changed_column(state) == {path: origin_text(events[0])
                                     for path in changed_column(state)}
    assert tree_values(state)["status"] == "draft"


def test_the_changes_tab_lists_what_a_line_added(qtbot, opened: MainWindow) -> None:  # type: ignore[no-untyped-def]
    svc = opened.session.services
    svc.commands.execute(c.CreateOrder("ord-ui-lines", "Lin"))  # type: ignore[union-attr]
    svc.commands.execute(c.AddLine("ord-ui-lines", "SKU-1002", 3, 500))  # type: ignore[union-attr]
    svc.commands.execute(c.AddLine("ord-ui-lines", "SKU-1003", 1, 700))  # type: ignore[union-attr]
    opened.session.historyChanged.emit()
    select(qtbot, opened, "ord-ui-lines")
    opened.events.table.selectRow(1)  # the first LineAdded: lines was empty before it
    model = opened.events.changes.model
    qtbot.wait(20)
    assert model.rowCount() == 0  # not replayed while the tab is hidden
    opened.events.detail.setCurrentWidget(opened.events.changes)
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=5000)
    rows = [tuple(model.index(r, col).data() for col in range(4))
            for r in range(model.rowCount())]
    assert rows == [("lines.SKU-1002.qty", "added", "", "3"),
                    ("lines.SKU-1002.unit_price_cents", "added", "", "500"),
                    ("total_cents", "changed", "0", "1500")]
    assert opened.events.detail.tabText(1) == "Changes (3)"
    assert opened.events.changes.info.text().startswith("LineAdded at v2 changed 3 fields")
    opened.events.table.selectRow(2)
    qtbot.waitUntil(lambda: "at v3" in opened.events.changes.info.text(), timeout=5000)
    rows = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert rows == ["lines.SKU-1003.qty", "lines.SKU-1003.unit_price_cents", "total_cents"]
    assert model.index(2, 2).data() == "1500" and model.index(2, 3).data() == "2200"


def test_at_follows_the_slider_and_says_before_the_first_event(
        qtbot, opened: MainWindow) -> None:  # type: ignore[no-untyped-def]
    order, events = a_delivered_order(opened)
    select(qtbot, opened, order)
    replay = opened.replay

    def shown_at() -> datetime:
        return datetime.fromtimestamp(replay.at_edit.dateTime().toSecsSinceEpoch(), UTC)

    assert shown_at() == events[-1].recorded_at.replace(microsecond=0)
    replay.slider.setValue(2)
    assert shown_at() == events[1].recorded_at.replace(microsecond=0)
    replay.at_button.click()  # the instant shown replays to the version shown, not before it
    assert replay.slider.value() == 2
    replay.slider.setValue(0)
    assert replay.at_edit.text() == BEFORE_FIRST
    assert tree_values(replay.state_view) == {}
    replay.at_button.click()
    assert replay.slider.value() == 0
    replay.slider.setValue(3)
    assert replay.at_edit.text() != BEFORE_FIRST
    assert shown_at() == events[2].recorded_at.replace(microsecond=0)
    replay.at_edit.setDateTime(QDateTime.fromSecsSinceEpoch(0, QTimeZone.utc()))  # long before
    assert replay.at_edit.text() == BEFORE_FIRST  # any earlier instant is before the first
    replay.at_button.click()
    assert replay.slider.value() == 0


# -- the trace panel ---------------------------------------------------------------------------
def open_trace(qtbot, win: MainWindow) -> None:  # type: ignore[no-untyped-def]
    action = win.findChild(QAction, "actionTrace")
    assert action.shortcut() == QKeySequence("Alt+3")
    assert action in win.view_menu.actions()
    action.trigger()
    assert win.tabs.currentWidget() is win.trace
    assert win.trace.objectName() == "tracePanel"


def correlation_rows(win: MainWindow) -> list[tuple[str, str]]:
    model = win.trace.model
    return [(model.index(r, 0).data(), model.index(r, 1).data())
            for r in range(model.rowCount())]


def test_the_trace_lists_one_commands_correlation_and_a_click_goes_to_an_event(
        qtbot, opened: MainWindow) -> None:  # type: ignore[no-untyped-def]
    svc = opened.session.services
    run = svc.commands.execute  # type: ignore[union-attr]
    run(c.CreateOrder("ord-ui-cart-a", "Ada"), correlation_id="checkout-7")
    run(c.AddLine("ord-ui-cart-a", "SKU-1001", 1, 100), correlation_id="checkout-7")
    run(c.CreateOrder("ord-ui-cart-b", "Ada"), correlation_id="checkout-7")
    run(c.PlaceOrder("ord-ui-cart-a"), correlation_id="checkout-7")
    opened.session.historyChanged.emit()
    trace = opened.trace
    open_trace(qtbot, opened)
    assert trace.info.text().startswith("Select an event") and not trace.content.isVisible()

    select(qtbot, opened, "ord-ui-cart-a")
    opened.events.table.selectRow(1)
    qtbot.waitUntil(lambda: trace.model.rowCount() == 4, timeout=10_000)
    assert correlation_rows(opened) == [
        ("ord-ui-cart-a@1", "OrderCreated"), ("ord-ui-cart-a@2", "LineAdded"),
        ("ord-ui-cart-b@1", "OrderCreated"), ("ord-ui-cart-a@3", "OrderPlaced")]
    assert "checkout-7: 4 events in 2 streams" in trace.correlation_title.text()
    assert trace.info.text().startswith("Trace of LineAdded ord-ui-cart-a@2")
    bold = [r for r in range(4) if trace.model.index(r, 0).data(Qt.ItemDataRole.FontRole)]
    assert bold == [1]
    assert "the command that appended it" in trace.causation_title.text()
    assert trace.causation.topLevelItemCount() == 1  # no cause or effect among events

    table = trace.correlation
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     pos=table.visualRect(trace.model.index(2, 0)).center())
    assert opened.session.stream_id == "ord-ui-cart-b"
    assert selected_version(opened) == 1
    assert tree_values(opened.events.inspector)["type"] == "OrderCreated"
    qtbot.waitUntil(lambda: trace.info.text().startswith("Trace of OrderCreated ord-ui-cart-b"),
                    timeout=10_000)
    assert trace.model.rowCount() == 4  # the same correlation, now from the clicked event
    assert trace.model.index(2, 0).data(Qt.ItemDataRole.FontRole) is not None


CONVERSATION = [
    ("cart-1", "CheckoutRequested", {"event_id": "e1", "correlation_id": "conv-1",
                                     "causation_id": "e1", "actor": "ada"}),
    ("pay-1", "PaymentTaken", {"event_id": "e2", "correlation_id": "conv-1",
                               "causation_id": "e1", "actor": "psp"}),
    ("stock-1", "StockReserved", {"event_id": "e3", "correlation_id": "conv-1",
                                  "causation_id": "e1"}),
    ("mail-1", "ReceiptSent", {"eventId": "e4", "correlationId": "conv-1",
                               "causationId": "e2", "userId": "mailer"}),
    ("pay-1", "PaymentSettled", {"event_id": "e5", "correlation_id": "conv-1",
                                 "causation_id": "e2"}),
    ("lone", "Alone", {"actor": "nobody"}),
]


def tree_shape(tree: QTreeWidget) -> list[tuple[int, str]]:
    """(depth, event label) of every item, depth first."""
    out: list[tuple[int, str]] = []

    def walk(item: QTreeWidgetItem, depth: int) -> None:
        for i in range(item.childCount()):
            out.append((depth, item.child(i).text(0)))
            walk(item.child(i), depth + 1)

    walk(tree.invisibleRootItem(), 0)
    return out


def test_the_causation_tree_shows_causes_above_and_effects_below(
        qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with open_store(tmp_path / "c.db") as st:
        for sid, type_, meta in CONVERSATION:
            st.append(sid, "Thing", [NewEvent(type_, {"note": type_}, meta)], ANY)
    with qtbot.waitSignal(window.loaded, timeout=20_000):
        window.open_target(str(tmp_path / "c.db"))
    trace = window.trace
    assert trace.info.text().startswith("Select an event")  # nothing selected yet
    open_trace(qtbot, window)
    window.session.select_stream("mail-1")
    qtbot.waitUntil(lambda: trace.causation.topLevelItemCount() == 1, timeout=10_000)
    assert tree_shape(trace.causation) == [(0, "cart-1@1"), (1, "pay-1@1"), (2, "mail-1@1")]
    assert "caused by 2 events above it" in trace.causation_title.text()

    window.session.select_stream("cart-1")
    qtbot.waitUntil(lambda: trace.info.text().startswith("Trace of CheckoutRequested"),
                    timeout=10_000)
    assert tree_shape(trace.causation) == [
        (0, "cart-1@1"), (1, "pay-1@1"), (2, "mail-1@1"), (2, "pay-1@2"), (1, "stock-1@1")]
    settled = trace.causation.topLevelItem(0).child(0).child(1)
    trace.causation.scrollToItem(settled)
    qtbot.mouseClick(trace.causation.viewport(), Qt.MouseButton.LeftButton,
                     pos=trace.causation.visualItemRect(settled).center())
    assert window.session.stream_id == "pay-1" and selected_version(window) == 2
    qtbot.waitUntil(lambda: trace.info.text().startswith("Trace of PaymentSettled"),
                    timeout=10_000)

    window.session.select_stream("lone")
    qtbot.waitUntil(lambda: "has nothing to trace" in trace.info.text(), timeout=10_000)
    assert "no correlation id" in trace.info.text() and not trace.content.isVisible()

    window.session.select_stream("")
    qtbot.waitUntil(lambda: trace.info.text().startswith("Select an event"), timeout=10_000)
