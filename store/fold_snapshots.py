"""Fold snapshots: states of a stream that a fold other than esaudit's own domain wrote.

An imported stream has no snapshots of esaudit's domain (its commands never folded it), so a
replay to a version deep in a long imported stream would fold from its first event every time.
A fold snapshot is the state one named fold (``FoldSnapshot.fold``: the payloads merged, one
table of one model file's exact text) reached at a version. A replay continues from one only
under the very fold that wrote it; any other fold ignores it. Like every snapshot it is a cache,
never the source of truth: verify replays each one whose fold it can name.

Reads and writes are driver SQL on the store's own connections; a store older than the
``fold_snapshots`` table (opened read-only, so not upgraded) simply has none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .connections import Connections
from .encoding import json_object_text
from .errors import InvalidEvent, StoreReadOnly
from .hashing import decode_json
from .records import FoldSnapshot, Snapshot

FIRST_SCHEMA = 4
"""The schema version that added the ``fold_snapshots`` table."""


class FoldSnapshots:
    """Save, load and walk the fold snapshots of esaudit's store."""

    def __init__(self, connections: Connections, schema_version: Callable[[], int]) -> None:
        self._c = connections
        self._schema_version = schema_version

    def _kept(self) -> bool:
        return self._schema_version() >= FIRST_SCHEMA

    def save(self, stream_id: str, fold: str, states: Sequence[tuple[int, dict[str, Any]]]
             ) -> int:
        """Keep the states one fold reached at versions of a stream, in one transaction;
        returns how many were kept. A state already kept for that fold and version is
        replaced: the fold's name pins its behaviour, so both hold the same state."""
        if self._c.read_only or not self._kept():
            raise StoreReadOnly("snapshot")
        rows = [(stream_id, fold, version, json_object_text(state, "snapshot state"))
                for version, state in states]
        if not rows:
            return 0
        mark = self._c.sql.mark
        with self._c.guard(), self._c.writer.transaction() as dbapi:
            cur = dbapi.cursor()
            try:
                cur.execute(f"SELECT min(version), max(version) FROM events "
                            f"WHERE stream_id = {mark}", (stream_id,))
                low, high = cur.fetchone()
                bad = [v for _s, _f, v, _t in rows if low is None or not low <= v <= high]
                if bad:
                    raise InvalidEvent(f"cannot snapshot {stream_id!r} at version {bad[0]}: "
                                       "the stream has no such version")
                cur.execute(f"DELETE FROM fold_snapshots WHERE stream_id = {mark} "
                            f"AND fold = {mark}", (stream_id, fold))
                cur.executemany(f"INSERT INTO fold_snapshots (stream_id, fold, version, state) "
                                f"VALUES ({mark}, {mark}, {mark}, {mark})", rows)
            finally:
                cur.close()
        return len(rows)

    def load(self, stream_id: str, fold: str, at_or_below: int | None = None
             ) -> Snapshot | None:
        """The latest state ``fold`` kept at or below a version (or the latest of all)."""
        if not self._kept():
            return None
        mark = self._c.sql.mark
        sql = (f"SELECT version, state FROM fold_snapshots WHERE stream_id = {mark} "
               f"AND fold = {mark}")
        params: list[Any] = [stream_id, fold]
        if at_or_below is not None:
            sql += f" AND version <= {mark}"
            params.append(at_or_below)
        rows = self._c.read(sql + " ORDER BY version DESC LIMIT 1", params)
        if not rows:
            return None
        version, text = rows[0]
        return Snapshot(stream_id, int(version), decode_json(text))

    def iter_all(self) -> Iterator[FoldSnapshot]:
        """Every fold snapshot in (stream, fold, version) order, a page at a time."""
        if not self._kept():
            return
        mark = self._c.sql.mark
        last: tuple[str, str, int] = ("", "", 0)
        while True:
            rows = self._c.read(
                f"SELECT stream_id, fold, version, state FROM fold_snapshots "
                f"WHERE (stream_id, fold, version) > ({mark}, {mark}, {mark}) "
                f"ORDER BY stream_id, fold, version LIMIT 500", list(last))
            for stream_id, fold, version, text in rows:
                yield FoldSnapshot(stream_id, fold, int(version), decode_json(text))
            if len(rows) < 500:
                return
            last = (rows[-1][0], rows[-1][1], int(rows[-1][2]))

    def long_streams(self, first_position: int, last_position: int, at_least: int
                     ) -> list[tuple[str, str]]:
        """(stream id, type) of the streams whose head lies in a run of positions and that
        hold at least ``at_least`` versions: after an import (which only ever creates
        streams), its long streams."""
        mark = self._c.sql.mark
        # CROSS JOIN keeps SQLite on the stream list first (one head looked up per long
        # stream) instead of walking the import's whole run of positions.
        rows = self._c.read(
            f"SELECT s.stream_id, s.stream_type FROM streams s CROSS JOIN events e "
            f"WHERE s.version >= {mark} AND e.stream_id = s.stream_id "
            f"AND e.version = s.version AND e.position BETWEEN {mark} AND {mark} "
            f"ORDER BY s.stream_id", [at_least - 1, first_position, last_position])
        return [(str(sid), str(kind)) for sid, kind in rows]
