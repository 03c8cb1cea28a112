"""What the inspected event changed in its stream's state: path, before, after.

The state before the event against the state after it (two replays, which snapshots keep
short), computed when the tab shows: at once when short, else on the pool, the newest event
asked for winning.
"""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from esaudit.application.diff import Change
from esaudit.application.investigate.blame import EventChanges, changes_of_event
from esaudit.application.records import RecordedEvent
from esaudit.application.replay import QUICK_FOLD
from esaudit.domain.errors import DomainError

from .labels import side_label
from .latest import LatestJob
from .models.diff_table import DiffTableModel
from .replay_panel import model_label
from .session import Session
from .settled_event import SettledEvent
from .tables import row_table


class EventChangesView(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="eventChangesPane")
        self.session = session
        self.info = side_label("Select an event to see what it changed", "eventChangesInfo")
        self.info.setProperty("muted", True)
        self.model = DiffTableModel(self)
        self.table = row_table(self.model, "eventChanges")
        self.table.setToolTip("The fields the event changed in its stream's state: changed "
                              "(yellow), added (green), removed (red)")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.info)
        layout.addWidget(self.table, 1)
        self.jobs = LatestJob(self)
        self._shown: tuple[str, int] | None = None  # the event the table is for
        self._asked = SettledEvent(self, self._on_settled)

    def show_event(self, event: RecordedEvent | None) -> None:
        """What ``event`` changed, once the tab shows."""
        self._asked.ask(event)

    def _on_settled(self) -> None:
        event = self._asked.wanted
        here = None if event is None else (event.stream_id, event.version)
        if event is None or (self.isVisible() and here != self._shown):
            self._compute(event)
        elif here != self._shown:
            self.model.set_changes([])  # the title's count is for another event

    def _compute(self, event: RecordedEvent | None) -> None:
        """At once when the event's replays are short, else on the pool."""
        services = self.session.services
        self.model.set_changes([])
        if services is None or event is None:
            self.jobs.cancel()
            self._shown = None
            self.info.setText("Select an event to see what it changed")
            return
        stream_id, version = event.stream_id, event.version
        self._shown = (stream_id, version)
        replayer = services.replayer
        choice = replayer.models.choose_now(stream_id, event.stream_type)
        quick = choice is not None and choice.code is None
        if quick and replayer.events_to_fold(stream_id, version) <= QUICK_FOLD:
            self.jobs.cancel()
            try:
                self._show(changes_of_event(replayer, stream_id, version))
            except DomainError as e:
                self._failed(str(e))
            return
        self.info.setText(f"Replaying {event.type} at v{version} and the version before it…")
        self.jobs.submit(lambda: changes_of_event(replayer, stream_id, version), self._show,
                         self._failed)

    def _show(self, found: EventChanges) -> None:
        e = found.event
        if self._shown != (e.stream_id, e.version):
            return
        changes = shown_changes(found.changes)
        self.model.set_changes(changes)
        self.table.resizeColumnsToContents()
        what = (f"changed {len(changes)} field{'s' if len(changes) != 1 else ''}" if changes
                else "changed nothing in the state")
        self.info.setText(f"{e.type} at v{e.version} {what}  ·  model "
                          f"{model_label(found.model)}")

    def _failed(self, message: str) -> None:
        self.model.set_changes([])
        self.info.setText(f"Cannot tell what it changed: {message}")


def shown_changes(changes: tuple[Change, ...]) -> list[Change]:
    """The changes as an auditor reads them: an empty object or list the event filled (or
    emptied) is not listed beside the fields that filled it (``lines`` "removed" when the
    first line was added)."""
    def filled(c: Change) -> bool:
        empty = c.old if c.kind == "removed" else c.new if c.kind == "added" else None
        return empty in ({}, []) and any(
            o.path.startswith((c.path + ".", c.path + "[")) for o in changes)

    return [c for c in changes if not filled(c)]
