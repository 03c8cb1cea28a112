"""Payload values as people read them, whatever store they came from.

A store another program wrote may record values JSON has no type for as typed objects (the
eventsourcing transcoder's ``{"_type_": "decimal_str", "_data_": "10.50"}``). Programs get
them as they are (``--json``, exports, reports' data); tables and the app show the value with
its recorded type, ``10.50 (Decimal)``, never a bare string that reads like text.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from store.sources.eventsourcing_state import typed_value

__all__ = ["shown", "shown_leaf", "typed_value"]


def shown_leaf(value: Any) -> Any:
    """A typed object (or a model's exact Decimal) as ``text (Type)``; any other value
    unchanged."""
    if isinstance(value, Decimal):
        return f"{value} (Decimal)"
    typed = typed_value(value)
    return value if typed is None else f"{typed[0]} ({typed[1]})"


def shown(value: Any) -> Any:
    """``value`` with every typed object inside it written as ``text (Type)``."""
    if isinstance(value, Decimal):
        return f"{value} (Decimal)"
    typed = typed_value(value)
    if typed is not None:
        return f"{typed[0]} ({typed[1]})"
    if isinstance(value, Mapping):
        return {k: shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shown(v) for v in value]
    return value
