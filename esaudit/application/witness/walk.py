"""Today's leaves in position order, in runs of 1024: what sealing and verifying against a
seal walk.

On a large SQLite file of esaudit's own the later positions are hashed by a second process
(``store.two_process``) while this one hashes the earlier ones, as verify does: the walk is
spent building each event's canonical bytes (a million ISO instants) and hashing them, and a
second core halves it. The second process hands back its events' positions, stream ids,
versions and leaves in one message; the runs are cut again across the meeting point, so the
answer is the one a single walk gives (tested at every split). A second process that fails
costs time, never an answer: its half is walked here.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

from store import Source, open_store
from store.two_process import SecondProcess

from ..verify_leaves import LeafColumns, LeafEvent
from .leaves import RUN, canonical_runs

PARALLEL_FROM = 300_000
"""Stores with at least this many positions are hashed in two halves (as verify splits)."""

_ENTRY = "esaudit.application.witness.walk:hash_second_half"


def _split_point(total: int) -> int | None:
    """Where the second process takes over, or None to walk alone (it needs ~0.45 s to
    start, so it gets that much less than half)."""
    if total < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        return None
    return (total + 100_000) // 2


def _hashed(source: Source, after: int, to: int, size: int) -> Iterator[list[LeafEvent]]:
    sha = hashlib.sha256
    for run in canonical_runs(source, after, to_position=to, size=size):
        yield [(p, sid, v, sha(b"\x00" + data).digest()) for p, sid, v, data in run]


def _half(source: Source, after: int, to: int) -> tuple[Any, ...]:
    """Positions ``after+1..to`` as one message (``LeafColumns.state``)."""
    columns = LeafColumns()
    for run in _hashed(source, after, to, RUN):
        columns.positions.extend([e[0] for e in run])
        columns.stream_ids.extend([e[1] for e in run])
        columns.versions.extend([e[2] for e in run])
        columns.leaves += b"".join([e[3] for e in run])
    return columns.state()


def hash_second_half(job: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """The second process's work: the later positions of a SQLite file, read-only."""
    path, after, to = job
    with open_store(path, read_only=True) as store:
        yield _half(store, after, to)


def leaf_runs(source: Source, *, to_position: int, size: int = RUN,
              ) -> Iterator[list[LeafEvent]]:
    """Every event up to ``to_position`` with its leaf, in runs of ``size`` (the last one
    shorter)."""
    path = source.sqlite_path if source.identity.kind == "esaudit" else None
    split = None if path is None else _split_point(to_position)
    if split is None:
        yield from _hashed(source, 0, to_position, size)
        return
    worker = SecondProcess.start(_ENTRY, (str(path), split, to_position))
    try:
        carry: list[LeafEvent] = []
        for run in _hashed(source, 0, split, size):
            if len(run) < size:
                carry = run  # the first half's last run: it goes on in the second half
            else:
                yield run
        columns = LeafColumns()
        columns.extend(worker.result(here=lambda: _half(source, split, to_position)))
    finally:
        worker.stop()
    later = carry + columns.events(0, len(columns))
    for lo in range(0, len(later), size):
        yield later[lo:lo + size]
