"""The built-in shop's rules as rule checks: clean histories pass, each broken rule is found."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from esaudit.application.seed import PRODUCTS, plan
from esaudit.domain import commands as c
from esaudit.domain import events as e
from esaudit.domain import order, product
from esaudit.domain.errors import DomainError
from esaudit.domain.events import event_payload, event_type
from esaudit.domain.folds import ReplayError, fold
from esaudit.domain.rules import RuleViolation, StreamModel
from esaudit.domain.shop_rules import ProductRules, ShopRules, order_finding

OID = "ord-1"
Events = list[tuple[int, str, dict[str, Any]]]


def record(*cmds: c.OrderCommand) -> Events:
    """The history the real domain writes for ``cmds``."""
    state, out = None, []
    for cmd in cmds:
        for ev in order.decide(state, cmd):
            type_, payload = event_type(ev), event_payload(ev)
            state = order.evolve(state, type_, payload)
            out.append((len(out) + 1, type_, payload))
    return out


def history(*events: tuple[str, dict[str, Any]]) -> Events:
    return [(version, type_, payload) for version, (type_, payload) in enumerate(events, 1)]


def found(events: Events) -> list[tuple[int, str, str | None]]:
    return [(v.version, v.rule, v.status_before) for v in ShopRules().check(OID, events)]


CREATED = ("OrderCreated", {"order_id": OID, "customer": "Ada", "currency": "EUR"})
LINE = ("LineAdded", {"sku": "A", "qty": 2, "unit_price_cents": 500})
PLACED = ("OrderPlaced", {})
PAID = ("PaymentReceived", {"amount_cents": 1000, "method": "card"})
SHIPPED = ("OrderShipped", {"carrier": "DHL", "tracking_no": "T1"})
DELIVERED = ("OrderDelivered", {})
CANCELLED = ("OrderCancelled", {"reason": "changed mind"})


def refund(cents: int) -> tuple[str, dict[str, Any]]:
    return "RefundIssued", {"amount_cents": cents, "reason": "damaged"}


def pay(cents: Any) -> tuple[str, dict[str, Any]]:
    return "PaymentReceived", {"amount_cents": cents, "method": "card"}


# --- clean histories -------------------------------------------------------------------------

LIFECYCLES = {
    "delivered then refunded": (
        c.CreateOrder(OID, "Ada"), c.AddLine(OID, "A", 2, 500), c.AddLine(OID, "B", 1, 300),
        c.RemoveLine(OID, "B"), c.AddLine(OID, "A", 1, 500), c.PlaceOrder(OID),
        c.ReceivePayment(OID, 700), c.ReceivePayment(OID, 800), c.ShipOrder(OID, "DHL", "T"),
        c.DeliverOrder(OID), c.IssueRefund(OID, 500, "scratched"), c.IssueRefund(OID, 1000)),
    "cancelled after paying, refunded": (
        c.CreateOrder(OID, "Ada"), c.AddLine(OID, "A", 1, 900), c.PlaceOrder(OID),
        c.ReceivePayment(OID, 900), c.CancelOrder(OID, "out of stock"),
        c.IssueRefund(OID, 900, "cancelled")),
    "cancelled while pending": (
        c.CreateOrder(OID, "Ada"), c.AddLine(OID, "A", 1, 900), c.PlaceOrder(OID),
        c.ReceivePayment(OID, 100), c.CancelOrder(OID, "too slow"), c.IssueRefund(OID, 100)),
    "cancelled draft": (c.CreateOrder(OID, "Ada"), c.CancelOrder(OID, "never mind")),
    "free order shipped": (
        c.CreateOrder(OID, "Ada"), c.AddLine(OID, "GIFT", 1, 0), c.PlaceOrder(OID)),
}


@pytest.mark.parametrize("name", LIFECYCLES)
def test_a_history_the_domain_wrote_breaks_no_rule(name: str) -> None:
    events = record(*LIFECYCLES[name])
    assert ShopRules().check(OID, events) == []


def test_the_seeded_demo_shop_breaks_no_rule() -> None:
    """Every order and product of a seeded shop, decided by the real domain, in memory."""
    steps, order_ids = plan(60, seed=7, days=20, until=datetime(2024, 5, 1, tzinfo=UTC))
    prices = {sku: price for sku, _, price in PRODUCTS}
    states: dict[str, Any] = {}
    streams: dict[str, Events] = {}
    for step in steps:
        cmd: Any = step.command
        stream = getattr(cmd, "order_id", None) or product.stream_id_for(cmd.sku)
        state = states.get(stream)
        if isinstance(cmd, c.RegisterProduct | c.ChangePrice):
            prices[cmd.sku] = cmd.price_cents
        elif isinstance(cmd, c.AddLine):
            cmd = c.AddLine(cmd.order_id, cmd.sku, cmd.qty, prices[cmd.sku])
        elif type(cmd).__name__ == "_Pay":
            owed = order.owed_cents(state)
            cmd = c.ReceivePayment(cmd.order_id, owed if cmd.fraction >= 1 else
                                   max(1, int(owed * cmd.fraction)))
        elif type(cmd).__name__ == "_Refund":
            left = order.refundable_cents(state)
            cmd = c.IssueRefund(cmd.order_id, left if cmd.fraction >= 1 else
                                max(1, int(left * cmd.fraction)), cmd.reason)
        aggregate: Any = product if stream.startswith("product-") else order
        events = streams.setdefault(stream, [])
        for ev in aggregate.decide(state, cmd):
            type_, payload = event_type(ev), event_payload(ev)
            state = aggregate.evolve(state, type_, payload)
            events.append((len(events) + 1, type_, payload))
        states[stream] = state
    kinds = {type_ for events in streams.values() for _, type_, _ in events}
    assert {"RefundIssued", "OrderDelivered", "OrderCancelled", "PriceChanged"} <= kinds
    assert set(order_ids) <= set(streams)
    for stream, events in streams.items():
        rules = ProductRules() if stream.startswith("product-") else ShopRules()
        assert rules.check(stream, events) == [], stream
        assert rules.fold(events) == states[stream]


# --- the check agrees with decide ------------------------------------------------------------

STATES = {
    "draft": (c.CreateOrder(OID, "Ada"), c.AddLine(OID, "A", 2, 500)),
    "pending_payment": (c.CreateOrder(OID, "Ada"), c.AddLine(OID, "A", 2, 500),
                        c.PlaceOrder(OID)),
    "paid": (c.CreateOrder(OID, "Ada"), c.AddLine(OID, "A", 2, 500), c.PlaceOrder(OID),
             c.ReceivePayment(OID, 1000)),
    "shipped": (c.CreateOrder(OID, "Ada"), c.AddLine(OID, "A", 2, 500), c.PlaceOrder(OID),
                c.ReceivePayment(OID, 1000), c.ShipOrder(OID, "DHL", "T")),
    "delivered": (c.CreateOrder(OID, "Ada"), c.AddLine(OID, "A", 2, 500), c.PlaceOrder(OID),
                  c.ReceivePayment(OID, 1000), c.ShipOrder(OID, "DHL", "T"),
                  c.DeliverOrder(OID)),
    "cancelled": (c.CreateOrder(OID, "Ada"), c.AddLine(OID, "A", 2, 500),
                  c.CancelOrder(OID, "no")),
    "cancelled after paying": (c.CreateOrder(OID, "Ada"), c.AddLine(OID, "A", 2, 500),
                               c.PlaceOrder(OID), c.ReceivePayment(OID, 1000),
                               c.CancelOrder(OID, "no")),
}
COMMANDS: list[c.OrderCommand] = [
    c.CreateOrder(OID, "Ada"), c.AddLine(OID, "B", 1, 100), c.RemoveLine(OID, "A"),
    c.PlaceOrder(OID), c.ReceivePayment(OID, 1), c.ShipOrder(OID, "DHL", "T2"),
    c.DeliverOrder(OID), c.CancelOrder(OID, "late"), c.IssueRefund(OID, 1, "sorry")]
EVENTS: list[e.OrderEvent] = [
    e.OrderCreated(OID, "Ada", "EUR"), e.LineAdded("B", 1, 100), e.LineRemoved("A"),
    e.OrderPlaced(), e.PaymentReceived(1, "card"), e.OrderShipped("DHL", "T2"),
    e.OrderDelivered(), e.OrderCancelled("late"), e.RefundIssued(1, "sorry")]
"""What each of COMMANDS writes when ``decide`` accepts it."""


@pytest.mark.parametrize("status", STATES)
@pytest.mark.parametrize("index", range(len(COMMANDS)))
def test_the_check_flags_an_event_exactly_when_decide_refuses_its_command(status: str,
                                                                          index: int) -> None:
    state = fold("Order", record(*STATES[status]))
    event = EVENTS[index]
    try:
        assert order.decide(state, COMMANDS[index]) == [event]
        refused = False
    except DomainError:
        refused = True
    finding = order_finding(state, event_type(event), event_payload(event))
    assert (finding is not None) == refused, finding


# --- each broken rule ------------------------------------------------------------------------

@pytest.mark.parametrize(("events", "expected"), [
    ([CREATED, LINE, PLACED, SHIPPED], [(4, "shipped_before_paid", "pending_payment")]),
    ([CREATED, LINE, SHIPPED], [(3, "shipped_before_paid", "draft")]),
    ([CREATED, LINE, CANCELLED, PAID], [(4, "paid_after_cancelled", "cancelled")]),
    ([CREATED, LINE, PLACED, PAID, refund(600), refund(600)],
     [(6, "refund_above_paid", "paid")]),
    ([CREATED, LINE, PLACED, refund(1)], [(4, "refund_above_paid", "pending_payment")]),
    ([CREATED, LINE, PLACED, PAID, SHIPPED, DELIVERED, CANCELLED],
     [(7, "after_delivered", "delivered")]),
    ([CREATED, LINE, PLACED, PAID, SHIPPED, DELIVERED, SHIPPED],
     [(7, "after_delivered", "delivered")]),
    ([CREATED, LINE, PLACED, PAID, DELIVERED], [(5, "delivered_before_shipped", "paid")]),
    ([CREATED, LINE, PLACED, PAID, SHIPPED, CANCELLED],
     [(6, "cancelled_after_shipped", "shipped")]),
    ([CREATED, LINE, CANCELLED, LINE], [(4, "after_cancelled", "cancelled")]),
    ([CREATED, LINE, PLACED, LINE], [(4, "from", "pending_payment")]),
    ([CREATED, LINE, PLACED, PLACED], [(4, "from", "pending_payment")]),
    ([CREATED, PLACED], [(2, "placed_without_lines", "draft")]),
    ([CREATED, LINE, ("LineRemoved", {"sku": "Z"})], [(3, "removed_missing_line", "draft")]),
    ([CREATED, LINE, PLACED, pay(1001)], [(4, "paid_above_owed", "pending_payment")]),
    ([CREATED, LINE, PLACED, pay(0)], [(4, "out_of_range", "pending_payment")]),
    ([CREATED, ("LineAdded", {"sku": "A", "qty": 0, "unit_price_cents": 5})],
     [(2, "out_of_range", "draft")]),
    ([LINE, CREATED], [(1, "before_created", None)]),
    ([LINE, LINE, CREATED, LINE],
     [(1, "before_created", None), (2, "before_created", "draft")]),
    ([CREATED, LINE, CREATED], [(3, "created_twice", "draft")]),
    ([CREATED, ("OrderArchived", {}), LINE], [(2, "unknown_event", "draft")]),
    ([CREATED, LINE, PLACED, ("PaymentReceived", {"method": "card"})],
     [(4, "require", "pending_payment")]),
    ([CREATED, LINE, PLACED, ("PaymentReceived", {"amount_cents": None, "method": "card"})],
     [(4, "require", "pending_payment")]),
    ([CREATED, LINE, PLACED, pay("1000")], [(4, "not_a_number", "pending_payment")]),
    ([CREATED, LINE, PLACED, pay(True)], [(4, "not_a_number", "pending_payment")]),
    ([CREATED, ("LineRemoved", {"sku": ["A"]})], [(2, "not_a_string", "draft")]),
])
def test_each_broken_rule_is_found_at_its_version_with_the_status_before(
        events: list[tuple[str, dict[str, Any]]],
        expected: list[tuple[int, str, str | None]]) -> None:
    assert found(history(*events)) == expected


def test_a_refund_after_delivery_is_allowed_as_decide_allows_it() -> None:
    events = history(CREATED, LINE, PLACED, PAID, SHIPPED, DELIVERED, refund(400), refund(600))
    assert found(events) == []


def test_every_violation_of_a_stream_is_listed_in_version_order() -> None:
    events = history(LINE, CREATED, LINE, PLACED, SHIPPED, pay(1000), ("Oops", {}), DELIVERED,
                     PAID, refund(2001))
    assert found(events) == [(1, "before_created", None), (5, "shipped_before_paid",
                                                            "pending_payment"),
                             (6, "from", "shipped"), (7, "unknown_event", "shipped"),
                             (9, "after_delivered", "delivered"),
                             (10, "refund_above_paid", "delivered")]


def test_a_malformed_event_leaves_the_checked_state_as_it_was() -> None:
    # the payment without an amount does not count, so the order is still owed 1000
    events = history(CREATED, LINE, PLACED, ("PaymentReceived", {"method": "card"}), SHIPPED)
    assert found(events) == [(4, "require", "pending_payment"),
                             (5, "shipped_before_paid", "pending_payment")]


def test_violation_details_are_sentences_and_json_is_exact() -> None:
    [violation] = ShopRules().check("o-9", history(CREATED, LINE, PLACED, SHIPPED))
    assert violation.detail == ("OrderShipped is allowed only when the order is paid, but it "
                                "was pending_payment.")
    assert violation.as_json() == {"stream_id": "o-9", "version": 4, "type": "OrderShipped",
                                   "rule": "shipped_before_paid",
                                   "status_before": "pending_payment",
                                   "detail": violation.detail}
    assert isinstance(violation, RuleViolation)


# --- the model interface ---------------------------------------------------------------------

def test_shop_rules_name_cover_and_fold_like_replay() -> None:
    shop: StreamModel = ShopRules()
    assert shop.name == "builtin:Order"
    assert shop.covers("anything", "Order") and not shop.covers("ord-1", "Product")
    events = record(*LIFECYCLES["delivered then refunded"])
    assert shop.fold(events) == fold("Order", events)
    half = shop.fold(events[:5])
    assert half is not None
    snapshot = {**half, "lines": dict(half["lines"])}
    assert shop.fold(events[5:], half) == fold("Order", events)
    assert half == snapshot
    with pytest.raises(ReplayError):
        shop.fold(history(CREATED, ("PaymentReceived", {})))


def test_product_rules() -> None:
    rules: StreamModel = ProductRules()
    assert rules.name == "builtin:Product" and rules.covers("product-A", "Product")
    registered = ("ProductRegistered", {"sku": "A", "name": "Lamp", "price_cents": 100})
    events = history(("PriceChanged", {"price_cents": 5}), registered, registered,
                     ("PriceChanged", {"price_cents": -1}), ("PriceChanged", {}),
                     ("Discontinued", {}), ("PriceChanged", {"price_cents": 7}))
    assert [(v.version, v.rule, v.status_before) for v in rules.check("product-A", events)] == [
        (1, "before_created", None), (3, "created_twice", None), (4, "out_of_range", None),
        (5, "require", None), (6, "unknown_event", None)]
    assert rules.check("product-A", history(registered, ("PriceChanged", {"price_cents": 9}))) \
        == []
    assert rules.fold(history(registered, ("PriceChanged", {"price_cents": 9}))) == {
        "sku": "A", "name": "Lamp", "price_cents": 9}
