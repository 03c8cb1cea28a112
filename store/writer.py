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
from contextlib import suppress
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import PoolProxiedConnection

from .errors import StoreBusy, StoreError


class Writer:
    """Opens write transactions: ``with writer.transaction() as dbapi: ...`` commits at the end,
    rolls back on any error."""

    def __init__(self, engine: Engine, backend_name: str, lock_sql: str, lock_key: int,
                 busy_timeout_s: float) -> None:
        self._engine = engine
        self._sqlite = backend_name == "sqlite"
        self._lock_sql = lock_sql
        self._lock_key = lock_key
        self._timeout = busy_timeout_s
        self._thread_lock = threading.Lock()
        self._kept: Any = None  # SQLite: the pooled connection taken out for good
        self._dbapi: Any = None  # ...and its driver connection

    def transaction(self) -> Writer | _PooledTransaction:
        """SQLite: the writer itself, whose thread lock makes its one transaction exclusive
        (no object per append); PostgreSQL: a transaction on a checked-out connection."""
        return self if self._sqlite else _PooledTransaction(self)

    def close(self) -> None:
        """Give the kept connection back; waits for a transaction in flight to end first."""
        if not self._thread_lock.acquire(timeout=self._timeout):
            return  # a writer is stuck mid-transaction; the engine's dispose closes the rest
        try:
            if self._kept is not None:
                self._kept.close()
                self._kept = None
                self._dbapi = None
        finally:
            self._thread_lock.release()

    def __enter__(self) -> Any:
        if not self._thread_lock.acquire(timeout=self._timeout):
            raise StoreBusy(f"another thread held the store's writer for more than "
                            f"{self._timeout:g} s")
        try:
            dbapi = self._dbapi
            if dbapi is None:
                self._kept = self._engine.raw_connection()
                dbapi = self._dbapi = self._kept.dbapi_connection
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
    __slots__ = ("_dbapi", "_pooled", "_writer")
    _dbapi: DBAPIConnection
    _pooled: PoolProxiedConnection

    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    def __enter__(self) -> Any:
        writer = self._writer
        pooled = writer._engine.raw_connection()
        dbapi = pooled.dbapi_connection
        try:
            if dbapi is None:  # a connection just checked out of the pool always has one
                raise StoreError("the connection pool handed out a closed connection")
            cur = dbapi.cursor()
            try:
                cur.execute(writer._lock_sql, (writer._lock_key,))
            finally:
                cur.close()
        except BaseException:
            _rollback(dbapi)
            pooled.close()
            raise
        self._dbapi, self._pooled = dbapi, pooled
        return dbapi

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            _finish(self._dbapi, kind is None, type(self._dbapi).commit)
        finally:
            self._pooled.close()


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
