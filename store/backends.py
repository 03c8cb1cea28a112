"""What differs between SQLite and PostgreSQL, kept in one place.

SQLite durability: the store runs in WAL mode with ``synchronous=FULL`` by default, so the WAL is
fsynced at every commit and an acknowledged event survives a power cut. ``synchronous=NORMAL``
(``open_store(..., synchronous="NORMAL")``) skips that fsync: still safe against a crash of the
process, and several times faster per small transaction, but the last commits before a power
loss or OS crash may roll back. It is a visible setting, never a silent default.

Writers: SQLite write transactions start with ``BEGIN IMMEDIATE`` and wait up to the busy timeout
for another writer (another thread or process) instead of failing with "database is locked".
PostgreSQL write transactions that allocate positions take one transaction-scoped advisory lock
(``pg_advisory_xact_lock``), held until commit. That is how readers following positions never skip
an event: the classic gap appears when transaction A takes position 10, B takes 11 and commits
first, and a reader checkpoints past 11 before A's 10 becomes visible. Under the lock, the position
is taken (max + 1) and committed before the next writer may take one, so positions become visible
strictly in order. The cost is that appends are serialized, which an audit store can afford.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import QueuePool

from .errors import StoreBusy, StoreError, StoreOpenError, StoreReadOnly
from .search_sql import register_functions

SYNCHRONOUS_MODES = ("FULL", "NORMAL")
APPEND_LOCK_KEY = 0x65_73_61_75_64  # "esaud": any constant shared by every writer


@dataclass(frozen=True)
class Backend:
    """An engine plus the few behaviours that differ per database."""

    name: str
    engine: Engine
    label: str
    lock: Callable[[Connection, int], None]
    adopt: Callable[[], None] = lambda: None
    """Run once the target is known to be an esaudit store (SQLite: switch to WAL)."""
    busy_timeout_s: float = 30.0
    """How long a writer waits for another one before giving up (StoreBusy)."""
    settle: Callable[[int], None] = lambda _rows: None
    """Run after a bulk write of that many rows has committed (PostgreSQL: vacuum)."""


def _no_lock(_conn: Connection, _key: int) -> None:
    """SQLite: BEGIN IMMEDIATE already serializes writers."""


def _pg_lock(conn: Connection, key: int) -> None:
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def sqlite_backend(
    path: Path, *, read_only: bool, synchronous: str = "FULL", busy_timeout_s: float = 30.0
) -> Backend:
    """An engine over one SQLite file; read-only opens use a ``mode=ro`` URI."""
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}, not {synchronous!r}")
    path = path.expanduser().resolve()
    if read_only and not path.exists():
        raise StoreOpenError(f"no store at {path}")
    if not read_only and not path.parent.is_dir():
        raise StoreOpenError(f"folder {path.parent} does not exist")
    if not read_only and path.exists() and not path.stat().st_mode & 0o222:
        # Honour the file's read-only flag even for root (who could write it anyway): the
        # owner marked this history as not to be changed.
        raise StoreOpenError(f"{path} is read-only on disk: open it read-only (--read-only, "
                             "File > Open read-only…) or make the file writable")
    uri = f"file:{quote(str(path))}?mode={'ro' if read_only else 'rwc'}"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(
            uri, uri=True, timeout=busy_timeout_s, check_same_thread=False, isolation_level=None
        )

    # No rollback on return to the pool: every use ends its own transaction (the connection
    # is in autocommit mode outside an explicit BEGIN), and the reset would cost ~10% of an append.
    engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool, pool_size=4,
                           max_overflow=16, pool_reset_on_return=None)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        register_functions(dbapi_conn)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        if read_only:
            cur.execute("PRAGMA query_only=ON")
        else:
            cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("esaudit_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    def adopt() -> None:
        # Persistent in the file, so it is set only after the file proved to be ours: a foreign
        # database opened by mistake must stay byte for byte as it was.
        if read_only:
            return
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
        finally:
            raw.close()

    return Backend("sqlite", engine, str(path), _no_lock, adopt, busy_timeout_s)


def postgres_backend(url: str, *, read_only: bool) -> Backend:
    """An engine over PostgreSQL; read-only sessions are refused writes by the server itself."""
    try:
        engine = create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=16)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError) as e:
        raise StoreOpenError(f"cannot use {url!r}: {e}") from e

    if read_only:
        read_only_sessions(engine)

    def settle(rows: int) -> None:
        if rows >= SETTLE_FROM:
            vacuum_events(engine)

    return Backend("postgresql", engine, engine.url.render_as_string(hide_password=True), _pg_lock,
                   settle=settle)


SETTLE_FROM = 10_000
"""PostgreSQL: an import of at least this many events is followed by ``vacuum_events``."""


def vacuum_events(engine: Engine) -> None:
    """``VACUUM (ANALYZE)`` the events and streams tables once an import has committed.

    Rows a transaction has just written carry no hint that it committed, and no page of them is
    marked all-visible: the first reads after the import (the app's timeline, verify) check
    every row's transaction in the commit log and dirty every page to remember the answer. On
    1M freshly imported events the app's first two opens took 11-13 s and the third, once
    autovacuum had been through, 4.4 s. The vacuum does that work once, at the end of the
    import, and leaves the planner statistics of the new size. It is an optimisation of what
    autovacuum does anyway: the import has committed whatever happens here, so a server that
    refuses it (a role that does not own the tables gets a warning, not an error) or a
    connection lost meanwhile leaves the import as it is and the work to autovacuum.
    """
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("VACUUM (ANALYZE) events, streams")
    except sa_exc.DBAPIError:
        return


def read_only_sessions(engine: Engine) -> None:
    """Make every PostgreSQL session of ``engine`` read-only: the server itself refuses a
    write, whatever the code above it does."""
    @event.listens_for(engine, "connect")
    def _read_only(dbapi_conn: object, _record: object) -> None:
        cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
        cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        cur.close()
        dbapi_conn.commit()  # type: ignore[attr-defined]


def sqlite_path(target: str | Path) -> Path | None:
    """The file a target names if it is a SQLite store (a path or ``sqlite:///PATH``), resolved;
    None for a server URL."""
    text_target = str(target)
    if "://" not in text_target:
        return Path(text_target).expanduser().resolve()
    scheme, rest = text_target.split("://", 1)
    if not scheme.startswith("sqlite"):
        return None
    path = rest[1:] if rest.startswith("/") else rest
    if not path or path == ":memory:":
        return None
    return Path(path).expanduser().resolve()


def backend_for(
    target: str | Path, *, read_only: bool, synchronous: str = "FULL", busy_timeout_s: float = 30.0
) -> Backend:
    """Pick the backend from a target: a path, ``sqlite:///path`` or ``postgresql+psycopg://``."""
    text_target = str(target)
    if "://" not in text_target:
        return sqlite_backend(Path(text_target), read_only=read_only, synchronous=synchronous,
                              busy_timeout_s=busy_timeout_s)
    scheme = text_target.split("://", 1)[0]
    if scheme.startswith("sqlite"):
        path = text_target.split("://", 1)[1]
        if path.startswith("/"):
            path = path[1:]
        if not path or path == ":memory:":
            raise StoreOpenError("an in-memory SQLite store cannot be shared; give a file path")
        return sqlite_backend(Path(path), read_only=read_only, synchronous=synchronous,
                              busy_timeout_s=busy_timeout_s)
    return postgres_backend(postgres_url(text_target), read_only=read_only)


def postgres_url(target: str) -> str:
    """A PostgreSQL URL with the psycopg driver (``postgres://`` and ``postgresql://`` name
    it); StoreOpenError for any other scheme."""
    scheme = target.split("://", 1)[0]
    if not scheme.startswith("postgres"):
        raise StoreOpenError(f"unsupported store URL scheme {scheme!r}: use a file path, "
                             "sqlite:///PATH or postgresql+psycopg://...")
    if scheme in ("postgres", "postgresql"):
        return "postgresql+psycopg://" + target.split("://", 1)[1]
    return target


@dataclass(frozen=True)
class AppendSql:
    """The append path's statements in the driver's own parameter style."""

    mark: str
    head: str
    head_and_position: str
    """The stream's head and the store's last position in one round trip (the append's read)."""
    lock: str
    read_payloads: str
    insert_event: str
    insert_next_event: str
    """SQLite: the event at the next position SQLite allocates (max + 1, as the read finds)."""
    update_stream: str
    advance_stream: str
    """Moves a head only from the state a cached head remembers (else no row changes)."""
    insert_stream: str
    delete_snapshot: str
    stream: str
    insert_snapshot: str

    @classmethod
    def for_backend(cls, name: str) -> AppendSql:
        m = "?" if name == "sqlite" else "%s"
        greatest = "max" if name == "sqlite" else "greatest"
        return cls(
            mark=m,
            read_payloads="SELECT version, type, payload FROM events "
                          f"WHERE stream_id = {m} AND version >= {m}",
            head=f"SELECT version, head_hash, stream_type FROM streams WHERE stream_id = {m}",
            head_and_position="SELECT s.version, s.head_hash, s.stream_type, m.p FROM "
                              "(SELECT coalesce(max(position), 0) AS p FROM events) m "
                              f"LEFT JOIN streams s ON s.stream_id = {m}",
            lock=f"SELECT pg_advisory_xact_lock({m})",
            insert_event="INSERT INTO events (position, stream_id, stream_type, version, type, "
                         f"recorded_at, payload, metadata, hash) VALUES ({', '.join([m] * 9)})",
            insert_next_event="INSERT INTO events (stream_id, stream_type, version, type, "
                              "recorded_at, payload, metadata, hash) VALUES "
                              f"({', '.join([m] * 8)})",
            update_stream=f"UPDATE streams SET version = {m}, head_hash = {m}, "
                          f"last_at = {greatest}(last_at, {m}) WHERE stream_id = {m}",
            advance_stream=f"UPDATE streams SET version = {m}, head_hash = {m}, "
                           f"last_at = {greatest}(last_at, {m}) WHERE stream_id = {m} "
                           f"AND version = {m} AND head_hash = {m} AND stream_type = {m}",
            insert_stream="INSERT INTO streams (stream_id, stream_type, version, head_hash, "
                          f"first_at, last_at) VALUES ({', '.join([m] * 6)})",
            stream="SELECT stream_id, stream_type, version, head_hash, first_at, last_at "
                   f"FROM streams WHERE stream_id = {m}",
            delete_snapshot=f"DELETE FROM snapshots WHERE stream_id = {m} AND version = {m}",
            insert_snapshot=f"INSERT INTO snapshots (stream_id, version, state) VALUES "
                            f"({m}, {m}, {m})",
        )


EVENT_COLUMNS = ("position", "stream_id", "stream_type", "version", "type", "recorded_at",
                 "payload", "metadata", "hash")
"""The events table's columns in the order ``insert_event`` and ``write_event_rows`` take them."""


def write_event_rows(cur: Any, backend_name: str, insert_sql: str,
                     rows: Sequence[Sequence[Any]]) -> None:
    """Insert many event rows through a driver cursor, inside the caller's transaction.

    PostgreSQL takes them as one ``COPY ... FROM STDIN``: psycopg's ``executemany`` sends and
    the server executes one INSERT per row, which makes a 100-event append transaction about
    twice as slow as the same rows copied, and an import of 5,000-row chunks 1.6-1.9 times.
    COPY keeps every constraint and index of the table, so a clash with the unique (stream,
    version) key still fails the transaction as an integrity error. SQLite's ``executemany``
    runs the prepared INSERT in the library itself and stays.
    """
    if backend_name == "sqlite":
        cur.executemany(insert_sql, rows)
    else:
        copy_event_rows(cur, rows)


def import_event_rows(conn: Connection, backend_name: str, insert_sql: str,
                      rows: Sequence[Sequence[Any]]) -> None:
    """``write_event_rows`` for a SQLAlchemy connection's transaction (an import's chunk)."""
    if backend_name == "sqlite":
        conn.exec_driver_sql(insert_sql, rows)
        return
    cur = conn.connection.cursor()
    try:
        copy_event_rows(cur, rows)
    finally:
        cur.close()


def copy_event_rows(cur: Any, rows: Sequence[Sequence[Any]]) -> None:
    """PostgreSQL: the rows as one ``COPY events FROM STDIN`` on a psycopg cursor."""
    with cur.copy(f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def is_integrity_error(e: BaseException) -> bool:
    """A unique-key violation, from SQLAlchemy or straight from the driver."""
    return isinstance(e, sa_exc.IntegrityError | sqlite3.IntegrityError) or any(
        cls.__name__ == "IntegrityError" for cls in type(e).__mro__)


def is_driver_error(e: BaseException) -> bool:
    """An error the database driver raised. sqlite3 refuses an integer parameter beyond 64 bits
    with a plain OverflowError, where PostgreSQL answers "integer out of range"."""
    return isinstance(e, sqlite3.Error) or type(e).__module__.startswith("psycopg") or (
        isinstance(e, OverflowError) and "to SQLite INTEGER" in str(e))


def translate(e: BaseException, label: str) -> StoreError:
    """Our own exception for a driver error, so callers never see sqlite3 or psycopg types."""
    lines = str(getattr(e, "orig", None) or e).strip().splitlines()
    message = lines[0] if lines else type(e).__name__
    lowered = message.lower()
    if "readonly database" in lowered or "read-only transaction" in lowered or (
        "read only" in lowered and "transaction" in lowered
    ):
        return StoreReadOnly("write")
    if "database is locked" in lowered or "database is busy" in lowered:
        return StoreBusy(f"{label}: another writer held the store too long ({message})")
    if "not a database" in lowered or "malformed" in lowered or "disk image" in lowered:
        return StoreOpenError(f"{label} is not a readable SQLite database ({message})")
    if "unable to open" in lowered:
        return StoreOpenError(f"cannot open {label} ({message})")
    if isinstance(e, sa_exc.OperationalError | sa_exc.InterfaceError):
        return StoreOpenError(f"{label}: {message}")
    return StoreError(f"{label}: {message}")
