"""The stream browser stays lazy at any size: a row per stream, pages read only when shown."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer

from store import NewEvent
from ui.main_window import MainWindow
from ui.models import stream_table


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 4 rows and a cache of 2 pages, so the demo's 24 streams span six pages."""
    monkeypatch.setattr(stream_table, "PAGE", 4)
    monkeypatch.setattr(stream_table, "CACHED_PAGES", 2)


def test_every_stream_is_a_row_but_only_shown_pages_are_read(  # type: ignore[no-untyped-def]
        qtbot, small_pages: None, opened: MainWindow) -> None:
    model = opened.streams.model
    opened.streams.table.hide()  # nothing painted: a page is read only when a row is asked for
    with qtbot.waitSignal(model.counted, timeout=3000):
        model.reload()
    queries = opened.session.services.queries
    everything = [r.stream_id for r in queries.stream_rows()]
    assert model.rowCount() == len(everything) > 4 * 2
    assert list(model._pages) == [0]
    last = len(everything) - 1
    assert model.stream_at(last).stream_id == everything[last]  # read straight from its page
    assert list(model._pages) == [0, last // 4]
    assert [model.stream_at(i).stream_id for i in range(len(everything))] == everything
    assert len(model._pages) == 2  # older pages were let go


def test_a_stream_far_down_is_found_without_reading_the_pages_before_it(  # type: ignore[no-untyped-def]
        qtbot, small_pages: None, opened: MainWindow) -> None:
    model = opened.streams.model
    table = opened.streams.table
    with qtbot.waitSignal(model.counted, timeout=3000):
        table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    everything = [r.stream_id for r in opened.session.services.queries.stream_rows(
        sort="version", descending=True)]
    target = everything[-2]
    model._pages.clear()
    assert model.row_of(target) == len(everything) - 2
    assert list(model._pages) == [(len(everything) - 2) // 4]  # its own page, none before
    opened.session.select_stream(target)
    qtbot.waitUntil(lambda: bool(table.selectionModel().selectedRows()), timeout=3000)
    row = table.selectionModel().selectedRows()[0].row()
    assert model.stream_at(row).stream_id == target


def test_a_filter_matching_one_page_needs_no_count(  # type: ignore[no-untyped-def]
        qtbot, small_pages: None, opened: MainWindow) -> None:
    calls: list[str] = []
    queries = opened.session.services.queries
    original = queries.count_streams
    queries.count_streams = lambda *a, **k: calls.append("count") or original(*a, **k)
    model = opened.streams.model
    oid = next(r.stream_id for r in queries.stream_rows() if r.stream_type == "Order")
    with qtbot.waitSignal(model.counted, timeout=3000):
        model.set_filter(oid)
    assert model.rowCount() == 1 and not calls
    with qtbot.waitSignal(model.counted, timeout=3000):
        model.set_filter("product")
    assert model.rowCount() == queries.count_streams("product") and calls


def test_a_list_read_before_a_stream_was_written_does_not_select_another_stream(  # type: ignore[no-untyped-def]
        qtbot, small_pages: None, opened: MainWindow) -> None:
    model = opened.streams.model
    with qtbot.waitSignal(model.counted, timeout=3000):
        model.reload()
    model.stream_at(0)  # the first page of this list in memory, whatever the view painted
    opened.session.services.store.append("aaa-new", "Thing", [NewEvent("Made", {})], 0)
    assert model.row_of("aaa-new") == -1  # its count says row 0, where the old list has another
    with qtbot.waitSignal(model.counted, timeout=3000):
        opened.session.historyChanged.emit()
    assert model.row_of("aaa-new") == 0


def test_a_glob_in_the_filter_matches_whole_stream_ids(  # type: ignore[no-untyped-def]
        qtbot, opened: MainWindow) -> None:
    queries = opened.session.services.queries
    ids = [r.stream_id for r in queries.stream_rows()]
    some = next(i for i in ids if i.startswith("ord-"))
    prefix = some[:6]
    opened.streams.filter.setText(f"{prefix.upper()}*")
    expected = [i for i in ids if i.startswith(prefix)]
    qtbot.waitUntil(lambda: opened.streams.model.rowCount() == len(expected), timeout=3000)
    shown = [opened.streams.model.stream_at(r).stream_id for r in range(len(expected))]
    assert shown == expected and len(expected) < len(ids)
    assert opened.streams.count.text() == \
        f"{len(expected)} stream{'s' if len(expected) != 1 else ''} match"


def test_a_filter_is_read_off_the_gui_thread_and_only_the_latest_answer_shown(  # type: ignore[no-untyped-def]
        qtbot, opened: MainWindow) -> None:
    """Each keystroke's list is a scan of every stream: it is read on the pool, the rows shown
    stay until the answer comes, and an answer overtaken by a newer filter is dropped."""
    import threading

    queries = opened.session.services.queries
    model = opened.streams.model
    before = model.rowCount()
    release = threading.Event()
    threads: list[str] = []
    original = queries.stream_rows

    def slow_rows(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        if args and args[0] == "product":
            release.wait(5)
        return original(*args, **kwargs)

    queries.stream_rows = slow_rows
    opened.streams.filter.setText("product")
    qtbot.waitUntil(lambda: model.reading, timeout=3000)
    assert model.rowCount() == before  # still the rows from before, while the scan runs
    assert opened.streams.count.text() == "Filtering…"
    with qtbot.waitSignal(model.counted, timeout=3000):
        model.set_filter("ord-")  # overtakes the "product" scan, still held
        release.set()
    expected = queries.count_streams("ord-")
    assert model.rowCount() == expected and not model.reading
    qtbot.wait(200)  # the overtaken answer arrives and is dropped
    assert model.rowCount() == expected
    assert threading.main_thread().name not in threads


def test_a_full_first_page_is_shown_before_its_rows_are_counted(  # type: ignore[no-untyped-def]
        qtbot, small_pages: None, opened: MainWindow) -> None:
    """The count is a scan of every stream: the first page does not wait for it, and a count
    overtaken by a newer list does not change that list, nor is it run if it has not started."""
    import threading

    queries = opened.session.services.queries
    model, panel = opened.streams.model, opened.streams
    original = queries.count_streams
    everything, orders = original(), original("ord-")
    assert 4 < orders < everything
    held: list[threading.Event] = []
    threads: list[str] = []

    def slow_count(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        release = threading.Event()
        held.append(release)
        release.wait(5)
        return original(*args, **kwargs)

    queries.count_streams = slow_count
    with qtbot.waitSignal(model.listed, timeout=3000):
        model.reload()
    qtbot.waitUntil(lambda: len(held) == 1, timeout=3000)
    assert model.counting and model.rowCount() == 4
    assert panel.count.text() == "4+ streams, counting…"
    with qtbot.waitSignal(model.counted, timeout=3000):
        held[0].set()
    assert not model.counting and model.rowCount() == everything
    assert panel.count.text() == f"{everything} streams"
    assert model.stream_at(everything - 1) is not None

    with qtbot.waitSignal(model.listed, timeout=3000):
        model.reload()  # its count is held
    qtbot.waitUntil(lambda: len(held) == 2, timeout=3000)
    with qtbot.waitSignal(model.listed, timeout=3000):  # not held up by the count running
        panel.filter.setText("product")
        panel.filter.findChild(QTimer, "streamFilterDebounce").timeout.emit()
    with qtbot.waitSignal(model.listed, timeout=3000):
        panel.filter.setText("ord-")
        panel.filter.findChild(QTimer, "streamFilterDebounce").timeout.emit()
    held[1].set()  # the overtaken count, of all streams; the one of "product" is not run
    qtbot.waitUntil(lambda: len(held) == 3, timeout=3000)
    qtbot.wait(100)
    assert len(held) == 3 and model.rowCount() == 4 and model.counting
    assert panel.count.text() == "4+ streams match, counting…"
    with qtbot.waitSignal(model.counted, timeout=3000):
        held[2].set()
    assert model.rowCount() == orders and not model.counting
    assert panel.count.text() == f"{orders} streams match"
    assert threading.main_thread().name not in threads
