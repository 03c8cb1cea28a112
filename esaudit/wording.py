"""Counts as people write them, for every place that says how many (CLI, app, reports)."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None, *, grouped: bool = True) -> str:
    """``1 stream``, ``2 streams``, ``2,114 events`` (``grouped``: thousands separated)."""
    word = noun if n == 1 else (plural or f"{noun}s")
    return f"{n:,} {word}" if grouped else f"{n} {word}"
