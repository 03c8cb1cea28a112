"""Small histories written as JSONL and imported, the way a user brings another system's
history into esaudit's store (so their streams are of ``imported`` origin)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from esaudit.application.transfer import import_history
from esaudit.bootstrap import bootstrap

Rows = Sequence[tuple[str, Mapping[str, Any]]]


def write_history(path: Path, stream_id: str, stream_type: str, rows: Rows,
                  month: int = 1) -> Path:
    """One stream's events (type, payload), version n recorded on day n of ``month``."""
    lines = [json.dumps({"stream_id": stream_id, "stream_type": stream_type, "version": v,
                         "type": t, "recorded_at": f"2026-{month:02d}-{v:02d}T10:00:00Z",
                         "payload": p, "metadata": {}}) for v, (t, p) in enumerate(rows, 1)]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def imported_store(path: Path, history: Path) -> str:
    """A new esaudit store at ``path`` holding ``history``, imported."""
    svc = bootstrap(str(path))
    try:
        import_history(svc.writing("import").store, history)
    finally:
        svc.close()
    return str(path)


ORDER_PLACED: Rows = [
    ("OrderCreated", {"order_id": "o-1", "customer": "Ivy", "currency": "EUR"}),
    ("LineAdded", {"sku": "A", "qty": 1, "unit_price_cents": 500}),
    ("OrderPlaced", {})]
"""An order ``o-1`` another shop wrote, placed and awaiting payment."""
