"""Verify against a seal: is every sealed event still there, unchanged and in its place?

One walk recomputes today's leaves in position order: on esaudit's own store it is verify's
walk of the hash chain, which builds each event's envelope anyway and hands its leaf on
(``verify_leaves``), so the store is read once for both. Each run of 1024 leaves is compared with
the seal's hash of that run as soon as it is complete: while they agree nothing is kept but
the run hashes. If the first ``size`` leaves all agree, the sealed tree is today's first
``size`` leaves (their root is the sealed root), the events after them are ``appended``, and
the RFC 9162 consistency path from the sealed tree to today's is part of the answer, so anyone
can check a later seal extends this one. From the first run that disagrees on, the walk keeps
each event's position, stream, version and leaf, and matches them with the seal's per-leaf
record by (stream, version):

- sealed, not found today: ``removed_since_seal`` (at its sealed position);
- found, with another leaf tag: ``changed_since_seal`` (at its position today);
- found, same leaf, another position: ``moved_since_seal`` (a swap moves two events);
- not sealed, placed before the last sealed event: ``inserted_since_seal`` (events after it
  are appended, not findings).

A run that disagrees while no event in it can be named (two leaves whose 32-bit tags collide)
is still a finding, ``seal_mismatch``: the run hashes, not the tags, decide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from store import Source
from store.gcpause import collector_paused

from ..jobs import CancelCheck, Cancelled, Progress
from ..verify import VerificationFinding, VerificationReport, verify
from ..verify_leaves import LeafColumns, LeafEvent
from ..verify_unchained import NO_CHAIN
from .merkle import ChunkedTree, root_of, verify_consistency
from .seal_file import TAG_SIZE, Seal
from .walk import leaf_runs

if TYPE_CHECKING:
    from ..code_models import ApplicationCode

_Seen = tuple[int, str, int, bytes]
"""(position, stream_id, version, leaf tag) of an event read today."""


@dataclass(frozen=True, slots=True)
class SealCheck:
    """What the comparison with a seal found (``findings`` empty: every sealed event is
    there, unchanged, in its place)."""

    size: int
    root: str
    sealed_at: str
    signer: str | None
    appended: int
    findings: tuple[VerificationFinding, ...]
    current_size: int
    current_root: str | None
    """Today's root, when the sealed tree is its beginning (else None)."""
    consistency: tuple[str, ...] | None
    """The RFC 9162 consistency path from the sealed tree to today's, when it is one."""

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_json(self) -> dict[str, Any]:
        return {"size": self.size, "root": self.root, "appended": self.appended,
                "sealed_at": self.sealed_at, "signed": self.signer is not None,
                "current_root": self.current_root,
                "consistency": None if self.consistency is None else list(self.consistency)}


@dataclass(frozen=True, slots=True)
class SealedVerification:
    """``verify`` and the comparison with a seal, as one report."""

    report: VerificationReport
    seal: SealCheck

    @property
    def ok(self) -> bool:
        return self.report.ok

    def as_json(self) -> dict[str, Any]:
        return {**self.report.as_json(), "seal": self.seal.as_json()}


def refuse_other_source(source: Source, seal: Seal) -> None:
    """A seal of another source proves nothing about this one: refused in one line."""
    seal.refuse_other_source(source.identity.kind, source.identity.target)


def verify_against_seal(source: Source, seal: Seal, *, progress: Progress | None = None,
                        cancelled: CancelCheck | None = None,
                        code: ApplicationCode | None = None) -> SealedVerification:
    """Every check ``verify`` runs (snapshots through the system's classes with ``code``),
    and the comparison with the seal."""
    refuse_other_source(source, seal)

    def half(offset: int) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, total: progress(offset * total + done, 2 * total)

    # A chained store's verify walk hands on every leaf: the store is read once, not twice.
    leaves = LeafColumns() if source.capabilities.hash_chain else None
    own = verify(source, progress=half(0), cancelled=cancelled, code=code, leaves=leaves)
    check = check_against_seal(source, seal, progress=half(1), cancelled=cancelled,
                               gathered=leaves)
    since = (f"event contents before the seal of {seal.sealed_at}: the source keeps no hash "
             "chain, so only changes made since the seal can be seen")
    not_checked = tuple(since if line == NO_CHAIN else line for line in own.not_checked)
    return SealedVerification(VerificationReport(
        own.events_checked, own.streams_checked, [*own.findings, *check.findings],
        not_checked), check)


def check_against_seal(source: Source, seal: Seal, *, progress: Progress | None = None,
                       cancelled: CancelCheck | None = None,
                       gathered: LeafColumns | None = None) -> SealCheck:
    """Compare today's events with the sealed ones (see the module docstring): as
    ``gathered`` holds them, when a walk already gathered every event's leaf, else read
    afresh."""
    refuse_other_source(source, seal)
    seal.heads  # noqa: B018  (checked against the seal's record: SealRefused if they disagree)
    n, c = seal.size, seal.chunk_size
    total = source.head_position() if gathered is None else gathered.last_position
    runs = _walked_runs(source, total, c) if gathered is None else _gathered_runs(gathered, c)
    today_runs: list[bytes] = []  # today's hash of each run (the last one may be shorter)
    boundary: list[bytes] = []  # today's leaves of the run that holds leaf n
    window: list[_Seen] | None = None  # every event from the first run that differs on
    first_bad = 0
    count = 0
    with collector_paused():
        for leaves, seen, last_position in runs:
            lo, count = count, count + len(leaves)
            today_runs.append(root_of(leaves))
            if lo // c == n // c:
                boundary = leaves
            if window is None and lo < n:
                hi = min(count, n)  # today's leaves this sealed run covers
                if hi < min(lo + c, n) or seal.chunks[lo // c] != (
                        today_runs[-1] if hi == count else root_of(leaves[:hi - lo])):
                    first_bad, window = lo // c, []
            if window is not None:
                window.extend(seen())
            if len(today_runs) % 64 == 0:
                if cancelled and cancelled():
                    raise Cancelled("verification was cancelled")
                if progress:
                    progress(last_position, total)
    if count < n and window is None:  # the sealed runs from here on are gone
        first_bad, window = count // c, []
    if progress:
        progress(total, total)
    if window is None:
        tree = ChunkedTree(count, c, today_runs, boundary, n - n % c)
        root = tree.root()
        path = tree.consistency_path(n)
        if not verify_consistency(n, count, seal.root, root, path):
            raise RuntimeError("the sealed runs agree but the consistency path does not hold")
        return SealCheck(n, seal.root.hex(), seal.sealed_at, seal.signer, count - n, (),
                         count, root.hex(), tuple(p.hex() for p in path))
    findings, appended = _locate(seal, window, first_bad * c)
    return SealCheck(n, seal.root.hex(), seal.sealed_at, seal.signer, appended,
                     tuple(findings), count, None, None)


_Run = tuple[list[bytes], Callable[[], list[_Seen]], int]
"""A run of today's leaves, its events as ``_Seen`` (asked for only from the first run that
differs on), and its last position."""


def _walked_runs(source: Source, total: int, size: int) -> Iterator[_Run]:
    for run in leaf_runs(source, to_position=total, size=size):
        yield [e[3] for e in run], partial(_tagged, run), run[-1][0]


def _gathered_runs(gathered: LeafColumns, size: int) -> Iterator[_Run]:
    for lo, hi, leaves in gathered.leaf_runs(size):
        yield leaves, partial(_tagged_columns, gathered, lo, hi), gathered.positions[hi - 1]


def _tagged(run: list[LeafEvent]) -> list[_Seen]:
    return [(e[0], e[1], e[2], e[3][:TAG_SIZE]) for e in run]


def _tagged_columns(gathered: LeafColumns, lo: int, hi: int) -> list[_Seen]:
    return _tagged(gathered.events(lo, hi))


def _locate(seal: Seal, window: list[_Seen], start: int,
            ) -> tuple[list[VerificationFinding], int]:
    """Name what differs from leaf ``start`` on: (findings in position order, appended)."""
    record, n = seal.record, seal.size
    ids = [h.stream_id for h in seal.heads]
    streams, versions, positions = record.streams, record.versions, record.positions
    sealed: dict[tuple[str, int], int] = {}
    for i in range(start, n):
        sealed.setdefault((ids[streams[i]], versions[i]), i)
    last_sealed = positions[n - 1] if n else 0
    findings: list[VerificationFinding] = []
    appended = 0
    for position, sid, version, tag in window:
        i = sealed.pop((sid, version), -1)
        if i < 0:
            if position > last_sealed:
                appended += 1
            else:
                findings.append(VerificationFinding(
                    "inserted_since_seal", sid, version, position,
                    f"the seal does not hold this event, yet it sits before the last sealed "
                    f"one (position {last_sealed}): inserted, or committed by a transaction "
                    "still open when the seal was taken"))
            continue
        changed = record.tag(i) != tag
        was = positions[i]
        if changed:
            moved = f"; it also moved from position {was}" if was != position else ""
            findings.append(VerificationFinding(
                "changed_since_seal", sid, version, position,
                f"its canonical bytes no longer hash to sealed leaf {i}: the event was "
                f"changed after the seal{moved}"))
        elif was != position:
            findings.append(VerificationFinding(
                "moved_since_seal", sid, version, position,
                f"unchanged, but sealed as leaf {i} at position {was}: the order of the "
                "history was changed"))
    for (sid, version), i in sorted(sealed.items(), key=lambda item: item[1]):
        findings.append(VerificationFinding(
            "removed_since_seal", sid, version, positions[i],
            f"sealed as leaf {i} at position {positions[i]}; the source no longer has it"))
    if not findings:
        lo, hi = seal.run_of(start)
        findings.append(VerificationFinding(
            "seal_mismatch", "", None, positions[lo] if lo < n else None,
            f"sealed leaves {lo}..{hi - 1} no longer hash to their sealed run, and no single "
            "event could be named (their 32-bit tags agree)"))
    findings.sort(key=lambda f: f.position or 0)
    return findings, appended
