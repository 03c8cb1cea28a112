"""Comparisons an auditor asks for: two versions, two streams, read model against history."""

from __future__ import annotations

from typing import Any

from ..domain.errors import UnknownStream
from ..domain.order import ORDER_STATE_FIELDS
from .diff import Change, diff_states
from .queries import OrderSummary, Queries
from .replay import Replayer

ORDER_FIELDS = tuple(f for f in ORDER_STATE_FIELDS if f != "order_id")
"""What the projection audit compares: the order state but its id (the row's key)."""


class Comparer:
    def __init__(self, replayer: Replayer, queries: Queries) -> None:
        self.replayer = replayer
        self.queries = queries

    def versions(self, stream_id: str, a: int, b: int) -> list[Change]:
        return diff_states(self.replayer.replay(stream_id, a).state,
                           self.replayer.replay(stream_id, b).state)

    def streams(self, left: str, right: str, left_version: int | None = None,
                right_version: int | None = None) -> list[Change]:
        return diff_states(self.replayer.replay(left, left_version).state,
                           self.replayer.replay(right, right_version).state)

    def read_model(self, order_id: str) -> list[Change]:
        """Read-model row (old) against the state replayed from the events (new)."""
        row = self.queries.order(order_id)
        replayed = self.replayer.replay(order_id, use_snapshots=False)
        if row is None:
            if replayed.state is None:
                raise UnknownStream(f"no order {order_id!r}")
            return [Change("", "added", None, replayed_view(replayed.state, replayed.version))]
        return diff_states(row_view(row), replayed_view(replayed.state or {}, replayed.version))


def row_view(row: OrderSummary) -> dict[str, Any]:
    view = {f: getattr(row, f) for f in ORDER_FIELDS}
    view["line_count"] = row.line_count
    view["version"] = row.version
    return view


def replayed_view(state: dict[str, Any], version: int) -> dict[str, Any]:
    view = {f: state.get(f) for f in ORDER_FIELDS}
    view["line_count"] = len(state.get("lines") or {})
    view["version"] = version
    return view
