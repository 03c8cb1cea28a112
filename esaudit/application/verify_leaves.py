"""Seal leaves gathered by verify's own walk, so that verifying against a seal reads and
builds each event's canonical envelope once instead of twice.

The hash chain and a seal's leaves hash the same envelope text (``ChainHasher.envelope_text``):
the chain as ``sha256(previous hash + envelope)``, a leaf as ``sha256(0x00 + envelope)``
(``witness.leaves``). When verify walks the whole of esaudit's store it can hand each event's
leaf on at the cost of one more hash; the seal check then compares runs of them with the seal
without walking the store again. The columns are flat arrays, not a tuple per event: a
million leaves take ~60 MB, and they cross from verify's second process as four values.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterator
from typing import Any

LeafEvent = tuple[int, str, int, bytes]
"""(position, stream_id, version, leaf hash) of an event."""

_SHA256 = hashlib.sha256


def leaf_of(envelope: str) -> bytes:
    """RFC 9162's leaf hash of an envelope text (``witness.leaves`` documents the bytes)."""
    return _SHA256(b"\x00" + envelope.encode("utf-8", "surrogatepass")).digest()


class LeafColumns:
    """Every walked event's position, stream, version and leaf, in position order."""

    __slots__ = ("leaves", "positions", "stream_ids", "versions")

    def __init__(self) -> None:
        self.positions = array("q")
        self.stream_ids: list[str] = []
        self.versions = array("q")
        self.leaves = bytearray()

    def __len__(self) -> int:
        return len(self.positions)

    def state(self) -> tuple[bytes, list[str], bytes, bytes]:
        """The columns in types marshal carries (arrays as their bytes, native order: the
        other end is a process of this same machine)."""
        return (self.positions.tobytes(), self.stream_ids, self.versions.tobytes(),
                bytes(self.leaves))

    def extend(self, state: tuple[Any, ...]) -> None:
        """Append the columns of a ``state()`` (a later run of positions)."""
        positions, stream_ids, versions, leaves = state
        self.positions.frombytes(positions)
        self.stream_ids.extend(stream_ids)
        self.versions.frombytes(versions)
        self.leaves += leaves

    @property
    def last_position(self) -> int:
        return self.positions[-1] if self.positions else 0

    def runs(self, size: int) -> Iterator[list[LeafEvent]]:
        """The events in runs of ``size`` (the last one shorter), as a walk of the store
        would give them."""
        for lo, hi, _leaves in self.leaf_runs(size):
            yield self.events(lo, hi)

    def leaf_runs(self, size: int) -> Iterator[tuple[int, int, list[bytes]]]:
        """(lo, hi, the leaves of events lo..hi-1) for runs of ``size``: what comparing runs
        with a seal needs, without a tuple per event."""
        leaves = bytes(self.leaves)
        for lo in range(0, len(self.positions), size):
            hi = min(lo + size, len(self.positions))
            yield lo, hi, [leaves[k:k + 32] for k in range(32 * lo, 32 * hi, 32)]

    def events(self, lo: int, hi: int) -> list[LeafEvent]:
        """Events ``lo..hi-1`` whole."""
        leaves = self.leaves
        return [(self.positions[i], self.stream_ids[i], self.versions[i],
                 bytes(leaves[32 * i:32 * i + 32])) for i in range(lo, hi)]

