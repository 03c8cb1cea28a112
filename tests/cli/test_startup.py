"""A read command on esaudit's own SQLite store starts without the database layer: it reads
with the stdlib driver, and its open neither creates nor catches up the read models. A command
whose output depends on the read models still sees them caught up."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from esaudit.bootstrap import bootstrap
from esaudit.cli import main
from store import NewEvent, StoreError, open_store
from tests.loaded_modules import loaded_by


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A small seeded store and one of its orders (with snapshots, so replay and verify read
    them)."""
    db = tmp_path_factory.mktemp("startup") / "shop.db"
    assert main(["--db", str(db), "seed", "--orders", "12", "--seed", "3", "--days", "2",
                 "--until", "2026-01-01T00:00:00Z"]) == 0
    svc = bootstrap(db, create=False)
    try:
        order = next(s.stream_id for s in svc.store.streams("Order") if s.version >= 3)
        state = svc.replayer.replay(order, 2).state
        assert state is not None
        svc.writing("snapshot").store.save_snapshot(order, 2, state)
    finally:
        svc.close()
    return db, order


def _loaded(db: Path, argv: list[str]) -> tuple[int, list[str]]:
    return loaded_by(["--db", str(db), *argv])


READS = [
    ["events", "{order}"], ["events", "{order}", "--json"], ["replay", "{order}"],
    ["replay", "{order}", "--version", "1", "--json"], ["verify"], ["verify", "--json"],
    ["streams"], ["streams", "--json"], ["info"], ["diff", "{order}", "1", "3"],
    ["blame", "{order}"], ["history", "{order}", "--field", "status"],
    ["trace", "{order}@1"], ["search", "--where", "payload.qty>1"],
]


@pytest.mark.parametrize("argv", READS, ids=" ".join)
@pytest.mark.parametrize("read_only", [False, True], ids=["writable", "read-only"])
def test_a_read_loads_no_database_layer(shop: tuple[Path, str], argv: list[str],
                                        read_only: bool) -> None:
    db, order = shop
    words = [w.format(order=order) for w in argv]
    rc, loaded = _loaded(db, (["--read-only"] if read_only else []) + words)
    assert (rc, loaded) == (0, [])


def test_a_read_leaves_the_read_models_as_they_were_and_stats_catches_them_up(
        tmp_path: Path) -> None:
    db = tmp_path / "lag.db"
    assert main(["--db", str(db), "seed", "--orders", "2", "--until",
                 "2026-01-01T00:00:00Z"]) == 0
    with open_store(db) as st:  # another program appends: no projector runs
        order = next(s.stream_id for s in st.streams("Order"))
        st.append(order, "Order", [NewEvent("OrderPlaced", {})])
        head = st.head_position()
    with closing(sqlite3.connect(db)) as conn:
        before = dict(conn.execute("SELECT name, position FROM checkpoints"))
    assert before["order_summary"] < head
    for argv in (["events", order], ["replay", order], ["verify"], ["streams"], ["info"]):
        assert main(["--db", str(db), *argv]) in (0, 1)
    with closing(sqlite3.connect(db)) as conn:
        assert dict(conn.execute("SELECT name, position FROM checkpoints")) == before
    # stats reports the read models' lag: they are caught up first, as before
    out = subprocess.run([sys.executable, "-m", "esaudit", "--db", str(db), "stats", "--json"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert set(json.loads(out)["projection_lag"].values()) == {0}


def test_a_read_of_a_store_without_read_models_creates_none(tmp_path: Path) -> None:
    db = tmp_path / "bare.db"
    with open_store(db) as st:
        st.append("ord-1", "Order", [NewEvent("OrderCreated", {
            "order_id": "ord-1", "customer": "Ada", "currency": "EUR"})])
    for argv in (["events", "ord-1"], ["replay", "ord-1"], ["verify"], ["streams"]):
        assert main(["--db", str(db), *argv]) == 0
    with closing(sqlite3.connect(db)) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                             "WHERE type = 'table'")}
    assert not {t for t in tables if t.startswith("rm_")}


@pytest.mark.parametrize("content", [b"not a database at all, just text\n",
                                     b"SQLite format 3\x00" + b"\x00" * 200])
def test_a_read_of_a_file_that_is_no_store_is_one_line(tmp_path: Path, content: bytes,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(content)
    assert main(["--db", str(bad), "events", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("esaudit: "), err
    assert bad.read_bytes() == content


def test_services_opened_without_read_models_refuse_commands(shop: tuple[Path, str]) -> None:
    svc = bootstrap(shop[0], create=False, read_models=False)
    try:
        assert not svc.queries.has_read_models
        assert svc.replayer.replay(shop[1]).state is not None
        with pytest.raises(StoreError, match="without its read models"):
            svc.writing("order place")
    finally:
        svc.close()
