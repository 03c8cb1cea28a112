"""Opening any event store esaudit reads: its own, or another program's, read-only.

``detect_kind`` looks at what a database holds (without a write: SQLite through
``store.sqlite_look``) and names the kind; ``open_source`` opens it. esaudit's own store opens
as ``store.EventStore`` (writable unless asked otherwise); every other kind opens as a read-only
adapter (``store.sources.base.ForeignSource``), whatever the caller asked, because a store
esaudit did not write is someone's evidence. The adapters (and SQLAlchemy, which they read
through) load only when a store is not esaudit's own SQLite file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

from ..backends import sqlite_path, translate
from ..errors import StoreOpenError
from ..eventstore import EventStore, open_store
from ..protocol import Source
from ..sqlite_look import look

KINDS = ("esaudit", "eventsourcing", "emmett")
EMMETT_TABLES = frozenset(("emt_messages", "emt_streams"))


def kind_of(tables: Mapping[str, frozenset[str]], dialect: str) -> str | None:
    """The kind of store these tables are (None: an empty database, or one esaudit does not
    know)."""
    names = set(tables)
    if "es_meta" in names or {"events", "streams"} <= names:
        return "esaudit"
    if names >= EMMETT_TABLES:
        return "emmett"
    from .eventsourcing import find_layouts

    if find_layouts(tables, dialect):
        return "eventsourcing"
    return None


def _sqlite_tables(path: Path) -> dict[str, frozenset[str]]:
    try:
        found = look(path)
    except sqlite3.Error as e:
        raise translate(e, str(path)) from e
    return {name: frozenset() for name in found.tables}


def detect_kind(target: str | Path, *, other_schemas: bool = True) -> str | None:
    """What kind of store a target holds; None for a missing file or an empty database.

    A PostgreSQL connection whose own schema is empty may mean an eventsourcing application
    in a schema of its own (``POSTGRES_SCHEMA``); ``other_schemas=False`` (an open that may
    create esaudit's store in that empty schema) does not look there.
    """
    path = sqlite_path(target)
    if path is not None:
        if not path.exists():
            return None
        quick = _sqlite_tables(path)
        if not quick or kind_of(quick, "sqlite") == "esaudit":
            return kind_of(quick, "sqlite")
    from .database import ReadOnlyDatabase
    from .eventsourcing import all_layouts

    db = ReadOnlyDatabase(target)
    try:
        kind = kind_of(db.tables(), db.dialect)
        if kind is None and other_schemas and not db.tables() and all_layouts(db):
            kind = "eventsourcing"  # in a schema of its own (POSTGRES_SCHEMA)
        return kind
    finally:
        db.close()


def parse_kind(text: str) -> tuple[str, str | None]:
    """``KIND`` or ``KIND:APPLICATION`` (an eventsourcing application's table prefix, an
    Emmett partition)."""
    kind, _, application = text.partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise StoreOpenError(f"unknown source kind {kind!r}: use one of {', '.join(KINDS)}")
    return kind, (application.strip() or None)


def open_source(target: str | Path, *, kind: str | None = None, read_only: bool = False,
                create: bool = True, synchronous: str = "FULL",
                cipher_key: str | None = None) -> Source:
    """Open the store at a target as the kind it is (or the kind forced, ``KIND[:APP]``)."""
    forced, application = parse_kind(kind) if kind else (None, None)
    found = forced or detect_kind(target, other_schemas=read_only or not create) or "esaudit"
    if found == "esaudit":
        store: EventStore = open_store(target, read_only=read_only, create=create,
                                       synchronous=synchronous)
        return store
    from .database import ReadOnlyDatabase
    from .emmett import open_emmett
    from .eventsourcing import open_eventsourcing

    db = ReadOnlyDatabase(target)
    try:
        if found == "eventsourcing":
            return open_eventsourcing(db, application=application, cipher_key=cipher_key)
        return open_emmett(db, partition=application)
    except BaseException:
        db.close()
        raise


__all__ = ["EMMETT_TABLES", "KINDS", "detect_kind", "kind_of", "open_source", "parse_kind"]
