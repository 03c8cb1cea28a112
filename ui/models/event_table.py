"""The selected stream's events."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from store import RecordedEvent

PositionRole = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Version", "Recorded (UTC)", "Type", "Actor")
Index = QModelIndex | QPersistentModelIndex


class EventTableModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._events: list[RecordedEvent] = []

    def set_events(self, events: list[RecordedEvent]) -> None:
        self.beginResetModel()
        self._events = events
        self.endResetModel()

    def event_at(self, row: int) -> RecordedEvent:
        return self._events[row]

    def row_of_position(self, position: int) -> int:
        for i, e in enumerate(self._events):
            if e.position == position:
                return i
        return -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._events)

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
        e = self._events[index.row()]
        if role == PositionRole:
            return e.position
        if role == Qt.ItemDataRole.DisplayRole:
            return (e.version, e.recorded_at.strftime("%Y-%m-%d %H:%M:%S"), e.type,
                    e.metadata.get("actor", ""))[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Position {e.position}, hash {e.hash}"
        return None
