"""Where a store's events came from: the ``imports`` ranges and the origin of one stream.

An import writes its events at consecutive positions in one transaction, so one row per
import (its first and last position) records the origin of every event it copied in; the
store's own ``append`` is every other position. Reading them is one small table.
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, insert, select

from . import schema as s
from .records import UNKNOWN_ORIGIN, Origins


def read_origins(conn: Connection, schema_version: int) -> Origins:
    """The store's origins; a store older than the ``imports`` table (opened read-only, so
    not upgraded) knows none of its events' origins."""
    if schema_version < 2:
        head = conn.execute(select(s.events.c.position).order_by(s.events.c.position.desc())
                            .limit(1)).scalar()
        return Origins(known_after=int(head or 0))
    known = conn.execute(select(s.meta.c.value)
                         .where(s.meta.c.key == s.ORIGINS_KNOWN_AFTER)).scalar()
    ranges = conn.execute(select(s.imports.c.first_position, s.imports.c.last_position)
                          .order_by(s.imports.c.first_position)).all()
    return Origins(known_after=int(known or 0),
                   imported=tuple((int(r.first_position), int(r.last_position))
                                  for r in ranges))


def origin_of(conn: Connection, schema_version: int, stream_id: str) -> str:
    first = conn.execute(select(s.events.c.position).where(s.events.c.stream_id == stream_id)
                         .order_by(s.events.c.version).limit(1)).scalar()
    if first is None:
        return UNKNOWN_ORIGIN
    return read_origins(conn, schema_version).of_position(int(first))


def record_import(conn: Connection, first: int, last: int, source: str) -> None:
    """Inside the import's own transaction: the positions it wrote, and what from."""
    if last >= first > 0:
        conn.execute(insert(s.imports).values(first_position=first, last_position=last,
                                              source=source[:2000],
                                              imported_at=time.time_ns() // 1000))


def upgrade_to_v2(conn: Connection) -> None:
    """Schema 1 -> 2: the ``imports`` table; events already stored are of unknown origin."""
    s.imports.create(conn, checkfirst=True)
    head = conn.execute(select(s.events.c.position).order_by(s.events.c.position.desc())
                        .limit(1)).scalar()
    conn.execute(insert(s.meta).values(key=s.ORIGINS_KNOWN_AFTER, value=str(int(head or 0))))


def stream_origins(conn: Connection, schema_version: int,
                   stream_type: str | None) -> dict[str, str]:
    origins = read_origins(conn, schema_version)
    # From the stream list: each stream's first event is one lookup of the (stream, version)
    # key, where filtering the events on version would read all of them.
    query = (select(s.streams.c.stream_id, s.events.c.position)
             .join(s.events, (s.events.c.stream_id == s.streams.c.stream_id)
                   & (s.events.c.version == 1)))
    if stream_type is not None:
        query = query.where(s.streams.c.stream_type == stream_type)
    return {r.stream_id: origins.of_position(int(r.position)) for r in conn.execute(query)}
