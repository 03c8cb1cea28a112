"""A structural diff as a table: changed, added and removed paths, coloured by kind."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from esaudit.application.diff import Change

COLUMNS = ("Path", "Change", "Before", "After")
KIND_COLOURS = {"added": QColor("#e3f5e1"), "removed": QColor("#fbe3e4"),
                "changed": QColor("#fff4d6")}
KindRole = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


class DiffTableModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._changes: list[Change] = []

    def set_changes(self, changes: list[Change]) -> None:
        self.beginResetModel()
        self._changes = changes
        self.endResetModel()

    def changes(self) -> list[Change]:
        return list(self._changes)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._changes)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        ch = self._changes[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (ch.path or "(whole state)", ch.kind, _show(ch.old),
                    _show(ch.new))[index.column()]
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(KIND_COLOURS[ch.kind])
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor("#1d1d1f"))
        if role == KindRole:
            return ch.kind
        return None
