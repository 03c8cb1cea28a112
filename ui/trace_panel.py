"""Trace: the inspected event's correlation (every event sharing its correlation id, in position
order, across streams) and its causation tree (what caused it above, what it caused below).

Traced on the pool when the panel is shown, the newest event asked for winning; a click on any
row goes to that event.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QHeaderView,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from esaudit.application.investigate.events import EventRef
from esaudit.application.investigate.trace import Trace, trace
from esaudit.application.records import RecordedEvent, Source
from esaudit.wording import counted

from .labels import side_label
from .latest import LatestJob
from .models.trace_table import BOLD, TraceEventsModel, event_label
from .session import Session
from .settled_event import SettledEvent
from .tables import row_table

NO_EVENT = ("Select an event (in the events table or on the timeline) to trace its "
            "correlation and causation")
RefRole = Qt.ItemDataRole.UserRole + 1
"""A causation item's column 0 holds ``(stream_id, position, version)`` of its event."""


class TracePanel(QWidget):
    eventActivated = Signal(str, int, int)  # a row clicked: stream id, position, version

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="tracePanel")
        self.session = session
        self.info = side_label(NO_EVENT, "traceInfo")
        self.info.setProperty("muted", True)

        self.correlation_title = side_label("", "traceCorrelationTitle")
        self.model = TraceEventsModel(self)
        self.correlation = row_table(self.model, "traceCorrelation")
        self.correlation.setToolTip("Every event sharing the traced event's correlation id, "
                                    "in position order, across streams; click one to go to it")
        self.correlation.clicked.connect(self._on_correlation_clicked)
        self.correlation.activated.connect(self._on_correlation_clicked)

        self.causation_title = side_label("", "traceCausationTitle")
        self.causation = QTreeWidget(objectName="traceCausation")
        self.causation.setHeaderLabels(["Event", "Type", "Actor", "Recorded (UTC)"])
        self.causation.setIndentation(14)
        self.causation.setAlternatingRowColors(True)
        self.causation.setToolTip("What caused the traced event (above it) and what it "
                                  "caused (below it); click one to go to it")
        self.causation.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.causation.itemClicked.connect(self._on_causation_clicked)
        self.causation.itemActivated.connect(self._on_causation_clicked)

        self.content = QSplitter(Qt.Orientation.Vertical, objectName="traceSplitter")
        self.content.setChildrenCollapsible(False)
        for title, view in ((self.correlation_title, self.correlation),
                            (self.causation_title, self.causation)):
            part = QWidget()
            box = QVBoxLayout(part)
            box.setContentsMargins(0, 4, 0, 0)
            box.addWidget(title)
            box.addWidget(view, 1)
            self.content.addWidget(part)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.info)
        layout.addWidget(self.content, 1)
        self._set_empty(True)

        self.jobs = LatestJob(self)
        self._traced: RecordedEvent | None = None  # the event whose trace is shown
        self._asked = SettledEvent(self, self._on_settled)
        session.storeClosed.connect(lambda: self.show_event(None))

    # -- what to trace ---------------------------------------------------------------------
    def show_event(self, event: RecordedEvent | None) -> None:
        """Trace ``event`` (the inspected one), now if the panel shows, else once it does."""
        self._asked.ask(event)

    def _on_settled(self) -> None:
        services, event = self.session.services, self._asked.wanted
        if services is None or event is None:
            self.jobs.cancel()
            self._traced = None
            self._empty(NO_EVENT)
        elif self.isVisible() and event is not self._traced:
            self._trace(services.store, event)

    def _trace(self, store: Source, event: RecordedEvent) -> None:
        self._traced = event
        self.info.setText(f"Tracing {event.type} {event.stream_id}@{event.version}…")
        self.jobs.submit(lambda: trace(store, event), self._show, self._failed)

    # -- what it says ----------------------------------------------------------------------
    def _show(self, found: Trace) -> None:
        e = found.event
        self.info.setText(f"Trace of {e.type} {event_label(e)} (position {e.position:,})")
        if found.correlation_id is None:
            self._empty(f"{e.type} {event_label(e)} has nothing to trace: "
                        f"{found.note or 'it records no correlation id'}.")
            return
        self._set_empty(False)
        streams = len({x.stream_id for x in found.events})
        self.correlation_title.setText(
            f"<b>Correlation</b> {found.correlation_id}: {counted(len(found.events), 'event')} "
            f"in {counted(streams, 'stream')}")
        self.correlation_title.setToolTip(f"correlation id {found.correlation_id}")
        self.model.set_events(found.events, e.position)
        self.correlation.resizeColumnsToContents()
        row = self.model.row_of(e.position)
        if row >= 0:
            self.correlation.scrollTo(self.model.index(row, 0))
        self._fill_causation(found)

    def _fill_causation(self, found: Trace) -> None:
        tree = self.causation
        tree.clear()
        parent: QTreeWidget | QTreeWidgetItem = tree
        for cause in reversed(found.causes):  # the farthest cause at the root
            parent = _item(parent, cause)
        traced = _item(parent, found.event)
        for column in range(tree.columnCount()):
            traced.setFont(column, BOLD)
        items = {found.event.position: traced}
        for caused in found.caused:  # in position order: a cause's item comes first
            above = items.get(caused.caused_by, traced)
            items[caused.event.position] = _item(above, caused.event)
        tree.expandAll()
        for column in range(tree.columnCount()):
            tree.resizeColumnToContents(column)
        tree.scrollToItem(traced)
        above = (f"caused by {counted(len(found.causes), 'event')} above it" if found.causes
                 else "no cause among the events")
        below = (f"it caused {counted(len(found.caused), 'event')} below it" if found.caused
                 else "it caused none")
        note = f"<br><i>{found.note}</i>" if found.note else ""
        self.causation_title.setText(f"<b>Causation</b>: {above}; {below}{note}")

    def _failed(self, message: str) -> None:
        self._empty(f"Cannot trace: {message}")

    def _empty(self, why: str) -> None:
        """No lists: the sentence says why."""
        self._set_empty(True)
        self.model.set_events((), 0)
        self.causation.clear()
        self.info.setText(why)

    def _set_empty(self, empty: bool) -> None:
        """An empty panel says why in its middle; a trace has its title on top."""
        self.content.setVisible(not empty)
        self.info.setAlignment(Qt.AlignmentFlag.AlignCenter if empty else
                               Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

    # -- going to an event -----------------------------------------------------------------
    def _on_correlation_clicked(self, index: QModelIndex) -> None:
        e = self.model.ref_at(index.row())
        if e is not None:
            self.eventActivated.emit(e.stream_id, e.position, e.version)

    def _on_causation_clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        ref = item.data(0, RefRole)
        if ref is not None:
            stream_id, position, version = ref
            self.eventActivated.emit(stream_id, position, version)


def _item(parent: QTreeWidget | QTreeWidgetItem, e: EventRef) -> QTreeWidgetItem:
    item = QTreeWidgetItem(parent, [event_label(e), e.type, e.actor or "",
                                    e.recorded_at.strftime("%Y-%m-%d %H:%M:%S")])
    item.setData(0, RefRole, (e.stream_id, e.position, e.version))
    item.setToolTip(0, f"{e.type} {event_label(e)} at position {e.position:,}: click to go "
                       "to it")
    return item
