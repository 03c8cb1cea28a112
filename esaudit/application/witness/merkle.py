"""The Merkle tree of RFC 9162 (Certificate Transparency v2, §2.1), on hashlib alone.

Hashes, for an ordered list of leaf inputs ``D[n]``::

    leaf hash   = SHA-256(0x00 || leaf input)
    node hash   = SHA-256(0x01 || left || right)
    MTH({})     = SHA-256("")
    MTH(D[1])   = leaf hash of D[0]
    MTH(D[n])   = node(MTH(D[0:k]), MTH(D[k:n]))   k: the largest power of two smaller than n

Inclusion paths (§2.1.3) and consistency paths (§2.1.4) are built and checked exactly as the
RFC writes them; ``tests/esaudit/test_merkle.py`` holds the Certificate Transparency reference
vectors (the roots of the 8 inputs "", 00, 10, 2021, 3031, 40414243, 5051525354555657 and
606162..6f, and published inclusion and consistency proofs).

A seal keeps the hashes of every run of ``chunk`` leaves (a power of two, aligned: each is a
node of the tree, the last run possibly shorter). ``ChunkedTree`` answers any subtree hash from
those and whichever leaves it was given, so a proof for one event needs the leaves of its own
run only, and today's tree over a million events costs a thousand node hashes above its runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf input."""
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node from its two children."""
    return _sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2): where MTH splits ``D[n]``."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes.

    Bottom-up, pairing left to right and carrying an odd last node up a level unchanged: the
    same tree as the RFC's split at the largest power of two (tested against the recursion),
    without recursion or slicing.
    """
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    sha = _sha256
    while len(level) > 1:
        odd = level[-1] if len(level) % 2 else None
        level = [sha(NODE_PREFIX + a + b).digest()
                 for a, b in zip(level[::2], level[1::2], strict=False)]
        if odd is not None:
            level.append(odd)
    return level[0]


class ChunkedTree:
    """A tree of ``size`` leaves, known through the hashes of its aligned runs of ``chunk``
    leaves and any leaves given (``leaves[i]`` is leaf ``first_leaf + i``).

    ``subtree(lo, hi)`` is MTH of leaves ``lo..hi-1``; a run's hash stands for its leaves, so
    only ranges that cut a run need that run's leaves (LookupError otherwise).

    A range of whole runs (the tree's last, shorter run included) is the RFC tree over their
    hashes as if they were leaves: every split of more than one run's worth of leaves falls
    on a run boundary (a power of two at least the run length), and splits the runs where
    MTH would split that many leaves. So ``root_of`` the runs' hashes answers it bottom-up,
    without a call per node: the root a seal is checked against and the upper part of every
    inclusion path.
    """

    def __init__(self, size: int, chunk: int, chunk_hashes: Sequence[bytes] = (),
                 leaves: Sequence[bytes] = (), first_leaf: int = 0) -> None:
        if chunk < 1 or chunk & (chunk - 1):
            raise ValueError(f"the run length must be a power of two, not {chunk}")
        self.size = size
        self.chunk = chunk
        self._chunks = chunk_hashes
        self._leaves = leaves
        self._first = first_leaf

    def subtree(self, lo: int, hi: int) -> bytes:
        if not 0 <= lo <= hi <= self.size:
            raise ValueError(f"leaves {lo}..{hi} are not in a tree of {self.size}")
        if lo == hi:
            return EMPTY_ROOT
        chunk = self.chunk
        if lo % chunk == 0 and (hi % chunk == 0 or hi == self.size) and -(-hi // chunk) <= len(
                self._chunks):
            return root_of(self._chunks[lo // chunk:-(-hi // chunk)])
        first = self._first
        if hi - lo <= chunk and first <= lo and hi <= first + len(self._leaves):
            return root_of(self._leaves[lo - first:hi - first])
        if hi - lo == 1:
            raise LookupError(f"leaf {lo} is not known to this tree")
        k = split_point(hi - lo)
        return node_hash(self.subtree(lo, lo + k), self.subtree(lo + k, hi))

    def root(self) -> bytes:
        return self.subtree(0, self.size)

    def inclusion_path(self, index: int) -> list[bytes]:
        """PATH(index, D[size]) of §2.1.3.1: the siblings from the leaf up to the root."""
        if not 0 <= index < self.size:
            raise ValueError(f"leaf {index} is not in a tree of {self.size}")
        return self._path(index, 0, self.size)

    def _path(self, m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = split_point(n)
        if m < k:
            return [*self._path(m, lo, lo + k), self.subtree(lo + k, hi)]
        return [*self._path(m - k, lo + k, hi), self.subtree(lo, lo + k)]

    def consistency_path(self, old_size: int) -> list[bytes]:
        """PROOF(old_size, D[size]) of §2.1.4.1: what shows the tree of the first
        ``old_size`` leaves is the beginning of this one."""
        if not 0 <= old_size <= self.size:
            raise ValueError(f"a tree of {old_size} is not a prefix of a tree of {self.size}")
        if old_size in (0, self.size):
            return []
        return self._subproof(old_size, 0, self.size, True)

    def _subproof(self, m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if complete else [self.subtree(lo, hi)]
        k = split_point(n)
        if m <= k:
            return [*self._subproof(m, lo, lo + k, complete), self.subtree(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self.subtree(lo, lo + k)]


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes],
                        ) -> bytes | None:
    """The root an inclusion path leads to (§2.1.3.2), or None where the path cannot be one
    for that index and size (too long, too short, a hash of the wrong length)."""
    if not 0 <= index < size or len(leaf) != HASH_SIZE:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0 or len(p) != HASH_SIZE:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes],
                     root: bytes) -> bool:
    """Whether ``path`` proves leaf hash ``leaf`` is leaf ``index`` of the tree ``root``."""
    return root_from_inclusion(index, size, leaf, path) == root


def verify_consistency(old_size: int, size: int, old_root: bytes, root: bytes,
                       path: Sequence[bytes]) -> bool:
    """Whether ``path`` proves the tree ``old_root`` of ``old_size`` leaves is the beginning
    of the tree ``root`` of ``size`` leaves (§2.1.4.2)."""
    if not 0 <= old_size <= size or any(len(c) != HASH_SIZE for c in path):
        return False
    if old_size == size:
        return not path and old_root == root
    if old_size == 0:
        return not path
    if not path:
        return False
    nodes = list(path)
    if old_size & (old_size - 1) == 0:
        nodes.insert(0, old_root)
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == root
