"""PostgreSQL for ``store.sources.database``: the engine and its reads, through SQLAlchemy,
which a read of a SQLite file never loads."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy import exc as sa_exc

from ..backends import postgres_url, read_only_sessions, translate
from ..errors import StoreError, StoreOpenError

Row = tuple[Any, ...]


class EngineReads:
    """Reads on a SQLAlchemy connection (PostgreSQL), each statement made once."""

    __slots__ = ("_conn", "_statements")

    def __init__(self, conn: Connection, statements: dict[str, Any]) -> None:
        self._conn = conn
        self._statements = statements

    def _run(self, sql: str, params: Mapping[str, Any] | None) -> Any:
        statement = self._statements.get(sql)
        if statement is None:
            statement = self._statements[sql] = text(sql)
        return self._conn.execute(statement, dict(params or {}))

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        # SQLAlchemy's rows unpack and index as tuples do: not copied, since a cut of a big
        # partition reads a million of them.
        return cast("list[Row]", self._run(sql, params).all())

    def value(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._run(sql, params).scalar()

    def first(self, sql: str, params: Mapping[str, Any] | None = None) -> Row | None:
        row = self._run(sql, params).first()
        return None if row is None else tuple(row)


@contextmanager
def engine_read(engine: Engine, statements: dict[str, Any], label: str,
                ) -> Iterator[EngineReads]:
    """One read-only transaction on the engine, driver errors said as store errors."""
    try:
        with engine.connect() as conn, conn.begin():
            yield EngineReads(conn, statements)
    except sa_exc.DBAPIError as e:
        raise translate(e.orig or e, label) from e


def engine_tables(engine: Engine, schema: str | None) -> dict[str, frozenset[str]]:
    """Table name -> column names, from the catalogue."""
    with engine.connect() as conn, warnings.catch_warnings():
        # Column types SQLAlchemy has no class for (Emmett's xid8) are irrelevant here: only
        # the names are read.
        warnings.filterwarnings("ignore", "Did not recognize type", sa_exc.SAWarning)
        found = inspect(conn)
        return {name: frozenset(c["name"] for c in found.get_columns(name, schema=schema))
                for name in found.get_table_names(schema=schema)}


def engine_schemas(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [name for name in inspect(conn).get_schema_names()
                if name not in ("information_schema", "pg_catalog", "pg_toast")]


def postgres_engine(target: str) -> Engine:
    """A read-only REPEATABLE READ engine, refused at once if the server cannot be reached."""
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


__all__ = ["Engine", "EngineReads", "engine_read", "engine_schemas", "engine_tables",
           "postgres_engine"]
