"""The esaudit event store: a small facade over the jobs it is made of.

``Appender`` (store.appending) is the only code that writes events and stream heads;
``Reader`` (store.reading) every read; ``Snapshots`` (store.snapshots) the cached states;
``Connections`` (store.connections) the transactions, the batch a thread holds open and the
translation of driver errors. The facade adds what belongs to the store as a whole: opening
(and refusing what is not an esaudit store), the schema, the read-model tables and their
checkpoints, and the read protocol's identity and capabilities (store.protocol).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .appending import Appender
from .backends import APPEND_LOCK_KEY, Backend, backend_for, sqlite_path, translate
from .connections import Connections
from .errors import SchemaTooNew, StoreOpenError, StoreReadOnly
from .fold_snapshots import FoldSnapshots
from .gcpause import collector_paused
from .origins import (
    origin_of,
    read_origins,
    record_import,
    stream_origins,
    upgrade_to_v2,
)
from .protocol import Capabilities, SourceIdentity
from .reading import Reader, StreamHalf
from .records import (
    ANY,
    EventPayload,
    EventRow,
    ExpectedVersion,
    FoldSnapshot,
    MinuteCounts,
    NewEvent,
    Origins,
    RecordedEvent,
    Snapshot,
    StoreStats,
    StreamInfo,
)
from .schema_meta import SCHEMA_VERSION, SCHEMA_VERSION_KEY, TIMELINE_MINUTES_THROUGH
from .search import EventSearch
from .searching import Searcher
from .snapshots import Snapshots
from .sqlite_look import look
from .stream_browser import Annotation, SortKey, StreamBrowser, StreamPageRow
from .timeline_minutes import TimelineMinutes
from .tracing import (
    SQLITE_FINDS_CORRELATION_INDEX,
    create_correlation_index,
    drop_correlation_index,
    upgrade_to_v3,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection, MetaData

    from .bulk import ImportRow, ImportSummary, ImportTuple


def open_store(
    target: str | Path, *, read_only: bool = False, create: bool = True,
    synchronous: str = "FULL", busy_timeout_s: float = 30.0,
) -> EventStore:
    """Open the store at a path or SQLAlchemy URL; with ``create`` (and not read-only) a
    missing or empty target becomes a new store, without it that is refused (``no store at``).

    A SQLite file is looked at without any write first (store.sqlite_look), so a file that is
    not an esaudit store is refused and left exactly as it was, side files included. Opening
    an existing store reads its schema version with driver SQL: SQLAlchemy loads only when
    something needs it (store.connections).
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
    version = found.meta.get(SCHEMA_VERSION_KEY)
    if version is not None:
        if int(version) > SCHEMA_VERSION:
            raise SchemaTooNew(int(version), SCHEMA_VERSION)
        return
    _refuse_unless_creatable(str(path), found.tables, read_only=read_only, create=create)


def _refuse_unless_creatable(label: str, tables: Iterable[str], *, read_only: bool,
                             create: bool) -> None:
    """A database without esaudit's schema may become a store only if it is empty and this
    open is one that creates."""
    from . import schema as s

    foreign = set(tables) - set(s.metadata.tables)
    if foreign:
        raise StoreOpenError(f"{label} is a database but not an esaudit store "
                             f"(it has tables: {', '.join(sorted(foreign)[:5])})")
    if read_only:
        raise StoreOpenError(f"{label} holds no esaudit store (opened read-only, so it was "
                             "not created)")
    if not create:
        raise StoreOpenError(f"no store at {label}")


class EventStore:
    """Append, read and snapshot event streams on SQLite or PostgreSQL.

    Every method opens and closes its own short transaction, so one store object can be shared
    by threads (the desktop app's workers) and by several processes on the same database.
    """

    def __init__(self, backend: Backend, *, read_only: bool) -> None:
        self._backend = backend
        self.read_only = read_only
        self._c = Connections(backend, read_only=read_only)
        self._reader = Reader(self._c)
        self._appender = Appender(self._c, self._reader.stream)
        self._snapshots = Snapshots(self._c)
        self._fold_snapshots = FoldSnapshots(self._c, lambda: self.schema_version)
        self._timeline_minutes = TimelineMinutes(self._c, lambda: self.schema_version)
        self._browser = StreamBrowser(self._c)
        self._searcher = Searcher(self._c)
        self.identity = SourceIdentity("esaudit", backend.label)
        self.schema_version = SCHEMA_VERSION
        self.capabilities = Capabilities(hash_chain=True, snapshots=True,
                                         writable=not read_only, live=True)

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

    def refresh(self) -> None:
        """Nothing to do: every read is a fresh transaction, so appends are always seen."""

    def close(self) -> None:
        self._c.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _prepare_schema(self, *, create: bool = True) -> None:
        with self._c.reads() as q:
            tables = {row[0] for row in q.rows(self._c.sql.table_names)}
            found = q.value(f"SELECT value FROM es_meta WHERE key = {q.mark}",
                            [SCHEMA_VERSION_KEY]) if "es_meta" in tables else None
            index_lost = (found is not None and int(found) >= 3 and not self.read_only
                          and self._backend.name == "sqlite"
                          and q.value(SQLITE_FINDS_CORRELATION_INDEX) is None)
        if found is not None:
            version = int(found)
            if version > SCHEMA_VERSION:
                raise SchemaTooNew(version, SCHEMA_VERSION)
            if version < SCHEMA_VERSION and not self.read_only:
                version = self._upgrade()
            if index_lost:  # a seed killed before it built the index again (store.tracing)
                with self.write_transaction(lock=True) as conn:
                    create_correlation_index(conn)
            self.schema_version = version
            self._backend.adopt()
            return
        _refuse_unless_creatable(self.label, tables, read_only=self.read_only, create=create)
        self._create_schema()
        self._backend.adopt()

    def _create_schema(self) -> None:
        """Make the tables of a new store, in one locked transaction (a second process
        creating the same store at the same time finds them made)."""
        from sqlalchemy import insert, select

        from . import schema as s

        with self.write_transaction(lock=True) as conn:
            s.metadata.create_all(conn)
            create_correlation_index(conn)
            exists = conn.execute(
                select(s.meta.c.value).where(s.meta.c.key == SCHEMA_VERSION_KEY)
            ).scalar()
            if exists is None:
                conn.execute(insert(s.meta).values(key=SCHEMA_VERSION_KEY,
                                                   value=str(SCHEMA_VERSION)))
                conn.execute(insert(s.meta).values(key=TIMELINE_MINUTES_THROUGH, value="0"))

    def _upgrade(self) -> int:
        """Bring an older schema up to this one, in one locked transaction (a second
        process opening the store at the same time finds it done)."""
        from sqlalchemy import select, update

        from . import schema as s

        with self.write_transaction(lock=True) as conn:
            version = int(conn.execute(select(s.meta.c.value)
                                       .where(s.meta.c.key == SCHEMA_VERSION_KEY)).scalar_one())
            if version < 2:
                upgrade_to_v2(conn)
            if version < 3:
                upgrade_to_v3(conn)
            if version < 4:
                s.fold_snapshots.create(conn, checkfirst=True)
            if version < 5:
                s.timeline_minutes.create(conn, checkfirst=True)
            conn.execute(update(s.meta).where(s.meta.c.key == SCHEMA_VERSION_KEY)
                         .values(value=str(SCHEMA_VERSION)))
        return SCHEMA_VERSION

    # -- transactions ----------------------------------------------------------------------
    def write_transaction(self, *, lock: bool = False, lock_key: int = APPEND_LOCK_KEY
                          ) -> AbstractContextManager[Connection]:
        """One write transaction; with ``lock`` it is serialized with every other locked writer.

        Projections use this to update a read model and its checkpoint atomically.
        """
        return self._c.write_transaction(lock=lock, lock_key=lock_key)

    def read_connection(self) -> AbstractContextManager[Connection]:
        """A connection for a consistent read (one snapshot of the database)."""
        return self._c.read_connection()

    def batch(self) -> AbstractContextManager[None]:
        """Appends and snapshots on this thread share one locked write transaction until the
        block ends: one commit (one fsync) for many commands, which is what makes seeding
        100k orders fast. The block's appends are acknowledged when it ends; an error that
        is not a refusal (ConcurrencyError and the like are checked before anything is written)
        rolls the whole block back. Nobody else can write meanwhile, so a caller may trust
        states it keeps in memory. Reads on other connections see the batch only after it.
        """
        return self._c.batch()

    @contextmanager
    def bulk_appends(self) -> Iterator[None]:
        """Many appends to come (a seed): in an empty SQLite store the correlation index is
        dropped while they run and built once over the events at the end, which saves about
        a tenth of a seed's time (``store.tracing``). A trace meanwhile scans and still
        answers; a process killed meanwhile leaves the index to the next writable open."""
        dropped = False
        if self._backend.name == "sqlite" and not self.read_only:
            with self.write_transaction(lock=True) as conn:
                empty = conn.exec_driver_sql("SELECT 1 FROM events LIMIT 1").first() is None
                dropped = empty and drop_correlation_index(conn)
        try:
            yield
        except BaseException:
            if dropped:
                with suppress(Exception):  # the appends' own error is the one to see;
                    self._build_correlation_index()  # the next writable open builds it
            raise
        if dropped:
            self._build_correlation_index()

    def _build_correlation_index(self) -> None:
        with self.write_transaction(lock=True) as conn:
            create_correlation_index(conn)

    def has_tables(self, names: list[str]) -> bool:
        return set(names) <= {row[0] for row in self._c.read(self._c.sql.table_names, [])}

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
    def append(self, stream_id: str, stream_type: str, events: Sequence[NewEvent],
               expected_version: ExpectedVersion = ANY) -> list[RecordedEvent]:
        """Append events atomically; all are stored or none (ConcurrencyError on a mismatch)."""
        return self._appender.append(stream_id, stream_type, events, expected_version)

    def import_rows(
        self, rows: Iterable[ImportRow | ImportTuple], *,
        progress: Callable[[int], None] | None = None, cancelled: Callable[[], bool] | None = None,
        source: str = "",
    ) -> ImportSummary:
        """Store a whole file of new streams in one transaction: all of it, or nothing. The
        positions it wrote are recorded as imported from ``source`` (see ``origins``)."""
        if self.read_only:
            raise StoreReadOnly("import")
        from .bulk import import_page_cache, import_rows

        into_empty = self._backend.name == "sqlite" and self.head_position() == 0
        with (self._c.rollback_journal() if into_empty else nullcontext(), collector_paused(),
              self._c.write_transaction(lock=True) as conn,
              import_page_cache(conn, self._backend.name)):
            summary = import_rows(conn, self._backend.name, rows, progress, cancelled)
            record_import(conn, summary.first_position, summary.last_position, source)
        self._backend.settle(summary.events)
        return summary

    def origins(self) -> Origins:
        with self._c.reads() as q:
            return read_origins(q, self.schema_version)

    def origin_of(self, stream_id: str) -> str:
        with self._c.reads() as q:
            return origin_of(q, self.schema_version, stream_id)

    def stream_origins(self, stream_type: str | None = None) -> dict[str, str]:
        with self._c.reads() as q:
            return stream_origins(q, self.schema_version, stream_type)

    # -- reads (store.reading) -------------------------------------------------------------
    def read_stream(self, stream_id: str, from_version: int = 1,
                    to_version: int | None = None, *, until: datetime | None = None,
                    ) -> list[RecordedEvent]:
        return self._reader.read_stream(stream_id, from_version, to_version, until=until)

    def read_payloads(self, stream_id: str, from_version: int = 1,
                      to_version: int | None = None, *, until: datetime | None = None,
                      ) -> list[tuple[int, str, Any]]:
        return self._reader.read_payloads(stream_id, from_version, to_version, until=until)

    def iter_events(self, after_position: int = 0, *, to_position: int | None = None,
                    stream_ids: Iterable[str] | None = None,
                    stream_types: Iterable[str] | None = None,
                    event_types: Iterable[str] | None = None, since: datetime | None = None,
                    until: datetime | None = None, page_size: int = 1000,
                    ) -> Iterator[RecordedEvent]:
        return self._reader.iter_events(
            after_position, to_position=to_position, stream_ids=stream_ids,
            stream_types=stream_types, event_types=event_types, since=since, until=until,
            page_size=page_size)

    def iter_raw_events(self, after_position: int = 0, *, to_position: int | None = None,
                        stream_ids: Iterable[str] | None = None,
                        stream_types: Iterable[str] | None = None,
                        event_types: Iterable[str] | None = None,
                        since: datetime | None = None, until: datetime | None = None,
                        page_size: int = 5000, stream_half: StreamHalf | None = None,
                        ) -> Iterator[EventRow]:
        return self._reader.iter_raw_events(
            after_position, to_position=to_position, stream_ids=stream_ids,
            stream_types=stream_types, event_types=event_types, since=since, until=until,
            page_size=page_size, stream_half=stream_half)

    def iter_event_payloads(self, after_position: int = 0, *, to_position: int | None = None,
                            stream_types: Iterable[str] | None = None, page_size: int = 5000,
                            ) -> Iterator[EventPayload]:
        return self._reader.iter_event_payloads(after_position, to_position=to_position,
                                                stream_types=stream_types,
                                                page_size=page_size)

    def iter_event_heads(self, after_position: int = 0, page_size: int = 20_000, *,
                         to_position: int | None = None,
                         ) -> Iterator[list[tuple[int, str, str, int, str, int]]]:
        return self._reader.iter_event_heads(after_position, page_size,
                                             to_position=to_position)

    def iter_event_codes(self, stream_types: Sequence[str], event_types: Sequence[str],
                         after_position: int = 0, page_size: int = 50_000,
                         ) -> Iterator[list[tuple[int, int, int, int]]]:
        return self._reader.iter_event_codes(stream_types, event_types, after_position,
                                             page_size)

    def stream(self, stream_id: str) -> StreamInfo | None:
        return self._reader.stream(stream_id)

    def streams(self, stream_type: str | None = None, *, after_id: str | None = None,
                limit: int | None = None) -> list[StreamInfo]:
        return self._reader.streams(stream_type, after_id=after_id, limit=limit)

    def stream_heads(self, stream_type: str | None = None,
                     stream_half: StreamHalf | None = None) -> list[tuple[str, int, str]]:
        return self._reader.stream_heads(stream_type, stream_half)

    def stream_pivot(self) -> tuple[str, int, int] | None:
        return self._reader.stream_pivot()

    def stream_types(self) -> list[str]:
        return self._reader.stream_types()

    def counts(self) -> tuple[int, int]:
        return self._reader.counts()

    def positions_of(self, stream_id: str) -> list[int]:
        return self._reader.positions_of(stream_id)

    def first_version_after(self, stream_id: str, instant: datetime) -> int | None:
        return self._reader.first_version_after(stream_id, instant)

    def head_position(self) -> int:
        return self._reader.head_position()

    def stats(self) -> StoreStats:
        return self._reader.stats()

    def timeline_minutes(self, max_rows: int | None = None) -> MinuteCounts | None:
        return self._timeline_minutes.read(max_rows)

    # -- investigating (store.searching) ---------------------------------------------------
    def search_events(self, search: EventSearch, *, after_position: int = 0,
                      limit: int = 1000) -> list[RecordedEvent]:
        return self._searcher.search_events(search, after_position=after_position,
                                            limit=limit)

    def correlated_events(self, correlation_id: str, *, limit: int = 10_000,
                          ) -> list[RecordedEvent]:
        return self._searcher.correlated_events(correlation_id, limit=limit)

    # -- the stream browser (store.stream_browser) -----------------------------------------
    def stream_rows(self, text: str | None = None, stream_type: str | None = None, *,
                    sort: SortKey = "stream_id", descending: bool = False, offset: int = 0,
                    limit: int | None = None, annotation: Annotation | None = None,
                    ) -> list[StreamPageRow]:
        return self._browser.rows(text, stream_type, sort=sort, descending=descending,
                                  offset=offset, limit=limit, annotation=annotation)

    def count_streams(self, text: str | None = None, stream_type: str | None = None, *,
                      annotation: Annotation | None = None) -> int:
        return self._browser.count(text, stream_type, annotation)

    def stream_row_number(self, stream_id: str, text: str | None = None,
                          stream_type: str | None = None, *, sort: SortKey = "stream_id",
                          descending: bool = False, annotation: Annotation | None = None,
                          ) -> int | None:
        return self._browser.row_number(stream_id, text, stream_type, sort=sort,
                                        descending=descending, annotation=annotation)

    # -- snapshots (store.snapshots) -------------------------------------------------------
    def save_snapshot(self, stream_id: str, version: int, state: dict[str, Any]) -> None:
        self._snapshots.save_snapshot(stream_id, version, state)

    def load_snapshot(self, stream_id: str, at_or_below: int | None = None) -> Snapshot | None:
        return self._snapshots.load_snapshot(stream_id, at_or_below)

    def iter_snapshots(self) -> Iterator[Snapshot]:
        return self._snapshots.iter_snapshots()

    # -- fold snapshots (store.fold_snapshots) ---------------------------------------------
    def save_fold_snapshots(self, stream_id: str, fold: str,
                            states: Sequence[tuple[int, dict[str, Any]]]) -> int:
        return self._fold_snapshots.save(stream_id, fold, states)

    def load_fold_snapshot(self, stream_id: str, fold: str, at_or_below: int | None = None
                           ) -> Snapshot | None:
        return self._fold_snapshots.load(stream_id, fold, at_or_below)

    def iter_fold_snapshots(self) -> Iterator[FoldSnapshot]:
        return self._fold_snapshots.iter_all()

    def long_streams(self, first_position: int, last_position: int, at_least: int
                     ) -> list[tuple[str, str]]:
        return self._fold_snapshots.long_streams(first_position, last_position, at_least)

    # -- checkpoints -----------------------------------------------------------------------
    def checkpoint(self, name: str, conn: Connection | None = None) -> int:
        """The position a projection has processed up to (0 if it never ran); with ``conn``,
        as the caller's transaction sees it."""
        sql, params = f"SELECT position FROM checkpoints WHERE name = {self._c.sql.mark}", (name,)
        if conn is not None:
            return int(conn.exec_driver_sql(sql, params).scalar() or 0)
        rows = self._c.read(sql, params)
        return int(rows[0][0] or 0) if rows else 0

    def set_checkpoint(self, conn: Connection, name: str, position: int) -> None:
        """Move a checkpoint inside the caller's transaction (with the read-model rows)."""
        m = self._c.sql.mark
        done = conn.exec_driver_sql(f"UPDATE checkpoints SET position = {m} WHERE name = {m}",
                                    (position, name)).rowcount
        if not done:
            conn.exec_driver_sql(f"INSERT INTO checkpoints (name, position) VALUES ({m}, {m})",
                                 (name, position))
