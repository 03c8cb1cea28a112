"""What a file given to ``verify --against`` holds, told apart by content: a seal (its
``format``) or an earlier report's stream heads. The CLI and the app read it the same way."""

from __future__ import annotations

import json
from pathlib import Path

from store.hashing import decode_json, fast_loads

from ..verify import heads_from_report
from . import seal_file
from .seal_file import Seal

Heads = dict[str, tuple[int, str]]


def load_against(path: str | Path) -> tuple[Heads | None, Seal | None]:
    """``(heads, None)`` for a report, ``(None, seal)`` for a seal (ValueError, one line,
    for anything else: a missing file, not JSON, a damaged seal, a bad signature)."""
    try:
        raw = Path(path).read_bytes()
        layout = seal_file.split_layout(raw)
        data = loads_seal(raw) if layout is None else None
    except OSError as e:
        raise ValueError(f"cannot read {path}: {e.strerror}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not a JSON report or seal: {e}") from None
    if layout is not None:
        return None, seal_file.parse_layout(*layout, str(path))
    if seal_file.is_seal(data):
        return None, seal_file.parse(data, str(path))
    try:
        return heads_from_report(decode_json(raw)), None
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def loads_seal(raw: bytes | str) -> object:
    """JSON as orjson reads it, unless it refuses: a seal holds no integer beyond 64 bits
    (its fields are type-checked), and its hex hashes often hold the 19-digit runs that
    send ``decode_json`` to the standard library's slower decoder."""
    try:
        return fast_loads(raw)
    except ValueError:
        return json.loads(raw)
