"""The "All events" view's model: every event that matches a search, in position order, read
a page at a time off the GUI thread as the view scrolls (``canFetchMore``/``fetchMore``)."""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable
from typing import Any, NamedTuple

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush

from esaudit.application.flagged import FlaggedEvents
from esaudit.application.investigate.search import SearchPage
from esaudit.application.records import RecordedEvent
from esaudit.application.values import shown

from ..actions import icon
from ..workers import Worker
from .base import FLAGGED_BACKGROUND, FLAGGED_TEXT, Index, TableModel

PositionRole = Qt.ItemDataRole.UserRole + 1
PAGE = 500
PAYLOAD_CHARS = 240  # a row shows the start of its payload; the inspector shows it whole

Fetch = Callable[[int, int], SearchPage]
"""One page of matches after a position (``investigate.search.search`` on the open store)."""


class LogRow(NamedTuple):
    """What a row shows, made on the pool (no payload dict kept: a million rows stay light)."""

    position: int
    stream_id: str
    stream_type: str
    version: int
    type: str
    recorded: str
    who: str
    payload: str


def log_row(e: RecordedEvent) -> LogRow:
    who = e.metadata.get("actor", "") if e.hash else str(
        e.provenance.get("message_id") or e.provenance.get("topic", ""))
    text = json.dumps(shown(e.payload), ensure_ascii=False, default=str)
    if len(text) > PAYLOAD_CHARS:
        text = text[:PAYLOAD_CHARS - 1] + "…"
    return LogRow(e.position, e.stream_id, e.stream_type, e.version, e.type,
                  e.recorded_at.strftime("%Y-%m-%d %H:%M:%S"), str(who), text)


class EventLogModel(TableModel):
    """Rows from ``after`` on (0: the start of the log; a jump to a date starts later), pages
    appended as the view reaches the end. Only one page is read at a time; an answer for an
    earlier search (the filters changed meanwhile) is dropped."""

    COLUMNS = ("Position", "Recorded (UTC)", "Stream", "Version", "Type", "Actor / source",
               "Payload")
    pageLoaded = Signal()  # rows were appended (or a search found none)
    failed = Signal(str)  # the store could not answer

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._fetch: Fetch | None = None
        self._rows: list[LogRow] = []
        self._positions: list[int] = []
        self._after = 0
        self._more = False
        self._loading: Worker | None = None
        self._generation = 0
        self.flagged = FlaggedEvents()

    # -- what is shown ---------------------------------------------------------------------
    def set_search(self, fetch: Fetch | None, after: int = 0) -> None:
        """Show the matches of a new search from position ``after`` on; the first page is
        read at once (on the pool)."""
        self.beginResetModel()
        self._generation += 1
        self._fetch, self._after = fetch, after
        self._rows, self._positions, self._total = [], [], 0
        self._more = fetch is not None
        self._loading = None
        self.endResetModel()
        if fetch is not None:
            self.fetchMore(QModelIndex())

    def follow_tail(self) -> None:
        """The log grew: read past the last row if the list had reached its end."""
        if self._fetch is not None and not self._more:
            self._more = True
            self.fetchMore(QModelIndex())

    def set_flags(self, flags: FlaggedEvents) -> None:
        self.flagged = flags
        if self._total:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self._total - 1, len(self.COLUMNS) - 1))

    @property
    def started_at(self) -> int:
        """The position the rows start after (0: the start of the log)."""
        return self._after

    @property
    def loading(self) -> bool:
        return self._loading is not None

    @property
    def complete(self) -> bool:
        """Every match is a row (none left to read)."""
        return self._fetch is not None and not self._more and self._loading is None

    def row_at(self, row: int) -> LogRow | None:
        return self._rows[row] if 0 <= row < self._total else None

    def row_of_position(self, position: int) -> int:
        """The row of an event already read, -1 if it is not."""
        i = bisect.bisect_left(self._positions, position)
        return i if i < len(self._positions) and self._positions[i] == position else -1

    # -- lazy loading ----------------------------------------------------------------------
    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._more and self._loading is None

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent) or self._fetch is None:
            return
        fetch, generation = self._fetch, self._generation
        after = self._positions[-1] if self._positions else self._after

        def job(progress: Any, cancelled: Any) -> tuple[list[LogRow], bool]:
            page = fetch(after, PAGE)
            return [log_row(e) for e in page.events], page.more

        worker = self._loading = Worker(job)
        worker.signals.finished.connect(lambda result: self._on_page(generation, result))
        worker.signals.failed.connect(lambda message: self._on_failed(generation, message))
        worker.start()

    def _on_page(self, generation: int, result: tuple[list[LogRow], bool]) -> None:
        if generation != self._generation:
            return
        rows, more = result
        self._loading = None
        self._more = more
        if rows:
            first = self._total
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self._positions.extend(r.position for r in rows)
            self._total = len(self._rows)
            self.endInsertRows()
        self.pageLoaded.emit()

    def _on_failed(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._loading = None
        self._more = False
        self.failed.emit(message)

    # -- Qt --------------------------------------------------------------------------------
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.row_at(index.row())
        if r is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (r.position, r.recorded, r.stream_id, r.version, r.type, r.who,
                    r.payload)[col]
        if role == PositionRole:
            return r.position
        flagged = self.flagged.of_event(r.stream_id, r.version, r.position) if self.flagged \
            else None
        if role == Qt.ItemDataRole.DecorationRole and flagged is not None and col == 0:
            return icon("flagged")
        if role == Qt.ItemDataRole.BackgroundRole and flagged is not None:
            return QBrush(FLAGGED_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole and flagged is not None:
            return QBrush(FLAGGED_TEXT)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (0, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{r.stream_type} {r.stream_id} v{r.version} at position {r.position}"
            if flagged is not None:
                tip += f"\n✖ failed verification ({flagged.kind}): {flagged.detail}"
            return f"{tip}\nDouble-click to open the event in its stream"
        return None
