"""Store exceptions: every driver error that reaches a caller is translated into one of these."""

from __future__ import annotations


class StoreError(Exception):
    """Base of everything the store raises on purpose."""


class StoreOpenError(StoreError):
    """The target cannot be opened as an esaudit store (missing, not a database, corrupt)."""


class SchemaTooNew(StoreOpenError):
    """The store was written by a newer esaudit; opening it could misread or damage it."""

    def __init__(self, found: int, supported: int) -> None:
        super().__init__(
            f"store schema version {found} is newer than this esaudit supports ({supported}); "
            "upgrade esaudit to open it"
        )
        self.found = found
        self.supported = supported


class StoreReadOnly(StoreError):
    """A write was attempted on a store opened read-only."""

    def __init__(self, what: str = "write") -> None:
        super().__init__(f"the store is open read-only: {what} refused")


class NotAsWritten(StoreError):
    """An event holds a value no writer of esaudit's writes (an instant edited to text, a
    payload that is no longer JSON): it was changed behind the store's back. Reading it
    stops here, by position, rather than guess; ``esaudit verify`` names every such event."""


class StoreBusy(StoreError):
    """Another writer held the store for longer than the busy timeout."""


class ConcurrencyError(StoreError):
    """The stream is not at the version the caller expected; nothing was written."""

    def __init__(self, stream_id: str, expected: object, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, not the expected {expected}: "
            "someone else changed it meanwhile"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class InvalidEvent(StoreError, ValueError):
    """An event cannot be stored as given (payload not a JSON object, bad type name, ...)."""


class StreamTypeMismatch(StoreError, ValueError):
    """An append names a different stream type than the stream already has."""
