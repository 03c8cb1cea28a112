"""The app follows an Emmett store while Emmett's own software appends to it: the new events
show without a reload, the selection kept.

This module has its own database (the fixture is per module): it appends, through Emmett.
"""

from __future__ import annotations

import pytest

from tests.ui.conftest import window  # noqa: F401  (the app fixture)
from ui.main_window import MainWindow

from .conftest import EmmettDatabase

pytestmark = pytest.mark.postgres


def test_the_app_follows_what_emmett_appends(
        qtbot, window: MainWindow,  # type: ignore[no-untyped-def]  # noqa: F811
        emmett_db: EmmettDatabase) -> None:
    with qtbot.waitSignal(window.loaded, timeout=30_000):
        window.open_target(emmett_db.target)
    assert window.follow.following  # on by default for a store another program writes
    streams = window.streams.model.rowCount()
    events = window.timeline.point_count()
    product = "product-123"
    window.session.select_stream(product)
    version = window.session.stream_info.version
    window.events.table.selectRow(0)

    after = emmett_db.run_emmett("--more")  # one event for product-123, a new cart of two
    qtbot.waitUntil(lambda: window.streams.model.rowCount() == streams + 1, timeout=5000)
    qtbot.waitUntil(lambda: window.timeline.point_count() == events + 3, timeout=5000)
    assert window.timeline.point_count() == len(after["global_order"])
    assert window.session.stream_id == product
    info = window.session.stream_info
    assert info.version == version + 1
    assert window.events.model.rowCount() == info.version - info.first_version + 1
    assert window.events.model.event_at(window.events.model.rowCount() - 1).type == \
        "StockAdjusted"
    assert [r.row() for r in window.events.table.selectionModel().selectedRows()] == [0]
    window.session.close()
