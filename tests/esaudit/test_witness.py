"""The witness on esaudit's own store: seals, verification against a seal, inclusion proofs.

Runs of 4 leaves (``chunk=4``) so that a history of a few dozen events spans many runs, as a
real one spans many runs of 1024; one test seals with the real run length."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

import esaudit.application.verify as verify_module
import esaudit.application.witness.walk as walk_module
from esaudit.application.verify_leaves import LeafColumns
from esaudit.application.witness import proof_check, seal_file
from esaudit.application.witness.against import check_against_seal, verify_against_seal
from esaudit.application.witness.merkle import leaf_hash, root_of, verify_consistency
from esaudit.application.witness.proving import NotProvable, build_proof
from esaudit.application.witness.seal_file import Seal, SealRefused
from esaudit.application.witness.sealing import build_seal
from store import ANY, EventStore, NewEvent, open_store
from store.hashing import chain_hash, envelope_bytes

STREAMS, VERSIONS = 5, 6


def _append(store: EventStore, first: int, last: int) -> None:
    for v in range(first, last + 1):
        for s in range(STREAMS):
            store.append(f"s-{s}", "Order", [NewEvent("Touched", {"v": v, "s": s},
                                                      {"actor": "tester"})], ANY)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """30 events of 5 interleaved streams (position 5k+s+1 is s-{s} version k+1)."""
    p = tmp_path / "w.db"
    with open_store(p, synchronous="NORMAL") as st:
        _append(st, 1, VERSIONS)
    return p


@pytest.fixture
def store(path: Path) -> Iterator[EventStore]:
    with open_store(path, read_only=True) as st:
        yield st


def sealed(store: EventStore, **kw: Any) -> Seal:
    return seal_file.parse(build_seal(store, chunk=4, **kw), "seal.json")


def sql(path: Path, *statements: str) -> None:
    with closing(sqlite3.connect(path)) as conn, conn:
        for statement in statements:
            conn.execute(statement)


def found(store: EventStore, seal: Seal) -> list[tuple[str, str, int | None, int | None]]:
    store.refresh()
    return [(f.kind, f.stream_id, f.version, f.position)
            for f in check_against_seal(store, seal).findings]


def test_a_leaf_is_the_envelope_store_hashing_documents(path: Path, store: EventStore) -> None:
    seal = sealed(store)
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT stream_id, version, type, recorded_at, payload, metadata "
                            "FROM events ORDER BY position").fetchall()
    leaves = [hashlib.sha256(b"\x00" + envelope_bytes(*row)).digest() for row in rows]
    assert seal.size == 30 and seal.root == root_of(leaves)
    assert seal.chunks == tuple(root_of(leaves[i:i + 4]) for i in range(0, 30, 4))
    assert [(h.stream_id, h.version, h.leaf_index) for h in seal.heads] == [
        (f"s-{s}", VERSIONS, 25 + s) for s in range(STREAMS)]
    assert seal.heads[0].leaf == leaves[25]
    assert seal.leaf(7) == seal_file.SealedLeaf(7, "s-2", 2, 8, leaves[7][:4])


def test_the_real_run_length_seals_the_same_root(store: EventStore) -> None:
    assert seal_file.parse(build_seal(store), "s").root == sealed(store).root


def test_an_untouched_history_verifies_clean_and_later_appends_are_counted(
        path: Path, store: EventStore) -> None:
    seal = sealed(store)
    check = check_against_seal(store, seal)
    assert check.ok and check.appended == 0 and check.current_root == seal.root.hex()
    with open_store(path) as writer:
        _append(writer, VERSIONS + 1, VERSIONS + 2)  # 10 more, the application going on
    store.refresh()
    check = check_against_seal(store, seal)
    assert check.ok and check.appended == 10 and check.current_size == 40
    today = sealed(store)
    assert check.current_root == today.root.hex()
    assert verify_consistency(30, 40, seal.root, today.root,
                              [bytes.fromhex(h) for h in check.consistency or ()])
    assert check.as_json() == {
        "size": 30, "root": seal.root.hex(), "appended": 10, "sealed_at": seal.sealed_at,
        "signed": False, "current_root": today.root.hex(),
        "consistency": list(check.consistency or ())}


def test_an_empty_store_seals_the_empty_tree(tmp_path: Path) -> None:
    with open_store(tmp_path / "empty.db") as st:
        seal = sealed(st)
        assert (seal.size, seal.root.hex(), seal.heads) == (
            0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ())
        _append(st, 1, 1)
        check = check_against_seal(st, seal)
    assert check.ok and check.appended == STREAMS and check.consistency == ()


def test_an_edit_with_a_consistently_recomputed_chain_is_named(
        path: Path, store: EventStore) -> None:
    seal = sealed(store)
    # A forger with write access rewrites s-1 version 3 and every later hash of s-1 and its
    # head: the store's own verify has nothing to object to.
    with closing(sqlite3.connect(path)) as conn, conn:
        rows = conn.execute("SELECT position, version, type, recorded_at, payload, metadata "
                            "FROM events WHERE stream_id = 's-1' ORDER BY version").fetchall()
        previous = ""
        for position, version, type_, at, payload, meta in rows:
            if version == 3:
                payload = '{"s":1,"v":300}'
            previous = chain_hash(previous, envelope_bytes("s-1", version, type_, at, payload,
                                                           meta))
            conn.execute("UPDATE events SET payload = ?, hash = ? WHERE position = ?",
                         (payload, previous, position))
        conn.execute("UPDATE streams SET head_hash = ? WHERE stream_id = 's-1'", (previous,))
    store.refresh()
    result = verify_against_seal(store, seal)
    assert [f.kind for f in result.report.findings] == ["changed_since_seal"]
    assert found(store, seal) == [("changed_since_seal", "s-1", 3, 12)]
    assert not result.ok and result.as_json()["seal"]["current_root"] is None


def test_a_deleted_event_is_named_with_its_sealed_position(path: Path,
                                                           store: EventStore) -> None:
    seal = sealed(store)
    sql(path, "DELETE FROM events WHERE position = 9")
    assert found(store, seal) == [("removed_since_seal", "s-3", 2, 9)]


def test_two_swapped_events_are_both_named(path: Path, store: EventStore) -> None:
    seal = sealed(store)
    sql(path, "UPDATE events SET position = -1 WHERE position = 14",
        "UPDATE events SET position = 14 WHERE position = 22",
        "UPDATE events SET position = 22 WHERE position = -1")
    assert found(store, seal) == [("moved_since_seal", "s-1", 5, 14),
                                  ("moved_since_seal", "s-3", 3, 22)]


def test_a_dropped_tail_and_an_event_slipped_in_are_named(path: Path,
                                                          store: EventStore) -> None:
    seal = sealed(store)
    sql(path, "DELETE FROM events WHERE position >= 29",
        "UPDATE events SET position = 100 WHERE position = 1",
        "INSERT INTO events SELECT 1, 'x-1', 'Order', 1, 'Touched', recorded_at, payload, "
        "metadata, hash FROM events WHERE position = 2")
    assert found(store, seal) == [("inserted_since_seal", "x-1", 1, 1),
                                  ("removed_since_seal", "s-3", 6, 29),
                                  ("removed_since_seal", "s-4", 6, 30),
                                  ("moved_since_seal", "s-0", 1, 100)]


@pytest.mark.parametrize("seed", range(3))
def test_two_processes_seal_and_verify_as_one_walk(path: Path, seed: int,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The second process takes over at every position in turn."""
    with open_store(path, read_only=True) as st:
        alone = build_seal(st, chunk=4)
    sql(path, f"DELETE FROM events WHERE position = {seed * 5 + 3}")
    with open_store(path, read_only=True) as st:
        expected = found(st, seal_file.parse(alone, "s"))
    for split in range(seed * 2, 30, 7):
        monkeypatch.setattr(walk_module, "_split_point", lambda total, s=split: s)
        with open_store(path, read_only=True) as st:
            assert found(st, seal_file.parse(alone, "s")) == expected
    sql(path, f"INSERT INTO events SELECT {seed * 5 + 3}, 'y', 'Order', 1, 'Touched', "
              "recorded_at, payload, metadata, hash FROM events WHERE position = 1")
    monkeypatch.setattr(walk_module, "_split_point", lambda total: None)
    with open_store(path, read_only=True) as st:
        single = build_seal(st, chunk=4, now=None)
    monkeypatch.setattr(walk_module, "_split_point", lambda total: 17 - seed)
    with open_store(path, read_only=True) as st:
        halves = build_seal(st, chunk=4)
    assert {k: v for k, v in halves.items() if k != "sealed_at"} == {
        k: v for k, v in single.items() if k != "sealed_at"}


def test_a_signed_seal_1_is_signed_over_its_canonical_bytes(store: EventStore) -> None:
    """esaudit-seal/1, which seals written before /2 are in (/2: test_seal_format.py)."""
    key = Ed25519PrivateKey.generate()
    document = build_seal(store, key=key, chunk=4, format=seal_file.FORMAT_1)
    seal = seal_file.parse(document, "s")
    assert seal.signed and seal.signer == "sha256:" + hashlib.sha256(
        base64.b64decode(document["public_key"])).hexdigest()
    unsigned = {k: v for k, v in document.items() if k != "signature"}
    message = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                         allow_nan=False).encode()
    Ed25519PublicKey.from_public_bytes(base64.b64decode(document["public_key"])).verify(
        base64.b64decode(document["signature"]), message)
    assert set(document) == {"format", "source", "sealed_at", "size", "root", "chunk_size",
                             "chunks", "heads", "leaves", "public_key", "signature"}
    assert document["source"] == {"kind": "esaudit", "target": store.identity.target,
                                  "label": store.label}


@pytest.mark.parametrize("damage", ["root", "chunk", "head", "tag", "size", "format",
                                    "signature", "other key"])
def test_a_damaged_or_re_signed_seal_is_refused(store: EventStore, damage: str) -> None:
    """Unsigned, a seal must still agree with itself; signed, any change breaks the
    signature; signed again by another key, it says so by its fingerprint."""
    key = Ed25519PrivateKey.generate()
    document = build_seal(store, key=key if damage == "signature" else None, chunk=4,
                          format=seal_file.FORMAT_1)  # /2's damage: test_seal_format.py
    if damage == "root":
        document["root"] = "00" * 32
    elif damage == "chunk":
        document["chunks"][2] = "11" * 32
    elif damage == "head":
        document["heads"][1][3] = "22" * 32
    elif damage == "tag":
        tags = bytearray(base64.b64decode(document["leaves"]["tag"]))
        tags[4 * 26] ^= 1  # the tag of s-1's head
        document["leaves"]["tag"] = base64.b64encode(bytes(tags)).decode()
    elif damage == "size":
        document["size"] = 31
    elif damage == "format":
        document["format"] = "esaudit-seal/0"
    elif damage == "signature":
        document["sealed_at"] = "2000-01-01T00:00:00.000000Z"
    else:  # signed again by someone else: the signature holds, the fingerprint says who
        signed = seal_file.signed(document, key.public_key().public_bytes_raw(), key.sign)
        other = Ed25519PrivateKey.generate()
        resigned = seal_file.signed(signed, other.public_key().public_bytes_raw(), other.sign)
        assert seal_file.parse(resigned, "s").signer != seal_file.parse(signed, "s").signer
        return
    with pytest.raises(SealRefused) as refused:
        seal_file.parse(document, "seal.json").heads  # noqa: B018
    assert "\n" not in str(refused.value) and "seal.json" in str(refused.value)


def test_a_seal_of_another_store_is_refused(store: EventStore, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with open_store(other) as st:
        _append(st, 1, 1)
        seal = sealed(st)
    with pytest.raises(SealRefused, match="seals another source"):
        verify_against_seal(store, seal)
    with pytest.raises(SealRefused, match="seals another source"):
        build_proof(store, seal, "s-0", 1)


def test_an_inclusion_proof_holds_and_grows_with_log_n(path: Path, store: EventStore) -> None:
    seal = sealed(store)
    proof = build_proof(store, seal, "s-2", 4)
    assert (proof["leaf_index"], proof["position"]) == (17, 18)
    assert proof_check.check(proof, seal).as_json() == {
        "ok": True, "stream_id": "s-2", "version": 4, "leaf_index": 17, "size": 30}
    assert json.loads(proof["event"])[:3] == ["s-2", 4, "Touched"]
    assert leaf_hash(proof["event"].encode())[:4] == seal.leaf(17).tag
    assert len(proof["audit_path"]) == 5  # ceil(log2 30)
    for i in range(seal.size):
        leaf = seal.leaf(i)
        assert proof_check.check(build_proof(store, seal, leaf.stream_id, leaf.version),
                                 seal).ok
    with open_store(path) as writer:  # grows to 1,030 events: 11 hashes
        for v in range(VERSIONS + 1, VERSIONS + 201):
            for s in range(STREAMS):
                writer.append(f"s-{s}", "Order", [NewEvent("Touched", {"v": v})], ANY)
    store.refresh()
    big = seal_file.parse(build_seal(store), "s")
    assert len(build_proof(store, big, "s-4", 150)["audit_path"]) == 11


@pytest.mark.parametrize("field", ["event", "audit_path", "leaf_index", "version",
                                   "stream_id"])
def test_a_proof_with_one_byte_changed_does_not_hold(store: EventStore, field: str) -> None:
    seal = sealed(store)
    proof = build_proof(store, seal, "s-2", 4)
    if field == "event":
        proof["event"] = proof["event"].replace('"v":4', '"v":5')
    elif field == "audit_path":
        node = proof["audit_path"][2]  # its first hex digit changed, whatever it was
        proof["audit_path"][2] = ("1" if node[0] == "0" else "0") + node[1:]
    elif field == "leaf_index":
        proof["leaf_index"] = 16
    elif field == "version":
        proof["version"] = 5
    else:
        proof["stream_id"] = "s-3"
    result = proof_check.check(proof, seal)
    assert not result.ok and result.reason


def test_a_proof_for_another_seal_is_refused(path: Path, store: EventStore) -> None:
    first = sealed(store)
    proof = build_proof(store, first, "s-0", 1)
    with open_store(path) as writer:
        _append(writer, VERSIONS + 1, VERSIONS + 1)
    store.refresh()
    later = sealed(store)
    with pytest.raises(SealRefused, match="for another seal"):
        proof_check.check(proof, later)
    assert proof_check.check(build_proof(store, later, "s-0", 1), later).ok


def test_only_what_was_sealed_is_ever_proved(path: Path, store: EventStore) -> None:
    seal = sealed(store)
    with open_store(path) as writer:
        _append(writer, VERSIONS + 1, VERSIONS + 1)
    sql(path, """UPDATE events SET payload = '{"v":0}' WHERE position = 10""")
    store.refresh()
    with pytest.raises(ValueError, match="appended after the seal"):
        build_proof(store, seal, "s-0", VERSIONS + 1)
    with pytest.raises(NotProvable, match="changed since the seal"):
        build_proof(store, seal, "s-1", 3)  # position 12, in the run of position 10
    with pytest.raises(ValueError, match="no version 99"):
        build_proof(store, seal, "s-1", 99)
    assert proof_check.check(build_proof(store, seal, "s-1", 4), seal).ok  # another run


def test_the_checks_a_third_party_runs_import_no_database_code() -> None:
    code = ("import sys; "
            "import esaudit.application.witness.proof_check, esaudit.application.witness.keys; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('sqlalchemy', 'store', 'orjson', 'PySide6', 'psycopg')); print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2]).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("gap", [None, 6, 21])
def test_a_seal_built_in_two_processes_is_the_one_a_single_walk_builds(
        path: Path, gap: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second process takes the roots of its runs: where the first half ends on a run
    boundary they stand, elsewhere (a split off the boundary, a gap in the positions) they
    are taken again from its leaves; either way the seal is a single walk's."""
    if gap is not None:
        sql(path, f"DELETE FROM events WHERE position = {gap}")
    monkeypatch.setattr(walk_module, "_split_point", lambda total: None)
    with open_store(path, read_only=True) as st:
        single = build_seal(st, chunk=4)
    taken_again: list[int] = []
    carried = walk_module._carried
    monkeypatch.setattr(walk_module, "_carried", lambda carry, block, size: (
        taken_again.append(len(carry)), carried(carry, block, size))[1])
    for split in range(0, 31):
        monkeypatch.setattr(walk_module, "_split_point", lambda total, s=split: s)
        with open_store(path, read_only=True) as st:
            halves = build_seal(st, chunk=4, now=None)
        assert {k: v for k, v in halves.items() if k != "sealed_at"} == {
            k: v for k, v in single.items() if k != "sealed_at"}, split
    # Only where the first half's events do not fill whole runs are the roots taken again.
    first_half = [split - (gap is not None and gap <= split) for split in range(0, 31)]
    assert taken_again == [n % 4 for n in first_half if n % 4]
    monkeypatch.setattr(walk_module, "_BLOCKS_ENTRY", "tests.worker_fakes:exits_at_once")
    monkeypatch.setattr(walk_module, "_split_point", lambda total: 12)
    with open_store(path, read_only=True) as st:
        failed = build_seal(st, chunk=4)
    assert {k: v for k, v in failed.items() if k != "sealed_at"} == {
        k: v for k, v in single.items() if k != "sealed_at"}


@pytest.mark.parametrize("split", [None, 1, 8, 17, 29])
def test_verify_against_a_seal_reads_the_store_once_and_finds_what_a_fresh_walk_finds(
        path: Path, split: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Verify's walk gathers every leaf (its second process too, wherever it takes over):
    exactly the leaves a walk of its own reads, so the seal check finds the same."""
    with open_store(path, read_only=True) as st:
        seal = sealed(st)
    sql(path, "UPDATE events SET payload = '{\"v\":99}' WHERE position = 12",
        "DELETE FROM events WHERE position = 20")
    _append_more(path)
    monkeypatch.setattr(verify_module, "_split_point", lambda total: split)
    with open_store(path, read_only=True) as st:
        gathered = LeafColumns()
        report = verify_module.verify(st, leaves=gathered)
        assert [(f.kind, f.position) for f in report.findings][:1] == [("hash_mismatch", 12)]
        walked = list(walk_module.leaf_runs(st, to_position=st.head_position(), size=4))
        assert list(gathered.runs(4)) == walked
        fresh = check_against_seal(st, seal)
        both = verify_against_seal(st, seal)
    assert both.seal == fresh
    assert [(f.kind, f.stream_id, f.version) for f in fresh.findings] == [
        ("changed_since_seal", "s-1", 3), ("removed_since_seal", "s-4", 4)]
    assert fresh.appended == 5


def _append_more(path: Path) -> None:
    with open_store(path, synchronous="NORMAL") as st:
        _append(st, VERSIONS + 1, VERSIONS + 1)
