"""The seal file: what a seal holds, its canonical bytes, its signature, and the checks every
reader runs before trusting a word of it.

esaudit writes seals in the format ``esaudit-seal/2`` and reads both it and the earlier
``esaudit-seal/1``. Each is one JSON object in one file, holding the same things:

    format      "esaudit-seal/2" (or "esaudit-seal/1")
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
    public_key  base64 of the signer's 32-byte Ed25519 public key     (signed seals only)
    signature   base64 of the 64-byte Ed25519 signature               (signed seals only)

and, what the two formats lay out differently: every stream's head (its last event: stream
id, version, leaf index and leaf hash; streams in the order they first appear in the log),
and a record of every leaf i (the first 4 bytes of its hash, its stream as an index into the
heads, its version, its position).

The per-leaf record is what lets verify name what changed: a changed, removed, moved or
inserted event is named by stream, version and position from the seal itself, with no
inference. The 4-byte tags do not compress; streams, versions and positions compress well.
The run hashes alone would narrow a change down to 1024 events but could not name it, nor
tell a removed or moved event from a changed one. Tags are 32 bits: they name events, they
prove nothing; the run hashes and the root do.

esaudit-seal/2
--------------
Laid out so that a reader finds one leaf's record and one stream's head without decoding the
others: proving one event of a million reads the header line and a few hundred bytes of the
body; checking its proof hashes the body once (the signature covers it) and decodes as
little. (In /1 a reader parses the whole JSON, 100k heads as lists, and decodes every leaf's
record before it can use one: about 0.4 s for a million events.)

The object's members are those above and::

    runs         [[first_position, length], ...], one per run (as many as ``chunks``): the
                 position of the run's first leaf, and the length in bytes of the run's
                 record in the body
    streams      s, the number of streams (of heads)
    body_sha256  hex SHA-256 of the text of ``body`` (its base64 characters, as ASCII)
    body         base64 (RFC 4648, standard alphabet, padded, no line breaks) of the body

The members other than ``body`` are the *header*. The file is exactly these bytes::

    H[:-1] + b',\\n"body":"' + B + b'"}\\n'

where H is the header's canonical bytes (below) and B the text of ``body``: the header is
the first line, with a comma in place of its closing brace, and ``body`` the second. So the
file is one JSON object, and a reader can also take the header from the first line alone.
The seal is the object, not its text: the same object written otherwise (indented, its
members in another order) is the same seal, read as JSON and checked the same way.

The body, all integers little-endian:

    run records  run r's record starts at the sum of the lengths of the runs before it:
                 zlib (RFC 1950) of 24m bytes for the run's m leaves (``chunk_size``; the
                 last run possibly fewer), four arrays one after the other:
                   m tags       the first 4 bytes of each leaf's hash
                   m streams    uint32: the leaf's stream, as its index into the heads
                   m versions   int64: the leaf's version in its stream
                   m steps      int64: the leaf's position minus that of the leaf before it
                                in the run; 0 for the run's first leaf, whose position is the
                                run's ``first_position``
    heads        right after the last run record, s entries of 56 bytes, stream k's:
                   id_end       uint64: where its id ends in the stream ids (it starts where
                                stream k-1's ends, stream 0's at 0)
                   leaf_index   uint64: the leaf of its last event (its head)
                   version      int64: that event's version
                   leaf         32 bytes: that leaf's hash
    stream ids   every stream's id, UTF-8 (a lone surrogate as its three bytes, Python's
                 ``surrogatepass``), back to back; the body ends with the last one

Leaf i's record is in run ``i // chunk_size``; the event at a position is in the last run
whose first position is not after it; stream k's head is the k-th entry. Bytes ``lo..hi-1``
of the body are in the characters from ``4 * (lo // 3)`` to ``4 * ceil(hi / 3)`` of B.

Signature: Ed25519 over the canonical bytes of the header without its ``signature``
(``public_key`` included). The header holds the hash of the body, so the signature covers
every byte of the seal. A reader that checks a seal trusts nothing in the body before the
text of ``body`` hashes to ``body_sha256``; a prover, which leaves the signature to whoever
checks its proof, reads only the parts it uses.

esaudit-seal/1
--------------
The members ``heads`` and ``leaves`` hold what /2's body holds::

    heads       [[stream_id, version, leaf_index, leaf_hash_hex], ...]
    leaves      four base64 fields:
                "tag":      the first 4 bytes of leaf i's hash, for i = 0..n-1 (4n bytes)
                "stream":   zlib of n little-endian uint32: leaf i's stream, as its index
                            into ``heads``
                "version":  zlib of n little-endian int64: leaf i's version in its stream
                "position": zlib of n little-endian int64: leaf i's position minus leaf
                            i-1's (leaf 0's: its position)

Signature: Ed25519 over the canonical bytes of the seal object without its ``signature``
member (``public_key`` included).

Canonical bytes are store/hashing.py's recipe::

    json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
               allow_nan=False).encode("utf-8")

This module needs nothing but the standard library and ``cryptography``: a third party
checks a seal (and a proof, ``proof_check``) without esaudit's database code. Its values
(``Seal`` and the ``SealHeader`` it extends aside: a seal caches what it decodes) are
NamedTuples rather than frozen dataclasses: each dataclass costs a process about 1 ms to
define, and proving or checking one event is a whole process of about 0.15 s.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import itertools
import json
import struct
import sys
import zlib
from abc import ABC, abstractmethod
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

from .merkle import HASH_SIZE, ChunkedTree

FORMAT = "esaudit-seal/2"
"""The format esaudit writes."""
FORMAT_1 = "esaudit-seal/1"
FORMATS = (FORMAT_1, FORMAT)
CHUNK = 1024
TAG_SIZE = 4

_HEAD = struct.Struct("<QQq32s")
"""A /2 head entry: id_end, leaf_index, version, leaf."""
_RECORD_BYTES = 24
"""Bytes of a /2 run record per leaf, before compression."""
_BODY_OPEN = b'\n"body":"'
_BODY_CLOSE = b'"}\n'


class SealRefused(ValueError):
    """A seal (or proof) that cannot be used: not one, damaged, badly signed, or of another
    source. The message is one line saying which."""


def canonical_bytes(value: Any) -> bytes:
    """store/hashing.py's canonical JSON, as UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8", "surrogatepass")


def signed_bytes(document: Mapping[str, Any]) -> bytes:
    """What a seal's signature covers: the seal without its ``signature`` (and, in /2, the
    header alone: without ``body``, whose hash the header holds)."""
    left_out = ("signature", "body") if document.get("format") == FORMAT else ("signature",)
    return canonical_bytes({k: v for k, v in document.items() if k not in left_out})


class SealedSource(NamedTuple):
    kind: str
    target: str
    label: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "target": self.target, "label": self.label}


class SealedHead(NamedTuple):
    stream_id: str
    version: int
    leaf_index: int
    leaf: bytes


class SealedLeaf(NamedTuple):
    """What the seal records of one leaf."""

    leaf_index: int
    stream_id: str
    version: int
    position: int
    tag: bytes


class LeafRecord(NamedTuple):
    """The seal's whole per-leaf record, decoded: ``tags`` (4 bytes a leaf), ``streams``
    (indexes into the heads), ``versions`` and ``positions`` (rising)."""

    tags: bytes
    streams: array[int]
    versions: array[int]
    positions: array[int]

    def tag(self, i: int) -> bytes:
        return self.tags[i * TAG_SIZE:(i + 1) * TAG_SIZE]

    def index_of_position(self, position: int) -> int | None:
        """The leaf at a position, or None."""
        return _index_in(self.positions, position)


def _index_in(positions: Sequence[int], position: int) -> int | None:
    i = bisect.bisect_left(positions, position)
    return i if i < len(positions) and positions[i] == position else None


class _Leaves(ABC):
    """Where a seal keeps its heads and per-leaf record, as its format lays them out."""

    @abstractmethod
    def record(self) -> LeafRecord:
        """The whole record (SealRefused if any of it is damaged)."""

    @abstractmethod
    def heads(self) -> tuple[SealedHead, ...]:
        """Every head, each whole (not yet compared with the record)."""

    @abstractmethod
    def leaf(self, i: int) -> SealedLeaf:
        """What the seal records of leaf ``i`` (reading that leaf's part alone)."""

    @abstractmethod
    def position(self, i: int) -> int:
        """The position leaf ``i`` was sealed at."""

    @abstractmethod
    def index_of_position(self, position: int) -> int | None:
        """The leaf sealed at a position, or None."""


@dataclass(frozen=True)
class SealHeader:
    """The members both formats share, checked: the root follows from the runs."""

    source: SealedSource
    sealed_at: str
    size: int
    root: bytes
    chunk_size: int
    chunks: tuple[bytes, ...]


@dataclass(frozen=True)
class Seal(SealHeader):
    """A seal whose header passed every check: its root follows from its runs and, if it is
    signed (unless the reader chose not to check), its signature holds over all of it.

    What it records of heads and leaves is checked as it is read: one run's record and one
    head when ``leaf`` asks for them, the whole record when ``record`` is first read, and
    every head, against the record, when ``heads`` is (verify reads them all; a proof needs
    one leaf). A /1 seal's record is decoded and checked on loading."""

    where: str
    """The file it was read from, for messages."""
    format: str
    public_key: bytes | None
    signature: bytes | None
    """The Ed25519 signature (signed seals only), as the file holds it."""
    leaves: _Leaves

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
    def record(self) -> LeafRecord:
        return self.leaves.record()

    @cached_property
    def heads(self) -> tuple[SealedHead, ...]:
        """Every stream's head, checked against the record (SealRefused if it disagrees)."""
        heads = self.leaves.heads()
        _check_heads(heads, self.record, self.where)
        return heads

    def leaf(self, i: int) -> SealedLeaf:
        if not 0 <= i < self.size:
            raise IndexError(f"leaf {i} is not in a seal of {self.size}")
        return self.leaves.leaf(i)

    def position(self, i: int) -> int:
        """The position leaf ``i`` was sealed at."""
        if not 0 <= i < self.size:
            raise IndexError(f"leaf {i} is not in a seal of {self.size}")
        return self.leaves.position(i)

    def index_of_position(self, position: int) -> int | None:
        """The leaf sealed at a position, or None."""
        return self.leaves.index_of_position(position)

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
             streams: array[int], versions: array[int], positions: array[int],
             format: str = FORMAT) -> dict[str, Any]:
    """The JSON object of an unsigned seal in ``format`` (the typecodes: ``I``, ``q``,
    ``q``)."""
    common = {"format": format, "source": source.as_json(), "sealed_at": sealed_at,
              "size": size, "root": root.hex(), "chunk_size": chunk,
              "chunks": [c.hex() for c in chunks]}
    if format == FORMAT_1:
        steps = array("q", positions[:1])
        steps.extend([b - a for a, b in itertools.pairwise(positions)])
        return {**common,
                "heads": [[h.stream_id, h.version, h.leaf_index, h.leaf.hex()] for h in heads],
                "leaves": {"tag": base64.b64encode(tags).decode("ascii"),
                           "stream": _packed(streams), "version": _packed(versions),
                           "position": _packed(steps)}}
    if format != FORMAT:
        raise ValueError(f"esaudit writes no seal format {format!r}")
    runs, body = [], bytearray()
    for lo in range(0, size, chunk):
        hi = min(lo + chunk, size)
        steps = array("q", [0])
        steps.extend([b - a for a, b in itertools.pairwise(positions[lo:hi])])
        block = zlib.compress(b"".join((
            tags[TAG_SIZE * lo:TAG_SIZE * hi], _little_endian(streams[lo:hi]),
            _little_endian(versions[lo:hi]), _little_endian(steps))), 6)
        runs.append([positions[lo], len(block)])
        body += block
    ids = [h.stream_id.encode("utf-8", "surrogatepass") for h in heads]
    body += b"".join(_HEAD.pack(end, h.leaf_index, h.version, h.leaf) for h, end in zip(
        heads, itertools.accumulate(len(i) for i in ids), strict=True))
    body += b"".join(ids)
    text = base64.b64encode(body)
    return {**common, "runs": runs, "streams": len(heads),
            "body_sha256": hashlib.sha256(text).hexdigest(), "body": text.decode("ascii")}


def signed(document: Mapping[str, Any], public_key: bytes, sign: Callable[[bytes], bytes],
           ) -> dict[str, Any]:
    """The seal with ``public_key`` and the signature ``sign(message)`` returns."""
    out = {k: v for k, v in document.items() if k != "signature"}
    out["public_key"] = base64.b64encode(public_key).decode("ascii")
    out["signature"] = base64.b64encode(sign(signed_bytes(out))).decode("ascii")
    return out


def write(path: Path, document: Mapping[str, Any]) -> None:
    """/2 in its layout (the header on the first line, the body on the second), /1 as its
    canonical bytes."""
    if document.get("format") != FORMAT:
        path.write_bytes(canonical_bytes(document) + b"\n")
        return
    head = canonical_bytes({k: v for k, v in document.items() if k != "body"})
    with path.open("wb") as out:
        out.write(b"".join((head[:-1], b",", _BODY_OPEN, document["body"].encode("ascii"),
                            _BODY_CLOSE)))


# -- reading -------------------------------------------------------------------------------

def is_seal(document: object) -> bool:
    """Whether a JSON document says it is a seal (else, for verify, a report's heads)."""
    return isinstance(document, dict) and document.get("format") in FORMATS


def read_json(path: Path, what: str, loads: Callable[[bytes], Any] = json.loads) -> Any:
    """A JSON file, or a one-line SealRefused saying why not (``loads``: a faster exact
    decoder, where the caller has one)."""
    return _decoded(_read(path), str(path), what, loads)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise SealRefused(f"cannot read {path}: {e.strerror}") from None


def _decoded(raw: bytes, where: str, what: str, loads: Callable[[bytes], Any]) -> Any:
    try:
        return loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise SealRefused(f"{where} is not a JSON {what}: {e}") from None


def load(path: Path, *, check_signature: bool = True,
         loads: Callable[[bytes], Any] = json.loads) -> Seal:
    """The seal in a file, checked (see ``from_bytes``). Unchecked (``check_signature``
    False: a prover's, which leaves the signature to whoever checks its proof), a /2 seal
    in its layout is read in place: its first line, then the characters of its body asked
    for, from the file, never all 16 MB of a million events' seal."""
    if not check_signature:
        seal = _in_place(path)
        if seal is not None:
            return seal
    return from_bytes(_read(path), str(path), check_signature=check_signature, loads=loads)


def from_bytes(raw: bytes, where: str, *, check_signature: bool = True,
               loads: Callable[[bytes], Any] = json.loads) -> Seal:
    """The seal in a file's bytes, checked as ``parse`` checks it. A /2 seal in its layout
    is read from its first line and the characters of its body that are asked for; any
    other (a /1 seal, a /2 one whose JSON was rewritten) is decoded whole, with ``loads``.
    What is checked is what is then read: these bytes, not the file again."""
    split = split_layout(raw)
    if split is not None:
        return parse_layout(split[0], split[1], where, check_signature=check_signature)
    return parse(_decoded(raw, where, "seal", loads), where, check_signature=check_signature)


def split_layout(raw: bytes) -> tuple[dict[str, Any], memoryview] | None:
    """(the header, the text of ``body``) of a /2 seal laid out exactly as written, else None.

    Exactly: the first line is the header's canonical bytes (its brace replaced by a comma),
    the second is ``"body":"`` and base64 characters, closing the object. Then what a JSON
    reader of the whole file reads is this header and this body, and the header parsed is
    the text the signature was made over; anything else is left to the JSON reader."""
    cut = raw.find(b"\n")
    start, end = cut + len(_BODY_OPEN), len(raw) - len(_BODY_CLOSE)
    if not (cut > 0 and start <= end and raw.startswith(_BODY_OPEN, cut)
            and raw.endswith(_BODY_CLOSE)):
        return None
    if raw.find(b'"', start, end) >= 0 or raw.find(b"\\", start, end) >= 0:
        return None
    header = _header_line(raw[:cut])
    return None if header is None else (header, memoryview(raw)[start:end])


def _header_line(line: bytes) -> dict[str, Any] | None:
    """The header a /2 seal's first line holds, if it is the header's canonical bytes."""
    if not line.endswith(b","):
        return None
    head = line[:-1] + b"}"
    try:  # a value canonical JSON refuses (NaN) raises ValueError too: not the layout
        header = json.loads(head)
        canonical = canonical_bytes(header)
    except ValueError:
        return None
    if isinstance(header, dict) and header.get("format") == FORMAT \
            and "body" not in header and canonical == head:
        return header
    return None


_HEADER_START = b'{"body_sha256":'
"""How a /2 header's canonical bytes begin: ``body_sha256`` sorts first."""


def _in_place(path: Path) -> Seal | None:
    """A /2 seal in its layout, its header read and its body left in the file; None for
    any other file (to be read whole)."""
    try:
        with path.open("rb") as f:
            if f.read(len(_HEADER_START)) != _HEADER_START:
                return None
            line = _HEADER_START + f.readline()
            opening = f.read(len(_BODY_OPEN) - 1)
            start = f.tell()
            end = f.seek(0, 2) - len(_BODY_CLOSE)
            f.seek(end)
            closing = f.read()
    except OSError:
        return None
    header = _header_line(line.rstrip(b"\n"))
    if header is None or b"\n" + opening != _BODY_OPEN or closing != _BODY_CLOSE \
            or end < start:
        return None
    return parse_layout(header, _FileText(path, start, end - start), str(path),
                        check_signature=False)


class _FileText:
    """The characters of a /2 body, read from its file as they are asked for."""

    def __init__(self, path: Path, start: int, length: int) -> None:
        self._path, self._start, self._length = path, start, length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, part: slice) -> bytes:
        lo, hi, _step = part.indices(self._length)
        try:
            with self._path.open("rb") as f:
                f.seek(self._start + lo)
                return f.read(max(0, hi - lo))
        except OSError as e:
            raise SealRefused(f"cannot read {self._path}: {e.strerror}") from None


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
    return _from_little_endian(values, raw)


def _from_little_endian(values: array[int], raw: bytes) -> array[int]:
    values.frombytes(raw)
    if sys.byteorder == "big":
        values.byteswap()
    return values


def _header(data: Mapping[str, Any], where: str) -> SealHeader:
    """The members both formats share, each checked, and the root checked against the runs."""
    try:
        src = data["source"]
        source = SealedSource(str(src["kind"]), str(src["target"]), str(src.get("label", "")))
        sealed_at = str(data["sealed_at"])
        size = _int(data["size"], "size", where)
        root = _hash(data["root"], "root", where)
        chunk = _int(data["chunk_size"], "chunk_size", where)
        raw_chunks = data["chunks"]
    except (KeyError, TypeError, AttributeError):
        raise SealRefused(f"{where} is not a whole esaudit seal (a field is missing)") from None
    if chunk < 1 or chunk & (chunk - 1):
        raise SealRefused(f"{where}: chunk_size {chunk} is not a power of two")
    if not isinstance(raw_chunks, list) or len(raw_chunks) != -(-size // chunk):
        raise SealRefused(f"{where}: chunks does not hold one hash per {chunk} events")
    chunks = tuple(_hash(c, "a chunk", where) for c in raw_chunks)
    if ChunkedTree(size, chunk, chunks).root() != root:
        raise SealRefused(f"{where} is damaged: its chunk hashes do not give its root")
    return SealHeader(source, sealed_at, size, root, chunk, chunks)


def _signing(data: Mapping[str, Any], where: str, check: bool,
             ) -> tuple[bytes | None, bytes | None]:
    """(public key, signature) of a signed seal, the signature checked unless told not to;
    (None, None) for an unsigned one."""
    if "signature" not in data and "public_key" not in data:
        return None, None
    public_key = _b64(data.get("public_key"), "public_key", where)
    signature = _b64(data.get("signature"), "signature", where)
    if check:
        from .keys import signature_holds
        if not signature_holds(public_key, signature, signed_bytes(data)):
            raise _changed_after_signing(where)
    return public_key, signature


def _changed_after_signing(where: str) -> SealRefused:
    return SealRefused(f"{where}: the signature does not hold: the seal was changed after it "
                       "was signed")


def parse(data: object, where: str, *, check_signature: bool = True) -> Seal:
    """A seal from its JSON object, refused (SealRefused) unless it is whole and agrees with
    itself: its runs give its root, and its signature (if any; unless ``check_signature``
    is False) holds, over the body too in /2 (an unsigned /2 seal's body is checked against
    its hash all the same). Its record and heads are checked as ``Seal`` says."""
    if not isinstance(data, dict):
        raise SealRefused(f"{where} is not an esaudit seal")
    if data.get("format") == FORMAT:
        text = data.get("body")
        if not (isinstance(text, str) and text.isascii()):
            raise SealRefused(f"{where}: body is not base64")
        return parse_layout({k: v for k, v in data.items() if k != "body"},
                            text.encode("ascii"), where, check_signature=check_signature)
    if data.get("format") != FORMAT_1:
        raise SealRefused(f"{where} is not an esaudit seal (format {data.get('format')!r}, "
                          f"expected {FORMAT!r} or {FORMAT_1!r})")
    header = _header(data, where)
    raw_heads, raw_leaves = data.get("heads"), data.get("leaves")
    if raw_heads is None or raw_leaves is None:
        raise SealRefused(f"{where} is not a whole esaudit seal (a field is missing)")
    if not isinstance(raw_heads, list):
        raise SealRefused(f"{where}: heads is not a list")
    if not isinstance(raw_leaves, dict):
        raise SealRefused(f"{where}: leaves is not an object")
    record = _record(raw_leaves, header.size, len(raw_heads), where)
    public_key, signature = _signing(data, where, check_signature)
    return _seal(header, where, FORMAT_1, public_key, signature,
                 _JsonLeaves(raw_heads, record, header.size, where))


def _seal(header: SealHeader, where: str, format: str, public_key: bytes | None,
          signature: bytes | None, leaves: _Leaves) -> Seal:
    return Seal(header.source, header.sealed_at, header.size, header.root, header.chunk_size,
                header.chunks, where, format, public_key, signature, leaves)


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
    return LeafRecord(tags, stream_numbers, versions,
                      array("q", itertools.accumulate(steps)))


def _check_heads(heads: Sequence[SealedHead], record: LeafRecord, where: str) -> None:
    streams, versions, tags = record.streams, record.versions, record.tags
    bad = next((h for number, h in enumerate(heads) if (
        streams[h.leaf_index] != number or versions[h.leaf_index] != h.version
        or tags[TAG_SIZE * h.leaf_index:TAG_SIZE * h.leaf_index + TAG_SIZE]
        != h.leaf[:TAG_SIZE])), None)
    if bad is not None:
        raise SealRefused(f"{where} is damaged: the head of {bad.stream_id} disagrees with "
                          "the seal's record of its leaves")


class _JsonLeaves(_Leaves):
    """/1: the heads as JSON lists, the record decoded whole on loading."""

    def __init__(self, raw_heads: list[Any], record: LeafRecord, size: int, where: str,
                 ) -> None:
        self._raw_heads, self._record, self._size, self._where = (
            raw_heads, record, size, where)

    def record(self) -> LeafRecord:
        return self._record

    def heads(self) -> tuple[SealedHead, ...]:
        return _heads(self._raw_heads, self._size, self._where)

    def leaf(self, i: int) -> SealedLeaf:
        r = self._record
        head = self._raw_heads[r.streams[i]]
        if not (isinstance(head, list) and head and isinstance(head[0], str)):
            raise SealRefused(f"{self._where}: the head of leaf {i}'s stream is not "
                              "[stream_id, version, leaf_index, leaf_hash]")
        return SealedLeaf(i, head[0], r.versions[i], r.positions[i], r.tag(i))

    def position(self, i: int) -> int:
        return self._record.positions[i]

    def index_of_position(self, position: int) -> int | None:
        return self._record.index_of_position(position)


def parse_layout(header: dict[str, Any], text: bytes | memoryview | _FileText, where: str, *,
                 check_signature: bool = True) -> Seal:
    """A /2 seal from its header and the text of its body (``split_layout``; checked as
    ``parse`` checks it)."""
    common = _header(header, where)
    try:
        raw_runs, streams, body_sha256 = (header["runs"], header["streams"],
                                          header["body_sha256"])
    except KeyError:
        raise SealRefused(f"{where} is not a whole esaudit seal (a field is missing)") from None
    streams = _int(streams, "streams", where)
    if streams > common.size or (common.size and not streams):
        raise SealRefused(f"{where}: {streams} streams cannot hold {common.size} events")
    if not (isinstance(raw_runs, list) and len(raw_runs) == len(common.chunks) and all(
            isinstance(r, list) and len(r) == 2 and type(r[0]) is int and type(r[1]) is int
            and r[0] >= 0 and r[1] > 0 for r in raw_runs)):
        raise SealRefused(f"{where}: runs does not hold [first_position, length] for each "
                          "run")
    firsts = [r[0] for r in raw_runs]
    if any(a >= b for a, b in itertools.pairwise(firsts)):
        raise SealRefused(f"{where}: the runs' first positions do not rise")
    public_key, signature = _signing(header, where, check_signature)
    if check_signature and hashlib.sha256(text[:]).hexdigest() != body_sha256:
        if public_key is not None:
            raise _changed_after_signing(where)
        raise SealRefused(f"{where} is damaged: its body does not hash to its body_sha256")
    body = _Body(text, common.size, common.chunk_size, streams, firsts,
                 [0, *itertools.accumulate(r[1] for r in raw_runs)], where)
    return _seal(common, where, FORMAT, public_key, signature, body)


class _Run(NamedTuple):
    """One run's record, decoded."""

    tags: bytes
    streams: array[int]
    versions: array[int]
    positions: array[int]


class _Body(_Leaves):
    """/2: the body's base64 text, of which each part is decoded (and checked) when it is
    asked for."""

    def __init__(self, text: bytes | memoryview | _FileText, size: int, chunk: int, streams: int,
                 firsts: list[int], offsets: list[int], where: str) -> None:
        self._text, self._size, self._chunk, self._streams = text, size, chunk, streams
        self._firsts, self._offsets, self._where = firsts, offsets, where
        self._heads_at = offsets[-1]
        self._ids_at = self._heads_at + _HEAD.size * streams
        tail = bytes(text[-2:])
        padding = 2 if tail == b"==" else 1 if tail.endswith(b"=") else 0
        length = len(text) // 4 * 3 - padding
        if len(text) % 4 or length < self._ids_at:
            raise self._damaged("its body does not hold the runs and heads its header lists")
        self._ids_length = self._id_end(streams - 1) if streams else 0
        if length != self._ids_at + self._ids_length:
            raise self._damaged("its body does not hold the stream ids its heads list")
        self._runs: dict[int, _Run] = {}

    def _damaged(self, what: str) -> SealRefused:
        return SealRefused(f"{self._where} is damaged: {what}")

    def _bytes(self, lo: int, hi: int) -> bytes:
        """Bytes ``lo..hi-1`` of the body."""
        first = lo // 3
        try:
            data = binascii.a2b_base64(self._text[4 * first:4 * -(-hi // 3)],
                                       strict_mode=True)[lo - 3 * first:hi - 3 * first]
        except binascii.Error:
            raise SealRefused(f"{self._where}: body is not base64") from None
        if len(data) != hi - lo:
            raise self._damaged("its body is shorter than its header says")
        return data

    def _entry(self, k: int) -> tuple[int, int, int, bytes]:
        at = self._heads_at + _HEAD.size * k
        entry: tuple[int, int, int, bytes] = _HEAD.unpack(self._bytes(at, at + _HEAD.size))
        return entry

    def _id_end(self, k: int) -> int:
        return self._entry(k)[0]

    def _stream_id(self, k: int) -> str:
        start = self._id_end(k - 1) if k else 0
        end = self._id_end(k)
        if not start <= end <= self._ids_length:
            raise self._damaged(f"the id of stream {k} is not in its stream ids")
        return self._decoded_id(self._bytes(self._ids_at + start, self._ids_at + end), k)

    def _decoded_id(self, raw: bytes, k: int) -> str:
        try:
            return raw.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise self._damaged(f"the id of stream {k} is not UTF-8") from None

    def _run(self, r: int) -> _Run:
        run = self._runs.get(r)
        if run is None:
            run = self._runs[r] = self._decoded_run(r)
        return run

    def _decoded_run(self, r: int) -> _Run:
        m = min(self._chunk, self._size - r * self._chunk)
        unpack = zlib.decompressobj()
        try:
            raw = unpack.decompress(self._bytes(self._offsets[r], self._offsets[r + 1]),
                                    _RECORD_BYTES * m + 1)
        except zlib.error:
            raise self._damaged(f"the record of run {r} is not zlib data") from None
        if len(raw) != _RECORD_BYTES * m or not unpack.eof or unpack.unused_data:
            raise self._damaged(f"the record of run {r} does not hold {m} leaves")
        tags = raw[:TAG_SIZE * m]
        streams = _from_little_endian(array("I"), raw[4 * m:8 * m])
        versions = _from_little_endian(array("q"), raw[8 * m:16 * m])
        steps = _from_little_endian(array("q"), raw[16 * m:24 * m])
        if steps[0] != 0 or (m > 1 and min(steps[1:]) <= 0):
            raise self._damaged(f"the positions of run {r} do not rise")
        if max(streams) >= self._streams:
            raise self._damaged(f"run {r} names a stream the heads do not list")
        steps[0] = self._firsts[r]
        positions = array("q", itertools.accumulate(steps))
        if r + 1 < len(self._firsts) and positions[-1] >= self._firsts[r + 1]:
            raise self._damaged(f"the positions of run {r} reach into the next run")
        return _Run(tags, streams, versions, positions)

    def leaf(self, i: int) -> SealedLeaf:
        run, j = self._run(i // self._chunk), i % self._chunk
        return SealedLeaf(i, self._stream_id(run.streams[j]), run.versions[j],
                          run.positions[j], run.tags[TAG_SIZE * j:TAG_SIZE * j + TAG_SIZE])

    def position(self, i: int) -> int:
        return self._run(i // self._chunk).positions[i % self._chunk]

    def index_of_position(self, position: int) -> int | None:
        r = bisect.bisect_right(self._firsts, position) - 1
        if r < 0:
            return None
        j = _index_in(self._run(r).positions, position)
        return None if j is None else r * self._chunk + j

    def record(self) -> LeafRecord:
        tags, streams, versions, positions = [], array("I"), array("q"), array("q")
        for r in range(len(self._firsts)):
            run = self._decoded_run(r)
            tags.append(run.tags)
            streams.extend(run.streams)
            versions.extend(run.versions)
            positions.extend(run.positions)
        return LeafRecord(b"".join(tags), streams, versions, positions)

    def heads(self) -> tuple[SealedHead, ...]:
        table = self._bytes(self._heads_at, self._ids_at)
        ids = self._bytes(self._ids_at, self._ids_at + self._ids_length)
        heads, start = [], 0
        for k, (end, index, version, leaf) in enumerate(_HEAD.iter_unpack(table)):
            if not start <= end <= len(ids) or index >= self._size:
                raise self._damaged(f"the head of stream {k} is not one of its leaves")
            heads.append(SealedHead(self._decoded_id(ids[start:end], k), version, index, leaf))
            start = end
        return tuple(heads)
