"""The selected stream's events, a row per version."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from esaudit.application.records import EventStore, RecordedEvent
from esaudit.application.timeline import event_version_at

from .base import Index, TableModel
from .pages import PageCache

PAGE = 500
CACHED_PAGES = 20


class EventTableModel(TableModel):
    """Row ``r`` is version ``r + 1``; versions are read a page at a time when shown, so
    selecting a stream of 200,000 events costs what selecting one of ten does."""

    COLUMNS = ("Version", "Recorded (UTC)", "Type", "Actor")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._store: EventStore | None = None
        self._stream_id = ""
        self._pages: PageCache[RecordedEvent] = PageCache(self._read_page, PAGE, CACHED_PAGES)

    def set_stream(self, store: EventStore | None, stream_id: str, version: int) -> None:
        """Show a stream up to ``version`` (the version the user is looking at)."""
        self.beginResetModel()
        self._store, self._stream_id = store, stream_id
        self._total = version if store is not None and stream_id else 0
        self._pages.clear()
        self.endResetModel()

    def _read_page(self, number: int) -> list[RecordedEvent]:
        if self._store is None:
            return []
        first = number * PAGE + 1
        return self._store.read_stream(self._stream_id, first,
                                       min(first + PAGE - 1, self._total))

    def event_at(self, row: int) -> RecordedEvent | None:
        return self._pages.row(row) if 0 <= row < self._total else None

    def row_of_position(self, position: int) -> int:
        """The row of the event at a global position; -1 if it belongs to another stream."""
        for row, event in self._pages.cached():
            if event.position == position:
                return row
        found = None if self._store is None else event_version_at(self._store, position)
        if found is None or found[0] != self._stream_id or found[1] > self._total:
            return -1
        return found[1] - 1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e = self.event_at(index.row())
        if e is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return (e.version, e.recorded_at.strftime("%Y-%m-%d %H:%M:%S"), e.type,
                    e.metadata.get("actor", ""))[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Position {e.position}, hash {e.hash}"
        return None
