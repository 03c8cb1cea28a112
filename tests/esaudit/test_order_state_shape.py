"""The order state's shape is defined once (``order.ORDER_STATE_FIELDS``); everything that
spells it out again must agree with it."""

from __future__ import annotations

import dataclasses

from esaudit.application.compare import ORDER_FIELDS
from esaudit.application.queries import OrderSummary
from esaudit.application.readmodels import order_summary
from esaudit.domain import order

ROW_ONLY = {"line_count", "version", "updated_at"}


def test_the_fields_are_new_states_keys_in_order() -> None:
    assert tuple(order.new_state("o", "c", "EUR")) == order.ORDER_STATE_FIELDS
    folded = order.evolve(None, "OrderCreated",
                          {"order_id": "o", "customer": "c", "currency": "EUR"})
    folded = order.evolve(folded, "OrderShipped", {"carrier": "DHL", "tracking_no": "T"})
    assert tuple(folded) == order.ORDER_STATE_FIELDS


def test_the_read_model_row_and_its_summary_hold_every_field() -> None:
    fields = set(order.ORDER_STATE_FIELDS)
    assert set(order_summary.c.keys()) == fields | ROW_ONLY
    assert {f.name for f in dataclasses.fields(OrderSummary)} == fields | ROW_ONLY


def test_the_audit_compares_every_field_but_the_id() -> None:
    assert tuple(f for f in order.ORDER_STATE_FIELDS if f != "order_id") == ORDER_FIELDS
