"""View ▸ Follow new events: what other programs append shows up without a reload.

Every second a check runs on the pool (``investigate.tail.history_mark``: a refresh and the
head position, one small query on an idle store); only when it moved are the views told
(``historyChanged``, and ``streamExtended`` for the selected stream), and they add what is
new while the selection, the version shown and the timeline's zoom stay.

On by default for every store, since any of them may have another writer: a foreign store is
written by its own application, and esaudit's own by the CLI or a second window. The choice
is remembered (``follow/enabled``). A store that says it is not live (``Capabilities.live``)
is never polled.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QWidget

from esaudit.application.investigate.tail import history_mark

from .actions import make_action
from .session import Session
from .workers import Worker

POLL_MS = 1000


class LiveFollow(QObject):
    caughtUp = Signal()  # the views were told of new events

    def __init__(self, session: Session, window: QWidget, settings: QSettings) -> None:
        super().__init__(window)
        self.session = session
        self.settings = settings
        self.timer = QTimer(self, objectName="followTimer", interval=POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.action = make_action(window, "&Follow new events", self._on_triggered,
                                  "Ctrl+Shift+F", "Show what other programs append, as they "
                                  "append it (checked every second)", "actionFollow")
        self.action.setCheckable(True)
        self.action.setChecked(self._wanted())
        self.action.setEnabled(False)
        self.action.toggled.connect(lambda _on: self._update())
        self._checking: Worker | None = None
        self._mark: tuple[int, int] | None = None
        self.polls = 0  # checks made (a bench divides CPU time by them)
        session.storeOpened.connect(self._on_store_opened)
        session.storeClosed.connect(self._on_store_closed)
        session.historyChanged.connect(self._take_shown_mark)

    def _wanted(self) -> bool:
        return str(self.settings.value("follow/enabled", True)).lower() not in ("false", "0")

    def _on_triggered(self) -> None:
        self.settings.setValue("follow/enabled", self.action.isChecked())

    @property
    def following(self) -> bool:
        return self.timer.isActive()

    def _update(self) -> None:
        services = self.session.services
        live = services is not None and services.store.capabilities.live
        if live and self.action.isChecked():
            if not self.timer.isActive():
                self.timer.start()
        else:
            self.timer.stop()

    def _on_store_opened(self) -> None:
        services = self.session.services
        assert services is not None
        live = services.store.capabilities.live
        self.action.setEnabled(live)
        self.action.setToolTip(self.action.statusTip() if live else
                               "This store cannot change while it is open")
        self._take_shown_mark()
        self._update()

    def _on_store_closed(self) -> None:
        self.action.setEnabled(False)
        self.timer.stop()
        self._mark = None

    def _take_shown_mark(self) -> None:
        """The mark of what the views show now (they read the store just now: it opened, or
        this window wrote or reloaded): no refresh, so a foreign store's cut; esaudit's own
        store answers one small query."""
        services = self.session.services
        if services is None:
            self._mark = None
            return
        store = services.store
        self._mark = (store.head_position(),
                      0 if store.capabilities.ordered else store.counts()[0])

    def poll(self) -> None:
        """One check off the GUI thread (skipped while the previous one still runs)."""
        services = self.session.services
        if services is None or self._checking is not None:
            return
        store = services.store
        known = self._mark

        def job(progress: object, cancelled: object) -> tuple[tuple[int, int], bool]:
            mark = history_mark(store)
            moved = mark != known
            if moved:
                store.counts()  # a foreign store reads its new stream list here, not in a view
            return mark, moved

        def done(result: tuple[tuple[int, int], bool]) -> None:
            self._checking = None
            if self.session.services is not services:
                return
            mark, moved = result
            if moved and self._mark == known:  # not told meanwhile by a write of this window
                self.session.extend_stream()
                self.session.historyChanged.emit()
                self.caughtUp.emit()
            self._mark = mark

        def failed(_message: str) -> None:
            self._checking = None  # a dropped connection: the next tick tries again

        self.polls += 1
        worker = self._checking = Worker(job)
        worker.signals.finished.connect(done)
        worker.signals.failed.connect(failed)
        worker.start()
