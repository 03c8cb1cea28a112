"""What an event's names and JSON objects must be before they are stored, and their stored text.

Names are checked by ``records.name_problem``; payload, metadata and snapshot states are JSON
objects written as canonical JSON (store.hashing), each with the decoder that reads its text
back exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import InvalidEvent
from .hashing import canonical_json_marked, decode_json, fast_loads
from .records import is_unicode_text, name_problem


def checked_name(value: object, what: str) -> str:
    problem = name_problem(value, what)
    if problem:
        raise InvalidEvent(f"{problem}, not {value!r}")
    return value  # type: ignore[return-value]


def json_object_text(value: object, what: str) -> str:
    return json_text(value, what)[0]


def json_text(value: object, what: str) -> tuple[str, Callable[[str], Any]]:
    """The canonical text of a payload or metadata object, and how to read it back exactly."""
    if not value and type(value) is dict:  # most metadata
        return "{}", decode_json
    if not isinstance(value, dict):
        if hasattr(value, "keys"):
            value = dict(value)  # type: ignore[call-overload]
        else:
            raise InvalidEvent(f"{what} must be a JSON object, not {type(value).__name__}")
    try:
        text, by_orjson = canonical_json_marked(value)
    except (TypeError, ValueError) as e:
        raise InvalidEvent(f"{what} is not valid JSON: {e}") from e
    if by_orjson:  # orjson refuses lone surrogates, so its text is always valid UTF-8
        return text, fast_loads
    if not is_unicode_text(text):
        raise InvalidEvent(f"{what} holds a lone surrogate, which JSON text in UTF-8 cannot "
                           "carry")
    return text, decode_json

