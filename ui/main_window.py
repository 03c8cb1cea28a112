"""The main window: assembles panels, menus and the status bar; holds no domain state.

Opening stores is ``StoreOpener``'s job, the page without a store ``empty_page``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from esaudit.application.timeline import TimelineData, load_timeline

from .actions import make_action
from .audit_dock import AuditDock
from .audit_jobs import AuditJobs
from .compare_panel import ComparePanel
from .empty_page import empty_page
from .event_log import EventLogDock, EventLogPanel
from .event_panel import EventPanel
from .follow import LiveFollow
from .integrity_status import IntegrityLabel, read_models_failed, read_models_text, set_verdict
from .model_actions import ModelActions
from .order_actions import OrderActions
from .replay_panel import ReplayPanel
from .session import Session
from .store_opener import StoreOpener
from .stream_panel import StreamPanel
from .timeline import TimelinePanel
from .trace_panel import TracePanel
from .witness_jobs import WitnessJobs
from .workers import run_in_background


class MainWindow(QMainWindow):
    loaded = Signal()  # a store is open, its timeline drawn and its stream list shown
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

        self.opener = StoreOpener(self.session, self, self.timeline, self.settings)
        self.opener.opened.connect(self._on_opened)
        self.opener.failed.connect(self.failed)
        self.stack = QStackedWidget(objectName="pages")
        self.stack.addWidget(empty_page(self.opener))
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
        self.witness = WitnessJobs(self.session, self, self.audit_dock, self._work_folder)
        self.jobs.verify_seal = self.witness.verify_against
        self.model_actions = ModelActions(self.session, self, self.settings)
        # The global log, live follow, integrity marks.
        self.event_log = EventLogPanel(self.session, self.timeline.event_types, self._work_folder)
        self.event_log_dock = EventLogDock(self.event_log, self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.event_log_dock)
        self.tabifyDockWidget(self.audit_dock, self.event_log_dock)
        self.event_log_dock.hide()
        self.event_log.eventActivated.connect(self.show_finding)
        self.follow = LiveFollow(self.session, self, self.settings)
        self.session.streamExtended.connect(self.events.model.extend)
        self.integrity_label = IntegrityLabel(self.session)
        self.session.integrityChanged.connect(
            lambda: (self.events.model.set_flags(self.session.flags), self._update_counts()))
        self._build_menus()
        self._build_status_bar()

        # -- investigating one stream and one event: blame, trace -----------------------------
        self.trace = TracePanel(self.session)
        self.tabs.addTab(self.trace, "Trace")
        self.tabs.setTabToolTip(self.tabs.indexOf(self.trace), "The selected event's "
                                "correlation and causation (Alt+3)")
        self.view_menu.addAction(self._action("Trace tab", self.show_trace, "Alt+3",
                                              "Trace the selected event", "actionTrace"))
        self.events.eventShown.connect(self.trace.show_event)
        self.trace.eventActivated.connect(self.show_finding)
        self.replay.originActivated.connect(self.show_finding)

        self.timeline.eventClicked.connect(self._on_timeline_event_clicked)
        self.timeline.cursorMoved.connect(self._on_cursor_moved)
        self.session.storeOpened.connect(self._on_store_opened)
        self.session.storeClosed.connect(self._on_store_closed)
        self.session.historyChanged.connect(self._on_history_changed)
        self._restore_layout()

    def _action(self, text: str, slot: Callable[[], Any], shortcut: Any = None,
                tip: str = "", name: str = "", icon_name: str = "") -> QAction:
        return make_action(self, text, slot, shortcut, tip, name, icon_name)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        opener = self.opener
        for action in (opener.new_store_action, opener.open_action,
                       opener.open_read_only_action, opener.connect_action):
            file.addAction(action)
        file.addMenu(opener.recent_menu)
        file.addAction(opener.demo_action)
        file.addSeparator()
        self.close_action = self._action("&Close store", self.session.close,
                                         QKeySequence.StandardKey.Close, "Close the store",
                                         "actionCloseStore")
        file.addAction(self.close_action)
        file.addAction(self._action("&Quit", self.close, QKeySequence.StandardKey.Quit))

        view = self.view_menu = bar.addMenu("&View")
        view.addAction(self._action("&Reload", self.reload, QKeySequence.StandardKey.Refresh,
                                    "Re-read the store", "actionReload"))
        view.addAction(self.follow.action)
        view.addAction(self.event_log_dock.all_events_action())
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
        store.addSeparator()
        for action in self.model_actions.all_actions:
            store.addAction(action)

        audit = bar.addMenu("&Audit")
        for action in self.jobs.all_actions:
            audit.addAction(action)
            if action in (self.jobs.check_rules, self.jobs.report):
                audit.addSeparator()
        audit.addSeparator()
        for action in self.witness.all_actions:
            audit.addAction(action)
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

    def _build_status_bar(self) -> None:
        self.store_label = QLabel("No store", objectName="storeLabel")
        self.badge = QLabel(" READ-ONLY ", objectName="readOnlyBadge")
        self.badge.setVisible(False)
        self.counts_label = QLabel("", objectName="countsLabel")
        self.lag_label = QLabel("", objectName="lagLabel")
        bar = self.statusBar()
        bar.addWidget(self.store_label, 1)
        bar.addPermanentWidget(self.badge)
        bar.addPermanentWidget(self.integrity_label)
        bar.addPermanentWidget(self.counts_label)
        bar.addPermanentWidget(self.lag_label)
        self.close_action.setEnabled(False)
        self.rebuild_action.setEnabled(False)

    # -- stores ----------------------------------------------------------------------------
    def open_target(self, target: str, read_only: bool = False, create: bool = False) -> None:
        """Open a store off the GUI thread; ``loaded`` once its timeline is drawn and its
        stream list shown."""
        self.opener.open_target(target, read_only, create)

    def _on_opened(self) -> None:
        """``loaded``, as soon as the stream list (read on the pool too) is also shown."""
        model = self.streams.model
        if not model.reading:
            self.loaded.emit()
            return

        def listed() -> None:
            model.listed.disconnect(listed)
            self.loaded.emit()

        model.listed.connect(listed)

    def reload(self) -> None:
        """Re-read the store; a store another program writes shows what it appended."""
        services = self.session.services
        if services is None:
            return

        def job(progress: Any, cancelled: Any) -> None:
            # Off the GUI thread: a foreign store reads its stream list again here (a second
            # for 200k events), which the counts and the browser then take from memory.
            services.refresh()
            services.store.counts()

        def done(_result: None) -> None:
            if self.session.services is services:  # not a store closed meanwhile
                self.session.historyChanged.emit()
                self.session.refresh_stream()

        run_in_background(self, "Reloading the store…", job, done,
                          lambda message: QMessageBox.critical(self, "Reload failed", message),
                          cancellable=False)

    def rebuild_projections(self) -> None:
        services = self.session.services
        if services is None or services.read_only or services.projector is None:
            return
        projector = services.projector
        run_in_background(
            self, "Rebuilding read models…",
            lambda progress, cancelled: projector.rebuild(progress),
            lambda n: (self.session.historyChanged.emit(),
                       self.statusBar().showMessage(f"Rebuilt read models from {n:,} events",
                                                    5000)),
            lambda msg: QMessageBox.critical(self, "Rebuild failed", msg))

    # -- reactions -------------------------------------------------------------------------
    def _on_store_opened(self) -> None:
        services = self.session.services
        assert services is not None
        self.stack.setCurrentIndex(1)
        ro = services.read_only
        self.setWindowTitle(f"esaudit — {services.store.label}{' [read-only]' if ro else ''}")
        self.store_label.setText(f"{services.description}: {services.store.label}")
        self.badge.setVisible(ro)
        self.badge.setToolTip(services.read_only_reason)
        self.close_action.setEnabled(True)
        self.rebuild_action.setEnabled(not ro and services.projector is not None)
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
        if services.projector is None:
            self.lag_label.setText("no read models")
            return
        lag = max((s.lag for s in services.projector.status()), default=0)
        self.lag_label.setText(read_models_text(lag, self.session))
        set_verdict(self.lag_label, "bad" if read_models_failed(self.session) else None)

    def _on_history_changed(self) -> None:
        services = self.session.services
        if services is None:
            return
        self._update_counts()
        if self.timeline.unreadable:  # an edited event: reading from the start fails again
            return
        overview = self.timeline.overview
        if overview is not None:  # its events are being read, up to the head
            if self.opener.reading_events is None:  # reading them failed: View > Reload
                self.opener.read_events(services, overview)
            return
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

    def show_trace(self) -> None:
        self.tabs.setCurrentWidget(self.trace)

    def show_mismatch(self, order_id: str) -> None:
        if self.session.services is None:
            return
        self.session.select_stream(order_id)
        self.tabs.setCurrentWidget(self.compare)
        self.compare.show_read_model()

    def _work_folder(self) -> str:
        services = self.session.services
        target = services.store.identity.target if services is not None else ""
        if target and "://" not in target:
            return str(Path(target).parent)
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
