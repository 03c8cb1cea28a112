"""The events of one correlation as a table, the traced event in bold."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont

from esaudit.application.investigate.events import EventRef

from .base import Index, RowListModel

PositionRole = Qt.ItemDataRole.UserRole + 1
BOLD = QFont()
BOLD.setBold(True)


def event_label(e: EventRef) -> str:
    """An event as the trace names it: ``STREAM@VERSION`` (what ``esaudit trace`` reads)."""
    return f"{e.stream_id}@{e.version}"


class TraceEventsModel(RowListModel):
    COLUMNS = ("Event", "Type", "Actor", "Recorded (UTC)")
    """In position order (each row's tooltip says its position)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._traced = 0  # the position of the traced event

    def set_events(self, events: tuple[EventRef, ...], traced: int) -> None:
        """Show ``events``; when they are the ones shown already (another event of the same
        correlation traced), only the bold row moves, and the view keeps its scroll."""
        if list(events) == self._rows:
            self._traced = traced
            if self._rows:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(len(self._rows) - 1, len(self.COLUMNS) - 1))
            return
        self._traced = traced
        self.set_rows(list(events))

    def ref_at(self, row: int) -> EventRef | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, position: int) -> int:
        return next((r for r, e in enumerate(self._rows) if e.position == position), -1)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e: EventRef = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (event_label(e), e.type, e.actor or "",
                    e.recorded_at.strftime("%Y-%m-%d %H:%M:%S"))[index.column()]
        if role == Qt.ItemDataRole.FontRole and e.position == self._traced:
            return BOLD
        if role == Qt.ItemDataRole.ToolTipRole:
            traced = " (the traced event)" if e.position == self._traced else ""
            return (f"{e.type} {event_label(e)} at position {e.position:,}{traced}: click to "
                    "go to it")
        if role == PositionRole:
            return e.position
        return None
