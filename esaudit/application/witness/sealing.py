"""Sealing: one walk over every event of a source, in position order, into a seal
(``seal_file`` says what it holds, ``leaves`` what each leaf hashes)."""

from __future__ import annotations

import hashlib
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
from .leaves import canonical_events
from .merkle import ChunkedTree, root_of
from .seal_file import CHUNK, TAG_SIZE, SealedHead, SealedSource


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
               now: datetime | None = None, progress: Progress | None = None,
               cancelled: CancelCheck | None = None) -> dict[str, Any]:
    """The seal of every event of the source up to its head position now, as a JSON object
    (signed with ``key`` if given)."""
    total = source.head_position()
    sha = hashlib.sha256
    chunks: list[bytes] = []
    run: list[bytes] = []
    tags = bytearray()
    streams, versions, steps = array("I"), array("q"), array("q")
    number: dict[str, int] = {}
    heads: list[list[Any]] = []  # [stream_id, version, leaf index, leaf]
    last = 0
    i = -1
    with collector_paused():
        for i, (position, sid, version, data) in enumerate(canonical_events(
                source, to_position=total)):
            leaf = sha(b"\x00" + data).digest()
            tags += leaf[:TAG_SIZE]
            k = number.get(sid)
            if k is None:
                k = number[sid] = len(heads)
                heads.append([sid, version, i, leaf])
            else:
                head = heads[k]
                head[1], head[2], head[3] = version, i, leaf
            streams.append(k)
            versions.append(version)
            steps.append(position - last)
            last = position
            run.append(leaf)
            if len(run) == CHUNK:
                chunks.append(root_of(run))
                run = []
                if i % (64 * CHUNK) == CHUNK - 1:
                    if cancelled and cancelled():
                        raise Cancelled("sealing was cancelled")
                    if progress:
                        progress(position, total)
    if run:
        chunks.append(root_of(run))
    size = i + 1
    document = seal_file.document(
        source=sealed_source(source), sealed_at=iso_from_instant(now or datetime.now(UTC)),
        size=size, root=ChunkedTree(size, CHUNK, chunks).root(), chunks=chunks,
        heads=[SealedHead(*h) for h in heads], tags=bytes(tags), streams=streams,
        versions=versions, position_steps=steps)
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
    return SealWritten(out, document["size"], document["root"], len(document["heads"]),
                       None if key is None else fingerprint(raw_public(key)))
