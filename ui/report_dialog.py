"""Report…: choose what the report covers (starting from the current selection) and where."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QDateTime, QTimeZone
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from esaudit.application.records import StreamInfo
from esaudit.application.transfer import Selection

SCOPE_STREAM, SCOPE_TYPE, SCOPE_ALL = "stream", "type", "all"
FILTERS = "HTML report (*.html);;PDF report (*.pdf);;CSV, one row per event (*.csv);;" \
          "JSON with stream heads (*.json)"


def _utc_edit(name: str, seconds: float) -> QDateTimeEdit:
    edit = QDateTimeEdit(objectName=name)
    edit.setTimeZone(QTimeZone.utc())
    edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss 'UTC'")
    edit.setCalendarPopup(True)
    edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(seconds), QTimeZone.utc()))
    return edit


class ReportDialog(QDialog):
    def __init__(self, stream: StreamInfo | None, stream_types: list[str],
                 span: tuple[float, float], default_folder: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Report")
        self.setObjectName("reportDialog")
        self.setMinimumWidth(520)
        self.scope = QComboBox(objectName="reportScope")
        if stream is not None:
            self.scope.addItem(f"Selected stream: {stream.stream_id}", SCOPE_STREAM)
        for t in stream_types:
            self.scope.addItem(f"All {t} streams", f"{SCOPE_TYPE}:{t}")
        self.scope.addItem("The whole store", SCOPE_ALL)
        self.scope.setToolTip("Which streams the report covers")
        self.stream = stream
        self.use_from = QCheckBox("From", objectName="reportUseFrom")
        self.use_to = QCheckBox("To", objectName="reportUseTo")
        self.since = _utc_edit("reportFrom", span[0])
        self.until = _utc_edit("reportTo", span[1])
        self.use_from.setToolTip("Only events recorded at or after this instant")
        self.use_to.setToolTip("Only events recorded at or before this instant")
        for box, edit in ((self.use_from, self.since), (self.use_to, self.until)):
            edit.setEnabled(False)
            box.toggled.connect(edit.setEnabled)
        self.use_versions = QCheckBox("Compare versions", objectName="reportUseVersions")
        self.use_versions.setToolTip("Show the selected stream's state at A and B and the diff")
        self.version_a = QSpinBox(objectName="reportVersionA")
        self.version_b = QSpinBox(objectName="reportVersionB")
        top = stream.version if stream else 0
        low = stream.first_version - 1 if stream else 0
        for spin, value in ((self.version_a, max(top - 1, low)), (self.version_b, top)):
            spin.setRange(low, max(top, low))
            spin.setValue(value)
            spin.setEnabled(False)
            self.use_versions.toggled.connect(spin.setEnabled)
        self.use_versions.setEnabled(stream is not None)
        self.path = QLineEdit(objectName="reportPath")
        name = (stream.stream_id if stream else "esaudit-report") + ".pdf"
        self.path.setText(str(Path(default_folder) / name))
        self.path.setToolTip("The format follows the extension: .html, .pdf, .csv or .json")
        browse = QPushButton("Browse…", objectName="reportBrowse")
        browse.clicked.connect(self._browse)
        self.seal = QLineEdit(objectName="reportSeal")
        self.seal.setPlaceholderText("none: the report fixes the stream heads")
        self.seal.setToolTip("A seal of this store (Audit > Seal…) to embed: its root, size "
                             "and signer, checked against the store as the report is written")
        seal_browse = QPushButton("Browse…", objectName="reportSealBrowse")
        seal_browse.clicked.connect(self._browse_seal)
        self.open_after = QCheckBox("Open the report when it is written",
                                    objectName="reportOpenAfter")
        self.open_after.setChecked(True)

        form = QFormLayout()
        form.addRow("Covers", self.scope)
        when = QHBoxLayout()
        when.addWidget(self.use_from)
        when.addWidget(self.since)
        when.addWidget(self.use_to)
        when.addWidget(self.until)
        form.addRow("Time span", when)
        versions = QHBoxLayout()
        versions.addWidget(self.use_versions)
        versions.addWidget(QLabel("A"))
        versions.addWidget(self.version_a)
        versions.addWidget(QLabel("B"))
        versions.addWidget(self.version_b)
        versions.addStretch(1)
        form.addRow("States", versions)
        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(browse)
        form.addRow("Save as", where)
        sealed = QHBoxLayout()
        sealed.addWidget(self.seal, 1)
        sealed.addWidget(seal_browse)
        form.addRow("Seal", sealed)
        form.addRow("", self.open_after)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Write report")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.scope.currentIndexChanged.connect(self._on_scope)

    def _on_scope(self) -> None:
        on_stream = self.scope.currentData() == SCOPE_STREAM
        self.use_versions.setEnabled(on_stream)
        if not on_stream:
            self.use_versions.setChecked(False)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save report as", self.path.text(), FILTERS)
        if path:
            self.path.setText(path)

    def _browse_seal(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Seal to embed", self.seal.text(),
                                              "Seal (*.json);;All files (*)")
        if path:
            self.seal.setText(path)

    def seal_path(self) -> Path | None:
        text = self.seal.text().strip()
        return Path(text).expanduser() if text else None

    def selection(self) -> Selection:
        scope = self.scope.currentData()
        since = (datetime.fromtimestamp(self.since.dateTime().toSecsSinceEpoch(), UTC)
                 if self.use_from.isChecked() else None)
        until = (datetime.fromtimestamp(self.until.dateTime().toSecsSinceEpoch(), UTC)
                 if self.use_to.isChecked() else None)
        if scope == SCOPE_STREAM and self.stream is not None:
            return Selection((self.stream.stream_id,), None, since, until)
        if isinstance(scope, str) and scope.startswith(f"{SCOPE_TYPE}:"):
            return Selection((), scope.partition(":")[2], since, until)
        return Selection((), None, since, until)

    def versions(self) -> tuple[int, int] | None:
        if self.use_versions.isEnabled() and self.use_versions.isChecked():
            return self.version_a.value(), self.version_b.value()
        return None

    def out_path(self) -> Path:
        return Path(self.path.text().strip()).expanduser()
