"""esaudit reads an Emmett store where it is and sees what Emmett's own API reads back.

The expected answer is ``write_history.mjs``'s JSON: Emmett's ``readStream`` of every stream and
its global read (``readMessagesBatch``), after Emmett's ``appendToStream`` wrote the history.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from store.hashing import canonical_json
from store.sources import detect_kind, open_source
from store.sources.emmett import EmmettSource
from tests.store.source_contract import check_read_contract

from .conftest import EmmettDatabase, database_state, expected_type, stored_metadata

pytestmark = pytest.mark.postgres

@pytest.fixture
def source(emmett_db: EmmettDatabase) -> Any:
    src = open_source(emmett_db.target)
    yield src
    src.close()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_an_emmett_database_opens_as_an_emmett_source_read_only(
        emmett_db: EmmettDatabase, source: Any) -> None:
    assert detect_kind(emmett_db.target) == "emmett"
    assert isinstance(source, EmmettSource)
    assert source.identity.kind == "emmett"
    assert source.read_only is True
    caps = source.capabilities
    assert (caps.writable, caps.hash_chain, caps.snapshots) == (False, False, False)
    assert source.label.endswith("(emt_messages)")
    assert source.partition == "emt:default" and source.archived == 0
    # The same store asked for by kind and partition.
    forced = open_source(emmett_db.target, kind="emmett:emt:default")
    try:
        assert forced.counts() == source.counts()
    finally:
        forced.close()


def test_the_read_contract_every_source_passes(source: Any) -> None:
    check_read_contract(source)


def test_streams_versions_and_types_are_emmetts(emmett_db: EmmettDatabase,
                                                source: Any) -> None:
    expected = emmett_db.expected
    streams = {s["stream_id"]: s for s in expected["streams"]}
    events = sum(len(s["events"]) for s in expected["streams"])
    assert source.counts() == (events, len(streams)) == (340, 23)
    assert source.head_position() == max(m["global_position"] for m in expected["global_order"])
    assert [s.stream_id for s in source.streams()] == sorted(streams)
    for stream_id, s in streams.items():
        info = source.stream(stream_id)
        assert info is not None, stream_id
        assert info.version == s["current_stream_version"]
        assert info.first_version == 1
        assert info.stream_type == expected_type(stream_id, expected)
        assert info.head_hash == ""
    types = {expected_type(sid, expected) for sid in streams}
    assert source.stream_types() == sorted(types)
    assert {"LoyaltyCard", "shopping_cart", "product", "guest_stay_account",
            "emt:unknown"} == types
    assert source.stream("no-such-stream") is None


def test_every_event_is_the_one_emmett_reads_back(emmett_db: EmmettDatabase,
                                                  source: Any) -> None:
    expected = emmett_db.expected
    for s in expected["streams"]:
        got = source.read_stream(s["stream_id"])
        assert [e.version for e in got] == [e["stream_position"] for e in s["events"]]
        for mine, theirs in zip(got, s["events"], strict=True):
            assert mine.stream_id == s["stream_id"]
            assert mine.stream_type == expected_type(s["stream_id"], expected)
            assert mine.position == theirs["global_position"]
            assert mine.type == theirs["type"]
            assert mine.payload == theirs["data"]
            assert mine.metadata == stored_metadata(theirs["metadata"])
            assert mine.hash == ""
            p = mine.provenance
            assert p["message_id"] == theirs["message_id"]
            assert p["global_position"] == theirs["global_position"]
            assert p["stream_position"] == theirs["stream_position"]
            assert p["message_type"] == theirs["type"]
            assert p["message_kind"] == "event" and p["partition"] == "emt:default"
        payloads = source.read_payloads(s["stream_id"])
        assert payloads == [(e["stream_position"], e["type"], e["data"]) for e in s["events"]]
        assert source.positions_of(s["stream_id"]) == [e["global_position"] for e in s["events"]]


def test_edge_values_arrive_as_emmett_stored_them(emmett_db: EmmettDatabase,
                                                  source: Any) -> None:
    edge = next(e for e in source.iter_events(event_types=["EdgeValues"]))
    data = edge.payload
    assert data["unicode"] == "naïve café — 日本語 — 🙂👍🏽 — עברית — e\u0301"
    assert data["escapes"] == 'quote " backslash \\ tab \t newline \n'
    assert data["big"] == 9007199254740991 and isinstance(data["big"], int)
    assert data["huge"] == 10**21
    assert data["float"] == 0.1 and data["tiny"] == 5e-324
    assert data["bigint"] == "12345678901234567890"  # Emmett stores a BigInt as text
    assert data[""] == "empty key" and data["ключ с пробелом"] == "value"  # noqa: RUF001
    assert data["nested"] == {"a": {"b": {"c": {"d": [1, [2, [3, {"e": None}]]]}}}}
    assert (data["emptyObject"], data["emptyArray"], data["nothing"]) == ({}, [], None)
    # The caller chose this message's id; Emmett kept it, and so does the provenance.
    assert edge.provenance["message_id"].startswith("caller-chosen-")
    assert edge.metadata == {"note": "the caller chose this message id"}
    # Events appended without metadata carry Emmett's empty object.
    bare = [e for e in source.iter_events() if not e.metadata]
    assert bare and all(e.metadata == {} for e in bare)


def test_the_global_log_is_emmetts_global_read(emmett_db: EmmettDatabase,
                                               source: Any) -> None:
    theirs = sorted(emmett_db.expected["global_order"], key=lambda m: m["global_position"])
    mine = list(source.iter_events(page_size=50))
    assert [(e.position, e.stream_id, e.version, e.type, e.provenance["message_id"])
            for e in mine] == [(m["global_position"], m["stream_id"], m["stream_position"],
                                m["type"], m["message_id"]) for m in theirs]
    raw = list(source.iter_raw_events(page_size=64))
    assert [r[0] for r in raw] == [e.position for e in mine]
    assert [r[6] for r in raw] == [canonical_json(e.payload) for e in mine]
    exported = [json.loads(r[7]) for r in raw]
    assert [m["esaudit:provenance"] for m in exported] == [{"kind": "emmett", **e.provenance}
                                                          for e in mine]
    heads = [h for page in source.iter_event_heads(page_size=100) for h in page]
    assert [h[:5] for h in heads] == [(e.position, e.stream_id, e.stream_type, e.version, e.type)
                                      for e in mine]
    stats = source.stats()
    assert stats.events_by_type == dict(Counter(m["type"] for m in theirs))
    assert stats.streams_by_type == dict(Counter(
        expected_type(s["stream_id"], emmett_db.expected) for s in emmett_db.expected["streams"]))
    assert stats.snapshots == 0 and list(source.iter_snapshots()) == []


def test_exported_rows_keep_the_applications_own_metadata(source: Any) -> None:
    mine = list(source.iter_events())
    exported = [json.loads(r[7]) for r in source.iter_raw_events()]
    assert any("source" in e.metadata for e in mine)  # this history's metadata has one
    assert [{k: v for k, v in m.items() if k in e.metadata} for m, e in zip(
        exported, mine, strict=True)] == [e.metadata for e in mine]


def test_recorded_at_is_the_appending_transactions_time(emmett_db: EmmettDatabase,
                                                        source: Any) -> None:
    """``created`` is ``now()``: when the append's transaction began, shared by its events."""
    for a in emmett_db.expected["appends"]:
        last = a["next_expected_stream_version"]
        events = source.read_stream(a["stream_id"], last - a["count"] + 1, last)
        assert len(events) == a["count"]
        assert len({e.recorded_at for e in events}) == 1
        instant = events[0].recorded_at
        assert instant.tzinfo is not None and instant.utcoffset() == timedelta(0)
        slack = timedelta(seconds=1)  # the machine's clock, as node and PostgreSQL read it
        assert at(a["started_at"]) - slack <= instant <= at(a["finished_at"]) + slack
        assert events[0].provenance["created"] == instant.isoformat()
    engine = sa.create_engine(emmett_db.target)
    try:
        with engine.connect() as conn:
            created = dict(conn.exec_driver_sql(
                "SELECT global_position, created FROM emt_messages").all())
    finally:
        engine.dispose()
    assert {e.position: e.recorded_at for e in source.iter_events()} == created
    info = source.stream("inventory")
    events = source.read_stream("inventory")
    assert (info.first_at, info.last_at) == (events[0].recorded_at, events[-1].recorded_at)
    assert info.first_at.tzinfo == UTC or info.first_at.utcoffset() == timedelta(0)


def test_filters_and_ranges(emmett_db: EmmettDatabase, source: Any) -> None:
    product = source.read_stream("product-123", 3, 5)
    assert [e.version for e in product] == [3, 4, 5]
    assert source.read_stream("product-123", 5, 4) == []
    loyalty = list(source.iter_events(stream_types=["LoyaltyCard"]))
    assert {e.stream_id for e in loyalty} == {"loyalty_card-42", "loyalty_card-43"}
    assert len(loyalty) == 6
    one = list(source.iter_events(stream_ids=["inventory"]))
    assert [e.version for e in one] == [1, 2]
    assert [s.stream_id for s in source.streams("product")] == [
        "product-1001", "product-123", "product-456", "product-789"]
    assert source.count_streams("loyalty") == 2
    assert [r.stream_id for r in source.stream_rows("loyalty")] == ["loyalty_card-42",
                                                                   "loyalty_card-43"]
    head = source.head_position()
    assert list(source.iter_events(after_position=head)) == []
    middle = list(source.iter_events(after_position=100, to_position=110))
    assert [e.position for e in middle] == list(range(101, 111))
    first = source.read_stream("product-123")[0]
    assert source.first_version_after("product-123", first.recorded_at) == next(
        (e.version for e in source.read_stream("product-123")
         if e.recorded_at > first.recorded_at), None)


def test_reading_everything_changes_nothing(emmett_db: EmmettDatabase) -> None:
    before = database_state(emmett_db.target)
    src = open_source(emmett_db.target)
    try:
        src.stats()
        for info in src.streams():
            src.read_stream(info.stream_id)
        list(src.iter_raw_events())
        for _ in src.iter_event_codes(src.stream_types(), ["ProductItemAdded"]):
            pass
        src.refresh()
        src.stream_rows(sort="last_at", descending=True)
    finally:
        src.close()
    after = database_state(emmett_db.target)
    assert after == before
    assert before["rows"]["emt_messages_emt_default_active"]  # the dump does hold the rows
