"""Where a store's events came from: the ``imports`` ranges and the origin of one stream.

An import writes its events at consecutive positions in one transaction, so one row per
import (its first and last position) records the origin of every event it copied in; the
store's own ``append`` is every other position. Reading them is one small table, in driver
SQL inside the caller's read transaction (``Connections.reads``); the writes run in the
import's and the upgrade's own SQLAlchemy transactions.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .records import UNKNOWN_ORIGIN, Origins
from .schema_meta import ORIGINS_KNOWN_AFTER

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from .connections import Reads

_HEAD = "SELECT position FROM events ORDER BY position DESC LIMIT 1"


def read_origins(q: Reads, schema_version: int) -> Origins:
    """The store's origins; a store older than the ``imports`` table (opened read-only, so
    not upgraded) knows none of its events' origins."""
    if schema_version < 2:
        return Origins(known_after=int(q.value(_HEAD) or 0))
    known = q.value(f"SELECT value FROM es_meta WHERE key = {q.mark}", [ORIGINS_KNOWN_AFTER])
    ranges = q.rows("SELECT first_position, last_position FROM imports "
                    "ORDER BY first_position")
    return Origins(known_after=int(known or 0),
                   imported=tuple((int(first), int(last)) for first, last in ranges))


def origin_of(q: Reads, schema_version: int, stream_id: str) -> str:
    first = q.value(f"SELECT position FROM events WHERE stream_id = {q.mark} "
                    "ORDER BY version LIMIT 1", [stream_id])
    if first is None:
        return UNKNOWN_ORIGIN
    return read_origins(q, schema_version).of_position(int(first))


def stream_origins(q: Reads, schema_version: int,
                   stream_type: str | None) -> dict[str, str]:
    origins = read_origins(q, schema_version)
    # From the stream list: each stream's first event is one lookup of the (stream, version)
    # key, where filtering the events on version would read all of them.
    sql = ("SELECT streams.stream_id, events.position FROM streams JOIN events ON "
           "events.stream_id = streams.stream_id AND events.version = 1")
    params: list[str] = []
    if stream_type is not None:
        sql += f" WHERE streams.stream_type = {q.mark}"
        params.append(stream_type)
    return {sid: origins.of_position(int(position)) for sid, position in q.rows(sql, params)}


def record_import(conn: Connection, first: int, last: int, source: str) -> None:
    """Inside the import's own transaction: the positions it wrote, and what from."""
    from sqlalchemy import insert

    from . import schema as s

    if last >= first > 0:
        conn.execute(insert(s.imports).values(first_position=first, last_position=last,
                                              source=source[:2000],
                                              imported_at=time.time_ns() // 1000))


def upgrade_to_v2(conn: Connection) -> None:
    """Schema 1 -> 2: the ``imports`` table; events already stored are of unknown origin."""
    from sqlalchemy import insert, select

    from . import schema as s

    s.imports.create(conn, checkfirst=True)
    head = conn.execute(select(s.events.c.position).order_by(s.events.c.position.desc())
                        .limit(1)).scalar()
    conn.execute(insert(s.meta).values(key=ORIGINS_KNOWN_AFTER, value=str(int(head or 0))))
