"""Invoices: Decimal amounts and nested line objects, which the JSON transcoder can store only
with the application's own transcoding (``invoicing.application.LineAsDict``)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from eventsourcing.domain import Aggregate, event


@dataclass(frozen=True)
class Line:
    description: str
    quantity: int
    unit_price: Decimal


class Invoice(Aggregate):
    @event("Issued")
    def __init__(self, number: str, customer: str) -> None:
        self.number = number
        self.customer = customer
        self.lines: list[Line] = []
        self.total = Decimal("0.00")
        self.paid_on: date | None = None

    @event("LineAdded")
    def add_line(self, line: Line) -> None:
        self.lines.append(line)
        self.total += line.quantity * line.unit_price

    @event("Paid")
    def pay(self, paid_on: str) -> None:
        self.paid_on = date.fromisoformat(paid_on)
