"""The selected stream's events and an inspector for one event (payload, metadata, hash, and
what it changed in the state)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtWidgets import (
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QVBoxLayout,
    QWidget,
)

from esaudit.application.records import RecordedEvent
from esaudit.application.values import shown

from .event_changes import EventChangesView
from .json_tree import fill_tree
from .models.event_table import EventTableModel
from .session import Session
from .tables import row_table


class EventPanel(QWidget):
    eventShown = Signal(object)  # the RecordedEvent the inspector shows, None for none

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.model = EventTableModel(self)
        self.table = row_table(self.model, "eventTable")
        # Sized on the rows in view once per stream: measuring more would read pages of a
        # long stream that nobody scrolled to.
        self.table.horizontalHeader().setResizeContentsPrecision(0)
        self.table.resizeColumnsToContents()  # no stream yet: at least the titles show whole
        self.table.setToolTip("Events of the selected stream; select one to inspect it")
        self.inspector = QTreeWidget(objectName="eventInspector")
        self.inspector.setHeaderLabels(["Field", "Value"])
        self.inspector.setAlternatingRowColors(True)
        self.inspector.setToolTip("Payload, metadata, position and hash of the selected event")
        split = QSplitter(Qt.Orientation.Vertical, objectName="eventSplitter")
        split.addWidget(self.table)
        self.changes = EventChangesView(session)
        self.detail = QTabWidget(objectName="inspectorTabs")
        self.detail.addTab(self.inspector, "Event")
        self.detail.addTab(self.changes, "Changes")
        self.detail.setTabToolTip(0, "Payload, metadata, position and hash of the event")
        self.detail.setTabToolTip(1, "What the event changed in its stream's state")
        self.changes.model.modelReset.connect(self._on_changes_counted)
        split.addWidget(self.detail)
        split.setSizes([300, 260])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.splitter = split

        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        session.streamSelected.connect(self._on_stream_selected)
        session.eventSelected.connect(self._on_event_selected)

    def _on_stream_selected(self, stream_id: str) -> None:
        services, info = self.session.services, self.session.stream_info
        self.model.set_stream(services.store if services and info else None, stream_id,
                              info.version if info else 0,
                              info.first_version if info else 1)
        self.inspector.clear()
        self._announce(None)
        if self.model.rowCount():
            self.table.scrollToBottom()
            self.table.selectRow(self.model.rowCount() - 1)
            self.table.resizeColumnsToContents()

    def _on_selection_changed(self, selected: QItemSelection, _old: QItemSelection) -> None:
        indexes = selected.indexes()
        if not indexes:
            return
        self._show(indexes[0].row())

    def _on_event_selected(self, position: int) -> None:
        row = self.model.row_of_position(position)
        if row >= 0:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))

    def _show(self, row: int) -> None:
        e = self.model.event_at(row)
        if e is None:
            why = self.model.unreadable_at(row)
            if why:
                fill_tree(self.inspector, {"not readable": why})
                self._announce(None)
            return
        fields = {"type": e.type, "version": e.version, "position": e.position,
                  "recorded_at": e.recorded_at.isoformat(), "payload": shown(e.payload),
                  "metadata": e.metadata}
        if e.hash:
            fields["hash"] = e.hash
        if e.provenance:
            fields["source"] = dict(e.provenance)
        fill_tree(self.inspector, fields)
        self._announce(e)

    def _announce(self, e: RecordedEvent | None) -> None:
        self.changes.show_event(e)
        self.eventShown.emit(e)

    def _on_changes_counted(self) -> None:
        n = self.changes.model.rowCount()
        self.detail.setTabText(1, f"Changes ({n})" if n else "Changes")
