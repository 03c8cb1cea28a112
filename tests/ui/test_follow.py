"""View ▸ Follow new events: what another process appends shows in the stream list, the
events table and the timeline without a reload, the selection and the zoom kept."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtGui import QAction

from esaudit.domain import commands as c
from store import ANY, NewEvent
from ui.main_window import MainWindow

from .test_main_window import find

ROOT = Path(__file__).resolve().parents[2]
SHOWN_WITHIN_MS = 3000
"""The target is 2 s (a check every second, then the views); a loaded test machine gets one
more second."""


def esaudit(db: str, *args: str) -> str:
    """The command line in a process of its own: another writer of the store."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "esaudit", "--db", db, *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_events_another_process_appends_show_up_keeping_selection_and_zoom(  # type: ignore[no-untyped-def]
        qtbot, opened: MainWindow, demo_path: str) -> None:
    follow = find(opened, QAction, "actionFollow")
    assert follow.isCheckable() and follow.isChecked() and follow.isEnabled()
    assert opened.follow.following
    oid = opened.session.services.queries.orders()[2].order_id
    opened.session.select_stream(oid)
    opened.events.table.selectRow(1)
    view = opened.timeline.plot.getPlotItem().getViewBox()
    first, last = opened.timeline.time_span()
    zoom = (first + (last - first) * 0.2, first + (last - first) * 0.6)
    view.setXRange(*zoom, padding=0)
    events_before = opened.timeline.point_count()
    with qtbot.waitSignal(opened.event_log.model.pageLoaded, timeout=5000):
        opened.event_log_dock.show()
    log = opened.event_log.model
    assert log.complete and log.rowCount() == events_before

    new = esaudit(demo_path, "order", "create", "--customer", "Live Writer")
    written = time.perf_counter()
    qtbot.waitUntil(lambda: opened.streams.model.row_of(new) >= 0, timeout=SHOWN_WITHIN_MS)
    listed_s = time.perf_counter() - written
    qtbot.waitUntil(lambda: opened.timeline.point_count() == events_before + 1,
                    timeout=SHOWN_WITHIN_MS)
    assert opened.session.stream_id == oid  # the selection stays
    rows = opened.streams.table.selectionModel().selectedRows()
    assert rows and opened.streams.model.stream_at(rows[0].row()).stream_id == oid
    assert [r.row() for r in opened.events.table.selectionModel().selectedRows()] == [1]
    (x0, x1), _ = view.viewRange()
    assert (x0, x1) == zoom  # the zoom stays
    assert f"{events_before + 1:,} events" in opened.counts_label.text()
    qtbot.waitUntil(lambda: log.rowCount() == events_before + 1, timeout=SHOWN_WITHIN_MS)
    assert log.row_at(events_before).stream_id == new  # All events follows its tail too

    # The selected stream grows: its new event is a row, the selected row stays.
    opened.session.select_stream(new)
    opened.events.table.selectRow(0)
    esaudit(demo_path, "order", "add-line", new, "--sku", "SKU-1001", "--qty", "2")
    qtbot.waitUntil(lambda: opened.events.model.rowCount() == 2, timeout=SHOWN_WITHIN_MS)
    assert opened.events.model.event_at(1).type == "LineAdded"
    assert [r.row() for r in opened.events.table.selectionModel().selectedRows()] == [0]
    assert opened.session.stream_info.version == 2
    assert listed_s < SHOWN_WITHIN_MS / 1000
    # The replay shown at the head follows it; one at an earlier version stays there.
    replay = opened.replay
    qtbot.waitUntil(lambda: "at version 2 of 2" in replay.info.text(), timeout=SHOWN_WITHIN_MS)
    assert replay.slider.maximum() == 2
    replay.slider.setValue(1)
    esaudit(demo_path, "order", "add-line", new, "--sku", "SKU-1001", "--qty", "1")
    qtbot.waitUntil(lambda: replay.slider.maximum() == 3, timeout=SHOWN_WITHIN_MS)
    assert replay.slider.value() == 1
    qtbot.waitUntil(lambda: "at version 1 of 3" in replay.info.text(), timeout=SHOWN_WITHIN_MS)


def test_with_follow_off_nothing_is_read_until_it_is_on_again(  # type: ignore[no-untyped-def]
        qtbot, opened: MainWindow, demo_path: str) -> None:
    follow = opened.follow.action
    follow.trigger()  # off, as the user turns it off: remembered
    assert not follow.isChecked() and not opened.follow.following
    assert str(opened.settings.value("follow/enabled")).lower() == "false"
    polls = opened.follow.polls
    new = esaudit(demo_path, "order", "create", "--customer", "Unseen")
    qtbot.wait(1500)
    assert opened.streams.model.row_of(new) < 0 and opened.follow.polls == polls
    follow.trigger()
    qtbot.waitUntil(lambda: opened.streams.model.row_of(new) >= 0, timeout=SHOWN_WITHIN_MS)


def test_a_write_of_this_window_is_not_announced_twice(  # type: ignore[no-untyped-def]
        qtbot, opened: MainWindow) -> None:
    told: list[int] = []
    opened.follow.caughtUp.connect(lambda: told.append(1))
    services = opened.session.services
    services.writing("test").commands.execute(c.CreateOrder("ord-window", "Here"))
    opened.session.historyChanged.emit()  # as the window's own commands do
    qtbot.wait(2300)
    assert told == []


def test_a_timeline_showing_the_newest_event_slides_to_new_ones_at_the_same_zoom(  # type: ignore[no-untyped-def]
        qtbot, opened: MainWindow, demo_path: str) -> None:
    view = opened.timeline.plot.getPlotItem().getViewBox()
    store = opened.session.services.store
    last_at = opened.timeline.time_span()[1]
    width = 3 * 86_400.0
    view.setXRange(last_at - width + 3600, last_at + 3600, padding=0)
    events = opened.timeline.point_count()
    at = datetime.fromtimestamp(last_at + 86_400, UTC)
    # another program's append (the store's own connection; the window sees it by polling)
    store.append("ext-1", "Thing", [NewEvent("Ticked", {}, recorded_at=at)], ANY)
    qtbot.waitUntil(lambda: opened.timeline.point_count() == events + 1,
                    timeout=SHOWN_WITHIN_MS)
    (x0, x1), _ = view.viewRange()
    assert x1 - x0 == pytest.approx(width) and x0 <= at.timestamp() <= x1
