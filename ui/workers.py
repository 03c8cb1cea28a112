"""Long work off the GUI thread: a QRunnable whose signals live on a separate QObject.

Workers never touch widgets; they report progress and a result (or an error message) through
signals, which Qt delivers on the GUI thread.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from esaudit.application.jobs import Cancelled
from esaudit.application.records import StoreError
from esaudit.domain.errors import DomainError

EXPECTED = (DomainError, StoreError, ValueError, OSError)
"""Failures that are answers (a refusal, a store that is gone or was closed meanwhile, a file
that cannot be read): their one-line message is all there is to say."""


class WorkerSignals(QObject):
    progressed = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()


class Worker(QRunnable):
    """Runs ``fn(progress=..., cancelled=...)`` on the thread pool."""

    _alive: set[Worker] = set()

    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.fn = fn
        self.signals = WorkerSignals()
        self._cancel = threading.Event()
        self.setAutoDelete(False)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:
        try:
            result = self.fn(progress=self.signals.progressed.emit,
                             cancelled=self._cancel.is_set)
        except Cancelled:
            self.signals.cancelled.emit()
        except Exception as e:  # reported to the user by the one error handler
            if not isinstance(e, EXPECTED):  # a fault of esaudit's own: keep its trace
                traceback.print_exc()
            self.signals.failed.emit(str(e) or type(e).__name__)
        else:
            self.signals.finished.emit(result)
        finally:
            Worker._alive.discard(self)

    def start(self, pool: QThreadPool | None = None) -> None:
        """Run on ``pool``, the application's shared pool unless given."""
        Worker._alive.add(self)
        (pool or QThreadPool.globalInstance()).start(self)


def run_in_background(parent: QWidget, title: str, fn: Callable[..., Any],
                      on_done: Callable[[Any], None], on_error: Callable[[str], None],
                      *, show_progress: bool = True, cancellable: bool = True) -> Worker:
    """Start ``fn`` on the pool with a progress dialog (shown after 400 ms) that offers Cancel.

    Work that cannot stop halfway (a command's write) passes ``cancellable=False``: its dialog
    has no Cancel button, so it never suggests that the write did not happen.
    """
    worker = Worker(fn)
    dialog: QProgressDialog | None = None
    if show_progress:
        dialog = QProgressDialog(title, "Cancel", 0, 0, parent)
        if not cancellable:
            dialog.setCancelButton(None)
        dialog.setObjectName("progressDialog")
        dialog.setWindowTitle("esaudit")
        dialog.setMinimumDuration(400)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(worker.cancel)

        def progressed(done: int, total: int) -> None:
            if total > 0:
                dialog.setMaximum(total)
                dialog.setValue(min(done, total))

        worker.signals.progressed.connect(progressed)

    def close_dialog() -> None:
        if dialog is not None:
            dialog.reset()
            dialog.hide()
            dialog.deleteLater()

    worker.signals.finished.connect(lambda result: (close_dialog(), on_done(result)))
    worker.signals.failed.connect(lambda message: (close_dialog(), on_error(message)))
    worker.signals.cancelled.connect(close_dialog)
    worker.start()
    return worker
