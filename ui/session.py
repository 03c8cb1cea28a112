"""What is open and selected, announced with signals so panels never talk to each other."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from esaudit.application.records import StreamInfo
from esaudit.bootstrap import Services


class Session(QObject):
    storeOpened = Signal()
    storeClosed = Signal()
    historyChanged = Signal()  # a command or import appended events
    streamSelected = Signal(str)  # "" when nothing is selected
    eventSelected = Signal(int)  # a global position

    def __init__(self) -> None:
        super().__init__()
        self.services: Services | None = None
        self.stream_id = ""
        self.stream_info: StreamInfo | None = None

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
        self.storeClosed.emit()

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
