"""A store written by the Python ``eventsourcing`` library, read where it is.

Tables (from the library's own recorders):

- ``eventsourcing.sqlite``: ``stored_events`` (a rowid table; the rowid is the notification
  id) and ``stored_snapshots``; ids are UUID hex without dashes, or text with
  ``ORIGINATOR_ID_TYPE=text``;
- ``eventsourcing.postgres``: ``{application}_events`` with a ``notification_id`` column and
  ``{application}_snapshots``; ids are ``uuid`` (or text);
- ``eventsourcing-sqlalchemy``: ``{application}_events`` with an ``id`` notification column and
  ``{application}_snapshots``; ids are ``UUIDType`` (16 bytes on SQLite, ``uuid`` on
  PostgreSQL).

Each has ``originator_id, originator_version, topic, state``. A stream is an aggregate: its id
is shown as the application prints it (a UUID with dashes), its versions are the library's own
(from ``INITIAL_VERSION``, 1 by default, 0 where an aggregate says so), its position is the
notification id. The stream type is the aggregate class, taken from the ``originator_topic``
its first (created) event records, so it is right also when event classes are defined outside
the aggregate; a stream whose first event names no class has the type ``unknown``. The event
type is the event class's name; its topic is kept in the provenance.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import StoreOpenError
from ..protocol import Capabilities
from ..records import RecordedEvent, Snapshot
from ..search import EventSearch
from ..search_sql import Params, SearchColumns, where
from .base import EventHead, ForeignEvent, ForeignSource, StreamEntry
from .database import ReadOnlyDatabase, Reads, in_list
from .eventsourcing_state import StateReader

EVENT_COLUMNS = frozenset(("originator_id", "originator_version", "topic", "state"))
UNKNOWN_TYPE = "unknown"
_HEX_ID = re.compile(r"[0-9a-f]{32}")
_HEX_DIGITS = "0123456789abcdef"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MISSING_TIMESTAMP = "missing: the state records no timestamp"
"""The provenance's ``timestamp`` of an event whose state records none."""
_ONE_US = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where one application's events are: its tables (in a PostgreSQL schema other than
    the connection's own, with ``POSTGRES_SCHEMA``) and its notification id column."""

    events: str
    snapshots: str | None
    notification: str
    schema: str | None = None

    @property
    def application(self) -> str:
        return self.events.removesuffix("_events")

    @property
    def name(self) -> str:
        """The application as ``--source eventsourcing:NAME`` picks it."""
        return f"{self.schema}.{self.application}" if self.schema else self.application

    def table(self, name: str) -> str:
        """A table's name quoted (and schema-qualified) for SQL."""
        quoted = '"' + name.replace('"', '""') + '"'
        return f'"{self.schema}".{quoted}' if self.schema else quoted


def find_layouts(tables: Mapping[str, frozenset[str]], dialect: str,
                 schema: str | None = None) -> list[Layout]:
    """Every eventsourcing application recorder among a database's tables."""
    found = []
    for name, columns in sorted(tables.items()):
        if not name.endswith("_events") or not columns >= EVENT_COLUMNS:
            continue
        if "notification_id" in columns:
            notification = "notification_id"
        elif "id" in columns:
            notification = "id"
        elif dialect == "sqlite":
            notification = "rowid"
        else:
            continue
        snapshots = name.removesuffix("_events") + "_snapshots"
        found.append(Layout(name, snapshots if tables.get(
            snapshots, frozenset()) >= EVENT_COLUMNS else None, notification, schema))
    return found


def all_layouts(db: ReadOnlyDatabase) -> list[Layout]:
    """The applications in the connection's own schema, else in any other schema."""
    found = find_layouts(db.tables(), db.dialect)
    if not found:
        for schema in db.schemas():
            found += find_layouts(db.tables(schema), db.dialect, schema)
    return found


def shown_id(stored: object) -> str:
    """An originator id as the application prints it."""
    if type(stored) is str and len(stored) == 32 and not stored.strip(_HEX_DIGITS):
        s = stored  # eventsourcing.sqlite's UUID hex: the dashed form without a UUID object
        return f"{s[:8]}-{s[8:12]}-{s[12:16]}-{s[16:20]}-{s[20:]}"
    if isinstance(stored, uuid.UUID):
        return str(stored)
    if isinstance(stored, bytes | memoryview) and len(stored) == 16:
        return str(uuid.UUID(bytes=bytes(stored)))
    if isinstance(stored, str) and _HEX_ID.fullmatch(stored):
        return str(uuid.UUID(hex=stored))
    return str(stored)


def _class_name(topic: object) -> str | None:
    """The qualified class name a topic (``module:Qual.Name``) names."""
    if not isinstance(topic, str) or ":" not in topic:
        return None
    return topic.split(":", 1)[1] or None


def event_type(topic: str) -> str:
    name = _class_name(topic)
    return topic if name is None else name.rsplit(".", 1)[-1]


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One stored event or snapshot as the library's recorder hands it to its mapper, with
    the cipher and compressor layers already taken off: ``state`` is the transcoder's JSON.
    ``originator_id`` is the stored id as text (a UUID, with or without dashes, or a text id),
    which the mapper turns into the type the event class declares."""

    originator_id: str
    originator_version: int
    topic: str
    state: bytes


def stored_id_text(stored: object) -> str:
    """A stored originator id as text without guessing its type (``shown_id`` dashes a
    32-digit hex text, which a text id may also be)."""
    if isinstance(stored, bytes | memoryview) and len(stored) == 16:
        return str(uuid.UUID(bytes=bytes(stored)))
    return str(stored)


class EventsourcingSource(ForeignSource):
    """One eventsourcing application's events, read-only."""

    kind = "eventsourcing"

    def __init__(self, db: ReadOnlyDatabase, layout: Layout, *,
                 cipher_key: str | None = None) -> None:
        super().__init__(db)
        self.layout = layout
        self.snapshots_kept = layout.snapshots is not None
        self._states = StateReader(cipher_key)
        self._keys: dict[str, object] = {}
        self._shown: dict[object, str] = {}
        """Stored originator id -> the id shown (the inverse of ``_keys``)."""
        self._types: dict[str, str] = {}
        """Topic -> event type, for the few topics a store has."""
        n = layout.notification
        t = layout.table(layout.events)
        self._sql_cut = f"SELECT max({n}) FROM {t}"
        self._sql_streams = (
            f"SELECT g.oid, g.lo, g.hi, g.n, f.topic, f.state, l.state FROM "
            f"(SELECT originator_id AS oid, min(originator_version) AS lo, "
            f"max(originator_version) AS hi, count(*) AS n FROM {t} WHERE {n} <= :cut "
            f"GROUP BY originator_id) g "
            f"JOIN {t} f ON f.originator_id = g.oid AND f.originator_version = g.lo "
            f"JOIN {t} l ON l.originator_id = g.oid AND l.originator_version = g.hi")
        self._sql_stream = (
            f"SELECT g.oid, g.lo, g.hi, g.n, f.topic, f.state, l.state FROM "
            f"(SELECT originator_id AS oid, min(originator_version) AS lo, "
            f"max(originator_version) AS hi, count(*) AS n FROM {t} WHERE {n} <= :cut "
            f"AND originator_id IN ", " GROUP BY originator_id) g "
            f"JOIN {t} f ON f.originator_id = g.oid AND f.originator_version = g.lo "
            f"JOIN {t} l ON l.originator_id = g.oid AND l.originator_version = g.hi")
        """One stream's row: the SQL before and after the list of its id's spellings."""
        self._sql_read = (f"SELECT {n}, originator_id, originator_version, topic, state "
                          f"FROM {t} WHERE originator_id = :oid AND originator_version >= :lo "
                          f"AND {n} <= :cut")
        self._sql_log = (f"SELECT {n}, originator_id, originator_version, topic, state "
                         f"FROM {t} WHERE {n} > :after AND {n} <= :end")
        self._sql_types = f"SELECT topic, count(*) FROM {t} WHERE {n} <= :cut GROUP BY topic"

    @property
    def label(self) -> str:
        return f"{self._db.label} ({self.layout.events})"

    def _lookup_id(self, stream_id: str) -> str:
        return shown_id(stream_id.strip().lower()) if _HEX_ID.fullmatch(
            stream_id.strip().lower()) else stream_id

    def _where(self, origin: object, version: object) -> Callable[[], str]:
        return lambda: f"{self.layout.events} {shown_id(origin)} v{version}"

    def _event_type(self, topic: str) -> str:
        found = self._types.get(topic)
        if found is None:
            found = self._types[topic] = event_type(topic)
        return found

    def _head_page(self, conn: Reads, after_position: int, to_position: int,
                   limit: int) -> list[EventHead]:
        """Heads with the time read from the state's leading timestamp: no JSON decoded
        for a plain state (a compressed or encrypted one is decoded)."""
        statement = f"{self._sql_log} ORDER BY {self.layout.notification} LIMIT {int(limit)}"
        shown, kind = self._shown, self._event_type
        out = []
        for nid, oid, v, topic, state in conn.rows(
                statement, {"after": after_position, "end": to_position}):
            at_us = _leading_instant(state)
            if at_us is None:
                at_us = stamp_instant(self._states.decode(state, self._where(oid, v))[0].get(
                    "timestamp"))[0]
            out.append(EventHead(nid, shown.get(oid) or shown_id(oid), v, kind(topic), at_us))
        return out

    def _decode(self, nid: int, origin: object, version: int, topic: str,
                state: bytes) -> ForeignEvent:
        attrs, encoding = self._states.decode(state, self._where(origin, version))
        stamp = attrs.pop("timestamp", None)
        at_us, stamp_text = stamp_instant(stamp)
        provenance: dict[str, Any] = {"topic": topic, "notification_id": nid,
                                      "originator_version": version, "state": encoding}
        if stamp_text is not None:
            provenance["timestamp"] = stamp_text
        else:
            provenance["timestamp"] = MISSING_TIMESTAMP
        return ForeignEvent(nid, self._shown.get(origin) or shown_id(origin), version,
                            self._event_type(topic), at_us, attrs, {}, provenance)

    def stored_page(self, after_position: int, to_position: int, limit: int,
                    ) -> list[tuple[Any, ...]]:
        """Up to ``limit`` rows after a position, in position order, as stored: (notification
        id, stored originator id, version, topic, state), for the import, which reads every
        row once."""
        statement = f"{self._sql_log} ORDER BY {self.layout.notification} LIMIT {int(limit)}"
        with self._db.read() as conn:
            return conn.rows(statement, {"after": after_position, "end": to_position})

    def decode_stored(self, nid: int, origin: object, version: int, topic: str,
                      state: bytes) -> ForeignEvent:
        """A stored row as every read decodes it."""
        return self._decode(nid, origin, version, topic, state)

    def shown(self, origin: object) -> str:
        """The stream id a stored originator id is shown as."""
        return self._shown.get(origin) or shown_id(origin)

    def type_of(self, topic: str) -> str:
        """The event type a topic names."""
        return self._event_type(topic)

    def _take_cut(self, conn: Reads) -> int | None:
        """On SQLite the last notification id is one look at the rowid index, so the stream
        list waits until something needs it (PostgreSQL ids need their column's type to be
        looked up one by one, so there the list is read at once)."""
        if self._db.dialect != "sqlite":
            return None
        return int(conn.value(self._sql_cut) or 0)

    def _entry_of(self, oid: object, lo: int, hi: int, n: int, topic: str, first: bytes,
                  last: bytes) -> StreamEntry:
        """A stream from its first and last rows (the first says its aggregate class)."""
        decode = self._states.decode
        first_state, _ = decode(first, self._where(oid, lo))
        first_at, _ = stamp_instant(first_state.get("timestamp"))
        last_at = first_at if hi == lo else _leading_instant(last)
        if last_at is None:
            last_at = stamp_instant(decode(last, self._where(oid, hi))[0].get("timestamp"))[0]
        return StreamEntry(shown_id(oid), _stream_type(first_state, topic), int(lo), int(hi),
                           int(n), first_at, last_at)

    def _load_streams(self, conn: Reads, to_position: int | None,
                      ) -> tuple[int, list[StreamEntry]]:
        cut = conn.value(self._sql_cut) if to_position is None else to_position
        if not cut:
            return 0, []
        entries = []
        keys: dict[str, object] = {}
        for row in conn.rows(self._sql_streams, {"cut": cut}):
            entry = self._entry_of(*row)
            keys[entry.stream_id] = row[0]
            entries.append(entry)
        self._keys = keys
        self._shown = {stored: sid for sid, stored in keys.items()}
        return int(cut), entries

    def _load_stream(self, conn: Reads, stream_id: str, to_position: int,
                     ) -> StreamEntry | None:
        """One stream, found under each spelling SQLite may hold its id in: UUID hex
        (eventsourcing.sqlite), 16 bytes (eventsourcing-sqlalchemy) or the text itself."""
        keys: list[object] = [stream_id]
        with contextlib.suppress(ValueError):
            parsed = uuid.UUID(stream_id)
            keys += [parsed.hex, parsed.bytes]
        listed, params = in_list("key", keys)
        before, after = self._sql_stream
        row = conn.first(before + listed + after, {"cut": to_position, **params})
        if row is None:
            return None
        entry = self._entry_of(*row)
        self._keys[entry.stream_id] = row[0]
        self._shown[row[0]] = entry.stream_id
        return entry

    def _read(self, conn: Reads, stream_id: str, from_version: int,
              to_version: int | None, to_position: int) -> list[ForeignEvent]:
        sql = self._sql_read
        params: dict[str, Any] = {"oid": self._keys[stream_id], "lo": from_version,
                                  "cut": to_position}
        if to_version is not None:
            sql += " AND originator_version <= :hi"
            params["hi"] = to_version
        rows = conn.rows(sql + " ORDER BY originator_version", params)
        return [self._decode(int(nid), oid, int(v), topic, state)
                for nid, oid, v, topic, state in rows]

    def _log_page(self, conn: Reads, after_position: int, to_position: int,
                  stream_ids: Sequence[str] | None, limit: int) -> list[ForeignEvent]:
        sql = self._sql_log
        params: dict[str, Any] = {"after": after_position, "end": to_position}
        if stream_ids is not None:
            listed, oids = in_list("oid", [self._keys[s] for s in stream_ids])
            sql += f" AND originator_id IN {listed}"
            params.update(oids)
        statement = f"{sql} ORDER BY {self.layout.notification} LIMIT {int(limit)}"
        return [self._decode(int(nid), oid, int(v), topic, state)
                for nid, oid, v, topic, state in conn.rows(statement, params)]

    # -- investigating -------------------------------------------------------------------
    @property
    def capabilities(self) -> Capabilities:
        """The library records no metadata, so no correlation or causation either."""
        return Capabilities(hash_chain=False, snapshots=self.snapshots_kept, writable=False,
                            live=True, correlation=False)

    def correlated_events(self, correlation_id: str, *, limit: int = 10_000,
                          ) -> list[RecordedEvent]:
        return []

    def _unchanged(self, conn: Reads) -> bool:
        """The last notification id is the cut's (one look at the primary key): the
        library's recorders commit notification ids in order, so nothing new is there."""
        return bool(self._cut.position) and \
            int(conn.value(self._sql_cut) or 0) == self._cut.position

    def _search_pages(self, search: EventSearch, after_position: int, page_size: int,
                      ) -> Iterator[list[tuple[ForeignEvent, str]]]:
        """The rows that may match, decoded: a state stored as plain JSON is tested by the
        database (SQLite's JSON functions, PostgreSQL's jsonb), one compressed or encrypted
        cannot be and comes back to be decoded and tested in Python, page by page (so a
        search of a compressed or encrypted store reads every state). Event types are
        narrowed by topic (a topic ends with its event's class name); stream ids, times and
        metadata (the library records none) are tested in Python."""
        cut = self._listing
        statement, values = self._search_sql(search, page_size)
        last = after_position
        while True:
            with self._db.read() as conn:
                rows = conn.rows(statement, {"after": last, "end": cut.position, **values})
            page = []
            for nid, oid, v, topic, state in rows:
                e = self._decode(int(nid), oid, int(v), topic, state)
                entry = cut.streams.get(e.stream_id)
                if entry is not None:
                    page.append((e, entry.stream_type))
            if page:
                yield page
            if len(rows) < page_size:
                return
            last = int(rows[-1][0])

    def _search_sql(self, search: EventSearch, page_size: int) -> tuple[str, dict[str, Any]]:
        params = Params()
        n = self.layout.notification
        clauses = []
        if search.event_types is not None:
            ends = [f"topic LIKE {params.add('%' + _like_literal(t))} ESCAPE '\\'"
                    for t in search.event_types]
            clauses.append(f"({' OR '.join(ends) or '1 = 0'})")
        # The state holds the event's timestamp, which the payload shown does not: a
        # condition on it is left to Python, where it sees the payload (as is every one on
        # the metadata, and one naming a key SQLite's JSON paths cannot).
        asked = EventSearch(tuple(
            c for c in search.conditions if c.field == "payload" and c.path[0] != "timestamp"
            and not any(isinstance(k, str) and '"' in k for k in c.path)))  # (SQLite)
        sqlite = self._db.dialect == "sqlite"
        if asked.conditions and not self._states.may_be_encrypted:
            if sqlite:
                tested = where("sqlite", asked, _SQLITE_STATE, params)
                clauses.append(f"(hex(substr(state, 1, 1)) <> '7B' OR ({' AND '.join(tested)}))")
            else:
                tested = where("postgresql", asked, _POSTGRES_STATE, params)
                clauses.append(f"(sj IS NULL OR ({' AND '.join(tested)}))")
        if sqlite or not asked.conditions or self._states.may_be_encrypted:
            source = self.layout.table(self.layout.events)
        else:
            source = (f"(SELECT {n}, originator_id, originator_version, topic, state, "
                      "CASE WHEN length(state) > 0 AND get_byte(state, 0) = 123 THEN "
                      "convert_from(state, 'UTF8')::jsonb END AS sj FROM "
                      f"{self.layout.table(self.layout.events)} WHERE {n} > :after AND "
                      f"{n} <= :end ORDER BY {n} OFFSET 0) e")
        sql = (f"SELECT {n}, originator_id, originator_version, topic, state FROM {source} "
               f"WHERE {' AND '.join([f'{n} > :after', f'{n} <= :end', *clauses])} "
               f"ORDER BY {n} LIMIT {int(page_size)}")
        return sql, params.values

    def _event_type_counts(self, conn: Reads, to_position: int) -> dict[str, int]:
        counts: dict[str, int] = {}
        for topic, n in conn.rows(self._sql_types, {"cut": to_position}):
            name = event_type(topic)
            counts[name] = counts.get(name, 0) + int(n)
        return counts

    def stored_events(self, stream_id: str, to_version: int | None = None) -> list[StoredRow]:
        """A stream's rows up to a version (default: its head) within the cut, in version
        order, for the application's own mapper to decode; [] for an unknown stream."""
        entry = self._entry(stream_id)
        if entry is None:
            return []
        sql = self._sql_read
        params: dict[str, Any] = {"oid": self._keys[entry.stream_id],
                                  "lo": entry.first_version, "cut": self._cut.position}
        if to_version is not None:
            sql += " AND originator_version <= :hi"
            params["hi"] = to_version
        plain = self._states.plain
        with self._db.read() as conn:
            rows = conn.rows(sql + " ORDER BY originator_version", params)
        return [StoredRow(stored_id_text(oid), int(v), topic,
                          plain(state, self._where(oid, v)))
                for _, oid, v, topic, state in rows]

    def stored_snapshots(self, stream_id: str | None = None) -> list[StoredRow]:
        """The snapshots table's rows (of one stream, or all) in id and version order, for
        the application's own mapper; [] when the application keeps no snapshots."""
        table = self.layout.snapshots
        if table is None:
            return []
        sql = ("SELECT originator_id, originator_version, topic, state FROM "
               f"{self.layout.table(table)}")
        params: dict[str, Any] = {}
        if stream_id is not None:
            entry = self._entry(stream_id)
            if entry is None:
                return []
            sql += " WHERE originator_id = :oid"
            params["oid"] = self._keys[entry.stream_id]
        plain = self._states.plain
        with self._db.read() as conn:
            rows = conn.rows(sql + " ORDER BY originator_id, originator_version", params)
        return [StoredRow(stored_id_text(oid), int(v), topic,
                          plain(state, f"{table} {shown_id(oid)} v{v}"))
                for oid, v, topic, state in rows]

    def _snapshots(self, conn: Reads, stream_id: str | None) -> list[Snapshot]:
        table = self.layout.snapshots
        if table is None:
            return []
        sql = ("SELECT originator_id, originator_version, state FROM "
               f"{self.layout.table(table)}")
        params: dict[str, Any] = {}
        if stream_id is not None:
            sql += " WHERE originator_id = :oid"
            params["oid"] = self._keys.get(stream_id, stream_id)
        out = []
        for oid, version, state in conn.rows(sql + " ORDER BY originator_id, "
                                             "originator_version", params):
            attrs, _ = self._states.decode(state, f"{table} {shown_id(oid)} v{version}")
            held = attrs.get("state")
            out.append(Snapshot(shown_id(oid), int(version),
                                held if isinstance(held, dict) else attrs))
        return out


_SQLITE_STATE = SearchColumns("CAST(state AS TEXT)", None, None, None, None)
_POSTGRES_STATE = SearchColumns("sj", None, None, None, None)


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _stream_type(first_state: Mapping[str, Any], first_topic: str) -> str:
    """The aggregate class a stream's first event names, else its topic's enclosing class."""
    name = _class_name(first_state.get("originator_topic"))
    if name is not None:
        return name
    qualified = _class_name(first_topic)
    if qualified is not None and "." in qualified:
        return qualified.rsplit(".", 1)[0]
    return UNKNOWN_TYPE


_STAMP_FIRST = b'{"timestamp":{"_type_":"datetime_iso","_data_":"'


_FIRST_US = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // _ONE_US
_LAST_US = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // _ONE_US


def _in_range(at: int) -> int | None:
    """An instant a UTC datetime can hold (one written in year 1 east of Greenwich, or in
    9999 west of it, is not: it could not be shown or exported), else None."""
    return at if _FIRST_US <= at <= _LAST_US else None


def _leading_instant(raw: bytes | memoryview) -> int | None:
    """The timestamp of a plain JSON state that starts with it, as eventsourcing's mapper
    writes every event (its first attribute after the id and version it stores apart), read
    without decoding the rest; None for any other state (decode it)."""
    data = raw if type(raw) is bytes else bytes(raw)
    if not data.startswith(_STAMP_FIRST):
        return None
    start = len(_STAMP_FIRST)
    end = data.find(b'"', start)
    try:
        instant = datetime.fromisoformat(data[start:end].decode())
    except (ValueError, UnicodeDecodeError):
        return None
    if end < 0 or instant.tzinfo is None:
        return None
    return _in_range((instant - _EPOCH) // _ONE_US)


def stamp_instant(stamp: object) -> tuple[int, str | None]:
    """(microseconds since the epoch, the recorded text) of an eventsourcing timestamp; an
    event without a readable one sorts at the epoch and says so in its provenance."""
    if type(stamp) is dict and stamp.get("_type_") == "datetime_iso":
        raw = stamp.get("_data_")
        if type(raw) is str:
            try:
                instant = datetime.fromisoformat(raw)
            except ValueError:
                return 0, None
            at = None if instant.tzinfo is None else _in_range((instant - _EPOCH) // _ONE_US)
            return (0, None) if at is None else (at, raw)
    return 0, None


def open_eventsourcing(db: ReadOnlyDatabase, *, application: str | None = None,
                       cipher_key: str | None = None) -> EventsourcingSource:
    """The eventsourcing application in a database (``application`` picks one by its table
    prefix when there are several)."""
    layouts = all_layouts(db)
    if application is not None:
        layouts = [x for x in layouts if application.lower() in (x.name, x.application)]
    if not layouts:
        raise StoreOpenError(f"{db.label} holds no eventsourcing events table"
                             + (f" for the application {application!r}" if application else ""))
    if len(layouts) > 1:
        names = ", ".join(x.name for x in layouts)
        raise StoreOpenError(f"{db.label} holds several eventsourcing applications ({names}): "
                             f"pick one with --source eventsourcing:NAME")
    source = EventsourcingSource(db, layouts[0], cipher_key=cipher_key)
    source.refresh()
    return source
