"""Integrity verification: is the stored history still the history that was written?

Checks every stream's hash chain, contiguous versions 1..n in position order, the stream list's
head versions and hashes, and every snapshot against the state replayed at its version. With an
earlier report's stream heads (``against``) it also catches a history that was rewritten or
truncated consistently by someone with write access, which no internal check can see.
Each finding names the first bad event of its stream; later events of that stream are not
reported again (they would only repeat the consequence).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store import EventRow, EventStore, Source, open_store
from store.gcpause import collector_paused
from store.hashing import ChainHasher, json_string
from store.reading import StreamHalf

from .jobs import CancelCheck, Cancelled
from .verify_leaves import LeafColumns, leaf_of

if TYPE_CHECKING:
    from ..domain.rules import StreamModel
    from .code_models import ApplicationCode


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
    not_checked: tuple[str, ...] = ()
    """What this kind of source does not let verify check (a store without a hash chain),
    each as one sentence; empty for esaudit's own store, where every check runs."""

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": self.ok, "events_checked": self.events_checked,
                                "streams_checked": self.streams_checked,
                                "findings": [f.as_json() for f in self.findings]}
        if self.not_checked:
            data["not_checked"] = list(self.not_checked)
        return data


@dataclass(slots=True)
class _Chain:
    version: int = 0
    hash: str = ""
    position: int = 0
    broken: bool = False
    hashes: dict[int, str] | None = None  # kept only for streams an earlier report names
    name: str = ""
    """The stream id as the envelope writes it (``ChainHasher.name_json``), once a walk has
    hashed one of its events."""
    first: int = 0
    """The position of the first event the walk met: where one walk would have met it."""


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


PARALLEL_FROM = 300_000
"""Stores with at least this many events are verified in two halves on two cores (SQLite
files): below it, starting the second process costs more than it saves."""

_Row = EventRow
_First = tuple[int, int, str, str]
"""A stream's first event in a joining walk: position, version, stored hash, envelope."""


def _split_point(total: int) -> int | None:
    """Where the second process takes over, or None to walk alone. It needs ~0.45 s to start
    (about 100k events' worth of walking), so it gets that much less than half."""
    if total < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        return None
    return (total + 100_000) // 2


class _Walker:
    """Checks rows in position order, keeping each stream's chain.

    ``joining`` is for a walker that starts in the middle of the store: the first event it
    meets of each stream cannot be checked without the chain before it, so it is put aside
    (in ``firsts``) and trusted for the rest of the walk; ``join`` checks it afterwards
    against the chain the first half ended with, and discards what was built on it if it
    fails (only the first bad event of a stream is reported). What is put aside is the
    event's canonical envelope, built by the joining walker: the join, which runs after both
    halves, is left one SHA-256 per stream (a store of a million short streams has a million
    such events, and building their envelopes there was a quarter of the whole verify).
    """

    def __init__(self, keep_hashes_of: Collection[str], joining: bool = False,
                 leaves: LeafColumns | None = None) -> None:
        self.chains: dict[str, _Chain] = {}
        self.findings: list[VerificationFinding] = []
        self.checked = 0
        self.firsts: dict[str, _First] | None = {} if joining else None
        self.leaves = leaves
        """Where each walked event's seal leaf goes, if anywhere (``verify_leaves``)."""
        self._keep = keep_hashes_of
        self._hasher = ChainHasher()

    def find(self, kind: str, chain: _Chain, row: _Row, detail: str) -> None:
        self._found(kind, chain, row[1], row[3], row[0], detail)

    def walk(self, rows: Iterable[_Row], progress: Callable[[int], None] | None = None,
             cancelled: CancelCheck | None = None) -> None:
        """The hot loop of every audit (a million turns a million events): what each turn
        needs is bound to a local once, each stream's id text lives with its chain and each
        event type's in a small dict, so a turn looks up one chain and hashes."""
        chains, firsts, hasher, leaves = self.chains, self.firsts, self._hasher, self.leaves
        iso, hash_named, name_json = hasher.iso, hasher.hash_named, hasher.name_json
        types: dict[str, str] = {}
        envelope = None
        if leaves is not None:  # bound once: four appends an event
            add_position, add_stream = leaves.positions.append, leaves.stream_ids.append
            add_version, add_leaf = leaves.versions.append, leaves.leaves.extend
        checked = self.checked
        try:
            for row in rows:
                pos, sid, _stype, version, type_, at, payload, meta, stored = row
                checked += 1
                if not checked % 20_000:
                    if cancelled and cancelled():
                        raise Cancelled("verification was cancelled")
                    if progress:
                        progress(pos)
                try:  # free unless it raises: a row no writer of esaudit's could write
                    if leaves is not None:  # every event's leaf, whatever its chain says
                        envelope = hasher.envelope_text(sid, version, type_, iso(at), payload,
                                                        meta)
                        add_position(pos)
                        add_stream(sid)
                        add_version(version)
                        add_leaf(leaf_of(envelope))
                    chain = chains.get(sid)
                    if chain is None:
                        chain = chains[sid] = self._new_chain(sid, pos)
                        if firsts is not None:
                            firsts[sid] = (pos, version, stored, envelope or hasher.envelope_text(
                                sid, version, type_, iso(at), payload, meta))
                            self._accept(chain, row)
                            continue
                    if chain.broken:
                        continue
                    if version != chain.version + 1:
                        kind = "version_gap" if version > chain.version + 1 else "version_order"
                        self.find(kind, chain, row,
                                  f"expected version {chain.version + 1} after position "
                                  f"{chain.position}, found version {version}")
                        continue
                    if envelope is None:
                        typ = types.get(type_)
                        if typ is None:
                            typ = types[type_] = name_json(type_)
                        expected = hash_named(chain.hash, chain.name, version, typ, iso(at),
                                              payload, meta)
                    else:
                        expected = hasher.hash_envelope(chain.hash, envelope)
                    if expected != stored:
                        self.find("hash_mismatch", chain, row, _MISMATCH)
                        continue
                    chain.version, chain.hash, chain.position = version, stored, pos
                    if chain.hashes is not None:
                        chain.hashes[version] = stored
                except (TypeError, ValueError) as e:
                    self._malformed(row, e)
        finally:
            self.checked = checked

    def _malformed(self, row: _Row, error: Exception) -> None:
        """A row whose values esaudit's writers cannot have written (a version that is text, a
        stream id that is bytes): the stream's first bad event, as a finding, not a crash."""
        pos, sid, _stype, version, type_, at, payload, meta, stored = row
        columns = (("stream_id", sid, str), ("version", version, int), ("type", type_, str),
                   ("recorded_at", at, int), ("payload", payload, str), ("metadata", meta, str),
                   ("hash", stored, str))
        wrong = [name for name, value, kind in columns
                 if not isinstance(value, kind) or isinstance(value, bool)]
        detail = (f"{', '.join(wrong)} of a type esaudit never writes" if wrong
                  else f"a value esaudit never writes ({error})")
        named = isinstance(sid, str)
        if named:
            chain = self.chains.get(sid)
            if chain is None:
                chain = self.chains[sid] = _Chain(first=pos)
            elif chain.broken:
                return
            chain.broken = True
        self.findings.append(VerificationFinding(
            "malformed_event", sid if named else repr(sid),
            version if isinstance(version, int) else None, pos,
            f"the row cannot be an event as written: {detail}; it was changed after it was "
            f"written"))

    def _new_chain(self, sid: str, position: int) -> _Chain:
        return _Chain(hashes={} if sid in self._keep else None, name=json_string(sid),
                      first=position)

    @staticmethod
    def _accept(chain: _Chain, row: _Row) -> None:
        chain.version, chain.hash, chain.position = row[3], row[8], row[0]
        if chain.hashes is not None:
            chain.hashes[row[3]] = row[8]

    def state(self) -> tuple[Any, ...]:
        """What a joining walker hands back, in types marshal can carry (fast for 100k
        streams: 0.1 s, where pickling the objects takes 0.8 s)."""
        return ({sid: (c.version, c.hash, c.position, c.broken, c.hashes)
                 for sid, c in self.chains.items()}, self.firsts,
                [(f.kind, f.stream_id, f.version, f.position, f.detail) for f in self.findings],
                self.checked, None if self.leaves is None else self.leaves.state())

    def join(self, later: tuple[Any, ...]) -> None:
        """Continue this walk with a joining walker's ``state()``; it started right after."""
        chains, firsts, findings, checked, later_leaves = later
        hash_envelope = self._hasher.hash_envelope
        dropped = set()
        for sid, (_v, _h, _p, broken, _hashes) in chains.items():
            if broken and sid not in firsts:  # a malformed row was the later half's first
                chain = self.chains.get(sid)
                if chain is None:
                    chain = self.chains[sid] = self._new_chain(sid, 0)
                elif chain.broken:
                    dropped.add(sid)
                chain.broken = True
        for sid, (pos, version, stored, envelope) in firsts.items():
            chain = self.chains.get(sid)
            if chain is None:
                chain = self.chains[sid] = self._new_chain(sid, pos)
            if chain.broken:
                dropped.add(sid)
                continue
            if version != chain.version + 1:
                kind = "version_gap" if version > chain.version + 1 else "version_order"
                self._found(kind, chain, sid, version, pos,
                            f"expected version {chain.version + 1} after position "
                            f"{chain.position}, found version {version}")
            elif hash_envelope(chain.hash, envelope) != stored:
                self._found("hash_mismatch", chain, sid, version, pos, _MISMATCH)
            else:  # the later half's chain continues this one: it is the stream's now
                chain.version, chain.hash, chain.position, chain.broken, hashes = chains[sid]
                if hashes is not None:
                    chain.hashes = hashes if chain.hashes is None else chain.hashes | hashes
                continue
            dropped.add(sid)
        self.findings.extend(VerificationFinding(*f) for f in findings if f[1] not in dropped)
        self.findings.sort(key=lambda f: f.position or 0)  # as one walk would have found them
        self.checked += checked
        if self.leaves is not None:
            self.leaves.extend(later_leaves)

    def _found(self, kind: str, chain: _Chain, sid: str, version: int, position: int,
               detail: str) -> None:
        chain.broken = True
        self.findings.append(VerificationFinding(kind, sid, version, position, detail))


_MISMATCH = ("the stored hash does not match the event's content and the previous hash: "
             "the event (or the one before it) was changed after it was written")


def verify(store: Source, *, against: Mapping[str, tuple[int, str]] | None = None,
           stream_ids: Collection[str] | None = None, stream_type: str | None = None,
           progress: Callable[[int, int], None] | None = None,
           cancelled: Callable[[], bool] | None = None,
           code: ApplicationCode | None = None,
           model_files: Sequence[StreamModel] = (),
           leaves: LeafColumns | None = None) -> VerificationReport:
    """Verify the whole store, or only some streams (a chain is always checked from version 1).
    A source without a hash chain gets the checks that need none (verify_unchained), and its
    snapshots are checked through the system's own classes when ``code`` is given; states
    kept under a model file are checked when that file is among ``model_files``. A walk of
    the whole of a chained store puts each event's seal leaf in ``leaves``, if given.
    """
    if not store.capabilities.hash_chain:
        from .verify_unchained import verify_unchained
        return verify_unchained(store, stream_ids=stream_ids, stream_type=stream_type,
                                progress=progress, cancelled=cancelled, code=code)
    total = store.head_position()
    if stream_ids is not None or stream_type is not None:
        leaves = None
    path = store.sqlite_path
    split = _split_point(total) if path is not None else None
    pivot = None
    against_findings: list[VerificationFinding] = []
    if (split is not None and isinstance(store, EventStore) and stream_ids is None
            and stream_type is None and not against and leaves is None):
        pivot = _stream_pivot(store)
    # The collector sleeps through the compare and the chains' freeing too: woken while a
    # million chains are alive, its first pass over them costs 0.7 s.
    with collector_paused():
        if pivot is not None:
            assert isinstance(store, EventStore)
            findings, checked, streams = _walk_by_stream(store, str(path), total, pivot,
                                                         progress, cancelled)
            only = None
        else:
            findings, checked, streams, against_findings, only = _walk_by_position(
                store, total, split, against, stream_ids, stream_type, leaves, progress,
                cancelled)
        findings.extend(_check_snapshots(store, only))
        kept = iter(store.iter_fold_snapshots())
        first_kept = next(kept, None)
        not_checked: list[str] = []
        if first_kept is not None:  # the fold checks load only for a store that keeps states
            from .verify_folds import check_fold_snapshots
            fold_findings, not_checked = check_fold_snapshots(
                store, model_files, only, itertools.chain([first_kept], kept))
            findings.extend(fold_findings)
        findings.extend(against_findings)
        if progress:
            progress(total, total)
    return VerificationReport(checked, streams, findings, tuple(not_checked))


def _walk_by_position(store: Source, total: int, split: int | None,
                      against: Mapping[str, tuple[int, str]] | None,
                      stream_ids: Collection[str] | None, stream_type: str | None,
                      leaves: LeafColumns | None, progress: Callable[[int, int], None] | None,
                      cancelled: CancelCheck | None,
                      ) -> tuple[list[VerificationFinding], int, int, list[VerificationFinding],
                                 set[str] | None]:
    """The walk in position order, its later positions (from ``split``) in a second process:
    (findings, events checked, streams checked, findings against the earlier report, the
    streams walked when not all were)."""
    keep = set(against or ())
    types = [stream_type] if stream_type else None
    walker = _Walker(keep, leaves=leaves)
    mid = total if split is None else split
    # The later positions go to a second process that opens the file read-only itself.
    half = None
    if split is not None:
        from store.two_process import SecondProcess
        half = SecondProcess.start(_SECOND_HALF, (
            str(store.sqlite_path), mid, total,
            None if stream_ids is None else sorted(stream_ids), stream_type, keep,
            leaves is not None))

    def report(pos: int) -> None:
        if progress:  # both halves advance together: the first half's share stands for both
            progress(pos if half is None else min(pos * total // mid, total), total)

    def second_half_here() -> tuple[Any, ...]:
        """The second half's walk in this process, when the second one failed."""
        return _second_half(store, mid, total, stream_ids, stream_type, keep,
                            leaves is not None, report, cancelled)

    try:
        walker.walk(store.iter_raw_events(to_position=mid, stream_ids=stream_ids,
                                          stream_types=types), report, cancelled)
        listed = dict(_listed_heads(store, stream_ids, stream_type))  # while the half runs
        later = half.result(here=second_half_here) if half is not None else None
    finally:
        if half is not None:
            half.stop()
    if later is not None:
        walker.join(later)
    chains, findings = walker.chains, walker.findings
    of_listed, of_unlisted = _compare_with_list(chains, listed)
    findings.extend(of_listed)
    findings.extend(finding for _at, finding in of_unlisted)
    streams = len(chains) + len(listed.keys() - chains.keys())
    against_findings = _check_against(against, chains) if against else []
    only = None if stream_ids is None and stream_type is None else set(listed) | set(chains)
    return findings, walker.checked, streams, against_findings, only


STREAM_SPLIT_SHARE = 0.4
"""The least share of the events either half of a split by stream must hold."""


def _stream_pivot(store: EventStore) -> str | None:
    """Where a whole-store walk splits by stream (``StreamHalf``), or None to split it by
    position: the middle stream id, if each side holds at least ``STREAM_SPLIT_SHARE`` of
    the events as the stream list counts them (a wrong count only makes the halves uneven).

    A split by position has each stream's first event of the later half checked after both
    halves, on the first half's chain: a million streams make a million such events, and
    their rows or envelopes crossing from the second process. Split by stream, each process
    walks whole chains and hands back only its findings and counts."""
    found = store.stream_pivot()
    if found is None:
        return None
    pivot, below, everything = found
    share = below / everything if everything else 0.0
    return pivot if STREAM_SPLIT_SHARE <= share <= 1 - STREAM_SPLIT_SHARE else None


def _walk_by_stream(store: EventStore, path: str, total: int, pivot: str,
                    progress: Callable[[int, int], None] | None, cancelled: CancelCheck | None,
                    ) -> tuple[list[VerificationFinding], int, int]:
    """The whole store in two halves by stream, the second in a second process: (findings,
    events checked, streams checked), the findings in the order one walk gives them."""
    from store.two_process import SecondProcess

    def report(pos: int) -> None:
        if progress:  # both halves walk every position: this half's stands for both
            progress(pos, total)

    other = SecondProcess.start(_OTHER_STREAMS, (path, total, pivot))
    try:
        mine = _stream_half(store, total, (pivot, 0), report, cancelled)
        theirs = other.result(here=lambda: _stream_half(store, total, (pivot, 1), report,
                                                        cancelled))
    finally:
        other.stop()
    walked, of_listed, of_unlisted = mine[0] + theirs[0], mine[1] + theirs[1], mine[2] + theirs[2]
    findings = [VerificationFinding(*f) for f in sorted(walked, key=lambda f: f[3])]
    findings += [VerificationFinding(*f) for f in sorted(of_listed, key=lambda f: f[1])]
    findings += [VerificationFinding(*f) for _at, f in sorted(of_unlisted)]
    return findings, mine[3] + theirs[3], mine[4] + theirs[4]


def _stream_half(store: EventStore, total: int, half: StreamHalf,
                 progress: Callable[[int], None] | None = None,
                 cancelled: CancelCheck | None = None) -> tuple[Any, ...]:
    """One half's walk compared with its part of the stream list, in types marshal carries:
    (walk findings, findings of listed streams, (position met, finding) of unlisted streams,
    events checked, streams checked)."""
    walker = _Walker(())
    walker.walk(store.iter_raw_events(to_position=total, stream_half=half), progress, cancelled)
    chains = walker.chains
    listed = {sid: (version, head)
              for sid, version, head in sorted(store.stream_heads(stream_half=half))}
    of_listed, of_unlisted = _compare_with_list(chains, listed)
    streams = len(chains) + len(listed.keys() - chains.keys())
    return ([_fields(f) for f in walker.findings], [_fields(f) for f in of_listed],
            [(at, _fields(f)) for at, f in of_unlisted], walker.checked, streams)


def _fields(finding: VerificationFinding) -> tuple[Any, ...]:
    return (finding.kind, finding.stream_id, finding.version, finding.position, finding.detail)




def _compare_with_list(chains: Mapping[str, _Chain], listed: Mapping[str, tuple[int, str]],
                       ) -> tuple[list[VerificationFinding], list[tuple[int, VerificationFinding]]]:
    """What the stream list says against where each walked chain ended: the findings of the
    listed streams in the list's order, and those of the unlisted with the position where the
    walk met each."""
    of_listed = []
    for sid, (version, head) in listed.items():
        chain = chains.get(sid)
        if chain is None:
            of_listed.append(VerificationFinding(
                "stream_without_events", sid, version, None,
                f"the stream list says version {version} but the stream has no events"))
        elif not chain.broken and (chain.version != version or chain.hash != head):
            of_listed.append(VerificationFinding(
                "head_mismatch", sid, chain.version, chain.position,
                f"the stream list says version {version} (head {head[:12]}), the "
                f"events end at version {chain.version} (head {chain.hash[:12]})"))
    unlisted = chains.keys() - listed.keys()
    of_unlisted = [] if not unlisted else [
        (chain.first, VerificationFinding("stream_unlisted", sid, chain.version, chain.position,
                                          "the stream has events but is missing from the "
                                          "stream list"))
        for sid, chain in chains.items() if sid in unlisted and not chain.broken]
    return of_listed, of_unlisted


def _listed_heads(store: Source, stream_ids: Collection[str] | None,
                  stream_type: str | None) -> Iterable[tuple[str, tuple[int, str]]]:
    """(stream id, (version, head hash)) from the stream list, sorted by id."""
    if stream_ids is None:
        for sid, version, head in sorted(store.stream_heads(stream_type)):
            yield sid, (version, head)
        return
    for sid in sorted(set(stream_ids)):
        info = store.stream(sid)
        if info is not None and (stream_type is None or info.stream_type == stream_type):
            yield sid, (info.version, info.head_hash)


def _check_snapshots(store: Source, only: set[str] | None) -> list[VerificationFinding]:
    wanted = (s for s in store.iter_snapshots() if only is None or s.stream_id in only)
    first = next(wanted, None)
    if first is None:
        return []
    # Replaying needs the folds and the models: a store without snapshots never loads them.
    from ..domain.folds import ReplayError
    from .replay import Replayer

    replayer = Replayer(store)
    out = []
    for snap in itertools.chain([first], wanted):
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


def _second_half(store: Source, after: int, to: int, stream_ids: Collection[str] | None,
                 stream_type: str | None, keep: Collection[str], with_leaves: bool,
                 progress: Callable[[int], None] | None = None,
                 cancelled: CancelCheck | None = None) -> tuple[Any, ...]:
    """A joining walker's state after positions ``after+1..to``: what ``_Walker.join`` takes."""
    walker = _Walker(keep, joining=True, leaves=LeafColumns() if with_leaves else None)
    walker.walk(store.iter_raw_events(after, to_position=to, stream_ids=stream_ids,
                                      stream_types=[stream_type] if stream_type else None),
                progress, cancelled)
    return walker.state()


def walk_second_half(job: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """The second process's work (``store.two_process``): the second half of a SQLite file."""
    path, after, to, stream_ids, stream_type, keep, with_leaves = job
    with open_store(path, read_only=True) as store:
        yield _second_half(store, after, to, stream_ids, stream_type, keep, with_leaves)


def walk_other_streams(job: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """The second process's work in a split by stream: the streams from the pivot on."""
    path, total, pivot = job
    with open_store(path, read_only=True) as store:
        yield _stream_half(store, total, (pivot, 1))


_SECOND_HALF = "esaudit.application.verify:walk_second_half"
_OTHER_STREAMS = "esaudit.application.verify:walk_other_streams"
