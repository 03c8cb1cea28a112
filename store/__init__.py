"""The esaudit event store: append-only streams with a hash chain, on SQLite or PostgreSQL,
and the read protocol every source (esaudit's own store, another program's) implements.

The errors and records are plain Python and load at once; the store and the protocol load when
first used, so a program that only needs an error type or a record (the command line's
``--help``, its error handling) starts without them. The store itself reads SQLite through the
driver and loads SQLAlchemy only when something needs it (``store.connections``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    ConcurrencyError,
    InvalidEvent,
    NotAsWritten,
    SchemaTooNew,
    StoreBusy,
    StoreError,
    StoreOpenError,
    StoreReadOnly,
    StreamTypeMismatch,
)
from .records import (
    ANY,
    EventPayload,
    EventRow,
    ExpectedVersion,
    NewEvent,
    Origins,
    RecordedEvent,
    Snapshot,
    StoreStats,
    StreamInfo,
)

if TYPE_CHECKING:
    from .eventstore import EventStore, open_store
    from .protocol import Capabilities, Source, SourceIdentity

_LATER = {"EventStore": ".eventstore", "open_store": ".eventstore",
          "Capabilities": ".protocol", "Source": ".protocol", "SourceIdentity": ".protocol"}


def __getattr__(name: str) -> Any:
    """Load the store or the protocol on first use (PEP 562)."""
    module = _LATER.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


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
    "NotAsWritten",
    "Origins",
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
