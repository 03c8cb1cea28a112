"""The store's tables. Bump SCHEMA_VERSION (store.schema_meta) with every change and add a
migration step."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .schema_meta import ORIGINS_KNOWN_AFTER as ORIGINS_KNOWN_AFTER
from .schema_meta import SCHEMA_VERSION as SCHEMA_VERSION

metadata = MetaData()

# Positions are assigned by the store under its append lock (max + 1), so they are gapless and
# increase in commit order on every backend; see EventStore.append.
Position = BigInteger().with_variant(Integer(), "sqlite")

meta = Table(
    "es_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=False),
    Column("stream_id", String(200), nullable=False),
    Column("stream_type", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(200), nullable=False),
    Column("recorded_at", BigInteger, nullable=False),  # microseconds since the epoch, UTC
    Column("payload", Text, nullable=False),  # canonical JSON (store.hashing)
    Column("metadata", Text, nullable=False),  # canonical JSON
    Column("hash", String(64), nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
)
Index("ix_events_recorded_at", events.c.recorded_at)

streams = Table(
    "streams",
    metadata,
    Column("stream_id", String(200), primary_key=True),
    Column("stream_type", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("first_at", BigInteger, nullable=False),
    Column("last_at", BigInteger, nullable=False),
)
Index("ix_streams_type", streams.c.stream_type, streams.c.stream_id)

snapshots = Table(
    "snapshots",
    metadata,
    Column("stream_id", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("state", Text, nullable=False),
)

fold_snapshots = Table(
    "fold_snapshots",
    metadata,
    Column("stream_id", String(200), primary_key=True),
    Column("fold", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("state", Text, nullable=False),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("position", Position, nullable=False),
)

imports = Table(
    "imports",
    metadata,
    Column("first_position", Position, primary_key=True, autoincrement=False),
    Column("last_position", Position, nullable=False),
    Column("source", Text, nullable=False),  # what was imported: its format and file or URL
    Column("imported_at", BigInteger, nullable=False),  # microseconds since the epoch, UTC
)

timeline_minutes = Table(
    "timeline_minutes",
    metadata,
    Column("minute", BigInteger, primary_key=True),  # recorded_at // 60 s, UTC
    Column("stream_type", String(200), primary_key=True),
    Column("type", String(200), primary_key=True),
    Column("events", BigInteger, nullable=False),
)
