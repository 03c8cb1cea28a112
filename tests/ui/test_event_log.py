"""View ▸ All events: the global log with search filters, read a page at a time as it
scrolls, jump to a date, export of what it finds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDockWidget, QWidget

from esaudit.application.investigate.search import event_search, search
from ui.main_window import MainWindow
from ui.models import event_log_table

from .test_main_window import find


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_log_table, "PAGE", 20)


def everything(win: MainWindow, where: list[str] | None = None, **filters: object) -> list[int]:
    store = win.session.services.store
    found = search(store, event_search(where or [], **filters), limit=100_000)  # type: ignore[arg-type]
    return [e.position for e in found.events]


def shown(win: MainWindow) -> list[int]:
    model = win.event_log.model
    return [model.row_at(r).position for r in range(model.rowCount())]


def open_view(qtbot, win: MainWindow) -> None:  # type: ignore[no-untyped-def]
    action = find(win, QAction, "actionAllEvents")
    assert action.shortcut().toString() == "Ctrl+Shift+L"
    with qtbot.waitSignal(win.event_log.model.pageLoaded, timeout=5000):
        action.trigger()
    assert find(win, QDockWidget, "allEventsDock").isVisible()
    assert find(win, QWidget, "allEventsView") is win.event_log


def search_for(qtbot, win: MainWindow, where: str = "", stream: str = "",  # type: ignore[no-untyped-def]
               types: str = "") -> None:
    panel = win.event_log
    panel.where.setText(where)
    panel.stream.setText(stream)
    panel.types.setEditText(types)
    with qtbot.waitSignal(panel.model.pageLoaded, timeout=5000):
        panel.search_button.click()


def test_every_event_in_position_order_a_page_at_a_time(  # type: ignore[no-untyped-def]
        qtbot, small_pages: None, opened: MainWindow) -> None:
    open_view(qtbot, opened)
    model, table = opened.event_log.model, opened.event_log.table
    all_positions = everything(opened)
    assert len(all_positions) > 60
    assert shown(opened) == all_positions[:20]
    assert "20 events read so far" in opened.event_log.status.text()
    for pages in (2, 3):
        table.scrollToBottom()
        qtbot.waitUntil(lambda n=pages: model.rowCount() == 20 * n, timeout=5000)
    assert shown(opened) == all_positions[:60]
    while model.canFetchMore() or model.loading:
        table.scrollToBottom()
        qtbot.wait(20)
    assert shown(opened) == all_positions
    assert opened.event_log.status.text() == f"{len(all_positions):,} events"


def test_filters_by_a_payload_condition_a_type_and_a_stream_glob(  # type: ignore[no-untyped-def]
        qtbot, opened: MainWindow) -> None:
    open_view(qtbot, opened)
    search_for(qtbot, opened, "payload.qty >= 2")
    expected = everything(opened, ["payload.qty >= 2"])
    assert shown(opened) == expected and 0 < len(expected) < len(everything(opened))
    assert opened.event_log.status.text() == f"{len(expected):,} events match"

    some = opened.session.services.queries.orders()[0].order_id
    glob = some[:5] + "*"
    search_for(qtbot, opened, stream=glob, types="LineAdded, OrderCreated")
    expected = everything(opened, stream_glob=glob, event_types=["LineAdded", "OrderCreated"])
    assert shown(opened) == expected and expected
    model = opened.event_log.model
    assert {model.row_at(r).type for r in range(model.rowCount())} <= {"LineAdded",
                                                                        "OrderCreated"}
    assert all(model.row_at(r).stream_id.startswith(some[:5]) for r in range(model.rowCount()))


def test_a_malformed_filter_says_so_in_one_line_not_a_dialog(  # type: ignore[no-untyped-def]
        qtbot, opened: MainWindow) -> None:
    open_view(qtbot, opened)
    before = shown(opened)
    panel = opened.event_log
    panel.where.setText("qty = 2")
    panel.search_button.click()
    assert panel.error.isVisible()
    assert panel.error.text() == "✖ 'qty = 2': start with payload. or metadata."
    assert QApplication.activeModalWidget() is None
    assert shown(opened) == before  # the last good search stays
    panel.where.setText("")
    panel.since.setText("last tuesday")
    panel.search_button.click()
    assert panel.error.text().startswith("✖ From 'last tuesday' is not a date")
    panel.since.setText("")
    with qtbot.waitSignal(panel.model.pageLoaded, timeout=5000):
        panel.search_button.click()
    assert not panel.error.isVisible()


def test_jump_to_a_date_selects_the_first_event_at_or_after_it(  # type: ignore[no-untyped-def]
        qtbot, small_pages: None, opened: MainWindow) -> None:
    open_view(qtbot, opened)
    store = opened.session.services.store
    log = list(store.iter_events())
    panel, model = opened.event_log, opened.event_log.model

    def selected() -> int:
        rows = panel.table.selectionModel().selectedRows()
        return model.row_at(rows[0].row()).position if rows else 0

    near = log[10]  # on the first page: the list stays and the row is selected
    panel.jump_to(near.recorded_at)
    expected = next(e for e in log if e.recorded_at >= near.recorded_at)
    qtbot.waitUntil(lambda: selected() == expected.position, timeout=5000)
    assert model.started_at == 0 and not panel.from_start.isVisible()

    far = log[-5]  # not read yet: the list starts at it
    with qtbot.waitSignal(model.pageLoaded, timeout=5000):
        panel.jump_to(far.recorded_at)
    expected = next(e for e in log if e.recorded_at >= far.recorded_at)
    qtbot.waitUntil(lambda: selected() == expected.position, timeout=5000)
    assert model.row_at(0).position == expected.position
    assert panel.from_start.isVisible()
    assert f"from position {expected.position:,}" in panel.status.text()
    with qtbot.waitSignal(model.pageLoaded, timeout=5000):
        panel.from_start.click()
    assert model.row_at(0).position == log[0].position and not panel.from_start.isVisible()


def test_export_writes_every_matching_event(  # type: ignore[no-untyped-def]
        qtbot, small_pages: None, opened: MainWindow, tmp_path: Path) -> None:
    open_view(qtbot, opened)
    search_for(qtbot, opened, "payload.qty >= 1")
    expected = everything(opened, ["payload.qty >= 1"])
    assert len(expected) > 20  # more than the rows read: the export is of every match
    out = tmp_path / "found.jsonl"
    with qtbot.waitSignal(opened.event_log.exported, timeout=10_000):
        opened.event_log.export_to(out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == len(expected)
    assert all(line["payload"]["qty"] >= 1 for line in lines)
    assert f"Exported {len(expected):,} events" in opened.event_log.status.text()


def test_double_click_opens_the_event_in_its_stream(  # type: ignore[no-untyped-def]
        qtbot, opened: MainWindow) -> None:
    open_view(qtbot, opened)
    search_for(qtbot, opened, "payload.qty >= 2")
    row = opened.event_log.model.row_at(2)
    opened.event_log.table.doubleClicked.emit(opened.event_log.model.index(2, 0))
    assert opened.session.stream_id == row.stream_id
    assert opened.timeline.focused_position == row.position
    events = opened.events
    rows = events.table.selectionModel().selectedRows()
    assert rows and events.model.event_at(rows[0].row()).position == row.position
