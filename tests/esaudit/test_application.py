"""Handlers, projections, replay and compare on a real store (every backend)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from esaudit.application import replay as replay_module
from esaudit.application.compare import row_view
from esaudit.application.readmodels import order_summary
from esaudit.bootstrap import Services, bootstrap
from esaudit.domain import commands as c
from esaudit.domain.errors import InvalidCommand, InvalidTransition, UnknownStream
from store import ConcurrencyError, NewEvent, StoreReadOnly

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def walk(svc: Services, oid: str = "ord-1") -> None:
    h = svc.commands
    h.execute(c.RegisterProduct("A", "Apple", 250), recorded_at=T0)
    h.execute(c.CreateOrder(oid, "Ada"), recorded_at=T0 + timedelta(minutes=1))
    h.execute(c.AddLine(oid, "A", 4), recorded_at=T0 + timedelta(minutes=2))
    h.execute(c.AddLine(oid, "B", 1, 1999), recorded_at=T0 + timedelta(minutes=3))
    h.execute(c.PlaceOrder(oid), recorded_at=T0 + timedelta(minutes=4))
    h.execute(c.ReceivePayment(oid, 1000), recorded_at=T0 + timedelta(minutes=5))
    h.execute(c.ReceivePayment(oid, 1999), recorded_at=T0 + timedelta(minutes=6))
    h.execute(c.ShipOrder(oid, "DHL", "T1"), recorded_at=T0 + timedelta(minutes=7))


def test_commands_update_the_read_model_and_metadata(services: Services) -> None:
    walk(services)
    row = services.queries.order("ord-1")
    assert (row.status, row.total_cents, row.paid_cents, row.line_count, row.version) == (
        "shipped", 2999, 2999, 2, 7)
    assert row.lines["A"] == {"qty": 4, "unit_price_cents": 250}  # catalogue price
    event = services.store.read_stream("ord-1")[0]
    assert event.metadata["actor"] == "tester"
    assert event.metadata["command"] == "CreateOrder"
    assert event.metadata["correlation_id"] == event.metadata["causation_id"]
    assert services.queries.product("A").price_cents == 250
    assert [s.lag for s in services.projector.status()] == [0, 0]


def test_a_stale_expected_version_is_a_conflict_never_a_retry(services: Services) -> None:
    walk(services)
    with pytest.raises(ConcurrencyError) as info:
        services.commands.execute(c.DeliverOrder("ord-1"), expected_version=6)
    assert info.value.actual == 7
    assert services.store.stream("ord-1").version == 7
    services.commands.execute(c.DeliverOrder("ord-1"), expected_version=7)
    assert services.queries.order("ord-1").status == "delivered"


def test_refusals_write_nothing(services: Services) -> None:
    walk(services)
    head = services.store.head_position()
    with pytest.raises(InvalidTransition):
        services.commands.execute(c.CancelOrder("ord-1", "late"))
    with pytest.raises(InvalidCommand, match="unknown product"):
        services.commands.execute(c.AddLine("ord-1", "nope", 1))
    with pytest.raises(InvalidCommand, match="Product stream"):
        services.commands.execute(c.CreateOrder("product-A", "x"))
    assert services.store.head_position() == head


def test_snapshots_are_taken_and_are_only_a_cache(services: Services) -> None:
    walk(services)
    snaps = [(s.stream_id, s.version) for s in services.store.iter_snapshots()]
    assert ("ord-1", 3) in snaps and ("ord-1", 6) in snaps
    for version in range(0, 8):
        with_snap = services.replayer.replay("ord-1", version)
        without = services.replayer.replay("ord-1", version, use_snapshots=False)
        assert with_snap.state == without.state
    assert services.replayer.replay("ord-1", 7).snapshot_version == 6


def test_replay_at_an_instant(services: Services) -> None:
    walk(services)
    at = services.replayer.replay("ord-1", at=T0 + timedelta(minutes=5, seconds=30))
    assert at.version == 5 and at.state["paid_cents"] == 1000
    assert services.replayer.replay("ord-1", at=T0).version == 0
    with pytest.raises(UnknownStream):
        services.replayer.replay("missing")
    with pytest.raises(InvalidCommand):
        services.replayer.replay("ord-1", 99)


def test_compare_versions_streams_and_read_model(services: Services) -> None:
    walk(services)
    services.commands.execute(c.CreateOrder("ord-2", "Bob"))
    changes = {ch.path: ch for ch in services.comparer.versions("ord-1", 3, 5)}
    assert set(changes) == {"paid_cents", "status"}
    assert (changes["status"].old, changes["status"].new) == ("draft", "pending_payment")
    first = services.comparer.versions("ord-1", 0, 1)
    assert {ch.kind for ch in first} == {"added"} and len(first) == 11
    between = {ch.path for ch in services.comparer.streams("ord-1", "ord-2")}
    assert {"customer", "order_id", "status", "lines.A", "lines.B"} <= between
    assert services.comparer.read_model("ord-1") == []


def test_a_drifted_read_model_is_visible(services: Services) -> None:
    walk(services)
    with services.store.write_transaction() as conn:
        conn.execute(order_summary.update().where(order_summary.c.order_id == "ord-1")
                     .values(paid_cents=1, status="paid"))
    drift = {ch.path: (ch.old, ch.new) for ch in services.comparer.read_model("ord-1")}
    assert drift == {"paid_cents": (1, 2999), "status": ("paid", "shipped")}
    services.projector.rebuild()
    assert services.comparer.read_model("ord-1") == []


def test_rebuild_equals_incremental_and_unknown_types_fold_generically(
        services: Services) -> None:
    walk(services)
    services.store.append("acct-1", "Account", [
        NewEvent("Opened", {"owner": "Ada", "limits": {"daily": 100, "monthly": 1000}}),
        NewEvent("LimitChanged", {"limits": {"daily": 250}}),
    ])
    before = [row_view(o) for o in services.queries.orders()]
    # each read model reads only its own stream type: the two Account events are read by none
    assert services.projector.rebuild() == services.store.head_position() - 2
    assert [row_view(o) for o in services.queries.orders()] == before
    state = services.replayer.replay("acct-1").state
    assert state == {"owner": "Ada", "limits": {"daily": 250, "monthly": 1000}}


def test_read_models_catch_up_when_a_store_is_opened(store_target: str) -> None:
    svc = bootstrap(store_target)
    svc.store.append("ord-x", "Order", [NewEvent("OrderCreated", {
        "order_id": "ord-x", "customer": "Eve", "currency": "EUR"})])
    assert svc.queries.order("ord-x") is None  # written behind the projector's back
    svc.close()
    svc = bootstrap(store_target)
    assert svc.queries.order("ord-x").customer == "Eve"
    svc.close()


def test_read_only_services_refuse_commands(store_target: str) -> None:
    svc = bootstrap(store_target)
    walk(svc)
    svc.close()
    ro = bootstrap(store_target, read_only=True)
    try:
        assert ro.queries.order("ord-1").status == "shipped"
        with pytest.raises(StoreReadOnly):
            ro.commands.execute(c.DeliverOrder("ord-1"))
        assert ro.projector.catch_up() == 0
    finally:
        ro.close()


def test_stream_rows_filter_on_id_customer_type_and_status(services: Services) -> None:
    walk(services)
    services.commands.execute(c.CreateOrder("ord-2", "Bob Builder"))
    q = services.queries
    assert [r.stream_id for r in q.stream_rows("bob")] == ["ord-2"]
    assert [r.stream_id for r in q.stream_rows("shipped")] == ["ord-1"]
    assert [r.stream_id for r in q.stream_rows("product")] == ["product-A"]
    assert q.count_streams() == 3 and q.count_streams("ord") == 2
    by_version = q.stream_rows(sort="version", descending=True)
    assert by_version[0].stream_id == "ord-1" and by_version[0].status == "shipped"
    assert q.stream_rows(offset=1, limit=1)[0].stream_id == "ord-2"


def test_read_only_store_without_read_models_still_lists_streams(store_target: str) -> None:
    from store import open_store
    with open_store(store_target) as st:  # written by the store alone: no read-model tables
        st.append("ord-raw", "Order", [NewEvent("OrderCreated", {
            "order_id": "ord-raw", "customer": "Raw", "currency": "EUR"})])
    ro = bootstrap(store_target, read_only=True)
    try:
        assert not ro.queries.has_read_models
        rows = ro.queries.stream_rows("raw", sort="status")
        assert [(r.stream_id, r.status) for r in rows] == [("ord-raw", None)]
        assert ro.queries.count_streams() == 1
        assert ro.queries.order("ord-raw") is None and ro.queries.products() == []
        assert ro.replayer.replay("ord-raw").state["customer"] == "Raw"
    finally:
        ro.close()


def test_an_idle_catch_up_takes_no_write_lock(sqlite_services: Services) -> None:
    import sqlalchemy as sa
    walk(sqlite_services)
    statements: list[str] = []
    engine = sqlite_services.store._backend.engine
    listener = lambda conn, cur, statement, *a: statements.append(statement)  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        assert sqlite_services.projector.catch_up() == 0
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    assert not any("IMMEDIATE" in st for st in statements)
    sqlite_services.store.append("ord-1", "Order", [NewEvent("OrderDelivered", {})])
    assert sqlite_services.projector.catch_up() == 1  # only the order read model reads it
    assert {s.lag for s in sqlite_services.projector.status()} == {0}
    assert sqlite_services.queries.order("ord-1").status == "delivered"


def test_replay_at_an_instant_stops_at_the_first_event_recorded_later(services: Services) -> None:
    minutes = [1, 5, 3, 7]  # an imported history need not be in time order
    services.store.append("imp", "Thing", [
        NewEvent("Set", {"n": i}, recorded_at=T0 + timedelta(minutes=m))
        for i, m in enumerate(minutes)], 0)
    expected = {0: 0, 1: 1, 2: 1, 3: 1, 4: 1, 5: 3, 6: 3, 7: 4, 8: 4}
    assert {m: services.replayer.version_at("imp", T0 + timedelta(minutes=m))
            for m in expected} == expected
    assert services.replayer.version_at("missing", T0) == 0


def test_a_long_fold_is_remembered_and_later_replays_fold_from_there(
    services: Services, monkeypatch: pytest.MonkeyPatch,
) -> None:
    services.store.append("long", "Thing", [
        NewEvent("Set", {"n": i, f"k{i % 7}": i}) for i in range(2_500)], 0)
    replayer = services.replayer
    reads: list[tuple[int, int | None]] = []
    original = services.store.read_payloads

    def spy(stream_id: str, from_version: int = 1, to_version: int | None = None, **kw):  # type: ignore[no-untyped-def]
        reads.append((from_version, to_version))
        return original(stream_id, from_version, to_version, **kw)

    monkeypatch.setattr(services.store, "read_payloads", spy)
    assert replayer.replay("long").version == 2_500
    assert reads == [(1, 2_500)]
    for version in (1_500, 2_000, 999, 2_500, 2_222):
        reads.clear()
        remembered = replayer.replay("long", version)
        start = reads[0][0] - 1 if reads else version  # folded from here (nothing to read)
        assert version - start < 1_000 and start in (0, 1_000, 2_000, 2_500)
        assert remembered.state == replayer.replay("long", version, use_snapshots=False).state


def test_states_are_remembered_for_the_last_few_streams_only(
    services: Services, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(replay_module, "MEMO_EVERY", 2)
    for k in range(replay_module.MEMO_STREAMS + 3):
        services.store.append(f"s-{k}", "Thing", [NewEvent("Set", {"n": n}) for n in range(5)], 0)
        services.replayer.replay(f"s-{k}")
    kept = list(services.replayer._memo)
    assert kept == [f"s-{k}" for k in range(3, replay_module.MEMO_STREAMS + 3)]
