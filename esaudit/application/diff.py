"""Structural diff of two states: what an auditor reads to see what changed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from .values import typed_value

Kind = Literal["added", "removed", "changed"]
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    kind: Kind
    old: Any
    new: Any

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "old": self.old, "new": self.new}


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = str(key)
    if not _PLAIN_KEY.match(key):
        key = '["' + key.replace("\\", "\\\\").replace('"', '\\"') + '"]'
        return f"{path}{key}"
    return f"{path}.{key}" if path else key


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
