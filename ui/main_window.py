"""The main window: assembles panels, menus and the status bar; holds no domain state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from esaudit.application.jobs import CancelCheck, Progress
from esaudit.application.seed import seed
from esaudit.application.timeline import TimelineData, load_timeline
from esaudit.bootstrap import Services, bootstrap

from .actions import make_action
from .audit_dock import AuditDock
from .audit_jobs import AuditJobs
from .compare_panel import ComparePanel
from .event_panel import EventPanel
from .order_actions import OrderActions
from .replay_panel import ReplayPanel
from .session import Session
from .stream_panel import StreamPanel
from .timeline import TimelinePanel
from .workers import run_in_background

MAX_RECENT = 8


class MainWindow(QMainWindow):
    loaded = Signal()  # a store is open and its timeline drawn
    failed = Signal(str)

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings or QSettings("esaudit", "esaudit")
        self.session = Session()
        self.setWindowTitle("esaudit")
        self.resize(1440, 900)

        self.streams = StreamPanel(self.session)
        self.timeline = TimelinePanel(self.session)
        self.events = EventPanel(self.session)
        self.replay = ReplayPanel(self.session)
        self.compare = ComparePanel(self.session)
        self.tabs = QTabWidget(objectName="rightTabs")
        self.tabs.addTab(self.replay, "Replay")
        self.tabs.addTab(self.compare, "Compare")
        self.tabs.setTabToolTip(0, "State of the stream at a version or instant (Alt+1)")
        self.tabs.setTabToolTip(1, "What changed between versions or streams (Alt+2)")

        lower = QSplitter(Qt.Orientation.Horizontal, objectName="lowerSplitter")
        lower.addWidget(self.events)
        lower.addWidget(self.tabs)
        lower.setSizes([480, 380])
        right = QSplitter(Qt.Orientation.Vertical, objectName="rightSplitter")
        right.addWidget(self.timeline)
        right.addWidget(lower)
        right.setSizes([330, 520])
        main = QSplitter(Qt.Orientation.Horizontal, objectName="mainSplitter")
        main.addWidget(self.streams)
        main.addWidget(right)
        main.setSizes([580, 860])
        self.splitters = [main, right, lower, self.events.splitter]
        for s in self.splitters:
            s.setChildrenCollapsible(False)
        main_page = QWidget()
        page_layout = QVBoxLayout(main_page)
        page_layout.setContentsMargins(8, 8, 8, 8)
        page_layout.addWidget(main)

        self.stack = QStackedWidget(objectName="pages")
        self.stack.addWidget(self._empty_page())
        self.stack.addWidget(main_page)
        self.setCentralWidget(self.stack)

        self.orders = OrderActions(self.session, self)
        self.audit_dock = AuditDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.audit_dock)
        self.audit_dock.hide()
        self.audit_dock.findingActivated.connect(self.show_finding)
        self.audit_dock.mismatchActivated.connect(self.show_mismatch)
        self.jobs = AuditJobs(self.session, self, self.audit_dock, self._work_folder,
                              self.timeline.time_span)
        self._build_menus()
        self._build_status_bar()

        self.timeline.eventClicked.connect(self._on_timeline_event_clicked)
        self.timeline.cursorMoved.connect(self._on_cursor_moved)
        self.session.storeOpened.connect(self._on_store_opened)
        self.session.storeClosed.connect(self._on_store_closed)
        self.session.historyChanged.connect(self._on_history_changed)
        self._restore_layout()

    # -- layout ----------------------------------------------------------------------------
    def _empty_page(self) -> QWidget:
        page = QWidget(objectName="emptyState")
        title = QLabel("No store is open", objectName="emptyTitle")
        text = QLabel("esaudit shows what an event-sourced history holds: every stream, every "
                      "event, the state at any version, and what changed between two.\n\n"
                      "Start with a demo store (300 orders over 60 days), or open your own.",
                      objectName="emptyText")
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # A wrapped label added with an alignment flag gets a one-line-ish height; centred by
        # stretches instead, with a fixed width, the layout asks heightForWidth.
        text.setFixedWidth(560)
        text_row = QHBoxLayout()
        text_row.addStretch(1)
        text_row.addWidget(text)
        text_row.addStretch(1)
        demo = QPushButton("Create demo store…", objectName="createDemoButton")
        demo.setToolTip("Create and open a store seeded with realistic orders")
        demo.clicked.connect(self.create_demo_store)
        open_ = QPushButton("Open store…", objectName="openStoreButton")
        open_.setToolTip("Open an existing SQLite store (Ctrl+O)")
        open_.clicked.connect(lambda: self.open_dialog(read_only=False))
        new = QPushButton("New empty store…", objectName="newStoreButton")
        new.setToolTip("Create an empty store file to import histories into (Ctrl+Shift+N)")
        new.clicked.connect(self.new_store)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (demo, open_, new):
            b.setMinimumHeight(34)
            buttons.addWidget(b)
        buttons.addStretch(1)
        box = QVBoxLayout(page)
        box.addStretch(2)
        box.addWidget(title, 0, Qt.AlignmentFlag.AlignCenter)
        box.addLayout(text_row)
        box.addSpacing(16)
        box.addLayout(buttons)
        box.addStretch(3)
        return page

    def _action(self, text: str, slot: Callable[[], Any], shortcut: Any = None,
                tip: str = "", name: str = "", icon_name: str = "") -> QAction:
        return make_action(self, text, slot, shortcut, tip, name, icon_name)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        file.addAction(self._action("&New store…", self.new_store, "Ctrl+Shift+N",
                                    "Create an empty SQLite store", "actionNewStore",
                                    "new-store"))
        file.addAction(self._action("&Open store…", lambda: self.open_dialog(False),
                                    QKeySequence.StandardKey.Open, "Open a SQLite store",
                                    "actionOpen", "open-store"))
        file.addAction(self._action("Open &read-only…", lambda: self.open_dialog(True),
                                    "Ctrl+Shift+O", "Open a store without any write",
                                    "actionOpenReadOnly"))
        file.addAction(self._action("&Connect to PostgreSQL…", self.connect_dialog, None,
                                    "Open a shared store by URL", "actionConnect"))
        self.recent_menu = file.addMenu("Recent stores")
        file.addAction(self._action("Create &demo store…", self.create_demo_store, None,
                                    "Create a store seeded with demo orders", "actionDemo"))
        file.addSeparator()
        self.close_action = self._action("&Close store", self.session.close,
                                         QKeySequence.StandardKey.Close, "Close the store",
                                         "actionCloseStore")
        file.addAction(self.close_action)
        file.addAction(self._action("&Quit", self.close, QKeySequence.StandardKey.Quit))

        view = bar.addMenu("&View")
        view.addAction(self._action("&Reload", self.reload, QKeySequence.StandardKey.Refresh,
                                    "Re-read the store", "actionReload"))
        view.addAction(self._action("Find stream", self.streams.filter.setFocus,
                                    QKeySequence.StandardKey.Find, "Focus the stream filter"))
        view.addAction(self._action("Replay tab", lambda: self.tabs.setCurrentIndex(0),
                                    "Alt+1"))
        view.addAction(self._action("Compare tab", lambda: self.tabs.setCurrentIndex(1),
                                    "Alt+2"))

        store = bar.addMenu("&Store")
        self.rebuild_action = self._action("Rebuild read models…", self.rebuild_projections,
                                           None, "Recompute every projection from position 0",
                                           "actionRebuild")
        store.addAction(self.rebuild_action)

        audit = bar.addMenu("&Audit")
        for action in self.jobs.all_actions:
            audit.addAction(action)
            if action in (self.jobs.audit, self.jobs.report):
                audit.addSeparator()
        audit.addSeparator()
        toggle = self.audit_dock.toggleViewAction()
        toggle.setText("Show audit results")
        toggle.setShortcut(QKeySequence("Ctrl+Shift+R"))
        audit.addAction(toggle)

        orders = bar.addMenu("&Order")
        orders.addAction(self.orders.new_order)
        orders.addSeparator()
        for action in self.orders.actions.values():
            orders.addAction(action)

        tools = self.addToolBar("Order")
        tools.setObjectName("orderToolbar")
        tools.setMovable(False)
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tools.setIconSize(QSize(18, 18))
        tools.addAction(self.orders.new_order)
        tools.addSeparator()
        for action in self.orders.actions.values():
            tools.addAction(action)
        tools.addSeparator()
        for action in (self.jobs.verify, self.jobs.audit, self.jobs.report):
            tools.addAction(action)

        help_ = bar.addMenu("&Help")
        help_.addAction(self._action("About esaudit", self._about))
        self._fill_recent()

    def _build_status_bar(self) -> None:
        self.store_label = QLabel("No store", objectName="storeLabel")
        self.badge = QLabel(" READ-ONLY ", objectName="readOnlyBadge")
        self.badge.setVisible(False)
        self.counts_label = QLabel("", objectName="countsLabel")
        self.lag_label = QLabel("", objectName="lagLabel")
        bar = self.statusBar()
        bar.addWidget(self.store_label, 1)
        bar.addPermanentWidget(self.badge)
        bar.addPermanentWidget(self.counts_label)
        bar.addPermanentWidget(self.lag_label)
        self.close_action.setEnabled(False)
        self.rebuild_action.setEnabled(False)

    # -- stores ----------------------------------------------------------------------------
    def open_target(self, target: str, read_only: bool = False, create: bool = False) -> None:
        """Open a store off the GUI thread: bootstrap, catch up read models, load the timeline.

        Only File > New store creates (``create``): opening a path that holds no store is
        refused with a message, and no file is made.
        """
        def job(progress: Progress, cancelled: CancelCheck) -> Any:
            services = bootstrap(target, read_only=read_only, create=create)
            try:
                data = load_timeline(services.store, progress, cancelled)
            except BaseException:
                services.close()
                raise
            return services, data

        def done(result: tuple[Services, TimelineData]) -> None:
            services, data = result
            self._remember(target, read_only)
            self.session.open(services)
            self.timeline.set_data(data)
            self.loaded.emit()

        run_in_background(self, f"Opening {target}…", job, done, self._open_failed)

    def _open_failed(self, message: str) -> None:
        self.failed.emit(message)
        QMessageBox.critical(self, "Cannot open store", message)

    def open_dialog(self, read_only: bool) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open store read-only" if read_only else "Open store", "",
            "esaudit stores (*.db *.sqlite *.sqlite3);;All files (*)")
        if path:
            self.open_target(path, read_only)

    def new_store(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "New store", "esaudit.db",
                                              "esaudit stores (*.db)")
        if path:
            if Path(path).exists():
                QMessageBox.warning(self, "New store", f"{path} already exists; open it "
                                    "instead, esaudit never overwrites a store.")
                return
            self.open_target(path, create=True)

    def connect_dialog(self) -> None:
        url, ok = QInputDialog.getText(self, "Connect to PostgreSQL", "Store URL:",
                                       text="postgresql+psycopg://user@localhost/esaudit")
        if ok and url.strip():
            self.open_target(url.strip())

    def create_demo_store(self) -> None:
        from platformdirs import user_data_dir
        folder = Path(user_data_dir("esaudit", appauthor=False))
        folder.mkdir(parents=True, exist_ok=True)
        path, _ = QFileDialog.getSaveFileName(self, "Create demo store",
                                              str(folder / "esaudit-demo.db"),
                                              "esaudit stores (*.db)")
        if path:
            self.create_demo_at(path)

    def create_demo_at(self, path: str, orders: int = 300) -> None:
        if Path(path).exists():
            QMessageBox.warning(self, "Demo store", f"{path} already exists: opening it.")
            self.open_target(path)
            return

        def job(progress: Progress, cancelled: CancelCheck) -> str:
            services = bootstrap(path)
            try:
                seed(services.commands, orders=orders, seed=7, days=60, progress=progress)
            finally:
                services.close()
            return path

        run_in_background(self, "Creating a demo store…", job, self.open_target,
                          self._open_failed)

    def reload(self) -> None:
        if self.session.services is not None:
            self._on_history_changed()

    def rebuild_projections(self) -> None:
        services = self.session.services
        if services is None or services.read_only:
            return
        run_in_background(
            self, "Rebuilding read models…",
            lambda progress, cancelled: services.projector.rebuild(progress),
            lambda n: (self.session.historyChanged.emit(),
                       self.statusBar().showMessage(f"Rebuilt read models from {n:,} events",
                                                    5000)),
            lambda msg: QMessageBox.critical(self, "Rebuild failed", msg))

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

    # -- reactions -------------------------------------------------------------------------
    def _on_store_opened(self) -> None:
        services = self.session.services
        assert services is not None
        self.stack.setCurrentIndex(1)
        ro = services.read_only
        self.setWindowTitle(f"esaudit — {services.store.label}{' [read-only]' if ro else ''}")
        self.store_label.setText(f"{services.store.backend_name}: {services.store.label}")
        self.badge.setVisible(ro)
        self.close_action.setEnabled(True)
        self.rebuild_action.setEnabled(not ro)
        self._update_counts()

    def _on_store_closed(self) -> None:
        self.stack.setCurrentIndex(0)
        self.setWindowTitle("esaudit")
        self.store_label.setText("No store")
        self.badge.setVisible(False)
        self.counts_label.setText("")
        self.lag_label.setText("")
        self.close_action.setEnabled(False)
        self.rebuild_action.setEnabled(False)

    def _update_counts(self) -> None:
        services = self.session.services
        if services is None:
            return
        events, streams = services.store.counts()
        self.counts_label.setText(f"{events:,} events · {streams:,} streams")
        lag = max((s.lag for s in services.projector.status()), default=0)
        self.lag_label.setText(f"read models {'up to date' if lag == 0 else f'{lag:,} behind'}")

    def _on_history_changed(self) -> None:
        services = self.session.services
        if services is None:
            return
        self._update_counts()
        base = self.timeline.data

        def show(data: TimelineData) -> None:
            if self.session.services is services:  # not a store closed meanwhile
                self.timeline.set_data(data)

        run_in_background(self, "Refreshing the timeline…",
                          lambda progress, cancelled: load_timeline(services.store, base=base),
                          show, lambda m: None, show_progress=False)

    def _on_timeline_event_clicked(self, position: int) -> None:
        stream_id = self.timeline.stream_of(position)
        if stream_id is None:
            return
        if stream_id != self.session.stream_id:
            self.session.select_stream(stream_id)
        self.session.eventSelected.emit(position)

    def show_finding(self, stream_id: str, position: int, version: int) -> None:
        """Jump from an audit finding to its stream and event on the timeline."""
        if self.session.services is None:
            return
        if stream_id != self.session.stream_id:
            self.session.select_stream(stream_id)
        if not position and version and self.session.stream_id:
            events = self.session.services.store.read_stream(stream_id, version, version)
            position = events[0].position if events else 0
        if position:
            self.timeline.focus_event(position)
            self.session.eventSelected.emit(position)

    def show_mismatch(self, order_id: str) -> None:
        if self.session.services is None:
            return
        self.session.select_stream(order_id)
        self.tabs.setCurrentWidget(self.compare)
        self.compare.show_read_model()

    def _work_folder(self) -> str:
        services = self.session.services
        if services is not None and services.store.backend_name == "sqlite":
            return str(Path(services.store.label).parent)
        return str(Path.home())

    def _on_cursor_moved(self, seconds: float) -> None:
        self.tabs.setCurrentWidget(self.replay)
        self.replay.set_instant(seconds)

    def _about(self) -> None:
        QMessageBox.about(self, "About esaudit",
                          "esaudit — audit event-sourced systems.\n\nBrowse streams, replay "
                          "to any version or instant, compare states, and check the hash chain "
                          "of every stream.")

    # -- persistence -----------------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value("windowState")
        if state is not None:
            self.restoreState(state)
        for s in self.splitters:
            state = self.settings.value(f"splitter/{s.objectName()}")
            if state is not None:
                s.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("windowState", self.saveState())
        for s in self.splitters:
            self.settings.setValue(f"splitter/{s.objectName()}", s.saveState())
        self.session.close()
        super().closeEvent(event)
