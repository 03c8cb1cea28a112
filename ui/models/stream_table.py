"""The stream browser's model: every stream of the filter as a row, read a page at a time."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QThreadPool, Signal
from PySide6.QtGui import QBrush

from esaudit.application.flagged import FlaggedEvents
from esaudit.application.queries import Queries, SortKey, StreamRow

from ..actions import icon
from ..workers import Worker
from .base import FLAGGED_BACKGROUND, FLAGGED_TEXT, Index, TableModel
from .pages import PageCache

StreamIdRole = Qt.ItemDataRole.UserRole + 1
PAGE = 500
CACHED_PAGES = 40  # 20,000 rows in memory at most, whatever the store's size
COLUMNS: list[tuple[str, SortKey]] = [
    ("Stream", "stream_id"), ("Type", "stream_type"), ("Version", "version"),
    ("Status", "status"), ("Last event (UTC)", "last_at"),
]


class StreamTableModel(TableModel):
    """A row for every matching stream from the start (the scroll bar tells the truth about
    100k streams), but only the pages the view paints are read, and only the last
    CACHED_PAGES are kept. Jumping to a stream counts its row instead of reading up to it.

    A new list (a filter typed, a sort, the store grown) is read off the GUI thread in two
    steps. Its first page comes first, shown as soon as it is read (``listed``): a filter
    that matches many streams finds its first 500 early in the index. The count of its rows
    is a scan of every stream (a quarter of a second at a million) and follows on a thread of
    the model's own (``counted``), so that a count still running never holds up the next
    keystroke's first page on the shared pool; a count overtaken before it starts is not
    run. Until it comes the rows read are the rows shown, and ``counting`` says that more may
    follow. The rows shown stay until the first answer replaces them; an answer to a
    request overtaken by a newer one is dropped."""

    COLUMNS = tuple(title for title, _key in COLUMNS)

    listed = Signal()
    """The first page of the latest reload is shown (``reading`` is False again)."""
    counted = Signal()
    """The latest reload's rows are all counted (``counting`` is False again)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._queries: Queries | None = None
        self._pages: PageCache[StreamRow] = PageCache(self._read_page, PAGE, CACHED_PAGES)
        self._filter = ""
        self._sort: SortKey = "stream_id"
        self._descending = False
        self._asked = 0
        """The number of the latest reload: only its answer is shown."""
        self.reading = False
        """Whether a reload's first page is still to come."""
        self.counting = False
        """Whether the rows shown may be only the first of more, still being counted."""
        self.flagged = FlaggedEvents()
        self._counts = QThreadPool(self)
        self._counts.setMaxThreadCount(1)

    def set_flags(self, flags: FlaggedEvents) -> None:
        """Mark the streams a verification found a problem in (red)."""
        self.flagged = flags
        if self._total:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self._total - 1, len(self.COLUMNS) - 1))

    def set_queries(self, queries: Queries | None) -> None:
        self._queries = queries
        self.reload()

    def set_filter(self, text: str) -> None:
        self._filter = text
        self.reload()

    def reload(self) -> None:
        """Read the list again, off the GUI thread (``listed`` once its first page is shown,
        ``counted`` once all its rows are)."""
        self._asked += 1
        asked, queries = self._asked, self._queries
        if queries is None:
            self._show(asked, [])
            return
        text, sort, descending = self._filter, self._sort, self._descending

        def read(progress: Any, cancelled: Any) -> tuple[int, list[StreamRow]]:
            return asked, queries.stream_rows(text, sort=sort, descending=descending,
                                              offset=0, limit=PAGE)

        worker = Worker(read)
        worker.signals.finished.connect(lambda answer: self._show(*answer))
        worker.signals.failed.connect(lambda _message: self._show(asked, None))
        self.reading = True
        worker.start()

    def _show(self, asked: int, first: list[StreamRow] | None) -> None:
        """The first page of reload number ``asked``; None: it failed (the store was closed
        meanwhile), and the rows shown stay. A short first page is the whole answer; a full
        one is counted next."""
        if asked != self._asked:
            return
        self.reading = False
        if first is None:
            self.counting = False  # the count of the rows shown, if one was running, is dropped
            self.listed.emit()
            self.counted.emit()
            return
        self.beginResetModel()
        self._pages.clear()
        self._pages.put(0, first)
        self._total = len(first)
        self.counting = len(first) == PAGE
        self.endResetModel()
        self.listed.emit()
        if self.counting:
            self._count(asked)
        else:
            self.counted.emit()

    def _count(self, asked: int) -> None:
        queries, text = self._queries, self._filter
        assert queries is not None

        def count(progress: Any, cancelled: Any) -> tuple[int, int | None]:
            if asked != self._asked:  # overtaken while it waited: its answer would be dropped
                return asked, None
            return asked, queries.count_streams(text)

        worker = Worker(count)
        worker.signals.finished.connect(lambda answer: self._show_count(*answer))
        worker.signals.failed.connect(lambda _message: self._show_count(asked, None))
        worker.start(self._counts)

    def _show_count(self, asked: int, total: int | None) -> None:
        """The count of reload number ``asked``: the rows past the first page join the table
        (None: the count failed, and the first page is what is shown)."""
        if asked != self._asked:
            return
        self.counting = False
        if total is not None and total > self._total:
            self.beginInsertRows(QModelIndex(), self._total, total - 1)
            self._total = total
            self.endInsertRows()
        elif total is not None and total < self._total:  # the list shrank in between
            self.beginResetModel()
            self._pages.clear()
            self._total = total
            self.endResetModel()
        self.counted.emit()

    def total(self) -> int:
        return self._total

    def _read_page(self, number: int) -> list[StreamRow]:
        if self._queries is None:
            return []
        return self._queries.stream_rows(self._filter, sort=self._sort,
                                         descending=self._descending,
                                         offset=number * PAGE, limit=PAGE)

    def stream_at(self, row: int) -> StreamRow | None:
        """The row's stream; None past the end (the store shrank under a stale view)."""
        return self._pages.row(row)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.stream_at(index.row())
        if row is None:
            return None
        if role == StreamIdRole:
            return row.stream_id
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 4:
                return row.last_at.strftime("%Y-%m-%d %H:%M")  # seconds: the tooltip
            return (row.stream_id, row.stream_type, row.version, row.status or "")[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        flagged = bool(self.flagged) and bool(self.flagged.of_stream(row.stream_id))
        if role == Qt.ItemDataRole.DecorationRole and flagged and col == 0:
            return icon("flagged")
        if role == Qt.ItemDataRole.BackgroundRole and flagged:
            return QBrush(FLAGGED_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole and flagged:
            return QBrush(FLAGGED_TEXT)
        if role == Qt.ItemDataRole.ToolTipRole:
            who = f"\nCustomer: {row.customer}" if row.customer else ""
            tip = f"{row.stream_id} ({row.stream_type}), version {row.version}{who}\n" \
                  f"Last event: {row.last_at:%Y-%m-%d %H:%M:%S} UTC\nHead hash: {row.head_hash}"
            return f"{self.flagged.stream_note(row.stream_id)}\n{tip}" if flagged else tip
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort = COLUMNS[column][1]
        self._descending = order == Qt.SortOrder.DescendingOrder
        self.reload()

    def is_shown(self, stream_id: str) -> bool:
        """Whether a stream is on a page already read (no query asked)."""
        return any(row.stream_id == stream_id for _n, row in self._pages.cached())

    def row_of(self, stream_id: str) -> int:
        """The row showing a stream (-1 if the filter hides it): a page already read answers
        at once, otherwise one counting query does."""
        for row_number, row in self._pages.cached():
            if row.stream_id == stream_id:
                return row_number
        if self._queries is None:
            return -1
        found = self._queries.stream_row_number(stream_id, self._filter, sort=self._sort,
                                                descending=self._descending)
        if found is None or found >= self._total:
            return -1
        # Counted on the live store: a list read before the stream was written (its reload
        # still to come) would show another stream at that row.
        row = self.stream_at(found)
        return found if row is not None and row.stream_id == stream_id else -1
