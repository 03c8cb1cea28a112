"""Stream browser: a filter box over a lazy, sortable table of every stream."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .models.stream_table import StreamIdRole, StreamTableModel
from .session import Session
from .tables import row_table


def stream_table_view(model: StreamTableModel, name: str) -> QTableView:
    """The stream list as the browser and the stream picker show it: whole rows, one at a time,
    sortable. Columns are fitted to the first 100 rows once, when a store opens, then left to
    the user: fitting on every reset would read all cached rows on each filter keystroke (over
    half the keystroke's time at 100k streams)."""
    table = row_table(model, name)
    table.setSortingEnabled(True)
    table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    table.horizontalHeader().setResizeContentsPrecision(100)
    return table


def stream_filter_box(parent: QWidget, name: str, placeholder: str, tip: str,
                      apply: Callable[[], None]) -> QLineEdit:
    """The filter box over a stream list: ``apply`` runs once per pause in typing (150 ms),
    not per keystroke, since each run is a query over every stream."""
    box = QLineEdit(parent, objectName=name)
    box.setPlaceholderText(placeholder)
    box.setClearButtonEnabled(True)
    box.setToolTip(tip)
    debounce = QTimer(box, singleShot=True, interval=150, objectName=f"{name}Debounce")
    debounce.timeout.connect(apply)
    box.textChanged.connect(debounce.start)
    return box


class StreamPanel(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.model = StreamTableModel(self)
        self.filter = stream_filter_box(self, "streamFilter",
                                        "Filter by id, customer, type or status  (Ctrl+F)",
                                        "Words must all match: e.g. 'grace paid' or 'ord-3f'; "
                                        "* and ? match a whole stream id: 'ord-0*'",
                                        self._apply_filter)
        self.table = stream_table_view(self.model, "streamTable")
        self.table.setToolTip("Every stream in the store; click one to inspect and replay it")
        self.count = QLabel(objectName="streamCount")
        self.count.setProperty("muted", True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.filter)
        layout.addWidget(self.table)
        layout.addWidget(self.count)

        self._fit_columns = False
        """Fit the columns to the first answer after a store opens (then they are the
        user's)."""
        self._scroll_back: int | None = None
        """Where the list was scrolled when the store grew, to scroll back to once it is
        read again."""
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.model.listed.connect(self._on_listed)
        self.model.counted.connect(self._on_counted)
        session.storeOpened.connect(self._on_store_opened)
        session.storeClosed.connect(lambda: self.model.set_queries(None))
        session.historyChanged.connect(self._on_history_changed)
        session.streamSelected.connect(self._on_stream_selected)
        session.integrityChanged.connect(lambda: self.model.set_flags(session.flags))

    def _on_store_opened(self) -> None:
        assert self.session.services is not None
        self._fit_columns, self._scroll_back = True, None
        self.model.set_queries(self.session.services.queries)
        self.count.setText("Reading the streams…")

    def _apply_filter(self) -> None:
        self.model.set_filter(self.filter.text())
        if self.model.reading:
            self.count.setText("Filtering…")

    def _update_count(self) -> None:
        n = self.model.total()
        more = "+" if self.model.counting else ""
        self.count.setText(f"{n:,}{more} stream{'s' if n != 1 or more else ''}"
                           + (" match" if self.filter.text() else "")
                           + (", counting…" if more else ""))

    def _on_history_changed(self) -> None:
        """The store grew: the list is read again where the user left it (scrolled there,
        that stream selected), not scrolled back to the selection."""
        if self._scroll_back is None:
            self._scroll_back = self.table.verticalScrollBar().value()
        self.model.reload()

    def _on_listed(self) -> None:
        """A new list's first page is shown: its columns fitted once, the selected stream
        found in it if it is there."""
        if self._fit_columns:
            self._fit_columns = False
            self.table.resizeColumnsToContents()
        self._update_count()
        if self.model.counting and self.model.is_shown(self.session.stream_id):
            self._on_stream_selected(self.session.stream_id)

    def _on_counted(self) -> None:
        """Every row of the new list is counted: the count, the selected stream found in it,
        and the scroll where the user left it when the store grew."""
        self._update_count()
        self._on_stream_selected(self.session.stream_id)
        top, self._scroll_back = self._scroll_back, None
        if top is not None:
            self.table.doItemsLayout()  # the scroll range of the new rows, to scroll back in
            self.table.verticalScrollBar().setValue(top)

    def _on_selection_changed(self, selected: QItemSelection, _old: QItemSelection) -> None:
        indexes = selected.indexes()
        if indexes:
            stream_id = self.model.data(indexes[0], StreamIdRole)
            if stream_id != self.session.stream_id:
                self.session.select_stream(stream_id)

    def _on_stream_selected(self, stream_id: str) -> None:
        row = self.model.row_of(stream_id) if stream_id else -1
        sm = self.table.selectionModel()
        if row < 0:
            sm.clearSelection()
            return
        current = sm.selectedRows()
        if current and current[0].row() == row:
            return
        index: QModelIndex = self.model.index(row, 0)
        self.table.selectRow(row)
        self.table.scrollTo(index)
