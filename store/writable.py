"""The write side: what the command handlers, the projector and the importer need of a store
besides reading it.

Only esaudit's own store (``EventStore``) is one: a source esaudit did not write is read through
``Source`` alone and declares ``capabilities.writable`` false. Naming the write side apart lets
the application say which of its parts can only run on a store it owns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from .bulk import ImportRow, ImportSummary, ImportTuple
from .protocol import Source
from .records import ExpectedVersion, NewEvent, Origins, RecordedEvent

if TYPE_CHECKING:  # an import's reader starts before the database layer has loaded
    from sqlalchemy import Connection, MetaData


class WritableStore(Source, Protocol):
    """A readable store that also appends, imports, keeps read models and saves snapshots."""

    # -- events ----------------------------------------------------------------------------
    def append(self, stream_id: str, stream_type: str, events: Sequence[NewEvent],
               expected_version: ExpectedVersion = ...) -> list[RecordedEvent]:
        """Append atomically: all events or none (ConcurrencyError on a version mismatch)."""
        ...

    def import_rows(
        self, rows: Iterable[ImportRow | ImportTuple], *,
        progress: Callable[[int], None] | None = None, cancelled: Callable[[], bool] | None = None,
        source: str = "",
    ) -> ImportSummary:
        """Store a whole file of new streams in one transaction: all of it, or nothing."""
        ...

    def origins(self) -> Origins:
        """Which positions were appended here and which an import copied in."""
        ...

    def batch(self) -> AbstractContextManager[None]:
        """Appends and snapshots on this thread share one locked write transaction."""
        ...

    def bulk_appends(self) -> AbstractContextManager[None]:
        """Many appends to come: the store may defer upkeep it can redo once at the end."""
        ...

    # -- read models: their tables, transactions and checkpoints ---------------------------
    def create_tables(self, tables: MetaData) -> None:
        """Create the application's read-model tables (idempotent)."""
        ...

    def has_tables(self, names: list[str]) -> bool: ...

    def write_transaction(self, *, lock: bool = False, lock_key: int = ...
                          ) -> AbstractContextManager[Connection]:
        """One write transaction: a read model's rows and its checkpoint move together."""
        ...

    def read_connection(self) -> AbstractContextManager[Connection]:
        """A connection for one consistent read of the read models."""
        ...

    def checkpoint(self, name: str, conn: Connection | None = None) -> int:
        """The position a projection has processed up to (0 if it never ran)."""
        ...

    def set_checkpoint(self, conn: Connection, name: str, position: int) -> None:
        """Move a checkpoint inside the caller's transaction."""
        ...

    # -- snapshots -------------------------------------------------------------------------
    def save_snapshot(self, stream_id: str, version: int, state: dict[str, Any]) -> None: ...

    def save_fold_snapshots(self, stream_id: str, fold: str,
                            states: Sequence[tuple[int, dict[str, Any]]]) -> int:
        """Keep states a named fold reached (``store.fold_snapshots``); how many were kept."""
        ...

    def long_streams(self, first_position: int, last_position: int, at_least: int
                     ) -> list[tuple[str, str]]:
        """(stream id, type) of the streams of at least ``at_least`` versions whose head lies
        in a run of positions (an import's long streams)."""
        ...
