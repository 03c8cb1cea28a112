"""An import into an empty SQLite store writes through the rollback journal, and is still all
or nothing: rejected, killed or beside another connection, the store ends as it was, in WAL."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from esaudit.application.transfer import import_history
from esaudit.application.verify import verify
from store import ANY, NewEvent, open_store
from store.bulk import ImportRejected
from store.errors import StoreBusy, StoreOpenError

ROOT = Path(__file__).resolve().parents[2]


def _history(path: Path, n: int, *, bad_last: bool = False) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            version = i // 7 + 1
            if bad_last and i == n - 1:
                version += 5
            fh.write(json.dumps({
                "stream_id": f"s-{i % 7}", "stream_type": "Thing", "version": version,
                "type": "Touched", "recorded_at": f"2026-01-01T00:00:{i % 60:02d}.000000Z",
                "payload": {"i": i, "pad": "x" * 200}, "metadata": {}}) + "\n")
    return path


def _wal_in_header(path: Path) -> bool:
    """Bytes 18 and 19 of a SQLite file are 2 in WAL mode, 1 in rollback-journal mode."""
    return path.read_bytes()[18:20] == b"\x02\x02"


@pytest.fixture
def modes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The journal mode each import's transaction ran in."""
    import store.bulk as bulk

    seen: list[str] = []
    real = bulk.import_rows

    def spying(conn, backend, rows, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(conn.exec_driver_sql("PRAGMA journal_mode").scalar())
        return real(conn, backend, rows, *args, **kwargs)

    monkeypatch.setattr(bulk, "import_rows", spying)
    yield seen


def test_an_import_into_an_empty_store_runs_in_the_rollback_journal_then_wal_again(
        tmp_path: Path, modes: list[str]) -> None:
    db = tmp_path / "s.db"
    with open_store(db) as st:
        assert st.head_position() == 0  # a read first: its pooled connection is let go
        assert import_history(st, _history(tmp_path / "h.jsonl", 300)).events == 300
        assert st.head_position() == 300
        st.append("later", "Thing", [NewEvent("Touched", {})], ANY)
    assert modes == ["delete"]
    assert _wal_in_header(db)
    assert not (tmp_path / "s.db-journal").exists()
    with open_store(db, read_only=True) as st:
        assert st.head_position() == 301
        assert verify(st).ok


def test_a_rejected_import_into_an_empty_store_leaves_it_empty_and_in_wal(
        tmp_path: Path, modes: list[str]) -> None:
    db = tmp_path / "s.db"
    with open_store(db) as st, pytest.raises(ImportRejected):
        import_history(st, _history(tmp_path / "bad.jsonl", 300, bad_last=True))
    assert modes == ["delete"]
    assert _wal_in_header(db)
    with open_store(db, read_only=True) as st:
        assert st.head_position() == 0


def test_an_import_beside_another_connection_or_into_events_stays_in_wal(
        tmp_path: Path, modes: list[str]) -> None:
    db = tmp_path / "s.db"
    open_store(db).close()
    other = sqlite3.connect(db)  # someone else has the store open: the switch never waits
    other.execute("SELECT count(*) FROM events").fetchall()
    with open_store(db) as st:
        assert import_history(st, _history(tmp_path / "a.jsonl", 70)).events == 70
    other.close()
    second = _history(tmp_path / "b.jsonl", 70)
    second.write_text(second.read_text().replace('"s-', '"t-'))
    with open_store(db) as st:  # a store that holds events: WAL as any write
        assert import_history(st, second).events == 70
        assert st.head_position() == 140
    assert modes == ["wal", "wal"]
    assert _wal_in_header(db)


_KILLED_MIDWAY = """
import os, signal, sys
sys.path.insert(0, sys.argv[1])
import store.bulk as bulk
bulk.IMPORT_CACHE_KIB = 64  # a small cache spills: pages reach the file before the commit
from esaudit.application.transfer import import_history
from store import open_store

def progress(done, total):
    if done * 2 >= total:
        os.kill(os.getpid(), signal.SIGKILL)

with open_store(sys.argv[2]) as st:
    import_history(st, sys.argv[3], progress=progress)
"""


def test_an_import_killed_midway_leaves_the_empty_store_as_it_was(tmp_path: Path) -> None:
    db, history = tmp_path / "s.db", _history(tmp_path / "h.jsonl", 20_000)
    open_store(db).close()
    before = db.stat().st_size
    done = subprocess.run([sys.executable, "-c", _KILLED_MIDWAY, str(ROOT), str(db),
                           str(history)], capture_output=True)
    assert done.returncode == -9
    assert (tmp_path / "s.db-journal").exists()
    assert db.stat().st_size > before  # the spilled pages were written in place
    with (pytest.raises(StoreOpenError, match=r"stopped midway.*without --read-only"),
          open_store(db, read_only=True) as st):
        st.head_position()
    with open_store(db) as st:  # a writable open rolls the journal back
        assert st.head_position() == 0
        assert st.streams() == []
        assert import_history(st, history).events == 20_000
        assert verify(st).ok
    assert _wal_in_header(db)
    assert not (tmp_path / "s.db-journal").exists()


def test_the_switch_never_waits_for_a_write_in_flight_on_another_thread(tmp_path: Path) -> None:
    """A thread of the same store mid-append keeps its transaction; the import beside it runs
    in WAL at once instead of waiting out the busy timeout for the writer's lock."""
    with open_store(tmp_path / "s.db") as st:
        connections = st._c
        holding, leave = threading.Event(), threading.Event()

        def hold() -> None:
            with connections.writer.transaction() as dbapi:
                dbapi.execute("INSERT INTO es_meta (key, value) VALUES ('probe', 'kept')")
                holding.set()
                leave.wait(60)

        holder = threading.Thread(target=hold)
        holder.start()
        assert holding.wait(10)
        switched: list[bool] = []

        def beside() -> None:
            with connections.rollback_journal() as it:
                switched.append(it)

        side = threading.Thread(target=beside)
        side.start()
        side.join(10)  # the busy timeout is 30 s: a switch that waited would still be waiting
        done = not side.is_alive()
        leave.set()
        holder.join(10)
        side.join(40)
        assert done
        assert switched == [False]
        assert connections.read("SELECT value FROM es_meta WHERE key = 'probe'", ()) == [("kept",)]
    assert _wal_in_header(tmp_path / "s.db")


def test_a_read_held_over_the_commit_fails_the_import_whole_and_locks_nobody_out(
        tmp_path: Path) -> None:
    """In rollback-journal mode the commit waits for readers, up to the busy timeout: an import
    whose commit outwaits it is refused whole, and its connection is discarded rather than
    pooled mid-transaction, where it would hold the write lock for good."""
    db = tmp_path / "s.db"
    reading = threading.Event()
    with open_store(db, busy_timeout_s=1) as st:
        def hold() -> None:
            with st._c.reads() as q:
                q.rows("SELECT count(*) FROM events", ())
                reading.set()
                time.sleep(2.5)

        holder = threading.Thread(target=hold)

        def progress(done: int, total: int) -> None:
            if not holder.is_alive() and not reading.is_set():
                holder.start()
                assert reading.wait(10)

        with pytest.raises(StoreBusy, match="held the store too long"):
            import_history(st, _history(tmp_path / "h.jsonl", 300), progress=progress)
        holder.join(10)
        assert st.head_position() == 0
        st.append("later", "Thing", [NewEvent("Touched", {})], ANY)
        other = sqlite3.connect(db, timeout=1)
        assert other.execute("SELECT count(*) FROM events").fetchall() == [(1,)]
        other.close()
    open_store(db).close()  # a writable open puts a store left outside WAL back in it
    assert _wal_in_header(db)
    assert not (tmp_path / "s.db-journal").exists()


def test_an_import_into_a_store_opened_with_normal_sync_stays_in_wal(
        tmp_path: Path, modes: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """synchronous=NORMAL is safe in WAL mode only: outside it a power cut may corrupt the file."""
    with open_store(tmp_path / "s.db", synchronous="NORMAL") as st:
        backend = st._c.backend
        released: list[int] = []
        real_release = backend.release_idle

        def counting() -> None:
            released.append(1)
            real_release()

        monkeypatch.setattr(backend, "release_idle", counting)
        assert import_history(st, _history(tmp_path / "h.jsonl", 70)).events == 70
    assert modes == ["wal"]
    assert released == [], "the idle connections were closed for a switch it never makes"

