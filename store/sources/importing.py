"""Import a store another program wrote: its events, read through its adapter, as import rows.

The rows come from the same read-only adapter that audits the store in place, so an imported
copy holds exactly what esaudit shows there; each event's metadata keeps where it came from
(under ``esaudit:provenance``: the kind, the source's own version, topic or message type,
notification id or global position, message id), beside the application's own metadata.
esaudit's streams count from version 1, so a stream that counts from 0 (an eventsourcing
aggregate with ``INITIAL_VERSION = 0``) is shifted by one, and the source's own number stays
in the provenance's ``version``.

An eventsourcing store is walked page by page with the adapter's own decoding and nothing
else per event: the canonical texts are written once, from the decoded event, instead of
being written, read back and written again. A SQLite file of 50,000 events or more is walked
by a second process (``two_process``), which reads, decodes, writes the canonical texts and
chains the hashes while this one checks and inserts, as for a large JSONL file; whatever it
does not deliver is walked here, from where it stopped.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from orjson import dumps as _orjson_dumps

from .. import two_process
from ..bulk import ImportRejected, ImportTuple
from ..errors import StoreError
from ..hashing import (
    ChainHasher,
    canonical_json,
    canonical_json_orjson,
    canonical_json_parsed,
    iso_from_us,
    parse_json_object,
)
from ..protocol import Source
from ..records import PROVENANCE_KEY
from .base import ForeignSource
from .cut import ForeignEvent
from .eventsourcing import MISSING_TIMESTAMP, EventsourcingSource, stamp_instant

FOREIGN_FORMATS = ("eventsourcing", "emmett")
PAGE = 5000
PARALLEL_MIN_EVENTS = 50_000
CONVERTER = "store.sources.importing:convert_in_blocks"

Block = tuple[list[ImportTuple] | None, int, Any, int]
"""A converted page: (rows, last position read, events numbered so far, position of the last
row), or (None, line, reason, 0) where the source could not be read."""


def import_metadata(kind: str, event: ForeignEvent) -> str:
    """The canonical metadata an imported event keeps: the application's own, and where the
    event came from under ``PROVENANCE_KEY`` (the kind, the adapter's provenance and the
    source's own version)."""
    return canonical_json({**event.metadata, PROVENANCE_KEY: {
        "kind": kind, **event.provenance, "version": event.version}})


_ES_METADATA = ("{" + canonical_json(PROVENANCE_KEY).replace("%", "%%")
                + ':{"kind":"eventsourcing","notification_id":%d,"originator_version":%d,'
                  '"state":%s,"timestamp":%s,"topic":%s,"version":%d}}')
"""``import_metadata`` of an eventsourcing event, whose adapter records no metadata of the
application's and exactly these provenance keys (in the recipe's order: sorted)."""


class _Texts:
    """The canonical texts of decoded events, written without walking what is known.

    A payload came from a JSON decode, so ``canonical_json_parsed`` writes it (or declines
    and the full recipe does); an eventsourcing event's metadata is its provenance in a fixed
    shape, its values spliced into ``_ES_METADATA`` (integers as ``%d`` writes them, as
    the recipe does; strings by orjson, exact for text; the few topics and encodings
    remembered). Anything else goes to ``import_metadata``. Property-tested against the
    recipe.
    """

    def __init__(self) -> None:
        self._names: dict[str, str] = {}

    def payload(self, value: dict[str, Any]) -> str:
        try:
            text = canonical_json_parsed(value)
        except TypeError:  # an integer beyond 64 bits or a lone surrogate, decoded exactly
            text = None
        return canonical_json(value) if text is None else text

    def name(self, name: object) -> str:
        text = self._names.get(name) if type(name) is str else None
        if text is None:
            if type(name) is not str:
                raise TypeError("not text")
            text = self._names[name] = _orjson_text(name)
        return text

    def metadata(self, kind: str, event: ForeignEvent) -> str:
        text = self._eventsourcing_metadata(event) if kind == "eventsourcing" else None
        return import_metadata(kind, event) if text is None else text

    def _eventsourcing_metadata(self, event: ForeignEvent) -> str | None:
        """The metadata spliced from the provenance, or None for any other shape."""
        prov = event.provenance
        if event.metadata or len(prov) != 5:
            return None
        try:
            nid, stored = prov["notification_id"], prov["originator_version"]
            if type(nid) is not int or type(stored) is not int or type(event.version) is not int:
                return None
            return _ES_METADATA % (nid, stored, self.name(prov["state"]),
                                   _orjson_text(prov["timestamp"]), self.name(prov["topic"]),
                                   event.version)
        except (KeyError, TypeError):
            return None


def _orjson_text(value: object) -> str:
    """The canonical JSON of a string (orjson writes text as the recipe does; it refuses a
    lone surrogate, and anything not a string, with TypeError)."""
    if type(value) is not str:
        raise TypeError("not text")
    return _orjson_dumps(value).decode()


def _inode(target: str) -> tuple[int, int] | None:
    """The device and inode of a SQLite file (None for a server URL, or a file not there):
    the same for as long as SQLite writes it, different once another file took its name."""
    if "://" in target:
        return None
    try:
        st = os.stat(target)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _open(target: str | Path, kind: str, cipher_key: str | None) -> Source:
    from . import open_source

    return open_source(target, kind=kind, read_only=True, create=False, cipher_key=cipher_key)


class _Pages:
    """Import rows of an eventsourcing store, a page at a time, from ``after`` to ``end``."""

    def __init__(self, name: str, store: EventsourcingSource) -> None:
        self._name = name
        self._store = store
        self._streams: dict[str, tuple[str, int]] | None = None

    def _stream_map(self) -> dict[str, tuple[str, int]]:
        """Stream id -> (stream type, shift to version 1), read once, when first needed."""
        if self._streams is None:
            self._streams = {s.stream_id: (s.stream_type, 1 - s.first_version)
                             for s in self._store.streams()}
        return self._streams

    def blocks(self, after: int, number: int, done: int, end: int,
               hasher: ChainHasher | None) -> Generator[Block, None, None]:
        """One block per page after position ``after`` (``number`` events before it, the last
        at ``done``), hashes chained if ``hasher``; a read error ends them, naming ``done``
        as the plain walk does (the position of the last event it delivered)."""
        streams = self._stream_map()
        chains: dict[str, str] = {}
        name, kind, last, store = self._name, self._store.kind, after, self._store
        iso = (hasher or ChainHasher()).iso
        texts = _Texts()
        while last < end:
            rows: list[ImportTuple] = []
            delivered = done
            try:  # a page is converted whole before any of it is delivered, as it is read
                page = store.stored_page(last, end, PAGE)
                for nid, oid, v, topic, state in page:
                    nid, v = int(nid), int(v)
                    sid = store.shown(oid)
                    entry = streams.get(sid)
                    if entry is None:
                        continue  # appended after the cut was taken
                    number += 1
                    data = state if type(state) is bytes else bytes(state)
                    parsed = (parse_json_object(data) if data[:1] == b"{" and type(topic) is str
                              else None)
                    if parsed is not None:  # a plain JSON state: what ``_decode`` would find
                        attrs, orjson_floats = parsed
                        at, stamp = stamp_instant(attrs.pop("timestamp", None))
                        etype = store.type_of(topic)
                        payload = (canonical_json_orjson(attrs) if orjson_floats
                                   else canonical_json(attrs))
                        metadata = _ES_METADATA % (
                            nid, v, '"json"', _orjson_text(MISSING_TIMESTAMP if stamp is None
                                                           else stamp), texts.name(topic), v)
                    else:
                        e = store.decode_stored(nid, oid, v, topic, state)
                        at, etype = e.recorded_at_us, e.type
                        payload, metadata = texts.payload(e.payload), texts.metadata(kind, e)
                    version = v + entry[1]
                    text = iso(at)
                    chained = None
                    if hasher is not None:
                        chained = chains[sid] = hasher.hash_text(
                            chains.get(sid, ""), sid, version, etype, text, payload, metadata)
                    rows.append((name, number, sid, entry[0], version, etype, at, text,
                                 payload, metadata, None, chained))
                    done = nid
            except StoreError as error:
                yield None, delivered, str(error), 0
                return
            if not page:
                return
            last = int(page[-1][0])
            yield rows, last, number, done
            if len(page) < PAGE:
                return


def convert_in_blocks(job: tuple[str, str | None, int]) -> Iterator[Block]:
    """The second process's work: every page of the eventsourcing SQLite file ``job`` names,
    up to the importing process's cut, with chained hashes, in position order."""
    target, cipher_key, end = job
    store = _open(target, "eventsourcing", cipher_key)
    try:
        if not isinstance(store, EventsourcingSource):
            return  # not delivered: the importing process walks it itself
        yield from _Pages(target, store).blocks(0, 0, 0, end, ChainHasher())
    finally:
        store.close()


class SourceReader:
    """Rows for ``import_rows`` from a foreign store; ``fraction`` is positions read."""

    def __init__(self, target: str | Path, kind: str, *, cipher_key: str | None = None,
                 parallel: bool | None = None) -> None:
        self.source = str(target)
        self._inode = _inode(self.source)
        try:
            opened = _open(target, kind, cipher_key)
        except StoreError as e:
            raise ImportRejected(self.source, 0, str(e)) from None
        if opened.identity.kind != kind:
            opened.close()
            raise ImportRejected(self.source, 0, f"not an {kind} store")
        self._store: Source = opened
        self._cipher_key = cipher_key
        self._end = opened.head_position()
        self._total = max(self._end, 1)
        self._done = 0
        paged = isinstance(opened, EventsourcingSource)
        file = paged and "://" not in self.source
        self.parallel = paged and (
            file and self._end >= PARALLEL_MIN_EVENTS and (os.cpu_count() or 1) > 1
            if parallel is None else parallel and file)
        self._started: two_process.SecondProcess | None = None

    def start(self) -> None:
        """Start the second process now (a large eventsourcing file only): it starts and
        converts its first pages while the importing process opens the store."""
        if self.parallel and self._started is None:
            self._started = two_process.SecondProcess.start(CONVERTER, self._job())

    def close(self) -> None:
        """Stop a second process the rows did not use, and close the source if they were
        never read (reading them closes it)."""
        if self._started is not None:
            self._started.stop()
            self._started = None
        self._store.close()

    def _job(self) -> tuple[str, str | None, int]:
        return (self.source, self._cipher_key, self._end)

    @property
    def fraction(self) -> float:
        return min(self._done / self._total, 1.0)

    def __iter__(self) -> Iterator[ImportTuple]:
        store = self._store
        try:
            if _inode(self.source) != self._inode:
                raise ImportRejected(self.source, 0, "the file was replaced while the import "
                                     "was starting; nothing was stored: import it again")
            if isinstance(store, EventsourcingSource):
                yield from self._paged(store)
                return
            assert isinstance(store, ForeignSource)  # every kind FOREIGN_FORMATS names
            shift = {s.stream_id: 1 - s.first_version for s in store.streams()}
            kind = store.identity.kind
            for number, (e, stream_type) in enumerate(
                    (pair for page in store._log(0, None, None, None, None, None, None, PAGE)
                     for pair in page), start=1):
                self._done = e.position
                at = e.recorded_at_us
                yield (self.source, number, e.stream_id, stream_type,
                       e.version + shift.get(e.stream_id, 0), e.type, at, iso_from_us(at),
                       canonical_json(e.payload), import_metadata(kind, e), None, None)
        except ImportRejected:
            raise
        except StoreError as error:
            raise ImportRejected(self.source, self._done, str(error)) from None
        finally:
            store.close()

    def _paged(self, store: EventsourcingSource) -> Iterator[ImportTuple]:
        """The pages walked by the second process, then here from where it stopped (or all
        here, for a small store or a PostgreSQL one)."""
        pages = _Pages(self.source, store)

        def rest_here(last: Block | None) -> Generator[Block, None, None]:
            after, number, done = (0, 0, 0) if last is None else (last[1], last[2], last[3])
            return pages.blocks(after, number, done, self._end, None)

        started, self._started = self._started, None
        blocks = (two_process.walk(CONVERTER, self._job(), rest_here, started)
                  if self.parallel else rest_here(None))
        with closing(blocks):
            for rows, last, number, _ in blocks:
                if rows is None:
                    raise ImportRejected(self.source, last, number)
                self._done = last
                yield from rows
