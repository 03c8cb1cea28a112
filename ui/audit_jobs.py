"""The audit jobs in the app: verify, audit read models, report, export, import.

Every job runs on the thread pool behind a progress dialog with Cancel; results go to the
audit dock or the status bar, failures to a dialog that says what went wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from esaudit.application.audit import audit_projections
from esaudit.application.jobs import CancelCheck, Progress
from esaudit.application.report import build_report
from esaudit.application.rule_check import check_rules
from esaudit.application.transfer import Selection, export_history, import_history
from esaudit.application.verify import verify
from esaudit.application.witness import seal_file
from esaudit.reporting.writers import check_report_path, write_report
from esaudit.wording import counted

from .actions import make_action
from .audit_dock import AuditDock
from .report_dialog import ReportDialog
from .session import Session
from .workers import run_in_background

IMPORT_FILTERS = ("History files (*.jsonl *.ndjson *.csv *.sqlite *.db *.sqlite3);;"
                  "JSONL (*.jsonl *.ndjson);;CSV (*.csv);;"
                  "eventsourcing SQLite database (*.sqlite *.db *.sqlite3);;All files (*)")


class AuditJobs(QObject):
    finished = Signal(str)  # the job's name, once its result is shown

    def __init__(self, session: Session, window: QMainWindow, dock: AuditDock,
                 folder: Callable[[], str], span: Callable[[], tuple[float, float]]) -> None:
        super().__init__(window)
        self.session = session
        self.window = window
        self.dock = dock
        self.folder = folder
        self.span = span
        self.open_reports = True
        self.verify_seal: Callable[[Path], None] | None = None
        """Where a seal given to Verify against a report goes (the witness's job)."""
        self.last_report: Path | None = None

        def action(text: str, slot: Callable[[], Any], shortcut: Any, tip: str,
                   name: str, icon_name: str = "") -> QAction:
            return make_action(window, text, slot, shortcut, tip, name, icon_name)

        self.verify = action("&Verify integrity", self.run_verify, "Ctrl+Shift+V",
                             "Check every hash chain, version sequence, stream head and snapshot",
                             "actionVerify", "verify")
        self.verify_against = action(
            "Verify against a &report…", self.run_verify_against, None,
            "Also check the stream heads recorded in an earlier JSON report "
            "(finds rewritten or truncated histories)", "actionVerifyAgainst")
        self.audit = action("&Audit read models", self.run_audit, "Ctrl+Shift+A",
                            "Compare every order's read-model row with its replayed history",
                            "actionAuditProjections", "audit")
        self.check_rules = action("Check &rules", self.run_check_rules, "Ctrl+Shift+K",
                                  "Check every event against the rules of its stream's model "
                                  "(model files; the shop's rules for Order streams)",
                                  "actionCheckRules")
        self.report = action("&Report…", self.run_report, "Ctrl+P",
                             "Write an HTML, PDF, CSV or JSON report of the selection",
                             "actionReport", "report")
        self.export = action("&Export history…", self.run_export, "Ctrl+Shift+E",
                             "Write the selected stream (or the whole store) as JSONL or CSV",
                             "actionExport")
        self.import_ = action("&Import history…", self.run_import, "Ctrl+Shift+I",
                              "Import a JSONL, CSV or eventsourcing file: all of it or nothing",
                              "actionImport")
        self.all_actions = [self.verify, self.verify_against, self.audit, self.check_rules,
                            self.report, self.export, self.import_]
        session.storeOpened.connect(self._update)
        session.storeClosed.connect(self._update)
        session.storeClosed.connect(dock.clear)
        self._update()

    def _update(self) -> None:
        is_open = self.session.is_open
        for a in self.all_actions:
            a.setEnabled(is_open)
        self.import_.setEnabled(is_open and not self.session.read_only)
        services = self.session.services
        models = services is not None and services.projector is not None
        self.audit.setEnabled(is_open and models)
        self.audit.setToolTip(self.audit.statusTip() if models or services is None else
                              f"No read models to audit: {services.read_only_reason}")
        reason = services.read_only_reason if services is not None else ""
        self.import_.setToolTip(f"Nothing can be imported: {reason}" if reason
                                else self.import_.statusTip())

    def _fail(self, title: str) -> Callable[[str], None]:
        return lambda message: QMessageBox.critical(self.window, title, message)

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)

    # -- jobs ------------------------------------------------------------------------------
    def run_verify(self, against_path: str = "") -> None:
        services = self.session.services
        if services is None:
            return
        heads = None
        if against_path:
            from esaudit.application.witness.against_file import load_against
            try:
                heads, seal = load_against(against_path)
            except ValueError as e:
                QMessageBox.critical(self.window, "Cannot use this report", str(e))
                return
            if seal is not None and self.verify_seal is not None:  # told apart by content
                self.verify_seal(Path(against_path))
                return

        def job(progress: Progress, cancelled: CancelCheck) -> Any:
            return verify(services.store, against=heads, progress=progress, cancelled=cancelled,
                          code=services.models.code, model_files=services.models.files)

        def done(report: Any) -> None:
            self.session.set_findings(report.findings, report.not_checked)
            self.dock.show_verification(report, Path(against_path).name if against_path else "")
            self._status("Integrity: clean" if report.ok
                         else f"Integrity: {len(report.findings)} finding(s)")
            self.finished.emit("verify")

        run_in_background(self.window, "Verifying every hash chain…", job, done,
                          self._fail("Verification failed"))

    def run_verify_against(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Verify against an earlier report",
                                              self.folder(), "JSON reports or seals (*.json)")
        if path:
            self.run_verify(path)

    def run_audit(self) -> None:
        services = self.session.services
        if services is None:
            return

        def job(progress: Progress, cancelled: CancelCheck) -> Any:
            return audit_projections(services.comparer, progress=progress, cancelled=cancelled)

        def done(audit: Any) -> None:
            self.session.set_read_model_audit(len(audit.mismatches))
            self.dock.show_audit(audit)
            self._status("Read models match history" if audit.ok
                         else f"Read models: {len(audit.mismatches)} mismatching field(s)")
            self.finished.emit("audit")

        run_in_background(self.window, "Comparing read models with history…", job, done,
                          self._fail("Audit failed"))

    def run_check_rules(self) -> None:
        services = self.session.services
        if services is None:
            return

        def job(progress: Progress, cancelled: CancelCheck) -> Any:
            return check_rules(services.models, progress=progress, cancelled=cancelled)

        def done(check: Any) -> None:
            self.dock.show_rules(check)
            self._status("Rules: none violated" if check.ok
                         else f"Rules: {len(check.violations)} violation(s)")
            self.finished.emit("rules")

        run_in_background(self.window, "Checking every event against its model's rules…",
                          job, done, self._fail("Rule check failed"))

    def run_report(self) -> None:
        services = self.session.services
        if services is None:
            return
        # Only the stream types: stats() would count every event on the GUI thread.
        dialog = ReportDialog(self.session.stream_info, services.queries.stream_types(),
                              self.span(),
                              self.folder(), self.window)
        dialog.open_after.setChecked(self.open_reports)
        if not dialog.exec():
            return
        path = dialog.out_path()
        try:
            check_report_path(path)
        except ValueError as e:
            QMessageBox.warning(self.window, "Report", str(e))
            return
        self.write_report(dialog.selection(), dialog.versions(), path,
                          dialog.open_after.isChecked(), dialog.seal_path())

    def write_report(self, selection: Selection, versions: tuple[int, int] | None,
                     path: Path, open_after: bool = False,
                     seal_path: Path | None = None) -> None:
        """Write the report (and its digest file), embedding the seal at ``seal_path``."""
        services = self.session.services
        if services is None:
            return

        def job(progress: Progress, cancelled: CancelCheck) -> Any:
            seal = seal_file.load(seal_path) if seal_path is not None else None
            data = build_report(services.store, selection, versions, models=services.models,
                                progress=progress, cancelled=cancelled, seal=seal)
            write_report(services.store, data, path, cancelled)
            return data

        def done(data: Any) -> None:
            self.last_report = path
            sealed = ", the seal checked" if data.seal is not None else ""
            self._status(f"Wrote {path} ({counted(data.events_total, 'event')}, "
                         f"{counted(len(data.streams), 'stream')}{sealed}) and "
                         f"{path.name}.sha256")
            if open_after:
                QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
            self.finished.emit("report")

        run_in_background(self.window, f"Writing {path.name}…", job, done,
                          self._fail("Report failed"))

    def run_export(self) -> None:
        services = self.session.services
        if services is None:
            return
        sid = self.session.stream_id
        name = f"{sid or 'esaudit-history'}.jsonl"
        path, _ = QFileDialog.getSaveFileName(
            self.window, f"Export {'stream ' + sid if sid else 'every stream'}",
            str(Path(self.folder()) / name), "JSONL (*.jsonl);;CSV (*.csv)")
        if path:
            self.export_to(Path(path), Selection((sid,)) if sid else Selection())

    def export_to(self, path: Path, selection: Selection) -> None:
        services = self.session.services
        if services is None:
            return

        def job(progress: Progress, cancelled: CancelCheck) -> Any:
            return export_history(services.store, path, selection, progress=progress,
                                  cancelled=cancelled)

        def done(n: int) -> None:
            self._status(f"Exported {n:,} events to {path}")
            self.finished.emit("export")

        run_in_background(self.window, f"Exporting to {path.name}…", job, done,
                          self._fail("Export failed"))

    def run_import(self) -> None:
        if self.session.read_only:
            return
        path, _ = QFileDialog.getOpenFileName(self.window, "Import history", self.folder(),
                                              IMPORT_FILTERS)
        if path:
            self.import_from(Path(path))

    def import_from(self, path: Path, fmt: str | None = None) -> None:
        services = self.session.services
        if services is None or services.read_only:
            return

        def job(progress: Progress, cancelled: CancelCheck) -> Any:
            writing = services.writing("import")
            summary = import_history(writing.store, path, fmt, progress=progress,
                                     cancelled=cancelled, models=services.models)
            writing.projector.catch_up()
            return summary

        def done(summary: Any) -> None:
            self.session.historyChanged.emit()
            self._status(f"Imported {summary.events:,} events in {summary.streams:,} streams "
                         f"from {path.name}")
            self.finished.emit("import")

        def failed(message: str) -> None:
            QMessageBox.critical(self.window, "Import refused",
                                 f"{message}\n\nNothing was imported: the store is unchanged.")

        run_in_background(self.window, f"Importing {path.name}…", job, done, failed)
