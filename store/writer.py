"""Where appends, batches and snapshots write: one locked transaction on a bare driver connection.

SQLite serializes writers anyway (``BEGIN IMMEDIATE``), so a store object keeps one connection
for them behind a thread lock instead of checking a pooled one out and back in per append: that
round trip through the pool would be a fifth of a durable append's own work. Other processes
meet this one at SQLite's write lock and wait up to the busy timeout, as they would for any
writer; threads of this process wait on the thread lock for the same timeout. PostgreSQL
connections can drop and are checked out per transaction (the pool pings them), under the
transaction-scoped advisory lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, suppress
from typing import TYPE_CHECKING, Any

from .errors import StoreBusy

if TYPE_CHECKING:
    from .backends import RawConnections


class Writer:
    """Opens write transactions: ``with writer.transaction() as dbapi: ...`` commits at the end,
    rolls back on any error."""

    def __init__(self, raw: RawConnections, backend_name: str, lock_sql: str, lock_key: int,
                 busy_timeout_s: float) -> None:
        self._raw = raw
        self._sqlite = backend_name == "sqlite"
        self._lock_sql = lock_sql
        self._lock_key = lock_key
        self._timeout = busy_timeout_s
        self._thread_lock = threading.Lock()
        self._kept: ExitStack | None = None  # SQLite: the connection taken out for good
        self._dbapi: Any = None  # ...the driver connection itself

    def transaction(self) -> Writer | _PooledTransaction:
        """SQLite: the writer itself, whose thread lock makes its one transaction exclusive
        (no object per append); PostgreSQL: a transaction on a checked-out connection."""
        return self if self._sqlite else _PooledTransaction(self)

    def close(self) -> None:
        """Give the kept connection back; waits for a transaction in flight to end first."""
        if not self._thread_lock.acquire(timeout=self._timeout):
            return  # a writer is stuck mid-transaction; the engine's dispose closes the rest
        try:
            self._give_back()
        finally:
            self._thread_lock.release()

    def release_if_idle(self) -> bool:
        """Give the kept connection back unless a transaction is in flight (never waits);
        whether the writer now holds no connection."""
        if not self._thread_lock.acquire(blocking=False):
            return False
        try:
            self._give_back()
        finally:
            self._thread_lock.release()
        return True

    def _give_back(self) -> None:
        if self._kept is not None:
            self._kept.close()
            self._kept = None
            self._dbapi = None

    def __enter__(self) -> Any:
        if not self._thread_lock.acquire(timeout=self._timeout):
            raise StoreBusy(f"another thread held the store's writer for more than "
                            f"{self._timeout:g} s")
        try:
            dbapi = self._dbapi
            if dbapi is None:
                self._kept = ExitStack()
                dbapi = self._dbapi = self._kept.enter_context(self._raw())
            dbapi.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._thread_lock.release()
            raise
        return dbapi

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            _finish(self._dbapi, kind is None, _sqlite_commit)
        finally:
            self._thread_lock.release()


class _PooledTransaction:
    __slots__ = ("_dbapi", "_lent", "_writer")
    _dbapi: Any
    _lent: AbstractContextManager[Any]

    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    def __enter__(self) -> Any:
        writer = self._writer
        lent = writer._raw()
        dbapi = lent.__enter__()
        try:
            cur = dbapi.cursor()
            try:
                cur.execute(writer._lock_sql, (writer._lock_key,))
            finally:
                cur.close()
        except BaseException as e:
            _rollback(dbapi)
            lent.__exit__(type(e), e, e.__traceback__)
            raise
        self._dbapi, self._lent = dbapi, lent
        return dbapi

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            _finish(self._dbapi, kind is None, type(self._dbapi).commit)
        finally:
            self._lent.__exit__(None, None, None)


def _sqlite_commit(dbapi: Any) -> None:
    # Not dbapi.commit(): that parses "COMMIT" afresh every time, a walk through SQLite's
    # parser (cold code, right before each fsync); the statement cache keeps this prepared.
    dbapi.execute("COMMIT")


def _finish(dbapi: Any, ok: bool, commit: Callable[[Any], None]) -> None:
    if ok:
        try:
            commit(dbapi)
        except BaseException:
            _rollback(dbapi)
            raise
    else:
        _rollback(dbapi)


def _rollback(dbapi: Any) -> None:
    with suppress(Exception):
        dbapi.rollback()
