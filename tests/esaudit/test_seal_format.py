"""The seal's two formats: esaudit-seal/2, which esaudit writes and a reader seeks in, and
esaudit-seal/1, which it still reads. Both hold the same seal; /2 is checked as its
docstring says a third party checks it, and any change to a signed /2 seal is refused
whichever way its JSON is laid out.

Runs of 4 leaves (``chunk=4``), so that a few dozen events span many runs."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import struct
import zlib
from array import array
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from esaudit.application.witness import proof_check, seal_file
from esaudit.application.witness.against import check_against_seal
from esaudit.application.witness.merkle import ChunkedTree, leaf_hash, root_of
from esaudit.application.witness.proving import build_proof
from esaudit.application.witness.seal_file import (
    FORMAT,
    FORMAT_1,
    Seal,
    SealedHead,
    SealedSource,
    SealRefused,
)
from esaudit.application.witness.sealing import build_seal
from store import ANY, EventStore, NewEvent, open_store
from store.hashing import envelope_bytes

STREAMS, VERSIONS = 5, 6


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """30 events of 5 interleaved streams, less three: positions 3, 10 and 11 are gone, so
    that positions have gaps, inside a run (3) and between two (10, 11)."""
    p = tmp_path / "w.db"
    with open_store(p, synchronous="NORMAL") as st:
        for v in range(1, VERSIONS + 1):
            for s in range(STREAMS):
                st.append(f"s-{s}", "Order", [NewEvent("Touched", {"v": v, "s": s})], ANY)
    with closing(sqlite3.connect(p)) as conn, conn:
        conn.execute("DELETE FROM events WHERE position IN (3, 10, 11)")
    return p


@pytest.fixture
def store(path: Path) -> Iterator[EventStore]:
    with open_store(path, read_only=True) as st:
        yield st


NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _signed(store: EventStore, key: Ed25519PrivateKey, format: str = FORMAT) -> dict[str, Any]:
    return build_seal(store, key=key, chunk=4, format=format, now=NOW)


def _written(tmp_path: Path, document: dict[str, Any], name: str = "seal.json") -> Path:
    out = tmp_path / name
    seal_file.write(out, document)
    return out


def _body(document: dict[str, Any]) -> bytes:
    return base64.b64decode(document["body"], validate=True)


def _with_body(document: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The unsigned /2 seal with another body, its hash made to agree."""
    text = base64.b64encode(body)
    return {**document, "body": text.decode("ascii"),
            "body_sha256": hashlib.sha256(text).hexdigest()}


def _same_seal(a: Seal, b: Seal) -> None:
    assert (a.size, a.root, a.chunks, a.source, a.sealed_at) == (
        b.size, b.root, b.chunks, b.source, b.sealed_at)
    assert a.heads == b.heads and a.record == b.record
    assert [a.leaf(i) for i in range(a.size)] == [b.leaf(i) for i in range(b.size)]


def test_both_formats_hold_the_same_seal(path: Path, store: EventStore) -> None:
    key = Ed25519PrivateKey.generate()
    v1 = seal_file.parse(_signed(store, key, FORMAT_1), "v1.json")
    v2 = seal_file.parse(_signed(store, key), "v2.json")
    assert (v1.format, v2.format) == (FORMAT_1, FORMAT) and v1.signer == v2.signer
    _same_seal(v1, v2)
    with closing(sqlite3.connect(path)) as conn:
        positions = [p for (p,) in conn.execute("SELECT position FROM events ORDER BY 1")]
    assert v2.size == 27 and positions[:9] == [1, 2, 4, 5, 6, 7, 8, 9, 12]
    for seal in (v1, v2):
        assert [seal.position(i) for i in range(seal.size)] == positions
        assert [seal.index_of_position(p) for p in positions] == list(range(seal.size))
        assert [seal.index_of_position(p) for p in (0, 3, 10, 11, 31, 99)] == [None] * 6
        assert seal.last_position == 30


def test_a_v2_seal_is_checked_as_its_docstring_tells_a_third_party(
        path: Path, store: EventStore, tmp_path: Path) -> None:
    """json, base64, zlib, struct, hashlib and cryptography, nothing of esaudit's."""
    key = Ed25519PrivateKey.generate()
    raw = _written(tmp_path, _signed(store, key)).read_bytes()
    document = json.loads(raw)
    header = {k: v for k, v in document.items() if k != "body"}

    def canonical(value: Any) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode("utf-8")

    assert raw == (canonical(header)[:-1] + b',\n"body":"' + document["body"].encode()
                   + b'"}\n')
    unsigned = {k: v for k, v in header.items() if k != "signature"}
    Ed25519PublicKey.from_public_bytes(base64.b64decode(header["public_key"])).verify(
        base64.b64decode(header["signature"]), canonical(unsigned))
    assert hashlib.sha256(document["body"].encode()).hexdigest() == header["body_sha256"]
    body = base64.b64decode(document["body"], validate=True)
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT position, stream_id, version, type, recorded_at, payload, "
                            "metadata FROM events ORDER BY position").fetchall()
    leaves = [hashlib.sha256(b"\x00" + envelope_bytes(*row[1:])).digest() for row in rows]
    runs = [leaves[i:i + 4] for i in range(0, len(leaves), 4)]
    assert header["chunks"] == [root_of(run).hex() for run in runs]
    at, streams = 0, header["streams"]
    heads = [body[sum(r[1] for r in header["runs"]) + 56 * k:][:56] for k in range(streams)]
    ids_at = sum(r[1] for r in header["runs"]) + 56 * streams
    ends = [0] + [struct.unpack("<Q", h[:8])[0] for h in heads]
    ids = [body[ids_at + ends[k]:ids_at + ends[k + 1]].decode() for k in range(streams)]
    assert ids == list(dict.fromkeys(row[1] for row in rows))  # as they first appear
    assert ids == ["s-0", "s-1", "s-3", "s-4", "s-2"] and len(body) == ids_at + ends[-1]
    for r, (first, length) in enumerate(header["runs"]):
        m = len(runs[r])
        record = zlib.decompress(body[at:at + length])
        at += length
        assert len(record) == 24 * m
        tags = [record[4 * j:4 * j + 4] for j in range(m)]
        numbers = struct.unpack(f"<{m}I", record[4 * m:8 * m])
        versions = struct.unpack(f"<{m}q", record[8 * m:16 * m])
        steps = struct.unpack(f"<{m}q", record[16 * m:24 * m])
        sealed = [(first + sum(steps[:j + 1]), ids[numbers[j]], versions[j], tags[j])
                  for j in range(m)]
        assert sealed == [(p, sid, v, leaf[:4]) for (p, sid, v, *_), leaf in zip(
            rows[4 * r:4 * r + m], runs[r], strict=True)]
    for k, entry in enumerate(heads):
        _end, index, version, leaf = struct.unpack("<QQq32s", entry)
        last = max(i for i, row in enumerate(rows) if row[1] == ids[k])
        assert (index, version, leaf) == (last, rows[last][2], leaves[last])


@pytest.mark.parametrize("layout", ["indented", "body first", "signature last"])
def test_a_v2_seal_laid_out_anew_still_verifies(store: EventStore, tmp_path: Path,
                                                layout: str) -> None:
    """The same JSON object in another text is the same seal: read whole, its signature
    checked over the same canonical header."""
    document = _signed(store, Ed25519PrivateKey.generate())
    exact = seal_file.load(_written(tmp_path, document))
    if layout == "indented":
        text = json.dumps(document, indent=2)
    elif layout == "body first":
        text = json.dumps({"body": document["body"], **document})
    else:
        text = json.dumps({**{k: v for k, v in document.items() if k != "signature"},
                           "signature": document["signature"]})
    other = tmp_path / "other.json"
    other.write_text(text)
    assert seal_file.split_layout(other.read_bytes()) is None
    again = seal_file.load(other)
    assert again.signer == exact.signer
    _same_seal(again, exact)


def _edit_line(raw: bytes, line: int, old: bytes, new: bytes) -> bytes:
    lines = raw.split(b"\n")
    assert old in lines[line]
    lines[line] = lines[line].replace(old, new, 1)
    return b"\n".join(lines)


@pytest.mark.parametrize("change", ["header value", "body character", "member after the body",
                                    "signature moved", "public key", "format"])
def test_a_v2_seal_changed_after_signing_is_refused(store: EventStore, tmp_path: Path,
                                                    change: str) -> None:
    document = _signed(store, Ed25519PrivateKey.generate())
    raw = _written(tmp_path, document).read_bytes()
    if change == "header value":  # in place, the layout kept: read from its first line
        changed = _edit_line(raw, 0, document["sealed_at"].encode(),
                             b"2001-01-01T00:00:00.000000Z")
        assert seal_file.split_layout(changed) is not None
    elif change == "body character":  # in the heads, which a proof reads two of
        body = document["body"]
        at = len(body) - 40
        flipped = "A" if body[at] != "A" else "B"
        changed = raw.replace(body.encode(), (body[:at] + flipped + body[at + 1:]).encode())
        assert seal_file.split_layout(changed) is not None
    elif change == "member after the body":  # read whole: the later "size" wins
        changed = raw[:-3] + b'","size":31}\n'
    elif change == "signature moved":
        moved = {k: v for k, v in document.items() if k != "signature"}
        moved["source"] = {**moved["source"], "signature": document["signature"]}
        changed = json.dumps(moved).encode()
    elif change == "public key":
        other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
        changed = _edit_line(raw, 0, document["public_key"].encode(),
                             base64.b64encode(other))
    else:
        changed = _edit_line(raw, 0, FORMAT.encode(), FORMAT_1.encode())
    bad = tmp_path / "bad.json"
    bad.write_bytes(changed)
    with pytest.raises(SealRefused) as refused:
        seal_file.load(bad)
    message = str(refused.value)
    assert "\n" not in message and str(bad) in message
    if change in ("header value", "body character", "public key"):
        assert "the signature does not hold" in message


def _run_record(document: dict[str, Any], r: int) -> tuple[int, int]:
    at = sum(length for _first, length in document["runs"][:r])
    return at, at + document["runs"][r][1]


@pytest.mark.parametrize("damage", ["body hash", "run record", "run length", "run position",
                                    "run steps", "runs", "streams", "head version", "tag",
                                    "stream id", "body cut"])
def test_a_damaged_unsigned_v2_seal_is_refused(store: EventStore, damage: str) -> None:
    """Unsigned, a /2 seal must still agree with itself: what is damaged is refused when it
    is read (one leaf's run for a proof; everything for verify)."""
    document = build_seal(store, chunk=4, format=FORMAT)
    body = _body(document)
    lo, hi = _run_record(document, 2)
    heads_at = sum(length for _first, length in document["runs"])
    if damage == "body hash":
        document["body_sha256"] = "00" * 32
    elif damage == "run record":
        document = _with_body(document, body[:lo] + bytes(hi - lo) + body[hi:])
    elif damage == "run length":  # one leaf short
        record = zlib.decompress(body[lo:hi])
        m = len(record) // 24
        starts = (0, 4 * m, 8 * m, 16 * m)
        short = b"".join(record[a:a + w * (m - 1)] for a, w in zip(starts, (4, 4, 8, 8),
                                                                  strict=True))
        block = zlib.compress(short)
        document["runs"][2][1] = len(block)
        document = _with_body(document, body[:lo] + block + body[hi:])
    elif damage == "run position":  # run 2 reaches past run 3's first position
        document["runs"][3][0] = document["runs"][2][0] + 1
    elif damage == "run steps":  # two leaves at one position
        record = bytearray(zlib.decompress(body[lo:hi]))
        record[-8:] = struct.pack("<q", 0)
        block = zlib.compress(bytes(record))
        document["runs"][2][1] = len(block)
        document = _with_body(document, body[:lo] + block + body[hi:])
    elif damage == "runs":
        document["runs"] = document["runs"][:-1]
    elif damage == "streams":
        document["streams"] += 1
    elif damage == "head version":
        entry = bytearray(body[heads_at + 56:heads_at + 112])
        entry[16:24] = struct.pack("<q", 99)
        document = _with_body(document, body[:heads_at + 56] + entry + body[heads_at + 112:])
    elif damage == "tag":  # the tag of s-1's head
        r, j = divmod(seal_file.parse(document, "s").heads[1].leaf_index, 4)
        lo, hi = _run_record(document, r)
        record = bytearray(zlib.decompress(body[lo:hi]))
        record[4 * j] ^= 1
        block = zlib.compress(bytes(record))
        document["runs"][r][1] = len(block)
        document = _with_body(document, body[:lo] + block + body[hi:])
    elif damage == "stream id":
        ids_at = heads_at + 56 * STREAMS
        document = _with_body(document, body[:ids_at] + b"\xff" + body[ids_at + 1:])
    else:
        document = _with_body(document, body[:-1])
    with pytest.raises(SealRefused) as refused:
        seal = seal_file.parse(document, "seal.json")
        seal.heads  # noqa: B018
    assert "\n" not in str(refused.value) and "seal.json" in str(refused.value)


@pytest.mark.parametrize("read", ["in memory", "in place"])
def test_a_v2_run_is_checked_when_a_leaf_of_it_is_read(store: EventStore, tmp_path: Path,
                                                       read: str) -> None:
    document = build_seal(store, chunk=4, format=FORMAT)
    body = _body(document)
    lo, hi = _run_record(document, 2)
    damaged = _with_body(document, body[:lo] + bytes(hi - lo) + body[hi:])
    seal = seal_file.parse(damaged, "s") if read == "in memory" else seal_file.load(
        _written(tmp_path, damaged), check_signature=False)
    assert seal.leaf(0).stream_id == "s-0" and seal.index_of_position(30) == 26
    with pytest.raises(SealRefused, match="the record of run 2"):
        seal.leaf(9)
    with pytest.raises(SealRefused, match="the record of run 2"):
        seal.index_of_position(12)


def test_a_signed_v2_seal_read_for_a_proof_is_not_hashed(store: EventStore,
                                                         tmp_path: Path) -> None:
    """``prove`` leaves the signature, and so the body's hash, to check-proof: it reads the
    run it proves from, whatever another run holds."""
    document = _signed(store, Ed25519PrivateKey.generate())
    body = _body(document)
    lo, hi = _run_record(document, 5)
    document["body"] = base64.b64encode(body[:lo] + bytes(hi - lo) + body[hi:]).decode()
    out = _written(tmp_path, document)
    with pytest.raises(SealRefused, match="the signature does not hold"):
        seal_file.load(out)
    seal = seal_file.load(out, check_signature=False)
    assert proof_check.check(build_proof(store, seal, "s-2", 2), seal).ok


def test_a_prover_reads_a_v2_seal_in_place_and_a_v1_seal_whole(
        store: EventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = Ed25519PrivateKey.generate()
    v2 = _written(tmp_path, _signed(store, key))
    v1 = _written(tmp_path, _signed(store, key, FORMAT_1), "v1.json")
    checked = seal_file.load(v2)
    reads: list[Path] = []
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        reads.append(self)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    in_place = seal_file.load(v2, check_signature=False)
    proof = build_proof(store, in_place, "s-2", 2)
    assert reads == [] and proof == build_proof(store, checked, "s-2", 2)
    assert proof_check.check(proof, checked).ok
    assert in_place.leaf(26) == checked.leaf(26) and in_place.last_position == 30
    _same_seal(seal_file.load(v1, check_signature=False), checked)
    assert reads == [v1]
    with pytest.raises(SealRefused, match="cannot read"):
        v2.unlink()
        in_place.leaf(20)


def test_stream_ids_of_any_text_and_an_empty_seal_round_trip() -> None:
    ids = ["plain", "é-ü", "\U0001f600", "with \"quotes\" and \\", "", "lone \ud800 surrogate"]
    leaves = [leaf_hash(f"{i}".encode()) for i in range(len(ids) + 2)]
    streams = [0, 1, 2, 3, 4, 5, 0, 5]
    versions = [1, 1, 1, 1, 1, 1, 2, 2]
    positions = [7, 8, 20, 21, 22, 40, 41, 2**40]
    last = {k: i for i, k in enumerate(streams)}
    heads = [SealedHead(sid, versions[last[k]], last[k], leaves[last[k]])
             for k, sid in enumerate(ids)]
    for size in (8, 0):
        chunks = [root_of(leaves[i:i + 2]) for i in range(0, size, 2)]
        document = seal_file.document(
            source=SealedSource("esaudit", "/x.db", "x"), sealed_at="2026-01-01T00:00:00Z",
            size=size, root=ChunkedTree(size, 2, chunks).root(), chunk=2, chunks=chunks,
            heads=heads if size else [], tags=b"".join(h[:4] for h in leaves[:size]),
            streams=array("I", streams[:size]), versions=array("q", versions[:size]),
            positions=array("q", positions[:size]))
        seal = seal_file.parse(json.loads(json.dumps(document)), "s")
        assert seal.heads == (tuple(heads) if size else ())
        assert [seal.leaf(i).stream_id for i in range(size)] == [ids[k] for k in
                                                                 streams[:size]]
        assert [seal.position(i) for i in range(size)] == positions[:size]
        assert seal.last_position == (2**40 if size else 0)


def test_verify_against_a_v2_seal_names_what_changed(path: Path, store: EventStore) -> None:
    v1 = seal_file.parse(build_seal(store, chunk=4), "v1")
    v2 = seal_file.parse(build_seal(store, chunk=4, format=FORMAT), "v2")
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("DELETE FROM events WHERE position = 17")
        conn.execute("""UPDATE events SET payload = '{"v":0}' WHERE position = 25""")
    store.refresh()
    found = [[(f.kind, f.stream_id, f.version, f.position)
              for f in check_against_seal(store, seal).findings] for seal in (v1, v2)]
    assert found[0] == found[1] and {kind for kind, *_ in found[1]} == {
        "removed_since_seal", "changed_since_seal"}
