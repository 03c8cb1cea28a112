"""Replay: pick a version (slider, spin box) or an instant; see the state at that point."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, Qt, QTimeZone
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QTreeWidget,
    QVBoxLayout,
    QWidget,
)

from esaudit.domain.errors import DomainError

from .json_tree import fill_tree
from .session import Session


class ReplayPanel(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="versionSlider")
        self.slider.setToolTip("Replay the selected stream to a version (arrow keys step)")
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.spin = QSpinBox(objectName="versionSpin")
        self.spin.setToolTip("Version to replay to (0 = before the first event)")
        self.at_edit = QDateTimeEdit(objectName="replayAt")
        self.at_edit.setTimeZone(QTimeZone.utc())
        self.at_edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss 'UTC'")
        self.at_edit.setCalendarPopup(True)
        self.at_edit.setDateTime(QDateTime.currentDateTimeUtc())
        self.at_edit.setToolTip("Replay to the last event recorded at or before this instant")
        self.at_button = QPushButton("Replay at time", objectName="replayAtButton")
        self.at_button.setToolTip("Replay the stream as it was at the instant on the left")
        self.at_button.clicked.connect(self._on_at_clicked)
        self.info = QLabel("Select a stream to replay it", objectName="replayInfo")
        self.info.setProperty("muted", True)
        self.state_view = QTreeWidget(objectName="stateView")
        self.state_view.setHeaderLabels(["Field", "Value"])
        self.state_view.setAlternatingRowColors(True)
        self.state_view.setToolTip("The projected state at the chosen version")

        row = QHBoxLayout()
        row.addWidget(QLabel("Version"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        at_row = QHBoxLayout()
        at_row.addWidget(QLabel("At"))
        at_row.addWidget(self.at_edit, 1)
        at_row.addWidget(self.at_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addLayout(at_row)
        layout.addWidget(self.info)
        layout.addWidget(self.state_view, 1)

        self.slider.valueChanged.connect(self.spin.setValue)
        self.spin.valueChanged.connect(self.slider.setValue)
        self.slider.valueChanged.connect(self._on_version_changed)
        session.streamSelected.connect(self._on_stream_selected)
        self._set_enabled(False)
        self.last_ms = 0.0

    def _set_enabled(self, on: bool) -> None:
        for w in (self.slider, self.spin, self.at_edit, self.at_button):
            w.setEnabled(on)

    def _on_stream_selected(self, stream_id: str) -> None:
        info = self.session.stream_info
        if not stream_id or info is None:
            self._set_enabled(False)
            self.state_view.clear()
            self.info.setText("Select a stream to replay it")
            return
        self._set_enabled(True)
        for w in (self.slider, self.spin):
            w.blockSignals(True)
            w.setRange(0, info.version)
            w.setValue(info.version)
            w.blockSignals(False)
        self.slider.setTickInterval(max(1, info.version // 20))
        self.at_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(info.last_at.timestamp()),
                                                              QTimeZone.utc()))
        self._on_version_changed(info.version)

    def _on_version_changed(self, version: int) -> None:
        services = self.session.services
        if services is None or not self.session.stream_id:
            return
        started = time.perf_counter()
        try:
            result = services.replayer.replay(self.session.stream_id, version)
        except DomainError as e:
            self.info.setText(f"Cannot replay: {e}")
            self.state_view.clear()
            return
        self.last_ms = (time.perf_counter() - started) * 1000
        fill_tree(self.state_view, result.state or {})
        origin = (f", from the snapshot at {result.snapshot_version}"
                  if result.snapshot_version else "")
        head = self.session.stream_info.version if self.session.stream_info else version
        self.info.setText(f"{result.stream_type} {result.stream_id} at version {version} of "
                          f"{head}{origin}  ·  {self.last_ms:.1f} ms")

    def replay_at(self, instant: datetime) -> None:
        services = self.session.services
        if services is None or not self.session.stream_id:
            return
        version = services.replayer.version_at(self.session.stream_id, instant)
        self.slider.setValue(version)
        self._on_version_changed(version)

    def _on_at_clicked(self) -> None:
        secs = self.at_edit.dateTime().toSecsSinceEpoch()
        self.replay_at(datetime.fromtimestamp(secs, UTC))

    def set_instant(self, seconds: float) -> None:
        """From the timeline cursor."""
        self.at_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(seconds), QTimeZone.utc()))
        self.replay_at(datetime.fromtimestamp(seconds, UTC))
