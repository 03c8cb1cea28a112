"""The read contract: what every source (esaudit's store, every foreign adapter) must answer
consistently. Each check derives its expectation from another method of the same source, so a
source that answers one question differently from another fails here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

from store import RecordedEvent, Source
from store.hashing import us_from_instant
from store.search import Condition, EventSearch, typed_parts
from store.timeline_minutes import MINUTE_US
from store.tracing import CORRELATION_KEYS, first_text


def check_read_contract(source: Source) -> None:
    """Every method of the read protocol agrees with the others on this source."""
    streams = source.streams()
    events, n_streams = source.counts()
    assert n_streams == len(streams) == source.count_streams()
    assert [s.stream_id for s in streams] == sorted(s.stream_id for s in streams)
    assert source.stream_types() == sorted({s.stream_type for s in streams})

    log = list(source.iter_events())
    assert len(log) == events
    positions = [e.position for e in log]
    assert positions == sorted(set(positions)), "the global log is in strictly rising order"
    assert source.head_position() == (positions[-1] if positions else 0)

    by_stream: dict[str, list[int]] = {}
    for e in log:
        by_stream.setdefault(e.stream_id, []).append(e.position)
    for info in streams:
        read = source.read_stream(info.stream_id)
        assert [e.version for e in read] == list(range(info.first_version, info.version + 1))
        assert {e.stream_type for e in read} == {info.stream_type}
        assert [e.position for e in read] == by_stream[info.stream_id]
        assert source.positions_of(info.stream_id) == by_stream[info.stream_id]
        assert read[0].recorded_at == info.first_at and read[-1].recorded_at == info.last_at
        assert source.stream(info.stream_id) == info
        payloads = source.read_payloads(info.stream_id)
        assert payloads == [(e.version, e.type, e.payload) for e in read]
        if len(read) > 1:
            middle = read[len(read) // 2]
            part = source.read_stream(info.stream_id, middle.version, middle.version)
            assert part == [middle]
            later = source.first_version_after(info.stream_id, middle.recorded_at)
            expected = next((e.version for e in read if e.recorded_at > middle.recorded_at),
                            None)
            assert later == expected
        assert source.first_version_after(info.stream_id,
                                          info.last_at + timedelta(seconds=1)) is None
    assert source.stream("no such stream \u2603") is None

    raw = list(source.iter_raw_events())
    assert [r[0] for r in raw] == positions
    for row, e in zip(raw, log, strict=True):
        assert row[1:5] == (e.stream_id, e.stream_type, e.version, e.type)
        assert json.loads(row[6]) == e.payload

    heads = [(p, sid, st, v, t) for page in source.iter_event_heads(page_size=7)
             for p, sid, st, v, t, _at in page]
    assert heads == [(e.position, e.stream_id, e.stream_type, e.version, e.type) for e in log]
    types = source.stream_types()
    kinds = sorted({e.type for e in log})
    codes = [c for page in source.iter_event_codes(types, kinds, page_size=5) for c in page]
    assert [c[0] for c in codes] == positions
    assert all(types[st - 1] == e.stream_type and kinds[et - 1] == e.type
               for (_p, _at, st, et), e in zip(codes, log, strict=True))

    counted = source.timeline_minutes()
    if counted is not None:  # what it counts is exactly the events up to its marker
        expected: dict[tuple[int, str, str], int] = {}
        for c, e in zip(codes, log, strict=True):
            if e.position <= counted.through:
                key = (c[1] // MINUTE_US, e.stream_type, e.type)
                expected[key] = expected.get(key, 0) + 1
        assert {(r.minute, r.stream_type, r.type): r.events for r in counted.rows} == expected

    if streams:
        some = streams[len(streams) // 2]
        only = list(source.iter_events(stream_ids=[some.stream_id]))
        assert [e.position for e in only] == by_stream[some.stream_id]
        typed = list(source.iter_events(stream_types=[some.stream_type]))
        assert {e.stream_type for e in typed} == {some.stream_type}
        assert len(typed) == sum(len(by_stream[s.stream_id]) for s in streams
                                 if s.stream_type == some.stream_type)
        paged = [r.stream_id for k in range(0, len(streams), 3)
                 for r in source.stream_rows(offset=k, limit=3)]
        assert paged == [s.stream_id for s in streams]
        newest = source.stream_rows(sort="last_at", descending=True, limit=1)[0]
        assert newest.last_at_us == max(r.last_at_us for r in source.stream_rows())
        word = some.stream_id[-6:]
        found = source.stream_rows(word)
        assert some.stream_id in [r.stream_id for r in found]
        assert source.count_streams(word) == len(found)
        check_stream_globs(source, [s.stream_id for s in streams], some.stream_id)
        row = source.stream_row_number(some.stream_id, sort="version", descending=True)
        ordered = source.stream_rows(sort="version", descending=True)
        assert row is not None and ordered[row].stream_id == some.stream_id

    stats = source.stats()
    assert (stats.events, stats.streams) == (events, n_streams)
    assert sum(stats.events_by_type.values()) == events
    for snap in source.iter_snapshots():
        info = source.stream(snap.stream_id)
        assert info is not None and info.first_version <= snap.version <= info.version
        assert source.load_snapshot(snap.stream_id, snap.version) is not None
    for kept in source.iter_fold_snapshots():
        found = source.load_fold_snapshot(kept.stream_id, kept.fold, kept.version)
        assert found is not None and found.version == kept.version
    if source.identity.kind != "esaudit":
        assert list(source.iter_fold_snapshots()) == []
        some_id = log[0].stream_id if log else "none"
        assert source.load_fold_snapshot(some_id, "merged/1") is None

    caps = source.capabilities
    if not caps.hash_chain:
        assert all(e.hash == "" for e in log)
    if not caps.writable:
        assert source.read_only
    check_search_contract(source, log)


def check_stream_globs(source: Source, ids: list[str], some: str) -> None:
    """A filter word holding ``*`` or ``?`` is a glob over the whole stream id, any case;
    LIKE's own wildcards (``%``, ``_``) are ordinary characters in it."""
    low = some.lower()
    cases = {some[:3] + "*": [i for i in ids if i.lower().startswith(low[:3])],
             "*" + some[-2:].upper(): [i for i in ids if i.lower().endswith(low[-2:])],
             some[:-1] + "?": [i for i in ids if len(i) == len(some)
                               and i.lower().startswith(low[:-1])],
             "%*": [i for i in ids if i.startswith("%")],
             "*_*": [i for i in ids if "_" in i]}
    for glob, expected in cases.items():
        found = [r.stream_id for r in source.stream_rows(glob)]
        assert found == expected, glob
        assert source.count_streams(glob) == len(found), glob
        if some in found:
            row = source.stream_row_number(some, glob)
            assert row is not None and found[row] == some, glob
    assert some in cases[some[:3] + "*"] and some in cases[some[:-1] + "?"]
    word = some[-4:]
    both = [r.stream_id for r in source.stream_rows(f"{some[:2]}* {word}")]
    assert both == [i for i in ids if i.lower().startswith(low[:2]) and word.lower() in
                    f"{i}\n{source.stream(i).stream_type}".lower()]  # type: ignore[union-attr]


def check_search_contract(source: Source, log: list[RecordedEvent]) -> None:
    """``search_events`` (answered in the source's database) finds exactly the events
    ``EventSearch.matches`` keeps of the whole log, for conditions built from the values the
    log holds; ``correlated_events`` exactly those naming a correlation id."""

    def check(search: EventSearch) -> None:
        expected = [e for e in log if search.matches(
            e.stream_id, e.type, us_from_instant(e.recorded_at), e.payload, e.metadata)]
        found = source.search_events(search, limit=len(log) + 1)
        assert found == expected, search

    check(EventSearch())
    leaves = [leaf for k in sorted({0, len(log) // 3, len(log) // 2, len(log) - 1})
              if 0 <= k < len(log) for leaf in _leaves(log[k])[:6]]
    richest = sorted(log, key=lambda e: len(_leaves(e)))[-2:]  # edge values, typed values
    leaves += [leaf for e in richest for leaf in _leaves(e)[:40]]
    for field, path, value in leaves:
        for condition in _conditions_on(field, path, value):
            check(EventSearch((condition,)))
    check(EventSearch((Condition("payload", ("no such field \u2603",), "=", None),)))
    check(EventSearch((Condition("payload", ("no such field",), "!=", None),)))
    check(EventSearch((Condition("metadata", ("no such field",), "=", 1),)))
    if log:
        middle = log[len(log) // 2]
        check(EventSearch(event_types=(middle.type,)))
        check(EventSearch(event_types=()))
        check(EventSearch(stream_glob=middle.stream_id[:3] + "*"))
        check(EventSearch(stream_glob="?" + middle.stream_id[1:]))
        check(EventSearch(stream_glob=middle.stream_id + "["))
        at = us_from_instant(middle.recorded_at)
        check(EventSearch(since_us=at, until_us=at + 60_000_000))
        if leaves:
            field, path, value = leaves[-1]
            check(EventSearch(_conditions_on(field, path, value)[:1],
                              event_types=(log[-1].type,), until_us=at))
        assert source.search_events(EventSearch(), limit=3) == log[:3]
        assert source.search_events(EventSearch(), after_position=log[1].position,
                                    limit=2) == log[2:4]
    for e in log[:: max(1, len(log) // 5)]:
        correlation = first_text(e.metadata, CORRELATION_KEYS)
        if correlation is not None:
            assert source.capabilities.correlation
            assert source.correlated_events(correlation) == [
                x for x in log if first_text(x.metadata, CORRELATION_KEYS) == correlation]
    assert source.correlated_events("no such correlation \u2603") == []


def _leaves(e: RecordedEvent) -> list[tuple[str, tuple[str | int, ...], Any]]:
    """(field, path, value) of the scalar (and typed) values of an event's payload and
    metadata, in document order."""

    def walk(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
        if isinstance(value, dict) and value and typed_parts(value) is None:
            for key, sub in value.items():
                yield from walk(sub, (*path, key))
        elif isinstance(value, list) and value:
            for i, sub in enumerate(value):
                yield from walk(sub, (*path, i))
        elif (path and not isinstance(value, dict | list)) or typed_parts(value) is not None:
            yield path

    found: list[tuple[str, tuple[str | int, ...], Any]] = []
    for field, document in (("payload", e.payload), ("metadata", e.metadata)):
        for path in walk(document, ()):
            if any(isinstance(k, str) and '"' in k for k in path):
                continue  # SQLite cannot name such a key (store.search_sql.sqlite_path)
            value: Any = document
            for key in path:
                value = value[key]
            found.append((field, path, value))
    return found


def _conditions_on(field: str, path: tuple[str | int, ...], value: Any) -> tuple[Condition, ...]:
    f: Any = field
    typed = typed_parts(value)
    if typed is not None:
        data = typed[1]
        if not isinstance(data, str):
            return ()
        out = [Condition(f, path, "=", data), Condition(f, path, "~", data[:4].upper())]
        if typed[0] == "decimal_str" and Decimal(data) == Decimal(float(data)):
            # (a decimal no double holds exactly compares differently on PostgreSQL, which
            # is exact: store.search says so)
            out += [Condition(f, path, ">", float(data) - 1), Condition(f, path, "=", float(data))]
        return tuple(out)
    if value is None:
        return (Condition(f, path, "=", None), Condition(f, path, "!=", None))
    if isinstance(value, bool):
        return (Condition(f, path, "=", value), Condition(f, path, "!=", value))
    if isinstance(value, int | float):
        return (Condition(f, path, "=", value), Condition(f, path, "!=", value),
                Condition(f, path, ">", value), Condition(f, path, "<=", value),
                Condition(f, path, "=", str(value)))
    out = [Condition(f, path, "=", value), Condition(f, path, "!=", value),
           Condition(f, path, "<", value), Condition(f, path, ">=", value),
           Condition(f, path, "=", 0)]
    if len(value) >= 2:
        out.append(Condition(f, path, "~", value[1:3].upper()))
    return tuple(out)
