"""The event a panel is asked about, worked on only once selections settle and the panel shows.

Selecting another stream selects none of its events, then its last; going to an event of
another stream selects that stream before the event. A panel that computed for each of those
would compute for events nobody looks at, so it keeps the event it was asked about last and
works for it once the event loop is idle, and again whenever the panel is shown.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

from esaudit.application.records import RecordedEvent


class SettledEvent(QObject):
    def __init__(self, panel: QWidget, on_settled: Callable[[], None]) -> None:
        super().__init__(panel)
        self.wanted: RecordedEvent | None = None
        """The event asked about last (the inspected one)."""
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(on_settled)
        panel.installEventFilter(self)

    def ask(self, event: RecordedEvent | None) -> None:
        self.wanted = event
        self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show:
            self._timer.start()
        return False
