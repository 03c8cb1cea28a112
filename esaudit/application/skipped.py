"""Streams a check left out, by type, and why: named so that a clean verdict never reads as
covering them (the projection audit, the rule check)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..wording import counted


@dataclass(frozen=True, slots=True)
class SkippedStreams:
    stream_type: str
    streams: int
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"stream_type": self.stream_type, "streams": self.streams,
                "reason": self.reason}

    @property
    def sentence(self) -> str:
        return (f"{counted(self.streams, self.stream_type + ' stream', grouped=False)} "
                f"({self.reason})")
