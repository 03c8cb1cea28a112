"""The canonical bytes of each event: what a seal's leaf hashes, for every kind of source.

A leaf is ``SHA-256(0x00 || canonical event bytes)``. The canonical event bytes are always the
canonical JSON (store/hashing.py's recipe) of the six-element array::

    [stream_id, version, type, recorded_at, payload, metadata]

``recorded_at`` being the 27-character UTC text ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, encoded as
UTF-8 (a lone surrogate, which only another program's JSON can hold, as its three bytes:
Python's ``surrogatepass``). What goes into it depends on the kind of source:

esaudit
    The event's envelope exactly as store/hashing.py defines it: the stored ``payload`` and
    ``metadata`` texts spliced in, the very bytes its hash chain covers after the previous
    hash. A leaf is recomputed from the ``events`` table alone.

eventsourcing
    The event as esaudit reads it (store/sources/eventsourcing.py): ``stream_id`` the
    originator id as the application prints it (a UUID with dashes), ``version`` the
    originator version, ``type`` the event class's name, ``recorded_at`` the state's
    ``timestamp``, ``payload`` the decoded state (decompressed, decrypted) without
    ``timestamp``, ``metadata`` ``{"esaudit:provenance": {"kind": "eventsourcing", "topic",
    "originator_version", "state" (how it was stored: json, zlib+json, aes-gcm+json...),
    "timestamp" (the stored text)}}``.

emmett
    ``stream_id`` and ``version`` (``stream_position``) as stored, ``type`` the
    ``message_type``, ``recorded_at`` the ``created`` time, ``payload`` the ``message_data``
    (under ``"value"`` when it is not an object), ``metadata`` the ``message_metadata`` plus
    ``"esaudit:provenance": {"kind": "emmett", "message_id", "stream_position",
    "message_type", "message_kind", "message_schema_version", "transaction_id", "partition",
    "created"}``.

That is, for a store another program wrote, the envelope ``esaudit export`` writes for the
event, less the source's position (``notification_id``, ``global_position``): a leaf never
holds a position, since the order is the tree's own; so a reordering shows as events that
moved rather than as every event rewritten, and a leaf is recomputed from an export line by
dropping that one key. Any change to what the stored row says (a payload, a time, a topic, a
message id, the encoding) changes the leaf; re-encoding a state that decodes to the same
values (compressing it again, encrypting it under a new key) records the encoding only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from store import Source
from store.hashing import ChainHasher, canonical_json, iso_from_us, us_from_instant
from store.records import PROVENANCE_KEY

POSITION_KEYS: Mapping[str, str] = {"eventsourcing": "notification_id",
                                    "emmett": "global_position"}
"""The provenance key holding the source's own position, left out of the leaf."""

CanonicalEvent = tuple[int, str, int, bytes]
"""(position, stream_id, version, canonical event bytes)."""


def canonical_events(source: Source, after_position: int = 0, *,
                     to_position: int | None = None) -> Iterator[CanonicalEvent]:
    """Every event of the source after a position (up to ``to_position``), in position
    order, with its canonical bytes."""
    if source.identity.kind == "esaudit":
        return _own(source, after_position, to_position)
    return _foreign(source, after_position, to_position)


def _own(source: Source, after_position: int, to_position: int | None,
         ) -> Iterator[CanonicalEvent]:
    """The stored texts spliced into the envelope (``ChainHasher``'s splice, byte-identical
    to ``envelope_bytes``: no payload decoded)."""
    hasher = ChainHasher()
    name_json, iso = hasher.name_json, hasher.iso
    for position, sid, _stype, version, type_, at, payload, meta, _hash in (
            source.iter_raw_events(after_position, to_position=to_position)):
        yield position, sid, version, (
            f'[{name_json(sid)},{version},{name_json(type_)},"{iso(at)}",{payload},{meta}]'
        ).encode("utf-8", "surrogatepass")


def _foreign(source: Source, after_position: int, to_position: int | None,
             ) -> Iterator[CanonicalEvent]:
    kind = source.identity.kind
    dropped = POSITION_KEYS.get(kind)
    for e in source.iter_events(after_position, to_position=to_position):
        provenance: dict[str, Any] = {"kind": kind}
        provenance.update((k, v) for k, v in e.provenance.items() if k != dropped)
        metadata = {**e.metadata, PROVENANCE_KEY: provenance}
        yield e.position, e.stream_id, e.version, envelope_text(
            e.stream_id, e.version, e.type, us_from_instant(e.recorded_at),
            canonical_json(e.payload), canonical_json(metadata))


def envelope_text(stream_id: str, version: int, type_: str, recorded_at_us: int,
                  payload_json: str, metadata_json: str) -> bytes:
    """``store.hashing.envelope_bytes``, encoded so that a lone surrogate survives."""
    head = canonical_json([stream_id, version, type_, iso_from_us(recorded_at_us)])
    return f"{head[:-1]},{payload_json},{metadata_json}]".encode("utf-8", "surrogatepass")
