"""A database another program writes, opened so that nothing of it can change.

A foreign store is evidence: esaudit reads it where it is while its application may go on
writing. SQLite is read through ``store.sqlite_look`` (never a write, never a checkpoint, side
files untouched) with the standard library's driver alone, so a command on an eventsourcing
SQLite file starts without loading SQLAlchemy; PostgreSQL through SQLAlchemy, in read-only
REPEATABLE READ transactions, which take no lock a writer waits for. Every ``read()`` is one
transaction, so what it returns is a consistent cut of the history: never half of a
transaction the application committed.

The adapters write their queries once, as SQL text with ``:name`` parameters, which both
drivers take (sqlite3 natively, PostgreSQL through SQLAlchemy's ``text``); a list of values
for ``IN`` is spelled out by ``in_list``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..backends import sqlite_path, translate
from ..errors import StoreError, StoreOpenError
from ..search_sql import register_functions
from ..sqlite_look import Untouched, untouched_connection

if TYPE_CHECKING:
    from .postgres_reads import Engine

Row = tuple[Any, ...]


class Reads(Protocol):
    """The queries of one read-only transaction: each sees the same committed state."""

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]: ...

    def value(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row (None for no row)."""

    def first(self, sql: str, params: Mapping[str, Any] | None = None) -> Row | None: ...


def in_list(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``(:name_0, :name_1, ...)`` and its parameters, for ``column IN`` a list; an empty list
    is ``(NULL)``, which nothing is in."""
    if not values:
        return "(NULL)", {}
    names = [f"{name}_{i}" for i in range(len(values))]
    return "(" + ", ".join(f":{n}" for n in names) + ")", dict(zip(names, values, strict=True))


class _DriverReads:
    """Reads on a sqlite3 connection, with its own named-parameter style."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        rows: list[Row] = self._conn.execute(sql, params or {}).fetchall()
        return rows

    def value(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        row = self._conn.execute(sql, params or {}).fetchone()
        return None if row is None else row[0]

    def first(self, sql: str, params: Mapping[str, Any] | None = None) -> Row | None:
        row: Row | None = self._conn.execute(sql, params or {}).fetchone()
        return row


class ReadOnlyDatabase:
    """Consistent read-only transactions on a SQLite file or a PostgreSQL database."""

    def __init__(self, target: str | Path) -> None:
        self._path = sqlite_path(target)
        self._lock = threading.RLock()
        self._stack = ExitStack()
        self._sqlite: sqlite3.Connection | None = None
        self._untouched: Untouched | None = None
        self._depth = 0  # reads in progress, nested on the thread holding the lock
        self._closed = False
        self._engine: Engine | None = None
        self._statements: dict[str, Any] = {}
        if self._path is not None:
            if not self._path.exists():
                raise StoreOpenError(f"no store at {self._path}")
            self.label = str(self._path)
            self.dialect = "sqlite"
            self._open_sqlite()
        else:
            from .postgres_reads import postgres_engine
            self._engine = postgres_engine(str(target))
            self.label = self._engine.url.render_as_string(hide_password=True)
            self.dialect = self._engine.dialect.name

    @property
    def sqlite_path(self) -> Path | None:
        return self._path

    @property
    def lock(self) -> threading.RLock:
        """Held by every read: holding it keeps other threads' reads waiting."""
        return self._lock

    def _open_sqlite(self) -> None:
        """Open a connection by what is on disk now, closing the one it replaces first:
        SQLite shares one mapping of the log's index among a process's connections to a
        file, so a new connection beside the old one would map the old, removed index. A
        failed open leaves no connection, and the next read tries again."""
        assert self._path is not None
        self._stack.close()
        self._sqlite = self._untouched = None
        try:
            untouched = self._stack.enter_context(untouched_connection(self._path))
        except sqlite3.Error as e:
            raise translate(e, str(self._path)) from e
        register_functions(untouched.conn)
        self._untouched, self._sqlite = untouched, untouched.conn

    @contextmanager
    def read(self) -> Iterator[Reads]:
        """One read-only transaction: every query inside sees the same committed state."""
        with self._lock:
            if self._path is not None:
                yield from self._sqlite_read()
                return
            if self._engine is None:  # a read from a worker that outlived the store's close
                raise StoreError(f"{self.label} is closed")
            from .postgres_reads import engine_read
            with engine_read(self._engine, self._statements, self.label) as reads:
                yield reads

    def _sqlite_read(self) -> Iterator[Reads]:
        """A read on the SQLite connection, opened afresh first when what it relies on on
        disk may have changed (``Untouched``), and refused after when that changed during
        it: then what was read may mix two states of the file, whatever error it met."""
        if self._closed:
            raise StoreError(f"{self.label} is closed")
        if self._depth == 0 and (self._untouched is None or not self._untouched.trusted()):
            self._open_sqlite()
        conn, untouched = self._sqlite, self._untouched
        assert conn is not None and untouched is not None
        self._depth += 1
        try:
            conn.execute("BEGIN")
            try:
                yield _DriverReads(conn)
            finally:
                conn.execute("ROLLBACK")
        except Exception as e:
            if not untouched.read_holds():
                raise self._mixed() from e
            if isinstance(e, sqlite3.Error):
                raise translate(e, self.label) from e
            raise
        finally:
            self._depth -= 1
        if not untouched.read_holds():
            raise self._mixed()

    def _mixed(self) -> StoreError:
        return StoreError(f"{self.label} was checkpointed by its application while it was "
                          "read, so what was read may mix two states: read it again")

    def tables(self, schema: str | None = None) -> dict[str, frozenset[str]]:
        """Table name -> column names, read from the catalogue (no table data is read)."""
        if self._path is not None:
            with self.read() as reads:
                names = [str(n) for (n,) in reads.rows(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")]
                return {name: frozenset(str(c[1]) for c in reads.rows(
                    "SELECT * FROM pragma_table_info(:name)", {"name": name}))
                    for name in names}
        from .postgres_reads import engine_tables
        assert self._engine is not None
        with self._lock:
            return engine_tables(self._engine, schema)

    def schemas(self) -> list[str]:
        """The schemas that may hold an application's tables (PostgreSQL; none on SQLite)."""
        if self._engine is None:
            return []
        from .postgres_reads import engine_schemas
        with self._lock:
            return engine_schemas(self._engine)

    def refresh(self) -> None:
        """See what the writing application committed since the open (SQLite: a new look at
        the file and its log, which may have appeared or been checkpointed meanwhile)."""
        if self._path is None:
            return
        with self._lock:
            self._open_sqlite()

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
            self._stack.close()
            self._sqlite = self._untouched = None
            self._closed = True
