"""Where appends, batches and snapshots write: one locked transaction on a bare driver connection.

SQLite serializes writers anyway (``BEGIN IMMEDIATE``), so a store object keeps one connection
for them behind a thread lock instead of checking a pooled one out and back in per append: that
round trip through the pool was a fifth of a durable append's own work. Other processes still
meet this one at SQLite's write lock and wait up to the busy timeout, as before; threads of this
process wait on the thread lock for the same timeout. PostgreSQL connections can drop and are
checked out per transaction (the pool pings them), under the transaction-scoped advisory lock.
"""

from __future__ import annotations

import threading
from contextlib import suppress
from typing import Any

from sqlalchemy import Engine

from .errors import StoreBusy


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

    def transaction(self) -> _Transaction:
        return _Transaction(self)

    def close(self) -> None:
        """Give the kept connection back; waits for a transaction in flight to end first."""
        if not self._thread_lock.acquire(timeout=self._timeout):
            return  # a writer is stuck mid-transaction; the engine's dispose closes the rest
        try:
            if self._kept is not None:
                self._kept.close()
                self._kept = None
        finally:
            self._thread_lock.release()

    def _begin(self) -> tuple[Any, Any]:
        if not self._sqlite:
            pooled = self._engine.raw_connection()
            dbapi = pooled.dbapi_connection
            try:
                with dbapi.cursor() as cur:
                    cur.execute(self._lock_sql, (self._lock_key,))
            except BaseException:
                _rollback(dbapi)
                pooled.close()
                raise
            return dbapi, pooled
        if not self._thread_lock.acquire(timeout=self._timeout):
            raise StoreBusy(f"another thread held the store's writer for more than "
                            f"{self._timeout:g} s")
        try:
            if self._kept is None:
                self._kept = self._engine.raw_connection()
            dbapi = self._kept.dbapi_connection
            dbapi.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._thread_lock.release()
            raise
        return dbapi, None

    def _end(self, pooled: Any) -> None:
        if pooled is None:
            self._thread_lock.release()
        else:
            pooled.close()


class _Transaction:
    __slots__ = ("_dbapi", "_pooled", "_writer")

    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    def __enter__(self) -> Any:
        self._dbapi, self._pooled = self._writer._begin()
        return self._dbapi

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            if kind is None:
                try:
                    self._dbapi.commit()
                except BaseException:
                    _rollback(self._dbapi)
                    raise
            else:
                _rollback(self._dbapi)
        finally:
            self._writer._end(self._pooled)


def _rollback(dbapi: Any) -> None:
    with suppress(Exception):
        dbapi.rollback()
