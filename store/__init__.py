"""The esaudit event store: append-only streams with a hash chain, on SQLite or PostgreSQL."""

from .errors import (
    ConcurrencyError,
    InvalidEvent,
    SchemaTooNew,
    StoreBusy,
    StoreError,
    StoreOpenError,
    StoreReadOnly,
    StreamTypeMismatch,
)
from .eventstore import EventStore, open_store
from .protocol import Capabilities, Source, SourceIdentity
from .records import (
    ANY,
    EventPayload,
    EventRow,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    Snapshot,
    StoreStats,
    StreamInfo,
)

__all__ = [
    "ANY",
    "Capabilities",
    "ConcurrencyError",
    "EventPayload",
    "EventRow",
    "EventStore",
    "ExpectedVersion",
    "InvalidEvent",
    "NewEvent",
    "RecordedEvent",
    "SchemaTooNew",
    "Snapshot",
    "Source",
    "SourceIdentity",
    "StoreBusy",
    "StoreError",
    "StoreOpenError",
    "StoreReadOnly",
    "StoreStats",
    "StreamInfo",
    "StreamTypeMismatch",
    "open_store",
]
