"""How a store reaches its database: reads, write transactions, the batch a thread holds open,
and the translation of driver errors into store errors at that boundary."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import exc as sa_exc

from .backends import (
    APPEND_LOCK_KEY,
    AppendSql,
    Backend,
    is_driver_error,
    is_integrity_error,
    translate,
)
from .errors import StoreError, StoreReadOnly
from .writer import Writer


class Connections:
    """The engine, the writer and the open batch, shared by a store's appender, reader and
    snapshots so that a read inside a batch sees the batch's writes."""

    def __init__(self, backend: Backend, *, read_only: bool) -> None:
        self.backend = backend
        self.engine = backend.engine
        self.label = backend.label
        self.read_only = read_only
        self.sql = AppendSql.for_backend(backend.name)
        self.writer = Writer(self.engine, backend.name, self.sql.lock, APPEND_LOCK_KEY,
                             backend.busy_timeout_s)
        self._batch = threading.local()  # .conn: the open batch's connection on this thread
        self.batch_thread: int | None = None
        """The thread with a batch open, if any: while it is None, an append need not look
        for a batch of its own thread (a threading.local lookup costs as much as the rest of
        a remembered append)."""

    def close(self) -> None:
        self.writer.close()
        self.engine.dispose()

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Translate driver errors into store errors at the boundary."""
        try:
            yield
        except Exception as e:
            error = self.store_error(e)
            if error is None:
                raise
            raise error from e

    def store_error(self, e: Exception) -> StoreError | None:
        """The store error a driver error means; None for errors that pass as they are (ours,
        unique-key violations, which callers turn into refusals, and programming errors)."""
        if isinstance(e, StoreError) or is_integrity_error(e):
            return None
        if isinstance(e, sa_exc.DBAPIError | sa_exc.OperationalError) or is_driver_error(e):
            return translate(e, self.label)
        return None

    def batch_conn(self) -> Any:
        """This thread's open batch (a driver connection), or None."""
        return getattr(self._batch, "conn", None)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Hold one locked write transaction open on this thread until the block ends."""
        if self.read_only:
            raise StoreReadOnly("append")
        if self.batch_conn() is not None:
            raise StoreError("store batches do not nest")
        with self.guard(), self.writer.transaction() as dbapi:
            self._batch.conn = dbapi
            self.batch_thread = threading.get_ident()
            try:
                yield
            finally:
                self._batch.conn = None
                self.batch_thread = None

    @contextmanager
    def write_transaction(self, *, lock: bool = False, lock_key: int = APPEND_LOCK_KEY
                          ) -> Iterator[Connection]:
        """One write transaction; with ``lock`` it is serialized with every other locked
        writer."""
        if self.read_only:
            raise StoreReadOnly("write")
        with self.guard(), self.engine.connect() as conn:
            conn.execution_options(esaudit_write=True)
            with conn.begin():
                if lock:
                    self.backend.lock(conn, lock_key)
                yield conn

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A connection for a consistent read (one snapshot of the database)."""
        with self.guard(), self.engine.connect() as conn, conn.begin():
            yield conn

    def read(self, sql: str, params: Sequence[Any] | Mapping[str, Any]
             ) -> list[tuple[Any, ...]]:
        """Rows of one driver query: the hot read paths skip SQLAlchemy's statement building.
        ``params`` are positional (``self.sql.mark``) or named (``:name`` on SQLite,
        ``%(name)s`` on PostgreSQL).

        Inside a batch on this thread the query runs in the batch, so it sees the batch's
        writes.
        """
        batch = self.batch_conn()
        with self.guard(), (nullcontext(batch) if batch is not None else self._raw()) as dbapi:
            cur = dbapi.cursor()
            try:
                cur.execute(sql, params)
                rows: list[tuple[Any, ...]] = cur.fetchall()
            finally:
                cur.close()
            if batch is None:
                dbapi.rollback()  # PostgreSQL opened a transaction for the read; end it
        return rows

    @contextmanager
    def _raw(self) -> Iterator[Any]:
        """The bare driver connection of a pooled connection, returned to the pool after."""
        pooled = self.engine.raw_connection()
        try:
            yield pooled.dbapi_connection
        finally:
            pooled.close()
