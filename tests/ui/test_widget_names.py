"""Widgets that scripts, the style sheet and tests find by objectName."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from ui.main_window import MainWindow


def test_the_timeline_plot_is_found_by_its_name(window: MainWindow) -> None:
    found = window.findChild(QWidget, "timeline")
    assert isinstance(found, pg.PlotWidget)
    assert found is window.timeline.plot
    assert window.findChild(pg.PlotWidget, "timeline") is found


def test_the_named_timeline_draws_the_store(opened: MainWindow) -> None:
    plot = opened.findChild(QWidget, "timeline")
    assert plot is opened.timeline.plot and plot.isVisible()
    assert opened.timeline.point_count() == opened.session.services.store.stats().events > 0
