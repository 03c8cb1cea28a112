"""Origins: which events the store's own append wrote and which an import copied in."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from esaudit.application.transfer import export_history, import_history, shown_target
from store import ANY, NewEvent, open_store
from store.schema_meta import SCHEMA_VERSION
from tests.store.older_schema import make_older


def _append(target: str, stream_id: str, n: int = 3) -> None:
    with open_store(target) as st:
        for i in range(n):
            st.append(stream_id, "Thing", [NewEvent("Touched", {"i": i}, {})], ANY)


def _copied(tmp_path: Path) -> Path:
    """Another store's stream ``copied`` (three events), exported as JSONL."""
    other = str(tmp_path / "other.db")
    _append(other, "copied")
    with open_store(other) as st:
        export_history(st, tmp_path / "h.jsonl")
    return tmp_path / "h.jsonl"


def test_appended_and_imported_streams_keep_their_origin(store_target: str,
                                                         tmp_path: Path) -> None:
    history = _copied(tmp_path)
    _append(store_target, "before")
    with open_store(store_target) as st:
        import_history(st, history)
    _append(store_target, "after")
    with open_store(store_target, read_only=True) as st:
        assert [st.origin_of(s) for s in ("before", "copied", "after", "nothing")] == \
            ["appended", "imported", "appended", "unknown"]
        origins = st.origins()
        assert origins.imported == ((4, 6),)
        assert [origins.of_position(p) for p in (3, 4, 6, 7)] == \
            ["appended", "imported", "imported", "appended"]


def test_an_import_records_its_source_without_a_password(store_target: str,
                                                          tmp_path: Path) -> None:
    history = _copied(tmp_path)
    with open_store(store_target) as st:
        import_history(st, history)
        with st.read_connection() as conn:
            source = conn.exec_driver_sql("SELECT source FROM imports").scalar_one()
    assert source == f"jsonl {history}"
    shown = shown_target("postgresql+psycopg://app:s3cret@db.example/shop")
    assert "s3cret" not in shown and shown.startswith("postgresql+psycopg://app:")


def test_an_older_store_is_upgraded_and_its_earlier_events_are_of_unknown_origin(
        tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    _append(str(path), "old", 4)
    make_older(path, 1)
    _append(str(path), "new", 2)
    with open_store(path, read_only=True) as st:
        assert (st.origin_of("old"), st.origin_of("new")) == ("unknown", "appended")
        assert st.origins().known_after == 4
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM es_meta WHERE key = 'schema_version'"
                            ).fetchone() == (str(SCHEMA_VERSION),)


def test_a_read_only_open_of_an_older_store_changes_nothing_and_knows_no_origin(
        tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    _append(str(path), "old", 4)
    make_older(path, 1)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with open_store(path, read_only=True) as st:
        assert st.origin_of("old") == "unknown"
        assert st.origins().of_position(4) == "unknown"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_stream_origins_answers_for_every_stream_of_a_type(store_target: str,
                                                            tmp_path: Path) -> None:
    history = _copied(tmp_path)
    _append(store_target, "mine")
    with open_store(store_target) as st:
        import_history(st, history)
        st.append("order-1", "Order", [NewEvent("Noted", {}, {})], ANY)
        assert st.stream_origins() == {"mine": "appended", "copied": "imported",
                                       "order-1": "appended"}
        assert st.stream_origins("Order") == {"order-1": "appended"}


def test_appended_runs_skip_imports_and_unknown_events() -> None:
    from store import Origins
    origins = Origins(known_after=3, imported=((6, 10), (11, 12), (20, 25)))
    assert origins.appended_run(0, 30) == (3, 5)
    assert origins.appended_run(5, 30) == (12, 19)
    assert origins.appended_run(19, 30) == (25, 30)
    assert origins.appended_run(0, 4) == (3, 4)
    assert origins.appended_run(5, 8) == (8, 8)
    assert Origins().appended_run(7, 9) == (7, 9)
