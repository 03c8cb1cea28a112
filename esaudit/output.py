"""Rendering for the command line: aligned tables for people, stable JSON for programs."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TextIO

from store.hashing import iso_from_instant as iso

from .application.investigate.events import event_as_json
from .application.values import shown, typed_value

shown_payload = shown
event_json = event_as_json
"""An event for ``--json`` (the shape ``events``, ``search`` and ``tail`` print)."""


def json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Decimal):  # a model's exact arithmetic: kept exact, with its type
        return {"_type_": "decimal_str", "_data_": str(value)}
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def print_json(value: Any, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    out.write(json.dumps(value, indent=2, ensure_ascii=False, default=json_default) + "\n")


def plain(value: Any, none: str = "-") -> str:
    """A value as one line of text for tables and reports: objects and lists as JSON."""
    if value is None:
        return none
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=json_default)
    return str(value)


def cell(value: Any, width: int = 60) -> str:
    kind = type(value)
    if kind is str and len(value) <= width:  # most cells: ids, types, names
        return value  # type: ignore[no-any-return]
    if kind is int:
        return str(value)
    if value is None:
        return "-"
    if isinstance(value, datetime):  # seconds, in UTC: C-level formatting, 20k rows a table
        return value.astimezone(UTC).isoformat(" ", "seconds")[:19]
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=json_default)
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def utc_seconds(us: int) -> str:
    """Microseconds since the epoch as ``YYYY-MM-DD HH:MM:SS`` UTC (what ``cell`` writes for
    a datetime), for tables built from integer times."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(us // 1_000_000))


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]],
                out: TextIO | None = None, right: Iterable[int] = ()) -> None:
    out = out or sys.stdout
    text_rows = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in text_rows]) for i, h in enumerate(headers)]
    right = set(right)
    # One format for every line (a table may have 100k of them): each column padded to its
    # width, right-aligned columns to the right; the last column is not padded at all.
    last = len(headers) - 1
    spec = "  ".join("{}" if i == last and i not in right else
                     f"{{:{'>' if i in right else '<'}{w}}}" for i, w in enumerate(widths))

    def line(values: Sequence[str]) -> str:
        return spec.format(*values).rstrip()

    out.write(line(headers) + "\n")
    out.write(line(["-" * w for w in widths]) + "\n")
    for row in text_rows:
        out.write(line(row) + "\n")


def flatten(state: Mapping[str, Any] | None, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested state as (path, value) pairs for a two-column table (a typed value is one
    leaf, shown with its type)."""
    if not state:
        return [(prefix, state)] if prefix else []
    pairs: list[tuple[str, Any]] = []
    for key in sorted(state):
        path = f"{prefix}.{key}" if prefix else str(key)
        value = state[key]
        if isinstance(value, Mapping) and value and typed_value(value) is None:
            pairs.extend(flatten(value, path))
        else:
            pairs.append((path, shown(value)))
    return pairs


def provenance_text(provenance: Mapping[str, Any]) -> str:
    """Where in the source an event is, on one line: its topic or type and its row."""
    return " ".join(f"{k}={v}" for k, v in provenance.items() if k != "timestamp")
