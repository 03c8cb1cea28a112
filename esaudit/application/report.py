"""What a report says, gathered once and then written as HTML, PDF, CSV or JSON.

The content is independent of the output format: the summary of the selection, its events, the
state of each selected stream at the chosen versions and the diff between them, the integrity
result for the streams involved, and what fixes the history: every stream's head hash (which
``verify --against REPORT.json`` later checks) and, when one is given, a seal of the whole
source, checked against it as the report is made (``verify --against SEAL.json`` later).
Human-readable formats list at most ``SHOWN_EVENTS`` events and ``SHOWN_HEADS`` heads, with
counts of the rest; CSV and JSON always hold every event, JSON every head.

The heads digest stands for every head in a page's worth of text: ``sha256:`` and the hex
SHA-256 of the canonical JSON (store/hashing.py's recipe: sorted keys, no spaces, UTF-8) of
``[[stream_id, version, head_hash], ...]``, streams in id order. A JSON report holds it beside
its ``streams``, so anyone can recompute it and compare it with the one a signed PDF shows.

Amounts are money where the model knows them: the fields ending ``_cents`` of streams the
built-in Order and Product models fold, in the order's currency (a product's price has
none). ``currency`` on an event or a state says so (None: not known as money).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from store import EventRow, Source, StreamInfo
from store.hashing import iso_from_us

from ..domain.errors import InvalidCommand
from ..domain.events import ORDER
from .diff import Change, diff_states
from .jobs import Cancelled, Progress
from .models import Models
from .replay import Replayer
from .transfer import Selection
from .values import shown
from .verify import VerificationFinding, VerificationReport, verify

if TYPE_CHECKING:
    from .witness.against import SealCheck
    from .witness.seal_file import Seal

SHOWN_EVENTS = 2000
SHOWN_HEADS = 500
MAX_STATE_STREAMS = 20
FETCH_ALL_STREAMS = 200
"""From this many streams on, their heads are read in one listing rather than one by one."""


@dataclass(frozen=True, slots=True)
class EventLine:
    position: int
    stream_id: str
    stream_type: str
    version: int
    type: str
    recorded_at: str
    actor: str
    payload: str
    hash: str
    currency: str | None = None
    """The currency of the event's amounts (``""``: money without one), None: not money."""


@dataclass(frozen=True, slots=True)
class StreamState:
    stream_id: str
    stream_type: str
    version_a: int | None
    state_a: dict[str, Any] | None
    version_b: int
    state_b: dict[str, Any] | None
    changes: list[Change]
    note: str = ""
    caveat: str = ""
    """What the states mean when no model folded them (see ``Replayed.caveat``)."""
    model: str = "none"
    """The model that folded the states (see ``Replayed.model``)."""
    currency: str | None = None
    """The currency of the state's ``_cents`` fields (see ``EventLine.currency``)."""


@dataclass(frozen=True, slots=True)
class SealShown:
    """The seal a report embeds, and what checking the source against it found."""

    file: str
    kind: str
    target: str
    sealed_at: str
    size: int
    root: str
    signer: str | None
    public_key: str | None
    signature: str | None
    check: SealCheck

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "source": {"kind": self.kind, "target": self.target},
                "sealed_at": self.sealed_at, "size": self.size, "root": self.root,
                "signed": self.signer is not None, "signer": self.signer,
                "public_key": self.public_key, "signature": self.signature,
                "check": {**self.check.as_json(), "ok": self.check.ok,
                          "findings": [f.as_json() for f in self.check.findings]}}


@dataclass
class ReportData:
    store_label: str
    generated_at: datetime
    selection: Selection
    versions: tuple[int, int] | None
    events_total: int = 0
    events: list[EventLine] = field(default_factory=list)
    events_by_type: Counter[str] = field(default_factory=Counter)
    first_at: str | None = None
    last_at: str | None = None
    streams: list[StreamInfo] = field(default_factory=list)
    states: list[StreamState] = field(default_factory=list)
    states_note: str = ""
    integrity: VerificationReport | None = None
    seal: SealShown | None = None
    chart_times: list[float] = field(default_factory=list)
    chart_lanes: list[str] = field(default_factory=list)
    chart_kinds: list[str] = field(default_factory=list)
    listed_by_type: Counter[str] = field(default_factory=Counter)
    source_kind: str = ""
    source_target: str = ""
    hash_chain: bool = True
    """Whether the source keeps a hash chain (else its heads are versions, hashes empty)."""

    @property
    def events_shown(self) -> int:
        return len(self.events)

    @property
    def unlisted_by_type(self) -> dict[str, int]:
        """How many events of each type are not listed (counted only)."""
        return {k: n - self.listed_by_type[k] for k, n in sorted(self.events_by_type.items())
                if n > self.listed_by_type[k]}

    @property
    def heads_shown(self) -> list[StreamInfo]:
        return self.streams[:SHOWN_HEADS]

    @cached_property
    def heads_digest(self) -> str:
        """``sha256:<hex>`` of every head (see the module docstring), once the streams are
        read."""
        heads = [[s.stream_id, s.version, s.head_hash] for s in self.streams]
        text = json.dumps(heads, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    @property
    def findings(self) -> list[VerificationFinding]:
        """Every integrity finding: verify's, then the seal's."""
        own = self.integrity.findings if self.integrity else []
        return [*own, *(self.seal.check.findings if self.seal else ())]

    def as_json(self, all_events: list[dict[str, Any]]) -> dict[str, Any]:
        sel = self.selection
        return {
            "generated_at": iso_from_us(int(self.generated_at.timestamp() * 1e6)),
            "store": self.store_label,
            "selection": {
                "streams": list(sel.stream_ids), "type": sel.stream_type,
                "from": sel.since.isoformat() if sel.since else None,
                "to": sel.until.isoformat() if sel.until else None,
                "versions": list(self.versions) if self.versions else None,
            },
            "summary": {"events": self.events_total, "streams": len(self.streams),
                        "first_event_at": self.first_at, "last_event_at": self.last_at,
                        "events_by_type": dict(sorted(self.events_by_type.items()))},
            "integrity": self.integrity.as_json() if self.integrity else None,
            **({"seal": self.seal.as_json()} if self.seal else {}),
            "heads_digest": self.heads_digest,
            "streams": [{"stream_id": s.stream_id, "stream_type": s.stream_type,
                         "version": s.version, "head_hash": s.head_hash}
                        for s in self.streams],
            "states": [{"stream_id": st.stream_id, "version_a": st.version_a,
                        "state_a": st.state_a, "version_b": st.version_b,
                        "state_b": st.state_b, "changes": [c.as_json() for c in st.changes],
                        "model": st.model, **({"caveat": st.caveat} if st.caveat else {}),
                        **({"currency": st.currency} if st.currency is not None else {})}
                       for st in self.states],
            "events": all_events,
        }


def parse_versions(text: str) -> tuple[int, int]:
    """A:B, the earlier version first: 5:1 is refused rather than shown as lines removed."""
    a, sep, b = text.partition(":")
    if not sep or not a.strip().isdigit() or not b.strip().isdigit():
        raise InvalidCommand(f"--versions takes A:B with two whole numbers, not {text!r}")
    first, second = int(a), int(b)
    if first > second:
        raise InvalidCommand(f"--versions {text}: A must not come after B (write "
                             f"{second}:{first} for the change from {second} to {first})")
    return first, second


def build_report(store: Source, selection: Selection,
                 versions: tuple[int, int] | None = None, *, progress: Progress | None = None,
                 cancelled: Callable[[], bool] | None = None,
                 models: Models | None = None, seal: Seal | None = None) -> ReportData:
    """Read the selection once (events, chart points, streams), then verify and replay (with
    the models loaded for the store, so the report says what the CLI and the app say), and
    check the source against ``seal`` (refused before anything is read if it seals another
    source)."""
    if seal is not None:
        from .witness.against import refuse_other_source
        refuse_other_source(store, seal)
    for sid in selection.stream_ids:
        if store.stream(sid) is None:
            raise InvalidCommand(f"no stream {sid!r} in the store")
    if versions is not None and selection.stream_ids:
        _check_versions_exist(store, list(selection.stream_ids), versions)  # before the read
    models = models if models is not None else Models(store)
    data = ReportData(store.label, datetime.now(UTC), selection, versions,
                      source_kind=store.identity.kind, source_target=store.identity.target,
                      hash_chain=store.capabilities.hash_chain)
    total = store.head_position() or 1
    steps = 3 if seal is not None else 2
    seen: dict[str, None] = {}
    listed: list[EventRow] = []
    first_us = last_us = None
    times, lanes, kinds, by_type = (data.chart_times, data.chart_lanes, data.chart_kinds,
                                    data.events_by_type)
    for row in selection.raw_rows(store, cancelled):
        pos, sid, stype, _, type_, at = row[:6]
        by_type[type_] += 1
        seen[sid] = None
        if first_us is None or at < first_us:
            first_us = at
        if last_us is None or at > last_us:
            last_us = at
        times.append(at / 1e6)
        lanes.append(stype)
        kinds.append(type_)
        if len(listed) < SHOWN_EVENTS:
            listed.append(row)
        if progress is not None and len(times) % 5000 == 0:
            progress(pos // steps, total)
    data.events_total = len(times)
    if first_us is not None and last_us is not None:
        data.first_at, data.last_at = iso_from_us(first_us), iso_from_us(last_us)
    data.events = _event_lines(store, models, selection, listed)
    data.listed_by_type.update(e.type for e in data.events)
    data.streams = _streams(store, selection, seen)
    ids = list(selection.stream_ids) or [s.stream_id for s in data.streams]
    if cancelled is not None and cancelled():
        raise Cancelled("the report was cancelled")
    data.integrity = verify(
        store, stream_ids=ids if selection.stream_ids or len(ids) < 500 else None,
        stream_type=selection.stream_type, cancelled=cancelled,
        code=models.code, model_files=models.files,
        progress=(lambda done, tot: progress((tot + done) // steps, tot)) if progress else None)
    if seal is not None:
        data.seal = _seal_shown(store, seal, cancelled, (
            lambda done, tot: progress((2 * tot + done) // 3, tot)) if progress else None)
    if versions is not None and not selection.stream_ids and len(ids) <= MAX_STATE_STREAMS:
        _check_versions_exist(store, ids, versions)
    if len(ids) > MAX_STATE_STREAMS:
        data.states_note = (f"{len(ids):,} streams are selected; states and diffs are shown "
                            f"when {MAX_STATE_STREAMS} or fewer are (select streams with "
                            "--stream)")
    else:
        replayer = Replayer(store, models)
        data.states = [_state(replayer, sid, versions) for sid in ids]
    if progress is not None:
        progress(total, total)
    return data


def _streams(store: Source, selection: Selection, seen: dict[str, None]) -> list[StreamInfo]:
    """The heads of the streams seen, in id order (one listing when there are many)."""
    if len(seen) >= FETCH_ALL_STREAMS:
        found = [s for s in store.streams(selection.stream_type) if s.stream_id in seen]
    else:
        found = [info for sid in seen if (info := store.stream(sid)) is not None]
    return sorted(found, key=lambda s: s.stream_id)


def _event_lines(store: Source, models: Models, selection: Selection,
                 rows: list[EventRow]) -> list[EventLine]:
    """The listed events, each with the currency of its amounts (see ``_currency``)."""
    streams = {row[1]: row[2] for row in rows}
    if len(streams) >= FETCH_ALL_STREAMS:
        models.read_origins(selection.stream_type)
    created = {row[1]: row[6] for row in rows if row[4] == "OrderCreated"}
    money = {sid: _currency(store, models, sid, stype, created.get(sid))
             for sid, stype in streams.items()}
    lines = []
    for pos, sid, stype, version, type_, at, payload, meta, digest in rows:
        if '"_type_"' in payload:  # typed values (a foreign store's): value (Type)
            payload = json.dumps(shown(json.loads(payload)), ensure_ascii=False)
        lines.append(EventLine(pos, sid, stype, version, type_, iso_from_us(at), _actor(meta),
                               payload, digest, money[sid]))
    return lines


def _currency(store: Source, models: Models, sid: str, stype: str,
              created: str | None) -> str | None:
    """The currency of a stream's amounts: an order's (from its creation, ``created`` if
    listed, else read), ``""`` for a product, None when no built-in model folds it."""
    if not models.choose(sid, stype).name.startswith("builtin:"):
        return None
    if stype != ORDER:
        return ""
    payload = json.loads(created) if created is not None else next(
        (p for _, t, p in store.read_payloads(sid, 1, 1) if t == "OrderCreated"), None)
    currency = payload.get("currency") if isinstance(payload, dict) else None
    return currency if isinstance(currency, str) else ""


def _seal_shown(store: Source, seal: Seal, cancelled: Callable[[], bool] | None,
                progress: Progress | None) -> SealShown:
    import base64

    from .witness.against import check_against_seal
    check = check_against_seal(store, seal, progress=progress, cancelled=cancelled)

    def b64(raw: bytes | None) -> str | None:
        return None if raw is None else base64.b64encode(raw).decode("ascii")

    return SealShown(seal.where, seal.source.kind, seal.source.target, seal.sealed_at,
                     seal.size, seal.root.hex(), seal.signer, b64(seal.public_key),
                     b64(seal.signature), check)


def _actor(meta_text: str) -> str:
    try:
        value = json.loads(meta_text).get("actor")
    except (ValueError, AttributeError):
        return ""
    return "" if value is None else str(value)


def _state(replayer: Replayer, sid: str, versions: tuple[int, int] | None) -> StreamState:
    head = replayer.replay(sid)
    currency = _state_currency(head.model, head.stream_type, head.state)
    if versions is None:
        return StreamState(sid, head.stream_type, None, None, head.version, head.state, [],
                           caveat=head.caveat, model=head.model, currency=currency)
    a, b = versions
    note = ""
    if b > head.version:
        note = (f"the stream ends at version {head.version}: shown at "
                f"{min(a, head.version)} and {head.version}, not {a} and {b}")
    a, b = min(a, head.version), min(b, head.version)
    state_a = replayer.replay(sid, a).state
    state_b = replayer.replay(sid, b).state
    return StreamState(sid, head.stream_type, a, state_a, b, state_b,
                       diff_states(state_a, state_b), note, head.caveat, head.model, currency)


def _state_currency(model: str, stream_type: str, state: dict[str, Any] | None) -> str | None:
    if not model.startswith("builtin:"):
        return None
    currency = (state or {}).get("currency", "") if stream_type == ORDER else ""
    return currency if isinstance(currency, str) else ""


def _check_versions_exist(store: Source, ids: list[str], versions: tuple[int, int]) -> None:
    """Refuse versions no selected stream has, before anything is written: a report about
    "1 -> 99" of a 12-event stream would state what nobody can see. Streams of a selection
    that end earlier than others are shown at their last version, each with a note saying
    so next to its own "A -> B"."""
    a, b = versions
    heads = {sid: info.version for sid in ids if (info := store.stream(sid)) is not None}
    if heads and b > max(heads.values()):
        longest = max(heads, key=heads.__getitem__)
        raise InvalidCommand(
            f"--versions {a}:{b}: no selected stream has version {b} "
            f"({longest} has versions 0..{heads[longest]})" if len(heads) > 1 else
            f"--versions {a}:{b}: stream {longest} has versions 0..{heads[longest]}")
