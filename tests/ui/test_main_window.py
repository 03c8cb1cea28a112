"""Drive the real widgets on a temp store."""

from __future__ import annotations

from datetime import UTC

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSlider,
    QTableView,
    QTreeWidget,
    QWidget,
)

from esaudit.bootstrap import bootstrap
from esaudit.domain import commands as c
from ui.dialogs import NewOrderDialog
from ui.json_tree import tree_values
from ui.main_window import MainWindow
from ui.models.diff_table import KindRole
from ui.stream_picker import StreamPickerDialog

from .conftest import new_order_through_dialog, refused_open, when_modal


def find(win: MainWindow, cls: type, name: str):  # type: ignore[no-untyped-def]
    widget = win.findChild(cls, name)
    assert widget is not None, name
    return widget


def select(qtbot, win: MainWindow, stream_id: str) -> None:  # type: ignore[no-untyped-def]
    win.streams.filter.setText(stream_id)
    qtbot.waitUntil(lambda: win.streams.model.total() == 1, timeout=3000)
    find(win, QTableView, "streamTable").selectRow(0)
    assert win.session.stream_id == stream_id


def accept(dialog: QWidget) -> None:
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def test_empty_state_first(window: MainWindow) -> None:
    assert window.stack.currentWidget().objectName() == "emptyState"
    assert window.findChild(QPushButton, "createDemoButton").isVisible()
    text = window.findChild(QLabel, "emptyText")
    assert text.height() >= text.heightForWidth(text.width())  # every wrapped line shows
    assert not window.orders.new_order.isEnabled()


def test_open_shows_streams_timeline_and_counts(opened: MainWindow) -> None:
    services = opened.session.services
    stats = services.store.stats()
    assert opened.stack.currentIndex() == 1
    assert find(opened, QTableView, "streamTable").model().total() == stats.streams
    assert opened.timeline.point_count() == stats.events
    assert opened.timeline.lanes() == ["Order", "Product"]
    assert f"{stats.events:,} events" in opened.counts_label.text()
    assert not opened.badge.isVisible()


def test_filter_narrows_the_stream_list(qtbot, opened: MainWindow) -> None:  # type: ignore[no-untyped-def]
    find(opened, QLineEdit, "streamFilter").setText("product")
    qtbot.waitUntil(lambda: opened.streams.model.total() == 12, timeout=3000)
    assert "12 streams match" in opened.streams.count.text()


def test_create_an_order_through_the_dialog(qtbot, opened: MainWindow) -> None:  # type: ignore[no-untyped-def]
    events_before = opened.timeline.point_count()

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, NewOrderDialog)
        dialog.customer.setText("Grace Hopper Test")
        dialog.qty.setValue(3)
        dialog.add_line()
        accept(dialog)

    written, oid = new_order_through_dialog(qtbot, opened, fill)
    assert written is True
    row = opened.session.services.queries.order(oid)
    assert (row.customer, row.line_count, row.status) == ("Grace Hopper Test", 1, "draft")
    # the stream list is read again on the pool: the new order shows once it is in
    qtbot.waitUntil(lambda: opened.streams.model.row_of(oid) >= 0, timeout=3000)
    qtbot.waitUntil(lambda: opened.timeline.point_count() == events_before + 2, timeout=5000)
    assert opened.timeline.highlighted_count() == 2


def test_pay_through_its_action_and_invalid_actions_are_disabled(qtbot, opened: MainWindow  # type: ignore[no-untyped-def]
                                                                 ) -> None:
    svc = opened.session.services
    svc.commands.execute(c.CreateOrder("ord-ui-pay", "Pat"))
    svc.commands.execute(c.AddLine("ord-ui-pay", "SKU-1001", 2))
    opened.session.historyChanged.emit()
    select(qtbot, opened, "ord-ui-pay")
    actions = opened.orders.actions
    assert actions["place"].isEnabled() and actions["add_line"].isEnabled()
    assert not actions["pay"].isEnabled() and not actions["ship"].isEnabled()
    assert not actions["refund"].isEnabled()
    with qtbot.waitSignal(opened.orders.commandSettled, timeout=10_000):
        actions["place"].trigger()
    assert svc.queries.order("ord-ui-pay").status == "pending_payment"
    assert actions["pay"].isEnabled() and not actions["add_line"].isEnabled()

    def pay(dialog: QWidget) -> None:
        amount = dialog.findChild(QDoubleSpinBox, "payAmount")
        assert amount.value() * 100 == svc.queries.order("ord-ui-pay").total_cents
        accept(dialog)

    when_modal(pay)
    with qtbot.waitSignal(opened.orders.commandSettled, timeout=10_000):
        actions["pay"].trigger()
    assert svc.queries.order("ord-ui-pay").status == "paid"
    assert actions["ship"].isEnabled() and not actions["pay"].isEnabled()
    assert "paid" in tree_values(find(opened, QTreeWidget, "stateView")).values()


def test_slider_replays_and_compare_shows_changed_paths(qtbot, opened: MainWindow) -> None:  # type: ignore[no-untyped-def]
    svc = opened.session.services
    svc.commands.execute(c.CreateOrder("ord-ui-slide", "Sam"))
    svc.commands.execute(c.AddLine("ord-ui-slide", "SKU-1002", 1, 500))
    svc.commands.execute(c.AddLine("ord-ui-slide", "SKU-1003", 2, 700))
    svc.commands.execute(c.PlaceOrder("ord-ui-slide"))
    opened.session.historyChanged.emit()
    select(qtbot, opened, "ord-ui-slide")
    slider = find(opened, QSlider, "versionSlider")
    state = find(opened, QTreeWidget, "stateView")
    assert slider.maximum() == 4 and slider.value() == 4
    assert tree_values(state)["status"] == "pending_payment"
    slider.setValue(2)
    values = tree_values(state)
    assert values["status"] == "draft" and values["total_cents"] == "500"
    added = svc.store.read_stream("ord-ui-slide", 2, 2)[0]
    assert (f"at version 2 of 4 (LineAdded, "
            f"{added.recorded_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)") in \
        find(opened, QLabel, "replayInfo").text()
    assert "lines.SKU-1003.qty" not in values
    slider.setValue(0)
    assert tree_values(state) == {}

    opened.tabs.setCurrentWidget(opened.compare)
    opened.compare.version_a.setValue(1)
    opened.compare.version_b.setValue(4)
    opened.compare.run.click()
    model = opened.compare.model
    paths = {model.index(r, 0).data(): model.index(r, 0).data(KindRole)
             for r in range(model.rowCount())}
    assert paths == {"lines.SKU-1002": "added", "lines.SKU-1003": "added",
                     "status": "changed", "total_cents": "changed"}
    assert "2 changed · 2 added · 0 removed" in opened.compare.counts.text()


def test_another_writer_meanwhile_gives_the_conflict_message(qtbot, opened: MainWindow,  # type: ignore[no-untyped-def]
                                                             demo_path: str) -> None:
    svc = opened.session.services
    svc.commands.execute(c.CreateOrder("ord-ui-race", "Rae"))
    svc.commands.execute(c.AddLine("ord-ui-race", "SKU-1001", 1, 100))
    opened.session.historyChanged.emit()
    select(qtbot, opened, "ord-ui-race")
    assert opened.session.stream_info.version == 2
    other = bootstrap(demo_path)  # another writer, its own connections
    other.commands.execute(c.AddLine("ord-ui-race", "SKU-1002", 1, 100))
    other.close()
    seen: list[str] = []

    def answer(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        box.button(QMessageBox.StandardButton.Yes).click()

    when_modal(answer)
    with qtbot.waitSignal(opened.orders.commandSettled, timeout=10_000) as settled:
        opened.orders.actions["place"].trigger()
    assert settled.args == [False]
    assert seen and "changed by another writer" in seen[0]
    assert "now at version 3, you saw version 2" in seen[0]
    assert svc.store.stream("ord-ui-race").version == 3  # nothing written by us
    assert svc.queries.order("ord-ui-race").status == "draft"
    assert opened.session.stream_info.version == 3  # reloaded


def test_a_click_on_a_timeline_mark_selects_the_event(qtbot, opened: MainWindow) -> None:  # type: ignore[no-untyped-def]
    svc = opened.session.services
    target = next(e for e in svc.store.iter_events() if e.type == "OrderShipped")
    x, y = opened.timeline.point_xy(target.position)
    plot = opened.timeline.plot
    vb = plot.getPlotItem().getViewBox()
    vb.setRange(xRange=(x - 3600, x + 3600), yRange=(y - 0.5, y + 0.5), padding=0)
    qtbot.wait(50)
    point = plot.mapFromScene(vb.mapViewToScene(QPointF(x, y)))
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert opened.session.stream_id == target.stream_id
    table = find(opened, QTableView, "eventTable")
    selected = table.selectionModel().selectedRows()
    assert selected and opened.events.model.event_at(selected[0].row()).position == \
        target.position
    inspector = tree_values(find(opened, QTreeWidget, "eventInspector"))
    assert inspector["type"] == "OrderShipped" and inspector["hash"] == target.hash


def test_read_only_shows_the_badge_and_disables_writes(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                       demo_path: str) -> None:
    with qtbot.waitSignal(window.loaded, timeout=20_000):
        window.open_target(demo_path, read_only=True)
    assert window.badge.isVisible()
    assert "[read-only]" in window.windowTitle()
    assert not window.orders.new_order.isEnabled()
    first_order = window.session.services.queries.orders()[0].order_id
    select(qtbot, window, first_order)
    assert not any(a.isEnabled() for a in window.orders.actions.values())
    assert not window.rebuild_action.isEnabled()


def test_a_bad_file_gives_a_clear_error(qtbot, window: MainWindow, tmp_path) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 20)
    assert "not a readable SQLite database" in refused_open(qtbot, window, str(junk))
    assert window.stack.currentWidget().objectName() == "emptyState"
    assert junk.read_bytes() == b"not a database at all" * 20


def test_two_streams_are_compared_by_picking_the_other_with_the_mouse(  # type: ignore[no-untyped-def]
        qtbot, opened: MainWindow) -> None:
    queries = opened.session.services.queries
    first, second = [r.stream_id for r in queries.stream_rows("Order", limit=2)]
    select(qtbot, opened, first)
    compare = opened.compare
    opened.tabs.setCurrentWidget(compare)
    compare.mode.setCurrentText("Two streams")
    assert compare.pick.isVisible()

    seen: list[bool] = []

    def pick(dialog: QWidget) -> None:
        try:  # a failed check must not leave the modal dialog waiting forever
            assert isinstance(dialog, StreamPickerDialog)
            seen.append(dialog.ok.isEnabled())  # nothing chosen yet: False
            dialog.filter.setText(second)
            qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=3000)
            rect = dialog.table.visualRect(dialog.model.index(0, 0))
            qtbot.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton,
                             pos=rect.center())
            seen.append(dialog.ok.isEnabled())
            dialog.ok.click()
        except BaseException:
            dialog.reject()
            raise

    when_modal(pick)
    compare.pick.click()
    assert seen == [False, True]
    assert compare.other.text() == second
    changed = {ch.path: ch for ch in compare.model.changes()}
    assert (changed["order_id"].old, changed["order_id"].new) == (first, second)
    assert compare.counts.text().startswith(f"{first} → {second}:")
    assert opened.session.stream_id == first  # picking did not change the selection


def test_the_event_table_shows_every_column_at_the_default_layout(
        qtbot, opened: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """At 1440 px the side panel's controls must not squeeze the event table into a
    horizontal scroll (a one-row compare bar or an unwrapped label would ask ~460 px)."""
    assert opened.tabs.minimumSizeHint().width() <= 400
    select(qtbot, opened, opened.streams.model.stream_at(0).stream_id)
    table = find(opened, QTableView, "eventTable")
    qtbot.waitUntil(lambda: table.model().rowCount() > 0)
    qtbot.wait(50)
    header = table.horizontalHeader()
    assert header.length() <= table.viewport().width()
    assert not table.horizontalScrollBar().isVisible()
    long_id = "ord-" + "x" * 120
    opened.tabs.widget(0).info.setText(f"Order {long_id} at version 6 of 6")
    opened.tabs.widget(1).counts.setText(" ".join(["3 changed, 1 added, 0 removed"] * 6))
    assert opened.tabs.minimumSizeHint().width() <= 400


def test_the_empty_event_table_shows_its_column_titles_whole(opened: MainWindow) -> None:
    """Before any stream is selected the columns are already as wide as their titles: Qt's
    default width cuts "Recorded (UTC)" down to "ecorded (UTC"."""
    table = find(opened, QTableView, "eventTable")
    assert table.model().rowCount() == 0
    header = table.horizontalHeader()
    metrics = header.fontMetrics()
    for column in range(table.model().columnCount()):
        title = str(table.model().headerData(column, Qt.Orientation.Horizontal))
        assert header.sectionSize(column) >= metrics.horizontalAdvance(title), title
