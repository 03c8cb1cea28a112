"""Every Order transition, allowed and refused (pure domain: no database)."""

from __future__ import annotations

import pytest

from esaudit.domain import commands as c
from esaudit.domain import order
from esaudit.domain.errors import InvalidCommand, InvalidTransition
from esaudit.domain.events import event_payload, event_type
from esaudit.domain.money import format_money, parse_money

OID = "ord-1"


def run(*cmds: object, state: dict | None = None) -> dict | None:
    for cmd in cmds:
        for ev in order.decide(state, cmd):  # type: ignore[arg-type]
            state = order.evolve(state, event_type(ev), event_payload(ev))
    return state


def draft_with_line(price: int = 1000, qty: int = 2) -> dict:
    return run(c.CreateOrder(OID, "Ada"), c.AddLine(OID, "A", qty, price))  # type: ignore[return-value]


def pending(total_price: int = 1000) -> dict:
    return run(c.PlaceOrder(OID), state=draft_with_line(total_price))  # type: ignore[return-value]


def paid() -> dict:
    return run(c.ReceivePayment(OID, 2000), state=pending())  # type: ignore[return-value]


def shipped() -> dict:
    return run(c.ShipOrder(OID, "DHL", "T1"), state=paid())  # type: ignore[return-value]


def delivered() -> dict:
    return run(c.DeliverOrder(OID), state=shipped())  # type: ignore[return-value]


def cancelled() -> dict:
    return run(c.CancelOrder(OID, "changed mind"), state=draft_with_line())  # type: ignore[return-value]


STATES = {"draft": draft_with_line, "pending_payment": pending, "paid": paid,
          "shipped": shipped, "delivered": delivered, "cancelled": cancelled}


def test_create_gives_a_draft_with_the_projected_shape() -> None:
    state = run(c.CreateOrder(OID, "Ada", "usd"))
    assert state == {"order_id": OID, "customer": "Ada", "currency": "USD", "status": "draft",
                     "lines": {}, "total_cents": 0, "paid_cents": 0, "refunded_cents": 0,
                     "carrier": None, "tracking_no": None, "cancel_reason": None}


def test_create_twice_and_bad_input_are_refused() -> None:
    with pytest.raises(InvalidTransition, match="already exists"):
        order.decide(draft_with_line(), c.CreateOrder(OID, "Ada"))
    with pytest.raises(InvalidCommand, match="customer"):
        order.decide(None, c.CreateOrder(OID, "  "))
    with pytest.raises(InvalidCommand, match="currency"):
        order.decide(None, c.CreateOrder(OID, "Ada", "EURO"))


def test_lines_accumulate_and_take_the_latest_price() -> None:
    state = run(c.AddLine(OID, "A", 1, 500), c.AddLine(OID, "B", 3, 100),
                state=draft_with_line(1000, 2))
    assert state["lines"] == {"A": {"qty": 3, "unit_price_cents": 500},
                              "B": {"qty": 3, "unit_price_cents": 100}}
    assert state["total_cents"] == 1800
    state = run(c.RemoveLine(OID, "A"), state=state)
    assert state["lines"] == {"B": {"qty": 3, "unit_price_cents": 100}}
    assert state["total_cents"] == 300


@pytest.mark.parametrize("qty", [0, -1])
def test_line_quantity_must_be_positive(qty: int) -> None:
    with pytest.raises(InvalidCommand):
        order.decide(draft_with_line(), c.AddLine(OID, "A", qty, 100))


def test_removing_a_missing_line_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="no line"):
        order.decide(draft_with_line(), c.RemoveLine(OID, "nope"))


@pytest.mark.parametrize("status", ["pending_payment", "paid", "shipped", "delivered",
                                    "cancelled"])
def test_lines_change_only_in_draft(status: str) -> None:
    with pytest.raises(InvalidTransition, match="change lines"):
        order.decide(STATES[status](), c.AddLine(OID, "B", 1, 100))
    with pytest.raises(InvalidTransition, match="change lines"):
        order.decide(STATES[status](), c.RemoveLine(OID, "A"))


def test_placing_needs_a_line_and_a_draft() -> None:
    empty = run(c.CreateOrder(OID, "Ada"))
    with pytest.raises(InvalidTransition, match="no lines"):
        order.decide(empty, c.PlaceOrder(OID))
    assert pending()["status"] == "pending_payment"
    for status in ("pending_payment", "paid", "shipped", "delivered", "cancelled"):
        with pytest.raises(InvalidTransition):
            order.decide(STATES[status](), c.PlaceOrder(OID))


def test_partial_then_full_payment_moves_to_paid() -> None:
    state = run(c.ReceivePayment(OID, 500), state=pending())
    assert (state["status"], state["paid_cents"]) == ("pending_payment", 500)
    state = run(c.ReceivePayment(OID, 1500), state=state)
    assert (state["status"], state["paid_cents"]) == ("paid", 2000)


def test_payment_may_not_exceed_what_is_owed() -> None:
    with pytest.raises(InvalidTransition, match="exceeds"):
        order.decide(pending(), c.ReceivePayment(OID, 2001))
    with pytest.raises(InvalidCommand):
        order.decide(pending(), c.ReceivePayment(OID, 0))
    for status in ("draft", "paid", "shipped", "delivered", "cancelled"):
        with pytest.raises(InvalidTransition):
            order.decide(STATES[status](), c.ReceivePayment(OID, 1))


def test_ship_and_deliver_follow_payment() -> None:
    assert shipped()["status"] == "shipped"
    assert (shipped()["carrier"], shipped()["tracking_no"]) == ("DHL", "T1")
    assert delivered()["status"] == "delivered"
    for status in ("draft", "pending_payment", "shipped", "delivered", "cancelled"):
        with pytest.raises(InvalidTransition):
            order.decide(STATES[status](), c.ShipOrder(OID, "DHL", "T"))
    for status in ("draft", "pending_payment", "paid", "delivered", "cancelled"):
        with pytest.raises(InvalidTransition):
            order.decide(STATES[status](), c.DeliverOrder(OID))
    with pytest.raises(InvalidCommand):
        order.decide(paid(), c.ShipOrder(OID, "", "T"))


@pytest.mark.parametrize("status", ["draft", "pending_payment", "paid"])
def test_cancel_is_allowed_before_shipping(status: str) -> None:
    state = run(c.CancelOrder(OID, "why not"), state=STATES[status]())
    assert (state["status"], state["cancel_reason"]) == ("cancelled", "why not")


@pytest.mark.parametrize("status", ["shipped", "delivered", "cancelled"])
def test_cancel_is_refused_after_shipping(status: str) -> None:
    with pytest.raises(InvalidTransition, match="cannot cancel"):
        order.decide(STATES[status](), c.CancelOrder(OID, "late"))


def test_refunds_compensate_up_to_what_was_paid() -> None:
    state = run(c.IssueRefund(OID, 500, "damaged"), state=delivered())
    assert state["refunded_cents"] == 500 and state["status"] == "delivered"
    state = run(c.IssueRefund(OID, 1500), state=state)
    assert state["refunded_cents"] == 2000
    with pytest.raises(InvalidTransition, match="exceeds"):
        order.decide(state, c.IssueRefund(OID, 1))
    with pytest.raises(InvalidTransition):
        order.decide(draft_with_line(), c.IssueRefund(OID, 1))


def test_commands_on_a_missing_order_are_refused() -> None:
    with pytest.raises(InvalidTransition, match="does not exist"):
        order.decide(None, c.PlaceOrder(OID))


def test_available_actions_match_what_decide_accepts() -> None:
    samples = {"add_line": c.AddLine(OID, "Z", 1, 1), "remove_line": c.RemoveLine(OID, "A"),
               "place": c.PlaceOrder(OID), "pay": c.ReceivePayment(OID, 1),
               "ship": c.ShipOrder(OID, "DHL", "T"), "deliver": c.DeliverOrder(OID),
               "cancel": c.CancelOrder(OID, "r"), "refund": c.IssueRefund(OID, 1)}
    for make in STATES.values():
        state = make()
        allowed = order.available_actions(state)
        for name, cmd in samples.items():
            try:
                order.decide(state, cmd)  # type: ignore[arg-type]
                accepted = True
            except InvalidTransition:
                accepted = False
            assert accepted == (name in allowed), (state["status"], name)


def test_money_parsing_at_the_edge() -> None:
    assert parse_money("12.50") == 1250
    assert parse_money("3") == 300
    for bad in ("1.234", "-1", "abc", "nan"):
        with pytest.raises(InvalidCommand):
            parse_money(bad)
    assert format_money(123456, "EUR") == "1,234.56 EUR"
