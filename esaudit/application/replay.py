"""Replay: the state of a stream at a version or an instant, with or without snapshots."""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from store import Source
from store.hashing import iso_from_instant as iso
from store.records import Snapshot

from ..domain.errors import InvalidCommand, UnknownStream
from .models import ModelChoice, Models


@dataclass(frozen=True, slots=True)
class Replayed:
    stream_id: str
    stream_type: str
    version: int
    state: dict[str, Any] | None
    snapshot_version: int | None  # the snapshot the replay started from, if any
    note: str = ""
    """What the answer means when it is not a state, e.g. an instant before the stream."""
    model: str = "none"
    """Which fold produced the state: ``builtin:Order``/``builtin:Product`` (esaudit's own
    domain, for streams its commands wrote), ``file:<path>`` (a model file),
    ``classes:<module>`` (the system's own aggregate classes), or ``none``: the events'
    payload fields merged, not the aggregate's state."""
    why_none: str = ""
    """Why no model folds the stream (``model`` none), e.g. an imported ``Order`` stream."""

    @property
    def caveat(self) -> str:
        """What a reader must know before trusting the state (empty for a known model)."""
        if self.model != "none" or self.state is None:
            return ""
        why = self.why_none or f"no model for {self.stream_type}"
        return f"{why}: the events' payload fields merged are shown, not the aggregate's state"

    def as_json(self) -> dict[str, Any]:
        """``{stream_id, version, state, model}``, plus ``note`` when the replay has one."""
        data: dict[str, Any] = {"stream_id": self.stream_id, "version": self.version,
                                "state": self.state, "model": self.model}
        if self.note:
            data["note"] = self.note
        return data


MEMO_EVERY = 1_000  # a long fold remembers its state every this many events
MEMO_STREAMS = 8  # streams whose remembered states are kept
QUICK_FOLD = 5_000  # events an interactive caller folds at once (~15 ms); more go to a worker


class Replayer:
    """States of streams at versions; a long fold leaves states behind in memory.

    Snapshots make replays short for streams written through commands, but an imported
    history has none: replaying its 200k-event stream once remembers the state every
    MEMO_EVERY events, so the next version asked for (a slider moving) folds at most that
    many. Versions are immutable, so a remembered state never goes stale. States handed out
    are shared: callers read them, never change them (folds copy before they mutate).
    """

    def __init__(self, store: Source, models: Models | None = None) -> None:
        self.store = store
        self.models = models if models is not None else Models(store)
        self._models_seen = self.models.changed
        self._memo: OrderedDict[str, tuple[list[int], list[dict[str, Any] | None]]] = \
            OrderedDict()
        self._lock = threading.Lock()  # the app replays on the GUI thread and on workers
        self._long_fold = threading.Lock()

    def replay(self, stream_id: str, version: int | None = None, *, at: datetime | None = None,
               use_snapshots: bool = True) -> Replayed:
        """Replay to ``version`` (default: the head) or to the last event at or before ``at``."""
        replayed = self._replay(stream_id, version, at, use_snapshots, None)
        assert replayed is not None
        info = self.store.stream(stream_id)
        if at is not None and info is not None and replayed.version < info.first_version:
            first = f": its first event was recorded at {iso(info.first_at)}"
            return replace(replayed, state=None,
                           note=f"the stream did not exist yet at {iso(at)}{first}")
        return replayed

    def replay_within(self, stream_id: str, version: int | None, most: int) -> Replayed | None:
        """The replay if it folds at most ``most`` events from the nearest snapshot or
        remembered state, else None without reading them: an interactive caller replays at
        once when it is quick and hands the long ones to a worker, deciding on one look."""
        return self._replay(stream_id, version, None, True, most)

    def _replay(self, stream_id: str, version: int | None, at: datetime | None,
                use_snapshots: bool, most: int | None) -> Replayed | None:
        info = self.store.stream(stream_id)
        if info is None:
            raise UnknownStream(f"no stream {stream_id!r} in the store")
        if version is not None and at is not None:
            raise InvalidCommand("give a version or an instant, not both")
        empty = info.first_version - 1  # the version "before the first event"
        target = info.version if version is None else version
        if not empty <= target <= info.version:
            raise InvalidCommand(f"stream {stream_id} has versions {info.first_version}.."
                                 f"{info.version}, not {version}")
        if at is not None:
            target = self._version_at(info.version, stream_id, at)
        self._forget_if_models_changed()
        found = self.models.choose(stream_id, info.stream_type) if most is None \
            else self.models.choose_now(stream_id, info.stream_type)
        if found is None:
            return None  # only the system's code can say, and it must not be waited for here
        choice = found
        done = partial(Replayed, stream_id, info.stream_type, target, model=choice.name,
                       why_none=choice.why_none)
        if choice.code is not None:
            if most is not None:
                return None  # the system's code runs in a child process: never on a caller
            # that must answer at once
            state = choice.code.replay(self.store, stream_id, target) if target > empty \
                else None
            return done(state, None)
        step = choice.fold.fold
        if not use_snapshots:
            events = self.store.read_payloads(stream_id, info.first_version, target) \
                if target > empty else []
            return done(step(events), None)
        # A snapshot continues only under the fold that wrote it: esaudit's domain its own
        # snapshots, any other named fold its fold snapshots (a foreign store's snapshots are
        # checked, not used). Remembered states are the chosen model's own, forgotten when the
        # models change.
        start, state, snap_version = self._start(stream_id, target, choice, empty)
        if most is not None and target - start > most:
            return None
        if target - start < MEMO_EVERY:
            events = self.store.read_payloads(stream_id, start + 1, target) \
                if target > start else []
            return done(step(events, state), snap_version)
        with self._long_fold:  # a second caller waiting here then folds from the first's states
            start, state, snap_version = self._start(stream_id, target, choice, empty)
            events = self.store.read_payloads(stream_id, start + 1, target) \
                if target > start else []
            for k in range(0, len(events), MEMO_EVERY):
                chunk = events[k:k + MEMO_EVERY]
                state = step(chunk, state)
                self._remember(stream_id, chunk[-1][0], state)
        return done(state, snap_version)

    def _snapshot(self, stream_id: str, target: int, choice: ModelChoice) -> Snapshot | None:
        """The nearest kept state at or below ``target`` that the chosen fold may continue."""
        if self.store.identity.kind != "esaudit" or choice.code is not None:
            return None
        if choice.own_snapshots:
            return self.store.load_snapshot(stream_id, target)
        key = choice.fold.fold_key
        return None if key is None else self.store.load_fold_snapshot(stream_id, key, target)

    def _forget_if_models_changed(self) -> None:
        if self._models_seen != self.models.changed:
            with self._lock:
                self._memo.clear()
                self._models_seen = self.models.changed

    def model_of(self, stream_id: str, stream_type: str) -> str:
        """The model a stream replays with (see ``Models.choose``)."""
        return self.models.choose(stream_id, stream_type).name

    def events_to_fold(self, stream_id: str, version: int | None = None) -> int:
        """How many events a replay to ``version`` (default: the head) would fold from the
        nearest snapshot or remembered state (what a "replaying…" message tells)."""
        info = self.store.stream(stream_id)
        if info is None:
            return 0
        empty = info.first_version - 1
        target = info.version if version is None else min(max(version, empty), info.version)
        choice = self.models.choose_now(stream_id, info.stream_type)
        if choice is None or choice.code is not None:
            return target - empty
        return target - self._start(stream_id, target, choice, empty)[0]

    def _start(self, stream_id: str, target: int, choice: ModelChoice, empty: int,
               ) -> tuple[int, dict[str, Any] | None, int | None]:
        """(version, state, snapshot version) to fold from: the nearest snapshot the chosen
        fold may continue, or remembered state, at or below ``target``."""
        if target <= empty:
            return empty, None, None
        snap = self._snapshot(stream_id, target, choice)
        start, state, snap_version = (snap.version, snap.state, snap.version) if snap \
            else (empty, None, None)
        remembered = self._recall(stream_id, target)
        if remembered is not None and remembered[0] > start:
            return remembered[0], remembered[1], None
        return start, state, snap_version

    def _recall(self, stream_id: str, version: int) -> tuple[int, dict[str, Any] | None] | None:
        with self._lock:
            memo = self._memo.get(stream_id)
            if memo is None:
                return None
            self._memo.move_to_end(stream_id)
            versions, states = memo
            i = bisect.bisect_right(versions, version) - 1
            return (versions[i], states[i]) if i >= 0 else None

    def _remember(self, stream_id: str, version: int, state: dict[str, Any] | None) -> None:
        with self._lock:
            versions, states = self._memo.setdefault(stream_id, ([], []))
            self._memo.move_to_end(stream_id)
            i = bisect.bisect_left(versions, version)
            if i == len(versions) or versions[i] != version:
                versions.insert(i, version)
                states.insert(i, state)
            while len(self._memo) > MEMO_STREAMS:
                self._memo.popitem(last=False)

    def version_at(self, stream_id: str, at: datetime) -> int:
        """The last version of the unbroken prefix of events recorded at or before ``at``:
        the version before the first one recorded later (versions are contiguous)."""
        info = self.store.stream(stream_id)
        return 0 if info is None else self._version_at(info.version, stream_id, at)

    def _version_at(self, head: int, stream_id: str, at: datetime) -> int:
        later = self.store.first_version_after(stream_id, at)
        return head if later is None else later - 1
