"""Command handlers: load (snapshot + later events), decide, append with the expected version.

A caller that passes the version it last saw gets a ConcurrencyError if anyone moved the stream
meanwhile; nothing is ever retried silently, because the user decided on what they saw.
"""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store import ConcurrencyError, NewEvent, RecordedEvent
from store.records import APPENDED, IMPORTED
from store.writable import WritableStore

from ..domain import commands as c
from ..domain import order, product
from ..domain.errors import InvalidCommand
from ..domain.events import ORDER, PRODUCT, DomainEvent, event_payload, event_type
from ..domain.folds import fold
from .projections import Projector
from .queries import Queries

IdFactory = Callable[[], str]


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def new_order_id() -> str:
    return "ord-" + uuid.uuid4().hex[:12]


@dataclass(frozen=True, slots=True)
class CommandResult:
    stream_id: str
    version: int
    events: list[RecordedEvent]

    def as_json(self) -> dict[str, Any]:
        return {"stream_id": self.stream_id, "version": self.version}


class CommandHandler:
    """Runs order and product commands against the store and keeps read models caught up."""

    def __init__(self, store: WritableStore, projector: Projector, queries: Queries, *,
                 snapshot_every: int = 100, actor: str | None = None,
                 new_id: IdFactory | None = None, remember_states: bool = False) -> None:
        if snapshot_every < 1:
            raise ValueError("snapshot_every must be at least 1")
        self.store = store
        self.projector = projector
        self.queries = queries
        self.snapshot_every = snapshot_every
        self.actor = actor or default_actor()
        self._new_id = new_id or (lambda: uuid.uuid4().hex)
        # With remember_states, the state after each command is kept for the next one on its
        # stream: inside a store batch nobody else can write (and a stale state is still
        # caught by the expected version), and reads elsewhere would not see the batch yet.
        self._states: dict[str, tuple[dict[str, Any] | None, int, str]] | None = (
            {} if remember_states else None)
        self._appended: set[str] = set()
        """Streams whose origin was found to be these commands' (checked once each)."""

    def forget(self, stream_id: str) -> None:
        """Drop a remembered state (the caller will not command this stream again)."""
        if self._states is not None:
            self._states.pop(stream_id, None)

    def load(self, stream_id: str) -> tuple[dict[str, Any] | None, int, str | None]:
        """Current state, version and stream type, from the latest snapshot plus later events."""
        if self._states is not None and stream_id in self._states:
            return self._states[stream_id]
        info = self.store.stream(stream_id)
        if info is None:
            return None, 0, None
        snap = self.store.load_snapshot(stream_id)
        state, start = (snap.state, snap.version) if snap else (None, 0)
        events = self.store.read_payloads(stream_id, start + 1) if info.version > start else []
        state = fold(info.stream_type, events, state)
        return state, (events[-1][0] if events else start), info.stream_type

    def execute(self, cmd: c.OrderCommand | c.ProductCommand, *,
                expected_version: int | None = None, recorded_at: datetime | None = None,
                correlation_id: str | None = None, actor: str | None = None,
                catch_up: bool = True) -> CommandResult:
        """Run one command; ``catch_up=False`` leaves read models for a later batch catch-up."""
        if isinstance(cmd, c.RegisterProduct | c.ChangePrice):
            stream_id, stream_type = product.stream_id_for(cmd.sku), PRODUCT
        else:
            stream_id, stream_type = cmd.order_id, ORDER
        state, version, found_type = self.load(stream_id)
        if found_type is not None and found_type != stream_type:
            raise InvalidCommand(f"{stream_id} is a {found_type} stream, not an {stream_type}")
        if found_type is not None and stream_id not in self._appended \
                and (self._states is None or stream_id not in self._states):
            origin = self.store.origin_of(stream_id)
            if origin == APPENDED:  # for good: an origin never changes
                self._appended.add(stream_id)
            else:
                how = ("was imported" if origin == IMPORTED
                       else "was stored before esaudit recorded who wrote each stream")
                raise InvalidCommand(f"{stream_id} {how}: esaudit's commands append only to "
                                     "streams they created")
        if expected_version is not None and expected_version != version:
            raise ConcurrencyError(stream_id, expected_version, version)
        if isinstance(cmd, c.AddLine) and cmd.unit_price_cents is None:
            item = self.queries.product(cmd.sku)
            if item is None:
                raise InvalidCommand(f"unknown product {cmd.sku!r}: register it or give a price")
            cmd = c.AddLine(cmd.order_id, cmd.sku, cmd.qty, item.price_cents)
        decided: list[DomainEvent] = (
            list(product.decide(state, cmd)) if isinstance(cmd, c.RegisterProduct | c.ChangePrice)
            else list(order.decide(state, cmd))
        )
        command_id = self._new_id()
        meta = {"actor": actor or self.actor, "command": type(cmd).__name__,
                "command_id": command_id, "correlation_id": correlation_id or command_id,
                "causation_id": command_id}
        recorded = self.store.append(
            stream_id, stream_type,
            [NewEvent(event_type(ev), event_payload(ev), meta, recorded_at) for ev in decided],
            expected_version=version,
        )
        new_version = recorded[-1].version
        snapshot_due = new_version // self.snapshot_every > version // self.snapshot_every
        if snapshot_due or self._states is not None:
            state = fold(stream_type, ((e.version, e.type, e.payload) for e in recorded), state)
            if snapshot_due:
                self.store.save_snapshot(stream_id, new_version, state or {})
            if self._states is not None:
                self._states[stream_id] = (state, new_version, stream_type)
        if catch_up:
            self.projector.catch_up()
        return CommandResult(stream_id, new_version, recorded)
