"""Fold snapshots: states kept under a fold's name, on every backend of esaudit's store."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from store import ANY, InvalidEvent, NewEvent, StoreReadOnly, open_store
from store.schema_meta import SCHEMA_VERSION
from tests.store.older_schema import make_older


def _stream(target: str, stream_id: str = "s", n: int = 10) -> None:
    with open_store(target) as st:
        st.append(stream_id, "Meter", [NewEvent("Read", {"i": i}, {}) for i in range(n)], ANY)


def test_states_are_kept_and_found_under_their_fold_only(store_target: str) -> None:
    _stream(store_target)
    with open_store(store_target) as st:
        assert st.save_fold_snapshots("s", "merged/1", [(3, {"i": 2}), (8, {"i": 7})]) == 2
        assert st.save_fold_snapshots("s", "file/1:abc:Meter", [(5, {"total": 10})]) == 1
        assert st.load_fold_snapshot("s", "merged/1", 7).state == {"i": 2}
        assert st.load_fold_snapshot("s", "merged/1").version == 8
        assert st.load_fold_snapshot("s", "merged/1", 2) is None
        assert st.load_fold_snapshot("s", "file/1:abc:Meter", 9).state == {"total": 10}
        assert st.load_fold_snapshot("s", "file/1:other:Meter", 9) is None
        assert st.load_snapshot("s") is None, "esaudit's domain snapshots are another table"
        assert [(k.fold, k.version) for k in st.iter_fold_snapshots()] == [
            ("file/1:abc:Meter", 5), ("merged/1", 3), ("merged/1", 8)]


def test_keeping_a_fold_again_replaces_its_states(store_target: str) -> None:
    _stream(store_target)
    with open_store(store_target) as st:
        st.save_fold_snapshots("s", "merged/1", [(3, {"i": 2}), (8, {"i": 7})])
        st.save_fold_snapshots("s", "merged/1", [(4, {"i": 3})])
        assert [k.version for k in st.iter_fold_snapshots()] == [4]


def test_a_version_the_stream_lacks_or_a_state_json_cannot_hold_writes_nothing(
        store_target: str) -> None:
    _stream(store_target)
    with open_store(store_target) as st:
        with pytest.raises(InvalidEvent, match="no such version"):
            st.save_fold_snapshots("s", "merged/1", [(3, {"i": 2}), (11, {"i": 9})])
        with pytest.raises(InvalidEvent, match="no such version"):
            st.save_fold_snapshots("missing", "merged/1", [(1, {})])
        with pytest.raises(InvalidEvent):
            st.save_fold_snapshots("s", "merged/1", [(3, {"amount": object()})])
        assert list(st.iter_fold_snapshots()) == []


def test_a_read_only_open_refuses_to_keep_states(store_target: str) -> None:
    _stream(store_target)
    with open_store(store_target, read_only=True) as st, pytest.raises(StoreReadOnly):
        st.save_fold_snapshots("s", "merged/1", [(3, {})])


def test_walking_pages_through_more_states_than_a_page(store_target: str) -> None:
    _stream(store_target, n=1200)
    with open_store(store_target) as st:
        st.save_fold_snapshots("s", "merged/1", [(v, {"v": v}) for v in range(1, 1201)])
        assert [k.version for k in st.iter_fold_snapshots()] == list(range(1, 1201))


def test_an_older_store_read_only_has_none_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    _stream(str(path))
    make_older(path, 3)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with open_store(path, read_only=True) as st:
        assert st.load_fold_snapshot("s", "merged/1") is None
        assert list(st.iter_fold_snapshots()) == []
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_an_older_store_is_upgraded_to_keep_them(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    _stream(str(path))
    make_older(path, 3)
    with open_store(path) as st:
        assert st.save_fold_snapshots("s", "merged/1", [(2, {"i": 1})]) == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM es_meta WHERE key = 'schema_version'"
                            ).fetchone() == (str(SCHEMA_VERSION),)
