"""What a foreign source's adapter hands its base class, and the cut a refresh takes.

A ``Cut`` is the stream list of one refresh; the stream browser's filtering and ordering run
over it in memory (a foreign store has no esaudit index to ask), the same rules as the native
browser's SQL: every word of the filter in the id or the type, any case (a word holding ``*``
or ``?``: a glob over the whole id, any case); the sort key, then the id ascending.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from ..search import glob_regex
from ..stream_browser import SortKey, is_glob


class ForeignEvent(NamedTuple):
    """An event of a foreign store as its adapter decoded it (the stream type comes from the
    stream list, so it is not repeated per event)."""

    position: int
    stream_id: str
    version: int
    type: str
    recorded_at_us: int
    payload: dict[str, Any]
    metadata: dict[str, Any]
    provenance: Mapping[str, Any]


class EventHead(NamedTuple):
    """Where and when an event is, and its type: no payload."""

    position: int
    stream_id: str
    version: int
    type: str
    recorded_at_us: int


class StreamEntry(NamedTuple):
    """One stream of the cut, as the adapter found it."""

    stream_id: str
    stream_type: str
    first_version: int
    version: int
    events: int
    first_at_us: int
    last_at_us: int


class Cut(NamedTuple):
    """One refresh's view of the source: its last position, its event count and its streams
    (by id, the ids sorted, the types sorted)."""

    position: int
    events: int
    streams: dict[str, StreamEntry]
    ids: list[str]
    """Stream ids, sorted."""
    types: list[str]

    def matching(self, text: str | None, stream_type: str | None) -> list[StreamEntry]:
        """The streams the browser's filter keeps (every word in the id or the type, any
        case; every glob over the whole id, any case), in id order."""
        given = (text or "").split()
        words = [w.lower() for w in given if not is_glob(w)]
        globs = [re.compile(glob_regex(w).pattern, re.DOTALL | re.IGNORECASE)
                 for w in given if is_glob(w)]
        found = []
        for sid in self.ids:
            entry = self.streams[sid]
            if stream_type and entry.stream_type != stream_type:
                continue
            if words:
                haystack = f"{entry.stream_id}\n{entry.stream_type}".lower()
                if not all(w in haystack for w in words):
                    continue
            if globs and not all(g.fullmatch(entry.stream_id) for g in globs):
                continue
            found.append(entry)
        return found

    def listed(self, text: str | None, stream_type: str | None, sort: SortKey,
               descending: bool) -> list[StreamEntry]:
        """The filtered streams in the browser's order."""
        return _sorted(self.matching(text, stream_type), sort, descending)


EMPTY_CUT = Cut(0, 0, {}, [], [])


def _sorted(entries: list[StreamEntry], sort: SortKey, descending: bool) -> list[StreamEntry]:
    """The browser's order: the key (ascending or descending), then the id ascending."""
    key = {"stream_type": lambda e: e.stream_type, "version": lambda e: e.version,
           "last_at": lambda e: e.last_at_us}.get(sort)
    if key is None:  # stream_id, and status (a foreign store has no order read model)
        return entries[::-1] if descending else entries
    ordered = sorted(entries, key=lambda e: e.stream_id)
    return sorted(ordered, key=key, reverse=descending)
