"""The import of an eventsourcing store gives exactly the plain recipe's rows on every path.

The plain recipe: the adapter's raw rows (``iter_raw_events``), the metadata read back and
given the source's own version, every stream shifted to start at version 1. The import walks
pages with the adapter's decoding instead, in this process or in a second one that also
chains the hashes; every field of every row, the stored hashes and the first error must be
the same.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import esaudit.bootstrap as bootstrap_module
import store.sources.importing as importing
import store.two_process as two_process
from esaudit.cli import main
from store import open_store
from store.bulk import ImportRejected
from store.errors import StoreError
from store.hashing import canonical_json, decode_json, iso_from_us
from store.records import PROVENANCE_KEY
from store.sources import open_source
from store.sources.cut import ForeignEvent
from store.sources.eventsourcing import stamp_instant
from store.sources.importing import SourceReader, import_metadata
from tests.peers.eventsourcing_apps import Expected


def plain_rows(target: str, cipher_key: str | None = None) -> list[tuple]:
    store = open_source(target, kind="eventsourcing", read_only=True, create=False,
                        cipher_key=cipher_key)
    try:
        shift = {s.stream_id: 1 - s.first_version for s in store.streams()}
        rows = []
        for number, (_, sid, stype, version, type_, at_us, payload, metadata, _) in enumerate(
                store.iter_raw_events(), start=1):
            meta = decode_json(metadata)
            meta.setdefault(PROVENANCE_KEY, {})["version"] = version
            rows.append((target, number, sid, stype, version + shift.get(sid, 0), type_, at_us,
                         iso_from_us(at_us), payload, canonical_json(meta), None))
        return rows
    finally:
        store.close()


def _imported(target: str, db: Path, **reader: object) -> list[tuple]:
    with open_store(db) as store:
        store.import_rows(SourceReader(target, "eventsourcing", **reader))  # type: ignore[arg-type]
        return list(store.iter_raw_events())


@pytest.mark.parametrize("fixture", ["eventsourcing_sqlite_styles", "eventsourcing_sqlite_paging",
                                     "eventsourcing_sqlite_bank_zlib_aes",
                                     "eventsourcing_sqlite_text_ids", "eventsourcing_pg_styles"])
def test_every_path_gives_the_plain_recipes_rows(fixture: str,
                                                 request: pytest.FixtureRequest) -> None:
    written: Expected = request.getfixturevalue(fixture)
    key = written.cipher_key
    expected = plain_rows(written.location, key)
    assert len(expected) == written.event_count
    for parallel in (False, True):
        rows = list(SourceReader(written.location, "eventsourcing", cipher_key=key,
                                 parallel=parallel))
        assert [r[:11] for r in rows] == expected
        if parallel and "sqlite" in fixture:  # a second process chained the hashes (it
            # reads SQLite files only: a PostgreSQL store is walked here)
            assert all(r[11] for r in rows)


def test_the_second_process_stores_the_hashes_this_one_computes(
        eventsourcing_sqlite_styles: Expected, tmp_path: Path) -> None:
    """Versions shifted from 0 (Counter) included: the chained hash is the recomputed one."""
    target = eventsourcing_sqlite_styles.location
    here = _imported(target, tmp_path / "a.db", parallel=False)
    there = _imported(target, tmp_path / "b.db", parallel=True)
    assert there == here
    assert all(len(row[8]) == 64 for row in there)


def test_a_second_process_started_before_the_store_opens_converts_the_same_rows(
        eventsourcing_sqlite_paging: Expected, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    target = eventsourcing_sqlite_paging.location
    expected = _imported(target, tmp_path / "a.db", parallel=False)
    started: list[two_process.SecondProcess] = []
    start = two_process.SecondProcess.start.__func__  # type: ignore[attr-defined]

    def spy(cls: type[two_process.SecondProcess], entry: str, job: object
            ) -> two_process.SecondProcess:
        started.append(start(cls, entry, job))
        return started[-1]

    monkeypatch.setattr(two_process.SecondProcess, "start", classmethod(spy))
    reader = SourceReader(target, "eventsourcing", parallel=True)
    reader.start()
    assert len(started) == 1
    with open_store(tmp_path / "b.db") as store:
        store.import_rows(reader)
        assert list(store.iter_raw_events()) == expected
    assert len(started) == 1  # the rows came from the worker started before the store opened

    unread = SourceReader(target, "eventsourcing", parallel=True)
    unread.start()
    unread.close()  # never read: the worker is stopped and the source closed
    assert started[-1]._proc is not None and started[-1]._proc.poll() is not None
    with pytest.raises(StoreError, match="closed"):
        list(unread._store.iter_raw_events())


def test_the_cli_starts_the_converter_before_the_store_opens_and_stops_it_on_a_refusal(
        eventsourcing_sqlite_paging: Expected, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    target = eventsourcing_sqlite_paging.location
    expected = _imported(target, tmp_path / "a.db", parallel=False)
    seen: list[tuple[str, Any]] = []
    start = two_process.SecondProcess.start.__func__  # type: ignore[attr-defined]
    bootstrap = bootstrap_module.bootstrap

    def spy(cls: type[two_process.SecondProcess], entry: str, job: object
            ) -> two_process.SecondProcess:
        seen.append(("worker", start(cls, entry, job)))
        return seen[-1][1]  # type: ignore[no-any-return]

    def opened(*args: Any, **kwargs: Any) -> Any:
        seen.append(("store", None))
        return bootstrap(*args, **kwargs)

    monkeypatch.setattr(importing, "PARALLEL_MIN_EVENTS", 0)
    monkeypatch.setattr(two_process.SecondProcess, "start", classmethod(spy))
    monkeypatch.setattr(bootstrap_module, "bootstrap", opened)
    before = Path(target).read_bytes()
    assert main(["--db", str(tmp_path / "b.db"), "import", target,
                 "--format", "eventsourcing"]) == 0
    assert [what for what, _ in seen] == ["worker", "store"]
    with open_store(tmp_path / "b.db", read_only=True) as store:
        assert list(store.iter_raw_events()) == expected

    seen.clear()
    missing = tmp_path / "no-such-folder" / "c.db"
    assert main(["--db", str(missing), "import", target]) == 2
    assert capsys.readouterr().err.strip() == f"esaudit: folder {missing.parent} does not exist"
    assert [what for what, _ in seen] == ["worker", "store"]
    assert all(w._proc is None or w._proc.poll() is not None for what, w in seen if w)
    assert Path(target).read_bytes() == before


def test_a_store_replaced_while_the_import_starts_is_refused_and_nothing_stored(
        eventsourcing_sqlite_paging: Expected, tmp_path: Path) -> None:
    target = eventsourcing_sqlite_paging.location
    reader = SourceReader(target, "eventsourcing", parallel=True)
    reader.start()
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(Path(target).read_bytes())
    copy.replace(target)
    with open_store(tmp_path / "b.db") as store, pytest.raises(ImportRejected,
                                                               match="replaced"):
        store.import_rows(reader)
    with open_store(tmp_path / "b.db", read_only=True) as store:
        assert store.head_position() == 0


def test_when_the_second_process_fails_this_one_walks_the_rest(
        eventsourcing_sqlite_paging: Expected, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    target = eventsourcing_sqlite_paging.location
    expected = _imported(target, tmp_path / "a.db", parallel=False)
    monkeypatch.setattr(importing, "CONVERTER", "tests.worker_fakes:exits_at_once")
    assert _imported(target, tmp_path / "b.db", parallel=True) == expected
    monkeypatch.setattr(importing, "PAGE", 300)  # here: the rest after what was delivered
    monkeypatch.setattr(importing, "CONVERTER",
                        "tests.worker_fakes:eventsourcing_pages_then_dies")
    assert _imported(target, tmp_path / "c.db", parallel=True) == expected


def test_an_unreadable_state_is_the_same_error_on_every_path_and_stores_nothing(
        eventsourcing_sqlite_paging: Expected, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    target = eventsourcing_sqlite_paging.location
    with sqlite3.connect(target) as conn:
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = 1700",
                     (b"\x78\x9cnot a compressed state",))
    with pytest.raises(StoreError) as plain:
        plain_rows(target)
    errors = []
    for parallel in (False, True):
        db = tmp_path / f"t-{parallel}.db"
        with open_store(db) as store, pytest.raises(ImportRejected) as e:
            store.import_rows(SourceReader(target, "eventsourcing", parallel=parallel))
        errors.append((e.value.source, e.value.line, e.value.reason))
        with open_store(db, read_only=True) as store:
            assert store.head_position() == 0
    # the plain walk's page holds the damaged state: nothing was delivered before it
    assert errors == [(target, 0, str(plain.value))] * 2


_any_text = st.text(max_size=12)  # lone surrogates and control characters included
_ints = st.integers(-(2**70), 2**70)


@settings(max_examples=400, deadline=None)
@given(_any_text, _ints, _ints, _any_text, _any_text | st.integers(), _ints,
       st.sampled_from(["eventsourcing", "emmett"]), st.booleans())
def test_the_metadata_written_from_its_shape_is_the_recipes(
        topic: str, nid: int, stored: int, state: str, stamp: str | int, version: int,
        kind: str, own: bool) -> None:
    event = ForeignEvent(nid, "s", version, "E", 0, {}, {"actor": "ada"} if own else {},
                         {"topic": topic, "notification_id": nid, "originator_version": stored,
                          "state": state, "timestamp": stamp})
    try:
        expected: str | type[Exception] = import_metadata(kind, event)
    except (TypeError, ValueError) as e:
        expected = type(e)
    try:
        got: str | type[Exception] = importing._Texts().metadata(kind, event)
    except (TypeError, ValueError) as e:
        got = type(e)
    assert got == expected


_json_leaves = (st.none() | st.booleans() | _ints | st.floats() | _any_text)
_json_trees = st.recursive(_json_leaves, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(_any_text, inner, max_size=3), max_leaves=10)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_any_text, _json_trees, max_size=5))
def test_a_decoded_payload_is_written_as_the_recipe_writes_it(value: dict) -> None:
    """Whatever a state's JSON decode gives (orjson's, or the standard library's for big
    integers, NaN or lone surrogates), the payload's text is the recipe's, or the same error."""
    text = json.dumps(value)
    for decoded in (decode_json(text), json.loads(text)):
        try:
            expected: str | type[Exception] = canonical_json(decoded)
        except (TypeError, ValueError) as e:
            expected = type(e)
        try:
            got: str | type[Exception] = importing._Texts().payload(decoded)
        except (TypeError, ValueError) as e:
            got = type(e)
        assert got == expected


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+02:00", "9999-12-31T23:00:00-02:00"])
def test_a_timestamp_no_utc_instant_can_hold_is_read_as_missing(text: str) -> None:
    """Written in year 1 east of Greenwich or late in 9999 west of it: no UTC datetime holds
    it, so it sorts at the epoch and its provenance says so, as a missing one does."""
    assert stamp_instant({"_type_": "datetime_iso", "_data_": text}) == (0, None)
