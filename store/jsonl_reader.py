"""JSONL histories: one JSON object per line, the event's columns as its keys.

Most lines of a large file are ordinary (exactly the required keys, plain values): they take a
fast path (orjson, the canonical JSON it can vouch for, reused instant text) that only skips
work; every other line, and every error, goes through the exact rules of ``history_reader``.
A large file is parsed by a second process (``two_process``) while this one checks and inserts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from . import two_process
from .bulk import ImportRejected, ImportTuple
from .hashing import ChainHasher, canonical_json_parsed, decode_json, fast_loads, iso_from_us
from .history_reader import REQUIRED, HistoryReader, _kind, _refuse_constant, _row

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)



def _loads_line(raw: bytes) -> Any:
    return decode_json(raw, partial(json.loads, parse_constant=_refuse_constant))


def _plain_line(source: str, line: int, raw: bytes) -> ImportTuple | None:
    """The row of an ordinary line by the fast path, or None to let the exact path judge it.

    Ordinary: exactly the required keys, names and instant as strings, a whole version, objects
    whose canonical JSON is certain from orjson's parse (``canonical_json_parsed``). Anything
    else (including every error) goes through ``_row``, which holds the rules and the messages;
    this path only skips work, never a check that ``import_rows`` does not repeat (names are
    checked there).
    """
    try:
        record = fast_loads(raw)
    except ValueError:
        return None
    if type(record) is not dict or len(record) != len(REQUIRED):
        return None
    try:  # seven keys, all required ones present: exactly the required keys
        sid, stype, etype = record["stream_id"], record["stream_type"], record["type"]
        version, at = record["version"], record["recorded_at"]
        payload, metadata = record["payload"], record["metadata"]
    except KeyError:
        return None
    if not (type(sid) is str and type(stype) is str and type(etype) is str
            and type(version) is int and version >= 1 and type(at) is str
            and type(payload) is dict and type(metadata) is dict):
        return None
    try:
        instant = datetime.fromisoformat(at)
        if instant.tzinfo is None:
            return None
        us = (instant - _EPOCH) // _ONE_US
    except (ValueError, OverflowError):
        return None
    payload_json = canonical_json_parsed(payload)
    metadata_json = canonical_json_parsed(metadata) if metadata else "{}"
    if payload_json is None or metadata_json is None:
        return None
    iso = at if _is_envelope_instant(at) else iso_from_us(us)
    return (source, line, sid, stype, version, etype, us, iso, payload_json, metadata_json, None,
            None)


def _is_envelope_instant(text: str) -> bool:
    """Whether an instant fromisoformat accepted is already written as the envelope writes it.

    ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (what esaudit exports): then the text is reused instead of
    formatting the instant again. Property-tested against ``iso_from_us``.
    """
    return (len(text) == 27 and text[26] == "Z" and text[19] == "." and text[10] == "T"
            and text[4] == "-" and text[7] == "-" and text[13] == ":" and text[16] == ":"
            and text.isascii())


def _jsonl_row(source: str, number: int, raw: bytes) -> ImportTuple | None:
    """The row of one JSONL line (None for a blank line); ImportRejected names the line."""
    return _plain_line(source, number, raw) or _exact_row(source, number, raw)


def _exact_row(source: str, number: int, raw: bytes) -> ImportTuple | None:
    """``_jsonl_row`` for a line the plain path declined: the rules and their messages."""
    if not raw.strip():
        return None
    try:
        record = _loads_line(raw)
    except UnicodeDecodeError:
        raise ImportRejected(source, number, "not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise ImportRejected(source, number, f"not a JSON object: {e.msg} at column "
                                             f"{e.colno}") from None
    except (ValueError, RecursionError) as e:
        raise ImportRejected(source, number, f"not a JSON object: {e}") from None
    if not isinstance(record, dict):
        raise ImportRejected(source, number, f"expected a JSON object, found {_kind(record)}")
    try:
        return _row(source, number, record, json_text=False)
    except (ValueError, RecursionError) as e:
        raise ImportRejected(source, number, str(e)) from None


def _jsonl_block(source: str, first_line: int, block: bytes, hasher: ChainHasher,
                 chains: dict[str, str]) -> list[ImportTuple]:
    """The rows of a run of whole lines, as plain tuples in ``ImportRow`` order, each with its
    hash chained from the previous row of its stream in ``chains``."""
    rows: list[ImportTuple] = []
    for number, raw in enumerate(block.split(b"\n"), start=first_line):
        # _jsonl_row written out: a million lines, and one call fewer each
        row = _plain_line(source, number, raw) or _exact_row(source, number, raw)
        if row is not None:
            sid = row[2]
            chained = chains[sid] = hasher.hash_text(chains.get(sid, ""), sid, row[4], row[5],
                                                     row[7], row[8], row[9])
            rows.append((*row[:11], chained))
    return rows


def _jsonl_rows(source: str, first_line: int, block: bytes) -> list[ImportTuple]:
    """``_jsonl_block`` without the chained hashes: for a block parsed in this process after
    the parser process stopped, where the chain before it is not known (the store hashes)."""
    rows: list[ImportTuple] = []
    for number, raw in enumerate(block.split(b"\n"), start=first_line):
        row = _plain_line(source, number, raw) or _exact_row(source, number, raw)
        if row is not None:
            rows.append(row)
    return rows


def _blocks(fh: BinaryIO, block_bytes: int, line: int = 1) -> Iterator[tuple[int, bytes]]:
    """(first line number, whole lines without the last newline), from the file's position,
    which is the start of line ``line``."""
    while block := fh.read(block_bytes):
        if not block.endswith(b"\n"):
            block += fh.readline()
        yield line, block.removesuffix(b"\n")
        line += block.count(b"\n")


Block = tuple[list[ImportTuple] | None, int, Any]
"""A parsed block: (rows, end offset, next line), or (None, line, reason) for the first bad
line (then the last one)."""


def _parsed_blocks(source: str, fh: BinaryIO, block_bytes: int, line: int,
                   hasher: ChainHasher | None) -> Iterator[Block]:
    """The blocks of ``fh`` from its position (line ``line``), hashes chained if ``hasher``."""
    chains: dict[str, str] = {}
    for first_line, block in _blocks(fh, block_bytes, line):
        try:
            rows = (_jsonl_rows(source, first_line, block) if hasher is None else
                    _jsonl_block(source, first_line, block, hasher, chains))
        except ImportRejected as e:
            yield None, e.line, e.reason
            return
        yield rows, fh.tell(), first_line + block.count(b"\n") + 1


def parse_in_blocks(job: tuple[str, int]) -> Iterator[Block]:
    """The parser process's work (``two_process``): every block of the file ``job`` names,
    with chained hashes, in file order."""
    source, block_bytes = job
    with open(source, "rb") as fh:
        yield from _parsed_blocks(source, fh, block_bytes, 1, ChainHasher())


PARSER = "store.jsonl_reader:parse_in_blocks"
PARALLEL_MIN_BYTES = 32 << 20
BLOCK_BYTES = 4 << 20


class JsonlReader(HistoryReader):
    """JSONL rows in file order. A large file is parsed by a second process, block by block,
    while the caller hashes and inserts: on two cores the two halves of an import overlap.

    Lines are independent, so parsing can happen anywhere; blocks come back strictly in order,
    so the first bad line is still the one reported. Whatever the parser process does not
    deliver (it could not start, or died) is parsed here, from where it stopped.
    """

    def __init__(self, path: Path, *, parallel: bool | None = None,
                 block_bytes: int | None = None) -> None:
        super().__init__(path)
        self.parallel = (self.size >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) > 1
                         if parallel is None else parallel)
        self.block_bytes = BLOCK_BYTES if block_bytes is None else block_bytes

    def _second_process(self) -> two_process.SecondProcess | None:
        return two_process.SecondProcess.start(PARSER, self._job()) if self.parallel else None

    def _job(self) -> tuple[str, int]:
        return (self.source, self.block_bytes)

    def __iter__(self) -> Iterator[ImportTuple]:
        try:
            fh = self.path.open("rb")
        except OSError as e:
            raise self._fail(0, f"cannot read the file: {e.strerror}") from None
        with fh:
            if self.parallel:
                yield from self._in_blocks(fh)
                return
            for number, raw in enumerate(fh, start=1):
                self._done += len(raw)
                row = _jsonl_row(self.source, number, raw)
                if row is not None:
                    yield row

    def _in_blocks(self, fh: BinaryIO) -> Iterator[ImportTuple]:
        """Rows parsed by the parser process, then by this one from where it stopped."""
        def rest_here(last: Block | None) -> Iterable[Block]:
            offset, line = (0, 1) if last is None else (last[1], last[2])
            fh.seek(offset)
            return _parsed_blocks(self.source, fh, self.block_bytes, line, None)

        started = self._early_worker(fh)
        with closing(two_process.walk(PARSER, self._job(), rest_here, started)) as blocks:
            for rows, end, next_line in blocks:
                if rows is None:
                    raise ImportRejected(self.source, end, next_line)
                self._done = end
                yield from rows
