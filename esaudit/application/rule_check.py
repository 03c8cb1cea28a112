"""Rule checks of histories: every event of every covered stream against its model's rules.

Replay never refuses a history (it is a fact); the rule check says which events broke a rule
the model knows: a withdrawal from a closed account, an order shipped before it was paid.
Streams no model covers are named, never counted as clean.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..domain.errors import UnknownStream
from ..domain.rules import RuleViolation
from .jobs import CancelCheck, Cancelled, Progress
from .models import Models
from .skipped import SkippedStreams

NO_RULES = "no model with rules covers them"


@dataclass(frozen=True, slots=True)
class RuleCheck:
    streams_checked: int
    events_checked: int
    violations: list[RuleViolation] = field(default_factory=list)
    not_checked: list[SkippedStreams] = field(default_factory=list)
    """Stream types no model covers (printed as a note; the JSON shape is the contract's)."""

    @property
    def ok(self) -> bool:
        return not self.violations

    def as_json(self) -> dict[str, Any]:
        """``{ok, streams_checked, events_checked, violations}``."""
        return {"ok": self.ok, "streams_checked": self.streams_checked,
                "events_checked": self.events_checked,
                "violations": [v.as_json() for v in self.violations]}


def check_rules(models: Models, stream_ids: list[str] | None = None,
                progress: Progress | None = None,
                cancelled: CancelCheck | None = None) -> RuleCheck:
    """Check every stream (or the ones named) against the model that covers it."""
    store = models.store
    if stream_ids:
        infos = []
        for sid in stream_ids:
            info = store.stream(sid)
            if info is None:
                raise UnknownStream(f"no stream {sid!r} in the store")
            infos.append(info)
    else:
        infos = store.streams()
    violations: list[RuleViolation] = []
    skipped: Counter[str] = Counter()
    streams = events = 0
    for i, info in enumerate(infos, 1):
        if cancelled and cancelled():
            raise Cancelled("the rule check was cancelled")
        model = models.rules_for(info.stream_id, info.stream_type)
        if model is None:
            skipped[info.stream_type] += 1
            continue
        history = store.read_payloads(info.stream_id, info.first_version)
        violations.extend(model.check(info.stream_id, history))
        streams += 1
        events += len(history)
        if progress and i % 200 == 0:
            progress(i, len(infos))
    if progress:
        progress(len(infos), len(infos))
    return RuleCheck(streams, events, violations,
                     [SkippedStreams(t, n, NO_RULES) for t, n in sorted(skipped.items())])
