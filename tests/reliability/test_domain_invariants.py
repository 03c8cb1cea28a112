"""Property: random command sequences keep aggregate == replay == replay without snapshots
== read-model row, and never break the order rules (paid never above total, refunded never above
paid, no line changed once the order left draft)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esaudit.application.compare import replayed_view, row_view
from esaudit.bootstrap import Services, bootstrap
from esaudit.domain import commands as c
from esaudit.domain import order
from esaudit.domain.errors import DomainError

SKUS = ["A", "B", "C"]
command_specs = st.lists(st.one_of(
    st.tuples(st.just("add"), st.sampled_from(SKUS), st.integers(1, 4), st.integers(0, 900)),
    st.tuples(st.just("remove"), st.sampled_from(SKUS)),
    st.tuples(st.just("place")),
    st.tuples(st.just("pay"), st.integers(1, 3000)),
    st.tuples(st.just("ship")),
    st.tuples(st.just("deliver")),
    st.tuples(st.just("cancel")),
    st.tuples(st.just("refund"), st.integers(1, 3000)),
), min_size=1, max_size=30)


def to_command(oid: str, spec: tuple) -> object:
    kind = spec[0]
    return {
        "add": lambda: c.AddLine(oid, spec[1], spec[2], spec[3]),
        "remove": lambda: c.RemoveLine(oid, spec[1]),
        "place": lambda: c.PlaceOrder(oid),
        "pay": lambda: c.ReceivePayment(oid, spec[1]),
        "ship": lambda: c.ShipOrder(oid, "DHL", "T"),
        "deliver": lambda: c.DeliverOrder(oid),
        "cancel": lambda: c.CancelOrder(oid, "r"),
        "refund": lambda: c.IssueRefund(oid, spec[1], "r"),
    }[kind]()


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    services = bootstrap(str(tmp_path_factory.mktemp("prop") / "p.db"), snapshot_every=4)
    yield services
    services.close()


_ids = itertools.count()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=command_specs)
def test_every_view_of_an_order_agrees(svc: Services, specs: list[tuple]) -> None:
    oid = f"ord-p{next(_ids)}"
    svc.commands.execute(c.CreateOrder(oid, "Prop"))
    model = svc.commands.load(oid)[0]
    placed_lines = None
    for spec in specs:
        cmd = to_command(oid, spec)
        try:
            expected_events = order.decide(model, cmd)  # type: ignore[arg-type]
        except DomainError:
            expected_events = None
        head = svc.store.head_position()
        try:
            svc.commands.execute(cmd)  # type: ignore[arg-type]
        except DomainError:
            assert expected_events is None
            assert svc.store.head_position() == head  # a refusal writes nothing
        else:
            assert expected_events is not None
        model, version, _ = svc.commands.load(oid)
        assert order.broken_rules(model) == []
        assert model["paid_cents"] <= model["total_cents"]
        assert model["refunded_cents"] <= model["paid_cents"]
        if placed_lines is not None:
            assert model["lines"] == placed_lines, "lines changed after the order was placed"
        elif model["status"] != order.DRAFT:
            placed_lines = model["lines"]
    replayed = svc.replayer.replay(oid)
    plain = svc.replayer.replay(oid, use_snapshots=False)
    assert model == replayed.state == plain.state
    assert row_view(svc.queries.order(oid)) == replayed_view(plain.state, plain.version)
    for v in range(0, version + 1, 3):
        assert (svc.replayer.replay(oid, v).state
                == svc.replayer.replay(oid, v, use_snapshots=False).state)
