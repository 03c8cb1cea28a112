"""The Product aggregate: a small catalogue entry whose price can change over time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import commands as c
from . import events as e
from .errors import InvalidCommand, InvalidTransition

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
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidCommand(f"price must be zero or more cents, not {value!r}")
    return value


def decide(state: State | None, cmd: c.ProductCommand) -> list[e.ProductEvent]:
    if isinstance(cmd, c.RegisterProduct):
        if state is not None:
            raise InvalidTransition(f"product {cmd.sku} is already registered")
        if not cmd.sku.strip() or not cmd.name.strip():
            raise InvalidCommand("a product needs a sku and a name")
        return [e.ProductRegistered(cmd.sku.strip(), cmd.name.strip(), _price(cmd.price_cents))]
    if state is None:
        raise InvalidTransition(f"product {cmd.sku} does not exist")
    return [e.PriceChanged(_price(cmd.price_cents))]
