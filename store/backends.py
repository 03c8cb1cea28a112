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
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .errors import StoreBusy, StoreError, StoreOpenError, StoreReadOnly
from .search_sql import register_functions

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

SYNCHRONOUS_MODES = ("FULL", "NORMAL")
APPEND_LOCK_KEY = 0x65_73_61_75_64  # "esaud": any constant shared by every writer

RawConnections = Callable[[], AbstractContextManager[Any]]
"""Lends a bare driver connection for a block, and takes it back after."""


@dataclass(eq=False)
class Backend:
    """A database: the driver connections reads and appends take, the SQLAlchemy engine made
    on first use, and the few behaviours that differ per database.

    On SQLite the reads and appends run on driver connections this backend keeps, so a
    command that only reads never loads SQLAlchemy; the engine is made when something needs
    it (a write transaction of its own, a read-model table, a schema change). PostgreSQL
    makes its engine at once and lends its pool's connections.
    """

    name: str
    label: str
    lock: Callable[[Connection, int], None]
    make_engine: Callable[[], Engine]
    raw: RawConnections
    adopt: Callable[[], None] = lambda: None
    """Run once the target is known to be an esaudit store (SQLite: switch to WAL)."""
    busy_timeout_s: float = 30.0
    """How long a writer waits for another one before giving up (StoreBusy)."""
    close_raw: Callable[[], None] = lambda: None
    """Close the driver connections kept for reuse."""
    settle: Callable[[int], None] = lambda _rows: None
    """Run after a bulk write of that many rows has committed (PostgreSQL: vacuum)."""
    journal: Callable[[str], bool] = lambda _mode: False
    """SQLite: switch the file's journal mode (``DELETE`` or ``WAL``); whether it now is in it.
    Never waits to leave WAL: that needs the file to itself, and anyone else's connection is
    a reason to stay. Never raises: a switch that fails leaves the mode as it was, and a store
    left outside WAL is switched back by its next writable open (``adopt``). Only a store
    opened with ``synchronous=FULL`` leaves WAL."""
    release_idle: Callable[[], None] = lambda: None
    """Close the driver connections kept idle, keeping the pool open."""
    leaves_wal: bool = False
    """Whether ``journal`` may take the file out of WAL: a SQLite store opened with
    ``synchronous=FULL``, whose connections run at ``EXTRA``. Asked before the idle connections
    are closed for a switch that would be declined anyway."""
    _engine: Engine | None = field(default=None, init=False, repr=False)
    _making: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, made on first use (once, whichever thread asks first)."""
        engine = self._engine
        if engine is None:
            with self._making:
                engine = self._engine
                if engine is None:
                    engine = self._engine = self.make_engine()
        return engine

    def close(self) -> None:
        self.close_raw()
        with self._making:
            if self._engine is not None:
                self._engine.dispose()

    def release(self) -> None:
        """Close every connection this process keeps idle (driver and engine), so that the
        file's only connections are the ones in use."""
        self.release_idle()
        with self._making:
            if self._engine is not None:
                self._engine.dispose()


class DriverPool:
    """Driver connections kept open between uses: opening a SQLite connection and setting
    its pragmas costs more than the small read it serves. At most ``keep`` idle connections
    are kept; a block that finds none idle opens one."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], keep: int = 4) -> None:
        self._connect = connect
        self._keep = keep
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        finally:
            self._give_back(conn)

    def _give_back(self, conn: sqlite3.Connection) -> None:
        try:
            if conn.in_transaction:  # a block that failed mid-transaction
                conn.rollback()
        except sqlite3.Error:
            conn.close()
            return
        with self._lock:
            if not self._closed and len(self._idle) < self._keep:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self.release_idle()

    def release_idle(self) -> None:
        """Close the idle connections; later blocks open and keep new ones."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _no_lock(_conn: Connection, _key: int) -> None:
    """SQLite: BEGIN IMMEDIATE already serializes writers."""


def _pg_lock(conn: Connection, key: int) -> None:
    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (key,))


def sqlite_backend(
    path: Path, *, read_only: bool, synchronous: str = "FULL", busy_timeout_s: float = 30.0
) -> Backend:
    """Driver connections (and, on first use, an engine) over one SQLite file; read-only opens
    use a ``mode=ro`` URI."""
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
    # FULL runs as EXTRA: the same in WAL mode, and in the rollback-journal mode an import
    # into an empty store uses (``journal``) it also syncs the folder once the journal is
    # deleted, so a power cut cannot bring the journal back and undo an acknowledged import.
    level = "EXTRA" if synchronous == "FULL" else synchronous
    leaves_wal = level == "EXTRA" and not read_only
    pragmas = [f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}",
               "PRAGMA query_only=ON" if read_only else f"PRAGMA synchronous={level}"]

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(
            uri, uri=True, timeout=busy_timeout_s, check_same_thread=False, isolation_level=None
        )
        try:
            register_functions(conn)
            for pragma in pragmas:
                conn.execute(pragma)
        except BaseException:
            conn.close()
            raise
        return conn

    def make_engine() -> Engine:
        from sqlalchemy import create_engine, event
        from sqlalchemy.pool import QueuePool

        # No rollback on return to the pool: every use ends its own transaction (the
        # connection is in autocommit mode outside an explicit BEGIN).
        engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool, pool_size=4,
                               max_overflow=16, pool_reset_on_return=None)

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("esaudit_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    pool = DriverPool(connect)

    def adopt() -> None:
        # Persistent in the file, so it is set only after the file proved to be ours: a foreign
        # database opened by mistake must stay byte for byte as it was.
        if read_only:
            return
        with pool.connection() as conn:
            conn.execute("PRAGMA journal_mode=WAL").close()

    def journal(mode: str) -> bool:
        if mode != "WAL" and not leaves_wal:
            return False  # NORMAL outside WAL mode may corrupt the file on a power cut
        try:
            with pool.connection() as conn:
                row = conn.execute(f"PRAGMA journal_mode={mode}").fetchone()
        except sqlite3.Error:  # busy: another connection has the file open
            return False
        return row is not None and str(row[0]).lower() == mode.lower()

    return Backend("sqlite", str(path), _no_lock, make_engine, pool.connection, adopt,
                   busy_timeout_s, pool.close, journal=journal, release_idle=pool.release_idle,
                   leaves_wal=leaves_wal)


def postgres_backend(url: str, *, read_only: bool) -> Backend:
    """An engine over PostgreSQL; read-only sessions are refused writes by the server itself."""
    from sqlalchemy import create_engine
    from sqlalchemy import exc as sa_exc

    try:
        engine = create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=16)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError) as e:
        raise StoreOpenError(f"cannot use {url!r}: {e}") from e

    if read_only:
        read_only_sessions(engine)

    @contextmanager
    def raw() -> Iterator[Any]:
        pooled = engine.raw_connection()
        try:
            yield pooled.dbapi_connection
        finally:
            pooled.close()

    def settle(rows: int) -> None:
        if rows >= SETTLE_FROM:
            vacuum_events(engine)

    return Backend("postgresql", engine.url.render_as_string(hide_password=True), _pg_lock,
                   lambda: engine, raw, settle=settle)


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
    from sqlalchemy import exc as sa_exc

    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("VACUUM (ANALYZE) events, streams")
    except sa_exc.DBAPIError:
        return


def read_only_sessions(engine: Engine) -> None:
    """Make every PostgreSQL session of ``engine`` read-only: the server itself refuses a
    write, whatever the code above it does."""
    from sqlalchemy import event

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
    """The statements the store runs on the driver, in its own parameter style: the append
    path's, and the reads whose text differs between the databases."""

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
    begin_read: str
    """What starts a read transaction ("" where the driver starts one itself: PostgreSQL;
    SQLite's connections are in autocommit mode, each statement its own snapshot)."""
    like: str
    """A match of a pattern in any case: SQLite's LIKE already ignores ASCII case, and its
    lower() folds nothing more (wrapping every column in lower() triples the cost of a
    100k-stream scan); PostgreSQL's ILIKE."""
    no_limit: str
    """The LIMIT clause of a query that skips rows (OFFSET) but takes all the rest."""
    table_names: str
    """The names of the tables of the store's schema (SQLite: not its own ``sqlite_`` ones)."""

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
            begin_read="BEGIN" if name == "sqlite" else "",
            like="LIKE" if name == "sqlite" else "ILIKE",
            no_limit="LIMIT -1" if name == "sqlite" else "LIMIT ALL",
            table_names="SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                        "'sqlite~_%' ESCAPE '~'" if name == "sqlite" else
                        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
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
    """A unique-key violation, from the driver or from SQLAlchemy (by its class's name, so
    that telling needs no import of either)."""
    return _named(e, "IntegrityError")


def is_database_error(e: BaseException) -> bool:
    """An error the database reported, through SQLAlchemy or straight from the driver."""
    sa_exc = sys.modules.get("sqlalchemy.exc")  # none can be raised before it is loaded
    return (sa_exc is not None and isinstance(e, sa_exc.DBAPIError)) or is_driver_error(e)


def _named(e: BaseException, *names: str) -> bool:
    return any(cls.__name__ in names for cls in type(e).__mro__)


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
    if getattr(getattr(e, "orig", None) or e, "sqlite_errorname", "") == "SQLITE_READONLY_ROLLBACK":
        return StoreOpenError(f"{label} holds a write that stopped midway (its -journal file): "
                              "open it once without --read-only and SQLite rolls it back")
    if "readonly database" in lowered or "read-only transaction" in lowered or (
        "read only" in lowered and "transaction" in lowered
    ):
        return StoreReadOnly("write")
    if "database is locked" in lowered or "database is busy" in lowered:
        return StoreBusy(f"{label}: another connection held the store too long ({message})")
    if "not a database" in lowered or "malformed" in lowered or "disk image" in lowered:
        return StoreOpenError(f"{label} is not a readable SQLite database ({message})")
    if "unable to open" in lowered:
        return StoreOpenError(f"cannot open {label} ({message})")
    if _named(e, "OperationalError", "InterfaceError"):
        return StoreOpenError(f"{label}: {message}")
    return StoreError(f"{label}: {message}")
