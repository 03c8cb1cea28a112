"""The selected stream's events, a row per version."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush

from esaudit.application.flagged import FlaggedEvents
from esaudit.application.records import NotAsWritten, RecordedEvent, Source
from esaudit.application.timeline import event_version_at

from ..actions import icon
from .base import FLAGGED_BACKGROUND, FLAGGED_TEXT, Index, TableModel
from .pages import PageCache

PAGE = 500
CACHED_PAGES = 20


class EventTableModel(TableModel):
    """Row ``r`` is version ``first + r`` (``first``: the stream's first version, 1 in
    esaudit's store, 0 in a source that counts from 0); versions are read a page at a time
    when shown, so selecting a stream of 200,000 events costs what selecting one of ten
    does."""

    COLUMNS = ("Version", "Recorded (UTC)", "Type", "Actor")
    FOREIGN_COLUMNS = ("Version", "Recorded (UTC)", "Type", "Source row")
    """A store another program wrote has no actor: its fourth column says where in that
    store the event is (its message id, else its topic)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._store: Source | None = None
        self._stream_id = ""
        self._first = 1
        self._pages: PageCache[RecordedEvent | None] = PageCache(self._read_page, PAGE,
                                                                 CACHED_PAGES)
        self._unreadable: dict[int, str] = {}  # version -> why it cannot be shown
        self.flagged = FlaggedEvents()

    def set_flags(self, flags: FlaggedEvents) -> None:
        """Mark the events a verification flagged (red)."""
        self.flagged = flags
        if self._total:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self._total - 1, len(self.COLUMNS) - 1))

    def extend(self, stream_id: str, version: int) -> None:
        """The stream grew to ``version`` (another program appended): rows are added at the
        end, so the selected row and the scroll position stay."""
        if self._store is None or stream_id != self._stream_id:
            return
        total = max(version - self._first + 1, 0)
        if total <= self._total:
            return
        self._pages.forget((self._total - 1) // PAGE if self._total else 0)  # it was short
        self.beginInsertRows(QModelIndex(), self._total, total - 1)
        self._total = total
        self.endInsertRows()

    def set_stream(self, store: Source | None, stream_id: str, version: int,
                   first_version: int = 1) -> None:
        """Show a stream up to ``version`` (the version the user is looking at)."""
        self.beginResetModel()
        self._store, self._stream_id, self._first = store, stream_id, first_version
        self.COLUMNS = type(self).COLUMNS if store is None or store.capabilities.hash_chain \
            else self.FOREIGN_COLUMNS
        self._total = max(version - first_version + 1, 0) if store is not None and stream_id \
            else 0
        self._pages.clear()
        self._unreadable.clear()
        self.endResetModel()

    def _read_page(self, number: int) -> list[RecordedEvent | None]:
        """A page of versions; if the page cannot be read (an event edited behind the
        store's back), each version on its own, so only the ones that fail are left out
        and each says why (``unreadable_at``)."""
        if self._store is None:
            return []
        first = number * PAGE + self._first
        last = min(first + PAGE - 1, self._first + self._total - 1)
        try:
            return list(self._store.read_stream(self._stream_id, first, last))
        except NotAsWritten:
            return [self._read_version(version) for version in range(first, last + 1)]

    def _read_version(self, version: int) -> RecordedEvent | None:
        assert self._store is not None
        try:
            found = self._store.read_stream(self._stream_id, version, version)
        except NotAsWritten as error:
            self._unreadable[version] = str(error)
            return None
        return found[0] if found else None

    def event_at(self, row: int) -> RecordedEvent | None:
        return self._pages.row(row) if 0 <= row < self._total else None

    def unreadable_at(self, row: int) -> str:
        """Why the event of ``row`` cannot be shown ("" if it can, or is not read yet)."""
        return self._unreadable.get(row + self._first, "")

    def row_of_position(self, position: int) -> int:
        """The row of the event at a global position; -1 if it belongs to another stream."""
        for row, event in self._pages.cached():
            if event is not None and event.position == position:
                return row
        found = None if self._store is None else event_version_at(self._store, position)
        row = -1 if found is None else found[1] - self._first
        if found is None or found[0] != self._stream_id or not 0 <= row < self._total:
            return -1
        return row

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e = self.event_at(index.row())
        if e is None:
            return self._unreadable_data(index, role)
        if role == Qt.ItemDataRole.DisplayRole:
            fourth = e.metadata.get("actor", "") if e.hash else str(
                e.provenance.get("message_id") or e.provenance.get("topic", ""))
            return (e.version, e.recorded_at.strftime("%Y-%m-%d %H:%M:%S"), e.type,
                    fourth)[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        flagged = self.flagged.of_event(e.stream_id, e.version, e.position) if self.flagged \
            else None
        if role == Qt.ItemDataRole.DecorationRole and flagged is not None and index.column() == 0:
            return icon("flagged")
        if role == Qt.ItemDataRole.BackgroundRole and flagged is not None:
            return QBrush(FLAGGED_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole and flagged is not None:
            return QBrush(FLAGGED_TEXT)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"Position {e.position}, hash {e.hash}" if e.hash else \
                f"Position {e.position} (the source keeps no hash)"
            if flagged is not None:
                tip = f"✖ Failed verification ({flagged.kind}): {flagged.detail}\n{tip}"
            return tip
        return None

    def _unreadable_data(self, index: Index, role: int) -> Any:
        """A version that cannot be read: its number, "not readable", and why in its tip."""
        why = self.unreadable_at(index.row())
        if not why:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return (index.row() + self._first, "", "not readable", "")[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"✖ {why}"
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0:
            return icon("flagged")
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(FLAGGED_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(FLAGGED_TEXT)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
