"""The seal file: what a seal holds, its canonical bytes, its signature, and the checks every
reader runs before trusting a word of it.

A seal is one JSON object (``esaudit seal`` writes it in the canonical form below)::

    format      "esaudit-seal/1"
    source      {"kind", "target", "label"}: the source's kind (esaudit, eventsourcing,
                emmett), its target as esaudit shows it (an absolute path, or a URL without
                its password) and its label; verify refuses a seal of another kind or target
    sealed_at   the UTC instant of sealing, "YYYY-MM-DDTHH:MM:SS.ffffffZ"
    size        n, the number of events sealed: every event of the source, in position order
    root        hex MTH of the n leaves (RFC 9162; see ``merkle``, leaves in ``leaves``)
    chunk_size  the leaves come in aligned runs of this many (a power of two; esaudit
                writes 1024)
    chunks      hex MTH of each run, in order, the last run possibly shorter: each is a node
                of the tree, so they give the root (checked on every load), narrow a change
                down to 1024 events, and let a proof be built from one run's events
    heads       [[stream_id, version, leaf_index, leaf_hash_hex], ...]: every stream's last
                event (in position order), streams in the order they first appear in the log
    leaves      what the seal records of each leaf i, four base64 fields:
                "tag":      the first 4 bytes of leaf i's hash, for i = 0..n-1 (4n bytes)
                "stream":   zlib of n little-endian uint32: leaf i's stream, as its index
                            into ``heads``
                "version":  zlib of n little-endian int64: leaf i's version in its stream
                "position": zlib of n little-endian int64: leaf i's position minus leaf
                            i-1's (leaf 0's: its position)
    public_key  base64 of the signer's 32-byte Ed25519 public key     (signed seals only)
    signature   base64 of the 64-byte Ed25519 signature               (signed seals only)

The per-leaf record is what lets verify name what changed: a changed, removed, moved or
inserted event is named by stream, version and position from the seal itself, with no
inference. It costs 4 bytes per event for the tag (which does not compress) and at most 20
more before compression (streams, versions and positions compress well): 7.2 MB of base64
for the bench's million events, against 64 MB for every leaf hash in hex; the whole seal of
those million events in 100k streams is 16.5 MB, 9.2 of them the heads. The run hashes alone
(64 KB) would narrow a change down to 1024 events but could not name it, nor tell a removed
or moved event from a changed one. Tags are 32 bits: they name events, they prove nothing;
the run hashes and the root do.

Signature: Ed25519 over the canonical bytes of the seal object without its ``signature``
member (``public_key`` included). Canonical bytes are store/hashing.py's recipe::

    json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
               allow_nan=False).encode("utf-8")

This module needs nothing but the standard library and ``cryptography``: a third party
checks a seal (and a proof, ``proof_check``) without esaudit's database code.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import itertools
import json
import sys
import zlib
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from .merkle import HASH_SIZE, ChunkedTree

FORMAT = "esaudit-seal/1"
CHUNK = 1024
TAG_SIZE = 4


class SealRefused(ValueError):
    """A seal (or proof) that cannot be used: not one, damaged, badly signed, or of another
    source. The message is one line saying which."""


def canonical_bytes(value: Any) -> bytes:
    """store/hashing.py's canonical JSON, as UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8", "surrogatepass")


def signed_bytes(document: Mapping[str, Any]) -> bytes:
    """What a seal's signature covers: the seal without its ``signature``."""
    return canonical_bytes({k: v for k, v in document.items() if k != "signature"})


@dataclass(frozen=True, slots=True)
class SealedSource:
    kind: str
    target: str
    label: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "target": self.target, "label": self.label}


@dataclass(frozen=True, slots=True)
class SealedHead:
    stream_id: str
    version: int
    leaf_index: int
    leaf: bytes


@dataclass(frozen=True, slots=True)
class SealedLeaf:
    """What the seal records of one leaf."""

    index: int
    stream_id: str
    version: int
    position: int
    tag: bytes


@dataclass(frozen=True)
class LeafRecord:
    """The seal's per-leaf record, decoded: ``tags`` (4 bytes a leaf), ``streams`` (indexes
    into the heads), ``versions`` and ``steps`` (each position minus the one before);
    ``positions`` is summed up when first asked (a proof check never asks)."""

    tags: bytes
    streams: array[int]
    versions: array[int]
    steps: array[int]

    def tag(self, i: int) -> bytes:
        return self.tags[i * TAG_SIZE:(i + 1) * TAG_SIZE]

    @cached_property
    def positions(self) -> array[int]:
        """Each leaf's position (rising)."""
        return array("q", itertools.accumulate(self.steps))

    def index_of_position(self, position: int) -> int | None:
        """The leaf at a position, or None."""
        positions = self.positions
        i = bisect.bisect_left(positions, position)
        return i if i < len(positions) and positions[i] == position else None


@dataclass(frozen=True)
class Seal:
    """A seal that passed every check: its root follows from its runs, its record has one
    entry per leaf, and, if it is signed, its signature holds. Its heads are checked against
    the record when first asked for (``heads``): verify asks, a proof check needs one."""

    where: str
    """The file it was read from, for messages."""
    source: SealedSource
    sealed_at: str
    size: int
    root: bytes
    chunk_size: int
    chunks: tuple[bytes, ...]
    raw_heads: list[Any]
    record: LeafRecord
    public_key: bytes | None
    signature: bytes | None = None
    """The Ed25519 signature (signed seals only), as the file holds it."""

    @property
    def signed(self) -> bool:
        return self.public_key is not None

    @property
    def signer(self) -> str | None:
        """The signing key's fingerprint, or None for an unsigned seal."""
        if self.public_key is None:
            return None
        from .keys import fingerprint
        return fingerprint(self.public_key)

    @cached_property
    def heads(self) -> tuple[SealedHead, ...]:
        """Every stream's head, checked against the record (SealRefused if it disagrees)."""
        heads = _heads(self.raw_heads, self.size, self.where)
        _check_heads(heads, self.record, self.where)
        return heads

    def leaf(self, i: int) -> SealedLeaf:
        r = self.record
        head = self.raw_heads[r.streams[i]]
        if not (isinstance(head, list) and head and isinstance(head[0], str)):
            raise SealRefused(f"{self.where}: the head of leaf {i}'s stream is not "
                              "[stream_id, version, leaf_index, leaf_hash]")
        return SealedLeaf(i, head[0], r.versions[i], r.positions[i], r.tag(i))

    def position(self, i: int) -> int:
        """The position leaf ``i`` was sealed at."""
        return self.record.positions[i]

    def index_of_position(self, position: int) -> int | None:
        """The leaf sealed at a position, or None."""
        return self.record.index_of_position(position)

    @property
    def last_position(self) -> int:
        """The position of the last sealed event (0 for an empty seal)."""
        return self.position(self.size - 1) if self.size else 0

    def refuse_other_source(self, kind: str, target: str) -> None:
        """A seal of another source proves nothing about this one: refused in one line."""
        if (self.source.kind, self.source.target) != (kind, target):
            raise SealRefused(f"{self.where} seals another source ({self.source.kind} "
                              f"{self.source.target}), not this {kind} store {target}")

    def tree(self, leaves: Sequence[bytes] = (), first_leaf: int = 0) -> ChunkedTree:
        """The sealed tree, known through its runs (and any leaves given)."""
        return ChunkedTree(self.size, self.chunk_size, self.chunks, leaves, first_leaf)

    def run_of(self, i: int) -> tuple[int, int]:
        """The leaves ``lo..hi-1`` of the run that holds leaf ``i``."""
        lo = i - i % self.chunk_size
        return lo, min(lo + self.chunk_size, self.size)


# -- writing -------------------------------------------------------------------------------

def _little_endian(values: array[int]) -> bytes:
    if sys.byteorder == "big":
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _packed(values: array[int]) -> str:
    return base64.b64encode(zlib.compress(_little_endian(values), 6)).decode("ascii")


def document(*, source: SealedSource, sealed_at: str, size: int, root: bytes, chunk: int,
             chunks: Sequence[bytes], heads: Sequence[SealedHead], tags: bytes,
             streams: array[int], versions: array[int], position_steps: array[int],
             ) -> dict[str, Any]:
    """The JSON object of an unsigned seal (the typecodes: ``I``, ``q``, ``q``)."""
    return {
        "format": FORMAT, "source": source.as_json(), "sealed_at": sealed_at, "size": size,
        "root": root.hex(), "chunk_size": chunk, "chunks": [c.hex() for c in chunks],
        "heads": [[h.stream_id, h.version, h.leaf_index, h.leaf.hex()] for h in heads],
        "leaves": {"tag": base64.b64encode(tags).decode("ascii"), "stream": _packed(streams),
                   "version": _packed(versions), "position": _packed(position_steps)},
    }


def signed(document: Mapping[str, Any], public_key: bytes, sign: Callable[[bytes], bytes],
           ) -> dict[str, Any]:
    """The seal with ``public_key`` and the signature ``sign(message)`` returns."""
    out = {k: v for k, v in document.items() if k != "signature"}
    out["public_key"] = base64.b64encode(public_key).decode("ascii")
    out["signature"] = base64.b64encode(sign(signed_bytes(out))).decode("ascii")
    return out


def write(path: Path, document: Mapping[str, Any]) -> None:
    path.write_bytes(canonical_bytes(document) + b"\n")


# -- reading -------------------------------------------------------------------------------

def is_seal(document: object) -> bool:
    """Whether a JSON document says it is a seal (else, for verify, a report's heads)."""
    return isinstance(document, dict) and document.get("format") == FORMAT


def read_json(path: Path, what: str, loads: Callable[[bytes], Any] = json.loads) -> Any:
    """A JSON file, or a one-line SealRefused saying why not (``loads``: a faster exact
    decoder, where the caller has one)."""
    try:
        return loads(path.read_bytes())
    except OSError as e:
        raise SealRefused(f"cannot read {path}: {e.strerror}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise SealRefused(f"{path} is not a JSON {what}: {e}") from None


def load(path: Path, *, check_signature: bool = True,
         loads: Callable[[bytes], Any] = json.loads) -> Seal:
    """The seal in a file, checked (see ``parse``)."""
    return parse(read_json(path, "seal", loads), str(path), check_signature=check_signature)


def _int(value: object, what: str, where: str) -> int:
    if type(value) is not int or value < 0:
        raise SealRefused(f"{where}: {what} is not a whole number")
    return value


def _hash(value: object, what: str, where: str) -> bytes:
    try:
        data = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        data = b""
    if len(data) != HASH_SIZE:
        raise SealRefused(f"{where}: {what} is not a SHA-256 hash in hex")
    return data


def _b64(value: object, what: str, where: str) -> bytes:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise SealRefused(f"{where}: {what} is not base64") from None


def _unpacked(value: object, typecode: str, n: int, what: str, where: str) -> array[int]:
    try:
        raw = zlib.decompress(_b64(value, what, where))
    except zlib.error:
        raise SealRefused(f"{where}: {what} is not zlib data") from None
    values = array(typecode)
    if len(raw) != n * values.itemsize:
        raise SealRefused(f"{where}: {what} does not hold {n} values")
    values.frombytes(raw)
    if sys.byteorder == "big":
        values.byteswap()
    return values


def parse(data: object, where: str, *, check_signature: bool = True) -> Seal:
    """A seal from its JSON object, refused (SealRefused) unless it is whole and agrees with
    itself: its runs give its root, its record has one entry per leaf, and its signature (if
    any; unless ``check_signature`` is False) holds. Its heads are checked against the record
    when ``Seal.heads`` is first read."""
    if not isinstance(data, dict):
        raise SealRefused(f"{where} is not an esaudit seal")
    if data.get("format") != FORMAT:
        raise SealRefused(f"{where} is not an esaudit seal (format {data.get('format')!r}, "
                          f"expected {FORMAT!r})")
    try:
        src = data["source"]
        source = SealedSource(str(src["kind"]), str(src["target"]), str(src.get("label", "")))
        sealed_at = str(data["sealed_at"])
        size = _int(data["size"], "size", where)
        root = _hash(data["root"], "root", where)
        chunk = _int(data["chunk_size"], "chunk_size", where)
        raw_chunks, raw_heads, raw_leaves = data["chunks"], data["heads"], data["leaves"]
    except (KeyError, TypeError):
        raise SealRefused(f"{where} is not a whole esaudit seal (a field is missing)") from None
    if chunk < 1 or chunk & (chunk - 1):
        raise SealRefused(f"{where}: chunk_size {chunk} is not a power of two")
    if not isinstance(raw_chunks, list) or len(raw_chunks) != -(-size // chunk):
        raise SealRefused(f"{where}: chunks does not hold one hash per {chunk} events")
    chunks = tuple(_hash(c, "a chunk", where) for c in raw_chunks)
    if ChunkedTree(size, chunk, chunks).root() != root:
        raise SealRefused(f"{where} is damaged: its chunk hashes do not give its root")
    if not isinstance(raw_heads, list):
        raise SealRefused(f"{where}: heads is not a list")
    if not isinstance(raw_leaves, dict):
        raise SealRefused(f"{where}: leaves is not an object")
    record = _record(raw_leaves, size, len(raw_heads), where)
    public_key = signature = None
    if "signature" in data or "public_key" in data:
        public_key = _b64(data.get("public_key"), "public_key", where)
        signature = _b64(data.get("signature"), "signature", where)
        from .keys import signature_holds
        if check_signature and not signature_holds(public_key, signature, signed_bytes(data)):
            raise SealRefused(f"{where}: the signature does not hold: the seal was changed "
                              "after it was signed")
    return Seal(where, source, sealed_at, size, root, chunk, chunks, raw_heads, record,
                public_key, signature)


def _heads(raw: list[Any], size: int, where: str) -> tuple[SealedHead, ...]:
    try:  # a comprehension, then one pass of checks: a seal of a million events has 100k
        heads = tuple(SealedHead(sid, version, index, bytes.fromhex(leaf))
                      for sid, version, index, leaf in raw)
    except (TypeError, ValueError):
        heads = ()
        bad: object = next((item for item in raw if not (
            isinstance(item, list) and len(item) == 4 and isinstance(item[3], str))), raw)
    else:
        bad = next((h for h in heads if not (
            type(h.stream_id) is str and type(h.version) is int and type(h.leaf_index) is int
            and 0 <= h.leaf_index < size and len(h.leaf) == HASH_SIZE)), None)
    if bad is not None:
        raise SealRefused(f"{where}: a stream head is not [stream_id, version, "
                          f"leaf_index, leaf_hash]: {bad!r:.80}")
    return heads


def _record(raw: Mapping[str, Any], size: int, streams: int, where: str) -> LeafRecord:
    tags = _b64(raw.get("tag"), "leaves.tag", where)
    if len(tags) != size * TAG_SIZE:
        raise SealRefused(f"{where}: leaves.tag does not hold {size} tags")
    stream_numbers = _unpacked(raw.get("stream"), "I", size, "leaves.stream", where)
    if size and max(stream_numbers) >= streams:
        raise SealRefused(f"{where}: leaves.stream names a stream the heads do not list")
    versions = _unpacked(raw.get("version"), "q", size, "leaves.version", where)
    steps = _unpacked(raw.get("position"), "q", size, "leaves.position", where)
    if size > 1 and min(steps[1:]) <= 0:
        raise SealRefused(f"{where}: leaves.position does not rise")
    return LeafRecord(tags, stream_numbers, versions, steps)


def _check_heads(heads: Sequence[SealedHead], record: LeafRecord, where: str) -> None:
    streams, versions, tags = record.streams, record.versions, record.tags
    bad = next((h for number, h in enumerate(heads) if (
        streams[h.leaf_index] != number or versions[h.leaf_index] != h.version
        or tags[TAG_SIZE * h.leaf_index:TAG_SIZE * h.leaf_index + TAG_SIZE]
        != h.leaf[:TAG_SIZE])), None)
    if bad is not None:
        raise SealRefused(f"{where} is damaged: the head of {bad.stream_id} disagrees with "
                          "the seal's record of its leaves")
