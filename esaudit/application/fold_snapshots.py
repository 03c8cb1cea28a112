"""States kept for the long streams an import brings in, so a replay deep into one is short.

esaudit's own snapshots hold states of its domain folds, which never fold an imported stream;
without kept states, a replay to any version of a 200k-event imported stream would fold from
its first event every time. Right after an import, each long stream it created is folded once
with the model chosen for it then (``Models.choose``: a model file loaded at the time, else the
payloads merged) and that fold's state is kept every ``KEEP_EVERY`` versions under the fold's
name (``StreamModel.fold_key``). A replay continues from one only under the same fold; a model
loaded later folds from the events (and keeps nothing: reads never write).

The states are a cache written in a transaction of their own after the import's: the import is
complete without them, and a state that is not plain JSON (a model's exact decimals) is not
kept at all rather than kept changed.
"""

from __future__ import annotations

from typing import Any

from store.encoding import json_object_text
from store.errors import InvalidEvent
from store.writable import WritableStore

from .models import Models

KEEP_EVERY = 1_000
"""Versions between kept states: a replay then folds at most this many events."""
LONG_STREAM = 10_000
"""Streams shorter than this replay from their first event in a few tens of milliseconds."""


def keep_fold_snapshots(store: WritableStore, models: Models, first_position: int,
                        last_position: int) -> int:
    """Fold each long stream whose head lies in the positions an import wrote and keep its
    states; returns how many states were kept."""
    kept = 0
    for stream_id, stream_type in store.long_streams(first_position, last_position,
                                                     LONG_STREAM):
        choice = models.choose(stream_id, stream_type)
        key = choice.fold.fold_key
        if key is None or choice.code is not None or choice.own_snapshots:
            continue
        states = _states(store, stream_id, choice.fold.fold)
        kept += store.save_fold_snapshots(stream_id, key, states)
    return kept


def _states(store: WritableStore, stream_id: str, fold: Any) -> list[tuple[int, dict[str, Any]]]:
    """The fold's state after every ``KEEP_EVERY`` events, up to the first that is not plain
    JSON (a state is kept exactly or not at all)."""
    info = store.stream(stream_id)
    if info is None:
        return []
    states: list[tuple[int, dict[str, Any]]] = []
    state: dict[str, Any] | None = None
    for start in range(info.first_version, info.version + 1, KEEP_EVERY):
        events = store.read_payloads(stream_id, start, start + KEEP_EVERY - 1)
        state = fold(events, state)
        if state is None or not events:
            break
        try:
            json_object_text(state, "state")
        except InvalidEvent:
            break
        states.append((events[-1][0], state))
    return states
