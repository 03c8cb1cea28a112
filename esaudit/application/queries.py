"""Queries over read models and the stream list; they never replay.

The read models are SQLAlchemy tables (``readmodels``), loaded when a query first reads one:
a command that lists or replays streams starts without the database layer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from store import Source
from store.hashing import instant_from_us
from store.stream_browser import Annotation, SortKey

if TYPE_CHECKING:
    from store.writable import WritableStore


@dataclass(frozen=True, slots=True)
class OrderSummary:
    order_id: str
    customer: str
    currency: str
    status: str
    total_cents: int
    paid_cents: int
    refunded_cents: int
    line_count: int
    lines: dict[str, dict[str, int]]
    carrier: str | None
    tracking_no: str | None
    cancel_reason: str | None
    version: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    price_cents: int
    version: int


@dataclass(frozen=True, slots=True)
class StreamRow:
    """One line of the stream browser: the stream list joined with the order read model."""

    stream_id: str
    stream_type: str
    version: int
    status: str | None
    customer: str | None
    first_at: datetime
    last_at: datetime
    head_hash: str


@dataclass(frozen=True, slots=True)
class UnprojectableStream:
    """A stream a read model holds no row for, and why (see projections.Unprojectable)."""

    projection: str
    stream_id: str
    version: int
    reason: str


@cache
def order_annotation() -> Annotation:
    """The order read model as the stream browser shows it: status and customer per stream."""
    from .readmodels import order_summary

    c = order_summary.c
    return Annotation(order_summary.name, key=c.order_id.name, status=c.status.name,
                      label=c.customer.name)


class Queries:
    """Reads read models; without them (a store never opened writable, or a store esaudit did
    not write) the stream list still works and order/product lookups find nothing, instead of
    failing on a missing table."""

    def __init__(self, store: Source, *, read_models: WritableStore | None = None) -> None:
        self.store = store
        self._models = read_models
        self.has_read_models = read_models is not None

    def _read_models(self) -> WritableStore:
        assert self._models is not None, "callers check has_read_models first"
        return self._models

    @property
    def _annotation(self) -> Annotation | None:
        return order_annotation() if self.has_read_models else None

    def stream_rows(self, text: str | None = None, stream_type: str | None = None, *,
                    sort: SortKey = "stream_id", descending: bool = False, offset: int = 0,
                    limit: int | None = None) -> list[StreamRow]:
        """A page of the stream browser, filtered on id, customer, type and status."""
        return [StreamRow(r.stream_id, r.stream_type, r.version, r.status, r.label,
                          instant_from_us(r.first_at_us), instant_from_us(r.last_at_us),
                          r.head_hash)
                for r in self.store.stream_rows(text, stream_type, sort=sort,
                                                descending=descending, offset=offset,
                                                limit=limit, annotation=self._annotation)]

    def count_streams(self, text: str | None = None, stream_type: str | None = None) -> int:
        return self.store.count_streams(text, stream_type, annotation=self._annotation)

    def stream_row_number(self, stream_id: str, text: str | None = None,
                          stream_type: str | None = None, *, sort: SortKey = "stream_id",
                          descending: bool = False) -> int | None:
        """Where a stream sits (0-based) in ``stream_rows``' order under this filter, or None
        if the filter hides it: the browser jumps to a stream picked on the timeline without
        fetching every page before it."""
        return self.store.stream_row_number(stream_id, text, stream_type, sort=sort,
                                            descending=descending,
                                            annotation=self._annotation)

    def order(self, order_id: str) -> OrderSummary | None:
        if not self.has_read_models:
            return None
        from sqlalchemy import select

        from .readmodels import order_summary

        with self._read_models().read_connection() as conn:
            row = conn.execute(select(order_summary)
                               .where(order_summary.c.order_id == order_id)).first()
        return _order(row) if row else None

    def orders(self, status: str | None = None, limit: int | None = None) -> list[OrderSummary]:
        if not self.has_read_models:
            return []
        from sqlalchemy import select

        from .readmodels import order_summary

        query = select(order_summary).order_by(order_summary.c.order_id)
        if status:
            query = query.where(order_summary.c.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self._read_models().read_connection() as conn:
            return [_order(r) for r in conn.execute(query)]

    def product(self, sku: str) -> Product | None:
        if not self.has_read_models:
            return None
        from sqlalchemy import select

        from .readmodels import product_catalogue

        with self._read_models().read_connection() as conn:
            row = conn.execute(select(product_catalogue)
                               .where(product_catalogue.c.sku == sku)).first()
        return Product(row.sku, row.name, row.price_cents, row.version) if row else None

    def products(self) -> list[Product]:
        if not self.has_read_models:
            return []
        from sqlalchemy import select

        from .readmodels import product_catalogue

        with self._read_models().read_connection() as conn:
            rows = conn.execute(select(product_catalogue).order_by(product_catalogue.c.sku))
            return [Product(r.sku, r.name, r.price_cents, r.version) for r in rows]

    def unprojectable(self, projection: str | None = None) -> list[UnprojectableStream]:
        """The streams read models cannot hold, in id order (none in a store whose read
        models predate the record of them)."""
        from sqlalchemy import select

        from .readmodels import unprojectable

        if not self.has_read_models or not self._read_models().has_tables([unprojectable.name]):
            return []
        query = select(unprojectable).order_by(unprojectable.c.stream_id,
                                               unprojectable.c.projection)
        if projection is not None:
            query = query.where(unprojectable.c.projection == projection)
        with self._read_models().read_connection() as conn:
            return [UnprojectableStream(r.projection, r.stream_id, r.version, r.reason)
                    for r in conn.execute(query)]

    def stream_types(self) -> list[str]:
        return self.store.stream_types()


def _order(row: Any) -> OrderSummary:
    m = row._mapping
    return OrderSummary(
        order_id=m["order_id"], customer=m["customer"], currency=m["currency"],
        status=m["status"], total_cents=m["total_cents"], paid_cents=m["paid_cents"],
        refunded_cents=m["refunded_cents"], line_count=m["line_count"],
        lines=json.loads(m["lines"]), carrier=m["carrier"], tracking_no=m["tracking_no"],
        cancel_reason=m["cancel_reason"], version=m["version"],
        updated_at=instant_from_us(m["updated_at"]),
    )
