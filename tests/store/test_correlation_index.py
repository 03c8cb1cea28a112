"""Schema 3: the index that finds a correlation, created with a store, added to an older one
on its first writable open, and never needed by a read-only open of an older one."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from store import ANY, NewEvent, open_store
from store.schema import SCHEMA_VERSION
from store.tracing import CORRELATION_INDEX


def _history(target: str | Path) -> None:
    with open_store(target) as st:
        for i in range(30):
            st.append(f"s-{i % 4}", "Thing", [NewEvent("Touched", {"i": i}, {
                "correlation_id": f"c-{i // 10}"})], ANY)
        st.append("imported-style", "Thing", [NewEvent("Touched", {}, {
            "correlationId": "c-1"})], ANY)


def _make_v2(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(f"DROP INDEX {CORRELATION_INDEX}")
        conn.execute("UPDATE es_meta SET value = '2' WHERE key = 'schema_version'")


def _plan(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "EXPLAIN QUERY PLAN SELECT position FROM events WHERE "
            "coalesce(json_extract(metadata, '$.correlation_id'), "
            "json_extract(metadata, '$.correlationId')) = 'c-1'").fetchall()
    return " ".join(str(r[-1]) for r in rows)


def test_a_new_store_finds_a_correlation_by_its_index(store_target: str) -> None:
    _history(store_target)
    with open_store(store_target, read_only=True) as st:
        found = st.correlated_events("c-1")
        with st.read_connection() as conn:
            catalogue = ("SELECT name FROM sqlite_master WHERE type = 'index'"
                         if conn.dialect.name == "sqlite" else
                         "SELECT indexname FROM pg_indexes WHERE tablename = 'events' "
                         "AND schemaname = current_schema()")
            names = set(conn.exec_driver_sql(catalogue).scalars())
    assert [e.payload.get("i") for e in found] == [*range(10, 20), None]
    assert [e.stream_id for e in found][-1] == "imported-style"
    assert CORRELATION_INDEX in names
    assert st.correlated_events("c-9") == []


def test_sqlite_uses_the_index_for_the_query_the_store_asks(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _history(path)
    assert CORRELATION_INDEX in _plan(path)


def test_an_older_store_gains_the_index_on_its_first_writable_open(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    _history(path)
    _make_v2(path)
    assert CORRELATION_INDEX not in _plan(path)
    open_store(path).close()
    assert CORRELATION_INDEX in _plan(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM es_meta WHERE key = 'schema_version'"
                            ).fetchone() == (str(SCHEMA_VERSION),)


def test_a_read_only_open_of_an_older_store_scans_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    _history(path)
    _make_v2(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with open_store(path, read_only=True) as st:
        assert st.schema_version == 2
        assert len(st.correlated_events("c-0")) == 10
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert CORRELATION_INDEX not in _plan(path)


def _indexed(path: Path) -> bool:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?",
                            [CORRELATION_INDEX]).fetchone() is not None


def test_bulk_appends_into_an_empty_store_build_the_index_once_at_the_end(
        tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with open_store(path) as st, st.bulk_appends():
        assert not _indexed(path)
        for i in range(20):
            st.append(f"s-{i % 3}", "Thing", [NewEvent("Touched", {"i": i}, {
                "correlation_id": f"c-{i % 2}"})], ANY)
        assert [e.payload["i"] for e in st.correlated_events("c-1")] == list(range(1, 20, 2))
    assert _indexed(path)
    assert CORRELATION_INDEX in _plan(path)
    with open_store(path, read_only=True) as st:
        assert len(st.correlated_events("c-0")) == 10


def test_bulk_appends_keep_the_index_of_a_store_that_holds_events(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _history(path)
    with open_store(path) as st, st.bulk_appends():
        assert _indexed(path)
        st.append("s-9", "Thing", [NewEvent("Touched", {}, {"correlation_id": "c-1"})], ANY)
    assert len(open_store(path, read_only=True).correlated_events("c-1")) == 12


def test_bulk_appends_build_the_index_again_when_their_work_fails(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with open_store(path) as st:
        try:
            with st.bulk_appends():
                st.append("s-1", "Thing", [NewEvent("Touched", {}, {})], ANY)
                raise KeyboardInterrupt
        except KeyboardInterrupt:
            pass
    assert _indexed(path)


def test_an_index_that_cannot_be_built_after_failed_work_leaves_that_work_s_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.db"
    with open_store(path) as st:
        def no_disk() -> None:
            raise OSError("the disk is full")
        monkeypatch.setattr(st, "_build_correlation_index", no_disk)
        with pytest.raises(ValueError, match="the seed's own error"), st.bulk_appends():
            st.append("s-1", "Thing", [NewEvent("Touched", {}, {})], ANY)
            raise ValueError("the seed's own error")
    assert not _indexed(path)
    open_store(path).close()  # left to the next writable open
    assert _indexed(path)


def test_an_index_a_killed_seed_left_out_is_built_on_the_next_writable_open(
        tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _history(path)
    with sqlite3.connect(path) as conn:  # what a seed killed inside bulk_appends leaves
        conn.execute(f"DROP INDEX {CORRELATION_INDEX}")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with open_store(path, read_only=True) as st:  # a read-only open scans and writes nothing
        assert len(st.correlated_events("c-1")) == 11
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not _indexed(path)
    open_store(path).close()
    assert _indexed(path)
    assert CORRELATION_INDEX in _plan(path)
