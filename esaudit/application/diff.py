"""Structural diff of two states: what an auditor reads to see what changed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import compress
from operator import is_not
from typing import Any, Literal

from .paths import join as _join
from .values import typed_value

Kind = Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    kind: Kind
    old: Any
    new: Any

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "old": self.old, "new": self.new}


def diff_states(old: Any, new: Any, path: str = "") -> list[Change]:
    """Changes from ``old`` to ``new``: objects compared key by key (sorted), lists by index.

    A stream before its first event has no state (None); against a state it reads as empty,
    so every field of the first state shows as added.
    """
    if not path and (old is None) != (new is None) and isinstance(old or new, dict):
        old, new = old or {}, new or {}
    if (isinstance(old, dict) and isinstance(new, dict) and typed_value(old) is None
            and typed_value(new) is None):  # a typed value (10.50 as Decimal) is one leaf
        changes: list[Change] = []
        for key in sorted(set(old) | set(new), key=str):
            sub = _join(path, key)
            if key not in old:
                changes.append(Change(sub, "added", None, new[key]))
            elif key not in new:
                changes.append(Change(sub, "removed", old[key], None))
            else:
                changes.extend(diff_states(old[key], new[key], sub))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        changes = []
        for i in range(max(len(old), len(new))):
            sub = _join(path, i)
            if i >= len(old):
                changes.append(Change(sub, "added", None, new[i]))
            elif i >= len(new):
                changes.append(Change(sub, "removed", old[i], None))
            else:
                changes.extend(diff_states(old[i], new[i], sub))
        return changes
    if old == new and type(old) is type(new):
        return []
    return [Change(path, "changed", old, new)]


def count_by_kind(changes: list[Change]) -> dict[str, int]:
    counts = {"added": 0, "removed": 0, "changed": 0}
    for change in changes:
        counts[change.kind] += 1
    return counts


def _branch(value: Any) -> bool:
    """A value with fields below it: a non-empty object (but a typed value) or list. Every
    other value is a leaf, an empty object or list included."""
    if isinstance(value, dict):
        return bool(value) and not (len(value) == 2 and "_type_" in value
                                    and typed_value(value) is not None)
    return isinstance(value, list) and bool(value)


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of every leaf below ``value``, keys sorted: a state's fields as blame
    lists them (a state that is None or empty has none)."""
    if isinstance(value, dict) and _branch(value):
        for key in sorted(value, key=str):
            yield from leaves(value[key], _join(path, key))
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            yield from leaves(item, _join(path, i))
    elif path:
        yield path, value


_GONE = object()


def _touched(old: dict[Any, Any], new: dict[Any, Any]) -> list[Any]:
    """The keys of ``old`` whose value in ``new`` is not the same object (or is gone).
    A fold's copy keeps the keys in their order, so the common case is compared in C."""
    if len(old) == len(new) and list(old) == list(new):
        return list(compress(old, map(is_not, old.values(), new.values())))
    get = new.get
    return [k for k, v in old.items() if get(k, _GONE) is not v]


def leaf_changes(old: Any, new: Any, path: str = "") -> list[Change]:
    """Changes from ``old`` to ``new`` at leaf paths only: where ``diff_states`` says an
    object was added, this names each field in it. Values that are the same object are
    skipped unread, so diffing consecutive states of a fold (which shares what an event did
    not touch) costs what the event changed, not the size of the state."""
    out: list[Change] = []
    _leaf_changes(old, new, path, out)
    return out


def _leaf_changes(old: Any, new: Any, path: str, out: list[Change]) -> None:
    if old is new:
        return
    if _branch(old) and _branch(new) and type(old) is type(new):
        if isinstance(old, dict):
            touched = _touched(old, new)
            kept = len(old)
            for key in touched:
                sub = _join(path, key)
                if key in new:
                    a, b = old[key], new[key]
                    if isinstance(a, dict | list) or isinstance(b, dict | list):
                        _leaf_changes(a, b, sub, out)
                    elif not (a == b and type(a) is type(b)):  # most changes: one scalar
                        out.append(Change(sub, "changed", a, b))
                else:
                    kept -= 1
                    out.extend(Change(p, "removed", v, None) for p, v in leaves(old[key], sub))
            if len(new) > kept:
                for key in new.keys() - old.keys():
                    out.extend(Change(p, "added", None, v)
                               for p, v in leaves(new[key], _join(path, key)))
        else:
            for i in range(max(len(old), len(new))):
                sub = _join(path, i)
                if i >= len(old):
                    out.extend(Change(p, "added", None, v) for p, v in leaves(new[i], sub))
                elif i >= len(new):
                    out.extend(Change(p, "removed", v, None) for p, v in leaves(old[i], sub))
                elif old[i] is not new[i]:
                    _leaf_changes(old[i], new[i], sub, out)
        return
    if not path:  # the whole state: None before the first event
        old_leaves, new_leaves = dict(leaves(old)), dict(leaves(new))
        for p, v in old_leaves.items():
            if p not in new_leaves:
                out.append(Change(p, "removed", v, None))
        for p, v in new_leaves.items():
            if p not in old_leaves:
                out.append(Change(p, "added", None, v))
            elif not (old_leaves[p] == v and type(old_leaves[p]) is type(v)):
                out.append(Change(p, "changed", old_leaves[p], v))
        return
    if _branch(old) or _branch(new):
        out.extend(Change(p, "removed", v, None) for p, v in leaves(old, path))
        out.extend(Change(p, "added", None, v) for p, v in leaves(new, path))
        return
    if not (old == new and type(old) is type(new)):
        out.append(Change(path, "changed", old, new))
