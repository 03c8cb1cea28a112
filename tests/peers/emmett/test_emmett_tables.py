"""What Emmett 0.42 writes into PostgreSQL: the facts the Emmett adapter relies on, checked on a
history Emmett's own software wrote (plain SQL here, read-only), so that a new Emmett version
that changes them fails here first and by name."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
import sqlalchemy as sa

from .conftest import EMMETT_READ_KEYS, EmmettDatabase

pytestmark = pytest.mark.postgres

def rows(db: EmmettDatabase, sql: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(db.target)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            return [dict(r._mapping) for r in conn.exec_driver_sql(sql)]
    finally:
        engine.dispose()


def test_the_tables_emmett_creates(emmett_db: EmmettDatabase) -> None:
    kinds = {r["relname"]: r["relkind"] for r in rows(emmett_db, (
        "SELECT relname, relkind FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        " AND relkind IN ('r', 'p', 'S')"))}
    # Partitioned by partition (LIST), then by is_archived: one active and one archived leaf.
    assert kinds["emt_messages"] == kinds["emt_streams"] == "p"
    assert kinds["emt_messages_emt_default"] == "p"
    assert kinds["emt_messages_emt_default_active"] == "r"
    assert kinds["emt_messages_emt_default_archived"] == "r"
    assert kinds["emt_processors"] == kinds["emt_projections"] == "p"
    assert kinds["emt_global_message_position"] == "S"
    assert "emt_subscriptions" not in kinds  # 0.42 creates it only when migrating an older store
    columns = {(r["table_name"], r["column_name"]): r["data_type"] for r in rows(emmett_db, (
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_name IN ('emt_messages', 'emt_streams')"))}
    assert {c: t for (table, c), t in columns.items() if table == "emt_messages"} == {
        "stream_position": "bigint", "global_position": "bigint", "transaction_id": "xid8",
        "created": "timestamp with time zone", "is_archived": "boolean",
        "message_kind": "character varying", "stream_id": "text", "partition": "text",
        "message_schema_version": "text", "message_id": "text", "message_type": "text",
        "message_data": "jsonb", "message_metadata": "jsonb"}
    assert {c: t for (table, c), t in columns.items() if table == "emt_streams"} == {
        "stream_id": "text", "stream_position": "bigint", "partition": "text",
        "stream_type": "text", "stream_metadata": "jsonb", "is_archived": "boolean"}


def test_messages_as_emmett_stores_them(emmett_db: EmmettDatabase) -> None:
    stored = rows(emmett_db, "SELECT * FROM emt_messages ORDER BY global_position")
    read_back = {(m["stream_id"], e["stream_position"]): e
                 for m in emmett_db.expected["streams"] for e in m["events"]}
    assert len(stored) == len(read_back) == 340
    assert {r["partition"] for r in stored} == {"emt:default"}
    assert {r["is_archived"] for r in stored} == {False}
    assert {r["message_kind"] for r in stored} == {"E"}
    assert {r["message_schema_version"] for r in stored} == {"1"}
    for r in stored:
        e = read_back[(r["stream_id"], r["stream_position"])]
        assert e["global_position"] == r["global_position"]
        assert e["type"] == r["message_type"]
        assert e["message_id"] == r["message_id"]
        # The reader adds its four keys; the stored metadata never holds them.
        assert not EMMETT_READ_KEYS & set(r["message_metadata"])
        assert {k: v for k, v in e["metadata"].items() if k not in EMMETT_READ_KEYS} \
            == r["message_metadata"]
    caller_chosen = [r for r in stored if r["message_id"].startswith("caller-chosen-")]
    assert len(caller_chosen) == 1
    # Emmett stores a BigInt as a JSON string (its reader turns long digit strings back into
    # BigInt): the stored value is text.
    assert caller_chosen[0]["message_data"]["bigint"] == "12345678901234567890"


def test_one_append_is_one_transaction_with_one_created_time(emmett_db: EmmettDatabase) -> None:
    stored = rows(emmett_db, "SELECT stream_id, transaction_id::text AS tx, created,"
                             " global_position FROM emt_messages")
    by_tx: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in stored:
        by_tx[r["tx"]].append(r)
    appends = emmett_db.expected["appends"]
    assert len(by_tx) == len(appends)
    for group in by_tx.values():
        assert len({r["stream_id"] for r in group}) == 1
        assert len({r["created"] for r in group}) == 1  # now(): the transaction's start


def test_stream_rows_name_a_type_only_when_the_id_has_a_prefix(
        emmett_db: EmmettDatabase) -> None:
    streams = {r["stream_id"]: r for r in rows(emmett_db, "SELECT * FROM emt_streams")}
    versions = {s["stream_id"]: s["current_stream_version"]
                for s in emmett_db.expected["streams"]}
    assert set(streams) == set(versions)
    for stream_id, r in streams.items():
        assert r["stream_position"] == versions[stream_id]
        assert r["partition"] == "emt:default" and r["is_archived"] is False
        assert r["stream_metadata"] == {}
    # appendToStream derives the type from the id; Emmett's lower-level append takes one.
    assert streams["product-123"]["stream_type"] == "product"
    assert streams["inventory"]["stream_type"] == "emt:unknown"
    assert streams["loyalty_card-42"]["stream_type"] == "LoyaltyCard"
    stay = next(s for s in streams if s.startswith("guest_stay_account-"))
    assert streams[stay]["stream_type"] == "guest_stay_account"


def test_emmett_reads_back_what_it_was_given(emmett_db: EmmettDatabase) -> None:
    expected = emmett_db.expected
    assert expected["emmett"] == {"@event-driven-io/emmett": "0.42.0",
                                  "@event-driven-io/emmett-postgresql": "0.42.0"}
    assert expected["conflict"]["error"].endswith("ExpectedVersionConflictError")
    for stream in expected["streams"]:
        positions = [e["stream_position"] for e in stream["events"]]
        assert positions == list(range(1, len(positions) + 1))
    positions = [m["global_position"] for m in expected["global_order"]]
    assert sorted(positions) == list(range(1, len(positions) + 1))
