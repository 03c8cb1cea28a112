"""The RFC 9162 tree against the Certificate Transparency reference vectors (as published in
transparency-dev/merkle's ``proof/verify_test.go`` and ``testonly``), and against the RFC's
recursive definition for every small size."""

from __future__ import annotations

import hashlib

import pytest

from esaudit.application.witness.merkle import (
    EMPTY_ROOT,
    ChunkedTree,
    leaf_hash,
    node_hash,
    root_of,
    split_point,
    verify_consistency,
    verify_inclusion,
)

INPUTS = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]

ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
"""MTH of the first 1..8 inputs."""


def h(text: str) -> bytes:
    return bytes.fromhex(text)


INCLUSION = [  # (leaf index, tree size, audit path)
    (0, 8, [h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (5, 8, [h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (1, 5, [h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
    (0, 1, []),
]

CONSISTENCY = [  # (old size, new size, consistency path)
    (1, 8, [h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (6, 8, [h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (2, 5, [h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
    (6, 7, [h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (1, 1, []),
]

LEAVES = [leaf_hash(x) for x in INPUTS]


def mth(leaves: list[bytes]) -> bytes:
    """The RFC's recursive definition, as written."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = split_point(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def test_the_empty_tree_and_the_prefixes() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_of([]) == EMPTY_ROOT
    assert LEAVES[0] == ROOTS[0]
    assert node_hash(LEAVES[0], LEAVES[1]) == ROOTS[1]


@pytest.mark.parametrize("n", range(1, 9))
def test_the_reference_roots(n: int) -> None:
    assert root_of(LEAVES[:n]) == ROOTS[n - 1]
    for chunk in (1, 2, 4, 1024):
        tree = ChunkedTree(n, chunk, leaves=LEAVES[:n])
        assert tree.root() == ROOTS[n - 1]


def test_the_split_is_the_largest_power_of_two_below() -> None:
    assert [split_point(n) for n in (2, 3, 4, 5, 6, 7, 8, 9, 1000, 1025)] == [
        1, 2, 2, 4, 4, 4, 4, 8, 512, 1024]


def test_bottom_up_equals_the_recursion_for_every_small_size() -> None:
    leaves = [leaf_hash(bytes([i, i * 7 % 256])) for i in range(70)]
    for n in range(71):
        assert root_of(leaves[:n]) == mth(leaves[:n]), n


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_the_reference_inclusion_paths(index: int, size: int, path: list[bytes]) -> None:
    root = ROOTS[size - 1]
    for chunk in (1, 2, 1024):
        assert ChunkedTree(size, chunk, leaves=LEAVES[:size]).inclusion_path(index) == path
    assert verify_inclusion(index, size, LEAVES[index], path, root)
    # What the reference verifier must refuse, and so must this one.
    assert not verify_inclusion(index + 1, size, LEAVES[index], path, root)
    assert not verify_inclusion(index, size * 2, LEAVES[index], path, root)
    assert not verify_inclusion(index, size, LEAVES[index], [*path, root], root)
    assert not verify_inclusion(index, size, LEAVES[index], [root, *path], root)
    assert not verify_inclusion(index, size, leaf_hash(b"WrongLeaf"), path, root)
    assert not verify_inclusion(index, size, LEAVES[index], path, EMPTY_ROOT)
    for i in range(len(path)):
        flipped = [*path]
        flipped[i] = bytes([path[i][0] ^ 8]) + path[i][1:]
        assert not verify_inclusion(index, size, LEAVES[index], flipped, root)
    if path:
        assert not verify_inclusion(index, size, LEAVES[index], path[:-1], root)


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_the_reference_consistency_paths(old: int, new: int, path: list[bytes]) -> None:
    for chunk in (1, 2, 1024):
        assert ChunkedTree(new, chunk, leaves=LEAVES[:new]).consistency_path(old) == path
    assert verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], path)
    if path:
        assert not verify_consistency(old, new, ROOTS[new - 1], ROOTS[old - 1], path)
        assert not verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], path[:-1])
        assert not verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], [])
        assert not verify_consistency(old - 1, new, ROOTS[old - 1], ROOTS[new - 1], path)
        for i in range(len(path)):
            flipped = [*path]
            flipped[i] = bytes([path[i][0] ^ 16]) + path[i][1:]
            assert not verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], flipped)


def test_every_proof_of_every_size_verifies_and_runs_stand_for_their_leaves() -> None:
    leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(37)]
    for n in range(1, 38):
        root = mth(leaves[:n])
        full = ChunkedTree(n, 4, leaves=leaves[:n])
        runs = [root_of(leaves[lo:min(lo + 4, n)]) for lo in range(0, n, 4)]
        for i in range(n):
            path = full.inclusion_path(i)
            assert verify_inclusion(i, n, leaves[i], path, root)
            # A tree that knows only the runs' hashes and the leaves of leaf i's own run.
            lo = i - i % 4
            sparse = ChunkedTree(n, 4, runs, leaves[lo:lo + 4], lo)
            assert sparse.inclusion_path(i) == path
            assert sparse.root() == root
        for m in range(n + 1):
            assert verify_consistency(m, n, mth(leaves[:m]), root, full.consistency_path(m))


def test_a_run_of_leaves_that_is_not_known_is_said_so() -> None:
    tree = ChunkedTree(8, 4, [], LEAVES[:4], 0)
    with pytest.raises(LookupError):
        tree.root()
