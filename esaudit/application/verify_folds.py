"""Verify's check of fold snapshots: each kept state against the events replayed to its version
under the very fold that kept it.

A fold snapshot is named by its fold (``StreamModel.fold_key``): the payloads merged can always
be replayed, a model file's only when that exact file is loaded. Snapshots of a fold that is not
at hand are counted and named as not checked, never passed as clean. Each stream's snapshots
are checked in one pass over its events, folding forward from one kept version to the next.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from itertools import groupby
from typing import Any

from store import Source
from store.records import FoldSnapshot

from ..domain.folds import ReplayError
from ..domain.rules import StreamModel
from ..wording import counted
from .models import MERGED
from .verify import VerificationFinding


def check_fold_snapshots(store: Source, model_files: Sequence[StreamModel],
                         only: Collection[str] | None,
                         snapshots: Iterable[FoldSnapshot] | None = None,
                         ) -> tuple[list[VerificationFinding], list[str]]:
    """(findings, what was not checked) over every fold snapshot of the store (or of the
    streams in ``only``; ``snapshots``: the store's, already being read)."""
    folds: dict[str, StreamModel] = {}
    for model in [MERGED, *model_files]:
        if model.fold_key is not None:
            folds.setdefault(model.fold_key, model)
    findings: list[VerificationFinding] = []
    unchecked: set[str] = set()
    every = store.iter_fold_snapshots() if snapshots is None else snapshots
    kept = (s for s in every if only is None or s.stream_id in only)
    for (stream_id, key), group in groupby(kept, key=lambda s: (s.stream_id, s.fold)):
        fold = folds.get(key)
        if fold is None:
            unchecked.add(stream_id)
            continue
        findings.extend(_check_stream(store, stream_id, fold, group))
    not_checked = []
    if unchecked:
        not_checked.append(f"snapshots: the states kept for {counted(len(unchecked), 'stream')}"
                           " under a model file that is not loaded; give that file with "
                           "--model to check them")
    return findings, not_checked


def _check_stream(store: Source, stream_id: str, fold: StreamModel,
                  snapshots: Iterable[FoldSnapshot]) -> Iterator[VerificationFinding]:
    info = store.stream(stream_id)
    done = info.first_version - 1 if info is not None else 0
    state: dict[str, Any] | None = None
    for snap in snapshots:
        if info is None or not info.first_version <= snap.version <= info.version:
            yield VerificationFinding(
                "snapshot_unverifiable", stream_id, snap.version, None,
                f"a state kept under {snap.fold} names a version the stream does not have")
            continue
        try:
            state = fold.fold(store.read_payloads(stream_id, done + 1, snap.version), state)
        except (ReplayError, ValueError, LookupError) as e:
            yield VerificationFinding("snapshot_unverifiable", stream_id, snap.version, None,
                                      str(e))
            return
        done = snap.version
        if state != snap.state:
            yield VerificationFinding(
                "snapshot_mismatch", stream_id, snap.version, None,
                f"the state kept under {snap.fold} differs from the events replayed to its "
                "version")
