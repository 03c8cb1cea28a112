"""esaudit's own store passes the read contract every source passes (store/source_contract)."""

from __future__ import annotations

from pathlib import Path

from esaudit.application.seed import seed
from esaudit.application.transfer import import_history
from esaudit.bootstrap import Services
from store import ANY, NewEvent, open_store

from .source_contract import check_read_contract
from .test_timeline_minutes import _history


def test_a_seeded_store_answers_the_read_contract(services: Services) -> None:
    w = services.writing("seed")
    seed(w.commands, orders=12, seed=3, days=5)
    check_read_contract(services.store)


def test_an_imported_store_with_counts_and_later_appends_answers_the_read_contract(
        store_target: str, tmp_path: Path) -> None:
    with open_store(store_target) as st:
        import_history(st, _history(tmp_path / "a.jsonl", "a", 4, 30, 7_000_000))
        st.append("a-1", "Order", [NewEvent("LineAdded", {"i": -1})], ANY)
        counted = st.timeline_minutes()
        assert counted is not None and counted.through == 120 and counted.rows
        check_read_contract(st)
