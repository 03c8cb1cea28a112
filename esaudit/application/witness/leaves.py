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
from itertools import chain, islice
from typing import Any

from store import Source
from store.hashing import ChainHasher, canonical_json, iso_from_us, us_from_instant
from store.records import PROVENANCE_KEY

POSITION_KEYS: Mapping[str, str] = {"eventsourcing": "notification_id",
                                    "emmett": "global_position"}
"""The provenance key holding the source's own position, left out of the leaf."""

CanonicalEvent = tuple[int, str, int, bytes]
"""(position, stream_id, version, canonical event bytes)."""

RUN = 1024
"""Events per run handed out (a seal's run of leaves)."""


def canonical_events(source: Source, after_position: int = 0, *,
                     to_position: int | None = None) -> Iterator[CanonicalEvent]:
    """Every event of the source after a position (up to ``to_position``), in position
    order, with its canonical bytes."""
    return chain.from_iterable(canonical_runs(source, after_position,
                                              to_position=to_position))


def canonical_runs(source: Source, after_position: int = 0, *,
                   to_position: int | None = None, size: int = RUN,
                   ) -> Iterator[list[CanonicalEvent]]:
    """``canonical_events`` in lists of ``size`` (the last one shorter): a walk over a
    million events handles them a run at a time, in comprehensions."""
    if source.identity.kind == "esaudit":
        return _own(source, after_position, to_position, size)
    return _foreign(source, after_position, to_position, size)


def _own(source: Source, after_position: int, to_position: int | None, size: int,
         ) -> Iterator[list[CanonicalEvent]]:
    """The stored texts spliced into the envelope, as ``ChainHasher`` splices them
    (byte-identical to ``envelope_bytes``: no payload decoded)."""
    iso = ChainHasher().iso
    names: dict[str, str] = {}

    def name(value: str) -> str:
        text = names[value] = canonical_json(value)
        return text

    rows = source.iter_raw_events(after_position, to_position=to_position)
    while run := list(islice(rows, size)):
        yield [(position, sid, version, (
            f'[{names.get(sid) or name(sid)},{version},{names.get(type_) or name(type_)},'
            f'"{iso(at)}",{payload},{meta}]').encode("utf-8", "surrogatepass"))
            for position, sid, _stype, version, type_, at, payload, meta, _hash in run]


def _foreign(source: Source, after_position: int, to_position: int | None, size: int,
             ) -> Iterator[list[CanonicalEvent]]:
    kind = source.identity.kind
    dropped = POSITION_KEYS.get(kind)
    events = source.iter_events(after_position, to_position=to_position)
    while run := list(islice(events, size)):
        out = []
        for e in run:
            provenance: dict[str, Any] = {"kind": kind}
            provenance.update((k, v) for k, v in e.provenance.items() if k != dropped)
            metadata = {**e.metadata, PROVENANCE_KEY: provenance}
            out.append((e.position, e.stream_id, e.version, envelope_text(
                e.stream_id, e.version, e.type, us_from_instant(e.recorded_at),
                canonical_json(e.payload), canonical_json(metadata))))
        yield out


def envelope_text(stream_id: str, version: int, type_: str, recorded_at_us: int,
                  payload_json: str, metadata_json: str) -> bytes:
    """``store.hashing.envelope_bytes``, encoded so that a lone surrogate survives."""
    head = canonical_json([stream_id, version, type_, iso_from_us(recorded_at_us)])
    return f"{head[:-1]},{payload_json},{metadata_json}]".encode("utf-8", "surrogatepass")
