"""The "All events" view: the global log in position order, filtered by a search (conditions
on payload and metadata, event types, a stream glob, a time span), read a page at a time as
it scrolls; jump to a date; export what it finds.

A malformed filter is said in one line under the filter bar, never in a dialog. Every read
runs on the pool: a condition that matches little may scan the whole log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, QModelIndex, Qt, QTimeZone, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from esaudit.application.investigate.search import (
    EventSearch,
    MalformedCondition,
    SearchPage,
    first_match_from,
    search,
    search_from_text,
)
from esaudit.application.jobs import CancelCheck, Progress
from esaudit.application.records import RecordedEvent
from esaudit.application.transfer import ExportSummary, export_search

from .models.event_log_table import EventLogModel
from .session import Session
from .tables import row_table
from .workers import run_in_background


class TypeBox(QComboBox):
    """Event types to keep (comma-separated; empty: every type); the list offers the types
    the store holds, read when it opens."""

    def __init__(self, types: Callable[[], list[str]], name: str) -> None:
        super().__init__(objectName=name)
        self._types = types
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.lineEdit().setPlaceholderText("any type")
        self.setMinimumContentsLength(14)

    def showPopup(self) -> None:
        text = self.currentText()
        self.clear()
        self.addItems(["", *self._types()])
        self.setEditText(text)
        super().showPopup()


class EventLogPanel(QWidget):
    eventActivated = Signal(str, int, int)  # stream id, position, version
    exported = Signal(str)  # the path written

    def __init__(self, session: Session, event_types: Callable[[], list[str]],
                 folder: Callable[[], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("allEventsView")
        self.session = session
        self.folder = folder
        self.model = EventLogModel(self)
        self.query: EventSearch | None = None
        self._stale = True  # the store changed while the view was hidden: search on show

        def box(name: str, placeholder: str, tip: str, width: int = 0) -> QLineEdit:
            edit = QLineEdit(objectName=name)
            edit.setPlaceholderText(placeholder)
            edit.setToolTip(tip)
            edit.setClearButtonEnabled(True)
            if width:
                edit.setMaximumWidth(width)
            edit.returnPressed.connect(self.run_search)
            return edit

        self.where = box("allEventsWhere", "payload.qty > 2; metadata.actor ~ ada",
                         "Conditions on payload or metadata fields, separated by ';': "
                         "payload.PATH OP VALUE with OP one of = != < <= > >= ~ (~: text "
                         "contains, any case). Enter searches.")
        self.types = TypeBox(event_types, "allEventsType")
        self.types.setToolTip("Only these event types (comma-separated); empty: every type")
        self.types.lineEdit().returnPressed.connect(self.run_search)
        self.stream = box("allEventsStream", "stream glob: ord-0*",
                          "Only streams whose id matches: * any characters, ? one", 170)
        self.since = box("allEventsFrom", "from 2026-04-01",
                         "Only events recorded at or after (ISO date or date and time, UTC)",
                         150)
        self.until = box("allEventsTo", "to 2026-04-30",
                         "Only events recorded at or before (ISO date or date and time, UTC)",
                         150)
        self.search_button = QPushButton("Search", objectName="allEventsSearch")
        self.search_button.setToolTip("Search the global log with these filters (Enter)")
        self.search_button.clicked.connect(self.run_search)
        self.error = QLabel("", objectName="allEventsError")
        self.error.setProperty("verdict", "bad")
        self.error.setWordWrap(False)
        self.error.hide()

        self.table = row_table(self.model, "allEventsTable")
        self.table.setToolTip("Every event of the store that matches, in position order; "
                              "double-click one to open it in its stream")
        # Fitted to the first page once a store is open, then left to the user.
        self.table.horizontalHeader().setResizeContentsPrecision(200)
        self._fitted = False
        self.table.doubleClicked.connect(self._on_activated)
        self.table.activated.connect(self._on_activated)

        self.status = QLabel("", objectName="allEventsStatus")
        self.status.setProperty("muted", True)
        self.from_start = QPushButton("From the start", objectName="allEventsFromStart")
        self.from_start.setToolTip("Show the matches from the first event of the log again")
        self.from_start.clicked.connect(self.run_search)
        self.from_start.hide()
        self.jump_at = QDateTimeEdit(objectName="allEventsJumpAt")
        self.jump_at.setTimeZone(QTimeZone.utc())
        self.jump_at.setDisplayFormat("yyyy-MM-dd HH:mm 'UTC'")
        self.jump_at.setCalendarPopup(True)
        self.jump_at.setDateTime(QDateTime.currentDateTimeUtc())
        self.jump_at.setToolTip("Jump to the first match recorded at or after this instant")
        self.jump_button = QPushButton("Jump to date", objectName="allEventsJump")
        self.jump_button.setToolTip("Scroll to the first match recorded at or after the "
                                    "instant on the left")
        self.jump_button.clicked.connect(self._on_jump_clicked)
        self.export_button = QPushButton("Export…", objectName="allEventsExport")
        self.export_button.setToolTip("Write every match (not only the rows read) as JSONL "
                                      "or CSV")
        self.export_button.clicked.connect(self.run_export)

        filters = QHBoxLayout()
        filters.addWidget(QLabel("Where"))
        filters.addWidget(self.where, 3)
        filters.addWidget(QLabel("Type"))
        filters.addWidget(self.types, 1)
        filters.addWidget(QLabel("Stream"))
        filters.addWidget(self.stream, 1)
        filters.addWidget(self.since, 1)
        filters.addWidget(self.until, 1)
        filters.addWidget(self.search_button)
        footer = QHBoxLayout()
        footer.addWidget(self.status, 1)
        footer.addWidget(self.from_start)
        footer.addWidget(self.jump_at)
        footer.addWidget(self.jump_button)
        footer.addSpacing(12)
        footer.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(filters)
        layout.addWidget(self.error)
        layout.addWidget(self.table, 1)
        layout.addLayout(footer)

        self.model.pageLoaded.connect(self._update_status)
        self.model.failed.connect(self._on_failed)
        session.storeOpened.connect(self._on_store_opened)
        session.storeClosed.connect(self._on_store_closed)
        session.historyChanged.connect(self._on_history_changed)
        session.integrityChanged.connect(lambda: self.model.set_flags(session.flags))
        self._set_enabled(False)

    # -- searching -------------------------------------------------------------------------
    def _fetch(self, query: EventSearch) -> Callable[[int, int], SearchPage] | None:
        services = self.session.services
        if services is None:
            return None
        store = services.store
        return lambda after, limit: search(store, query, after_position=after, limit=limit)

    def _read_filters(self) -> EventSearch | None:
        try:
            query = search_from_text(self.where.text(), self.types.currentText(),
                                     self.stream.text(), self.since.text(), self.until.text())
        except MalformedCondition as e:
            self.error.setText(f"✖ {e}")
            self.error.show()
            return None
        self.error.hide()
        return query

    def run_search(self) -> None:
        """Search with the filters as typed, from the start of the log."""
        if self.session.services is None:
            return
        query = self._read_filters()
        if query is None:
            return
        self.query = query
        self._stale = False
        self.from_start.hide()
        self.status.setText("Searching…")
        self.model.set_search(self._fetch(query))

    def _on_activated(self, index: QModelIndex) -> None:
        row = self.model.row_at(index.row())
        if row is not None:
            self.eventActivated.emit(row.stream_id, row.position, row.version)

    # -- jump to a date --------------------------------------------------------------------
    def _on_jump_clicked(self) -> None:
        seconds = self.jump_at.dateTime().toSecsSinceEpoch()
        self.jump_to(datetime.fromtimestamp(seconds, UTC))

    def jump_to(self, instant: datetime) -> None:
        """Select the first match recorded at or after ``instant``: in the rows read if it is
        there, else the list starts at it (From the start goes back)."""
        services, query = self.session.services, self.query
        if services is None or query is None:
            return
        store = services.store

        def done(found: RecordedEvent | None) -> None:
            if self.session.services is not services or self.query is not query:
                return
            if found is None:
                self.status.setText(f"No match recorded at or after {instant:%Y-%m-%d %H:%M} "
                                    "UTC")
                return
            row = self.model.row_of_position(found.position)
            if row >= 0:
                self._select(row)
                return
            self.from_start.show()
            self.model.set_search(self._fetch(query), after=found.position - 1)
            self.model.pageLoaded.connect(self._select_first_once)

        run_in_background(self, "Looking for the date…",
                          lambda progress, cancelled: first_match_from(store, query, instant),
                          done, self._on_failed, cancellable=False)

    def _select_first_once(self) -> None:
        self.model.pageLoaded.disconnect(self._select_first_once)
        if self.model.rowCount():
            self._select(0)

    def _select(self, row: int) -> None:
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0),
                            QAbstractItemView.ScrollHint.PositionAtTop)

    # -- export ----------------------------------------------------------------------------
    def run_export(self) -> None:
        if self.session.services is None or self.query is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the matching events", str(Path(self.folder()) / "events.jsonl"),
            "JSONL (*.jsonl);;CSV (*.csv)")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Write every event the search shown matches (not only the rows read), on the pool
        with progress and Cancel."""
        services, query = self.session.services, self.query
        if services is None or query is None:
            return
        store = services.store

        def job(progress: Progress, cancelled: CancelCheck) -> ExportSummary:
            return export_search(store, path, query, progress=progress, cancelled=cancelled)

        def done(summary: ExportSummary) -> None:
            self.status.setText(f"Exported {summary.events:,} events of {summary.streams:,} "
                                f"streams to {path.name}")
            self.exported.emit(str(path))

        run_in_background(self, f"Exporting to {path.name}…", job, done,
                          lambda m: QMessageBox.critical(self, "Export failed", m))

    # -- reactions -------------------------------------------------------------------------
    def _update_status(self) -> None:
        n = self.model.rowCount()
        if n and not self._fitted:
            self._fitted = True
            for column in range(len(self.model.COLUMNS) - 1):  # the payload stretches
                self.table.resizeColumnToContents(column)
            first = self.model.row_at(0)
            if first is not None and not self.model.started_at:  # a date in the history
                at = QDateTime.fromString(first.recorded, "yyyy-MM-dd HH:mm:ss")
                at.setTimeZone(QTimeZone.utc())
                self.jump_at.setDateTime(at)
        start = self.model.started_at
        where = f" from position {start + 1:,}" if start else ""
        if self.model.complete:
            matched = (" matches" if n == 1 else " match") if self._filtered() else ""
            text = f"{n:,} event{'s' if n != 1 else ''}{matched}{where}"
        else:
            text = f"{n:,} events{where} read so far; scroll for more"
        self.status.setText(text)

    def _filtered(self) -> bool:
        q = self.query
        return q is not None and q != EventSearch()

    def _on_failed(self, message: str) -> None:
        self.error.setText(f"✖ The store could not answer: {message.splitlines()[0]}")
        self.error.show()

    def _set_enabled(self, on: bool) -> None:
        for w in (self.where, self.types, self.stream, self.since, self.until,
                  self.search_button, self.jump_at, self.jump_button, self.export_button):
            w.setEnabled(on)

    def _on_store_opened(self) -> None:
        self._set_enabled(True)
        self._fitted = False
        self.model.set_flags(self.session.flags)
        self._stale = True
        if self.isVisible():
            self.run_search()

    def _on_store_closed(self) -> None:
        self._set_enabled(False)
        self.query = None
        self.model.set_search(None)
        self.status.setText("")
        self.error.hide()

    def _on_history_changed(self) -> None:
        if self.query is not None and self.isVisible():
            self.model.follow_tail()
        else:
            self._stale = True

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._stale and self.session.services is not None:
            self.run_search()


class EventLogDock(QDockWidget):
    """The All events view in a dock: wide at the bottom, beside the audit results."""

    def __init__(self, panel: EventLogPanel, parent: QWidget | None = None) -> None:
        super().__init__("All events", parent)
        self.setObjectName("allEventsDock")
        self.panel = panel
        self.setWidget(panel)
        self.setAllowedAreas(Qt.DockWidgetArea.BottomDockWidgetArea
                             | Qt.DockWidgetArea.RightDockWidgetArea)
        self._sized = False

    def all_events_action(self) -> QAction:
        """View ▸ All events (Ctrl+Shift+L): shows or hides the dock."""
        action = self.toggleViewAction()
        action.setText("&All events")
        action.setObjectName("actionAllEvents")
        action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        action.setToolTip("Every event of the store in position order, with search filters "
                          "(Ctrl+Shift+L)")
        action.setStatusTip("Every event of the store in position order, with search filters")
        action.triggered.connect(self._on_toggled)
        return action

    def _on_toggled(self, shown: bool) -> None:
        if not shown:
            return
        self.raise_()
        self.panel.where.setFocus()
        window = self.parentWidget()
        if not self._sized and isinstance(window, QMainWindow):
            # Tall enough for a page of rows; the timeline and the panels stay above it.
            window.resizeDocks([self], [330], Qt.Orientation.Vertical)
            self._sized = True
