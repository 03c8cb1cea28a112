"""The stream browser's queries on every backend: filter, count, pages and a stream's row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect

from esaudit.application.queries import SortKey
from esaudit.application.seed import seed
from esaudit.bootstrap import Services, bootstrap
from esaudit.domain import commands as c
from store import open_store

SORTS: list[SortKey] = ["stream_id", "stream_type", "version", "status", "last_at"]


@pytest.fixture
def seeded(services: Services) -> Services:
    seed(services.commands, orders=40, seed=3, days=10, until=datetime(2026, 5, 1, tzinfo=UTC))
    services.commands.execute(c.CreateOrder("ord-mixed", "Zelda QUIXOTE"))
    return services


@pytest.mark.parametrize("text", ["", "paid", "ord-0", "zelda quixote", "Product", "nothing-xyz"])
def test_row_number_is_the_streams_index_in_every_sort(seeded: Services, text: str) -> None:
    q = seeded.queries
    for sort in SORTS:
        for descending in (False, True):
            rows = q.stream_rows(text, sort=sort, descending=descending)
            assert q.count_streams(text) == len(rows)
            for i, row in enumerate(rows):
                assert q.stream_row_number(row.stream_id, text, sort=sort,
                                           descending=descending) == i, (sort, descending)
            page = q.stream_rows(text, sort=sort, descending=descending, offset=5, limit=7)
            assert page == rows[5:12]


def test_filter_ignores_case_and_needs_every_word(seeded: Services) -> None:
    q = seeded.queries
    assert [r.stream_id for r in q.stream_rows("zELDA quixote")] == ["ord-mixed"]
    assert [r.stream_id for r in q.stream_rows("quixote ORD-MIXED")] == ["ord-mixed"]
    assert q.stream_rows("quixote delivered") == []
    assert q.stream_row_number("ord-mixed", "delivered") is None
    paid = q.stream_rows("PAID")
    assert paid and all("paid" in " ".join(filter(None, (r.stream_id, r.stream_type, r.status,
                                                         r.customer))).lower() for r in paid)
    assert len(paid) == sum(1 for r in q.stream_rows() if r.status and "paid" in r.status)


def test_a_new_search_index_reaches_stores_made_before_it(sqlite_target: str) -> None:
    bootstrap(sqlite_target).close()
    with open_store(sqlite_target) as st, st.write_transaction(lock=True) as conn:
        conn.exec_driver_sql("DROP INDEX ix_rm_order_search")
    bootstrap(sqlite_target).close()
    with open_store(sqlite_target, read_only=True) as st, st.read_connection() as conn:
        names = {i["name"] for i in inspect(conn).get_indexes("rm_order_summary")}
    assert "ix_rm_order_search" in names
