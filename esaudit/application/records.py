"""The store's record and error types, as the application hands them to its callers.

The desktop app (``ui``) never imports ``store``: it reaches the store only through the
application, which is what the import-linter contract ``ui must not import store`` checks.
What the app reads (events, stream heads) and the errors it must tell apart (a concurrent
edit, a store refusal) are the store's own types, so they are re-exported here by import,
not copied: ``records.RecordedEvent is store.RecordedEvent``, and ``except StoreError`` in
the app catches exactly what the store raises. ``EventStore`` is here for annotations of
the store object the app gets from ``Services.store`` (a ``Source``: any kind of store).
"""

from __future__ import annotations

from store import (
    ConcurrencyError,
    EventStore,
    NotAsWritten,
    RecordedEvent,
    Source,
    StoreError,
    StreamInfo,
)

__all__ = [
    "ConcurrencyError",
    "EventStore",
    "NotAsWritten",
    "RecordedEvent",
    "Source",
    "StoreError",
    "StreamInfo",
]
