"""TimelinePanel: every event as a mark at its recorded time, one lane per stream or event type."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from esaudit.application.timeline import TimelineData

from .session import Session

PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3",
           "#8C8C8C", "#CCB974", "#64B5CD", "#2F4B7C", "#A05195", "#F95D6A", "#00A6A6")


class TimelinePanel(QWidget):
    eventClicked = Signal(int)  # position
    cursorMoved = Signal(float)  # seconds since the epoch, UTC

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        pg.setConfigOptions(antialias=True, background="w", foreground="#333")
        self.plot = pg.PlotWidget(objectName="timeline",
                                  axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
        self.plot.setToolTip("Drag to pan, wheel to zoom; click a mark to select its event; "
                             "drag the red line to replay the selected stream at that instant")
        self.plot.showGrid(x=True, y=False, alpha=0.15)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.getPlotItem().hideButtons()
        self.legend = self.plot.addLegend(offset=(10, 4), labelTextSize="8pt", colCount=6)
        self.cursor = pg.InfiniteLine(angle=90, movable=True,
                                      pen=pg.mkPen("#d62728", width=2),
                                      hoverPen=pg.mkPen("#ff0000", width=3))
        self.cursor.setToolTip("Replay instant: drag me")
        self.cursor.sigPositionChangeFinished.connect(
            lambda line: self.cursorMoved.emit(float(line.value())))
        self.lane_toggle = QPushButton("Lanes: stream type", objectName="laneToggle")
        self.lane_toggle.setCheckable(True)
        self.lane_toggle.setToolTip("Switch lanes between stream types and event types (L)")
        self.lane_toggle.setShortcut("L")
        self.lane_toggle.toggled.connect(self._on_lanes_toggled)
        fit = QPushButton("Fit all", objectName="timelineFit")
        fit.setToolTip("Show the whole history (Home)")
        fit.setShortcut("Home")
        fit.clicked.connect(self.fit)
        self.caption = QLabel("No store open", objectName="timelineCaption")
        self.caption.setProperty("muted", True)
        bar = QHBoxLayout()
        bar.addWidget(self.caption, 1)
        bar.addWidget(self.lane_toggle)
        bar.addWidget(fit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.plot)

        self._data: TimelineData | None = None
        self._positions = np.zeros(0, dtype=np.int64)
        self._times = np.zeros(0)
        self._y = np.zeros(0)
        self._stream_ids = np.zeros(0, dtype=object)
        self._items: list[pg.ScatterPlotItem] = []
        self._highlight = pg.ScatterPlotItem(size=13, symbol="o", pen=pg.mkPen("#111", width=2),
                                             brush=pg.mkBrush(0, 0, 0, 0))
        self._highlight.setZValue(10)
        self._highlight.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._focus = pg.ScatterPlotItem(size=22, symbol="o", pen=pg.mkPen("#d62728", width=3),
                                         brush=pg.mkBrush(0, 0, 0, 0))
        self._focus.setZValue(11)
        self._focus.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.focused_position: int | None = None
        self.drawn = False
        session.streamSelected.connect(self._on_stream_selected)
        session.storeClosed.connect(lambda: self.set_data(None))

    # -- data ------------------------------------------------------------------------------
    def set_data(self, data: TimelineData | None) -> None:
        self._data = data
        if data is None or len(data) == 0:
            self._positions = np.zeros(0, dtype=np.int64)
            self._times = np.zeros(0)
            self._stream_ids = np.zeros(0, dtype=object)
        else:
            self._positions = np.asarray(data.positions, dtype=np.int64)
            self._times = np.asarray(data.times, dtype=np.float64)
            self._stream_ids = np.asarray(data.stream_ids, dtype=object)
        self._redraw()
        self.fit()

    def point_count(self) -> int:
        return sum(len(item.data) for item in self._items)

    def lanes(self) -> list[str]:
        return list(self._lane_names)

    def _lane_keys(self) -> list[str]:
        if self._data is None:
            return []
        by_event = self.lane_toggle.isChecked()
        return self._data.event_types if by_event else self._data.stream_types

    def _redraw(self) -> None:
        plot = self.plot.getPlotItem()
        for item in self._items:
            plot.removeItem(item)
        self._items = []
        self.legend.clear()
        plot.removeItem(self._highlight)
        plot.removeItem(self._focus)
        plot.removeItem(self.cursor)
        self._lane_names: list[str] = []
        data = self._data
        if data is None or len(data) == 0:
            self.caption.setText("No events yet" if data is not None else "No store open")
            self.drawn = data is not None
            return
        keys = self._lane_keys()
        self._lane_names = sorted(set(keys))
        lane_of = {name: i for i, name in enumerate(self._lane_names)}
        lanes = np.fromiter((lane_of[k] for k in keys), dtype=np.float64, count=len(keys))
        # A fixed jitter per position spreads marks of one lane so they do not hide each other.
        jitter = ((self._positions * 2654435761) % 1000) / 1000.0 * 0.6 - 0.3
        self._y = lanes + jitter
        types = np.asarray(data.event_types, dtype=object)
        for i, type_name in enumerate(sorted(set(data.event_types))):
            mask = types == type_name
            colour = PALETTE[i % len(PALETTE)]
            item = pg.ScatterPlotItem(x=self._times[mask], y=self._y[mask],
                                      data=self._positions[mask], size=7, pen=None,
                                      brush=pg.mkBrush(colour), hoverable=True,
                                      hoverSize=11, tip=None, name=type_name)
            item.sigClicked.connect(self._on_points_clicked)
            plot.addItem(item)
            self._items.append(item)
        plot.addItem(self._highlight)
        plot.addItem(self._focus)
        self._show_focus()
        plot.addItem(self.cursor)
        axis = plot.getAxis("left")
        axis.setTicks([[(i, name) for i, name in enumerate(self._lane_names)]])
        self.caption.setText(f"{len(data):,} events in {len(set(data.stream_ids)):,} streams, "
                             f"lanes by {'event' if self.lane_toggle.isChecked() else 'stream'}"
                             " type")
        self._on_stream_selected(self.session.stream_id)
        self.drawn = True

    def fit(self) -> None:
        if len(self._times) == 0:
            return
        lo, hi = float(self._times.min()), float(self._times.max())
        pad = max((hi - lo) * 0.03, 60.0)
        self.plot.setXRange(lo - pad, hi + pad, padding=0)
        # Headroom above the top lane keeps the legend off the marks.
        self.plot.setYRange(-0.6, max(len(self._lane_names) - 0.4, 0.6) + 0.9, padding=0)
        if not (lo <= self.cursor.value() <= hi):
            self.cursor.setValue(hi)

    # -- interaction -----------------------------------------------------------------------
    def _on_lanes_toggled(self, by_event: bool) -> None:
        self.lane_toggle.setText("Lanes: event type" if by_event else "Lanes: stream type")
        self._redraw()
        self.fit()

    def _on_points_clicked(self, _item: Any, points: Any, _ev: Any = None) -> None:
        if len(points):
            self.eventClicked.emit(int(points[0].data()))

    def _on_stream_selected(self, stream_id: str) -> None:
        if not stream_id or len(self._positions) == 0:
            self._highlight.setData(x=[], y=[])
            return
        mask = self._stream_ids == stream_id
        self._highlight.setData(x=self._times[mask], y=self._y[mask])

    def stream_of(self, position: int) -> str | None:
        i = int(np.searchsorted(self._positions, position))
        if i < len(self._positions) and self._positions[i] == position:
            return str(self._stream_ids[i])
        return None

    def point_xy(self, position: int) -> tuple[float, float] | None:
        i = int(np.searchsorted(self._positions, position))
        if i < len(self._positions) and self._positions[i] == position:
            return float(self._times[i]), float(self._y[i])
        return None

    def time_span(self) -> tuple[float, float]:
        """First and last event time drawn (the last day when nothing is)."""
        if len(self._times):
            return float(self._times.min()), float(self._times.max())
        now = time.time()
        return now - 86_400, now

    def focus_event(self, position: int) -> bool:
        """Ring one event in red and zoom to it (a finding's double-click lands here)."""
        xy = self.point_xy(position)
        self.focused_position = position if xy is not None else None
        self._show_focus()
        if xy is None:
            return False
        span = float(self._times.max() - self._times.min()) if len(self._times) else 0.0
        half = max(span * 0.04, 3600.0)
        self.plot.setXRange(xy[0] - half, xy[0] + half, padding=0)
        return True

    def _show_focus(self) -> None:
        xy = None if self.focused_position is None else self.point_xy(self.focused_position)
        self._focus.setData(x=[xy[0]] if xy else [], y=[xy[1]] if xy else [])

    def highlighted_count(self) -> int:
        return len(self._highlight.data)

    def set_cursor(self, seconds: float) -> None:
        self.cursor.setValue(seconds)

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.fit()
        super().keyPressEvent(event)
