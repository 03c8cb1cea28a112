"""Inclusion proofs: their format, and the check a third party runs holding only the seal and
the proof (no store, no database code: the standard library and ``cryptography`` only).

A proof is one JSON object::

    format      "esaudit-proof/1"
    seal        {"root", "size", "sealed_at", "source": {"kind", "target"}}: the seal it is for
    stream_id, version, position
                the event, as the source names it
    leaf_index  its leaf in the sealed tree (0-based, position order)
    event       its canonical bytes (see ``leaves``) as text: UTF-8-encode it (surrogatepass)
                to get them back; the leaf is SHA-256(0x00 || those bytes)
    audit_path  hex hashes, from the leaf's sibling up to the root's child: RFC 9162
                §2.1.3.1's PATH(leaf_index, D[size]), about log2(size) of them

It holds when its seal is the seal given (same root and size; else it is refused as a proof
for another seal), the seal itself checks (``seal_file.parse``: its runs give its root, its
signature holds), the event's bytes name the stream and version the proof names, the seal's
own record says leaf ``leaf_index`` is that stream and version with that leaf's tag, and the
audit path leads from the leaf to the sealed root (§2.1.3.2).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .merkle import HASH_SIZE, leaf_hash, verify_inclusion
from .seal_file import TAG_SIZE, Seal, SealRefused, read_json

FORMAT = "esaudit-proof/1"


def document(seal: Seal, *, stream_id: str, version: int, position: int, leaf_index: int,
             event: bytes, path: Sequence[bytes]) -> dict[str, Any]:
    """The JSON object of a proof that ``event`` is leaf ``leaf_index`` of ``seal``."""
    return {
        "format": FORMAT,
        "seal": {"root": seal.root.hex(), "size": seal.size, "sealed_at": seal.sealed_at,
                 "source": {"kind": seal.source.kind, "target": seal.source.target}},
        "stream_id": stream_id, "version": version, "position": position,
        "leaf_index": leaf_index, "event": event.decode("utf-8", "surrogatepass"),
        "audit_path": [p.hex() for p in path],
    }


def write(path: Path, proof: dict[str, Any]) -> None:
    """Indented, ASCII-only (a lone surrogate in an event stays escaped and exact)."""
    try:
        path.write_text(json.dumps(proof, indent=2) + "\n", "ascii")
    except OSError as e:
        raise ValueError(f"cannot write {path}: {e.strerror}") from None


class ProofCheck(NamedTuple):
    """Whether a proof holds, for whom, and if not, why (one sentence)."""

    ok: bool
    stream_id: str
    version: int
    leaf_index: int
    size: int
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": self.ok, "stream_id": self.stream_id,
                                "version": self.version, "leaf_index": self.leaf_index,
                                "size": self.size}
        if not self.ok:
            data["reason"] = self.reason
        return data


def load(path: Path) -> dict[str, Any]:
    data = read_json(path, "proof")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SealRefused(f"{path} is not an esaudit proof (format {FORMAT!r})")
    return data


def check(proof: dict[str, Any], seal: Seal, where: str = "the proof") -> ProofCheck:
    """Check a proof against a seal that was loaded (and so checked) already."""
    try:
        sid, version, index = proof["stream_id"], proof["version"], proof["leaf_index"]
        sealed, event, raw_path = proof["seal"], proof["event"], proof["audit_path"]
        root, size = sealed["root"], sealed["size"]
    except (KeyError, TypeError):
        raise SealRefused(f"{where} is not a whole esaudit proof (a field is missing)"
                          ) from None
    if not (isinstance(sid, str) and type(version) is int and type(index) is int
            and isinstance(event, str) and isinstance(raw_path, list)):
        raise SealRefused(f"{where} is not an esaudit proof (a field has the wrong type)")
    if (root, size) != (seal.root.hex(), seal.size):
        raise SealRefused(f"{where} is for another seal (root {str(root)[:16]}, {size} "
                          f"events), not {seal.where} (root {seal.root.hex()[:16]}, "
                          f"{seal.size} events)")

    def refused(reason: str) -> ProofCheck:
        return ProofCheck(False, sid, version, index, seal.size, reason)

    data = event.encode("utf-8", "surrogatepass")
    try:
        named = json.loads(event)
    except ValueError:
        return refused("the event's bytes are not the JSON of an event")
    if not (isinstance(named, list) and len(named) == 6 and named[0] == sid
            and named[1] == version and type(named[1]) is int):
        return refused(f"the event's bytes do not name {sid} version {version}")
    if not 0 <= index < seal.size:
        return refused(f"leaf {index} is not in the seal's tree of {seal.size}")
    leaf = leaf_hash(data)
    recorded = seal.leaf(index)
    if (recorded.stream_id, recorded.version) != (sid, version):
        return refused(f"the seal records {recorded.stream_id} version {recorded.version} "
                       f"at leaf {index}, not {sid} version {version}")
    if recorded.tag != leaf[:TAG_SIZE]:
        return refused(f"the event's bytes are not the ones sealed at leaf {index}")
    path = []
    for item in raw_path:
        try:
            node = bytes.fromhex(item) if isinstance(item, str) else b""
        except ValueError:
            node = b""
        if len(node) != HASH_SIZE:
            return refused("the audit path is not a list of SHA-256 hashes in hex")
        path.append(node)
    if not verify_inclusion(index, seal.size, leaf, path, seal.root):
        return refused("the audit path does not lead from the event's leaf to the sealed "
                       "root")
    return ProofCheck(True, sid, version, index, seal.size)
