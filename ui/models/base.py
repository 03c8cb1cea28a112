"""The shared part of every flat table model: row/column counts and header titles."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

Index = QModelIndex | QPersistentModelIndex
FLAGGED_BACKGROUND = QColor("#fde4e2")
"""The row of an event (or stream) a verification flagged: red, as the verdict labels."""
FLAGGED_TEXT = QColor("#9f1d14")


class TableModel(QAbstractTableModel):
    """Counts and header titles of a flat table; subclasses set COLUMNS, keep ``_total`` (the
    rows there are, read or not) and implement data()."""

    COLUMNS: tuple[str, ...] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._total = 0

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._total

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None


class RowListModel(TableModel):
    """A table over a Python list of rows."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self._rows = rows
        self._total = len(rows)
        self.endResetModel()
