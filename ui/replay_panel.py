"""Replay: pick a version (slider, spin box) or an instant; see the state at that point, and
beside each field the event that last changed it (double-click: go to that event)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, Qt, QTimeZone, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from esaudit.application.investigate.blame import Blame, blame, timestamp_of_version
from esaudit.application.paths import join, parse_path
from esaudit.application.records import StoreError
from esaudit.application.replay import QUICK_FOLD, Replayed
from esaudit.application.values import shown
from esaudit.domain.errors import DomainError

from .json_tree import fill_tree, item_path, tree_items
from .labels import side_label
from .latest import LatestJob
from .session import Session
from .workers import run_in_background

CHANGED = 2  # the state view's column naming the event that last changed each field
OriginRole = Qt.ItemDataRole.UserRole + 2
"""A field's Changed cell holds ``(stream_id, position, version)`` of the event that set it."""
QUICK_BLAME = 1_000
"""Events a blame folds on the GUI thread (~10 ms); a longer stream is blamed on the pool."""
BEFORE_FIRST = "before the first event"
MUTED = QBrush(QColor("#6e6e73"))


def utc_text(instant: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC, as the tables show recorded times."""
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


class ReplayPanel(QWidget):
    originActivated = Signal(str, int, int)  # a field's event: stream id, position, version

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
        self.at_edit.setToolTip("When the event at the version shown was recorded; change it "
                                "and press Replay at time to replay to the last event "
                                "recorded at or before that instant")
        self.at_button = QPushButton("Replay at time", objectName="replayAtButton")
        self.at_button.setToolTip("Replay the stream as it was at the instant on the left")
        self.at_button.clicked.connect(self._on_at_clicked)
        self.info = side_label("Select a stream to replay it", "replayInfo")
        self.info.setProperty("muted", True)
        self.state_view = QTreeWidget(objectName="stateView")
        self.state_view.setHeaderLabels(["Field", "Value", "Changed"])
        self.state_view.setAlternatingRowColors(True)
        self.state_view.setIndentation(14)  # three columns share a side panel
        self.state_view.setToolTip("The projected state at the chosen version, and the event "
                                   "that last changed each field (double-click: go to it)")
        self.state_view.headerItem().setToolTip(
            CHANGED, "The event that last changed the field: version · type · actor · time")
        self.state_view.itemActivated.connect(self._on_field_activated)
        self.state_view.currentItemChanged.connect(
            lambda item, _old: self._on_current_field_changed(item))
        self.origin_line = side_label("", "fieldOrigin")
        self.origin_line.setProperty("muted", True)
        self._blames = LatestJob(self)
        self._shown: tuple[str, int] | None = None  # the stream and version the tree shows

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
        layout.addWidget(self.origin_line)

        self.slider.valueChanged.connect(self.spin.setValue)
        self.spin.valueChanged.connect(self.slider.setValue)
        self.slider.valueChanged.connect(self._on_version_changed)
        session.streamSelected.connect(self._on_stream_selected)
        session.streamExtended.connect(self._on_stream_extended)
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
            self._clear_state()
            self.info.setText("Select a stream to replay it")
            self.at_edit.setSpecialValueText("")
            self.at_edit.clearMinimumDateTime()
            return
        self._set_enabled(True)
        for w in (self.slider, self.spin):
            w.blockSignals(True)
            w.setRange(info.first_version - 1, info.version)  # the lowest: before the first
            w.setValue(info.version)
            w.blockSignals(False)
        self.slider.setTickInterval(max(1, info.version // 20))
        # Any instant before the first event replays to the version before it: the editor's
        # lowest value, a second before that event, reads "before the first event".
        self.at_edit.setSpecialValueText("")
        self.at_edit.setMinimumDateTime(_qt_time(info.first_at).addSecs(-1))
        self.at_edit.setSpecialValueText(BEFORE_FIRST)
        self._on_version_changed(info.version)

    def _on_stream_extended(self, stream_id: str, version: int) -> None:
        """The selected stream grew (live follow): the slider reaches the new head, and a
        replay shown at the head follows it; one at an earlier version stays there."""
        if stream_id != self.session.stream_id:
            return
        at_head = self.slider.value() == self.slider.maximum()
        for w in (self.slider, self.spin):
            w.blockSignals(True)
            w.setMaximum(version)
            w.blockSignals(False)
        self.slider.setTickInterval(max(1, version // 20))
        if at_head:
            self.slider.setValue(version)  # replays through valueChanged
        else:
            self._on_version_changed(self.slider.value())  # "of N" with the new head

    def _on_version_changed(self, version: int) -> None:
        """Replay at once when the fold is short (snapshots, remembered states); a long one
        (an imported stream without snapshots) runs on the pool and the newest request wins."""
        services, stream_id = self.session.services, self.session.stream_id
        if services is None or not stream_id:
            return
        self._request += 1
        request = self._request
        started = time.perf_counter()
        self._show_time_of(version)
        replayer = services.replayer
        try:
            quick = replayer.replay_within(stream_id, version, QUICK_FOLD)
        except (DomainError, StoreError) as e:
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

    def _show_time_of(self, version: int) -> None:
        """The At editor follows the slider: when the event at ``version`` was recorded."""
        services, stream_id = self.session.services, self.session.stream_id
        if services is None or not stream_id:
            return
        try:
            when = timestamp_of_version(services.store, stream_id, version)
        except (DomainError, StoreError):
            return
        if when is None:
            self.at_edit.setDateTime(self.at_edit.minimumDateTime())  # "before the first event"
            return
        at = _qt_time(when)
        if at <= self.at_edit.minimumDateTime():  # recorded before the first (a writer's clock)
            self.at_edit.setMinimumDateTime(at.addSecs(-1))
        self.at_edit.setDateTime(at)

    def _failed(self, message: str) -> None:
        self.info.setText(f"Cannot replay: {message}")
        self._clear_state()

    def _clear_state(self) -> None:
        self._blames.cancel()
        self._shown = None
        self.state_view.clear()
        self._on_current_field_changed(None)

    def _show(self, result: Replayed, started: float) -> None:
        self.last_ms = (time.perf_counter() - started) * 1000
        fill_tree(self.state_view, shown(result.state or {}))
        self._shown = (result.stream_id, result.version)
        self._request_blame(result.stream_id, result.version)
        self._fit_columns()
        self._on_current_field_changed(self.state_view.currentItem())
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
                          f"{result.version} of {head}{self._stopped_at(result)}{origin}  ·  "
                          f"model {model_label(result.model)}  ·  {self.last_ms:.1f} ms"
                          f"{caveat}")
        self.info.setToolTip(f"Folded by {result.model}")

    def _stopped_at(self, result: Replayed) -> str:
        """`` (LinePaid, 2026-05-01 10:00:00 UTC)``: the event the replay stopped after (one
        indexed row)."""
        services = self.session.services
        if services is None:
            return ""
        try:
            events = services.store.read_stream(result.stream_id, result.version,
                                                result.version)
        except (DomainError, StoreError):
            return ""
        if not events:
            return ""
        e = events[0]
        return f" ({e.type}, {utc_text(e.recorded_at)} UTC)"

    # -- which event changed each field -------------------------------------------------------
    def _request_blame(self, stream_id: str, version: int) -> None:
        """Blame at once when the stream is short; a long one (or one the system's own
        classes replay, a process call per version) is blamed on the pool, newest first."""
        services, info = self.session.services, self.session.stream_info
        if services is None or info is None or version < info.first_version:
            self._blames.cancel()  # before the first event: no field, nothing to blame
            return
        replayer = services.replayer
        choice = replayer.models.choose_now(stream_id, info.stream_type)
        quick = choice is not None and choice.code is None
        if quick and version - info.first_version + 1 <= QUICK_BLAME:
            self._blames.cancel()
            try:
                self._show_blame(blame(replayer, stream_id, version))
            except (DomainError, StoreError) as e:
                self._blame_failed(str(e))
            return
        self._mark_changed("finding…", "finding the event that last changed each field "
                           f"({version - info.first_version + 1:,} events to fold)")
        self._blames.submit(lambda: blame(replayer, stream_id, version), self._show_blame,
                            self._blame_failed)

    def _show_blame(self, found: Blame) -> None:
        if self._shown != (found.stream_id, found.version):
            return  # the tree moved on to another state
        origins = {f.path: f for f in found.fields}
        for item in tree_items(self.state_view):
            origin = origins.get(item_path(item))
            if origin is None:
                continue  # an object or a list: its fields say what changed inside it
            e = origin.event
            if e is None:
                item.setText(CHANGED, "initial value (no event)")
                item.setForeground(CHANGED, MUTED)
                item.setToolTip(CHANGED, f"the initial value of the model ({found.model}): no "
                                "event has changed it")
                continue
            when = utc_text(e.recorded_at)
            who = [e.actor] if e.actor else []
            item.setText(CHANGED, " · ".join([f"v{e.version}", e.type, *who, when]))
            item.setForeground(CHANGED, QBrush())
            item.setData(CHANGED, OriginRole, (e.stream_id, e.position, e.version))
            item.setToolTip(CHANGED, " · ".join([f"changed at v{e.version}", e.type,
                                                 e.actor or "no actor recorded",
                                                 f"{when} UTC"])
                            + f" (position {e.position:,}): double-click to go to that event")
        self._mark_branches(origins)
        self._fit_columns()
        self._on_current_field_changed(self.state_view.currentItem())

    def _mark_branches(self, origins: dict[str, Any]) -> None:
        """An object or a list says the newest change among the fields inside it."""
        newest: dict[str, Any] = {}
        for path, field in origins.items():
            e = field.event
            if e is None:
                continue
            branch = ""
            for key in parse_path(path)[:-1]:
                branch = join(branch, key)
                if branch not in newest or newest[branch].version < e.version:
                    newest[branch] = e
        for item in tree_items(self.state_view):
            e = newest.get(item_path(item)) if item.childCount() else None
            if e is None:
                continue
            when = utc_text(e.recorded_at)
            item.setText(CHANGED, f"v{e.version} · {e.type} (newest inside)")
            item.setForeground(CHANGED, MUTED)
            item.setData(CHANGED, OriginRole, (e.stream_id, e.position, e.version))
            item.setToolTip(CHANGED, f"the newest change to a field inside it: v{e.version} · "
                            f"{e.type} · {when} UTC (position {e.position:,}): double-click "
                            "to go to that event")

    def _blame_failed(self, message: str) -> None:
        self._mark_changed("unknown", f"cannot tell which event changed it: {message}")

    def _mark_changed(self, text: str, tip: str) -> None:
        for item in tree_items(self.state_view):
            if not item.childCount():
                item.setText(CHANGED, text)
                item.setForeground(CHANGED, MUTED)
                item.setToolTip(CHANGED, tip)
        self._on_current_field_changed(self.state_view.currentItem())

    def _fit_columns(self) -> None:
        """Field and Value fit their text, each at most a share of the view (a long value is
        elided, its whole text in the tooltip); Changed takes the rest, elided on the right
        when the panel is narrow (the selected field's line below says it whole)."""
        view = self.state_view
        width = max(view.viewport().width(), 300)
        for column, share in ((0, 0.45), (1, 0.25)):
            view.resizeColumnToContents(column)
            view.setColumnWidth(column, min(view.columnWidth(column), int(width * share)))

    def _on_current_field_changed(self, item: QTreeWidgetItem | None) -> None:
        """The selected field's provenance, whole (the Changed column may be elided)."""
        why = item.toolTip(CHANGED) if item is not None else ""
        if item is not None and why:
            self.origin_line.setText(f"{item_path(item)}: {why}")
        else:
            self.origin_line.setText("Select a field to see the event that last changed it"
                                     if self.state_view.topLevelItemCount() else "")

    def _on_field_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        origin = item.data(CHANGED, OriginRole)
        if origin is not None:
            stream_id, position, version = origin
            self.originActivated.emit(stream_id, position, version)

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
        """The instant shown stands for its whole second: at the time the slider put there,
        the replay stops at that version's event, not the one before it (and "before the
        first event", a second before it, replays to the version before it)."""
        secs = self.at_edit.dateTime().toSecsSinceEpoch()
        self.replay_at(datetime.fromtimestamp(secs, UTC) + timedelta(microseconds=999_999))

    def set_instant(self, seconds: float) -> None:
        """From the timeline cursor."""
        self.at_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(seconds), QTimeZone.utc()))
        self.replay_at(datetime.fromtimestamp(seconds, UTC))


def _qt_time(instant: datetime) -> QDateTime:
    """An instant for the At editor, to the second (what it shows)."""
    return QDateTime.fromSecsSinceEpoch(int(instant.timestamp()), QTimeZone.utc())


def model_label(model: str) -> str:
    """``file:/long/path/bank.toml`` as ``file:bank.toml``; other model names as they are."""
    kind, _, where = model.partition(":")
    return f"file:{Path(where).name}" if kind == "file" else model
