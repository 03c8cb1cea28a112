"""esaudit's own store passes the read contract every source passes (store/source_contract)."""

from __future__ import annotations

from esaudit.application.seed import seed
from esaudit.bootstrap import Services

from .source_contract import check_read_contract


def test_a_seeded_store_answers_the_read_contract(services: Services) -> None:
    w = services.writing("seed")
    seed(w.commands, orders=12, seed=3, days=5)
    check_read_contract(services.store)
