"""The newest of a run of requests, answered off the GUI thread one at a time.

A slider dragging through versions asks for a blame (or a trace) at every step; only the last
one matters. ``LatestJob`` runs one request on the pool at a time: a request made while one runs
waits, replacing any other waiting, and an answer to a request that is no longer the newest is
dropped. So a drag costs at most two runs, and the view never shows an older answer over a newer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

from .workers import run_in_background

Request = tuple[int, Callable[[], Any], Callable[[Any], None], Callable[[str], None]]


class LatestJob(QObject):
    settled = Signal()  # the newest request was answered (or failed), or none is left

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent
        self._serial = 0  # the newest request; answers to older ones are dropped
        self._running = False
        self._waiting: Request | None = None

    @property
    def idle(self) -> bool:
        """No request is running or waiting."""
        return not self._running and self._waiting is None

    def submit(self, fn: Callable[[], Any], on_done: Callable[[Any], None],
               on_error: Callable[[str], None]) -> None:
        """Compute ``fn()`` on the pool; ``on_done(result)`` (or ``on_error(message)``) on the
        GUI thread unless a newer request came meanwhile."""
        self._serial += 1
        self._waiting = (self._serial, fn, on_done, on_error)
        if not self._running:
            self._start_waiting()

    def cancel(self) -> None:
        """Forget every request: none of them is answered (what a quick answer made on the
        GUI thread, or a view that was cleared, calls)."""
        self._serial += 1
        self._waiting = None
        if not self._running:
            self.settled.emit()

    def _start_waiting(self) -> None:
        request, self._waiting = self._waiting, None
        if request is None:
            self.settled.emit()
            return
        serial, fn, on_done, on_error = request
        self._running = True

        def done(result: Any) -> None:
            self._finish(serial, lambda: on_done(result))

        def failed(message: str) -> None:
            self._finish(serial, lambda: on_error(message))

        run_in_background(self._parent, "", lambda progress, cancelled: fn(), done, failed,
                          show_progress=False)

    def _finish(self, serial: int, answer: Callable[[], None]) -> None:
        if not isValid(self):
            return  # the panel was closed while the pool worked: nobody to answer
        self._running = False
        if serial == self._serial:
            answer()
        if not self._running:  # the answer may have asked for more, which then runs
            self._start_waiting()
