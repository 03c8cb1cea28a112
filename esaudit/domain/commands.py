"""Commands: what a user asks for. A handler turns each into events or a refusal."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CreateOrder:
    order_id: str
    customer: str
    currency: str = "EUR"


@dataclass(frozen=True, slots=True)
class AddLine:
    order_id: str
    sku: str
    qty: int
    unit_price_cents: int | None = None  # None: the catalogue price


@dataclass(frozen=True, slots=True)
class RemoveLine:
    order_id: str
    sku: str


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    order_id: str


@dataclass(frozen=True, slots=True)
class ReceivePayment:
    order_id: str
    amount_cents: int
    method: str = "card"


@dataclass(frozen=True, slots=True)
class ShipOrder:
    order_id: str
    carrier: str
    tracking_no: str


@dataclass(frozen=True, slots=True)
class DeliverOrder:
    order_id: str


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class IssueRefund:
    order_id: str
    amount_cents: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RegisterProduct:
    sku: str
    name: str
    price_cents: int


@dataclass(frozen=True, slots=True)
class ChangePrice:
    sku: str
    price_cents: int


OrderCommand = (CreateOrder | AddLine | RemoveLine | PlaceOrder | ReceivePayment | ShipOrder
                | DeliverOrder | CancelOrder | IssueRefund)
ProductCommand = RegisterProduct | ChangePrice
