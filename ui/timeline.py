"""TimelinePanel: every event as a mark at its recorded time, one lane per stream or event type."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from esaudit.application.timeline import TimelineData, event_version_at
from esaudit.application.timeline_overview import MINUTE_S, TimelineOverview

from .session import Session

DETAIL_LIMIT = 5_000  # visible events drawn one by one; beyond, a density image
PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3",
           "#8C8C8C", "#CCB974", "#64B5CD", "#2F4B7C", "#A05195", "#F95D6A", "#00A6A6")


def _density_lut() -> np.ndarray:
    """White to deep blue: an empty bin is the background, a crowded one stands out."""
    ramp = np.linspace(0.0, 1.0, 256)[:, None]
    white, blue = np.array([255, 255, 255]), np.array([28, 62, 122])
    lut = (white + (blue - white) * ramp).astype(np.ubyte)
    alpha = np.full((256, 1), 255, dtype=np.ubyte)
    alpha[0] = 0  # empty bins let the grid show through
    return np.hstack([lut, alpha])


def _failed_text(flagged: int) -> str:
    """What the caption adds for events a verification flagged."""
    return (f" · ✖ {flagged:,} event{'s' if flagged != 1 else ''} failed verification"
            if flagged else "")


class TimelinePanel(QWidget):
    eventClicked = Signal(int)  # position
    cursorMoved = Signal(float)  # seconds since the epoch, UTC

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        pg.setConfigOptions(antialias=True, background="w", foreground="#333")
        # PlotWidget hands its keywords to the PlotItem it holds, so the name is set here
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
        self.plot.setObjectName("timeline")
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
        # A long caption is cut at the panel's edge rather than widening the window's layout.
        self.caption.setMinimumWidth(1)
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
        # a big store's per-minute counts, drawn until its events are read (set_overview)
        self._overview: TimelineOverview | None = None
        self._overview_read = ""
        self._notice = ""  # what the caption adds about this store's drawing (set_notice)
        self._unreadable = ""  # why the store's timeline cannot be drawn (set_unreadable)
        self._fitted: list[float] | tuple[float, float] = (0.0, 0.0)  # the last fit's range
        # the selected stream's positions, and the loaded history they were read for
        self._highlighted: tuple[str, TimelineData | None, list[int]] = ("", None, [])
        self._highlight_indexes = np.empty(0, dtype=np.int64)  # into the loaded data
        self._by_time = np.zeros(0, dtype=np.int64)  # event indexes in time order
        self._sorted_times = np.zeros(0)
        self._y = np.zeros(0)
        self._lane_names: list[str] = []
        self._summary = ""
        self._items: list[pg.ScatterPlotItem] = []
        self._density = pg.ImageItem(axisOrder="row-major")
        self._density.setLookupTable(_density_lut())
        self._density.setZValue(-1)
        self._density.setToolTip("Too many events to draw one by one at this zoom: darker means "
                                 "more events. Zoom in (wheel) to see and click single events.")
        self._highlight = pg.ScatterPlotItem(size=13, symbol="o", pen=pg.mkPen("#111", width=2),
                                             brush=pg.mkBrush(0, 0, 0, 0))
        self._highlight.setZValue(10)
        self._highlight.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._focus = pg.ScatterPlotItem(size=22, symbol="o", pen=pg.mkPen("#d62728", width=3),
                                         brush=pg.mkBrush(0, 0, 0, 0))
        self._focus.setZValue(11)
        self._focus.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.focused_position: int | None = None
        self._flagged = pg.ScatterPlotItem(size=19, symbol="x",
                                           pen=pg.mkPen("#ffffff", width=1.5),
                                           brush=pg.mkBrush("#c62828"))
        self._flagged.setZValue(12)
        self._flagged.setToolTip("An event that failed verification")
        self._flagged.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.flagged_positions: list[int] = []
        self.drawn = False
        self.detailed = True  # single marks (True) or the density image (False)
        self._view_timer = QTimer(self, singleShot=True, interval=15)
        self._view_timer.timeout.connect(self.update_view)
        self.plot.getPlotItem().getViewBox().sigXRangeChanged.connect(
            lambda *_: self._view_timer.start())
        session.streamSelected.connect(self._on_stream_selected)
        session.storeClosed.connect(lambda: self.set_data(None))
        session.integrityChanged.connect(lambda: self.set_flagged(session.flags.positions))

    # -- data ------------------------------------------------------------------------------
    def set_data(self, data: TimelineData | None) -> None:
        """Show a (new or extended) history; the view stays where it was if it had data, and
        if it showed the newest event it slides at the same zoom to the new newest (events
        just written come into view, as a log viewer follows its tail), or widens to it when
        that lies more than a view's width beyond."""
        had_overview, self._overview = self._overview is not None, None
        had_data = self._data is not None and len(self._data) > 0
        (x0, x1), _ = self.plot.getPlotItem().getViewBox().viewRange()
        following = had_data and x0 <= self._sorted_times[-1] <= x1
        self._data = data
        self._unreadable = ""
        if data is None:
            self._notice = ""
        if data is None or len(data) == 0:
            self._by_time = np.zeros(0, dtype=np.int64)
            self._sorted_times = np.zeros(0)
        else:
            self._by_time = data.by_time
            self._sorted_times = data.times[data.by_time]
        self._redraw()
        if had_overview and data is not None and (x0, x1) != self._fitted:
            self.update_view()  # the events replace the counts where the user looks
        elif had_overview and data is not None:
            self.fit()  # not moved since the counts were fitted: fit the events' own span
        elif not had_data:
            self.fit()
        elif following and len(self._sorted_times) and self._sorted_times[-1] > x1:
            newest, width = float(self._sorted_times[-1]), x1 - x0
            right = newest + width * 0.03
            if right - x1 <= width:  # slide at the same zoom (live follow, a command)
                self.plot.setXRange(right - width, right, padding=0)
            else:  # far beyond the view: widen, so what was in view stays
                self.plot.setXRange(x0, newest + (newest - x0) * 0.03, padding=0)
            self.update_view()  # now, not after the pan/zoom debounce: the data just changed

    def set_unreadable(self, message: str) -> None:
        """The store is open but its timeline cannot be drawn (an event edited to a value
        esaudit never writes): the panel stays empty and the caption says why."""
        self.set_data(TimelineData())
        self._unreadable = message
        self._redraw()

    def set_overview(self, overview: TimelineOverview) -> None:
        """Draw a big store's per-minute counts while its events are read; ``set_data``
        replaces them, at the zoom the user chose meanwhile."""
        self._data = None
        self._overview = overview
        self._overview_read = "reading the events…"
        self._notice = ""
        self._by_time = np.zeros(0, dtype=np.int64)
        self._sorted_times = np.zeros(0)
        self._redraw()
        self.fit()

    def set_events_read(self, done: int, total: int) -> None:
        """How far the reading of the events has come, while the counts are drawn."""
        if self._overview is None:
            return
        self._overview_read = (f"reading the events: {done * 100 // total}%…" if total > 0
                               else "reading the events…")
        self._overview_caption()  # the drawing stays: it does not change as the events come

    def set_events_failed(self, message: str) -> None:
        """The events could not be read: the counts stay, and the caption says why."""
        if self._overview is None:
            return
        self._overview_read = f"the events could not be read ({message}): View > Reload"
        self._overview_caption()

    def _say(self, text: str) -> None:
        """The caption, a warning first; whatever the width cuts off is in its tooltip."""
        self.caption.setText(f"{self._notice}{text}")
        self.caption.setToolTip(f"{self._notice}{text}")

    def set_notice(self, text: str) -> None:
        """A remark the caption carries while this store is shown (a warning about it)."""
        self._notice = f"⚠ {text} · " if text else ""
        self.update_view()

    @property
    def data(self) -> TimelineData | None:
        return self._data

    @property
    def unreadable(self) -> bool:
        """The store's timeline cannot be drawn (``set_unreadable``): rereading it fails again."""
        return bool(self._unreadable)

    @property
    def overview(self) -> TimelineOverview | None:
        """The counts drawn while the events are read (None once they are, or for a store
        drawn from its events at once)."""
        return self._overview

    def point_count(self) -> int:
        """Events on the timeline (drawn as marks or inside the density image)."""
        return 0 if self._data is None else len(self._data)

    def event_types(self) -> list[str]:
        """The event types of the history drawn, sorted."""
        if self._data is not None:
            return sorted(self._data.event_types)
        return sorted(self._overview.event_types) if self._overview is not None else []

    def density_shown(self) -> bool:
        """Whether the view is drawn as a density image (too many events for marks)."""
        return bool(self._density.isVisible())

    def marks_shown(self) -> int:
        return sum(len(item.data) for item in self._items)

    def lanes(self) -> list[str]:
        return list(self._lane_names)

    def _redraw(self) -> None:
        plot = self.plot.getPlotItem()
        for item in self._items:
            plot.removeItem(item)
        self._items = []
        self.legend.clear()
        for item in (self._highlight, self._focus, self._flagged, self.cursor, self._density):
            plot.removeItem(item)
        self._lane_names = []
        data = self._data
        if data is None and self._overview is not None:
            self._redraw_overview(self._overview)
            return
        if self._unreadable:
            self._say(f"The timeline is not drawn: {self._unreadable}")
            self.caption.setToolTip(f"{self.caption.text()}\nAudit > Verify integrity "
                                    "(Ctrl+Shift+V) lists every event changed after it was "
                                    "written.")
            self.drawn = True
            return
        if data is None or len(data) == 0:
            self._say("No events yet" if data is not None else "No store open")
            self.drawn = data is not None
            return
        by_event = self.lane_toggle.isChecked()
        codes = data.event_type_codes if by_event else data.stream_type_codes
        names = data.event_types if by_event else data.stream_types
        self._lane_names = sorted(names)
        lane_of_code = np.array([self._lane_names.index(n) for n in names], dtype=np.float64)
        # A fixed jitter per position spreads marks of one lane so they do not hide each other.
        jitter = ((data.positions * 2654435761) % 1000) / 1000.0 * 0.6 - 0.3
        self._y = lane_of_code[codes] + jitter
        plot.addItem(self._density)
        for i, type_name in enumerate(sorted(data.event_types)):
            item = pg.ScatterPlotItem(size=7, pen=None, brush=pg.mkBrush(PALETTE[i % len(PALETTE)]),
                                      hoverable=True, hoverSize=11, tip=None, name=type_name)
            item.event_type_code = data.event_types.index(type_name)
            item.sigClicked.connect(self._on_points_clicked)
            plot.addItem(item)
            self._items.append(item)
        plot.addItem(self._highlight)
        plot.addItem(self._focus)
        plot.addItem(self._flagged)
        plot.addItem(self.cursor)
        axis = plot.getAxis("left")
        axis.setTicks([[(i, name) for i, name in enumerate(self._lane_names)]])
        self._summary = (f"{len(data):,} events in {data.stream_count:,} streams, "
                         f"lanes by {'event' if by_event else 'stream'} type")
        self._show_flagged()  # before update_view: its caption counts them
        self.update_view()
        self._on_stream_selected(self.session.stream_id)
        self._show_focus()
        self.drawn = True

    def _redraw_overview(self, overview: TimelineOverview) -> None:
        by_event = self.lane_toggle.isChecked()
        names = overview.event_types if by_event else overview.stream_types
        self._lane_names = sorted(names)
        plot = self.plot.getPlotItem()
        plot.addItem(self._density)
        plot.addItem(self.cursor)
        plot.getAxis("left").setTicks([[(i, name) for i, name in enumerate(self._lane_names)]])
        # short, so that how far the reading is shows: the lanes are on the toggle's face
        self._summary = f"{overview.events:,} events in {overview.stream_count:,} streams"
        self.update_view()
        self.drawn = True

    def _update_overview(self, overview: TimelineOverview, x0: float, x1: float) -> None:
        """The counts as a density: each minute's events spread over the pixel columns it
        covers and over the rows its lane's marks would take."""
        self.detailed = False
        self._overview_caption()
        by_event = self.lane_toggle.isChecked()
        codes = overview.event_type_codes if by_event else overview.stream_type_codes
        names = overview.event_types if by_event else overview.stream_types
        lane_of_code = np.array([self._lane_names.index(n) for n in names], dtype=np.int64)
        width = max(int(self.plot.width()) // 2, 50)
        rows = max(len(self._lane_names) * 12, 12)
        minute = MINUTE_S
        shown = (overview.starts + minute > x0) & (overview.starts < x1)
        starts, counts = overview.starts[shown], overview.counts[shown]
        lanes = lane_of_code[codes[shown]]
        scale = width / max(x1 - x0, 1e-9)
        first = np.clip(((starts - x0) * scale).astype(np.int64), 0, width - 1)
        last = np.clip(((starts + minute - x0) * scale).astype(np.int64) - 1, first, width - 1)
        span = last - first + 1
        offsets = np.arange(int(span.sum())) - np.repeat(np.cumsum(span) - span, span)
        columns = np.repeat(first, span) + offsets
        # A lane's marks take the middle 8 of its 12 rows (their jitter is ±0.3 of a lane).
        weights = np.repeat(counts / span / 8.0, span)
        base = np.repeat(lanes * 12 + 2, span)
        density = np.zeros(rows * width, dtype=np.float64)
        for row in range(8):
            density += np.bincount((base + row) * width + columns, weights=weights,
                                   minlength=rows * width)
        self._density.setImage(np.log1p(density.reshape(rows, width).astype(np.float32)),
                               autoLevels=True)
        self._density.setRect(QRectF(x0, -0.5, x1 - x0, rows / 12))
        self._density.show()

    def _overview_caption(self) -> None:
        bad = _failed_text(len(self.flagged_positions))  # their crosses wait for the events
        self._say(f"{self._summary}{bad} · per-minute counts, {self._overview_read}")
        self.caption.setToolTip(
            f"{self.caption.text()}\nDrawn from the events the store's import counted per "
            "minute, stream type and event type; the events replace the drawing once read, "
            "and are checked against it.")

    def update_view(self) -> None:
        """Draw what the visible time range needs: each event as a clickable mark when there
        are few enough, else one density image (the cost of a frame stays bounded at 1M)."""
        data = self._data
        if data is None and self._overview is not None:
            (x0, x1), _ = self.plot.getPlotItem().getViewBox().viewRange()
            self._update_overview(self._overview, x0, x1)
            return
        if data is None or len(data) == 0:
            return
        (x0, x1), _ = self.plot.getPlotItem().getViewBox().viewRange()
        lo, hi = np.searchsorted(self._sorted_times, [x0, x1])
        visible = self._by_time[lo:hi]
        self.detailed = len(visible) <= DETAIL_LIMIT
        self._draw_highlight()
        bad = _failed_text(len(self._flagged.data))
        self._say(f"{self._summary}{bad}" if self.detailed else
                  f"{self._summary}{bad} · {len(visible):,} in view, drawn as density: zoom in "
                  "(wheel) for single events")
        if self.detailed:
            self._density.hide()
            types = data.event_type_codes[visible]
            for item in self._items:
                chosen = visible[types == item.event_type_code]
                item.setData(x=data.times[chosen], y=self._y[chosen],
                             data=data.positions[chosen])
            return
        for item in self._items:
            item.setData(x=[], y=[])
        width = max(int(self.plot.width()) // 2, 50)
        rows = max(len(self._lane_names) * 12, 12)
        y_lo = -0.5
        xs = ((data.times[visible] - x0) * (width / max(x1 - x0, 1e-9))).astype(np.int64)
        ys = ((self._y[visible] - y_lo) * 12).astype(np.int64)
        np.clip(xs, 0, width - 1, out=xs)
        np.clip(ys, 0, rows - 1, out=ys)
        counts = np.bincount(ys * width + xs, minlength=rows * width).reshape(rows, width)
        self._density.setImage(np.log1p(counts.astype(np.float32)), autoLevels=True)
        self._density.setRect(QRectF(x0, y_lo, x1 - x0, rows / 12))
        self._density.show()

    def fit(self) -> None:
        if len(self._sorted_times):
            lo, hi = float(self._sorted_times[0]), float(self._sorted_times[-1])
        elif self._overview is not None:
            lo, hi = self._overview.time_span()
        else:
            return
        pad = max((hi - lo) * 0.03, 60.0)
        self.plot.setXRange(lo - pad, hi + pad, padding=0)
        self._fitted = self.plot.getPlotItem().getViewBox().viewRange()[0]
        # Headroom above the top lane keeps the legend off the marks.
        self.plot.setYRange(-0.6, max(len(self._lane_names) - 0.4, 0.6) + 0.9, padding=0)
        if not (lo <= self.cursor.value() <= hi):
            self.cursor.setValue(hi)
        self.update_view()

    # -- interaction -----------------------------------------------------------------------
    def _on_lanes_toggled(self, by_event: bool) -> None:
        self.lane_toggle.setText("Lanes: event type" if by_event else "Lanes: stream type")
        self._redraw()
        self.fit()

    def _on_points_clicked(self, _item: Any, points: Any, _ev: Any = None) -> None:
        if len(points):
            self.eventClicked.emit(int(points[0].data()))

    def _on_stream_selected(self, stream_id: str) -> None:
        data, services = self._data, self.session.services
        if data is None or services is None or not stream_id:
            self._highlighted = ("", None, [])
            self._highlight_indexes = np.empty(0, dtype=np.int64)
            self._highlight.setData(x=[], y=[])
            return
        cached_id, cached_data, positions = self._highlighted
        if cached_id != stream_id or cached_data is not data:  # a lane toggle reads nothing
            positions = services.store.positions_of(stream_id)
            self._highlighted = (stream_id, data, positions)
        self._highlight_indexes = data.indexes_of(positions)
        self._draw_highlight()

    def _draw_highlight(self) -> None:
        """Ring the selected stream's events in view; a stream with more than DETAIL_LIMIT
        there gets every k-th ringed (its extent shows, and a frame stays cheap)."""
        data, found = self._data, self._highlight_indexes
        if data is None or len(found) == 0:
            self._highlight.setData(x=[], y=[])
            return
        (x0, x1), _ = self.plot.getPlotItem().getViewBox().viewRange()
        times = data.times[found]
        chosen = found[(times >= x0) & (times <= x1)]
        if len(chosen) > DETAIL_LIMIT:
            chosen = chosen[:: -(-len(chosen) // DETAIL_LIMIT)]
        self._highlight.setData(x=data.times[chosen], y=self._y[chosen])

    def stream_of(self, position: int) -> str | None:
        services = self.session.services
        found = None if services is None else event_version_at(services.store, position)
        return None if found is None else found[0]

    def point_xy(self, position: int) -> tuple[float, float] | None:
        data = self._data
        i = None if data is None else data.index_of(position)
        return None if i is None else (float(data.times[i]), float(self._y[i]))  # type: ignore[union-attr]

    def time_span(self) -> tuple[float, float]:
        """First and last event time drawn (the last day when nothing is)."""
        if len(self._sorted_times):
            return float(self._sorted_times[0]), float(self._sorted_times[-1])
        if self._overview is not None:
            return self._overview.time_span()
        now = time.time()
        return now - 86_400, now

    def focus_event(self, position: int) -> bool:
        """Ring one event in red and zoom to it (a finding's double-click lands here)."""
        xy = self.point_xy(position)
        self.focused_position = position if xy is not None else None
        self._show_focus()
        if xy is None:
            return False
        first, last = self.time_span()
        span = last - first
        half = max(span * 0.04, 3600.0)
        self.plot.setXRange(xy[0] - half, xy[0] + half, padding=0)
        return True

    def _show_focus(self) -> None:
        xy = None if self.focused_position is None else self.point_xy(self.focused_position)
        self._focus.setData(x=[xy[0]] if xy else [], y=[xy[1]] if xy else [])

    def set_flagged(self, positions: list[int]) -> None:
        """Mark the events a verification flagged with a red cross (always drawn, at any
        zoom: there are few)."""
        self.flagged_positions = list(positions)
        self._show_flagged()
        self.update_view()  # the caption counts them

    def _show_flagged(self) -> None:
        points = [xy for xy in map(self.point_xy, self.flagged_positions) if xy is not None]
        self._flagged.setData(x=[p[0] for p in points], y=[p[1] for p in points])

    def flagged_count(self) -> int:
        """Red crosses drawn (the flagged events the timeline holds)."""
        return len(self._flagged.data)

    def highlighted_count(self) -> int:
        """Rings drawn: the selected stream's events in view (every k-th beyond DETAIL_LIMIT)."""
        return len(self._highlight.data)

    def set_cursor(self, seconds: float) -> None:
        self.cursor.setValue(seconds)

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.fit()
        super().keyPressEvent(event)
