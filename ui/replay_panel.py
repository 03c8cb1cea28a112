"""Replay: pick a version (slider, spin box) or an instant; see the state at that point."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

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

from esaudit.application.replay import QUICK_FOLD, Replayed
from esaudit.application.values import shown
from esaudit.domain.errors import DomainError

from .json_tree import fill_tree
from .labels import side_label
from .session import Session
from .workers import run_in_background


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
        self.info = side_label("Select a stream to replay it", "replayInfo")
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
        session.integrityChanged.connect(lambda: self._on_version_changed(self.slider.value()))
        self._set_enabled(False)
        self.last_ms = 0.0
        self._request = 0  # the newest replay asked for; older answers are dropped

    def _set_enabled(self, on: bool) -> None:
        for w in (self.slider, self.spin, self.at_edit, self.at_button):
            w.setEnabled(on)

    def _on_stream_selected(self, stream_id: str) -> None:
        info = self.session.stream_info
        if not stream_id or info is None:
            self._request += 1  # a replay still running answers for nothing shown
            self._set_enabled(False)
            self.state_view.clear()
            self.info.setText("Select a stream to replay it")
            return
        self._set_enabled(True)
        for w in (self.slider, self.spin):
            w.blockSignals(True)
            w.setRange(info.first_version - 1, info.version)  # the lowest: before the first
            w.setValue(info.version)
            w.blockSignals(False)
        self.slider.setTickInterval(max(1, info.version // 20))
        self.at_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(info.last_at.timestamp()),
                                                              QTimeZone.utc()))
        self._on_version_changed(info.version)

    def _on_version_changed(self, version: int) -> None:
        """Replay at once when the fold is short (snapshots, remembered states); a long one
        (an imported stream without snapshots) runs on the pool and the newest request wins."""
        services, stream_id = self.session.services, self.session.stream_id
        if services is None or not stream_id:
            return
        self._request += 1
        request = self._request
        started = time.perf_counter()
        replayer = services.replayer
        try:
            quick = replayer.replay_within(stream_id, version, QUICK_FOLD)
        except DomainError as e:
            self._failed(str(e))
            return
        if quick is not None:
            self._show(quick, started)
            return
        self.info.setText(f"Replaying {replayer.events_to_fold(stream_id, version):,} events "
                          f"of {stream_id} to version {version:,}…")

        def done(result: Replayed) -> None:
            if request == self._request:
                self._show(result, started)

        def failed(message: str) -> None:
            if request == self._request:
                self._failed(message)

        run_in_background(self, "", lambda progress, cancelled: replayer.replay(
            stream_id, version), done, failed, show_progress=False)

    def _failed(self, message: str) -> None:
        self.info.setText(f"Cannot replay: {message}")
        self.state_view.clear()

    def _show(self, result: Replayed, started: float) -> None:
        self.last_ms = (time.perf_counter() - started) * 1000
        fill_tree(self.state_view, shown(result.state or {}))
        origin = (f", from the snapshot at {result.snapshot_version}"
                  if result.snapshot_version else "")
        info = self.session.stream_info
        head = info.version if info else result.version
        first = info.first_version if info else 1
        if result.version < first:
            self.info.setText(f"{result.stream_type} {result.stream_id} before its first "
                              f"event (version {result.version} of {head}): the stream did "
                              "not exist yet")
            return
        caveat = f"\nNote: {result.caveat}" if result.caveat else ""
        flagged = self.session.flags.replay_note(result.stream_id, result.version)
        caveat += f"\n✖ {flagged}" if flagged else ""
        self.info.setText(f"{result.stream_type} {result.stream_id} at version "
                          f"{result.version} of {head}{origin}  ·  model "
                          f"{model_label(result.model)}  ·  {self.last_ms:.1f} ms{caveat}")
        self.info.setToolTip(f"Folded by {result.model}")

    def replay_at(self, instant: datetime) -> None:
        services = self.session.services
        if services is None or not self.session.stream_id:
            return
        version = services.replayer.version_at(self.session.stream_id, instant)
        if self.slider.value() == version:
            self._on_version_changed(version)  # the slider stays put and would not replay
        else:
            self.slider.setValue(version)  # replays through valueChanged, once

    def _on_at_clicked(self) -> None:
        secs = self.at_edit.dateTime().toSecsSinceEpoch()
        self.replay_at(datetime.fromtimestamp(secs, UTC))

    def set_instant(self, seconds: float) -> None:
        """From the timeline cursor."""
        self.at_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(seconds), QTimeZone.utc()))
        self.replay_at(datetime.fromtimestamp(seconds, UTC))


def model_label(model: str) -> str:
    """``file:/long/path/bank.toml`` as ``file:bank.toml``; other model names as they are."""
    kind, _, where = model.partition(":")
    return f"file:{Path(where).name}" if kind == "file" else model
