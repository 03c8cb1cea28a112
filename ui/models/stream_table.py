"""The stream browser's model: a lazy, sortable, filterable page-by-page view of the streams."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from esaudit.application.queries import Queries, SortKey, StreamRow

StreamIdRole = Qt.ItemDataRole.UserRole + 1
PAGE = 500
COLUMNS: list[tuple[str, SortKey]] = [
    ("Stream", "stream_id"), ("Type", "stream_type"), ("Version", "version"),
    ("Status", "status"), ("Last event (UTC)", "last_at"),
]
Index = QModelIndex | QPersistentModelIndex


class StreamTableModel(QAbstractTableModel):
    """Fetches 500 rows at a time as the view scrolls (canFetchMore/fetchMore)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._queries: Queries | None = None
        self._rows: list[StreamRow] = []
        self._total = 0
        self._filter = ""
        self._sort: SortKey = "stream_id"
        self._descending = False

    def set_queries(self, queries: Queries | None) -> None:
        self._queries = queries
        self.reload()

    def set_filter(self, text: str) -> None:
        self._filter = text
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self._rows = []
        self._total = self._queries.count_streams(self._filter) if self._queries else 0
        self._fetch(PAGE)
        self.endResetModel()

    def total(self) -> int:
        return self._total

    def _fetch(self, n: int) -> list[StreamRow]:
        if self._queries is None:
            return []
        rows = self._queries.stream_rows(self._filter, sort=self._sort,
                                         descending=self._descending,
                                         offset=len(self._rows), limit=n)
        self._rows.extend(rows)
        return rows

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: Index) -> None:
        if parent.isValid() or self._queries is None:
            return
        start = len(self._rows)
        rows = self._queries.stream_rows(self._filter, sort=self._sort,
                                         descending=self._descending, offset=start, limit=PAGE)
        if not rows:
            self._total = start
            return
        self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == StreamIdRole:
            return row.stream_id
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (row.stream_id, row.stream_type, row.version, row.status or "",
                    row.last_at.strftime("%Y-%m-%d %H:%M:%S"))[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            who = f"\nCustomer: {row.customer}" if row.customer else ""
            return f"{row.stream_id} ({row.stream_type}), version {row.version}{who}\n" \
                   f"Head hash: {row.head_hash}"
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort = COLUMNS[column][1]
        self._descending = order == Qt.SortOrder.DescendingOrder
        self.reload()

    def row_of(self, stream_id: str) -> int:
        """The row showing a stream, fetching pages until it appears (-1 if filtered out)."""
        while True:
            for i, row in enumerate(self._rows):
                if row.stream_id == stream_id:
                    return i
            if not self.canFetchMore(QModelIndex()):
                return -1
            self.fetchMore(QModelIndex())

    def stream_at(self, row: int) -> StreamRow:
        return self._rows[row]
