"""The selected stream's events."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from store import RecordedEvent

from .base import Index, RowListModel

PositionRole = Qt.ItemDataRole.UserRole + 1


class EventTableModel(RowListModel):
    COLUMNS = ("Version", "Recorded (UTC)", "Type", "Actor")

    def set_events(self, events: list[RecordedEvent]) -> None:
        self.set_rows(events)

    def event_at(self, row: int) -> RecordedEvent:
        return self._rows[row]

    def row_of_position(self, position: int) -> int:
        for i, e in enumerate(self._rows):
            if e.position == position:
                return i
        return -1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e: RecordedEvent = self._rows[index.row()]
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
