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
from array import array
from collections.abc import Iterator
from typing import Any, NamedTuple

from store import Source, open_store
from store.two_process import SecondProcess

from ..verify_leaves import LeafColumns, LeafEvent
from .leaves import RUN, canonical_runs
from .merkle import root_of

PARALLEL_FROM = 300_000
"""Stores with at least this many positions are hashed in two halves (as verify splits)."""

_ENTRY = "esaudit.application.witness.walk:hash_second_half"
_BLOCKS_ENTRY = "esaudit.application.witness.walk:seal_second_half"


class LeafBlock(NamedTuple):
    """A stretch of leaves in position order as sealing takes it: the root of each of its
    runs, and its events' columns. Without ``codes``, ``names`` is each event's stream id;
    with them, ``names`` is the stretch's stream ids in the order first met and ``codes``
    each event's index into it (what crosses from the second process: the distinct ids, a
    tenth of the events at 10M, not one per event)."""

    roots: list[bytes]
    positions: array[int]
    names: list[str]
    codes: array[int] | None
    versions: array[int]
    leaves: bytes


def _split_point(total: int) -> int | None:
    """Where the second process takes over, or None to walk alone (it needs ~0.45 s to
    start, so it gets that much less than half). On a run boundary: in a store whose
    positions count from 1 without a gap, the second process's runs are the seal's runs."""
    if total < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        return None
    return (total + 100_000) // 2 // RUN * RUN


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


def _run_block(run: list[LeafEvent]) -> LeafBlock:
    hashes = [e[3] for e in run]
    return LeafBlock([root_of(hashes)], array("q", [e[0] for e in run]), [e[1] for e in run],
                     None, array("q", [e[2] for e in run]), b"".join(hashes))


def _block_half(source: Source, after: int, to: int, size: int) -> tuple[Any, ...]:
    """Positions ``after+1..to`` hashed, each run's root taken, in types marshal carries."""
    roots: list[bytes] = []
    positions, codes, versions, leaves = array("q"), array("I"), array("q"), bytearray()
    first_met: dict[str, int] = {}
    for run in _hashed(source, after, to, size):
        hashes = [e[3] for e in run]
        roots.append(root_of(hashes))
        positions.extend([e[0] for e in run])
        codes.extend([first_met.setdefault(e[1], len(first_met)) for e in run])
        versions.extend([e[2] for e in run])
        leaves += b"".join(hashes)
    return (roots, positions.tobytes(), list(first_met), codes.tobytes(), versions.tobytes(),
            bytes(leaves))


def seal_second_half(job: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """The second process's work when sealing: the later positions, their runs' roots too."""
    path, after, to, size = job
    with open_store(path, read_only=True) as store:
        yield _block_half(store, after, to, size)


def leaf_blocks(source: Source, *, to_position: int, size: int = RUN,
                ) -> Iterator[LeafBlock]:
    """Every event up to ``to_position`` with its leaf, each root over a run of ``size``
    (the last one shorter): what a seal is built from.

    The second process takes the roots of its own runs as well, so that the first has only
    its half's to take; they stand where the first half ends on a run boundary, and are
    taken again here from the leaves where it does not (a store with a gap in its
    positions)."""
    path = source.sqlite_path if source.identity.kind == "esaudit" else None
    split = None if path is None else _split_point(to_position)
    if split is None:
        for run in _hashed(source, 0, to_position, size):
            yield _run_block(run)
        return
    worker = SecondProcess.start(_BLOCKS_ENTRY, (str(path), split, to_position, size))
    try:
        carry: list[LeafEvent] = []
        for run in _first_half(source, split, size, carry):
            yield _run_block(run)
        later = worker.result(here=lambda: _block_half(source, split, to_position, size))
    finally:
        worker.stop()
    roots, positions, names, codes, versions, leaves = later
    block = LeafBlock(roots, _column("q", positions), names, _column("I", codes),
                      _column("q", versions), leaves)
    yield block if not carry else _carried(carry, block, size)


def _first_half(source: Source, split: int, size: int, carry: list[LeafEvent],
                ) -> Iterator[list[LeafEvent]]:
    """The first half's whole runs; its last one, if short, goes into ``carry`` instead: it
    goes on in the second half."""
    for run in _hashed(source, 0, split, size):
        if len(run) < size:
            carry.extend(run)
        else:
            yield run


def _column(code: str, data: bytes) -> array[int]:
    column = array(code)
    column.frombytes(data)
    return column


def _carried(carry: list[LeafEvent], block: LeafBlock, size: int) -> LeafBlock:
    """The first half's short last run and the second half as one stretch, its runs cut and
    their roots taken again."""
    assert block.codes is not None
    leaves = b"".join(e[3] for e in carry) + block.leaves
    count = len(carry) + len(block.positions)
    roots = [root_of([leaves[k:k + 32] for k in range(32 * lo, 32 * min(lo + size, count), 32)])
             for lo in range(0, count, size)]
    names = [e[1] for e in carry] + [block.names[c] for c in block.codes]
    return LeafBlock(roots, array("q", [e[0] for e in carry]) + block.positions, names, None,
                     array("q", [e[2] for e in carry]) + block.versions, leaves)


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
        yield from _first_half(source, split, size, carry)
        columns = LeafColumns()
        columns.extend(worker.result(here=lambda: _half(source, split, to_position)))
    finally:
        worker.stop()
    later = carry + columns.events(0, len(columns))
    for lo in range(0, len(later), size):
        yield later[lo:lo + size]
