"""Projections: fold events into read-model rows, each batch atomically with its checkpoint."""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol

from sqlalchemy import Connection, delete, insert, select

from store import EventPayload, Origins
from store.hashing import canonical_json, decode_json
from store.writable import WritableStore

from ..domain import order, product
from ..domain.events import ORDER, PRODUCT
from .jobs import CancelCheck, Progress
from .readmodel_rows import insert_fitting
from .readmodels import order_summary, product_catalogue, read_models, unprojectable

BATCH = 10_000


class Projection(Protocol):
    name: str
    stream_types: tuple[str, ...]  # the only events it reads: others are never fetched

    def reset(self, conn: Connection) -> None: ...

    def apply(self, conn: Connection, events: Sequence[EventPayload]) -> None: ...


_ORDER_ROW_FIELDS = tuple(f for f in order.ORDER_STATE_FIELDS if f != "order_id")
"""The state's fields a read-model row holds under the same name (``order_id`` is the key)."""


def row_to_order_state(row: Any) -> dict[str, Any]:
    m = row._mapping
    state = {f: m[f] for f in order.ORDER_STATE_FIELDS}
    state["lines"] = decode_json(state["lines"])
    return state


class OrderSummaryProjection:
    """One row per order, folded with the aggregate's own ``evolve``."""

    name = "order_summary"
    stream_types: tuple[str, ...] = (ORDER,)

    def reset(self, conn: Connection) -> None:
        conn.execute(delete(order_summary))
        forget_unprojectable(conn, self.name)

    def apply(self, conn: Connection, events: Sequence[EventPayload]) -> None:
        mine = [e for e in events if e.stream_type == ORDER]
        if not mine:
            return
        ids = sorted({e.stream_id for e in mine})
        held = Unprojectable(conn, self.name, ids)
        states: dict[str, tuple[dict[str, Any] | None, int, int]] = {i: (None, 0, 0) for i in ids}
        for chunk in _chunks(ids, 500):
            for row in conn.execute(select(order_summary)
                                    .where(order_summary.c.order_id.in_(chunk))):
                states[row.order_id] = (row_to_order_state(row), row.version, row.updated_at)
        for e in mine:
            if e.stream_id in held:
                continue
            state, _, _ = states[e.stream_id]
            try:
                state = order.evolve(state, e.type, e.payload)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                held.add(e.stream_id, e.version, _fold_failure(e, exc))
                continue
            states[e.stream_id] = (state, e.version, e.recorded_at_us)
        for chunk in _chunks(ids, 500):
            conn.execute(delete(order_summary).where(order_summary.c.order_id.in_(chunk)))
        rows = []
        for oid, (st, version, at) in states.items():
            if st is None or oid in held:
                continue
            try:
                rows.append(_order_row(oid, st, version, at))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                held.add(oid, version, f"its state cannot be written as a row: "
                                       f"{type(exc).__name__} {exc}")
        refused = insert_fitting(conn, order_summary, rows, key=lambda r: r["order_id"])
        for oid, reason in refused.items():
            held.add(oid, states[oid][1], reason)
        held.save()


def _order_row(oid: str, s: dict[str, Any], version: int, at: int) -> dict[str, Any]:
    row = {"order_id": oid, **{f: s[f] for f in _ORDER_ROW_FIELDS}}
    row["lines"] = canonical_json(s["lines"])
    row["line_count"] = len(s["lines"])
    row["version"] = version
    row["updated_at"] = at
    return row


def _fold_failure(e: EventPayload, exc: Exception) -> str:
    return f"event {e.version} ({e.type}) cannot be folded: {type(exc).__name__} {exc}"


class ProductCatalogueProjection:
    name = "product_catalogue"
    stream_types: tuple[str, ...] = (PRODUCT,)

    def reset(self, conn: Connection) -> None:
        conn.execute(delete(product_catalogue))
        forget_unprojectable(conn, self.name)

    def apply(self, conn: Connection, events: Sequence[EventPayload]) -> None:
        mine = [e for e in events if e.stream_type == PRODUCT]
        if not mine:
            return
        held = Unprojectable(conn, self.name, sorted({e.stream_id for e in mine}))
        for e in mine:
            if e.stream_id in held:
                continue
            row = conn.execute(select(product_catalogue)
                               .where(product_catalogue.c.stream_id == e.stream_id)).first()
            state = ({"sku": row.sku, "name": row.name, "price_cents": row.price_cents}
                     if row else None)
            try:
                state = product.evolve(state, e.type, e.payload)
                values = {"sku": state["sku"], "stream_id": e.stream_id, "name": state["name"],
                          "price_cents": state["price_cents"], "version": e.version,
                          "updated_at": e.recorded_at_us}
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                held.add(e.stream_id, e.version, _fold_failure(e, exc))
                continue
            conn.execute(delete(product_catalogue)
                         .where(product_catalogue.c.stream_id == e.stream_id))
            refused = insert_fitting(conn, product_catalogue, [values],
                                     key=lambda r: r["stream_id"])
            for sid, reason in refused.items():
                held.add(sid, e.version, reason)
        held.save()


class Unprojectable:
    """The streams of one batch that a read model cannot hold: those recorded earlier, and
    those this batch finds (written with the batch, in its transaction)."""

    def __init__(self, conn: Connection, projection: str, stream_ids: Sequence[str]) -> None:
        self._conn = conn
        self._projection = projection
        self._known: set[str] = set()
        self._new: dict[str, tuple[int, str]] = {}
        for chunk in _chunks(stream_ids, 500):
            self._known.update(conn.execute(select(unprojectable.c.stream_id).where(
                unprojectable.c.projection == projection,
                unprojectable.c.stream_id.in_(chunk))).scalars())

    def __contains__(self, stream_id: str) -> bool:
        return stream_id in self._known or stream_id in self._new

    def add(self, stream_id: str, version: int, reason: str) -> None:
        if stream_id not in self:
            self._new[stream_id] = (version, reason[:1000])

    def save(self) -> None:
        if self._new:
            self._conn.execute(insert(unprojectable), [
                {"projection": self._projection, "stream_id": sid, "version": version,
                 "reason": reason} for sid, (version, reason) in self._new.items()])


def forget_unprojectable(conn: Connection, projection: str) -> None:
    conn.execute(delete(unprojectable).where(unprojectable.c.projection == projection))


def _chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


@dataclass(frozen=True, slots=True)
class ProjectionStatus:
    name: str
    checkpoint: int
    head: int

    @property
    def lag(self) -> int:
        return self.head - self.checkpoint


class Projector:
    """Keeps every read model caught up with the store; rebuilds them from position 0."""

    def __init__(self, store: WritableStore, projections: Sequence[Projection] | None = None):
        self.store = store
        self.projections: list[Projection] = list(
            projections or [OrderSummaryProjection(), ProductCatalogueProjection()])

    def ensure_tables(self) -> None:
        self.store.create_tables(read_models)

    def tables_exist(self) -> bool:
        """Whether the read models a query needs are there (rm_unprojectable may be missing
        from a store whose read models were made before it existed)."""
        return self.store.has_tables([t for t in read_models.tables
                                      if t != unprojectable.name])

    @staticmethod
    def _lock_key(name: str) -> int:
        return zlib.crc32(f"esaudit.projection.{name}".encode())

    def status(self) -> list[ProjectionStatus]:
        head = self.store.head_position()
        return [ProjectionStatus(p.name, self.store.checkpoint(p.name), head)
                for p in self.projections]

    def catch_up(self, progress: Progress | None = None,
                 cancelled: CancelCheck | None = None) -> int:
        """Apply every event after each checkpoint; returns how many events were applied."""
        if self.store.read_only:
            return 0
        applied = 0
        head = self.store.head_position()
        for proj in self.projections:
            # A caught-up projection costs one read, not a write transaction: this runs after
            # every command, and a write transaction would take SQLite's write lock for nothing.
            if self.store.checkpoint(proj.name) >= head:
                continue
            origins = self.store.origins()
            while True:
                if cancelled and cancelled():
                    return applied
                with self.store.write_transaction(lock=True,
                                                  lock_key=self._lock_key(proj.name)) as conn:
                    start = self.store.checkpoint(proj.name, conn)
                    # Imported events are never projected: whole imports are skipped unread.
                    skip_to, run_end = origins.appended_run(start, head)
                    batch = list(islice(self.store.iter_event_payloads(
                        after_position=skip_to, to_position=run_end,
                        stream_types=proj.stream_types, page_size=BATCH), BATCH)) \
                        if run_end > skip_to else []
                    if batch:
                        proj.apply(conn, batch)
                    # a short batch means everything up to the run's end was scanned
                    reached = run_end if len(batch) < BATCH else batch[-1].position
                    done = reached >= head
                    if reached > start:
                        self.store.set_checkpoint(conn, proj.name, reached)
                applied += len(batch)
                if progress:
                    progress(reached, head)
                if done:
                    break
        return applied

    def _appended_events(self, origins: Origins, head: int,
                         stream_types: tuple[str, ...]) -> Iterator[EventPayload]:
        """Every appended event of these types up to ``head``, imports skipped unread."""
        after = 0
        while after < head:
            skip_to, run_end = origins.appended_run(after, head)
            if run_end > skip_to:
                yield from self.store.iter_event_payloads(
                    after_position=skip_to, to_position=run_end, stream_types=stream_types,
                    page_size=BATCH)
            after = max(run_end, skip_to)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Recompute every read model from position 0 in one transaction per projection.

        Readers see the old rows until the new ones are complete: there is no empty moment.
        """
        total = 0
        head = self.store.head_position()
        origins = self.store.origins()
        for proj in self.projections:
            with self.store.write_transaction(lock=True,
                                              lock_key=self._lock_key(proj.name)) as conn:
                proj.reset(conn)
                batch: list[EventPayload] = []
                for event in self._appended_events(origins, head, proj.stream_types):
                    batch.append(event)
                    if len(batch) == BATCH:
                        proj.apply(conn, batch)
                        total += len(batch)
                        if progress:
                            progress(batch[-1].position, head)
                        batch = []
                if batch:
                    proj.apply(conn, batch)
                    total += len(batch)
                self.store.set_checkpoint(conn, proj.name, head)
            if progress:
                progress(head, head)
        return total
