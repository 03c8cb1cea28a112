"""The Product aggregate: a small catalogue entry whose price can change over time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import commands as c
from . import events as e
from .errors import InvalidCommand, InvalidTransition
from .limits import MAX_LONG_TEXT_CHARS, MAX_NAME_CHARS, MAX_PRICE_CENTS, in_range, text_within

State = dict[str, Any]


def stream_id_for(sku: str) -> str:
    return f"product-{sku}"


def evolve(state: State | None, type_: str, p: Mapping[str, Any]) -> State:
    if type_ == "ProductRegistered":
        return {"sku": p["sku"], "name": p["name"], "price_cents": p["price_cents"]}
    s = dict(state) if state is not None else {"sku": "", "name": "", "price_cents": 0}
    if type_ == "PriceChanged":
        s["price_cents"] = p["price_cents"]
    return s


def _price(value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidCommand(f"price must be a whole number of cents, not {value!r}")
    return in_range(value, 0, MAX_PRICE_CENTS, "price", money=True)


def decide(state: State | None, cmd: c.ProductCommand) -> list[e.ProductEvent]:
    if isinstance(cmd, c.RegisterProduct):
        if state is not None:
            raise InvalidTransition(f"product {cmd.sku} is already registered")
        if not cmd.sku.strip() or not cmd.name.strip():
            raise InvalidCommand("a product needs a sku and a name")
        return [e.ProductRegistered(
            text_within(cmd.sku.strip(), MAX_NAME_CHARS, "sku"),
            text_within(cmd.name.strip(), MAX_LONG_TEXT_CHARS, "product name"),
            _price(cmd.price_cents))]
    if state is None:
        raise InvalidTransition(f"product {cmd.sku} does not exist")
    return [e.PriceChanged(_price(cmd.price_cents))]
