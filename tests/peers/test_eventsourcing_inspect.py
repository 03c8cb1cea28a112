"""Investigating a store the eventsourcing library wrote, in the app: each field names the
event that set it (no actor: the library records none), the inspector lists what an event
changed, and the trace says why it has nothing to follow."""

from __future__ import annotations

from tests.peers.eventsourcing_apps import Expected
from tests.peers.test_eventsourcing_app import open_in
from tests.ui.conftest import window  # noqa: F401  (the app fixture)
from ui.json_tree import item_path, tree_items
from ui.main_window import MainWindow
from ui.replay_panel import CHANGED


def test_an_eventsourcing_store_is_blamed_and_its_trace_says_it_records_no_metadata(
        qtbot, window: MainWindow,  # type: ignore[no-untyped-def]  # noqa: F811
        eventsourcing_sqlite_bank: Expected) -> None:
    expected = eventsourcing_sqlite_bank
    open_in(qtbot, window, expected.location)
    account = next(a for a in expected.aggregates if a.class_name == "BankAccount"
                   and len(a.events) >= 2)
    window.session.select_stream(account.id)

    state = window.replay.state_view
    changed = {item_path(i): i.text(CHANGED) for i in tree_items(state) if not i.childCount()}
    assert changed, "the merged payload fields"
    last = account.events[-1]
    first_of = window.session.stream_info.first_version  # type: ignore[union-attr]
    assert any(text.startswith(f"v{last.version} · {last.class_name.rsplit('.', 1)[-1]} · ")
               for text in changed.values())
    assert all(text.startswith("v") and text.count(" · ") == 2 for text in changed.values()), \
        "version · type · time: no actor recorded"
    assert all(int(text[1:].split(" ")[0]) >= first_of for text in changed.values())

    window.events.table.selectRow(window.events.model.rowCount() - 1)
    changes = window.events.changes
    window.events.detail.setCurrentWidget(changes)
    qtbot.waitUntil(lambda: changes.model.rowCount() >= 1, timeout=10_000)
    assert changes.info.text().startswith(f"{last.class_name.rsplit('.', 1)[-1]} at "
                                          f"v{last.version} changed")

    window.show_trace()
    trace = window.trace
    qtbot.waitUntil(lambda: "has nothing to trace" in trace.info.text(), timeout=10_000)
    assert "eventsourcing store records no metadata" in trace.info.text()
    assert not trace.content.isVisible() and trace.model.rowCount() == 0
