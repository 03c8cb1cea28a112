"""Queries over read models and the stream list; they never replay."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, and_, func, null, or_, select

from store import EventStore
from store.hashing import instant_from_us
from store.schema import streams

from .readmodels import order_summary, product_catalogue, unprojectable


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


SortKey = Literal["stream_id", "stream_type", "version", "status", "last_at"]
_SORT_COLUMNS = {
    "stream_id": streams.c.stream_id, "stream_type": streams.c.stream_type,
    "version": streams.c.version, "status": order_summary.c.status,
    "last_at": streams.c.last_at,
}


class Queries:
    """Reads read models; without them (a store never opened writable) the stream list still
    works and order/product lookups find nothing, instead of failing on a missing table."""

    def __init__(self, store: EventStore, *, has_read_models: bool = True) -> None:
        self.store = store
        self.has_read_models = has_read_models

    def _stream_select(self, text: str | None, stream_type: str | None) -> Select[Any]:
        if self.has_read_models:
            query = select(
                streams.c.stream_id, streams.c.stream_type, streams.c.version,
                order_summary.c.status, order_summary.c.customer, streams.c.first_at,
                streams.c.last_at, streams.c.head_hash,
            ).select_from(streams.outerjoin(order_summary,
                                            order_summary.c.order_id == streams.c.stream_id))
        else:
            query = select(streams.c.stream_id, streams.c.stream_type, streams.c.version,
                           null().label("status"), null().label("customer"),
                           streams.c.first_at, streams.c.last_at, streams.c.head_hash)
        return query.where(*self._stream_filter(text, stream_type))

    def _stream_filter(self, text: str | None, stream_type: str | None) -> list[Any]:
        """The browser's WHERE clauses, on the streams table alone (a count needs no join)."""
        clauses = [streams.c.stream_type == stream_type] if stream_type else []
        sqlite = self.store.backend_name == "sqlite"

        def like(column: Any, pattern: str) -> Any:
            # SQLite's LIKE already ignores ASCII case, and its lower() folds nothing more:
            # wrapping every column in lower() would triple the cost of a 100k-stream scan.
            return column.like(pattern) if sqlite else column.ilike(pattern)

        for word in (text or "").split():
            pattern = f"%{word}%"
            found = [like(streams.c.stream_id, pattern), like(streams.c.stream_type, pattern)]
            if self.has_read_models:
                # A subquery, not the outer join: it scans the covering ix_rm_order_search
                # once instead of looking up every stream's order row.
                found.append(streams.c.stream_id.in_(select(order_summary.c.order_id).where(
                    or_(like(order_summary.c.customer, pattern),
                        like(order_summary.c.status, pattern)))))
            clauses.append(or_(*found))
        return clauses

    def _sort_key(self, sort: SortKey) -> Any:
        """The sort expression; never NULL (status is '' for streams without an order row), so
        both backends order it alike and a row's place can be counted with plain < and =."""
        if sort == "status":
            if not self.has_read_models:
                return streams.c.stream_id
            return func.coalesce(order_summary.c.status, "")
        return _SORT_COLUMNS[sort]

    def _ordering(self, sort: SortKey, descending: bool) -> list[Any]:
        key = self._sort_key(sort)
        return [key.desc() if descending else key.asc(), streams.c.stream_id.asc()]

    def stream_rows(self, text: str | None = None, stream_type: str | None = None, *,
                    sort: SortKey = "stream_id", descending: bool = False, offset: int = 0,
                    limit: int | None = None) -> list[StreamRow]:
        """A page of the stream browser, filtered on id, customer, type and status."""
        query = self._stream_select(text, stream_type).order_by(
            *self._ordering(sort, descending)).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self.store.read_connection() as conn:
            rows = conn.execute(query).all()
        return [StreamRow(r[0], r[1], r[2], r[3], r[4], instant_from_us(r[5]),
                          instant_from_us(r[6]), r[7]) for r in rows]

    def count_streams(self, text: str | None = None, stream_type: str | None = None) -> int:
        query = select(func.count()).select_from(streams).where(
            *self._stream_filter(text, stream_type))
        with self.store.read_connection() as conn:
            return int(conn.execute(query).scalar() or 0)

    def stream_row_number(self, stream_id: str, text: str | None = None,
                          stream_type: str | None = None, *, sort: SortKey = "stream_id",
                          descending: bool = False) -> int | None:
        """Where a stream sits (0-based) in ``stream_rows``' order under this filter, or None
        if the filter hides it: the browser jumps to a stream picked on the timeline without
        fetching every page before it. It counts the rows that sort before the stream."""
        key = self._sort_key(sort)
        where = self._stream_filter(text, stream_type)
        source = streams
        if sort == "status" and self.has_read_models:
            source = streams.outerjoin(order_summary,
                                       order_summary.c.order_id == streams.c.stream_id)
        with self.store.read_connection() as conn:
            found = conn.execute(select(key).select_from(source).where(
                streams.c.stream_id == stream_id, *where)).first()
            if found is None:
                return None
            value = found[0]
            ahead = key > value if descending else key < value
            before = or_(ahead, and_(key == value, streams.c.stream_id < stream_id))
            return int(conn.execute(select(func.count()).select_from(source).where(
                *where, before)).scalar() or 0)

    def order(self, order_id: str) -> OrderSummary | None:
        if not self.has_read_models:
            return None
        with self.store.read_connection() as conn:
            row = conn.execute(select(order_summary)
                               .where(order_summary.c.order_id == order_id)).first()
        return _order(row) if row else None

    def orders(self, status: str | None = None, limit: int | None = None) -> list[OrderSummary]:
        if not self.has_read_models:
            return []
        query = select(order_summary).order_by(order_summary.c.order_id)
        if status:
            query = query.where(order_summary.c.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self.store.read_connection() as conn:
            return [_order(r) for r in conn.execute(query)]

    def product(self, sku: str) -> Product | None:
        if not self.has_read_models:
            return None
        with self.store.read_connection() as conn:
            row = conn.execute(select(product_catalogue)
                               .where(product_catalogue.c.sku == sku)).first()
        return Product(row.sku, row.name, row.price_cents, row.version) if row else None

    def products(self) -> list[Product]:
        if not self.has_read_models:
            return []
        with self.store.read_connection() as conn:
            rows = conn.execute(select(product_catalogue).order_by(product_catalogue.c.sku))
            return [Product(r.sku, r.name, r.price_cents, r.version) for r in rows]

    def unprojectable(self, projection: str | None = None) -> list[UnprojectableStream]:
        """The streams read models cannot hold, in id order (none in a store whose read
        models predate the record of them)."""
        if not self.has_read_models or not self.store.has_tables([unprojectable.name]):
            return []
        query = select(unprojectable).order_by(unprojectable.c.stream_id,
                                               unprojectable.c.projection)
        if projection is not None:
            query = query.where(unprojectable.c.projection == projection)
        with self.store.read_connection() as conn:
            return [UnprojectableStream(r.projection, r.stream_id, r.version, r.reason)
                    for r in conn.execute(query)]

    def stream_types(self) -> list[str]:
        with self.store.read_connection() as conn:
            return list(conn.execute(select(streams.c.stream_type).distinct()
                                     .order_by(streams.c.stream_type)).scalars())


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
