"""Verify a history that carries no hash chain (a store another program wrote).

Without hashes nothing proves an event unchanged, so verify says so, and checks what the
history itself must satisfy: positions strictly increasing, each stream's versions contiguous
from its first version, the stream list agreeing with the events, and times that never run
backwards within a stream (flagged: a clock step or a rewritten event, not proof of either).
Snapshots are checked against a replay through the system's own classes when its code is
given, and listed as not checked otherwise.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from store import Source

from .jobs import CancelCheck, Cancelled, Progress
from .verify import VerificationFinding, VerificationReport

if TYPE_CHECKING:
    from .code_models import ApplicationCode

NO_CHAIN = ("event contents: the source keeps no hash chain, so no check can show that an "
            "event is unchanged since it was written (seal it to detect later changes)")


@dataclass(slots=True)
class _Stream:
    version: int
    position: int
    at_us: int
    broken: bool = False
    events: int = 1


def verify_unchained(source: Source, *, stream_ids: Collection[str] | None = None,
                     stream_type: str | None = None, progress: Progress | None = None,
                     cancelled: CancelCheck | None = None,
                     code: ApplicationCode | None = None) -> VerificationReport:
    """Check the structure of a history without a hash chain; report what was not checked.
    With the system's own code (``code``), its snapshots are checked against the replay of
    their events through its classes."""
    wanted = None if stream_ids is None else set(stream_ids)
    listed = {s.stream_id: s for s in source.streams(stream_type)
              if wanted is None or s.stream_id in wanted}
    total = source.head_position()
    findings: list[VerificationFinding] = []
    seen: dict[str, _Stream] = {}
    last_position = 0
    checked = 0
    for page in source.iter_event_heads(page_size=20_000):
        if cancelled and cancelled():
            raise Cancelled("verification was cancelled")
        for position, sid, _stype, version, type_, at_us in page:
            if position <= last_position:
                findings.append(VerificationFinding(
                    "position_order", sid, version, position,
                    f"position {position} follows position {last_position}: positions must "
                    "rise strictly"))
            last_position = max(last_position, position)
            info = listed.get(sid)
            if info is None:
                continue
            checked += 1
            stream = seen.get(sid)
            if stream is None:
                seen[sid] = stream = _Stream(version, position, at_us)
                if version != info.first_version:
                    stream.broken = True
                    findings.append(VerificationFinding(
                        "version_gap", sid, version, position,
                        f"the stream starts at version {version}, not at "
                        f"{info.first_version}"))
                continue
            stream.events += 1
            if not stream.broken and version != stream.version + 1:
                stream.broken = True
                kind = "version_gap" if version > stream.version + 1 else "version_order"
                findings.append(VerificationFinding(
                    kind, sid, version, position,
                    f"expected version {stream.version + 1} after position "
                    f"{stream.position}, found {version} ({type_})"))
            if at_us < stream.at_us:
                findings.append(VerificationFinding(
                    "time_backwards", sid, version, position,
                    f"recorded {(stream.at_us - at_us) / 1e6:.6f} s before version "
                    f"{stream.version}, which comes first"))
            stream.version, stream.position, stream.at_us = version, position, at_us
        if progress:
            progress(min(last_position, total), total)
    for sid, info in listed.items():
        stream = seen.get(sid)
        if stream is None:
            findings.append(VerificationFinding(
                "stream_without_events", sid, info.version, None,
                f"the stream list says version {info.version} but the stream has no events"))
        elif not stream.broken and stream.version != info.version:
            findings.append(VerificationFinding(
                "head_mismatch", sid, stream.version, stream.position,
                f"the stream list says version {info.version}, the events end at "
                f"{stream.version}"))
    not_checked = [NO_CHAIN]
    if source.capabilities.snapshots and code is not None \
            and source.identity.kind == "eventsourcing":
        findings += [VerificationFinding("snapshot_mismatch", d.stream_id, d.version, None,
                                         d.detail)
                     for d in code.check_snapshots(source, cancelled=cancelled)
                     if wanted is None or d.stream_id in wanted]
    elif source.capabilities.snapshots:
        not_checked.append("snapshots: the source's snapshots hold its aggregates' own state; "
                           "give the application's code (--code-path) to check them against "
                           "a replay through its classes")
    return VerificationReport(checked, len(listed), findings, tuple(not_checked))
