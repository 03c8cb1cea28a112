"""Looking at a SQLite file another program is writing: the way to open it is chosen from its
side files, which that program makes and removes as its connections come and go; a read never
fails for that and never mixes two states of the file."""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import store.sources.database
from store import StoreError
from store.sources.database import ReadOnlyDatabase
from store.sqlite_look import check_header, look, untouched_connection


def _wal_database(path: Path, rows: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(rows)])
    conn.commit()
    conn.close()  # the last connection's close removes -wal and -shm


@contextmanager
def _reading(path: Path) -> Iterator[ReadOnlyDatabase]:
    db = ReadOnlyDatabase(path)
    try:
        yield db
    finally:
        db.close()


def _write(path: Path, rows: int) -> None:
    """What an application's connection does: open, commit, close (checkpointed, log gone)."""
    conn = sqlite3.connect(path)
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(rows)])
    conn.commit()
    conn.close()


def _churn(path: str, stop: mp.synchronize.Event, ready: mp.synchronize.Event) -> None:
    while not stop.is_set():
        _write(Path(path), 10)
        ready.set()


@pytest.fixture
def churning(tmp_path: Path) -> Iterator[Path]:
    """A WAL database whose writer opens, commits and closes over and over."""
    path = tmp_path / "busy.db"
    _wal_database(path, 10)
    ctx = mp.get_context("spawn")
    stop, ready = ctx.Event(), ctx.Event()
    writer = ctx.Process(target=_churn, args=(str(path), stop, ready), daemon=True)
    writer.start()
    try:
        assert ready.wait(30)
        yield path
    finally:
        stop.set()
        writer.join(30)
        if writer.is_alive():
            writer.terminate()


def test_a_look_at_a_file_whose_writer_comes_and_goes_never_fails(churning: Path) -> None:
    errors = []
    for _ in range(400):
        try:
            assert look(churning).tables == frozenset({"t"})
        except (sqlite3.Error, OSError, StoreError) as e:
            errors.append(repr(e))
    assert errors == []


def test_reads_meanwhile_count_rows_the_writer_committed(churning: Path) -> None:
    with _reading(churning) as db:
        counts = []
        for _ in range(300):
            try:
                with db.read() as reads:
                    counts.append(reads.value("SELECT count(*) FROM t"))
            except StoreError as e:  # a checkpoint during that very read: said, not mixed
                assert "read it again" in str(e)
        assert counts and all(n % 10 == 0 for n in counts)
        assert counts == sorted(counts) and counts[-1] > counts[0]  # not one cached state


def test_a_database_checkpointed_since_it_was_opened_is_read_as_it_is_now(
        tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    _wal_database(path, 1000)
    with _reading(path) as db:  # no log on disk: the main file is the whole database
        with db.read() as reads:
            assert reads.value("SELECT count(*) FROM t") == 1000
        for _ in range(3):
            _write(path, 50_000)
        with db.read() as reads:
            assert reads.first("SELECT count(*) FROM t") == (151_000,)


class _Writer:
    """An application's connection held open in a process of its own (connections in one
    process share the log's index, so a read beside them in that process proves nothing)."""

    SCRIPT = (
        "import sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1])\n"
        "if sys.argv[2:]:\n"
        "    conn.execute('PRAGMA journal_mode=WAL')\n"
        "for line in sys.stdin:\n"
        "    conn.executemany('INSERT INTO t VALUES (?)', [(1,)] * int(line))\n"
        "    conn.commit()\n"
        "    print('done', flush=True)\n"
        "conn.close()\n")

    def __init__(self, path: Path, *, wal: bool = False) -> None:
        args = [sys.executable, "-c", self.SCRIPT, str(path), *(["wal"] if wal else [])]
        self._proc = subprocess.Popen(args,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def write(self, rows: int) -> None:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(f"{rows}\n")
        self._proc.stdin.flush()
        assert self._proc.stdout.readline() == "done\n"

    def close(self) -> None:
        """Its last connection closes: the log is checkpointed and removed."""
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        assert self._proc.wait(30) == 0


def _drop_locks(path: Path) -> None:
    """Open and close the file outside SQLite, as ``check_header`` does: POSIX then drops
    every lock this process holds on it, SQLite's included, so the writer's close removes
    the log and its index although esaudit's connection is open."""
    check_header(path)


def test_a_log_made_again_by_the_next_writer_is_the_one_read(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    _wal_database(path, 10)
    first = _Writer(path)
    first.write(1)  # a writer connected: its log and the log's index are on disk
    with _reading(path) as db:
        with db.read() as reads:
            assert reads.value("SELECT count(*) FROM t") == 11
        _drop_locks(path)
        first.close()
        assert not Path(f"{path}-shm").exists()
        second = _Writer(path)
        second.write(100)
        with db.read() as reads:
            assert reads.value("SELECT count(*) FROM t") == 111
        second.close()


def test_a_checkpoint_during_a_read_of_the_main_file_is_an_error_not_a_mix(
        tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    _wal_database(path, 1000)
    with _reading(path) as db:
        with pytest.raises(StoreError, match="checkpointed by its application while it was "
                                             "read"), db.read() as reads:
            reads.value("SELECT count(*) FROM t")
            _write(path, 5000)  # new pages: the file grows, whatever its clock's tick
        with db.read() as reads:
            assert reads.value("SELECT count(*) FROM t") == 6000


def test_a_file_switched_to_wal_while_it_is_open_gets_no_byte_from_esaudit(
        tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.commit()
    conn.close()  # a rollback-journal database
    with _reading(path) as db:
        with db.read() as reads:
            assert reads.value("SELECT count(*) FROM t") == 0
        writer = _Writer(path, wal=True)
        writer.write(3)
        shm = Path(f"{path}-shm")
        before = shm.read_bytes()
        with db.read() as reads:
            assert reads.value("SELECT count(*) FROM t") == 3
        assert shm.read_bytes() == before
        _drop_locks(path)
        writer.close()
        assert not shm.exists()
        with db.read() as reads:
            assert reads.value("SELECT count(*) FROM t") == 3
        assert not shm.exists() and not Path(f"{path}-wal").exists()
    assert not shm.exists() and not Path(f"{path}-wal").exists()


def test_a_write_after_a_read_of_a_rollback_journal_file_leaves_that_read_whole(
        tmp_path: Path) -> None:
    """SQLite's locks keep such a read whole: the write is the next read's matter, not a
    "read it again" for this one."""
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.commit()
    conn.close()
    with untouched_connection(path) as untouched:
        assert untouched.conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
        _write(path, 5000)
        assert not untouched.holds() and not untouched.trusted()
        assert untouched.read_holds()


def test_a_failed_open_afresh_is_tried_again_by_the_next_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "app.db"
    _wal_database(path, 10)
    with _reading(path) as db:
        def busy(_path: Path) -> None:
            raise sqlite3.OperationalError("database is locked")

        monkeypatch.setattr(store.sources.database, "untouched_connection", busy)
        with pytest.raises(StoreError):
            db.refresh()
        monkeypatch.undo()
        with db.read() as reads:
            assert reads.value("SELECT count(*) FROM t") == 10


def test_an_open_that_fails_with_the_files_as_they_were_is_not_tried_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "app.db"
    _wal_database(path, 1)
    calls = []

    def refusing(*args: object, **kwargs: object) -> sqlite3.Connection:
        calls.append(args)
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(sqlite3, "connect", refusing)
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        look(path)
    assert len(calls) == 1


def test_looking_changes_no_byte_of_a_file_or_its_side_files(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    _wal_database(path, 100)
    writer = _Writer(path)
    writer.write(1)  # a live log and its index
    names = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    before = [hashlib.sha256(p.read_bytes()).hexdigest() for p in names]
    db = ReadOnlyDatabase(path)
    with db.read() as reads:
        assert reads.value("SELECT count(*) FROM t") == 101
    db.close()
    look(path)
    assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in names] == before
    writer.close()


_KILLED_MIDWAY = """
import os, signal, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA cache_size=10")  # spills: uncommitted pages reach the file in place
conn.execute("BEGIN IMMEDIATE")
conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(20_000)])
conn.execute("UPDATE t SET x = -1")
os.kill(os.getpid(), signal.SIGKILL)
"""


def _stopped_midway(path: Path) -> list[str]:
    """A rollback-journal file of 100 rows whose writer was killed mid-transaction; the
    digests of the file and its hot journal."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x INTEGER)")  # rollback-journal mode, SQLite's default
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(100)])
    conn.commit()
    conn.close()
    assert subprocess.run([sys.executable, "-c", _KILLED_MIDWAY, str(path)]).returncode == -9
    return _digests(path)


def _digests(path: Path) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (path, Path(f"{path}-journal"))]


def test_a_file_whose_writer_stopped_midway_is_read_as_last_committed_untouched(
        tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    before = _stopped_midway(path)
    plain = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError):  # what a plain read-only connection meets
        plain.execute("SELECT 1 FROM t").fetchall()
    plain.close()
    assert "t" in look(path).tables
    with _reading(path) as db, db.read() as reads:
        assert reads.rows("SELECT count(*), min(x) FROM t") == [(100, 0)]
    assert _digests(path) == before
    writer = sqlite3.connect(path)  # the application's next open rolls its journal back
    assert writer.execute("SELECT count(*), min(x) FROM t").fetchall() == [(100, 0)]
    writer.close()
    with _reading(path) as db, db.read() as reads:  # and that is seen: opened again
        assert reads.rows("SELECT count(*) FROM t") == [(100,)]
        assert db._untouched is not None and db._untouched.mode == "ro"


def test_the_private_copy_of_a_file_stopped_midway_takes_no_write(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    before = _stopped_midway(path)
    with untouched_connection(path) as untouched:
        assert untouched.mode == "journal_copy"
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            untouched.conn.execute("DELETE FROM t")
        assert untouched.conn.execute("SELECT count(*) FROM t").fetchall() == [(100,)]
    assert _digests(path) == before


def test_a_copy_that_fails_is_one_clear_error_and_leaves_nothing_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import shutil
    import tempfile

    path = tmp_path / "app.db"
    before = _stopped_midway(path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    copies: list[str] = []

    def full(source: object, target: object, *args: object, **kwargs: object) -> None:
        copies.append(str(source))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", full)
    with pytest.raises(StoreError, match=r"stopped midway.*TMPDIR.*No space left"):
        look(path)
    assert copies == [str(path)]  # tried once, not again and again
    assert list(scratch.iterdir()) == []
    assert _digests(path) == before
