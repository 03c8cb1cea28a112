"""Correlation and causation ids in event metadata, and the index that finds a correlation.

esaudit's commands write ``correlation_id`` and ``causation_id`` (and ``command_id``) into each
event's metadata; other programs spell them their own way (Emmett's ``correlationId`` and
``causationId``), and an imported history keeps its writer's spelling. Both spellings are read
everywhere, so a history traces the same in esaudit's store as where it came from.

esaudit's store answers "every event of this correlation" from an index on the correlation id
(schema 3: ``ix_events_correlation``, an expression index over the metadata text), so a trace
in a store of millions of events reads the few rows it needs. A store opened read-only at an
older schema has no such index: the same query then scans, and still answers.

Work that fills an empty SQLite store (an import, a seed) drops the index and builds it once
over the finished table: kept up row by row it costs about a quarter of an import's inserts
and a tenth of a seed. A seed commits batch by batch, so a process killed midway can leave the
index missing; the next writable open builds it again (``EventStore``), and until then a trace
scans and still answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection

CORRELATION_KEYS = ("correlation_id", "correlationId")
CAUSATION_KEYS = ("causation_id", "causationId")
MESSAGE_ID_KEYS = ("event_id", "eventId", "message_id", "messageId")
"""Metadata keys that name an event itself, which another event's causation id may cite."""

CORRELATION_INDEX = "ix_events_correlation"

_SQLITE_CORRELATION = ("coalesce(json_extract(metadata, '$.correlation_id'), "
                       "json_extract(metadata, '$.correlationId'))")
_POSTGRES_CORRELATION = ("coalesce(metadata::jsonb ->> 'correlation_id', "
                         "metadata::jsonb ->> 'correlationId')")


def first_text(metadata: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    """The value of the first of ``keys`` the metadata holds, if it is text (what the
    correlation index holds: the first key present, compared as text)."""
    for key in keys:
        value = metadata.get(key)
        if value is not None:
            return value if isinstance(value, str) else None
    return None


def correlation_expression(dialect: str) -> str:
    """The correlation id of an ``events`` row, exactly as the index is built on it (a
    query must spell the expression the same way for the database to use the index)."""
    return _SQLITE_CORRELATION if dialect == "sqlite" else _POSTGRES_CORRELATION


def create_correlation_index(conn: Connection) -> None:
    """The index on each event's correlation id (idempotent)."""
    dialect = conn.dialect.name
    expression = correlation_expression(dialect)
    if dialect != "sqlite":
        expression = f"({expression})"
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {CORRELATION_INDEX} ON events ({expression})")


def upgrade_to_v3(conn: Connection) -> None:
    """Schema 2 -> 3: the correlation index, built over the events already stored."""
    create_correlation_index(conn)


SQLITE_FINDS_CORRELATION_INDEX = ("SELECT 1 FROM sqlite_master WHERE type = 'index' AND "
                                  f"name = '{CORRELATION_INDEX}'")
"""A row if a SQLite store holds the correlation index, none if not."""


def sqlite_has_correlation_index(conn: Connection) -> bool:
    """Whether a SQLite store holds the correlation index."""
    return conn.exec_driver_sql(SQLITE_FINDS_CORRELATION_INDEX).first() is not None


def drop_correlation_index(conn: Connection) -> bool:
    """Drop the correlation index of a SQLite store inside the caller's transaction, and say
    whether it was there (the caller builds it again with ``create_correlation_index``)."""
    if not sqlite_has_correlation_index(conn):
        return False
    conn.exec_driver_sql(f"DROP INDEX {CORRELATION_INDEX}")
    return True
