"""Sealing: one walk over every event of a source, in position order, into a seal
(``seal_file`` says what it holds, ``leaves`` what each leaf hashes)."""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from store import Source
from store.gcpause import collector_paused
from store.hashing import iso_from_instant

from ..jobs import CancelCheck, Cancelled, Progress
from . import seal_file
from .keys import fingerprint, raw_public, sign
from .merkle import ChunkedTree
from .seal_file import CHUNK, SealedHead, SealedSource
from .walk import leaf_blocks


@dataclass(frozen=True, slots=True)
class SealWritten:
    """What ``seal`` wrote: the tree's size and root, the streams, who signed."""

    out: Path
    size: int
    root: str
    streams: int
    signer: str | None
    """The signing key's fingerprint, or None for an unsigned seal."""

    @property
    def signed(self) -> bool:
        return self.signer is not None

    def as_json(self) -> dict[str, Any]:
        return {"size": self.size, "root": self.root, "signed": self.signed,
                "out": str(self.out)}


def sealed_source(source: Source) -> SealedSource:
    """How a seal names the source, and how verify recognises it again."""
    return SealedSource(source.identity.kind, source.identity.target, source.label)


def build_seal(source: Source, *, key: Ed25519PrivateKey | None = None,
               now: datetime | None = None, chunk: int = CHUNK,
               progress: Progress | None = None, cancelled: CancelCheck | None = None,
               format: str = seal_file.FORMAT) -> dict[str, Any]:
    """The seal of every event of the source up to its head position now, as a JSON object
    (signed with ``key`` if given; ``chunk``: the run length, a power of two, smaller only
    in tests; ``format``: /2, or /1 to check that seals written before /2 still read)."""
    total = source.head_position()
    chunks: list[bytes] = []
    leaves = bytearray()  # every leaf hash, 32 bytes each: the tags and heads come from it
    streams, versions, positions = array("I"), array("q"), array("q")
    number: dict[str, int] = {}  # stream id -> its index in the heads (first appearance)
    with collector_paused():
        for n, block in enumerate(leaf_blocks(source, to_position=total, size=chunk), 1):
            chunks.extend(block.roots)
            leaves += block.leaves
            if block.codes is None:
                streams.extend([number.setdefault(s, len(number)) for s in block.names])
            else:
                index = [number.setdefault(s, len(number)) for s in block.names]
                streams.extend(map(index.__getitem__, block.codes))
            versions.extend(block.versions)
            positions.extend(block.positions)
            if n % 64 == 0 and positions:
                if cancelled and cancelled():
                    raise Cancelled("sealing was cancelled")
                if progress:
                    progress(positions[-1], total)
    size = len(versions)
    last = dict(zip(streams, range(size), strict=True))  # each stream's last leaf
    heads = [SealedHead(sid, versions[i], i, bytes(leaves[32 * i:32 * i + 32]))
             for sid, k in number.items() for i in (last[k],)]
    document = seal_file.document(
        source=sealed_source(source), sealed_at=iso_from_instant(now or datetime.now(UTC)),
        size=size, root=ChunkedTree(size, chunk, chunks).root(), chunk=chunk, chunks=chunks,
        heads=heads,
        tags=memoryview(leaves).cast("I")[::8].tobytes(), streams=streams, versions=versions,
        positions=positions, format=format)
    if progress:
        progress(total, total)
    if key is None:
        return document
    return seal_file.signed(document, raw_public(key), lambda message: sign(key, message))


def seal(source: Source, out: Path, *, key: Ed25519PrivateKey | None = None,
         progress: Progress | None = None, cancelled: CancelCheck | None = None,
         ) -> SealWritten:
    """Seal the source into the file ``out``."""
    document = build_seal(source, key=key, progress=progress, cancelled=cancelled)
    try:
        seal_file.write(out, document)
    except OSError as e:
        raise ValueError(f"cannot write {out}: {e.strerror}") from None
    return SealWritten(out, document["size"], document["root"], document["streams"],
                       None if key is None else fingerprint(raw_public(key)))
