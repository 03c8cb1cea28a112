"""Field paths as an auditor reads and types them: ``status``, ``lines.SKU-1.qty``,
``items[0].sku``, ``lines["SKU 1"].qty``.

A key made of letters, digits, ``_`` and ``-`` is written after a dot (none before the first);
any other key in brackets as a JSON-style string (``\\`` and ``"`` escaped); a list index in
brackets. ``join`` writes a path (diff, blame), ``parse_path`` reads one back (history,
search): ``parse_path(join(join("", a), b)) == (a, b)`` for every key.
"""

from __future__ import annotations

import re

Key = str | int
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-]+")


class PathError(ValueError):
    """A field path that cannot be read."""


def join(path: str, key: Key) -> str:
    """``path`` extended by one key or index."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = str(key)
    if not _PLAIN_KEY.fullmatch(key):
        return path + '["' + key.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return f"{path}.{key}" if path else key


def parse_path(text: str) -> tuple[Key, ...]:
    """The keys of a written path (PathError naming what is wrong)."""
    keys: list[Key] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "[":
            i = _bracket(text, i, keys)
            continue
        if ch == "." and keys:
            i += 1
        elif keys:
            raise PathError(f"{text!r}: expected '.' or '[' at character {i + 1}")
        match = _PLAIN_KEY.match(text, i)
        if match is None and (i == n or text[i] in ".["):
            raise PathError(f"{text!r}: no key at character {i + 1}")
        if match is None:
            raise PathError(f"{text!r}: a key at character {i + 1} needs quoting, as "
                            f"[\"...\"] (plain keys are letters, digits, _ and -)")
        keys.append(match.group())
        i = match.end()
    if not keys:
        raise PathError("an empty field path")
    return tuple(keys)


def _bracket(text: str, i: int, keys: list[Key]) -> int:
    """Read ``[N]`` or ``["key"]`` at ``i``; the index after it."""
    if text.startswith('["', i):
        j, out = i + 2, []
        while j < len(text) and text[j] != '"':
            if text[j] == "\\" and j + 1 < len(text):
                j += 1
            out.append(text[j])
            j += 1
        if not text.startswith('"]', j):
            raise PathError(f"{text!r}: an unclosed [\"...\"] at character {i + 1}")
        keys.append("".join(out))
        return j + 2
    end = text.find("]", i)
    digits = text[i + 1:end] if end > 0 else ""
    if not digits.isdigit() or not digits.isascii():
        raise PathError(f"{text!r}: [...] at character {i + 1} holds neither a list index "
                        "nor a quoted key")
    keys.append(int(digits))
    return end + 1
