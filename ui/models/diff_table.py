"""A structural diff as a table: changed, added and removed paths, coloured by kind."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from esaudit.application.diff import Change
from esaudit.output import plain

from .base import Index, RowListModel

KIND_COLOURS = {"added": QColor("#e3f5e1"), "removed": QColor("#fbe3e4"),
                "changed": QColor("#fff4d6")}
KindRole = Qt.ItemDataRole.UserRole + 1


class DiffTableModel(RowListModel):
    COLUMNS = ("Path", "Change", "Before", "After")

    def set_changes(self, changes: list[Change]) -> None:
        self.set_rows(changes)

    def changes(self) -> list[Change]:
        return list(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        ch: Change = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (ch.path or "(whole state)", ch.kind, plain(ch.old, ""),
                    plain(ch.new, ""))[index.column()]
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(KIND_COLOURS[ch.kind])
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor("#1d1d1f"))
        if role == KindRole:
            return ch.kind
        return None
