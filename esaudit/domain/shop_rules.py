"""The built-in shop's rules as rule checks: what ``order.decide`` would have refused, found
in a history that exists anyway (imported, written by another program, or older code).

The status rules come from ``order.ALLOWED_FROM``, the table ``decide`` itself enforces, so
the check and the shop cannot drift apart. Each event is checked against the state just
before it, in the order ``decide`` checks a command, and reports the first rule it breaks
(one violation per event, as ``decide`` raises one error per command); the state then moves
on as replay's fold moves it, so later events are judged against what replay shows.

Rules (``RuleViolation.rule``) for orders:

* ``unknown_event``, ``require`` (a payload field missing or null), ``not_a_number`` and
  ``not_a_string`` (a payload field of the wrong type): events the shop never writes; the
  state is left as it was;
* ``before_created`` (an event before the first OrderCreated), ``created_twice``;
* status rules: ``after_delivered``, ``paid_after_cancelled``, ``after_cancelled``,
  ``shipped_before_paid``, ``delivered_before_shipped``, ``cancelled_after_shipped``, else
  ``from`` (e.g. a line added after placing). Refunds have no status rule in ``decide``: a
  refund after delivery or after cancellation is allowed, so it is not ``after_delivered``;
* amount rules: ``refund_above_paid`` (refunds add up to more than was paid),
  ``paid_above_owed``, ``placed_without_lines``, ``removed_missing_line``, ``out_of_range``
  (a quantity, price or amount outside what ``decide`` accepts).

Products: ``unknown_event``, ``require``, ``not_a_number``, ``not_a_string``,
``before_created`` (a price change before ProductRegistered), ``created_twice`` and
``out_of_range`` (a price outside what ``decide`` accepts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from typing import Any

from . import events as e
from . import order, product
from .folds import fold
from .limits import MAX_PRICE_CENTS, MAX_QTY
from .rules import Event, RuleViolation

State = dict[str, Any]
Finding = tuple[str, str] | None
"""(rule, detail) for the first rule an event breaks."""


def _payload_fields(names: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Each event type's payload fields and their types ("int" or "str")."""
    return {name: {f.name: str(f.type) for f in fields(getattr(e, name))} for name in names}


ORDER_FIELDS = _payload_fields(e.ORDER_EVENT_TYPES)
PRODUCT_FIELDS = _payload_fields(e.PRODUCT_EVENT_TYPES)


def _malformed(type_: str, payload: Mapping[str, Any],
               known: Mapping[str, Mapping[str, str]], owner: str) -> Finding:
    """The violation of an event the shop could not have written, else None."""
    spec = known.get(type_)
    if spec is None:
        return "unknown_event", f"{type_} is not an event type of the built-in {owner}."
    missing = [name for name in spec if payload.get(name) is None]
    if missing:
        return "require", f"{type_} requires {' and '.join(missing)} in its payload."
    for name, kind in spec.items():
        value = payload[name]
        if kind == "int" and (not isinstance(value, int) or isinstance(value, bool)):
            return "not_a_number", f"{type_}'s {name} is {value!r}, not a whole number."
        if kind == "str" and not isinstance(value, str):
            return "not_a_string", f"{type_}'s {name} is {value!r}, not text."
    return None


def _status_rule(type_: str, status: str) -> str:
    if status == order.DELIVERED:
        return "after_delivered"
    if status == order.CANCELLED:
        return "paid_after_cancelled" if type_ == "PaymentReceived" else "after_cancelled"
    if type_ == "OrderShipped" and status in (order.DRAFT, order.PENDING):
        return "shipped_before_paid"
    if type_ == "OrderDelivered" and status in (order.DRAFT, order.PENDING, order.PAID):
        return "delivered_before_shipped"
    if type_ == "OrderCancelled" and status == order.SHIPPED:
        return "cancelled_after_shipped"
    return "from"


def _amount_rule(s: State, type_: str, p: Mapping[str, Any]) -> Finding:
    if type_ == "LineAdded":
        if not 1 <= p["qty"] <= MAX_QTY or not 0 <= p["unit_price_cents"] <= MAX_PRICE_CENTS:
            return "out_of_range", (f"a line of {p['qty']} at {p['unit_price_cents']} cents "
                                    f"lies outside the quantities and prices the shop takes.")
    elif type_ == "LineRemoved" and p["sku"] not in s["lines"]:
        return "removed_missing_line", f"the order has no line for {p['sku']} to remove."
    elif type_ == "OrderPlaced" and not s["lines"]:
        return "placed_without_lines", "the order was placed without any lines."
    elif type_ in ("PaymentReceived", "RefundIssued") and p["amount_cents"] < 1:
        return "out_of_range", f"an amount of {p['amount_cents']} cents is not positive."
    elif type_ == "PaymentReceived" and p["amount_cents"] > order.owed_cents(s):
        return "paid_above_owed", (f"a payment of {p['amount_cents']} cents exceeds the "
                                   f"{order.owed_cents(s)} cents still owed.")
    elif type_ == "RefundIssued" and p["amount_cents"] > order.refundable_cents(s):
        return "refund_above_paid", (f"a refund of {p['amount_cents']} cents exceeds the "
                                     f"{order.refundable_cents(s)} cents paid and not yet "
                                     f"refunded.")
    return None


def order_finding(s: State | None, type_: str, p: Mapping[str, Any]) -> Finding:
    """The first rule of the shop an Order event breaks, given the state before it."""
    finding = _malformed(type_, p, ORDER_FIELDS, "Order")
    if finding is not None:
        return finding
    if type_ == "OrderCreated":
        return None if s is None else (
            "created_twice", f"order {s['order_id'] or '?'} was already created.")
    if s is None:
        return "before_created", f"{type_} came before the order was created."
    allowed = order.ALLOWED_FROM.get(type_)
    if allowed is not None and s["status"] not in allowed:
        return _status_rule(type_, s["status"]), (
            f"{type_} is allowed only when the order is {' or '.join(allowed)}, but it was "
            f"{s['status']}.")
    return _amount_rule(s, type_, p)


def product_finding(s: State | None, type_: str, p: Mapping[str, Any]) -> Finding:
    """The first rule of the shop a Product event breaks, given the state before it."""
    finding = _malformed(type_, p, PRODUCT_FIELDS, "Product")
    if finding is not None:
        return finding
    if type_ == "ProductRegistered" and s is not None:
        return "created_twice", f"product {s['sku']} was already registered."
    if type_ != "ProductRegistered" and s is None:
        return "before_created", f"{type_} came before the product was registered."
    if not 0 <= p["price_cents"] <= MAX_PRICE_CENTS:
        return "out_of_range", f"a price of {p['price_cents']} cents lies outside the range."
    return None


Finder = Callable[[State | None, str, Mapping[str, Any]], Finding]
Step = Callable[[State | None, str, Mapping[str, Any]], State]
_LEFT_AS_IT_WAS = frozenset({"unknown_event", "require", "not_a_number", "not_a_string"})


class _BuiltinRules:
    """The fold and the rule check of one of the shop's own stream types."""

    fold_key: str | None = None

    def __init__(self, stream_type: str, creation: str, finding: Finder, step: Step) -> None:
        self.stream_type, self._creation = stream_type, creation
        self._finding, self._step = finding, step

    @property
    def name(self) -> str:
        return f"builtin:{self.stream_type}"

    def covers(self, stream_id: str, stream_type: str) -> bool:
        return stream_type == self.stream_type

    def fold(self, events: Iterable[Event], state: State | None = None) -> State | None:
        """Replay's own fold (``folds.fold``), ReplayError and all."""
        return fold(self.stream_type, events, state)

    def check(self, stream_id: str, events: Iterable[Event]) -> list[RuleViolation]:
        """Each event judged against the state before it; an event before the stream's
        creation is ``before_created`` (the fold still gives it a state, so the creation
        that follows is not a second one)."""
        found: list[RuleViolation] = []
        state: State | None = None
        created = False
        for version, type_, payload in events:
            finding = self._finding(state if created else None, type_, payload)
            if finding is not None:
                status = None if state is None else state.get("status")
                found.append(RuleViolation(stream_id, version, type_, finding[0], status,
                                           finding[1]))
                if finding[0] in _LEFT_AS_IT_WAS:
                    continue
            created = created or type_ == self._creation
            state = self._step(state, type_, payload)
        found.sort(key=lambda v: v.version)
        return found


class ShopRules(_BuiltinRules):
    """builtin:Order: replay's Order fold and the shop's order rules."""

    def __init__(self) -> None:
        super().__init__(e.ORDER, "OrderCreated", order_finding, order.apply)


class ProductRules(_BuiltinRules):
    """builtin:Product: replay's Product fold and the shop's catalogue rules."""

    def __init__(self) -> None:
        super().__init__(e.PRODUCT, "ProductRegistered", product_finding, product.evolve)
