"""A big store opens on its per-minute counts: drawn at once, replaced by its events once they
are read, which the window goes on without."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import ui.store_opener
from esaudit.application.jobs import Cancelled
from esaudit.application.timeline import load_timeline
from store import ANY, NewEvent, NotAsWritten, StoreError, open_store
from tests.esaudit.test_timeline_overview import _move_one_event, imported_store
from ui.main_window import MainWindow


@pytest.fixture
def big_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return imported_store(tmp_path, monkeypatch, 6, 50, 20_000_000)


class Gate:
    """Holds the reading of the events until the test lets it go (or makes it fail once)."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.calls = 0
        self.fail_with: StoreError | None = None
        self.raised: list[type[BaseException]] = []
        self.held_calls: int | None = None  # how many calls wait (None: every one)

    def load(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.held_calls is None or self.calls <= self.held_calls:
            assert self.open.wait(20), "the test never let the reading go"
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error
        try:
            return load_timeline(*args, **kwargs)
        except BaseException as e:
            self.raised.append(type(e))
            raise


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    held = Gate()
    monkeypatch.setattr(ui.store_opener, "load_timeline", held.load)
    yield held
    held.open.set()


def _open(qtbot, window: MainWindow, path: str) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.loaded, timeout=20_000):
        window.open_target(path)


def _events_read(qtbot, window: MainWindow) -> Callable[[], bool]:  # type: ignore[no-untyped-def]
    return lambda: window.timeline.overview is None and window.timeline.point_count() > 0


def test_the_counts_are_drawn_first_and_the_events_replace_them(
        qtbot, window: MainWindow, big_path: str, gate: Gate) -> None:  # type: ignore[no-untyped-def]
    _open(qtbot, window, big_path)
    timeline = window.timeline
    assert timeline.overview is not None and timeline.drawn and not timeline.detailed
    assert timeline.point_count() == 0
    assert "events in 6 streams · per-minute counts, reading the events…" in timeline.caption.text()
    assert timeline.lanes() == ["Meter", "Order"]
    assert timeline.density_shown()
    assert window.streams.model.rowCount() == 6  # the window is in use meanwhile
    timeline.plot.getPlotItem().getViewBox().setXRange(1_767_225_600, 1_767_226_200,
                                                       padding=0)
    timeline.update_view()  # zoomed in on the counts: still drawn from them
    assert "per-minute counts" in timeline.caption.text()
    gate.open.set()
    qtbot.waitUntil(_events_read(qtbot, window), timeout=20_000)
    assert timeline.point_count() == 300
    assert "per-minute counts" not in timeline.caption.text()
    (x0, x1), _ = timeline.plot.getPlotItem().getViewBox().viewRange()
    assert (x0, x1) == pytest.approx((1_767_225_600, 1_767_226_200))  # the zoom chosen stays


def test_closing_the_store_while_its_events_are_read_stops_the_reading(
        qtbot, window: MainWindow, big_path: str, gate: Gate) -> None:  # type: ignore[no-untyped-def]
    _open(qtbot, window, big_path)
    worker = window.opener.reading_events
    assert worker is not None
    window.session.close()
    assert window.opener.reading_events is None and worker.cancel_requested
    gate.open.set()
    qtbot.waitUntil(lambda: bool(gate.raised), timeout=10_000)
    assert gate.raised == [Cancelled]  # it stopped before reading a row
    qtbot.wait(100)
    assert window.timeline.overview is None and window.timeline.point_count() == 0
    assert window.timeline.caption.text() == "No store open"


def test_a_failed_reading_keeps_the_counts_and_says_why_until_a_reload(
        qtbot, window: MainWindow, big_path: str, gate: Gate) -> None:  # type: ignore[no-untyped-def]
    gate.fail_with = StoreError("the disk went away")
    gate.open.set()
    _open(qtbot, window, big_path)
    qtbot.waitUntil(lambda: "could not be read" in window.timeline.caption.text(),
                    timeout=10_000)
    assert "the disk went away" in window.timeline.caption.text()
    assert window.timeline.overview is not None and window.opener.reading_events is None
    window.reload()
    qtbot.waitUntil(_events_read(qtbot, window), timeout=20_000)
    assert window.timeline.point_count() == 300 and gate.calls == 2


def test_an_edited_event_found_while_the_events_are_read_points_to_verify_not_reload(
        qtbot, window: MainWindow, big_path: str, gate: Gate) -> None:  # type: ignore[no-untyped-def]
    gate.fail_with = NotAsWritten("the event at position 7 ('a-0' version 2) holds a value "
                                  "esaudit never writes")
    gate.open.set()
    _open(qtbot, window, big_path)
    qtbot.waitUntil(lambda: window.opener.reading_events is None, timeout=10_000)
    caption = window.timeline.caption.text()
    assert caption == ("The timeline is not drawn: the event at position 7 ('a-0' version 2) "
                       "holds a value esaudit never writes")
    assert window.timeline.unreadable and window.timeline.overview is None
    window.session.historyChanged.emit()  # following the store does not read it all again
    qtbot.wait(100)
    assert gate.calls == 1 and window.timeline.caption.text() == caption


def test_events_written_while_the_events_are_read_are_shown_after(
        qtbot, window: MainWindow, big_path: str, gate: Gate) -> None:  # type: ignore[no-untyped-def]
    _open(qtbot, window, big_path)
    with open_store(big_path) as st:
        st.append("a-0", "Meter", [NewEvent("ReadingTaken", {"i": 1})], ANY)
    window.session.historyChanged.emit()  # what following the store does: nothing reads twice
    assert gate.calls == 1
    gate.open.set()
    qtbot.waitUntil(lambda: window.timeline.point_count() == 301, timeout=20_000)
    assert window.timeline.overview is None


def test_counts_found_wrong_by_the_events_are_said_to_be(
        qtbot, window: MainWindow, big_path: str, gate: Gate) -> None:  # type: ignore[no-untyped-def]
    _move_one_event(big_path)
    gate.open.set()
    _open(qtbot, window, big_path)
    qtbot.waitUntil(_events_read(qtbot, window), timeout=20_000)
    caption = window.timeline.caption.text()
    assert caption.startswith("⚠ the store's per-minute counts disagreed with its events in "
                              "2 minutes: drawn from the events now · 300 events in 6 streams")
    assert window.timeline.caption.toolTip() == caption
    window.timeline.fit()
    assert "disagreed" in window.timeline.caption.text()  # it stays while the store is open
    window.session.close()
    assert window.timeline.caption.text() == "No store open"


def test_right_counts_leave_no_remark_and_an_unmoved_view_fits_the_events(
        qtbot, window: MainWindow, big_path: str, gate: Gate) -> None:  # type: ignore[no-untyped-def]
    gate.open.set()
    _open(qtbot, window, big_path)
    qtbot.waitUntil(_events_read(qtbot, window), timeout=20_000)
    assert "⚠" not in window.timeline.caption.text()
    view = window.timeline.plot.getPlotItem().getViewBox()
    first, last = window.timeline.time_span()  # the events' own, not the counted minutes'
    pad = max((last - first) * 0.03, 60.0)
    assert view.viewRange()[0] == pytest.approx([first - pad, last + pad])
    assert window.timeline.caption.text().startswith("300 events in 6 streams")


def test_lanes_toggled_on_the_counts_then_another_store_opened_while_reading(
        qtbot, window: MainWindow, big_path: str, demo_path: str,  # type: ignore[no-untyped-def]
        gate: Gate) -> None:
    _open(qtbot, window, big_path)
    timeline = window.timeline
    timeline.lane_toggle.setChecked(True)  # lanes by event type, drawn from the counts
    assert timeline.lanes() == ["LineAdded", "ReadingTaken"] and timeline.density_shown()
    first = window.opener.reading_events
    gate.held_calls = 1  # the first store's reading waits; the second store's open does not
    with qtbot.waitSignal(window.loaded, timeout=20_000):
        window.open_target(demo_path)
    assert first is not None and first.cancel_requested
    gate.open.set()
    qtbot.waitUntil(lambda: bool(gate.raised), timeout=10_000)
    assert gate.raised == [Cancelled]
    with open_store(demo_path, read_only=True) as st:
        events = st.counts()[0]
    assert timeline.overview is None and timeline.point_count() == events
    assert "per-minute counts" not in timeline.caption.text()
