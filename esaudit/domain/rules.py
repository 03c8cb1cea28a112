"""What a rule check finds, and the interface every stream model offers replay and the checks.

A model answers two questions about a stream: what state its events fold to (replay), and
which of its events broke a rule the model knows (the rule check). Both read the same history
and neither refuses it: history is a fact, and an auditor wants every broken rule listed, not
the first one raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

Event = tuple[int, str, Mapping[str, Any]]
"""One stored event as the models read it: (version, event type, payload)."""


@dataclass(frozen=True, slots=True)
class RuleViolation:
    """One event that broke one rule, with the status the stream was in just before it."""

    stream_id: str
    version: int
    type: str
    rule: str
    status_before: str | None
    detail: str

    def as_json(self) -> dict[str, Any]:
        """The violation in the shape ``--json`` output and reports publish."""
        return {"stream_id": self.stream_id, "version": self.version, "type": self.type,
                "rule": self.rule, "status_before": self.status_before, "detail": self.detail}


class StreamModel(Protocol):
    """A fold for the streams it covers, and the rules its events must keep."""

    @property
    def name(self) -> str:
        """Where the model comes from: ``file:/abs/bank.toml``, ``builtin:Order``."""
        ...

    @property
    def fold_key(self) -> str | None:
        """What pins this fold's behaviour exactly, so the states it reached may be kept and
        continued (``store.fold_snapshots``); None for a fold whose states are not kept that
        way (esaudit's domain keeps its own snapshots)."""
        ...

    def covers(self, stream_id: str, stream_type: str) -> bool:
        """Whether this model is meant for the stream."""
        ...

    def fold(self, events: Iterable[Event],
             state: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The state after ``events``, starting from ``state`` (never changed in place)."""
        ...

    def check(self, stream_id: str, events: Iterable[Event]) -> list[RuleViolation]:
        """Every rule the stream's whole history broke, in version order."""
        ...
