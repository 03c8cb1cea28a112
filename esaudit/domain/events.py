"""Event types. Names and payload fields are a public contract (imports, exports, reports)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from typing import Any

ORDER = "Order"
PRODUCT = "Product"


@dataclass(frozen=True, slots=True)
class OrderCreated:
    order_id: str
    customer: str
    currency: str


@dataclass(frozen=True, slots=True)
class LineAdded:
    sku: str
    qty: int
    unit_price_cents: int


@dataclass(frozen=True, slots=True)
class LineRemoved:
    sku: str


@dataclass(frozen=True, slots=True)
class OrderPlaced:
    """draft -> pending_payment; the payload is empty by contract."""


@dataclass(frozen=True, slots=True)
class PaymentReceived:
    amount_cents: int
    method: str


@dataclass(frozen=True, slots=True)
class OrderShipped:
    carrier: str
    tracking_no: str


@dataclass(frozen=True, slots=True)
class OrderDelivered:
    """shipped -> delivered; the payload is empty by contract."""


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    reason: str


@dataclass(frozen=True, slots=True)
class RefundIssued:
    amount_cents: int
    reason: str


@dataclass(frozen=True, slots=True)
class ProductRegistered:
    sku: str
    name: str
    price_cents: int


@dataclass(frozen=True, slots=True)
class PriceChanged:
    price_cents: int


OrderEvent = (OrderCreated | LineAdded | LineRemoved | OrderPlaced | PaymentReceived
              | OrderShipped | OrderDelivered | OrderCancelled | RefundIssued)
ProductEvent = ProductRegistered | PriceChanged
DomainEvent = OrderEvent | ProductEvent

ORDER_EVENT_TYPES: tuple[str, ...] = (
    "OrderCreated", "LineAdded", "LineRemoved", "OrderPlaced", "PaymentReceived",
    "OrderShipped", "OrderDelivered", "OrderCancelled", "RefundIssued",
)
PRODUCT_EVENT_TYPES: tuple[str, ...] = ("ProductRegistered", "PriceChanged")


def event_type(event: DomainEvent) -> str:
    return type(event).__name__


def event_payload(event: DomainEvent) -> dict[str, Any]:
    """The event's fields as a payload (events hold only JSON scalars: a shallow copy is whole,
    and ``asdict``'s deep copy would cost a tenth of a seeded command)."""
    kind: type = type(event)  # mypy takes a union of the event classes for unhashable
    return {name: getattr(event, name) for name in _field_names(kind)}


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))
