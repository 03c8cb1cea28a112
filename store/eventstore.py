"""The append-only event store: the only code that writes events, streams and snapshots."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData, and_, func, insert, inspect, select, update
from sqlalchemy import exc as sa_exc

from . import schema as s
from .backends import (
    APPEND_LOCK_KEY,
    AppendSql,
    Backend,
    backend_for,
    is_driver_error,
    is_integrity_error,
    sqlite_path,
    translate,
)
from .bulk import ImportRow, ImportSummary, import_rows
from .errors import (
    ConcurrencyError,
    InvalidEvent,
    SchemaTooNew,
    StoreError,
    StoreOpenError,
    StoreReadOnly,
    StreamTypeMismatch,
)
from .gcpause import collector_paused
from .hashing import (
    ChainHasher,
    canonical_json_marked,
    cold_sha256,
    decode_json,
    fast_loads,
    instant_from_us,
    us_from_instant,
)
from .records import (
    ANY,
    EventPayload,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    Snapshot,
    StoreStats,
    StreamInfo,
    is_unicode_text,
    name_problem,
)
from .sqlite_look import look
from .writer import Writer

_EVENT_COLUMNS = (
    s.events.c.position, s.events.c.stream_id, s.events.c.stream_type, s.events.c.version,
    s.events.c.type, s.events.c.recorded_at, s.events.c.payload, s.events.c.metadata,
    s.events.c.hash,
)


def open_store(
    target: str | Path, *, read_only: bool = False, create: bool = True,
    synchronous: str = "FULL", busy_timeout_s: float = 30.0,
) -> EventStore:
    """Open the store at a path or SQLAlchemy URL; with ``create`` (and not read-only) a
    missing or empty target becomes a new store, without it that is refused (``no store at``).

    A SQLite file is looked at without any write first (store.sqlite_look), so a file that is
    not an esaudit store is refused and left exactly as it was, side files included.
    """
    path = sqlite_path(target)
    if path is not None:
        _recognise(path, read_only=read_only, create=create)
    backend = backend_for(target, read_only=read_only, synchronous=synchronous,
                          busy_timeout_s=busy_timeout_s)
    store = EventStore(backend, read_only=read_only)
    try:
        store._prepare_schema(create=create)
    except BaseException:
        store.close()
        raise
    return store


def _recognise(path: Path, *, read_only: bool, create: bool) -> None:
    """Refuse a SQLite file that is missing (unless it may be created), not a database, a
    database of someone else's, or written by a newer esaudit; never writes to it."""
    if not path.exists():
        if read_only or not create:
            raise StoreOpenError(f"no store at {path}")
        return
    try:
        found = look(path)
    except sqlite3.Error as e:
        raise translate(e, str(path)) from e
    version = found.meta.get("schema_version")
    if version is not None:
        if int(version) > s.SCHEMA_VERSION:
            raise SchemaTooNew(int(version), s.SCHEMA_VERSION)
        return
    _refuse_unless_creatable(str(path), found.tables, read_only=read_only, create=create)


def _refuse_unless_creatable(label: str, tables: Iterable[str], *, read_only: bool,
                             create: bool) -> None:
    """A database without esaudit's schema may become a store only if it is empty and this
    open is one that creates."""
    foreign = set(tables) - set(s.metadata.tables)
    if foreign:
        raise StoreOpenError(f"{label} is a database but not an esaudit store "
                             f"(it has tables: {', '.join(sorted(foreign)[:5])})")
    if read_only:
        raise StoreOpenError(f"{label} holds no esaudit store (opened read-only, so it was "
                             "not created)")
    if not create:
        raise StoreOpenError(f"no store at {label}")


def _name(value: object, what: str) -> str:
    problem = name_problem(value, what)
    if problem:
        raise InvalidEvent(f"{problem}, not {value!r}")
    return value  # type: ignore[return-value]


def _json_object(value: object, what: str) -> str:
    return _json_text(value, what)[0]


def _json_text(value: object, what: str) -> tuple[str, Callable[[str], Any]]:
    """The canonical text of a payload or metadata object, and how to read it back exactly."""
    if not value and type(value) is dict:  # most metadata
        return "{}", decode_json
    if not isinstance(value, dict):
        if hasattr(value, "keys"):
            value = dict(value)  # type: ignore[call-overload]
        else:
            raise InvalidEvent(f"{what} must be a JSON object, not {type(value).__name__}")
    try:
        text, by_orjson = canonical_json_marked(value)
    except (TypeError, ValueError) as e:
        raise InvalidEvent(f"{what} is not valid JSON: {e}") from e
    if by_orjson:  # orjson refuses lone surrogates, so its text is always valid UTF-8
        return text, fast_loads
    if not is_unicode_text(text):
        raise InvalidEvent(f"{what} holds a lone surrogate, which JSON text in UTF-8 cannot "
                           "carry")
    return text, decode_json


_RAW_EVENT_COLUMNS = ("position", "stream_id", "stream_type", "version", "type", "recorded_at",
                      "payload", "metadata", "hash")
_HEAD_COLUMNS = _RAW_EVENT_COLUMNS[:6]
_PAYLOAD_COLUMNS = _RAW_EVENT_COLUMNS[:7]


def _filters(
    mark: str, to_position: int | None, stream_ids: Iterable[str] | None,
    stream_types: Iterable[str] | None, event_types: Iterable[str] | None,
    since: datetime | None, until: datetime | None,
) -> tuple[list[str], list[Any]]:
    """WHERE clauses (driver SQL with ``mark`` placeholders) and their parameters."""
    clauses: list[str] = []
    params: list[Any] = []

    def add(sql: str, *values: Any) -> None:
        clauses.append(sql)
        params.extend(values)

    if to_position is not None:
        add(f"position <= {mark}", to_position)
    for column, values in (("stream_id", stream_ids), ("stream_type", stream_types),
                           ("type", event_types)):
        if values is not None:
            values = list(values)
            if not values:
                add("1 = 0")
            else:
                add(f"{column} IN ({', '.join([mark] * len(values))})", *values)
    if since is not None:
        add(f"recorded_at >= {mark}", us_from_instant(since))
    if until is not None:
        add(f"recorded_at <= {mark}", us_from_instant(until))
    return clauses, params


def _row_to_event(row: Sequence[Any]) -> RecordedEvent:
    return RecordedEvent(
        position=row[0], stream_id=row[1], stream_type=row[2], version=row[3], type=row[4],
        recorded_at=instant_from_us(row[5]), payload=decode_json(row[6]),
        metadata={} if row[7] == "{}" else decode_json(row[7]), hash=row[8],
    )


def _row_to_stream(row: Sequence[Any]) -> StreamInfo:
    return StreamInfo(stream_id=row[0], stream_type=row[1], version=row[2], head_hash=row[3],
                      first_at=instant_from_us(row[4]), last_at=instant_from_us(row[5]))


_MAX_CACHED_HEADS = 100_000


class _StaleHead(Exception):
    """A remembered stream head no longer matches the database; nothing was written."""


class EventStore:
    """Append, read and snapshot event streams on SQLite or PostgreSQL.

    Every method opens and closes its own short transaction, so one store object can be shared
    by threads (the desktop app's workers) and by several processes on the same database.
    """

    def __init__(self, backend: Backend, *, read_only: bool) -> None:
        self._backend = backend
        self._engine = backend.engine
        self.read_only = read_only
        self._sql = AppendSql.for_backend(backend.name)
        self._batch = threading.local()  # .conn: the open batch's connection on this thread
        # The thread with a batch open, if any: while it is None, append need not look for a
        # batch of its own thread (a threading.local lookup costs as much as the rest of
        # choosing the append's path).
        self._batch_thread: int | None = None
        self._hasher = ChainHasher(cold_sha256)
        # SQLite: stream id -> (version, head hash, stream type) as this store last wrote it.
        # It only saves the append's read; see _append_known for why it can never be trusted
        # wrongly. PostgreSQL stores are shared by design, and keep reading.
        self._heads: dict[str, tuple[int, str, str]] = {}
        self._remember_heads = backend.name == "sqlite"
        self._writer = Writer(self._engine, backend.name, self._sql.lock, APPEND_LOCK_KEY,
                              backend.busy_timeout_s)

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def label(self) -> str:
        """Where the store lives, for titles and messages (passwords hidden)."""
        return self._backend.label

    @property
    def backend_name(self) -> str:
        return self._backend.name

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, for a job that opens it again in another process (None on
        PostgreSQL, whose URL carries a password the store does not hand out)."""
        return Path(self._backend.label) if self._backend.name == "sqlite" else None

    def close(self) -> None:
        self._writer.close()
        self._engine.dispose()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _prepare_schema(self, *, create: bool = True) -> None:
        with self._guard():
            with self._engine.connect() as conn:
                tables = set(inspect(conn).get_table_names())
                found = None
                if s.meta.name in tables:
                    found = conn.execute(
                        select(s.meta.c.value).where(s.meta.c.key == "schema_version")
                    ).scalar()
            if found is not None:
                version = int(found)
                if version > s.SCHEMA_VERSION:
                    raise SchemaTooNew(version, s.SCHEMA_VERSION)
                self._backend.adopt()
                return
            _refuse_unless_creatable(self.label, tables, read_only=self.read_only,
                                     create=create)
            with self.write_transaction(lock=True) as conn:
                s.metadata.create_all(conn)
                exists = conn.execute(
                    select(s.meta.c.value).where(s.meta.c.key == "schema_version")
                ).scalar()
                if exists is None:
                    conn.execute(insert(s.meta).values(key="schema_version",
                                                       value=str(s.SCHEMA_VERSION)))
            self._backend.adopt()

    # -- transactions ----------------------------------------------------------------------
    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Translate driver errors into store errors at the boundary."""
        try:
            yield
        except Exception as e:
            error = self._store_error(e)
            if error is None:
                raise
            raise error from e

    def _store_error(self, e: Exception) -> StoreError | None:
        """The store error a driver error means; None for errors that pass as they are (ours,
        unique-key violations, which callers turn into refusals, and programming errors)."""
        if isinstance(e, StoreError) or is_integrity_error(e):
            return None
        if isinstance(e, sa_exc.DBAPIError | sa_exc.OperationalError) or is_driver_error(e):
            return translate(e, self.label)
        return None

    @contextmanager
    def write_transaction(self, *, lock: bool = False, lock_key: int = APPEND_LOCK_KEY
                          ) -> Iterator[Connection]:
        """One write transaction; with ``lock`` it is serialized with every other locked writer.

        Projections use this to update a read model and its checkpoint atomically.
        """
        if self.read_only:
            raise StoreReadOnly("write")
        with self._guard(), self._engine.connect() as conn:
            conn.execution_options(esaudit_write=True)
            with conn.begin():
                if lock:
                    self._backend.lock(conn, lock_key)
                yield conn

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A connection for a consistent read (one snapshot of the database)."""
        with self._guard(), self._engine.connect() as conn, conn.begin():
            yield conn

    def has_tables(self, names: list[str]) -> bool:
        with self.read_connection() as conn:
            return set(names) <= set(inspect(conn).get_table_names())

    def create_tables(self, tables: MetaData) -> None:
        """Create read-model tables owned by the application layer (idempotent), and any index
        added to a table after it was created (create_all skips existing tables whole)."""
        if self.read_only:
            return
        with self.write_transaction(lock=True) as conn:
            tables.create_all(conn)
            for table in tables.sorted_tables:
                for index in table.indexes:
                    index.create(conn, checkfirst=True)

    # -- append ----------------------------------------------------------------------------
    def append(
        self, stream_id: str, stream_type: str, events: Sequence[NewEvent],
        expected_version: ExpectedVersion = ANY,
    ) -> list[RecordedEvent]:
        """Append events atomically; all are stored or none (ConcurrencyError on a mismatch)."""
        known = self._heads.get(stream_id) if type(stream_id) is str else None
        if (known is not None and known[2] == stream_type and type(events) is list
                and len(events) == 1
                and (expected_version is ANY or expected_version == known[0])
                and self._batch_thread is None):
            try:
                return [self._append_known(stream_id, stream_type, events[0], known)]
            except _StaleHead:
                self._heads.pop(stream_id, None)
            except Exception as e:
                self._heads.pop(stream_id, None)
                error = self._append_error(e, stream_id, expected_version)
                if error is None:
                    raise
                raise error from e
        return self._append_read(stream_id, stream_type, events, expected_version, known)

    def _append_read(
        self, stream_id: str, stream_type: str, events: Sequence[NewEvent],
        expected_version: ExpectedVersion, known: tuple[int, str, str] | None,
    ) -> list[RecordedEvent]:
        """The append that reads the stream's head inside its transaction first."""
        if self.read_only:
            raise StoreReadOnly("append")
        heads = self._heads
        if known is None or type(stream_type) is not str or known[2] != stream_type:
            _name(stream_id, "stream id")  # a remembered stream's were checked when it began
            _name(stream_type, "stream type")
        if not events:
            raise InvalidEvent("append needs at least one event")
        if expected_version is not ANY and (
            not isinstance(expected_version, int) or expected_version < 0
        ):
            raise InvalidEvent(f"expected version must be ANY or an int >= 0, "
                               f"not {expected_version!r}")
        prepared = [
            (_name(e.type, "event type"), *_json_text(e.payload, "payload"),
             *_json_text(e.metadata, "metadata"),
             None if e.recorded_at is None else us_from_instant(e.recorded_at))
            for e in events
        ]
        heads.pop(stream_id, None)
        batch = getattr(self._batch, "conn", None)
        if batch is not None:  # an error other than a refusal aborts the whole batch
            with self._guard():
                return self._append_in(batch, stream_id, stream_type, prepared,
                                       expected_version)
        try:
            with self._writer.transaction() as dbapi:
                written = self._append_in(dbapi, stream_id, stream_type, prepared,
                                          expected_version)
        except Exception as e:
            error = self._append_error(e, stream_id, expected_version)
            if error is None:
                raise
            raise error from e
        if self._remember_heads:
            if len(heads) >= _MAX_CACHED_HEADS:
                heads.clear()
            heads[stream_id] = (written[-1].version, written[-1].hash, stream_type)
        return written

    def _append_error(self, e: Exception, stream_id: str,
                      expected_version: ExpectedVersion) -> StoreError | None:
        """The error an append that failed with ``e`` raises instead (None: ``e`` itself)."""
        if is_integrity_error(e):
            # Only reachable if a writer bypassed the lock: the unique (stream, version)
            # key still refuses the duplicate, and the caller learns the truth.
            info = self.stream(stream_id)
            return ConcurrencyError(stream_id, expected_version, info.version if info else 0)
        return self._store_error(e)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Appends and snapshots on this thread share one locked write transaction until the
        block ends: one commit (one fsync) for many commands, which is what makes seeding
        100k orders fast. The block's appends are acknowledged when it ends; an error that
        is not a refusal (ConcurrencyError and the like are checked before anything is written)
        rolls the whole block back. Nobody else can write meanwhile, so a caller may trust
        states it keeps in memory. Reads on other connections see the batch only after it.
        """
        if self.read_only:
            raise StoreReadOnly("append")
        if getattr(self._batch, "conn", None) is not None:
            raise StoreError("store batches do not nest")
        with self._guard(), self._writer.transaction() as dbapi:
            self._batch.conn = dbapi
            self._batch_thread = threading.get_ident()
            try:
                yield
            finally:
                self._batch.conn = None
                self._batch_thread = None

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Rows of one driver query: the hot read paths skip SQLAlchemy's statement building.

        Inside a batch on this thread the query runs in the batch, so it sees the batch's writes.
        """
        batch = getattr(self._batch, "conn", None)
        with self._guard(), (nullcontext(batch) if batch is not None else self._raw()) as dbapi:
            cur = dbapi.cursor()
            try:
                cur.execute(sql, params)
                rows = cur.fetchall()
            finally:
                cur.close()
            if batch is None:
                dbapi.rollback()  # PostgreSQL opened a transaction for the read; end it
        return rows

    @contextmanager
    def _raw(self) -> Iterator[Any]:
        """The bare driver connection of a pooled connection, returned to the pool after."""
        pooled = self._engine.raw_connection()
        try:
            yield pooled.dbapi_connection
        finally:
            pooled.close()

    def _append_known(self, stream_id: str, stream_type: str, event: NewEvent,
                      known: tuple[int, str, str]) -> RecordedEvent:
        """One event onto a head this store remembers, without reading it first.

        The memory is checked where it matters, inside the transaction: the event's (stream,
        version) key is unique, and the stream row moves only if it still holds the version,
        hash and type remembered. Either check failing (another writer, a rolled-back batch,
        an edited row) raises _StaleHead, nothing is written, and the caller appends again
        with the read. So what commits here is exactly what the read path would have
        committed: the same head, and the position SQLite allocates, max + 1, is the one the
        read would have found. SQLite only (the writer is the SQLite one). A durable append
        runs it between two fsyncs, with the CPU's caches cold, where every function call
        costs about twice its warm time: so it is one flat method from the event to the
        returned record, with no layers between them.
        """
        type_ = _name(event.type, "event type")
        payload, read_payload = _json_text(event.payload, "payload")
        meta, read_meta = _json_text(event.metadata, "metadata")
        at = event.recorded_at
        recorded = time.time_ns() // 1000 if at is None else us_from_instant(at)
        current, previous, _ = known
        version = current + 1
        hasher = self._hasher
        digest = hasher.hash_text(previous, stream_id, version, type_, hasher.iso(recorded),
                                  payload, meta)
        sql = self._sql
        with self._writer as dbapi:
            cur = dbapi.cursor()
            try:
                try:
                    cur.execute(sql.insert_next_event, (stream_id, stream_type, version, type_,
                                                        recorded, payload, meta, digest))
                except Exception as e:
                    if is_integrity_error(e):
                        raise _StaleHead from e
                    raise
                position = cur.lastrowid
                cur.execute(sql.advance_stream, (version, digest, recorded, stream_id, current,
                                                 previous, stream_type))
                if cur.rowcount != 1:
                    raise _StaleHead
            finally:
                cur.close()
        self._heads[stream_id] = (version, digest, stream_type)
        return RecordedEvent(position, stream_id, stream_type, version, type_,
                             instant_from_us(recorded), read_payload(payload),
                             {} if meta == "{}" else read_meta(meta), digest)

    def _append_in(
        self, dbapi: Any, stream_id: str, stream_type: str,
        prepared: Sequence[tuple[str, str, Callable[[str], Any], str, Callable[[str], Any],
                                 int | None]],
        expected: ExpectedVersion,
    ) -> list[RecordedEvent]:
        sql = self._sql
        cur = dbapi.cursor()
        try:
            cur.execute(sql.head_and_position, (stream_id,))
            version, previous, known_type, position = cur.fetchone()
            head = version is not None
            current = version if head else 0
            if expected is not ANY and expected != current:
                raise ConcurrencyError(stream_id, expected, current)
            if head and known_type != stream_type:
                raise StreamTypeMismatch(
                    f"stream {stream_id!r} is a {known_type!r} stream, not {stream_type!r}")
            if not head:
                previous = ""
            now = time.time_ns() // 1000
            hasher = self._hasher
            rows = []
            for offset, (type_, payload, _, meta, _, at) in enumerate(prepared, start=1):
                version = current + offset
                recorded = now if at is None else at
                digest = hasher.hash_text(previous, stream_id, version, type_,
                                          hasher.iso(recorded), payload, meta)
                rows.append((position + offset, stream_id, stream_type, version, type_,
                             recorded, payload, meta, digest))
                previous = digest
            if len(rows) == 1:
                cur.execute(sql.insert_event, rows[0])
            else:
                cur.executemany(sql.insert_event, rows)
            single = len(rows) == 1
            last_at = rows[0][5] if single else max(r[5] for r in rows)
            if head:
                cur.execute(sql.update_stream, (rows[-1][3], previous, last_at, stream_id))
            else:
                cur.execute(sql.insert_stream, (stream_id, stream_type, rows[-1][3], previous,
                                                last_at if single else min(r[5] for r in rows),
                                                last_at))
        finally:
            cur.close()
        # Read back from the texts just written (what a read would return), each with the
        # decoder its encoder chose; positional arguments, the cheapest way to build them.
        return [RecordedEvent(r[0], stream_id, stream_type, r[3], r[4], instant_from_us(r[5]),
                              read_payload(r[6]), {} if r[7] == "{}" else read_meta(r[7]), r[8])
                for r, (_, _, read_payload, _, read_meta, _) in zip(rows, prepared, strict=True)]

    # -- reads -----------------------------------------------------------------------------
    def read_stream(
        self, stream_id: str, from_version: int = 1, to_version: int | None = None,
        *, until: datetime | None = None,
    ) -> list[RecordedEvent]:
        """A stream's events in version order, optionally up to a version or an instant."""
        query = select(*_EVENT_COLUMNS).where(
            s.events.c.stream_id == stream_id, s.events.c.version >= from_version)
        if to_version is not None:
            query = query.where(s.events.c.version <= to_version)
        if until is not None:
            query = query.where(s.events.c.recorded_at <= us_from_instant(until))
        with self.read_connection() as conn:
            rows = conn.execute(query.order_by(s.events.c.version)).all()
        return [_row_to_event(r) for r in rows]

    def read_payloads(
        self, stream_id: str, from_version: int = 1, to_version: int | None = None,
        *, until: datetime | None = None,
    ) -> list[tuple[int, str, Any]]:
        """(version, type, payload) of a stream's events, in version order: what a fold needs.

        The replay hot path: one driver query, only the payload decoded (no metadata, no
        datetime objects), so reading costs about what a hand-written sqlite3 loop costs.
        """
        sql = self._sql.read_payloads
        params: list[Any] = [stream_id, from_version]
        if to_version is not None:
            sql += f" AND version <= {self._sql.mark}"
            params.append(to_version)
        if until is not None:
            sql += f" AND recorded_at <= {self._sql.mark}"
            params.append(us_from_instant(until))
        sql += " ORDER BY version"
        return [(v, t, decode_json(p)) for v, t, p in self._read(sql, params)]

    def iter_events(
        self, after_position: int = 0, *, to_position: int | None = None,
        stream_ids: Iterable[str] | None = None, stream_types: Iterable[str] | None = None,
        event_types: Iterable[str] | None = None, since: datetime | None = None,
        until: datetime | None = None, page_size: int = 1000,
    ) -> Iterator[RecordedEvent]:
        """Every matching event after a position, in position order, fetched page by page.

        Projections catch up with ``iter_events(after_position=checkpoint)``. Only one page is
        in memory at a time, so this walks a store of any size.
        """
        filters = _filters(self._sql.mark, to_position, stream_ids, stream_types, event_types,
                           since, until)
        for page in self._pages(_RAW_EVENT_COLUMNS, filters, after_position, page_size):
            for row in page:
                yield _row_to_event(row)

    def _pages(self, columns: Sequence[str] | Callable[[], tuple[Sequence[str], list[Any]]],
               filters: tuple[list[str], list[Any]], after_position: int, page_size: int
               ) -> Iterator[list[tuple[Any, ...]]]:
        """Pages of rows in position order; each page is one short read (keyset, not OFFSET).

        Driver SQL, not SQLAlchemy statements: a million-row walk (verify, export, the
        timeline) spends its time in the rows, not in building and wrapping them.
        ``columns`` must start with the position; a callable gives them (and their parameters)
        afresh for every page.
        """
        clauses, params = filters
        mark = self._sql.mark
        where = " AND ".join([f"position > {mark}", *clauses])
        last = after_position
        while True:
            chosen, column_params = columns() if callable(columns) else (columns, [])
            sql = (f"SELECT {', '.join(chosen)} FROM events WHERE {where} "
                   f"ORDER BY position LIMIT {int(page_size)}")
            rows = self._read(sql, [*column_params, last, *params])
            if rows:
                yield rows
            if len(rows) < page_size:
                return
            last = rows[-1][0]

    def iter_event_heads(self, after_position: int = 0, page_size: int = 20_000, *,
                         to_position: int | None = None,
                         ) -> Iterator[list[tuple[int, str, str, int, str, int]]]:
        """Pages of (position, stream_id, stream_type, version, type, recorded_at_us).

        No payloads are read or decoded.
        """
        filters = _filters(self._sql.mark, to_position, None, None, None, None, None)
        yield from self._pages(_HEAD_COLUMNS, filters, after_position,  # type: ignore[misc]
                               page_size)

    def iter_event_codes(self, stream_types: Sequence[str], event_types: Sequence[str],
                         after_position: int = 0, page_size: int = 50_000,
                         ) -> Iterator[list[tuple[int, int, int, int]]]:
        """Pages of (position, recorded_at_us, stream type code, event type code): code k
        stands for ``names[k - 1]``, 0 for a name not in the list.

        This is how a timeline reads a million events in well under a second: the database
        turns the few distinct names into small integers (which Python does not even allocate)
        instead of handing over two strings per event. The lists are read again for every
        page, so a caller that appends the names it meets gets codes for them from then on.
        """
        mark = self._sql.mark

        def columns() -> tuple[list[str], list[Any]]:
            picked = ["position", "recorded_at"]
            params: list[Any] = []
            for column, names in (("stream_type", stream_types), ("type", event_types)):
                whens = " ".join(f"WHEN {mark} THEN {k}" for k in range(1, len(names) + 1))
                picked.append(f"CASE {column} {whens} ELSE 0 END" if names else "0")
                params.extend(names)
            return picked, params

        yield from self._pages(columns, ([], []), after_position, page_size)  # type: ignore[misc]

    def iter_raw_events(
        self, after_position: int = 0, *, to_position: int | None = None,
        stream_ids: Iterable[str] | None = None, stream_types: Iterable[str] | None = None,
        event_types: Iterable[str] | None = None, since: datetime | None = None,
        until: datetime | None = None, page_size: int = 5000,
    ) -> Iterator[tuple[int, str, str, int, str, int, str, str, str]]:
        """Rows exactly as stored (payload and metadata as their canonical text).

        Verify hashes these bytes and export splices them into its lines without decoding.
        """
        filters = _filters(self._sql.mark, to_position, stream_ids, stream_types, event_types,
                           since, until)
        for page in self._pages(_RAW_EVENT_COLUMNS, filters, after_position, page_size):
            yield from page  # type: ignore[misc]

    def iter_event_payloads(
        self, after_position: int = 0, *, to_position: int | None = None,
        stream_types: Iterable[str] | None = None, page_size: int = 5000,
    ) -> Iterator[EventPayload]:
        """What a read model needs of each event: no metadata decoded, no datetime built.

        Catching a read model up on a seeded store walks ~700k events; building a whole
        ``RecordedEvent`` for each would be a third of that walk.
        """
        filters = _filters(self._sql.mark, to_position, None, stream_types, None, None, None)
        for page in self._pages(_PAYLOAD_COLUMNS, filters, after_position, page_size):
            for pos, sid, stype, version, type_, at, payload in page:
                yield EventPayload(pos, sid, stype, version, type_, at, decode_json(payload))

    def import_rows(
        self, rows: Iterable[ImportRow], *, progress: Callable[[int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ImportSummary:
        """Store a whole file of new streams in one transaction: all of it, or nothing."""
        if self.read_only:
            raise StoreReadOnly("import")
        with collector_paused(), self.write_transaction(lock=True) as conn:
            return import_rows(conn, self._backend.name, rows, progress, cancelled)

    def stream(self, stream_id: str) -> StreamInfo | None:
        """A stream's head (inside a batch, as the batch left it). Driver SQL: every command
        starts here."""
        rows = self._read(self._sql.stream, (stream_id,))
        return _row_to_stream(rows[0]) if rows else None

    def streams(
        self, stream_type: str | None = None, *, after_id: str | None = None,
        limit: int | None = None,
    ) -> list[StreamInfo]:
        """The stream list in id order; page with ``after_id`` and ``limit``."""
        query = select(*s.streams.c)
        if stream_type is not None:
            query = query.where(s.streams.c.stream_type == stream_type)
        if after_id is not None:
            query = query.where(s.streams.c.stream_id > after_id)
        query = query.order_by(s.streams.c.stream_id)
        if limit is not None:
            query = query.limit(limit)
        with self.read_connection() as conn:
            rows = conn.execute(query).all()
        return [_row_to_stream(r) for r in rows]

    def stream_heads(self, stream_type: str | None = None) -> list[tuple[str, int, str]]:
        """(stream id, version, head hash) of every stream (of a type): what verify compares
        with the chains, read in one query instead of 100k StreamInfo objects."""
        mark = self._sql.mark
        where = f" WHERE stream_type = {mark}" if stream_type is not None else ""
        return self._read(f"SELECT stream_id, version, head_hash FROM streams{where}",
                          [stream_type] if stream_type is not None else [])  # type: ignore[return-value]

    def counts(self) -> tuple[int, int]:
        """(events, streams), counted: what a status bar shows after every command, without
        the per-type breakdown of ``stats`` (a third of a second on a million events)."""
        events, streams = self._read(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM streams)", [])[0]
        return int(events), int(streams)

    def positions_of(self, stream_id: str) -> list[int]:
        """A stream's event positions in version order, without reading the events."""
        mark = self._sql.mark
        return [row[0] for row in self._read(
            f"SELECT position FROM events WHERE stream_id = {mark} ORDER BY version",
            [stream_id])]

    def first_version_after(self, stream_id: str, instant: datetime) -> int | None:
        """The lowest version of a stream recorded after an instant (None if none is)."""
        mark = self._sql.mark
        rows = self._read(f"SELECT min(version) FROM events WHERE stream_id = {mark} "
                          f"AND recorded_at > {mark}", [stream_id, us_from_instant(instant)])
        return rows[0][0] if rows and rows[0][0] is not None else None

    def head_position(self) -> int:
        with self.read_connection() as conn:
            return int(conn.execute(
                select(func.coalesce(func.max(s.events.c.position), 0))).scalar() or 0)

    def stats(self) -> StoreStats:
        with self.read_connection() as conn:
            events = conn.execute(select(func.count()).select_from(s.events)).scalar() or 0
            head = conn.execute(select(func.coalesce(func.max(s.events.c.position), 0))).scalar()
            by_stream_type = dict(conn.execute(
                select(s.streams.c.stream_type, func.count()).group_by(s.streams.c.stream_type)
            ).all())
            by_event_type = dict(conn.execute(
                select(s.events.c.type, func.count()).group_by(s.events.c.type)).all())
            n_snapshots = conn.execute(select(func.count()).select_from(s.snapshots)).scalar()
        return StoreStats(events=int(events), streams=sum(by_stream_type.values()),
                          head_position=int(head or 0), snapshots=int(n_snapshots or 0),
                          streams_by_type=by_stream_type, events_by_type=by_event_type)

    # -- snapshots -------------------------------------------------------------------------
    def save_snapshot(self, stream_id: str, version: int, state: dict[str, Any]) -> None:
        """Cache a state at a version that exists; a snapshot never changes the history."""
        if self.read_only:
            raise StoreReadOnly("snapshot")
        text = _json_object(state, "snapshot state")
        batch = getattr(self._batch, "conn", None)
        with self._guard(), (nullcontext(batch) if batch is not None
                             else self._writer.transaction()) as dbapi:
            cur = dbapi.cursor()
            try:
                cur.execute(self._sql.head, (stream_id,))
                head = cur.fetchone()
                if head is None or not 1 <= version <= head[0]:
                    raise InvalidEvent(f"cannot snapshot {stream_id!r} at version {version}: "
                                       f"the stream is at {head[0] if head else 0}")
                cur.execute(self._sql.delete_snapshot, (stream_id, version))
                cur.execute(self._sql.insert_snapshot, (stream_id, version, text))
            finally:
                cur.close()

    def load_snapshot(self, stream_id: str, at_or_below: int | None = None) -> Snapshot | None:
        """The latest snapshot at or below a version (or the latest of all)."""
        query = select(s.snapshots.c.version, s.snapshots.c.state).where(
            s.snapshots.c.stream_id == stream_id)
        if at_or_below is not None:
            query = query.where(s.snapshots.c.version <= at_or_below)
        with self.read_connection() as conn:
            row = conn.execute(query.order_by(s.snapshots.c.version.desc()).limit(1)).first()
        return Snapshot(stream_id, row[0], json.loads(row[1])) if row else None

    def iter_snapshots(self) -> Iterator[Snapshot]:
        last: tuple[str, int] = ("", 0)
        while True:
            query = (select(s.snapshots.c.stream_id, s.snapshots.c.version, s.snapshots.c.state)
                     .where((s.snapshots.c.stream_id > last[0]) | and_(
                         s.snapshots.c.stream_id == last[0], s.snapshots.c.version > last[1]))
                     .order_by(s.snapshots.c.stream_id, s.snapshots.c.version).limit(500))
            with self.read_connection() as conn:
                rows = conn.execute(query).all()
            for row in rows:
                yield Snapshot(row[0], row[1], json.loads(row[2]))
            if len(rows) < 500:
                return
            last = (rows[-1][0], rows[-1][1])

    # -- checkpoints -----------------------------------------------------------------------
    def checkpoint(self, name: str, conn: Connection | None = None) -> int:
        """The position a projection has processed up to (0 if it never ran)."""
        query = select(s.checkpoints.c.position).where(s.checkpoints.c.name == name)
        if conn is not None:
            return int(conn.execute(query).scalar() or 0)
        with self.read_connection() as c:
            return int(c.execute(query).scalar() or 0)

    def set_checkpoint(self, conn: Connection, name: str, position: int) -> None:
        """Move a checkpoint inside the caller's transaction (with the read-model rows)."""
        done = conn.execute(update(s.checkpoints).where(s.checkpoints.c.name == name)
                            .values(position=position)).rowcount
        if not done:
            conn.execute(insert(s.checkpoints).values(name=name, position=position))
