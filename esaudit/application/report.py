"""What a report says, gathered once and then written as HTML, PDF, CSV or JSON.

The content is independent of the output format: the summary of the selection, its events, the
state of each selected stream at the chosen versions and the diff between them, the integrity
result for the streams involved and every stream's head hash (which ``verify --against`` later
checks). Human-readable formats show at most ``SHOWN_EVENTS`` event rows and say so; CSV and
JSON always hold every event.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from store import Source, StreamInfo
from store.hashing import iso_from_us

from ..domain.errors import InvalidCommand
from .diff import Change, diff_states
from .jobs import Cancelled, Progress
from .models import Models
from .replay import Replayer
from .transfer import Selection
from .values import shown
from .verify import VerificationReport, verify

SHOWN_EVENTS = 2000
MAX_STATE_STREAMS = 20


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
    chart_times: list[float] = field(default_factory=list)
    chart_lanes: list[str] = field(default_factory=list)
    chart_kinds: list[str] = field(default_factory=list)

    @property
    def events_shown(self) -> int:
        return len(self.events)

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
            "streams": [{"stream_id": s.stream_id, "stream_type": s.stream_type,
                         "version": s.version, "head_hash": s.head_hash}
                        for s in self.streams],
            "states": [{"stream_id": st.stream_id, "version_a": st.version_a,
                        "state_a": st.state_a, "version_b": st.version_b,
                        "state_b": st.state_b, "changes": [c.as_json() for c in st.changes],
                        "model": st.model, **({"caveat": st.caveat} if st.caveat else {})}
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
                 models: Models | None = None) -> ReportData:
    """Read the selection once (events, chart points, streams), then verify and replay (with
    the models loaded for the store, so the report says what the CLI and the app say)."""
    for sid in selection.stream_ids:
        if store.stream(sid) is None:
            raise InvalidCommand(f"no stream {sid!r} in the store")
    if versions is not None and selection.stream_ids:
        _check_versions_exist(store, list(selection.stream_ids), versions)  # before the read
    data = ReportData(store.label, datetime.now(UTC), selection, versions)
    total = store.head_position() or 1
    seen: dict[str, None] = {}
    for pos, sid, stype, version, type_, at, payload, meta, digest in selection.raw_rows(
            store, cancelled):
        data.events_total += 1
        data.events_by_type[type_] += 1
        seen.setdefault(sid)
        stamp = iso_from_us(at)
        data.first_at = stamp if data.first_at is None else min(data.first_at, stamp)
        data.last_at = stamp if data.last_at is None else max(data.last_at, stamp)
        data.chart_times.append(at / 1e6)
        data.chart_lanes.append(stype)
        data.chart_kinds.append(type_)
        if len(data.events) < SHOWN_EVENTS:
            if '"_type_"' in payload:  # typed values (a foreign store's): value (Type)
                payload = json.dumps(shown(json.loads(payload)), ensure_ascii=False)
            data.events.append(EventLine(pos, sid, stype, version, type_, stamp,
                                         _actor(meta), payload, digest))
        if progress is not None and data.events_total % 5000 == 0:
            progress(pos // 2, total)
    for sid in seen:
        info = store.stream(sid)
        if info is not None:
            data.streams.append(info)
    data.streams.sort(key=lambda s: s.stream_id)
    ids = list(selection.stream_ids) or [s.stream_id for s in data.streams]
    if cancelled is not None and cancelled():
        raise Cancelled("the report was cancelled")
    data.integrity = verify(
        store, stream_ids=ids if selection.stream_ids or len(ids) < 500 else None,
        stream_type=selection.stream_type, cancelled=cancelled,
        code=models.code if models is not None else None,
        progress=(lambda done, tot: progress(tot // 2 + done // 2, tot)) if progress else None)
    if versions is not None and not selection.stream_ids and len(ids) <= MAX_STATE_STREAMS:
        _check_versions_exist(store, ids, versions)
    if len(ids) > MAX_STATE_STREAMS:
        data.states_note = (f"{len(ids)} streams are selected; states and diffs are shown when "
                            f"{MAX_STATE_STREAMS} or fewer are (select streams with --stream)")
    else:
        replayer = Replayer(store, models)
        data.states = [_state(replayer, sid, versions) for sid in ids]
    if progress is not None:
        progress(total, total)
    return data


def _actor(meta_text: str) -> str:
    try:
        value = json.loads(meta_text).get("actor")
    except (ValueError, AttributeError):
        return ""
    return "" if value is None else str(value)


def _state(replayer: Replayer, sid: str, versions: tuple[int, int] | None) -> StreamState:
    head = replayer.replay(sid)
    if versions is None:
        return StreamState(sid, head.stream_type, None, None, head.version, head.state, [],
                           caveat=head.caveat, model=head.model)
    a, b = versions
    note = ""
    if b > head.version:
        note = (f"the stream ends at version {head.version}: shown at "
                f"{min(a, head.version)} and {head.version}, not {a} and {b}")
    a, b = min(a, head.version), min(b, head.version)
    state_a = replayer.replay(sid, a).state
    state_b = replayer.replay(sid, b).state
    return StreamState(sid, head.stream_type, a, state_a, b, state_b,
                       diff_states(state_a, state_b), note, head.caveat, head.model)


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
