"""Integrity verification: is the stored history still the history that was written?

Checks every stream's hash chain, contiguous versions 1..n in position order, the stream list's
head versions and hashes, and every snapshot against the state replayed at its version. With an
earlier report's stream heads (``against``) it also catches a history that was rewritten or
truncated consistently by someone with write access, which no internal check can see.
Each finding names the first bad event of its stream; later events of that stream are not
reported again (they would only repeat the consequence).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store import EventStore
from store.hashing import ChainHasher

from ..domain.folds import ReplayError
from .replay import Replayer
from .timeline import Cancelled


@dataclass(frozen=True, slots=True)
class VerificationFinding:
    kind: str
    stream_id: str
    version: int | None
    position: int | None
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "stream_id": self.stream_id, "version": self.version,
                "position": self.position, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class VerificationReport:
    events_checked: int
    streams_checked: int
    findings: list[VerificationFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "events_checked": self.events_checked,
                "streams_checked": self.streams_checked,
                "findings": [f.as_json() for f in self.findings]}


@dataclass(slots=True)
class _Chain:
    version: int = 0
    hash: str = ""
    position: int = 0
    broken: bool = False
    hashes: dict[int, str] | None = None  # kept only for streams an earlier report names


def heads_from_report(report: Mapping[str, Any]) -> dict[str, tuple[int, str]]:
    """Stream heads from an earlier JSON report: ``{"streams": [{stream_id, version,
    head_hash}, ...]}``."""
    streams = report.get("streams")
    if not isinstance(streams, list):
        raise ValueError("the report has no 'streams' list of recorded stream heads")
    heads = {}
    for item in streams:
        try:
            heads[str(item["stream_id"])] = (int(item["version"]), str(item["head_hash"]))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"a stream head in the report is incomplete: {item!r}") from None
    return heads


def load_heads(path: str | Path) -> dict[str, tuple[int, str]]:
    """Stream heads from an earlier JSON report file (ValueError says what is wrong)."""
    try:
        return heads_from_report(json.loads(Path(path).read_text("utf-8")))
    except OSError as e:
        raise ValueError(f"cannot read {path}: {e.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not a JSON report: {e}") from None
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def verify(store: EventStore, *, against: Mapping[str, tuple[int, str]] | None = None,
           stream_ids: Collection[str] | None = None, stream_type: str | None = None,
           progress: Callable[[int, int], None] | None = None,
           cancelled: Callable[[], bool] | None = None) -> VerificationReport:
    """Verify the whole store, or only some streams (a chain is always checked from version 1).
    """
    findings: list[VerificationFinding] = []
    chains: dict[str, _Chain] = {}
    total = store.head_position()
    checked = 0
    hasher = ChainHasher()

    def find(kind: str, chain: _Chain, sid: str, version: int | None, pos: int | None,
             detail: str) -> None:
        chain.broken = True
        findings.append(VerificationFinding(kind, sid, version, pos, detail))

    for pos, sid, _stype, version, type_, at, payload, meta, stored in store.iter_raw_events(
            stream_ids=stream_ids, stream_types=[stream_type] if stream_type else None):
        checked += 1
        if checked % 20_000 == 0:
            if cancelled and cancelled():
                raise Cancelled("verification was cancelled")
            if progress:
                progress(pos, total)
        chain = chains.get(sid)
        if chain is None:
            chain = chains[sid] = _Chain(hashes={} if against and sid in against else None)
        if chain.broken:
            continue
        if version != chain.version + 1:
            kind = "version_gap" if version > chain.version + 1 else "version_order"
            find(kind, chain, sid, version, pos,
                 f"expected version {chain.version + 1} after position {chain.position}, "
                 f"found version {version}")
            continue
        expected = hasher.hash_text(chain.hash, sid, version, type_, hasher.iso(at), payload,
                                    meta)
        if expected != stored:
            find("hash_mismatch", chain, sid, version, pos,
                 "the stored hash does not match the event's content and the previous hash: "
                 "the event (or the one before it) was changed after it was written")
            continue
        chain.version, chain.hash, chain.position = version, stored, pos
        if chain.hashes is not None:
            chain.hashes[version] = stored

    listed = {info.stream_id: info for info in _all_streams(store, stream_ids, stream_type)}
    for sid, info in listed.items():
        chain = chains.get(sid)
        if chain is None:
            findings.append(VerificationFinding(
                "stream_without_events", sid, info.version, None,
                f"the stream list says version {info.version} but the stream has no events"))
        elif not chain.broken and (chain.version, chain.hash) != (info.version, info.head_hash):
            findings.append(VerificationFinding(
                "head_mismatch", sid, chain.version, chain.position,
                f"the stream list says version {info.version} (head {info.head_hash[:12]}), the "
                f"events end at version {chain.version} (head {chain.hash[:12]})"))
    for sid, chain in chains.items():
        if sid not in listed and not chain.broken:
            findings.append(VerificationFinding("stream_unlisted", sid, chain.version,
                                                chain.position, "the stream has events but is "
                                                "missing from the stream list"))

    findings.extend(_check_snapshots(store, None if stream_ids is None and stream_type is None
                                     else set(listed) | set(chains)))
    if against:
        findings.extend(_check_against(against, chains))
    if progress:
        progress(total, total)
    return VerificationReport(checked, len(set(chains) | set(listed)), findings)


def _all_streams(store: EventStore, stream_ids: Collection[str] | None,
                 stream_type: str | None) -> Iterable[Any]:
    if stream_ids is not None:
        for sid in sorted(set(stream_ids)):
            info = store.stream(sid)
            if info is not None and (stream_type is None or info.stream_type == stream_type):
                yield info
        return
    after = None
    while True:
        page = store.streams(stream_type, after_id=after, limit=5000)
        yield from page
        if len(page) < 5000:
            return
        after = page[-1].stream_id


def _check_snapshots(store: EventStore, only: set[str] | None) -> list[VerificationFinding]:
    replayer = Replayer(store)
    out = []
    for snap in store.iter_snapshots():
        if only is not None and snap.stream_id not in only:
            continue
        try:
            replayed = replayer.replay(snap.stream_id, snap.version, use_snapshots=False)
        except (ReplayError, ValueError, LookupError) as e:
            out.append(VerificationFinding("snapshot_unverifiable", snap.stream_id,
                                           snap.version, None, str(e)))
            continue
        if replayed.state != snap.state:
            out.append(VerificationFinding(
                "snapshot_mismatch", snap.stream_id, snap.version, None,
                "the snapshot differs from the state replayed from the events at its version"))
    return out


def _check_against(against: Mapping[str, tuple[int, str]],
                   chains: Mapping[str, _Chain]) -> list[VerificationFinding]:
    out = []
    for sid, (version, head_hash) in sorted(against.items()):
        chain = chains.get(sid)
        if chain is None:
            out.append(VerificationFinding("stream_missing", sid, version, None,
                                           "the earlier report lists this stream; it is gone"))
        elif chain.broken:
            continue  # already reported at its first bad event
        elif chain.version < version:
            out.append(VerificationFinding(
                "truncated", sid, chain.version + 1, None,
                f"the earlier report recorded version {version}; the stream now ends at "
                f"{chain.version}"))
        elif (chain.hashes or {}).get(version) != head_hash:
            out.append(VerificationFinding(
                "rewritten", sid, version, None,
                f"the event at version {version} no longer has the hash the earlier report "
                f"recorded ({head_hash[:12]}): the history was rewritten"))
    return out
