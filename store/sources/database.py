"""A database another program writes, opened so that nothing of it can change.

A foreign store is evidence: esaudit reads it where it is while its application may go on
writing. SQLite is read through ``store.sqlite_look`` (never a write, never a checkpoint, side
files untouched); PostgreSQL through read-only REPEATABLE READ transactions, which take no lock
a writer waits for. Every ``read()`` is one transaction, so what it returns is a consistent cut
of the history: never half of a transaction the application committed.
"""

from __future__ import annotations

import sqlite3
import threading
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import StaticPool

from ..backends import postgres_url, read_only_sessions, sqlite_path, translate
from ..errors import StoreError, StoreOpenError
from ..search_sql import register_functions
from ..sqlite_look import untouched_connection


class ReadOnlyDatabase:
    """Consistent read-only transactions on a SQLite file or a PostgreSQL database."""

    def __init__(self, target: str | Path) -> None:
        self._path = sqlite_path(target)
        self._lock = threading.RLock()
        self._stack = ExitStack()
        self._engine: Engine
        if self._path is not None:
            if not self._path.exists():
                raise StoreOpenError(f"no store at {self._path}")
            self.label = str(self._path)
            self._open_sqlite()
        else:
            self._engine = _postgres_engine(str(target))
            self.label = self._engine.url.render_as_string(hide_password=True)
        self.dialect = self._engine.dialect.name

    @property
    def sqlite_path(self) -> Path | None:
        return self._path

    def _open_sqlite(self) -> None:
        assert self._path is not None
        try:
            conn = self._stack.enter_context(untouched_connection(self._path))
        except sqlite3.Error as e:
            raise translate(e, str(self._path)) from e
        register_functions(conn)
        engine = create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool,
                               pool_reset_on_return=None)

        @event.listens_for(engine, "begin")
        def _begin(c: Connection) -> None:
            c.exec_driver_sql("BEGIN")

        self._engine = engine

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read-only transaction: every query inside sees the same committed state."""
        with self._lock:
            try:
                with self._engine.connect() as conn, conn.begin():
                    yield conn
            except sa_exc.DBAPIError as e:
                raise translate(e.orig or e, self.label) from e

    def tables(self, schema: str | None = None) -> dict[str, frozenset[str]]:
        """Table name -> column names, read from the catalogue (no table data is read)."""
        with self.read() as conn, warnings.catch_warnings():
            # Column types SQLAlchemy has no class for (Emmett's xid8) are irrelevant here:
            # only the names are read.
            warnings.filterwarnings("ignore", "Did not recognize type", sa_exc.SAWarning)
            found = inspect(conn)
            return {name: frozenset(c["name"] for c in found.get_columns(name, schema=schema))
                    for name in found.get_table_names(schema=schema)}

    def schemas(self) -> list[str]:
        """The schemas that may hold an application's tables (PostgreSQL; none on SQLite)."""
        if self._path is not None:
            return []
        with self.read() as conn:
            return [name for name in inspect(conn).get_schema_names()
                    if name not in ("information_schema", "pg_catalog", "pg_toast")]

    def refresh(self) -> None:
        """See what the writing application committed since the open (SQLite: a new look at
        the file and its log, which may have appeared or been checkpointed meanwhile)."""
        if self._path is None:
            return
        with self._lock:
            self._engine.dispose()
            self._stack.close()
            self._stack = ExitStack()
            self._open_sqlite()

    def close(self) -> None:
        with self._lock:
            self._engine.dispose()
            self._stack.close()


def _postgres_engine(target: str) -> Engine:
    url = postgres_url(target)
    try:
        engine = create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=8,
                               isolation_level="REPEATABLE READ")
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError) as e:
        raise StoreOpenError(f"cannot use {url!r}: {e}") from e

    read_only_sessions(engine)
    try:
        engine.connect().close()  # a wrong URL or a server that is down: say so at the open
    except sa_exc.DBAPIError as e:
        engine.dispose()
        raise translate(e.orig or e, engine.url.render_as_string(hide_password=True)) from e
    except StoreError:
        engine.dispose()
        raise
    return engine
