"""The events a verification (or a check against a seal) found wrong, as views look them up:
by position, by stream and version, by stream. Plain data, so the app marks them where the
data is shown (events, streams, the timeline, a replay built on one).
"""

from __future__ import annotations

from collections.abc import Iterable

from .verify import VerificationFinding


class FlaggedEvents:
    """The findings of the last verification, indexed; empty when none ran or all was clean."""

    def __init__(self, findings: Iterable[VerificationFinding] = ()) -> None:
        self.findings = tuple(findings)
        self._by_position = {f.position: f for f in self.findings if f.position}
        self._by_version = {(f.stream_id, f.version): f for f in self.findings
                            if f.version is not None}
        self._by_stream: dict[str, list[VerificationFinding]] = {}
        for f in self.findings:
            if f.stream_id:
                self._by_stream.setdefault(f.stream_id, []).append(f)

    def __bool__(self) -> bool:
        return bool(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    @property
    def positions(self) -> list[int]:
        """The positions named, ascending (what the timeline marks)."""
        return sorted(self._by_position)

    def of_event(self, stream_id: str, version: int, position: int = 0,
                 ) -> VerificationFinding | None:
        """The finding that names this event (by position, else by stream and version)."""
        found = self._by_position.get(position) if position else None
        return found or self._by_version.get((stream_id, version))

    def of_stream(self, stream_id: str) -> list[VerificationFinding]:
        """Every finding about a stream or one of its events."""
        return self._by_stream.get(stream_id, [])

    def first_bad_version(self, stream_id: str) -> int | None:
        """The lowest version of the stream a finding names, None if none does."""
        versions = [f.version for f in self.of_stream(stream_id) if f.version is not None]
        return min(versions) if versions else None

    def replay_note(self, stream_id: str, version: int) -> str:
        """What a replay of the stream to ``version`` must say, "" when it is not built on a
        flagged event."""
        bad = self.first_bad_version(stream_id)
        if bad is None or version < bad:
            return ""
        return f"This state is built on an event that failed verification (v{bad})."

    def stream_note(self, stream_id: str) -> str:
        """One line per finding about the stream (a tooltip)."""
        return "\n".join(f"✖ {f.kind}" + (f" at v{f.version}" if f.version is not None else "")
                         + f": {f.detail}" for f in self.of_stream(stream_id))
