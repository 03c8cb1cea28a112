"""Integrity shown where the data is: after Verify finds a tampered event, it is marked in
the events table, the stream list, the timeline and the All events view, the replay says its
state is built on it, and the status bar no longer calls the read models up to date."""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from ui.main_window import MainWindow
from ui.models.base import FLAGGED_BACKGROUND

from .test_audit_jobs import _run
from .test_main_window import find


def tamper(path: str, stream_id: str, version: int) -> int:
    """Change an event's payload behind the store's back (as an attacker with the file)."""
    with sqlite3.connect(path) as conn:
        pos: int = conn.execute("SELECT position FROM events WHERE stream_id=? AND version=?",
                                (stream_id, version)).fetchone()[0]
        conn.execute("UPDATE events SET payload=replace(payload, '\"qty\":', '\"qty\":9') "
                     "WHERE position=?", (pos,))
    return pos


def background(model, row: int) -> object:  # type: ignore[no-untyped-def]
    brush = model.data(model.index(row, 0), Qt.ItemDataRole.BackgroundRole)
    return None if brush is None else brush.color()


def test_a_tampered_event_is_marked_everywhere_it_shows(  # type: ignore[no-untyped-def]
        qtbot, opened: MainWindow, demo_path: str) -> None:
    _run(qtbot, opened, "verify")
    assert opened.integrity_label.text() == "✔ verified"
    assert opened.lag_label.text() == "read models up to date"

    order = opened.session.services.queries.orders()[3].order_id
    pos = tamper(demo_path, order, 2)
    _run(qtbot, opened, "verify")
    status = find(opened, QLabel, "integrityLabel")
    assert status.text() == "✖ 1 integrity finding" and status.property("verdict") == "bad"
    assert "up to date" not in opened.lag_label.text()
    assert opened.lag_label.text() == "read models built on a history that failed verification"

    # the stream list
    streams = opened.streams.model
    row = streams.row_of(order)
    assert background(streams, row) == FLAGGED_BACKGROUND
    assert "hash_mismatch" in streams.data(streams.index(row, 0), Qt.ItemDataRole.ToolTipRole)
    other = next(r for r in range(streams.rowCount()) if r != row)
    assert background(streams, other) is None

    # the events table
    opened.session.select_stream(order)
    events = opened.events.model
    marked = [r for r in range(events.rowCount()) if background(events, r) is not None]
    assert marked == [1] and events.event_at(1).position == pos
    assert "Failed verification (hash_mismatch)" in events.data(
        events.index(1, 0), Qt.ItemDataRole.ToolTipRole)

    # the timeline
    assert opened.timeline.flagged_positions == [pos] and opened.timeline.flagged_count() == 1
    assert "✖ 1 event failed verification" in opened.timeline.caption.text()

    # the replay: at the head it is built on version 2; at version 1 it is not
    sentence = "This state is built on an event that failed verification (v2)."
    qtbot.waitUntil(lambda: sentence in opened.replay.info.text(), timeout=5000)
    opened.replay.slider.setValue(1)
    qtbot.waitUntil(lambda: "version 1 of" in opened.replay.info.text(), timeout=5000)
    assert sentence not in opened.replay.info.text()

    # the All events view
    with qtbot.waitSignal(opened.event_log.model.pageLoaded, timeout=5000):
        opened.event_log_dock.show()
    log = opened.event_log.model
    assert [r for r in range(log.rowCount()) if background(log, r) is not None] == \
        [log.row_of_position(pos)]

    # verified clean again (the payload put back): every mark goes
    with sqlite3.connect(demo_path) as conn:
        conn.execute("UPDATE events SET payload=replace(payload, '\"qty\":9', '\"qty\":') "
                     "WHERE position=?", (pos,))
    _run(qtbot, opened, "verify")
    assert opened.integrity_label.text() == "✔ verified"
    assert opened.lag_label.text() == "read models up to date"
    assert background(events, 1) is None and background(streams, row) is None
    assert opened.timeline.flagged_count() == 0
    qtbot.waitUntil(lambda: sentence not in opened.replay.info.text(), timeout=5000)


def test_a_failed_read_model_audit_is_said_in_the_status_bar(  # type: ignore[no-untyped-def]
        qtbot, opened: MainWindow, demo_path: str) -> None:
    order = opened.session.services.queries.orders()[1]
    with sqlite3.connect(demo_path) as conn:
        conn.execute("UPDATE rm_order_summary SET total_cents = total_cents + 1 "
                     "WHERE order_id=?", (order.order_id,))
    _run(qtbot, opened, "audit")
    assert opened.lag_label.text() == "✖ read models: 1 field differs from the history"
    assert opened.lag_label.property("verdict") == "bad"


def test_a_check_against_a_seal_marks_the_changed_event(  # type: ignore[no-untyped-def]
        qtbot, opened: MainWindow, demo_path: str, tmp_path) -> None:
    witness, seal = opened.witness, tmp_path / "seal.json"
    with qtbot.waitSignal(witness.finished, timeout=30_000):
        witness.seal_to(seal)
    order = opened.session.services.queries.orders()[2].order_id
    pos = tamper(demo_path, order, 2)
    with qtbot.waitSignal(witness.finished, timeout=30_000):
        witness.verify_against(seal)
    assert pos in opened.timeline.flagged_positions
    assert opened.integrity_label.text().startswith("✖")
    opened.session.select_stream(order)
    events = opened.events.model
    assert background(events, 1) == FLAGGED_BACKGROUND
