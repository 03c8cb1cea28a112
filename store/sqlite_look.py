"""Look inside a SQLite file without changing a byte of it, its ``-wal`` or its ``-shm``.

A file esaudit has not yet recognised may be someone else's evidence, and an ordinary read-only
connection is not harmless: on a database in WAL mode it writes read marks into the ``-shm``
file, creates ``-wal`` and ``-shm`` when they are missing, and a writable connection's close
checkpoints the log into the main file and deletes it. So the connection is chosen from what is
on disk:

- not in WAL mode: ``mode=ro`` (a rollback-journal database is read without any write),
  with ``readonly_shm=1`` in case the application switches it to WAL meanwhile;
- WAL mode with both ``-wal`` and ``-shm``: ``mode=ro&readonly_shm=1``; SQLite reads the log
  into private memory instead of taking read marks in the shared index, so uncheckpointed pages
  are seen and nothing is written;
- WAL mode with no log (or an empty one): ``immutable=1``; the main file is the whole database
  and SQLite neither locks it nor creates the side files;
- WAL mode with a log but no ``-shm``: SQLite cannot read the log without creating ``-shm``,
  so the file and its log are copied into a private folder and the copy is read;
- a hot ``-journal`` (a writer stopped midway through a transaction in rollback-journal mode):
  reading it means rolling it back, which only a writable connection does, so the file and its
  journal are copied into a private folder and the copy is rolled back and read: the last
  committed state, as the writer's next open will find it.

The side files are another program's to make and remove: its first connection makes them, its
last one checkpoints the log into the main file and removes both. A choice made from what was
on disk is therefore checked when the open fails and around each read (``Untouched``), and
made again when the files have changed meanwhile. The checks around a read stat the files and
read the log's header, never open the main file or the log's index: closing a descriptor of a
file drops every lock the process holds on it, SQLite's included.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from .errors import StoreOpenError

if TYPE_CHECKING:
    import tempfile

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


def _file_key(path: Path) -> tuple[int, int, int] | None:
    """What a write to a file changes (inode, size, modification time); None if it is gone."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _disk(path: Path) -> tuple[object, ...]:
    """The file and its side files as they are now: a connection chosen from them is chosen
    again once they differ."""
    return (_file_key(path), _file_key(Path(f"{path}-wal")), _file_key(Path(f"{path}-shm")),
            _file_key(Path(f"{path}-journal")))


_RACY_NS = 2_000_000_000
"""How recent a modification time may be and still leave a later write in the same clock tick
unseen: file systems stamp writes with a coarse clock (a few milliseconds on many Linux
kernels, a second or two on others), so a basis taken this soon after a write is not trusted."""


@dataclass(slots=True)
class Untouched:
    """A connection that leaves the file and its side files as they were, and what its reads
    rely on staying as it is on disk (its ``basis``).

    An ``immutable=1`` connection reads the main file without a lock, so a writer that has
    since checkpointed its log into that file would have it read a mix of two states (or its
    cache of the old one); a ``readonly_shm`` connection maps the log's index it found, so a
    log removed by the last writer's close and made again by the next writer is one it no
    longer sees; a ``mode=ro`` connection to a file not in WAL mode would start writing read
    marks into a log's index if the application switched the file to WAL. A copy never
    changes.
    """

    conn: sqlite3.Connection
    path: Path
    mode: str
    basis: object
    taken_ns: int

    def holds(self) -> bool:
        """Whether nothing the connection relies on has changed on disk, as far as inodes,
        sizes and modification times tell."""
        return _basis(self.path, self.mode) == self.basis

    def trusted(self) -> bool:
        """``holds``, and not so soon after a write to the main file that a further write
        could have left its modification time as it was: a read starts on such a
        connection, or on one opened afresh."""
        now = _basis(self.path, self.mode)
        if now != self.basis:
            return False
        if self.mode not in ("immutable", "ro"):
            return True
        return isinstance(now, tuple) and now[2] < self.taken_ns - _RACY_NS

    def read_holds(self) -> bool:
        """Whether a read that has just ended saw one state of the file: ``holds``, except on
        a ``mode=ro`` connection, whose reads SQLite's own locks keep whole (a write since
        matters only to the next read, which ``trusted`` opens afresh), and on a copy."""
        return self.mode in ("ro", "copy", "journal_copy") or self.holds()


def _basis(path: Path, mode: str) -> object:
    """What a connection of ``mode`` relies on staying as it is (None: nothing)."""
    if mode in ("immutable", "ro"):
        return _file_key(path)
    if mode == "readonly_shm":
        wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
        wal_key, shm_key = _file_key(wal), _file_key(shm)
        return (wal_key and wal_key[0], shm_key and shm_key[0], _log_generation(wal))
    if mode == "journal_copy":  # the writer's next open rolls the journal back: read again
        return (_file_key(path), _file_key(Path(f"{path}-journal")))
    return None


def _log_generation(wal: Path) -> bytes:
    """The checkpoint sequence and salts of a log's header, which a log made again (or
    restarted from its start) has anew: a file system may give a new log the inode of the
    one just removed. SQLite locks the main file and the log's index, never the log, so
    reading it here drops none of its locks."""
    try:
        with wal.open("rb") as f:
            return f.read(24)[12:]
    except FileNotFoundError:
        return b""


_OPEN_ATTEMPTS = 20


@contextmanager
def untouched_connection(path: Path) -> Iterator[Untouched]:
    """A read-only connection to ``path`` that leaves the file and its side files as they were.

    The way to open it is chosen from the side files on disk; a writer that removes or makes
    them between that look and the open (its last connection closing, its first opening) is
    met by choosing again, while an open that fails with the files as they were is an error.
    """
    check_header(path)
    hot = False
    for attempt in range(_OPEN_ATTEMPTS):
        seen = _disk(path)
        folder: tempfile.TemporaryDirectory[str] | None = None
        try:
            taken = time.time_ns()
            mode, uri, folder = _journal_copy(path) if hot else _choose(path)
            basis = _basis(path, mode)
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            try:
                # opens the log and its index; a copy's hot journal is rolled back here
                conn.execute("PRAGMA schema_version").fetchone()
                if hot:
                    conn.execute("PRAGMA query_only=ON")
            except BaseException:
                conn.close()
                raise
        except (sqlite3.OperationalError, OSError) as error:
            if folder is not None:
                folder.cleanup()
            rollback = getattr(error, "sqlite_errorname", "") == "SQLITE_READONLY_ROLLBACK"
            if rollback and not hot and attempt + 1 < _OPEN_ATTEMPTS:  # a hot journal met
                hot = True
                continue
            if attempt + 1 == _OPEN_ATTEMPTS or _disk(path) == seen:
                if hot and isinstance(error, OSError):
                    raise StoreOpenError(
                        f"{path} holds a write that stopped midway (its -journal file); it is "
                        f"read through a private copy in TMPDIR, and the copy failed: {error}"
                    ) from error
                raise
            hot = False  # the files changed meanwhile: choose again from what is on disk
            continue
        try:
            yield Untouched(conn, path, mode, basis, taken)
        finally:
            conn.close()
            if folder is not None:
                folder.cleanup()
        return


def _choose(path: Path) -> tuple[str, str, tempfile.TemporaryDirectory[str] | None]:
    """(mode, URI, private folder of a copy) for the side files on disk now."""
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    has_log = wal.exists() and wal.stat().st_size > 0
    if not is_wal_mode(path):  # readonly_shm: a switch to WAL meanwhile writes no read mark
        return "ro", _uri(path, "mode=ro&readonly_shm=1"), None
    if has_log and shm.exists():
        return "readonly_shm", _uri(path, "mode=ro&readonly_shm=1"), None
    if not has_log:
        return "immutable", _uri(path, "immutable=1"), None
    # a log without its index: looked at in a copy (rare, so loaded only here)
    import shutil
    import tempfile
    folder = tempfile.TemporaryDirectory(prefix="esaudit-look-")
    try:
        before = _disk(path)
        copy = Path(folder.name) / "db"
        shutil.copyfile(path, copy)
        shutil.copyfile(wal, f"{copy}-wal")
        if _disk(path) != before:  # a checkpoint between the two copies: they would not match
            raise OSError(f"{path} changed while it was copied")
    except BaseException:
        folder.cleanup()
        raise
    return "copy", _uri(copy, "mode=ro"), folder


def _journal_copy(path: Path) -> tuple[str, str, tempfile.TemporaryDirectory[str]]:
    """The file and its hot journal copied into a private folder, opened writable there so
    that SQLite rolls the copy back."""
    import shutil
    import tempfile
    folder = tempfile.TemporaryDirectory(prefix="esaudit-look-")
    try:
        before = _disk(path)
        copy = Path(folder.name) / "db"
        shutil.copyfile(path, copy)
        shutil.copyfile(f"{path}-journal", f"{copy}-journal")
        if _disk(path) != before:  # written or rolled back meanwhile: the two would not match
            raise OSError(f"{path} changed while it was copied")
    except BaseException:
        folder.cleanup()
        raise
    return "journal_copy", _uri(copy, "mode=rw"), folder


def look(path: Path) -> SqliteLook:
    """The tables of a SQLite file and its esaudit meta rows, read without changing anything.

    Driver errors propagate as ``sqlite3`` errors; the caller translates them.
    """
    for _attempt in range(_OPEN_ATTEMPTS):
        with untouched_connection(path) as untouched:
            conn = untouched.conn
            tables = frozenset(r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"))
            meta: dict[str, str] = {}
            if "es_meta" in tables:
                meta = {str(k): str(v) for k, v in conn.execute(
                    "SELECT key, value FROM es_meta")}
            if untouched.holds():
                return SqliteLook(tables, meta)
    raise StoreOpenError(f"{path} was written to each time it was read ({_OPEN_ATTEMPTS} "
                         "times): open it again")
