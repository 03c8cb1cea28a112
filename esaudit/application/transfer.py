"""Moving histories in and out of a store: export a selection, import a whole file.

A file being written appears under its final name only once it is complete (written beside it,
then renamed), so a cancelled or failed export never leaves half a file that looks whole.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from store import Source
from store.bulk import ImportCancelled, ImportSummary
from store.exporters import RawRow, write_csv, write_jsonl
from store.importers import HistoryReader, detect_format, foreign_kind, open_reader
from store.search import EventSearch
from store.sources.importing import FOREIGN_FORMATS, SourceReader
from store.writable import WritableStore

from .fold_snapshots import keep_fold_snapshots
from .investigate.search import search
from .jobs import Cancelled, Progress
from .models import Models

EXPORT_FORMATS = {".jsonl": write_jsonl, ".ndjson": write_jsonl, ".csv": write_csv}
EXPORT_FORMAT_NAMES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


@dataclass(frozen=True)
class Selection:
    """Which events a report or an export covers; empty fields mean 'all'."""

    stream_ids: tuple[str, ...] = ()
    stream_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def raw_rows(self, store: Source,
                 cancelled: Callable[[], bool] | None = None) -> Iterator[RawRow]:
        for n, row in enumerate(store.iter_raw_events(
                stream_ids=self.stream_ids or None,
                stream_types=[self.stream_type] if self.stream_type else None,
                since=self.since, until=self.until)):
            if cancelled is not None and n % 2000 == 0 and cancelled():
                raise Cancelled("cancelled: no file was written")
            yield row

    def describe(self) -> str:
        parts = []
        if self.stream_ids:
            parts.append(f"streams {', '.join(self.stream_ids)}")
        if self.stream_type:
            parts.append(f"type {self.stream_type}")
        if self.since:
            parts.append(f"from {self.since.isoformat()}")
        if self.until:
            parts.append(f"to {self.until.isoformat()}")
        return "; ".join(parts) or "every event in the store"


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary name beside ``path`` that replaces it only if the block completes."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextmanager
def atomic_output(path: Path) -> Iterator[IO[str]]:
    """A text file that replaces ``path`` only if the block completes (flushed to disk)."""
    with atomic_path(path) as tmp, open(tmp, "x", encoding="utf-8", newline="") as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: its format (``jsonl`` or ``csv``), events and distinct streams."""

    format: str
    events: int
    streams: int


def export_selection(store: Source, path: Path, selection: Selection | None = None, *,
                     progress: Progress | None = None,
                     cancelled: Callable[[], bool] | None = None) -> ExportSummary:
    """Write the selection as JSONL or CSV (from the extension); what was written."""
    selection = selection or Selection()
    return _export(store, Path(path), selection.raw_rows(store, cancelled), progress)


def export_search(store: Source, path: Path, query: EventSearch, *,
                  progress: Progress | None = None,
                  cancelled: Callable[[], bool] | None = None) -> ExportSummary:
    """Write the events a search of the global log finds (``investigate.search``), in
    position order, as JSONL or CSV: the same rows, bytes and provenance as a selection's."""
    return _export(store, Path(path), search_rows(store, query, cancelled), progress)


def search_rows(store: Source, query: EventSearch,
                cancelled: Callable[[], bool] | None = None, page: int = 1000,
                ) -> Iterator[RawRow]:
    """The raw rows of the events a search finds: each page of matches, then the raw rows of
    its streams within its positions (what the database answers by index), those matched."""
    after = 0
    while True:
        if cancelled is not None and cancelled():
            raise Cancelled("cancelled: no file was written")
        found = search(store, query, after_position=after, limit=page)
        if not found.events:
            return
        wanted = {e.position for e in found.events}
        first, last = found.events[0].position, found.events[-1].position
        for row in store.iter_raw_events(first - 1, to_position=last,
                                         stream_ids=sorted({e.stream_id for e in found.events})):
            if row[0] in wanted:
                yield row
        if not found.more:
            return
        after = last


def _export(store: Source, path: Path, raw: Iterator[RawRow],
            progress: Progress | None) -> ExportSummary:
    writer = EXPORT_FORMATS.get(path.suffix.lower())
    if writer is None:
        raise ValueError(f"cannot export to {path.name}: use a .jsonl or .csv file name")
    if not path.parent.is_dir():
        raise ValueError(f"folder {path.parent} does not exist")
    total = store.head_position()
    streams: set[str] = set()
    reached = [0]  # the position written last: progress through the log, whatever matched

    def rows() -> Iterator[RawRow]:
        add = streams.add
        for row in raw:
            add(row[1])
            reached[0] = row[0]
            yield row

    with atomic_output(path) as fh:
        n = writer(rows(), fh, (lambda _n: progress(reached[0], total)) if progress else None)
    return ExportSummary(EXPORT_FORMAT_NAMES[path.suffix.lower()], n, len(streams))


def export_history(store: Source, path: Path, selection: Selection | None = None, *,
                   progress: Progress | None = None,
                   cancelled: Callable[[], bool] | None = None) -> int:
    """Write the selection as JSONL or CSV (from the extension); returns the event count."""
    return export_selection(store, path, selection, progress=progress,
                            cancelled=cancelled).events


@dataclass(frozen=True)
class ImportSource:
    """What an import reads: a file, or a store another program wrote, its format and its
    reader (whose second process may have started before the store was open)."""

    target: str
    format: str
    cipher_key: str | None
    reader: HistoryReader | SourceReader

    def close(self) -> None:
        """Stop whatever the reader began that its rows did not use."""
        self.reader.close()


def open_import(path: Path | str, fmt: str | None = None, *, cipher_key: str | None = None,
                start: bool = False) -> ImportSource:
    """The reader of a file or foreign store to import (ImportRejected if it cannot be read
    or its format not told); ``start``: its second process begins at once, for a caller
    that has a store still to open."""
    target = str(path)
    if fmt is None:
        fmt = foreign_kind(target) if "://" in target else detect_format(Path(path))
    reader: HistoryReader | SourceReader
    if fmt in FOREIGN_FORMATS:
        reader = SourceReader(path, fmt, cipher_key=cipher_key)
    else:
        reader = open_reader(Path(path), fmt)
    if start:
        try:
            reader.start()
        except BaseException:
            reader.close()
            raise
    return ImportSource(target, fmt, cipher_key, reader)


def import_history(store: WritableStore, path: Path | str, fmt: str | None = None, *,
                   progress: Progress | None = None,
                   cancelled: Callable[[], bool] | None = None,
                   cipher_key: str | None = None, models: Models | None = None,
                   opened: ImportSource | None = None) -> ImportSummary:
    """Import a whole file, or a whole store another program wrote (a SQLite file or a
    PostgreSQL URL), in one transaction (ImportRejected names the line or position); then
    keep states of its long streams under the fold ``models`` choose for them (by default
    the payloads merged; see ``fold_snapshots``). ``opened``: the reader ``open_import``
    made of the same ``path`` and ``fmt`` earlier, used (and closed) instead of a new one."""
    if opened is None or (opened.target, opened.cipher_key) != (str(path), cipher_key) \
            or fmt not in (None, opened.format):
        if opened is not None:
            opened.close()
        opened = open_import(path, fmt, cipher_key=cipher_key)
    reader = opened.reader

    def report(_events: int) -> None:
        if progress is not None:
            progress(int(reader.fraction * 1000), 1000)

    try:
        summary = store.import_rows(reader, progress=report, cancelled=cancelled,
                                    source=f"{opened.format} {shown_target(opened.target)}")
    except ImportCancelled:
        raise Cancelled("the import was cancelled: nothing was stored") from None
    finally:
        opened.close()
    keep_fold_snapshots(store, models if models is not None else Models(store),
                        summary.first_position, summary.last_position)
    return summary


def shown_target(target: str) -> str:
    """A file path as it is, a URL with its password hidden (an import records its source)."""
    if "://" not in target:
        return target
    from sqlalchemy.engine import make_url
    try:
        return make_url(target).render_as_string(hide_password=True)
    except ValueError:
        return target.split("://", 1)[0] + "://…"
