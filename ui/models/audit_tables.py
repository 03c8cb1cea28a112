"""The audit dock's lists: integrity findings, read-model mismatches, rule violations."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from esaudit.application.audit import ProjectionMismatch
from esaudit.application.verify import VerificationFinding
from esaudit.domain.rules import RuleViolation
from esaudit.output import plain

from .base import Index, RowListModel


class FindingsTableModel(RowListModel):
    COLUMNS = ("Finding", "Stream", "Version", "Position", "Detail")

    def finding(self, row: int) -> VerificationFinding:
        return self._rows[row]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        f: VerificationFinding = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (f.kind, f.stream_id, plain(f.version), plain(f.position),
                    f.detail)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{f.detail}\nDouble-click to show the event on the timeline"
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class MismatchTableModel(RowListModel):
    COLUMNS = ("Order", "Field", "Read model", "Replayed from history")

    def mismatch(self, row: int) -> ProjectionMismatch:
        return self._rows[row]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        m: ProjectionMismatch = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (m.order_id, m.path, plain(m.read_model), plain(m.replayed))[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return "Double-click to compare this order's read model with its history"
        return None


class ViolationTableModel(RowListModel):
    COLUMNS = ("Stream", "Version", "Event", "Rule", "Status before", "Detail")

    def violation(self, row: int) -> RuleViolation:
        return self._rows[row]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        v: RuleViolation = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (v.stream_id, v.version, v.type, v.rule, v.status_before or "",
                    v.detail)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{v.detail}\nDouble-click to show the event on the timeline"
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
