"""Compare: two versions of a stream, two streams, or the read model against history."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from esaudit.application.diff import count_by_kind
from esaudit.domain.errors import DomainError

from .labels import side_label
from .models.diff_table import DiffTableModel
from .session import Session
from .stream_picker import StreamPickerDialog

VERSIONS, STREAMS, READ_MODEL = "Two versions", "Two streams", "Read model vs history"


class ComparePanel(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.mode = QComboBox(objectName="compareMode")
        self.mode.addItems([VERSIONS, STREAMS, READ_MODEL])
        self.mode.setToolTip("What to compare")
        self.mode.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.version_a = QSpinBox(objectName="compareA")
        self.version_a.setToolTip("Version A (before)")
        self.version_b = QSpinBox(objectName="compareB")
        self.version_b.setToolTip("Version B (after)")
        self.other = QLineEdit(objectName="compareOther")
        self.other.setPlaceholderText("other stream id")
        self.other.setToolTip("The stream to compare the selected one with (at its head)")
        self.pick = QPushButton("Pick…", objectName="comparePick")
        self.pick.setToolTip("Choose the other stream from the stream list")
        self.pick.clicked.connect(self.pick_other)
        self.run = QPushButton("Compare", objectName="compareButton")
        self.run.setToolTip("Show what changed (Ctrl+D)")
        self.run.setShortcut("Ctrl+D")
        self.counts = side_label("", "diffCounts")
        self.model = DiffTableModel(self)
        self.view = QTableView(objectName="diffView")
        self.view.setModel(self.model)
        self.view.verticalHeader().hide()
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.view.setToolTip("Changed (yellow), added (green) and removed (red) paths")

        # Two rows: on one, the side panel would need ~460 px and squeeze the event table.
        top = QHBoxLayout()
        top.addWidget(self.mode)
        top.addStretch(1)
        top.addWidget(self.run)
        what = QHBoxLayout()
        self.a_label, self.b_label = QLabel("A"), QLabel("B")
        for w in (self.a_label, self.version_a, self.b_label, self.version_b):
            what.addWidget(w)
        self.other.setMinimumWidth(120)
        what.addWidget(self.other, 4)  # an id needs the room the version boxes leave
        what.addWidget(self.pick)
        what.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(what)
        layout.addWidget(self.counts)
        layout.addWidget(self.view, 1)

        self.mode.currentTextChanged.connect(self._on_mode_changed)
        self.run.clicked.connect(self.compare)
        session.streamSelected.connect(self._on_stream_selected)
        self._on_mode_changed(VERSIONS)
        self._on_stream_selected("")

    def _on_mode_changed(self, mode: str) -> None:
        self.other.setVisible(mode == STREAMS)
        self.pick.setVisible(mode == STREAMS)
        for w in (self.a_label, self.version_a, self.b_label, self.version_b):
            w.setVisible(mode == VERSIONS)

    def _on_stream_selected(self, stream_id: str) -> None:
        info = self.session.stream_info
        self.run.setEnabled(bool(stream_id))
        self.model.set_changes([])
        self.counts.setText("Select a stream, pick what to compare, press Compare"
                            if not stream_id else "")
        if info is not None:
            for spin in (self.version_a, self.version_b):
                spin.setRange(info.first_version - 1, info.version)
            self.version_a.setValue(max(info.first_version - 1, info.version - 1))
            self.version_b.setValue(info.version)

    def pick_other(self) -> None:
        """Choose the other stream with the mouse, then compare at once."""
        services = self.session.services
        if services is None:
            return
        dialog = StreamPickerDialog(services.queries,
                                    f"Compare {self.session.stream_id or 'a stream'} with…",
                                    self)
        if dialog.exec() and dialog.chosen():
            self.other.setText(dialog.chosen())
            self.compare()

    def show_read_model(self) -> None:
        """Read model against history for the selected order (from the audit dock)."""
        self.mode.setCurrentText(READ_MODEL)
        self.compare()

    def compare(self) -> None:
        services = self.session.services
        stream_id = self.session.stream_id
        if services is None or not stream_id:
            return
        mode = self.mode.currentText()
        try:
            if mode == VERSIONS:
                a, b = self.version_a.value(), self.version_b.value()
                changes = services.comparer.versions(stream_id, a, b)
                what = f"{stream_id}: version {a} → {b}"
            elif mode == STREAMS:
                other = self.other.text().strip()
                changes = services.comparer.streams(stream_id, other)
                what = f"{stream_id} → {other}"
            else:
                changes = services.comparer.read_model(stream_id)
                what = f"read model → history of {stream_id}"
        except DomainError as e:
            self.model.set_changes([])
            self.counts.setText(f"Cannot compare: {e}")
            return
        self.model.set_changes(changes)
        self.view.resizeColumnsToContents()
        n = count_by_kind(changes)
        self.counts.setText(f"{what}:  {n['changed']} changed · {n['added']} added · "
                            f"{n['removed']} removed" if changes else f"{what}: identical")
