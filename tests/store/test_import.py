"""Bulk import, on every backend: all or nothing, exact hashes, clear FILE:LINE errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from esaudit.application.transfer import export_history, import_history
from store import ANY, NewEvent, open_store
from store.bulk import ImportRejected


def _fill(target: str) -> None:
    with open_store(target) as st:
        for i in range(30):
            st.append(f"s-{i % 4}", "Thing", [NewEvent("Touched", {"i": i, "note": "é✓"},
                                                       {"actor": "t"})], ANY)


def _dump(target: str) -> list[tuple]:
    with open_store(target, read_only=True) as st:
        rows = list(st.iter_raw_events())
        heads = [(s.stream_id, s.version, s.head_hash, s.first_at, s.last_at)
                 for s in st.streams()]
    return rows + heads  # type: ignore[operator]


def test_export_then_import_reproduces_every_event_and_hash(store_target: str,
                                                             tmp_path: Path) -> None:
    source = str(tmp_path / "source.db")
    _fill(source)
    with open_store(source) as st:
        assert export_history(st, tmp_path / "h.jsonl") == 30
        assert export_history(st, tmp_path / "h.csv") == 30
    with open_store(store_target) as st:
        summary = import_history(st, tmp_path / "h.jsonl")
    assert (summary.events, summary.streams) == (30, 4)
    assert _dump(store_target) == _dump(source)
    lines = (tmp_path / "h.jsonl").read_text("utf-8").splitlines()
    assert set(json.loads(lines[0])) == {"stream_id", "stream_type", "version", "type",
                                         "recorded_at", "payload", "metadata"}


def test_csv_round_trip_checks_the_exported_hashes(tmp_path: Path) -> None:
    source = str(tmp_path / "source.db")
    _fill(source)
    with open_store(source) as st:
        export_history(st, tmp_path / "h.csv")
    target = str(tmp_path / "copy.db")
    with open_store(target) as st:
        import_history(st, tmp_path / "h.csv")
    assert _dump(target) == _dump(source)
    text = (tmp_path / "h.csv").read_text("utf-8").replace('"i"":7', '"i"":70')
    (tmp_path / "edited.csv").write_text(text, "utf-8")
    with open_store(str(tmp_path / "third.db")) as st, pytest.raises(ImportRejected) as e:
        import_history(st, tmp_path / "edited.csv")
    assert e.value.line == 9 and "altered after export" in e.value.reason


BAD_LINES = [
    ('{"stream_id": "a"', "not a JSON object"),
    ('[1, 2]', "expected a JSON object"),
    ('{"stream_id":"n","stream_type":"T","version":1,"type":"E",'
     '"recorded_at":"2026-01-01T00:00:00Z","payload":{},"metadata":{},"colour":"red"}',
     "unknown column 'colour'"),
    ('{"stream_id":"n","stream_type":"T","version":1,"type":"E",'
     '"recorded_at":"2026-01-01T00:00:00Z","payload":{}}', "missing 'metadata'"),
    ('{"stream_id":"n","stream_type":"T","version":1,"type":"E",'
     '"recorded_at":"2026-01-01T00:00:00","payload":{},"metadata":{}}', "no time zone"),
    ('{"stream_id":"n","stream_type":"T","version":1,"type":"E",'
     '"recorded_at":"2026-01-01T00:00:00Z","payload":[],"metadata":{}}',
     "payload must be a JSON object"),
    ('{"stream_id":"good","stream_type":"T","version":4,"type":"E",'
     '"recorded_at":"2026-01-01T00:00:00Z","payload":{},"metadata":{}}', "version gap"),
    ('{"stream_id":"good","stream_type":"T","version":2,"type":"E",'
     '"recorded_at":"2026-01-01T00:00:00Z","payload":{},"metadata":{}}', "duplicate version"),
    ('{"stream_id":"good","stream_type":"U","version":3,"type":"E",'
     '"recorded_at":"2026-01-01T00:00:00Z","payload":{},"metadata":{}}', "not 'U'"),
    ('{"stream_id":"s-1","stream_type":"Thing","version":1,"type":"E",'
     '"recorded_at":"2026-01-01T00:00:00Z","payload":{},"metadata":{}}', "already exists"),
]
GOOD = [json.dumps({"stream_id": "good", "stream_type": "T", "version": v, "type": "E",
                   "recorded_at": "2026-01-01T00:00:00Z", "payload": {}, "metadata": {}})
        for v in (1, 2)]


@pytest.mark.parametrize(("bad", "reason"), BAD_LINES)
def test_a_bad_line_stops_the_import_and_leaves_the_store_as_it_was(
        store_target: str, tmp_path: Path, bad: str, reason: str) -> None:
    _fill(store_target)
    before = _dump(store_target)
    file = tmp_path / "bad.jsonl"
    file.write_text("\n".join([*GOOD, bad, GOOD[0].replace("good", "later")]) + "\n", "utf-8")
    with open_store(store_target) as st, pytest.raises(ImportRejected) as e:
        import_history(st, file)
    assert str(e.value).startswith(f"{file}:3: ")
    assert reason in str(e.value)
    assert _dump(store_target) == before


def test_a_bad_row_deep_in_a_big_file_rolls_back_earlier_chunks(store_target: str,
                                                               tmp_path: Path) -> None:
    _fill(store_target)
    before = _dump(store_target)
    rows = [json.dumps({"stream_id": f"b-{i % 50}", "stream_type": "T", "version": i // 50 + 1,
                        "type": "E", "recorded_at": "2026-01-01T00:00:00Z", "payload": {"i": i},
                        "metadata": {}}) for i in range(12_000)]
    rows[11_500] = rows[11_500].replace('"version": 231', '"version": 232')
    (tmp_path / "big.jsonl").write_text("\n".join(rows) + "\n", "utf-8")
    with open_store(store_target) as st, pytest.raises(ImportRejected) as e:
        import_history(st, tmp_path / "big.jsonl")
    assert e.value.line == 11_501
    assert _dump(store_target) == before


def test_lone_surrogates_and_huge_numbers_are_refused_by_line(tmp_path: Path) -> None:
    file = tmp_path / "odd.jsonl"
    file.write_text("\n".join([
        GOOD[0],
        GOOD[1].replace('"payload": {}', '"payload": {"x": "\\ud800"}'),
    ]) + "\n", "utf-8")
    with open_store(str(tmp_path / "s.db")) as st, pytest.raises(ImportRejected) as e:
        import_history(st, file)
    assert e.value.line == 2 and "surrogate" in e.value.reason
    file.write_text(GOOD[0].replace('"payload": {}', '"payload": {"x": 1e999}') + "\n")
    with open_store(str(tmp_path / "s.db")) as st, pytest.raises(ImportRejected) as e:
        import_history(st, file)
    assert e.value.line == 1 and "cannot be stored" in e.value.reason
    big = GOOD[0].replace('"payload": {}', '"payload": {"x": 123456789012345678901234567890}')
    file.write_text(big + "\n")
    with open_store(str(tmp_path / "s.db")) as st:
        import_history(st, file)
        assert st.read_stream("good")[0].payload == {"x": 123456789012345678901234567890}


def test_an_import_runs_with_a_large_page_cache(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite: every import's transaction sees the wide cache, a refused one too."""
    import store.bulk as bulk
    from store.bulk import IMPORT_CACHE_KIB, import_rows

    seen: list[int] = []

    def spying(conn, backend, rows, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(conn.exec_driver_sql("PRAGMA cache_size").scalar())
        return import_rows(conn, backend, rows, *args, **kwargs)

    monkeypatch.setattr(bulk, "import_rows", spying)
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    line = {"stream_id": "s-1", "stream_type": "Thing", "version": 1, "type": "Touched",
            "recorded_at": "2026-01-01T00:00:00.000000Z", "payload": {}, "metadata": {}}
    good.write_text(json.dumps(line) + "\n")
    bad.write_text(json.dumps({**line, "stream_id": "s-2", "version": 2}) + "\n")
    with open_store(tmp_path / "store.db") as st:
        assert import_history(st, good).events == 1
        with pytest.raises(ImportRejected):
            import_history(st, bad)
    assert seen == [-IMPORT_CACHE_KIB, -IMPORT_CACHE_KIB]


def test_the_import_cache_gives_the_connection_its_own_size_back(tmp_path: Path) -> None:
    """After the import, or its failure, the pooled connection keeps no 1 GiB cache."""
    import sqlalchemy as sa

    from store.bulk import IMPORT_CACHE_KIB, import_page_cache

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA cache_size=-3000")
        with import_page_cache(conn, "sqlite"):
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -IMPORT_CACHE_KIB
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -3000
        with pytest.raises(ImportRejected), import_page_cache(conn, "sqlite"):
            raise ImportRejected("f", 1, "bad")
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -3000
    engine.dispose()


def test_a_large_import_on_postgresql_is_vacuumed_once_it_has_committed(
        store_target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: the rows of an import are marked all-visible before the first reader meets
    them (``vacuum_events``); SQLite has nothing to settle."""
    import store.backends as backends

    monkeypatch.setattr(backends, "SETTLE_FROM", 20)
    lines = [{"stream_id": f"s-{i}", "stream_type": "Thing", "version": 1, "type": "Touched",
              "recorded_at": "2026-01-01T00:00:00.000000Z", "payload": {"i": i},
              "metadata": {}} for i in range(30)]
    history = tmp_path / "h.jsonl"
    history.write_text("".join(json.dumps(line) + "\n" for line in lines))
    vacuumed: list[object] = []
    real = backends.vacuum_events
    monkeypatch.setattr(backends, "vacuum_events",
                        lambda engine: (vacuumed.append(engine), real(engine)))
    with open_store(store_target) as st:
        assert import_history(st, history).events == 30
        assert len(vacuumed) == (0 if st.backend_name == "sqlite" else 1)
        if st.backend_name == "sqlite":
            return
        with st.read_connection() as conn:
            visible = conn.exec_driver_sql(
                "SELECT relallvisible FROM pg_class WHERE oid = 'events'::regclass").scalar()
    assert visible and visible > 0


def _correlation_index(target: Path) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(target) as conn:
        return conn.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE name = "
                            "'ix_events_correlation'").fetchall()


def _correlated_history(path: Path, *, bad_last_line: bool = False) -> None:
    lines = [json.dumps({"stream_id": f"k-{i % 3}", "stream_type": "T", "version": i // 3 + 1,
                         "type": "E", "recorded_at": "2026-01-01T00:00:00Z", "payload": {},
                         "metadata": {"correlation_id": f"c-{i % 2}"} if i % 4 else
                         {"correlationId": "c-1"}}) for i in range(30)]
    if bad_last_line:
        lines.append("{oops")
    path.write_text("\n".join(lines) + "\n", "utf-8")


def test_an_import_into_an_empty_store_builds_the_correlation_index_it_set_aside(
        tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    open_store(fresh).close()
    expected = _correlation_index(fresh)
    assert expected  # every store has it
    _correlated_history(tmp_path / "h.jsonl")
    with open_store(fresh) as st:
        import_history(st, tmp_path / "h.jsonl")
        found = [(e.stream_id, e.version) for e in st.correlated_events("c-1")]
    assert _correlation_index(fresh) == expected
    assert found == [(f"k-{i % 3}", i // 3 + 1) for i in range(30) if i % 2 or i % 4 == 0]
    # into a store that holds events the index is kept up row by row: the same answers
    second = tmp_path / "second.db"
    _fill(str(second))
    with open_store(second) as st:
        import_history(st, tmp_path / "h.jsonl")
        assert [(e.stream_id, e.version) for e in st.correlated_events("c-1")] == found
    assert _correlation_index(second) == expected


def test_a_rejected_import_into_an_empty_store_keeps_its_correlation_index(
        tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    open_store(fresh).close()
    expected = _correlation_index(fresh)
    _correlated_history(tmp_path / "bad.jsonl", bad_last_line=True)
    with open_store(fresh) as st, pytest.raises(ImportRejected) as e:
        import_history(st, tmp_path / "bad.jsonl")
    assert e.value.line == 31
    assert _correlation_index(fresh) == expected
    with open_store(fresh, read_only=True) as st:
        assert st.head_position() == 0
