"""Look inside a SQLite file without changing a byte of it, its ``-wal`` or its ``-shm``.

A file esaudit has not yet recognised may be someone else's evidence, and an ordinary read-only
connection is not harmless: on a database in WAL mode it writes read marks into the ``-shm``
file, creates ``-wal`` and ``-shm`` when they are missing, and a writable connection's close
checkpoints the log into the main file and deletes it. So the connection is chosen from what is
on disk:

- not in WAL mode: ``mode=ro`` (a rollback-journal database is read without any write);
- WAL mode with both ``-wal`` and ``-shm``: ``mode=ro&readonly_shm=1``; SQLite reads the log
  into private memory instead of taking read marks in the shared index, so uncheckpointed pages
  are seen and nothing is written;
- WAL mode with no log (or an empty one): ``immutable=1``; the main file is the whole database
  and SQLite neither locks it nor creates the side files;
- WAL mode with a log but no ``-shm``: SQLite cannot read the log without creating ``-shm``,
  so the file and its log are copied into a private folder and the copy is read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .errors import StoreOpenError

SQLITE_MAGIC = b"SQLite format 3\x00"
_WAL_MODE = 2  # file format versions at header offsets 18 and 19


@dataclass(frozen=True, slots=True)
class SqliteLook:
    """What a SQLite file holds, as far as deciding how to open it needs."""

    tables: frozenset[str]
    meta: dict[str, str]
    """The ``es_meta`` key/value rows when the file has that table (an esaudit store)."""


def is_wal_mode(path: Path) -> bool:
    with path.open("rb") as f:
        header = f.read(20)
    return len(header) == 20 and header[18] == _WAL_MODE and header[19] == _WAL_MODE


def check_header(path: Path) -> None:
    """Refuse a non-empty file that does not start like a SQLite database, before SQLite is
    asked to open it."""
    with path.open("rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head and head != SQLITE_MAGIC:
        raise StoreOpenError(f"{path} is not a readable SQLite database (file is not a "
                             "database)")


def _uri(path: Path, query: str) -> str:
    return f"file:{quote(str(path))}?{query}"


@contextmanager
def untouched_connection(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to ``path`` that leaves the file and its side files as they were."""
    check_header(path)
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    has_log = wal.exists() and wal.stat().st_size > 0
    folder: tempfile.TemporaryDirectory[str] | None = None
    if not is_wal_mode(path):
        uri = _uri(path, "mode=ro")
    elif has_log and shm.exists():
        uri = _uri(path, "mode=ro&readonly_shm=1")
    elif not has_log:
        uri = _uri(path, "immutable=1")
    else:  # a log without its index: looked at in a copy (rare, so loaded only here)
        import shutil
        import tempfile
        folder = tempfile.TemporaryDirectory(prefix="esaudit-look-")
        copy = Path(folder.name) / "db"
        shutil.copyfile(path, copy)
        shutil.copyfile(wal, f"{copy}-wal")
        uri = _uri(copy, "mode=ro")
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        try:
            yield conn
        finally:
            conn.close()
    finally:
        if folder is not None:
            folder.cleanup()


def look(path: Path) -> SqliteLook:
    """The tables of a SQLite file and its esaudit meta rows, read without changing anything.

    Driver errors propagate as ``sqlite3`` errors; the caller translates them.
    """
    with untouched_connection(path) as conn:
        tables = frozenset(r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"))
        meta: dict[str, str] = {}
        if "es_meta" in tables:
            meta = {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM es_meta")}
    return SqliteLook(tables, meta)
