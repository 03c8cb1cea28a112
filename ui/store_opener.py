"""Opening a store in the app: File > New, Open, Open read-only, Connect, the demo store, and
the recent stores. Every open runs off the GUI thread and ends with the timeline drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMenu, QMessageBox, QWidget

from esaudit.application.jobs import CancelCheck, Progress
from esaudit.application.records import NotAsWritten
from esaudit.application.seed import seed
from esaudit.application.timeline import TimelineData, load_timeline
from esaudit.application.timeline_overview import (
    TimelineOverview,
    load_overview,
    minutes_differing,
)
from esaudit.bootstrap import Services, bootstrap

from .actions import make_action
from .session import Session
from .timeline import TimelinePanel
from .workers import Worker, run_in_background

MAX_RECENT = 8
STORE_FILTER = "esaudit stores (*.db)"
OPEN_FILTER = ("Event stores: esaudit, eventsourcing (*.db *.sqlite *.sqlite3);;"
               "All files (*)")
"""What Open offers: esaudit's own stores and the SQLite files other software writes (an
eventsourcing application names its file as it likes, so All files is one click away)."""


class StoreOpener(QObject):
    """Opens stores into the session and remembers them in the settings."""

    opened = Signal()  # a store is open and its timeline drawn
    failed = Signal(str)  # why a store could not be opened

    def __init__(self, session: Session, window: QWidget, timeline: TimelinePanel,
                 settings: QSettings) -> None:
        super().__init__(window)
        self.session = session
        self.window = window
        self.timeline = timeline
        self.settings = settings
        self.reading_events: Worker | None = None  # a big store's events, after its counts
        session.storeClosed.connect(self._stop_reading_events)
        self.new_store_action = make_action(
            window, "&New store…", self.new_store, "Ctrl+Shift+N",
            "Create an empty SQLite store", "actionNewStore", "new-store")
        self.open_action = make_action(
            window, "&Open store…", lambda: self.open_dialog(False),
            QKeySequence.StandardKey.Open, "Open a SQLite store", "actionOpen", "open-store")
        self.open_read_only_action = make_action(
            window, "Open &read-only…", lambda: self.open_dialog(True), "Ctrl+Shift+O",
            "Open a store without any write", "actionOpenReadOnly")
        self.connect_action = make_action(
            window, "&Connect to PostgreSQL…", self.connect_dialog, None,
            "Open a shared store by URL", "actionConnect")
        self.demo_action = make_action(
            window, "Create &demo store…", self.create_demo_store, None,
            "Create a store seeded with demo orders", "actionDemo")
        self.recent_menu = QMenu("Recent stores", window)
        self._fill_recent()

    def open_target(self, target: str, read_only: bool = False, create: bool = False,
                    cipher_key: str | None = None) -> None:
        """Open a store off the GUI thread: bootstrap, catch up read models, load the timeline.

        Only File > New store creates (``create``): opening a path that holds no store is
        refused with a message, and no file is made. A store whose states are encrypted
        (eventsourcing's cipher) asks for the application's key, which is never remembered.
        """
        def job(progress: Progress, cancelled: CancelCheck) -> Any:
            services = bootstrap(target, read_only=read_only, create=create,
                                 cipher_key=cipher_key)
            unreadable = ""
            try:
                overview = load_overview(services.store)
                data = (load_timeline(services.store, progress, cancelled)
                        if overview is None else overview)
            except NotAsWritten as error:  # the store opens, so Verify can name the edits
                data, unreadable = TimelineData(), str(error)
            except BaseException:
                services.close()
                raise
            return services, data, unreadable

        def done(result: tuple[Services, TimelineData | TimelineOverview, str]) -> None:
            services, data, unreadable = result
            self._remember(target, read_only)
            self.session.open(services)
            if isinstance(data, TimelineOverview):
                self.timeline.set_overview(data)
                self.read_events(services, data)
            elif unreadable:
                self.timeline.set_unreadable(unreadable)
            else:
                self.timeline.set_data(data)
            self.opened.emit()

        def failed(message: str) -> None:
            if "CIPHER_KEY" in message:
                key = self._ask_cipher_key(message, retry=cipher_key is not None)
                if key:
                    self.open_target(target, read_only, create, key)
                    return
            self._open_failed(message)

        run_in_background(self.window, f"Opening {target}…", job, done, failed)

    def read_events(self, services: Services, overview: TimelineOverview) -> None:
        """Read the events of a store drawn from its counts, on the pool and without a dialog:
        the window is usable meanwhile, the caption shows how far it is, and closing the
        store stops it. The counts drawn are then checked against the events."""
        def job(progress: Progress, cancelled: CancelCheck
                ) -> tuple[TimelineData, int] | NotAsWritten:
            try:
                data = load_timeline(services.store, progress, cancelled,
                                     minutes_upto=overview.head)
            except NotAsWritten as error:  # not a reload's matter: Verify names the edit
                return error
            return data, minutes_differing(overview, data)

        def done(result: tuple[TimelineData, int] | NotAsWritten) -> None:
            if self.session.services is not services:  # closed (or another opened) meanwhile
                return
            self.reading_events = None
            if isinstance(result, NotAsWritten):
                self.timeline.set_unreadable(str(result))
                return
            data, wrong = result
            self.timeline.set_data(data)
            if wrong:
                self.timeline.set_notice(
                    f"the store's per-minute counts disagreed with its events in {wrong:,} "
                    f"minute{'s' if wrong != 1 else ''}: drawn from the events now")
            if services.store.head_position() > data.last_position:
                self.session.historyChanged.emit()  # written to while the events were read

        def failed(message: str) -> None:
            if self.session.services is services:
                self.reading_events = None
                self.timeline.set_events_failed(message)

        self.timeline.set_events_read(0, 0)
        worker = run_in_background(self.window, "Reading the events…", job, done, failed,
                                   show_progress=False)
        worker.signals.progressed.connect(
            lambda done_, total: self.timeline.set_events_read(done_, total)
            if self.reading_events is worker else None)
        self.reading_events = worker

    def _stop_reading_events(self) -> None:
        if self.reading_events is not None:
            self.reading_events.cancel()
            self.reading_events = None

    def _ask_cipher_key(self, message: str, retry: bool) -> str:
        """The key the user types for an encrypted store ("" if they cancel)."""
        why = ("That key does not open the states." if retry else
               "This store's states are encrypted by the application (eventsourcing's "
               "AESCipher).")
        key, ok = QInputDialog.getText(
            self.window, "Encrypted store",
            f"{why}\nEnter the application's CIPHER_KEY (base64; it is not stored):",
            QLineEdit.EchoMode.Password)
        return key.strip() if ok else ""

    def _open_failed(self, message: str) -> None:
        self.failed.emit(message)
        QMessageBox.critical(self.window, "Cannot open store", message)

    def open_dialog(self, read_only: bool) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Open store read-only" if read_only else "Open store", "",
            OPEN_FILTER)
        if path:
            self.open_target(path, read_only)

    def new_store(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "New store", "esaudit.db",
                                              STORE_FILTER)
        if path:
            if Path(path).exists():
                QMessageBox.warning(self.window, "New store", f"{path} already exists; open "
                                    "it instead, esaudit never overwrites a store.")
                return
            self.open_target(path, create=True)

    def connect_dialog(self) -> None:
        url, ok = QInputDialog.getText(self.window, "Connect to PostgreSQL", "Store URL:",
                                       text="postgresql+psycopg://user@localhost/esaudit")
        if ok and url.strip():
            self.open_target(url.strip())

    def create_demo_store(self) -> None:
        from platformdirs import user_data_dir
        folder = Path(user_data_dir("esaudit", appauthor=False))
        folder.mkdir(parents=True, exist_ok=True)
        path, _ = QFileDialog.getSaveFileName(self.window, "Create demo store",
                                              str(folder / "esaudit-demo.db"), STORE_FILTER)
        if path:
            self.create_demo_at(path)

    def create_demo_at(self, path: str, orders: int = 300) -> None:
        """Seed a demo store at ``path`` and open it; an existing file is opened as it is."""
        if Path(path).exists():
            QMessageBox.warning(self.window, "Demo store", f"{path} already exists: opening it.")
            self.open_target(path)
            return

        def job(progress: Progress, cancelled: CancelCheck) -> str:
            services = bootstrap(path)
            try:
                seed(services.writing("seed").commands, orders=orders, seed=7, days=60,
                     progress=progress)
            finally:
                services.close()
            return path

        run_in_background(self.window, "Creating a demo store…", job, self.open_target,
                          self._open_failed)

    # -- recent stores -----------------------------------------------------------------------
    def _remember(self, target: str, read_only: bool) -> None:
        recent = [t for t in self._recent() if t != target]
        recent.insert(0, target)
        self.settings.setValue("recentStores", recent[:MAX_RECENT])
        self.settings.setValue("lastStore", target)
        self.settings.setValue("lastReadOnly", read_only)
        self._fill_recent()

    def _recent(self) -> list[str]:
        value = self.settings.value("recentStores", [])
        if isinstance(value, str):
            return [value]
        return list(value or [])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for target in self._recent():
            self.recent_menu.addAction(target).triggered.connect(
                lambda _=False, t=target: self.open_target(t))
        self.recent_menu.setEnabled(bool(self._recent()))
