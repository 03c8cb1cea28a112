"""Read model against history: every order's row compared field by field with its replay."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..domain.events import ORDER
from .compare import Comparer
from .jobs import CancelCheck, Cancelled, Progress
from .projections import OrderSummaryProjection
from .queries import UnprojectableStream


@dataclass(frozen=True, slots=True)
class ProjectionMismatch:
    order_id: str
    path: str
    read_model: Any
    replayed: Any

    def as_json(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "path": self.path, "read_model": self.read_model,
                "replayed": self.replayed}


@dataclass(frozen=True, slots=True)
class ProjectionAudit:
    orders_checked: int
    mismatches: list[ProjectionMismatch] = field(default_factory=list)
    unprojectable: list[UnprojectableStream] = field(default_factory=list)
    """Streams a read model holds no row for because it cannot: each one is a finding."""

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.unprojectable

    def as_json(self) -> dict[str, Any]:
        """``{ok, orders_checked, mismatches}``, plus ``unprojectable`` when there are any
        (the shape of a clean audit does not change)."""
        data: dict[str, Any] = {"ok": self.ok, "orders_checked": self.orders_checked,
                                "mismatches": [m.as_json() for m in self.mismatches]}
        if self.unprojectable:
            data["unprojectable"] = [{"projection": u.projection, "stream_id": u.stream_id,
                                      "version": u.version, "reason": u.reason}
                                     for u in self.unprojectable]
        return data


def audit_projections(comparer: Comparer, progress: Progress | None = None,
                      cancelled: CancelCheck | None = None) -> ProjectionAudit:
    store = comparer.replayer.store
    order_ids = [s.stream_id for s in store.streams(ORDER)]
    stray = {o.order_id for o in comparer.queries.orders()} - set(order_ids)
    mismatches = [ProjectionMismatch(oid, "", "row", None) for oid in sorted(stray)]
    held = comparer.queries.unprojectable()
    not_held = {u.stream_id for u in held if u.projection == OrderSummaryProjection.name}
    for i, oid in enumerate(order_ids, 1):
        if cancelled and cancelled():
            raise Cancelled("the projection audit was cancelled")
        if oid in not_held:
            continue
        for change in comparer.read_model(oid):
            mismatches.append(ProjectionMismatch(oid, change.path or "(row missing)",
                                                 change.old, change.new))
        if progress and i % 500 == 0:
            progress(i, len(order_ids))
    return ProjectionAudit(len(order_ids), mismatches, held)
