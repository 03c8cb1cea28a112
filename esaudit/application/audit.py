"""Read model against history: every order's row compared field by field with its replay."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from store import Source
from store.records import APPENDED, IMPORTED, UNKNOWN_ORIGIN

from ..domain.events import ORDER, PRODUCT
from .compare import Comparer
from .jobs import CancelCheck, Cancelled, Progress
from .projections import OrderSummaryProjection
from .queries import UnprojectableStream
from .skipped import SkippedStreams


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
    not_audited: list[SkippedStreams] = field(default_factory=list)
    """Stream types no read model describes (a history esaudit's commands did not write):
    named, so that "match" never reads as covering them."""

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.unprojectable

    def as_json(self) -> dict[str, Any]:
        """``{ok, orders_checked, mismatches}``, plus ``unprojectable`` and ``not_audited``
        when there are any (the shape of a clean audit of the shop does not change)."""
        data: dict[str, Any] = {"ok": self.ok, "orders_checked": self.orders_checked,
                                "mismatches": [m.as_json() for m in self.mismatches]}
        if self.unprojectable:
            data["unprojectable"] = [{"projection": u.projection, "stream_id": u.stream_id,
                                      "version": u.version, "reason": u.reason}
                                     for u in self.unprojectable]
        if self.not_audited:
            data["not_audited"] = [n.as_json() for n in self.not_audited]
        return data


def audit_projections(comparer: Comparer, progress: Progress | None = None,
                      cancelled: CancelCheck | None = None) -> ProjectionAudit:
    store = comparer.replayer.store
    origins = store.stream_origins()
    order_ids = [s.stream_id for s in store.streams(ORDER)
                 if origins.get(s.stream_id) == APPENDED]
    unknown = {sid for sid, origin in origins.items() if origin == UNKNOWN_ORIGIN}
    stray = {o.order_id for o in comparer.queries.orders()} - set(order_ids) - unknown
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
    return ProjectionAudit(len(order_ids), mismatches, held,
                           _not_audited(store, origins))


def _not_audited(store: Source, origins: dict[str, str]) -> list[SkippedStreams]:
    """Every stream the order audit did not compare, grouped by type and origin."""
    groups: Counter[tuple[str, str]] = Counter()
    for info in store.streams():
        origin = origins.get(info.stream_id, UNKNOWN_ORIGIN)
        if info.stream_type == ORDER and origin == APPENDED:
            continue
        groups[(info.stream_type, origin)] += 1
    found = []
    for (stream_type, origin), n in sorted(groups.items()):
        if origin == IMPORTED:
            reason = "imported: no read model of esaudit's describes them"
        elif origin == UNKNOWN_ORIGIN:
            reason = "stored before esaudit recorded which streams its commands wrote"
        elif stream_type == PRODUCT:
            reason = "the audit compares order rows; the product catalogue is not compared"
        else:
            reason = f"no read model projects {stream_type} streams"
        found.append(SkippedStreams(stream_type, n, reason))
    return found
