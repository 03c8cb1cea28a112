"""Which fold replays which stream type; unknown (imported) types use a generic deep merge."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import order, product
from .errors import DomainError
from .events import ORDER, PRODUCT

State = dict[str, Any]
Fold = Callable[[State | None, str, Mapping[str, Any]], State]


class ReplayError(DomainError):
    """A stored event cannot be folded (a field its type needs is missing or wrong)."""


def deep_merge(state: State | None, _type: str, payload: Mapping[str, Any]) -> State:
    """Generic fold: nested objects merge key by key, everything else is replaced."""
    merged = dict(state) if state else {}
    for key, value in payload.items():
        old = merged.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            merged[key] = deep_merge(dict(old), _type, value)
        else:
            merged[key] = value
    return merged


_NEVER_MAPPINGS = frozenset({str, int, float, bool, list, type(None)})


def merge_all(events: Iterable[tuple[int, str, Mapping[str, Any]]],
              state: State | None = None) -> State | None:
    """``deep_merge`` over many events: the same state, with the top level copied once and
    then merged in place (nested objects are still merged into copies, so neither ``state``
    nor a payload is ever changed). The isinstance check against ``Mapping`` runs only for
    values that may be one, since it costs more than the rest of a step."""
    merged = dict(state) if state is not None else None
    for _version, type_, payload in events:
        if merged is None:
            merged = {}
        for key, value in payload.items():
            old = merged.get(key)
            if type(old) not in _NEVER_MAPPINGS and isinstance(value, Mapping) \
                    and isinstance(old, Mapping):
                merged[key] = deep_merge(dict(old), type_, value)
            else:
                merged[key] = value
    return merged


FOLDS: dict[str, Fold] = {ORDER: order.evolve, PRODUCT: product.evolve}
# In-place steps and the copy that makes a state safe to change, for ``fold``'s own state.
_IN_PLACE: dict[str, tuple[Fold, Callable[[State], State]]] = {
    ORDER: (order.apply, order.own), PRODUCT: (product.evolve, dict)}


def fold_for(stream_type: str) -> Fold:
    return FOLDS.get(stream_type, deep_merge)


def fold(stream_type: str, events: Iterable[tuple[int, str, Mapping[str, Any]]],
         state: State | None = None) -> State | None:
    """Fold (version, type, payload) triples onto a state; names the first event that fails."""
    step = fold_for(stream_type)
    fast = _IN_PLACE.get(stream_type)
    if fast is not None:
        step, own = fast
        if state is not None:
            state = own(state)
    for version, type_, payload in events:
        try:
            state = step(state, type_, payload)
        except (KeyError, TypeError, ValueError) as exc:
            raise ReplayError(f"event {version} ({type_}) cannot be replayed: "
                              f"{type(exc).__name__} {exc}") from exc
    return state
