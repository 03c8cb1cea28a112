"""Pick a stream with the mouse: the stream browser's lazy model in a dialog of its own."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from esaudit.application.queries import Queries

from .models.stream_table import StreamIdRole, StreamTableModel
from .stream_panel import stream_filter_box, stream_table_view


class StreamPickerDialog(QDialog):
    """Filter, click, OK (or double-click). It selects nothing in the main window: the
    choice is only handed back by ``chosen()``."""

    def __init__(self, queries: Queries, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("streamPicker")
        self.resize(660, 480)
        self.model = StreamTableModel(self)
        self.filter = stream_filter_box(self, "pickerFilter",
                                        "Filter by id, customer, type or status",
                                        "Words must all match",
                                        lambda: self.model.set_filter(self.filter.text()))
        self.table = stream_table_view(self.model, "pickerTable")
        self.table.setToolTip("Double-click a stream to choose it")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.buttons)

        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.table.doubleClicked.connect(lambda _index: self.accept())
        self.table.selectionModel().selectionChanged.connect(
            lambda *_: self.ok.setEnabled(bool(self.chosen())))
        self.model.modelReset.connect(lambda: self.ok.setEnabled(False))
        self._fitted = False
        self.model.listed.connect(self._fit_once)
        self.model.set_queries(queries)

    def _fit_once(self) -> None:
        """Columns fitted to the first rows read, then left to the user."""
        if not self._fitted:
            self._fitted = True
            self.table.resizeColumnsToContents()

    def chosen(self) -> str:
        rows = self.table.selectionModel().selectedRows()
        return str(self.model.data(rows[0], StreamIdRole) or "") if rows else ""
