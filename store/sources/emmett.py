"""A store written by Emmett (npm ``@event-driven-io/emmett-postgresql`` 0.42), read where it is.

Emmett's tables, from its own schema SQL (``src/eventStore/schema/tables.ts``):

- ``emt_messages``: one row per message; ``stream_id`` text, ``stream_position`` bigint (the
  version, from 1, contiguous per stream), ``global_position`` bigint (from the sequence
  ``emt_global_message_position``), ``transaction_id`` xid8 (the appending transaction),
  ``created`` timestamptz (default ``now()``: the appending transaction's *start*, so all
  messages of one append share it, and it need not grow with the position), ``message_kind``
  ``'E'`` (event) or ``'C'`` (command), ``message_schema_version`` text (``'1'``),
  ``message_id`` text (the caller's ``metadata.messageId``, else a v4 UUID), ``message_type``
  text, ``message_data`` and ``message_metadata`` jsonb (the stored metadata never holds
  ``messageId``, ``streamName``, ``streamPosition`` or ``globalPosition``: Emmett's readers add
  those on the way out). Primary key ``(stream_id, stream_position, partition, is_archived)``;
  no index on ``global_position``.
- ``emt_streams``: one row per stream; ``stream_position`` (the head version), ``stream_type``
  (``appendToStream`` stores the id's prefix before its first ``-``, or ``emt:unknown`` for an
  id without one; Emmett's lower-level append takes any type), ``stream_metadata`` jsonb
  (``{}``), ``partition``, ``is_archived``.
- Both are ``PARTITION BY LIST (partition)`` and then by ``is_archived``: ``partition`` is a
  tenant/module tag (``emt:default`` unless an application adds partitions; the event store
  API reads and writes only ``emt:default``); ``is_archived`` rows live in the ``_archived``
  leaf and every Emmett reader skips them (0.42 has no API that archives).
- ``emt_processors`` and ``emt_projections`` (partitioned the same way) hold consumers'
  checkpoints and projection registrations; ``emt_subscriptions`` exists only in stores
  migrated from before 0.42; ``dmb_migrations`` is the schema migrator's log. None is history.

What esaudit shows: the stream id exactly as stored; versions = ``stream_position``; position =
``global_position``; type = ``message_type``; payload = ``message_data``; metadata =
``message_metadata``; recorded at = ``created``; the message id, kind, schema version,
transaction id and partition in the provenance. The stream type is ``emt_streams.stream_type``
unless that is Emmett's ``emt:unknown``: then the id's prefix before its first ``-``, and
``emt:unknown`` for an id that has none (the source's own word, not a guess). Archived messages
are not shown, as in Emmett's own reads; their number is part of the label. One partition is
read (``emt:default`` unless ``--source emmett:PARTITION`` names another), because stream ids
are unique only within a partition.

Cuts: Emmett's global positions are drawn from a sequence before commit, so concurrent appends
commit out of position order, and a position can appear below one already seen. Each refresh
therefore remembers its transaction's snapshot (``pg_current_snapshot()``) and every later read
keeps only the messages of transactions visible in it (``pg_visible_in_snapshot``): the list,
the streams and the log agree exactly, whatever committed since. A reader that resumes "after
position P" across a refresh may still meet positions below P that committed late (Emmett's own
global reader returns only transactions older than every running one, ``transaction_id <
pg_snapshot_xmin(...)``, in ``(transaction_id, global_position)`` order, for that reason).

Paging: Emmett indexes no ``global_position``, so a page of the log by position range would scan
and sort the whole table each time. A refresh reads the cut's (position, stream, version, time,
type) once, in position order (about 40 bytes a message in memory); each page of the log is then
fetched by primary key, and the heads the timeline and verify walk come from memory.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from ..errors import StoreOpenError
from ..hashing import decode_json, instant_from_us
from ..protocol import Capabilities
from ..records import RecordedEvent
from ..search import EventSearch
from ..search_sql import Params, SearchColumns, where
from .base import EventHead, ForeignEvent, ForeignSource, StreamEntry
from .database import ReadOnlyDatabase, Reads, in_list
from .log_reading import recorded

DEFAULT_PARTITION = "emt:default"
UNKNOWN_TYPE = "emt:unknown"
"""What Emmett stores as the type of a stream whose id has no ``-``."""
MESSAGE_COLUMNS = frozenset((
    "stream_id", "stream_position", "global_position", "transaction_id", "created",
    "is_archived", "message_kind", "partition", "message_schema_version", "message_id",
    "message_type", "message_data", "message_metadata"))
STREAM_COLUMNS = frozenset(("stream_id", "stream_position", "partition", "stream_type",
                            "is_archived"))

_AT_US = "(EXTRACT(EPOCH FROM created) * 1000000)::bigint"
"""``created`` as integer microseconds (exact: EXTRACT gives a numeric)."""
_COLUMNS = (f"global_position, stream_id, stream_position, message_type, {_AT_US}, "
            "message_data::text, message_metadata::text, message_id, message_kind, "
            "message_schema_version, transaction_id::text")
"""The JSON as text, decoded by ``decode_json`` (orjson where exact): twice as fast as the
driver's own decoding, and as exact."""
_MINE = "partition = :partition AND is_archived = FALSE"
_SEARCHED = SearchColumns(
    payload="CASE WHEN jsonb_typeof(message_data) = 'object' THEN message_data "
            "ELSE jsonb_build_object('value', message_data) END",
    metadata="CASE WHEN jsonb_typeof(message_metadata) = 'object' THEN message_metadata "
             "ELSE jsonb_build_object('value', message_metadata) END",
    type="message_type", stream_id="stream_id", recorded_at_us=_AT_US)
"""What a search filters on: the payload and metadata as esaudit shows them (JSON that is not
an object under ``value``), in the jsonb Emmett stores."""
_CORRELATION = ("coalesce(message_metadata ->> 'correlation_id', "
                "message_metadata ->> 'correlationId')")
_IN_CUT = "pg_visible_in_snapshot(transaction_id, CAST(:snapshot AS pg_snapshot))"


class _LogIndex(NamedTuple):
    """The cut's messages in position order: position, stream (an index into ``ids``),
    version, time and type (an index into ``types``). A page of the log is fetched by key; the
    heads the timeline and verify walk need no query at all."""

    positions: array[int]
    streams: array[int]
    versions: array[int]
    at_us: array[int]
    type_codes: array[int]
    ids: list[str]
    types: list[str]


_EMPTY_INDEX = _LogIndex(array("q"), array("l"), array("q"), array("q"), array("l"), [], [])


def stream_type(stored: str | None, stream_id: str) -> str:
    """The stream type Emmett stored, else the id's prefix before its first ``-``."""
    if stored and stored != UNKNOWN_TYPE:
        return stored
    prefix, dash, _ = stream_id.partition("-")
    return prefix if dash and prefix else UNKNOWN_TYPE


class EmmettSource(ForeignSource):
    """One partition of an Emmett event store, read-only (see the module docstring)."""

    kind = "emmett"

    def __init__(self, db: ReadOnlyDatabase, *, partition: str = DEFAULT_PARTITION) -> None:
        super().__init__(db)
        self.partition = partition
        self.archived = 0
        """Archived messages of the partition, not shown (as in Emmett's own reads)."""
        self._snapshot = ""
        """The refresh's ``pg_snapshot``: every read keeps only transactions visible in it."""
        self._sql_snapshot = ("SELECT pg_current_snapshot()::text")
        self._sql_archived = (
            "SELECT count(*) FROM emt_messages WHERE partition = :partition"
            " AND is_archived = TRUE")
        self._index = _EMPTY_INDEX
        self._sql_index = (
            f"SELECT global_position, stream_id, stream_position, {_AT_US}, message_type"
            " FROM emt_messages"
            f" WHERE {_MINE} ORDER BY global_position")
        self._sql_types_stored = (
            f"SELECT stream_id, stream_type FROM emt_streams WHERE {_MINE}")
        self._sql_read = (f"SELECT {_COLUMNS} FROM emt_messages WHERE stream_id = :sid"
                          f" AND {_MINE} AND stream_position >= :lo"
                          f" AND global_position <= :cut AND {_IN_CUT}")
        self._sql_log = (f"SELECT {_COLUMNS} FROM emt_messages WHERE {_MINE}"
                         f" AND global_position > :after AND global_position <= :end"
                         f" AND {_IN_CUT}")
        self._sql_keys = (
            f"SELECT {_COLUMNS} FROM unnest(CAST(:sids AS text[]), CAST(:versions AS bigint[]))"
            " AS k(sid, ver) JOIN emt_messages ON stream_id = k.sid"
            f" AND stream_position = k.ver AND {_MINE} AND {_IN_CUT}"
            " ORDER BY global_position")
        self._sql_types = (
            f"SELECT message_type, count(*) FROM emt_messages WHERE {_MINE}"
            f" AND global_position <= :cut AND {_IN_CUT} GROUP BY message_type")

    @property
    def capabilities(self) -> Capabilities:
        """Positions are drawn before commit: they may become visible out of order."""
        return Capabilities(hash_chain=False, snapshots=self.snapshots_kept, writable=False,
                            live=True, ordered=False)

    @property
    def label(self) -> str:
        where = "emt_messages" if self.partition == DEFAULT_PARTITION else (
            f"emt_messages, partition {self.partition}")
        if self.archived:
            where += f"; {self.archived} archived messages not shown"
        return f"{self._db.label} ({where})"

    def _params(self, **more: Any) -> dict[str, Any]:
        return {"partition": self.partition, "snapshot": self._snapshot, **more}

    def _event(self, row: Sequence[Any]) -> ForeignEvent:
        (position, stream_id, version, type_, at_us, data_text, metadata_text, message_id,
         kind, schema_version, transaction_id) = row
        data = decode_json(data_text)
        metadata = decode_json(metadata_text)
        provenance: dict[str, Any] = {
            "message_id": message_id, "global_position": int(position),
            "stream_position": int(version), "message_type": type_,
            "message_kind": {"E": "event", "C": "command"}.get(kind, kind),
            "message_schema_version": schema_version, "transaction_id": transaction_id,
            "partition": self.partition,
            "created": instant_from_us(at_us).isoformat()}
        payload = data if isinstance(data, dict) else {"value": data}
        if payload is not data:
            provenance["message_data"] = "not a JSON object: shown under 'value'"
        return ForeignEvent(int(position), stream_id, int(version), type_, int(at_us), payload,
                            metadata if isinstance(metadata, dict) else {"value": metadata},
                            provenance)

    # -- the primitives ForeignSource builds on --------------------------------------------
    def _unchanged(self, conn: Reads) -> bool:
        """The server's snapshot is the cut's: no transaction has committed since (anywhere
        on the server, so a busy server refreshes more often than it needs to)."""
        return bool(self._snapshot) and \
            conn.value(self._sql_snapshot) == self._snapshot

    def _load_streams(self, conn: Reads, to_position: int | None,
                      ) -> tuple[int, list[StreamEntry]]:
        """The streams and the log's index, from one pass over the partition's positions."""
        snapshot = conn.value(self._sql_snapshot)
        params = self._params(snapshot=snapshot)
        self.archived = int(conn.value(self._sql_archived, params))
        stored: dict[str, str] = {str(sid): str(t) for sid, t in conn.rows(
            self._sql_types_stored, params)}
        positions, streams, versions = array("q"), array("l"), array("q")
        times, type_codes = array("q"), array("l")
        ids: list[str] = []
        types: list[str] = []
        number: dict[str, int] = {}
        type_number: dict[str, int] = {}
        heads: list[list[int]] = []  # per stream: lo, lo_at, hi, hi_at, n
        for position, sid, version, at_us, type_ in conn.rows(self._sql_index, params):
            t = type_number.get(type_)
            if t is None:
                t = type_number[type_] = len(types)
                types.append(type_)
            k = number.get(sid)
            if k is None:
                k = number[sid] = len(ids)
                ids.append(sid)
                heads.append([version, at_us, version, at_us, 0])
            head = heads[k]
            if version < head[0]:
                head[0], head[1] = version, at_us
            if version > head[2]:
                head[2], head[3] = version, at_us
            head[4] += 1
            positions.append(position)
            streams.append(k)
            versions.append(version)
            times.append(at_us)
            type_codes.append(t)
        entries = [StreamEntry(sid, stream_type(stored.get(sid), sid), lo, hi, n, lo_at, hi_at)
                   for sid, (lo, lo_at, hi, hi_at, n) in zip(ids, heads, strict=True)]
        self._snapshot = snapshot
        self._index = _LogIndex(positions, streams, versions, times, type_codes, ids, types)
        return (positions[-1] if positions else 0), entries

    def _read(self, conn: Reads, stream_id: str, from_version: int,
              to_version: int | None, to_position: int) -> list[ForeignEvent]:
        sql = self._sql_read
        params = self._params(sid=stream_id, lo=from_version, cut=to_position)
        if to_version is not None:
            sql += " AND stream_position <= :hi"
            params["hi"] = to_version
        rows = conn.rows(sql + " ORDER BY stream_position", params)
        return [self._event(r) for r in rows]

    def _log_page(self, conn: Reads, after_position: int, to_position: int,
                  stream_ids: Sequence[str] | None, limit: int) -> list[ForeignEvent]:
        if stream_ids is None:
            # The next positions of the cut are known: fetch them by primary key, where a
            # range query would scan and sort the whole table (Emmett indexes no position).
            ix = self._index
            lo = bisect.bisect_right(ix.positions, after_position)
            hi = min(lo + limit, bisect.bisect_right(ix.positions, to_position))
            if lo >= hi:
                return []
            params = self._params(sids=[ix.ids[k] for k in ix.streams[lo:hi]],
                                  versions=ix.versions[lo:hi].tolist())
            return [self._event(r) for r in conn.rows(self._sql_keys, params)]
        listed, sids = in_list("sid", list(stream_ids))
        params = self._params(after=after_position, end=to_position, **sids)
        statement = (f"{self._sql_log} AND stream_id IN {listed}"
                     f" ORDER BY global_position LIMIT {int(limit)}")
        return [self._event(r) for r in conn.rows(statement, params)]

    def _head_page(self, conn: Reads, after_position: int, to_position: int,
                   limit: int) -> list[EventHead]:
        ix = self._index
        lo = bisect.bisect_right(ix.positions, after_position)
        hi = min(lo + limit, bisect.bisect_right(ix.positions, to_position))
        ids, types = ix.ids, ix.types
        return [EventHead(ix.positions[i], ids[ix.streams[i]], ix.versions[i],
                          types[ix.type_codes[i]], ix.at_us[i]) for i in range(lo, hi)]

    def _event_type_counts(self, conn: Reads, to_position: int) -> dict[str, int]:
        return {str(t): int(n) for t, n in conn.rows(self._sql_types,
                                                     self._params(cut=to_position))}

    # -- investigating: answered by PostgreSQL -----------------------------------------------
    def _search_pages(self, search: EventSearch, after_position: int, page_size: int,
                      ) -> Iterator[list[tuple[ForeignEvent, str]]]:
        """Exactly the matching messages of the cut, found by jsonb expressions over
        ``message_data`` and ``message_metadata``. Emmett indexes neither (nor the position),
        and esaudit never adds an index to a store it did not write: each page is one scan."""
        params = Params()
        clauses = where("postgresql", search, _SEARCHED, params)
        sql = (" AND ".join([self._sql_log, *clauses])
               + f" ORDER BY global_position LIMIT {int(page_size)}")
        last, end = after_position, self._cut.position
        while True:
            with self._db.read() as conn:
                rows = conn.rows(sql, self._params(after=last, end=end, **params.values))
            page = self._typed([self._event(r) for r in rows])
            if page:
                yield page
            if len(rows) < page_size:
                return
            last = int(rows[-1][0])

    def correlated_events(self, correlation_id: str, *, limit: int = 10_000,
                          ) -> list[RecordedEvent]:
        """One scan of the partition's messages (Emmett keeps no index on the metadata)."""
        sql = (f"{self._sql_log} AND {_CORRELATION} = :correlation "
               f"ORDER BY global_position LIMIT {int(limit)}")
        with self._db.read() as conn:
            rows = conn.rows(sql, self._params(after=0, end=self._cut.position,
                                               correlation=correlation_id))
        return [recorded(e, t) for e, t in self._typed([self._event(r) for r in rows])]

    def _typed(self, events: list[ForeignEvent]) -> list[tuple[ForeignEvent, str]]:
        """The events with their stream types (from the cut's stream list)."""
        streams = self._listing.streams
        return [(e, entry.stream_type) for e in events
                if (entry := streams.get(e.stream_id)) is not None]


def partitions(db: ReadOnlyDatabase) -> dict[str, int]:
    """Partition -> streams in it (not archived), read from ``emt_streams``."""
    with db.read() as conn:
        rows = conn.rows("SELECT partition, count(*) FROM emt_streams"
                         " WHERE is_archived = FALSE GROUP BY partition")
        return {str(p): int(n) for p, n in rows}


def open_emmett(db: ReadOnlyDatabase, *, partition: str | None = None) -> EmmettSource:
    """The Emmett event store in a database (``partition`` picks one when there are several;
    Emmett's default one otherwise)."""
    tables = db.tables()
    if db.dialect != "postgresql":
        raise StoreOpenError(f"{db.label}: esaudit reads Emmett's PostgreSQL store only")
    missing = sorted(MESSAGE_COLUMNS - tables.get("emt_messages", frozenset())) + sorted(
        STREAM_COLUMNS - tables.get("emt_streams", frozenset()))
    if missing:
        raise StoreOpenError(f"{db.label} has no Emmett 0.42 tables emt_messages/emt_streams "
                             f"(missing: {', '.join(missing)})")
    found = partitions(db)
    chosen = partition or DEFAULT_PARTITION
    if found and chosen not in found:
        names = ", ".join(sorted(found))
        raise StoreOpenError(f"{db.label} holds no Emmett streams in the partition {chosen!r} "
                             f"(it has {names}): pick one with --source emmett:PARTITION")
    source = EmmettSource(db, partition=chosen)
    source.refresh()
    return source


__all__ = ["DEFAULT_PARTITION", "UNKNOWN_TYPE", "EmmettSource", "open_emmett", "stream_type"]
