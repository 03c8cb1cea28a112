"""The audit jobs driven through the app: verify, audit read models, report, import."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLineEdit, QTableView

from esaudit.application.transfer import export_history
from store import open_store
from ui.main_window import MainWindow

from .conftest import when_modal
from .test_main_window import accept, find


def _double_click_row(qtbot, view: QTableView, row: int) -> None:  # type: ignore[no-untyped-def]
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _run(qtbot, win: MainWindow, action: str) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(win.jobs.finished, timeout=30_000):
        getattr(win.jobs, action).trigger()


def test_verify_clean_then_a_tampered_event_is_found_and_shown(
        qtbot, opened: MainWindow, demo_path: str) -> None:  # type: ignore[no-untyped-def]
    _run(qtbot, opened, "verify")
    assert opened.audit_dock.isVisible()
    assert "Clean" in opened.audit_dock.verify_summary.text()
    assert opened.audit_dock.findings.rowCount() == 0

    order = opened.session.services.queries.orders()[3].order_id
    with sqlite3.connect(demo_path) as conn:
        pos = conn.execute("SELECT position FROM events WHERE stream_id=? AND version=2",
                           (order,)).fetchone()[0]
        conn.execute("UPDATE events SET payload=replace(payload, '\"qty\":', '\"qty\":9') "
                     "WHERE position=?", (pos,))
    _run(qtbot, opened, "verify")
    table = find(opened, QTableView, "findingsTable")
    assert table.model().rowCount() == 1
    finding = opened.audit_dock.findings.finding(0)
    assert (finding.kind, finding.stream_id, finding.position) == ("hash_mismatch", order, pos)
    assert "1 finding" in opened.audit_dock.verify_summary.text()
    _double_click_row(qtbot, table, 0)
    assert opened.session.stream_id == order
    assert opened.timeline.focused_position == pos
    events = find(opened, QTableView, "eventTable")
    rows = events.selectionModel().selectedRows()
    assert rows and opened.events.model.event_at(rows[0].row()).position == pos


def test_a_store_with_an_instant_edited_to_text_opens_and_verify_names_the_event(
        qtbot, window: MainWindow, demo_path: str) -> None:  # type: ignore[no-untyped-def]
    """The timeline cannot draw such a store, so it stays empty and says why; the store
    still opens, and Verify finds the edit."""
    with sqlite3.connect(demo_path) as conn:
        conn.execute("UPDATE events SET recorded_at = 'noon' WHERE position = 30")
        stream, version = conn.execute("SELECT stream_id, version FROM events "
                                       "WHERE position = 30").fetchone()
    with qtbot.waitSignal(window.loaded, timeout=20_000):
        window.open_target(demo_path)
    caption = window.timeline.caption.text()
    assert caption.startswith("The timeline is not drawn: the event at position 30 holds a "
                              "time esaudit never writes ('noon')")
    assert "Verify integrity" in window.timeline.caption.toolTip()
    assert window.timeline.point_count() == 0
    assert window.streams.model.rowCount() > 0  # the rest of the store is there
    window.session.select_stream(stream)  # its other versions show, that one says why not
    model = window.events.model
    row = version - 1
    assert model.rowCount() >= version and model.event_at(0) is not None
    assert model.event_at(row) is None
    assert [model.data(model.index(row, k)) for k in range(3)] == [version, "", "not readable"]
    assert "position 30" in model.data(model.index(row, 0), Qt.ItemDataRole.ToolTipRole)
    window.events.table.selectRow(row)
    assert "changed after it was written" in window.events.inspector.topLevelItem(0).text(1)
    assert model.row_of_position(30) == row  # found by position past the unreadable row
    _run(qtbot, window, "verify")
    finding = window.audit_dock.findings.finding(0)
    assert (finding.kind, finding.stream_id, finding.version) == (
        "malformed_event", stream, version)
    window.session.close()
    assert window.timeline.caption.text() == "No store open"


def test_a_payload_edited_to_non_json_is_named_when_its_stream_is_replayed(
        qtbot, window: MainWindow, demo_path: str) -> None:  # type: ignore[no-untyped-def]
    with sqlite3.connect(demo_path) as conn:
        stream, version, position = conn.execute(
            "SELECT stream_id, version, position FROM events WHERE stream_type = 'Order' "
            "AND version = 2 LIMIT 1").fetchone()
        conn.execute("UPDATE events SET payload = '{not json' WHERE position = ?", (position,))
    with qtbot.waitSignal(window.loaded, timeout=20_000):
        window.open_target(demo_path)
    window.session.select_stream(stream)
    info = window.replay.info.text()
    assert info.startswith(f"Cannot replay: the event {stream!r} version {version} holds a "
                           "value esaudit never writes")
    window.show_finding(stream, position, version)  # where a Verify finding points
    assert window.events.model.event_at(version - 1) is None
    assert not any(a.isEnabled() for a in window.orders.actions.values())


def test_a_drifted_read_model_is_listed_and_shown_side_by_side(
        qtbot, opened: MainWindow, demo_path: str) -> None:  # type: ignore[no-untyped-def]
    order = opened.session.services.queries.orders()[1]
    with sqlite3.connect(demo_path) as conn:
        conn.execute("UPDATE rm_order_summary SET total_cents = total_cents + 1 "
                     "WHERE order_id=?", (order.order_id,))
    _run(qtbot, opened, "audit")
    table = find(opened, QTableView, "mismatchTable")
    assert table.model().rowCount() == 1
    m = opened.audit_dock.mismatches.mismatch(0)
    assert (m.order_id, m.path, m.read_model, m.replayed) == \
        (order.order_id, "total_cents", order.total_cents + 1, order.total_cents)
    _double_click_row(qtbot, table, 0)
    assert opened.session.stream_id == order.order_id
    assert opened.tabs.currentWidget() is opened.compare
    diff = opened.compare.model.changes()
    assert [(c.path, c.old, c.new) for c in diff] == \
        [("total_cents", order.total_cents + 1, order.total_cents)]


def test_report_dialog_writes_a_pdf_of_the_selected_stream(
        qtbot, opened: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    order = opened.session.services.queries.orders()[0].order_id
    opened.session.select_stream(order)
    out = tmp_path / "audit.pdf"

    def fill(dialog) -> None:  # type: ignore[no-untyped-def]
        assert order in dialog.findChild(QLineEdit, "reportPath").text()
        dialog.findChild(QLineEdit, "reportPath").setText(str(out))
        dialog.findChild(QCheckBox, "reportOpenAfter").setChecked(False)
        dialog.findChild(QCheckBox, "reportUseVersions").setChecked(True)
        accept(dialog)

    when_modal(fill)
    _run(qtbot, opened, "report")
    assert out.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    head = opened.session.services.store.stream(order).head_hash
    assert order in text and head[:16] in text


def test_report_dialog_embeds_a_seal_and_writes_the_digest_file(
        qtbot, opened: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from esaudit.application.witness.sealing import seal
    store = opened.session.services.store
    sealed = seal(store, tmp_path / "seal.json")
    out = tmp_path / "sealed.json"

    def fill(dialog) -> None:  # type: ignore[no-untyped-def]
        dialog.findChild(QLineEdit, "reportPath").setText(str(out))
        dialog.findChild(QLineEdit, "reportSeal").setText(str(tmp_path / "seal.json"))
        dialog.findChild(QCheckBox, "reportOpenAfter").setChecked(False)
        accept(dialog)

    when_modal(fill)
    _run(qtbot, opened, "report")
    report = json.loads(out.read_text("utf-8"))
    assert (report["seal"]["root"], report["seal"]["size"]) == (sealed.root, sealed.size)
    assert report["seal"]["check"]["ok"] is True
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert Path(f"{out}.sha256").read_text() == f"{digest}  sealed.json\n"


def test_import_of_a_bad_file_is_refused_with_its_line_and_changes_nothing(
        qtbot, opened: MainWindow, demo_path: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "other.jsonl"
    other = str(tmp_path / "other.db")
    with open_store(other) as st:
        from store import NewEvent
        st.append("acct-1", "Account", [NewEvent("Opened", {"owner": "Ada"}),
                                        NewEvent("Credited", {"amount": 5})])
        export_history(st, good)
    lines = good.read_text("utf-8").splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(lines[0] + "\n" + lines[1].replace('"version":2', '"version":3') + "\n")
    before = hashlib.sha256(Path(demo_path).read_bytes()).hexdigest()
    events_before = opened.session.services.store.stats().events
    messages: list[str] = []
    when_modal(lambda box: (messages.append(box.text()), box.accept()))
    opened.jobs.import_from(bad)
    qtbot.waitUntil(lambda: bool(messages), timeout=10_000)
    assert f"{bad}:2: version gap" in messages[0]
    assert "store is unchanged" in messages[0]
    assert opened.session.services.store.stats().events == events_before
    assert hashlib.sha256(Path(demo_path).read_bytes()).hexdigest() == before

    with qtbot.waitSignal(opened.jobs.finished, timeout=20_000):
        opened.jobs.import_from(good)
    assert opened.session.services.store.stats().events == events_before + 2
    qtbot.waitUntil(lambda: opened.timeline.point_count() == events_before + 2, timeout=10_000)


def test_read_only_session_audits_and_leaves_the_file_byte_for_byte(
        qtbot, window: MainWindow, demo_path: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with open_store(demo_path) as st:  # a clean checkpoint so the file is settled
        st.stats()
    before = hashlib.sha256(Path(demo_path).read_bytes()).hexdigest()
    with qtbot.waitSignal(window.loaded, timeout=20_000):
        window.open_target(demo_path, read_only=True)
    assert not window.jobs.import_.isEnabled()
    _run(qtbot, window, "verify")
    assert "Clean" in window.audit_dock.verify_summary.text()
    _run(qtbot, window, "audit")
    assert "matches its history" in window.audit_dock.audit_summary.text()
    out = tmp_path / "ro.json"
    from esaudit.application.transfer import Selection
    with qtbot.waitSignal(window.jobs.finished, timeout=20_000):
        window.jobs.write_report(Selection(), None, out)
    assert json.loads(out.read_text("utf-8"))["integrity"]["ok"] is True
    window.session.close()
    assert hashlib.sha256(Path(demo_path).read_bytes()).hexdigest() == before
