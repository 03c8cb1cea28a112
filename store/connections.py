"""How a store reaches its database: reads, write transactions, the batch a thread holds open,
and the translation of driver errors into store errors at that boundary.

Reads of events, streams and snapshots are driver SQL on the backend's driver connections; only
what works through SQLAlchemy (a write transaction of its own, the read models' queries, a
schema change) makes the engine, on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from .backends import (
    APPEND_LOCK_KEY,
    AppendSql,
    Backend,
    is_database_error,
    is_integrity_error,
    translate,
)
from .errors import StoreError, StoreReadOnly
from .writer import Writer

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

Params = Sequence[Any] | Mapping[str, Any]
"""A driver query's parameters: positional (``AppendSql.mark``) or named (``:name`` on SQLite,
``%(name)s`` on PostgreSQL)."""


class Reads:
    """Driver queries inside one read transaction: every query sees the same snapshot of the
    database."""

    __slots__ = ("_dbapi", "mark")

    def __init__(self, dbapi: Any, mark: str) -> None:
        self._dbapi = dbapi
        self.mark = mark

    def rows(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return _rows(self._dbapi, sql, params)

    def value(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row (None for no row)."""
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None


class Connections:
    """The backend's connections, the writer and the open batch, shared by a store's appender,
    reader and snapshots so that a read inside a batch sees the batch's writes."""

    def __init__(self, backend: Backend, *, read_only: bool) -> None:
        self.backend = backend
        self.label = backend.label
        self.read_only = read_only
        self.sql = AppendSql.for_backend(backend.name)
        self.writer = Writer(backend.raw, backend.name, self.sql.lock, APPEND_LOCK_KEY,
                             backend.busy_timeout_s)
        self._batch = threading.local()  # .conn: the open batch's connection on this thread
        self.batch_thread: int | None = None
        """The thread with a batch open, if any: while it is None, an append need not look
        for a batch of its own thread (a threading.local lookup costs as much as the rest of
        a remembered append)."""

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (made on first use)."""
        return self.backend.engine

    def close(self) -> None:
        self.writer.close()
        self.backend.close()

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
        if is_database_error(e):
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
        writer.

        A commit that fails (SQLite: a reader outstayed the busy timeout in rollback-journal
        mode, the disk is full) leaves the driver connection inside its transaction, holding
        the write lock; the connection is discarded, which rolls that transaction back, instead
        of going back to the pool and locking every later reader and writer out.
        """
        if self.read_only:
            raise StoreReadOnly("write")
        with self.guard(), self.engine.connect() as conn:
            conn.execution_options(esaudit_write=True)
            transaction = conn.begin()
            try:
                if lock:
                    self.backend.lock(conn, lock_key)
                yield conn
            except BaseException:
                transaction.rollback()
                raise
            try:
                transaction.commit()
            except BaseException:
                conn.invalidate()
                raise

    @contextmanager
    def rollback_journal(self) -> Iterator[bool]:
        """SQLite: the block runs with the file in rollback-journal mode if nobody else has it
        open, in this process or another (yields whether it does); WAL again after it.

        For one large transaction into an empty store: WAL writes each page twice (into the
        log, then into the file at the checkpoint) and, once the transaction outgrows the page
        cache, once more for every page it spills and changes again; the rollback journal
        writes each new page once, in place, and journals only the few pages that were there
        before. A process killed meanwhile leaves a journal that the next writable open rolls
        back, so the transaction is still all or nothing. Where anyone else has the file open
        the block runs in WAL as any other: the switch never waits.
        """
        switched = False
        if (self.backend.leaves_wal and self.batch_thread is None
                and self.writer.release_if_idle()):
            self.backend.release()
            switched = self.backend.journal("DELETE")
        try:
            yield switched
        finally:
            if switched:
                # Waits for readers that opened meanwhile, up to the busy timeout; if they
                # outstay it, the next writable open switches (``Backend.adopt``).
                self.backend.journal("WAL")

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A connection for a consistent read (one snapshot of the database)."""
        with self.guard(), self.engine.connect() as conn, conn.begin():
            yield conn

    def read(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        """Rows of one driver query (one statement: one snapshot of the database). The reads
        skip SQLAlchemy's statement building, and a command that only reads never loads it.

        Inside a batch on this thread the query runs in the batch, so it sees the batch's
        writes.
        """
        batch = self.batch_conn()
        with self.guard(), (nullcontext(batch) if batch is not None else self.backend.raw()
                            ) as dbapi:
            rows = _rows(dbapi, sql, params)
            if batch is None:
                dbapi.rollback()  # PostgreSQL opened a transaction for the read; end it
        return rows

    @contextmanager
    def reads(self) -> Iterator[Reads]:
        """Several driver queries in one read transaction (inside a batch on this thread: in
        the batch)."""
        batch = self.batch_conn()
        if batch is not None:
            with self.guard():
                yield Reads(batch, self.sql.mark)
            return
        with self.guard(), self.backend.raw() as dbapi:
            if self.sql.begin_read:
                _rows(dbapi, self.sql.begin_read, ())
            try:
                yield Reads(dbapi, self.sql.mark)
            finally:
                dbapi.rollback()


def _rows(dbapi: Any, sql: str, params: Params) -> list[tuple[Any, ...]]:
    cur = dbapi.cursor()
    try:
        cur.execute(sql, params)
        rows: list[tuple[Any, ...]] = cur.fetchall()
    finally:
        cur.close()
    return rows
