"""Opening things that are not (yet) an esaudit store gives a clear error and changes nothing."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from store import StoreOpenError, open_store
from store.schema_meta import SCHEMA_VERSION


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_first_writable_open_creates_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    open_store(path).close()
    with sqlite3.connect(path) as conn:
        version = conn.execute("SELECT value FROM es_meta WHERE key='schema_version'").fetchone()
        mode = conn.execute("PRAGMA journal_mode").fetchone()
    assert version == (str(SCHEMA_VERSION),) and mode == ("wal",)


def test_read_only_open_of_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(StoreOpenError, match="no store"):
        open_store(tmp_path / "missing.db", read_only=True)
    assert not (tmp_path / "missing.db").exists()


@pytest.mark.parametrize("read_only", [False, True])
def test_a_file_that_is_not_a_database(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 50)
    before = digest(path)
    with pytest.raises(StoreOpenError, match="not a readable SQLite database"):
        open_store(path, read_only=read_only)
    assert digest(path) == before


def test_a_foreign_database_is_not_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE stored_events (id INTEGER)")
    before = digest(path)
    with pytest.raises(StoreOpenError, match="not an esaudit store"):
        open_store(path)
    assert digest(path) == before


def test_read_only_session_leaves_the_file_byte_for_byte(tmp_path: Path) -> None:
    from store import NewEvent
    path = tmp_path / "s.db"
    with open_store(path) as st:
        st.append("a", "T", [NewEvent("E", {"x": 1})])
    before = digest(path)
    with open_store(path, read_only=True) as ro:
        list(ro.iter_events())
        ro.streams()
        ro.stats()
    assert digest(path) == before


def test_synchronous_normal_is_a_visible_setting(tmp_path: Path) -> None:
    with open_store(tmp_path / "n.db", synchronous="NORMAL") as st, st.read_connection() as c:
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    with open_store(tmp_path / "f.db") as st, st.read_connection() as c:
        # FULL runs as EXTRA: the same in WAL mode, and the deleted journal of an import in
        # rollback-journal mode cannot come back after a power cut and undo it
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 3
    with pytest.raises(ValueError):
        open_store(tmp_path / "x.db", synchronous="OFF")


def test_driver_errors_without_a_message_still_translate() -> None:
    from store.backends import translate
    from store.errors import StoreError
    error = translate(RuntimeError(""), "x.db")
    assert isinstance(error, StoreError) and "RuntimeError" in str(error)
