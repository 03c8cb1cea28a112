"""An Emmett application goes on writing while esaudit reads: the writer never waits for
esaudit, and esaudit's answers stay one consistent cut until Refresh.

This module has its own database (the fixture is per module): it appends, through Emmett.
"""

from __future__ import annotations

from typing import Any

import pytest

from store.sources import open_source
from store.sources.database import ReadOnlyDatabase
from store.sources.emmett import open_emmett
from tests.store.source_contract import check_read_contract

from .conftest import EmmettDatabase, HeldAppend

pytestmark = pytest.mark.postgres


def versions(reading: dict[str, Any]) -> dict[str, int]:
    return {s["stream_id"]: s["current_stream_version"] for s in reading["streams"]}


def test_a_writer_never_waits_for_a_read_and_the_cut_holds_until_refresh(
        emmett_db: EmmettDatabase) -> None:
    db = ReadOnlyDatabase(emmett_db.target)
    source = open_emmett(db)
    try:
        before = source.counts()
        walk = source.iter_events(page_size=10)
        seen = [next(walk).position for _ in range(25)]
        with db.read() as conn:
            conn.value("SELECT count(*) FROM emt_messages")
            locks = conn.rows("SELECT locktype, mode FROM pg_locks WHERE pid = pg_backend_pid()")
            assert {mode for kind, mode in locks if kind == "relation"} == {"AccessShareLock"}
            assert "transactionid" not in {kind for kind, _ in locks}  # no xid: no write
            assert conn.value("SHOW transaction_read_only") == "on"
            # Emmett appends (and finishes: the subprocess has a timeout) while this
            # transaction is open.
            after_write = emmett_db.run_emmett("--more")
        seen += [e.position for e in walk]
        assert seen == list(range(1, before[0] + 1))  # the cut: none of the new events
        assert source.counts() == before
        assert source.stream("product-123").version == versions(emmett_db.expected)[
            "product-123"]
        assert len(source.read_stream("product-123")) == source.stream("product-123").version

        source.refresh()
        expected = versions(after_write)
        assert source.counts() == (sum(expected.values()), len(expected))
        assert {s.stream_id: s.version for s in source.streams()} == expected
        new = [e for e in source.iter_events(after_position=before[0])]
        assert [(e.stream_id, e.version) for e in new] == [
            (m["stream_id"], m["stream_position"]) for m in after_write["global_order"][-3:]]
    finally:
        source.close()


def test_positions_committed_late_stay_out_of_the_cut(emmett_db: EmmettDatabase) -> None:
    """Emmett draws global positions before commit: a transaction holding low positions can
    commit after one holding higher ones. A cut shows neither half-committed nor late rows."""
    held = HeldAppend(emmett_db.node_url)
    try:
        low = held.state["held"]["global_positions"]
        high = held.state["committed"]["last_global_position"]
        assert max(low) < high
        source = open_source(emmett_db.target)
        try:
            version = source.stream("product-456").version
            assert source.head_position() == high
            positions = [e.position for e in source.iter_events()]
            assert not set(low) & set(positions) and high in positions
            counts = source.counts()
            assert counts[0] == len(positions)

            after_commit = held.commit()
            # Committed now, below the head, in a stream of the cut: still not in this cut.
            assert [e.position for e in source.iter_events()] == positions
            assert source.stream("product-456").version == version
            assert len(source.read_stream("product-456")) == version
            assert source.stats().events == counts[0]

            source.refresh()
            assert source.stream("product-456").version == version + 2
            events = source.read_stream("product-456")[-2:]
            assert [e.position for e in events] == low
            assert [e.position for e in source.iter_events()] == sorted(positions + low)
            assert {s.stream_id: s.version for s in source.streams()} == versions(after_commit)
            check_read_contract(source)  # positions committed late, now in place
        finally:
            source.close()
    finally:
        held.abandon()
