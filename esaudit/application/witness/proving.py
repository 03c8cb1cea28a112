"""Prove one event: its inclusion proof in a seal, built from the seal and the 1024 events of
its run (read again from the source and checked against the sealed run hash first, so a proof
is only ever made of what was sealed)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, NamedTuple

from store import Source

from . import proof_check
from .leaves import canonical_events
from .merkle import root_of
from .seal_file import Seal


class NotProvable(Exception):
    """The event cannot be proved from this seal: it changed, moved or is not sealed. The
    message is one line saying which (``verify --against`` names what changed)."""


class ProofWritten(NamedTuple):
    out: Path
    stream_id: str
    version: int
    position: int
    leaf_index: int
    size: int
    path_length: int

    def as_json(self) -> dict[str, Any]:
        return {"out": str(self.out), "stream_id": self.stream_id, "version": self.version,
                "position": self.position, "leaf_index": self.leaf_index, "size": self.size,
                "path_length": self.path_length}


def _leaf_of(source: Source, seal: Seal, stream_id: str, version: int) -> tuple[str, int]:
    """(the stream id as the source spells it, the event's leaf index in the seal)."""
    info = source.stream(stream_id)
    if info is None:
        raise ValueError(f"no stream {stream_id!r} in the store")
    sid = info.stream_id
    events = source.read_stream(sid, version, version) if version <= info.version else []
    if not events:
        raise ValueError(f"{sid} has no version {version} (versions "
                         f"{info.first_version}..{info.version})")
    position = events[0].position
    index = seal.index_of_position(position)
    if index is not None:
        leaf = seal.leaf(index)
        if (leaf.stream_id, leaf.version) == (sid, version):
            return sid, index
    numbers = {k for k, head in enumerate(seal.heads) if head.stream_id == sid}
    sealed_at = next((i for i, (k, v) in enumerate(zip(seal.record.streams,
                                                        seal.record.versions, strict=True))
                      if v == version and k in numbers), None)
    if sealed_at is not None:
        raise NotProvable(f"{sid} version {version} moved since the seal (sealed at position "
                          f"{seal.position(sealed_at)}, now {position}): verify "
                          f"--against {seal.where} names what changed")
    last = seal.last_position
    if position > last:
        raise ValueError(f"{sid} version {version} was appended after the seal ({seal.size} "
                         f"events, up to position {last}): seal again to prove it")
    raise NotProvable(f"{sid} version {version} is not in the seal {seal.where}")


def build_proof(source: Source, seal: Seal, stream_id: str, version: int) -> dict[str, Any]:
    """The proof's JSON object (``proof_check`` documents it)."""
    seal.refuse_other_source(source.identity.kind, source.identity.target)
    sid, index = _leaf_of(source, seal, stream_id, version)
    lo, hi = seal.run_of(index)
    run = list(canonical_events(source, seal.position(lo) - 1,
                                to_position=seal.position(hi - 1)))
    sha = hashlib.sha256
    leaves = [sha(b"\x00" + data).digest() for _p, _s, _v, data in run]
    if len(leaves) != hi - lo or root_of(leaves) != seal.chunks[lo // seal.chunk_size]:
        raise NotProvable(f"the events sealed around {sid} version {version} (leaves "
                          f"{lo}..{hi - 1}) changed since the seal: verify --against "
                          f"{seal.where} names them")
    position, _sid, _version, event = run[index - lo]
    path = seal.tree(leaves, lo).inclusion_path(index)
    return proof_check.document(seal, stream_id=sid, version=version, position=position,
                                leaf_index=index, event=event, path=path)


def prove(source: Source, seal: Seal, stream_id: str, version: int, out: Path,
          ) -> ProofWritten:
    """Write the inclusion proof of one event to ``out``."""
    proof = build_proof(source, seal, stream_id, version)
    proof_check.write(out, proof)
    return ProofWritten(out, proof["stream_id"], version, proof["position"],
                        proof["leaf_index"], seal.size, len(proof["audit_path"]))
