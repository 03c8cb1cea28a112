"""The desktop app on an Emmett store: browsed, filtered, inspected, replayed and compared in
place, every write disabled with its reason, and the database unchanged once it closes."""

from __future__ import annotations

import pytest

from tests.ui.conftest import window  # noqa: F401  (the app fixture)
from ui.json_tree import tree_values
from ui.main_window import MainWindow

from .conftest import EmmettDatabase, database_state

pytestmark = pytest.mark.postgres


def test_the_app_reads_an_emmett_store_and_changes_nothing(
        qtbot, window: MainWindow,  # type: ignore[no-untyped-def]  # noqa: F811
        emmett_db: EmmettDatabase) -> None:
    before = database_state(emmett_db.target)
    streams = emmett_db.expected["streams"]
    with qtbot.waitSignal(window.loaded, timeout=30_000):
        window.open_target(emmett_db.target)
    assert window.store_label.text().startswith("emmett store: ")
    assert window.badge.isVisible() and "never writes" in window.badge.toolTip()
    assert not window.orders.new_order.isEnabled() and not window.jobs.import_.isEnabled()
    assert window.streams.model.rowCount() == len(streams)
    assert window.timeline.point_count() == len(emmett_db.expected["global_order"])

    cart = next(s for s in streams if s["stream_id"].startswith("shopping_cart-"))
    window.streams.filter.setText("shopping_cart")
    qtbot.waitUntil(lambda: window.streams.model.rowCount() == sum(
        s["stream_id"].startswith("shopping_cart-") for s in streams), timeout=5000)
    window.session.select_stream(cart["stream_id"])
    assert window.events.model.rowCount() == cart["current_stream_version"]
    window.events.table.selectRow(0)
    shown = tree_values(window.events.inspector)
    assert shown["type"] == cart["events"][0]["type"]
    assert shown["source.message_id"] == cart["events"][0]["message_id"]
    qtbot.waitUntil(lambda: "no model for shopping_cart" in window.replay.info.text(),
                    timeout=10_000)
    window.tabs.setCurrentWidget(window.compare)
    window.compare.run.click()
    qtbot.waitUntil(lambda: window.compare.counts.text() != "", timeout=10_000)
    window.session.close()
    assert database_state(emmett_db.target) == before
