"""The dockable results of the audit jobs: integrity findings, read-model mismatches and
rule violations."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from esaudit.application.audit import ProjectionAudit, ProjectionMismatch
from esaudit.application.rule_check import RuleCheck
from esaudit.application.verify import VerificationReport
from esaudit.wording import counted

from .models.audit_tables import FindingsTableModel, MismatchTableModel, ViolationTableModel
from .tables import row_table


def _page(summary: QLabel, table: QTableView) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.addWidget(summary)
    layout.addWidget(table, 1)
    return page


class AuditDock(QDockWidget):
    findingActivated = Signal(str, int, int)  # stream id, position (0: none), version (0: none)
    mismatchActivated = Signal(str)  # order id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Audit results", parent)
        self.setObjectName("auditDock")
        self.findings = FindingsTableModel(self)
        self.mismatches = MismatchTableModel(self)
        self.verify_summary = QLabel("Run Audit ▸ Verify integrity (Ctrl+Shift+V) to check "
                                     "every hash chain.", objectName="verifySummary")
        self.audit_summary = QLabel("Run Audit ▸ Audit read models (Ctrl+Shift+A) to compare "
                                    "each order's read model with its history.",
                                    objectName="auditSummary")
        self.violations = ViolationTableModel(self)
        self.rules_summary = QLabel("Run Audit ▸ Check rules (Ctrl+Shift+K) to check every "
                                    "event against its stream's model.",
                                    objectName="rulesSummary")
        for label in (self.verify_summary, self.audit_summary, self.rules_summary):
            label.setWordWrap(True)
        self.findings_view = row_table(self.findings, "findingsTable")
        self.findings_view.setToolTip("Double-click a finding to show its event on the timeline")
        self.mismatch_view = row_table(self.mismatches, "mismatchTable")
        self.mismatch_view.setToolTip("Double-click a mismatch to compare the order's read model "
                                      "with its replayed history")
        self.findings_view.doubleClicked.connect(self._on_finding)
        self.findings_view.activated.connect(self._on_finding)
        self.mismatch_view.doubleClicked.connect(self._on_mismatch)
        self.mismatch_view.activated.connect(self._on_mismatch)
        self.tabs = QTabWidget(objectName="auditTabs")
        self.tabs.addTab(_page(self.verify_summary, self.findings_view), "Integrity")
        self.tabs.addTab(_page(self.audit_summary, self.mismatch_view), "Read models")
        self.violation_view = row_table(self.violations, "violationTable")
        self.violation_view.setToolTip("Double-click a violation to show its event on the "
                                       "timeline")
        self.violation_view.doubleClicked.connect(self._on_violation)
        self.violation_view.activated.connect(self._on_violation)
        self.tabs.addTab(_page(self.rules_summary, self.violation_view), "Rules")
        self.setWidget(self.tabs)
        self._sized = False
        self.setAllowedAreas(Qt.DockWidgetArea.BottomDockWidgetArea
                             | Qt.DockWidgetArea.RightDockWidgetArea)

    def show_verification(self, report: VerificationReport, against: str = "",
                          seal_line: str = "") -> None:
        self.findings.set_rows(list(report.findings))
        scope = f" against {against}" if against else ""
        if report.ok and report.not_checked:
            text = (f"✔ Clean{scope}: {report.events_checked:,} events in "
                    f"{report.streams_checked:,} streams verified; positions, version "
                    "sequences and stream heads check out.")
        elif report.ok:
            text = (f"✔ Clean{scope}: {report.events_checked:,} events in "
                    f"{report.streams_checked:,} streams verified; every hash chain, version "
                    "sequence, stream head and snapshot checks out.")
        else:
            text = (f"✖ {len(report.findings):,} finding(s){scope} in "
                    f"{report.events_checked:,} events / {report.streams_checked:,} streams. "
                    "Each names the first bad event of its stream.")
        if seal_line:
            text += f"\n{seal_line}"
        text += "".join(f"\nNot checked: {what}" for what in report.not_checked)
        self.verify_summary.setText(text)
        self.verify_summary.setProperty("verdict", "ok" if report.ok else "bad")
        self.verify_summary.style().polish(self.verify_summary)
        self.findings_view.resizeColumnsToContents()
        self.tabs.setCurrentIndex(0)
        self._reveal()

    def show_note(self, text: str) -> None:
        """A witness job's result (a seal written, a proof written) on the Integrity page."""
        self.verify_summary.setText(text)
        self.verify_summary.setProperty("verdict", "bad" if text.startswith("✖") else "ok")
        self.verify_summary.style().polish(self.verify_summary)
        self.tabs.setCurrentIndex(0)
        self._reveal()

    def show_audit(self, audit: ProjectionAudit) -> None:
        held = [ProjectionMismatch(u.stream_id, f"(cannot be held from version {u.version})",
                                   f"no {u.projection} row", u.reason)
                for u in audit.unprojectable]
        self.mismatches.set_rows([*audit.mismatches, *held])
        if audit.ok:
            text = f"✔ {audit.orders_checked:,} orders: every read-model row matches its history."
        else:
            orders = len({m.order_id for m in audit.mismatches})
            parts = [f"{len(audit.mismatches):,} field(s) of {orders:,} order(s) differ from "
                     "the replayed history"] if audit.mismatches else []
            if held:
                parts.append(f"{len(held):,} stream(s) cannot be held by a read model")
            text = f"✖ {'; '.join(parts)} ({audit.orders_checked:,} orders checked)."
        text += "".join(f"\nNot audited: {n.sentence}" for n in audit.not_audited)
        self.audit_summary.setText(text)
        self.audit_summary.setProperty("verdict", "ok" if audit.ok else "bad")
        self.audit_summary.style().polish(self.audit_summary)
        self.mismatch_view.resizeColumnsToContents()
        self.tabs.setCurrentIndex(1)
        self._reveal()

    def show_rules(self, check: RuleCheck) -> None:
        self.violations.set_rows(list(check.violations))
        scope = f"{counted(check.events_checked, 'event')} of " \
                f"{counted(check.streams_checked, 'stream')}"
        if check.ok:
            text = f"✔ No rule violated: {scope} checked against their models."
        else:
            text = (f"✖ {counted(len(check.violations), 'rule violation')} in {scope}. "
                    "Double-click one to show its event.")
        text += "".join(f"\nNot checked: {n.sentence}" for n in check.not_checked)
        self.rules_summary.setText(text)
        self.rules_summary.setProperty("verdict", "ok" if check.ok else "bad")
        self.rules_summary.style().polish(self.rules_summary)
        self.violation_view.resizeColumnsToContents()
        self.tabs.setCurrentIndex(2)
        self._reveal()

    def clear(self) -> None:
        self.findings.set_rows([])
        self.mismatches.set_rows([])
        self.violations.set_rows([])

    def _reveal(self) -> None:
        first = self.isHidden() and not self._sized
        self.show()
        self.raise_()
        window = self.parentWidget()
        if first and isinstance(window, QMainWindow):
            # A modest first height: the timeline and the panels stay the main view.
            window.resizeDocks([self], [230], Qt.Orientation.Vertical)
            self._sized = True

    def _on_finding(self, index: object) -> None:
        f = self.findings.finding(index.row())  # type: ignore[attr-defined]
        self.findingActivated.emit(f.stream_id, f.position or 0, f.version or 0)

    def _on_mismatch(self, index: object) -> None:
        self.mismatchActivated.emit(self.mismatches.mismatch(index.row()).order_id)  # type: ignore[attr-defined]

    def _on_violation(self, index: object) -> None:
        v = self.violations.violation(index.row())  # type: ignore[attr-defined]
        self.findingActivated.emit(v.stream_id, 0, v.version)
