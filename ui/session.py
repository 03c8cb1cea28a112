"""What is open and selected, announced with signals so panels never talk to each other."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from esaudit.application.flagged import FlaggedEvents
from esaudit.application.records import StreamInfo
from esaudit.application.verify import VerificationFinding
from esaudit.bootstrap import Services


class Session(QObject):
    storeOpened = Signal()
    storeClosed = Signal()
    historyChanged = Signal()  # a command or import appended events
    streamSelected = Signal(str)  # "" when nothing is selected
    eventSelected = Signal(int)  # a global position
    streamExtended = Signal(str, int)  # the selected stream's new head version (live follow)
    integrityChanged = Signal()  # a verification or a read-model audit reported

    def __init__(self) -> None:
        super().__init__()
        self.services: Services | None = None
        self.stream_id = ""
        self.stream_info: StreamInfo | None = None
        self.flags = FlaggedEvents()
        """What the last verification (or check against a seal) found wrong."""
        self.verified = False
        """Whether a verification ran since the store was opened."""
        self.read_model_mismatches = 0
        """Fields the last audit of the read models found different from the history."""
        self.not_checked: tuple[str, ...] = ()
        """What the last verification could not check on this source (one sentence each)."""

    @property
    def is_open(self) -> bool:
        return self.services is not None

    @property
    def read_only(self) -> bool:
        return bool(self.services and self.services.read_only)

    def open(self, services: Services) -> None:
        self.close()
        self.services = services
        self.storeOpened.emit()

    def close(self) -> None:
        if self.services is None:
            return
        self.select_stream("")
        self.services.close()
        self.services = None
        flagged, self.flags, self.verified = bool(self.flags), FlaggedEvents(), False
        self.read_model_mismatches, self.not_checked = 0, ()
        self.storeClosed.emit()
        if flagged:
            self.integrityChanged.emit()

    def select_stream(self, stream_id: str) -> None:
        """Select a stream (or none) and remember the version the user is looking at."""
        info = self.services.store.stream(stream_id) if (self.services and stream_id) else None
        changed = stream_id != self.stream_id
        self.stream_id = stream_id if info else ""
        self.stream_info = info
        if changed or info is not None:
            self.streamSelected.emit(self.stream_id)

    def refresh_stream(self) -> None:
        """Re-read the selected stream after a command (its version moved)."""
        self.select_stream(self.stream_id)

    def extend_stream(self) -> None:
        """Re-read the selected stream's head after other programs appended; only its growth
        is announced (the selection and the version the user looks at stay)."""
        old = self.stream_info
        if self.services is None or old is None:
            return
        info = self.services.store.stream(self.stream_id)
        if info is not None and info.version > old.version:
            self.stream_info = info
            self.streamExtended.emit(self.stream_id, info.version)

    def set_findings(self, findings: list[VerificationFinding],
                     not_checked: tuple[str, ...] = ()) -> None:
        """A verification's findings (and what it could not check on this source): the events
        they name are marked wherever shown."""
        self.flags = FlaggedEvents(findings)
        self.verified = True
        self.not_checked = not_checked
        self.integrityChanged.emit()

    def set_read_model_audit(self, mismatches: int) -> None:
        """How many read-model fields the last audit found different from the history."""
        self.read_model_mismatches = mismatches
        self.integrityChanged.emit()
