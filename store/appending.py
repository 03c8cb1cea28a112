"""The append pipeline: the only code that writes events and moves stream heads.

Every append validates its names and JSON, takes the stream's head (from memory or the
database), hashes each event onto the chain (store.hashing) and commits the events and the new
head in one transaction; a mismatched expected version raises ConcurrencyError and writes
nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from .backends import is_integrity_error, write_event_rows
from .connections import Connections
from .encoding import checked_name, json_text
from .errors import ConcurrencyError, InvalidEvent, StoreError, StoreReadOnly, StreamTypeMismatch
from .hashing import ChainHasher, cold_sha256, instant_from_us, us_from_instant
from .records import ANY, ExpectedVersion, NewEvent, RecordedEvent, StreamInfo

Head = tuple[int, str, str]
"""(version, head hash, stream type) of a stream as this store last wrote it."""

_Prepared = tuple[str, str, Callable[[str], Any], str, Callable[[str], Any], int | None]
"""(event type, payload text, its reader, metadata text, its reader, recorded_at in us)."""


class RememberedHeads(dict[str, Head]):
    """The heads a SQLite store wrote, so that appending one event skips reading the head.

    Only ever a shortcut, never trusted blindly: see Appender._append_known for why a stale
    head can only send the append back to the read path. PostgreSQL stores are shared by
    design and remember nothing (``enabled`` False). At most ``most`` heads are kept.
    """

    def __init__(self, enabled: bool, most: int = 100_000) -> None:
        super().__init__()
        self.enabled = enabled
        self.most = most

    def remember(self, stream_id: str, head: Head) -> None:
        if not self.enabled:
            return
        if len(self) >= self.most:
            self.clear()
        self[stream_id] = head


class _StaleHead(Exception):
    """A remembered stream head no longer matches the database; nothing was written."""


class Appender:
    """Appends events to streams: one path, with the remembered head as its shortcut."""

    def __init__(self, connections: Connections,
                 stream_of: Callable[[str], StreamInfo | None]) -> None:
        self._c = connections
        self._sql = connections.sql
        self._stream_of = stream_of
        self._hasher = ChainHasher(cold_sha256)
        self._heads = RememberedHeads(connections.backend.name == "sqlite")

    def append(
        self, stream_id: str, stream_type: str, events: Sequence[NewEvent],
        expected_version: ExpectedVersion = ANY,
    ) -> list[RecordedEvent]:
        """Append events atomically; all are stored or none (ConcurrencyError on a mismatch)."""
        known = self._heads.get(stream_id) if type(stream_id) is str else None
        if (known is not None and known[2] == stream_type and type(events) is list
                and len(events) == 1
                and (expected_version is ANY or expected_version == known[0])
                and self._c.batch_thread is None):
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
        if self._c.read_only:
            raise StoreReadOnly("append")
        heads = self._heads
        if known is None or type(stream_type) is not str or known[2] != stream_type:
            checked_name(stream_id, "stream id")  # a remembered stream's were checked when it began
            checked_name(stream_type, "stream type")
        if not events:
            raise InvalidEvent("append needs at least one event")
        if expected_version is not ANY and (
            not isinstance(expected_version, int) or expected_version < 0
        ):
            raise InvalidEvent(f"expected version must be ANY or an int >= 0, "
                               f"not {expected_version!r}")
        prepared = [
            (checked_name(e.type, "event type"), *json_text(e.payload, "payload"),
             *json_text(e.metadata, "metadata"),
             None if e.recorded_at is None else us_from_instant(e.recorded_at))
            for e in events
        ]
        heads.pop(stream_id, None)
        batch = self._c.batch_conn()
        if batch is not None:  # an error other than a refusal aborts the whole batch
            with self._c.guard():
                return self._append_in(batch, stream_id, stream_type, prepared,
                                       expected_version)
        try:
            with self._c.writer.transaction() as dbapi:
                written = self._append_in(dbapi, stream_id, stream_type, prepared,
                                          expected_version)
        except Exception as e:
            error = self._append_error(e, stream_id, expected_version)
            if error is None:
                raise
            raise error from e
        heads.remember(stream_id, (written[-1].version, written[-1].hash, stream_type))
        return written

    def _append_error(self, e: Exception, stream_id: str,
                      expected_version: ExpectedVersion) -> StoreError | None:
        """The error an append that failed with ``e`` raises instead (None: ``e`` itself)."""
        if is_integrity_error(e):
            # Only reachable if a writer bypassed the lock: the unique (stream, version)
            # key still refuses the duplicate, and the caller learns the truth.
            info = self._stream_of(stream_id)
            return ConcurrencyError(stream_id, expected_version, info.version if info else 0)
        return self._c.store_error(e)

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
        type_ = checked_name(event.type, "event type")
        payload, read_payload = json_text(event.payload, "payload")
        meta, read_meta = json_text(event.metadata, "metadata")
        at = event.recorded_at
        recorded = time.time_ns() // 1000 if at is None else us_from_instant(at)
        current, previous, _ = known
        version = current + 1
        hasher = self._hasher
        digest = hasher.hash_text(previous, stream_id, version, type_, hasher.iso(recorded),
                                  payload, meta)
        sql = self._sql
        with self._c.writer as dbapi:
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
                write_event_rows(cur, self._c.backend.name, sql.insert_event, rows)
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
