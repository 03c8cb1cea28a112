"""Snapshots: cached states of a stream at a version, so a replay folds only what follows.

A snapshot never changes the history and is never its source of truth: verify replays each one
and reports a snapshot that disagrees with the events.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

from .connections import Connections
from .encoding import json_object_text
from .errors import InvalidEvent, StoreReadOnly
from .records import Snapshot


class Snapshots:
    """Save, load and walk a store's snapshots."""

    def __init__(self, connections: Connections) -> None:
        self._c = connections


    def save_snapshot(self, stream_id: str, version: int, state: dict[str, Any]) -> None:
        """Cache a state at a version that exists; a snapshot never changes the history."""
        if self._c.read_only:
            raise StoreReadOnly("snapshot")
        text = json_object_text(state, "snapshot state")
        batch = self._c.batch_conn()
        with self._c.guard(), (nullcontext(batch) if batch is not None
                             else self._c.writer.transaction()) as dbapi:
            cur = dbapi.cursor()
            try:
                cur.execute(self._c.sql.head, (stream_id,))
                head = cur.fetchone()
                if head is None or not 1 <= version <= head[0]:
                    raise InvalidEvent(f"cannot snapshot {stream_id!r} at version {version}: "
                                       f"the stream is at {head[0] if head else 0}")
                cur.execute(self._c.sql.delete_snapshot, (stream_id, version))
                cur.execute(self._c.sql.insert_snapshot, (stream_id, version, text))
            finally:
                cur.close()

    def load_snapshot(self, stream_id: str, at_or_below: int | None = None) -> Snapshot | None:
        """The latest snapshot at or below a version (or the latest of all)."""
        mark = self._c.sql.mark
        sql = f"SELECT version, state FROM snapshots WHERE stream_id = {mark}"
        params: list[Any] = [stream_id]
        if at_or_below is not None:
            sql += f" AND version <= {mark}"
            params.append(at_or_below)
        rows = self._c.read(f"{sql} ORDER BY version DESC LIMIT 1", params)
        return Snapshot(stream_id, rows[0][0], json.loads(rows[0][1])) if rows else None

    def iter_snapshots(self) -> Iterator[Snapshot]:
        mark = self._c.sql.mark
        sql = (f"SELECT stream_id, version, state FROM snapshots WHERE stream_id > {mark} "
               f"OR (stream_id = {mark} AND version > {mark}) "
               "ORDER BY stream_id, version LIMIT 500")
        last: tuple[str, int] = ("", 0)
        while True:
            rows = self._c.read(sql, [last[0], last[0], last[1]])
            for row in rows:
                yield Snapshot(row[0], row[1], json.loads(row[2]))
            if len(rows) < 500:
                return
            last = (rows[-1][0], rows[-1][1])
