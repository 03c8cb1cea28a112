"""Import a store another program wrote: its events, read through its adapter, as import rows.

The rows come from the same read-only adapter that audits the store in place, so an imported
copy holds exactly what esaudit shows there; each event's metadata keeps where it came from
(under ``esaudit:provenance``: the kind, the source's own version, topic or message type,
notification id or global position, message id), beside the application's own metadata.
esaudit's streams count from version 1, so a stream that counts from 0 (an eventsourcing
aggregate with ``INITIAL_VERSION = 0``) is shifted by one, and the source's own number stays
in the provenance's ``version``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..bulk import ImportRejected, ImportRow
from ..errors import StoreError
from ..hashing import canonical_json, decode_json, iso_from_us
from ..protocol import Source
from ..records import PROVENANCE_KEY

FOREIGN_FORMATS = ("eventsourcing", "emmett")


class SourceReader:
    """Rows for ``import_rows`` from a foreign store; ``fraction`` is positions read."""

    def __init__(self, target: str | Path, kind: str, *, cipher_key: str | None = None) -> None:
        from . import open_source

        self.source = str(target)
        try:
            opened = open_source(target, kind=kind, read_only=True, create=False,
                                 cipher_key=cipher_key)
        except StoreError as e:
            raise ImportRejected(self.source, 0, str(e)) from None
        if opened.identity.kind != kind:
            opened.close()
            raise ImportRejected(self.source, 0, f"not an {kind} store")
        self._store: Source = opened
        self._total = max(opened.head_position(), 1)
        self._done = 0

    @property
    def fraction(self) -> float:
        return min(self._done / self._total, 1.0)

    def __iter__(self) -> Iterator[ImportRow]:
        store = self._store
        try:
            shift = {s.stream_id: 1 - s.first_version for s in store.streams()}
            for number, (position, sid, stype, version, type_, at_us, payload, metadata,
                         _hash) in enumerate(store.iter_raw_events(), start=1):
                self._done = position
                meta = decode_json(metadata)
                meta.setdefault(PROVENANCE_KEY, {})["version"] = version
                yield ImportRow(self.source, number, sid, stype, version + shift.get(sid, 0),
                                type_, at_us, iso_from_us(at_us), payload,
                                canonical_json(meta))
        except StoreError as e:
            raise ImportRejected(self.source, self._done, str(e)) from None
        finally:
            store.close()
