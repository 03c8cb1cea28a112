"""The event table reads a stream a page of versions at a time, whatever its length."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QTreeWidget

from store import NewEvent
from ui.json_tree import tree_values
from ui.main_window import MainWindow
from ui.models import event_table


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch, opened: MainWindow) -> list[int]:
    """Pages of 8 versions, 2 kept; the numbers of the pages read, in order."""
    model = opened.events.model
    numbers: list[int] = []
    monkeypatch.setattr(event_table, "PAGE", 8)
    monkeypatch.setattr(model, "_pages", event_table.PageCache(
        lambda n: numbers.append(n) or model._read_page(n), 8, 2))
    return numbers


@pytest.fixture
def long_stream(reads: list[int], opened: MainWindow) -> list[int]:
    """A 60-event stream; its events' positions."""
    store = opened.session.services.store
    ticks = [NewEvent("Ticked", {"n": n}, {"actor": "clock"}) for n in range(60)]
    recorded = store.append("long-1", "Thing", ticks, 0)
    opened.session.historyChanged.emit()
    return [e.position for e in recorded]


def test_selecting_a_long_stream_reads_only_the_pages_shown(
    opened: MainWindow, long_stream: list[int], reads: list[int],
) -> None:
    model = opened.events.model
    shown = opened.events.table.viewport().height() // 22 + 1  # rows of 22 px
    opened.session.select_stream("long-1")
    assert model.rowCount() == 60
    assert reads and min(reads) >= (60 - shown) // 8 - 1  # the newest versions, selected
    assert len(reads) == len(set(reads))  # each page read once
    table = opened.events.table
    assert table.selectionModel().selectedRows()[0].row() == 59
    inspector = tree_values(opened.findChild(QTreeWidget, "eventInspector"))
    assert inspector["version"] == "60" and inspector["payload.n"] == "59"
    assert [model.event_at(r).version for r in range(60)] == list(range(1, 61))
    assert len(model._pages) == 2


def test_an_event_far_up_is_found_by_its_position(opened: MainWindow,
                                                  long_stream: list[int]) -> None:
    model = opened.events.model
    opened.session.select_stream("long-1")
    opened.session.eventSelected.emit(long_stream[4])
    assert opened.events.table.selectionModel().selectedRows()[0].row() == 4
    assert model.event_at(4).position == long_stream[4]
    other = next(e.position for e in opened.session.services.store.iter_events()
                 if e.stream_id != "long-1")
    assert model.row_of_position(other) == -1
