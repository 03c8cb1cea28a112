"""The import's fast paths give exactly what the plain recipe gives, or step aside.

Fast JSON (orjson), the cached hash recipe, reused instant text and the parser process are
only allowed to skip work: every byte they produce is compared here with the slow path's.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import store.jsonl_reader as jsonl_reader
from store import open_store
from store.bulk import ImportRejected
from store.hashing import (
    ChainHasher,
    canonical_json,
    canonical_json_fast,
    canonical_json_orjson,
    canonical_json_parsed,
    chain_hash,
    decode_json,
    envelope_bytes,
    iso_from_us,
    json_string,
    parse_json_object,
)
from store.importers import JsonlReader

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
            | st.floats(allow_nan=False, allow_infinity=False) | _text
            | st.sampled_from(["v1.2", "1e5", "x9E", "SKU-10.5"]))
_json_values = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_text, _json_values, max_size=6))
def test_fast_canonical_json_equals_the_recipe_or_declines(value: dict) -> None:
    text = json.dumps(value)
    exact = canonical_json(json.loads(text))
    fast = canonical_json_fast(decode_json(text))
    assert fast is None or fast == exact
    if not _unsure(value):
        assert fast == exact  # it only declines for floats and integers beyond 64 bits


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_text, _json_values, max_size=6) | st.lists(_json_values, max_size=4))
def test_canonical_json_of_parsed_text_equals_the_recipe_or_declines(value: dict | list) -> None:
    """What the importer uses on the objects orjson parsed from a line: it may only decline
    where a float could be an integer beyond 64 bits that orjson read as one."""
    text = json.dumps(value)
    parsed = orjson.loads(text)
    exact = canonical_json(json.loads(text))
    fast = canonical_json_parsed(parsed)
    assert fast is None or fast == exact
    if not _unsure(value, floats_below=2.0**63):
        assert fast == exact


@settings(max_examples=400, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False)
                | st.floats(min_value=-1e6, max_value=1e6).map(lambda f: round(f, 3))
                | st.integers(min_value=-(2**70), max_value=2**70), max_size=6),
       st.sampled_from(["{}", '{{"kwh":{0}}}', '{{"a":[{0},"x"],"b":{{"c":{0}}}}}']))
def test_floats_in_parsed_text_are_written_as_the_recipe_writes_them(
        numbers: list[float | int], shape: str) -> None:
    """Floats as a file writes them (repr, exponents, few decimals) next to integers at and
    beyond 64 bits: the canonical text is the standard library's parse, written by the recipe."""
    text = shape.format(json.dumps(numbers)) if numbers else json.dumps(numbers)
    for spelling in (text, text.replace("e+", "E"), text.replace(".0,", ".000,")):
        exact = canonical_json(json.loads(spelling))
        fast = canonical_json_parsed(orjson.loads(spelling))
        assert fast is None or fast == exact
        if all(type(n) is float and abs(n) < 2.0**63 for n in numbers):
            assert fast == exact


def _unsure(value: object, floats_below: float = 0.0) -> bool:
    if isinstance(value, float):
        return not abs(value) < floats_below
    if isinstance(value, int) and not isinstance(value, bool):
        return not -(2**63) <= value < 2**64
    if isinstance(value, dict):
        return any(_unsure(v, floats_below) for v in value.values())
    if isinstance(value, list):
        return any(_unsure(v, floats_below) for v in value)
    return False


_python_values = st.recursive(
    _scalars | st.characters(categories=("Cs",)) | st.decimals(allow_nan=False),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(_text | st.integers(0, 9), inner, max_size=3),
    max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(_python_values)
def test_canonical_json_of_any_value_is_the_stdlib_recipe(value: object) -> None:
    recipe = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False).encode
    try:
        expected: str | type[Exception] = recipe(value)
    except (TypeError, ValueError) as e:
        expected = type(e)
    try:
        got: str | type[Exception] = canonical_json(value)
    except (TypeError, ValueError) as e:
        got = type(e)
    assert got == expected


@settings(max_examples=400, deadline=None)
@given(_text | st.sampled_from(['"', "\\", "\x00\x1f\x7f", "a\nb\tc\r", "\u2028\u00e9",
                               'ord-"1\\x']))
def test_a_stream_ids_json_text_is_the_recipes(name: str) -> None:
    assert json_string(name) == canonical_json(name)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_text.filter(bool), st.integers(1, 10**6), _text.filter(bool),
                          st.integers(-(2**55), 2**55), st.sampled_from(["{}", '{"a":1}'])),
                min_size=1, max_size=5))
def test_chain_hasher_equals_the_documented_recipe(events: list[tuple]) -> None:
    hasher = ChainHasher()
    previous = ""
    for sid, version, type_, us, payload in events:
        assert hasher.iso(us) == iso_from_us(us)
        expected = chain_hash(previous, envelope_bytes(sid, version, type_, us, payload, "{}"))
        assert hasher.hash_text(previous, sid, version, type_, hasher.iso(us), payload,
                                "{}") == expected
        assert hasher.hash_named(previous, hasher.name_json(sid), version,
                                 hasher.name_json(type_), hasher.iso(us), payload,
                                 "{}") == expected
        previous = expected


@settings(max_examples=300, deadline=None)
@given(st.integers(-(2**55), 2**55), st.lists(st.integers(-2_000_001, 2_000_001), max_size=12))
def test_chain_hasher_instants_in_runs_of_a_second(base: int, steps: list[int]) -> None:
    """The hasher remembers the last second's text: runs within a second, across second and
    day boundaries and before 1970 must all read as the recipe's."""
    hasher = ChainHasher()
    us = base
    for step in [0, *steps]:
        us += step
        assert hasher.iso(us) == iso_from_us(us)


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
       st.integers(-14 * 60, 14 * 60))
def test_instant_text_is_reused_only_when_it_is_the_envelope_form(moment: datetime,
                                                                  offset: int) -> None:
    zone = UTC if offset == 0 else timezone(timedelta(minutes=offset))
    aware = moment.replace(tzinfo=zone)
    for text in (aware.isoformat(), aware.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                 aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")):
        line = json.dumps({"stream_id": "s", "stream_type": "T", "version": 1, "type": "E",
                           "recorded_at": text, "payload": {}, "metadata": {}}).encode()
        row = jsonl_reader._plain_line("f", 1, line)
        if row is not None:
            assert row[7] == iso_from_us(row[6])


def _write_history(path: Path, streams: int, versions: int, *, extra: str = "") -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        for v in range(1, versions + 1):
            for s in range(streams):
                fh.write(json.dumps({
                    "stream_id": f"s-{s}", "stream_type": "T", "version": v, "type": "E",
                    "recorded_at": f"2026-01-0{1 + v % 9}T10:00:0{s % 10}.{v:06d}"
                                   + ("Z" if s % 2 else "+01:00"),
                    "payload": {"v": v, "price": 1.5 if s % 7 == 0 else v, "note": "é"},
                    "metadata": {}}) + ("\r\n" if (s + v) % 5 == 0 else "\n"))
                if s == 3 and v == 2:
                    fh.write("\n")  # a blank line keeps its line number
        fh.write(extra)


def _import(path: Path, target: Path, **reader: object) -> list[tuple]:
    with open_store(target) as store:
        store.import_rows(JsonlReader(path, **reader))  # type: ignore[arg-type]
        return list(store.iter_raw_events())


def test_the_parser_process_imports_exactly_what_the_serial_reader_does(tmp_path: Path) -> None:
    source = tmp_path / "h.jsonl"
    _write_history(source, streams=40, versions=25)
    serial = _import(source, tmp_path / "a.db", parallel=False)
    parallel = _import(source, tmp_path / "b.db", parallel=True, block_bytes=4096)
    assert len(serial) == 1000
    assert parallel == serial


def test_a_bad_line_found_by_the_parser_process_names_its_line(tmp_path: Path) -> None:
    source = tmp_path / "h.jsonl"
    _write_history(source, streams=40, versions=25, extra='{"stream_id": "s-0", oops}\n')
    bad_line = 1000 + 1 + 1  # 1,000 events, one blank line, then the bad one
    for parallel in (False, True):
        target = tmp_path / f"t-{parallel}.db"
        with open_store(target) as store, pytest.raises(ImportRejected) as e:
            store.import_rows(JsonlReader(source, parallel=parallel, block_bytes=4096))
        assert (e.value.source, e.value.line) == (str(source), bad_line)
        with open_store(target, read_only=True) as store:
            assert store.head_position() == 0


def test_a_gap_after_the_parser_process_chained_it_is_still_refused(tmp_path: Path) -> None:
    source = tmp_path / "h.jsonl"
    _write_history(source, streams=10, versions=30, extra=json.dumps({
        "stream_id": "s-1", "stream_type": "T", "version": 32, "type": "E",
        "recorded_at": "2026-01-01T00:00:00Z", "payload": {}, "metadata": {}}) + "\n")
    with open_store(tmp_path / "t.db") as store, pytest.raises(ImportRejected) as e:
        store.import_rows(JsonlReader(source, parallel=True, block_bytes=2048))
    assert "expected version 31, found 32" in e.value.reason


def test_when_the_parser_process_cannot_run_the_reader_parses_everything_itself(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "h.jsonl"
    _write_history(source, streams=20, versions=10)
    expected = _import(source, tmp_path / "a.db", parallel=False)
    monkeypatch.setattr(jsonl_reader, "PARSER", "tests.worker_fakes:exits_at_once")
    assert _import(source, tmp_path / "b.db", parallel=True, block_bytes=1024) == expected
    # dies after delivering part of the file: the rest is parsed here, from where it stopped
    monkeypatch.setattr(jsonl_reader, "PARSER", "tests.worker_fakes:two_blocks_then_dies")
    assert _import(source, tmp_path / "c.db", parallel=True, block_bytes=1024) == expected


def test_floats_keep_pythons_form_through_the_fast_path(tmp_path: Path) -> None:
    source = tmp_path / "h.jsonl"
    source.write_text(json.dumps({
        "stream_id": "s", "stream_type": "T", "version": 1, "type": "E",
        "recorded_at": "2026-01-01T00:00:00.000000Z",
        "payload": {"big": 1e16, "small": 1e-7, "third": 1 / 3, "int": 2**64 + 1},
        "metadata": {}}) + "\n", "utf-8")
    rows = _import(source, tmp_path / "t.db", parallel=True, block_bytes=64)
    payload = rows[0][6]
    assert payload == canonical_json({"big": 1e16, "int": 2**64 + 1, "small": 1e-7,
                                      "third": 1 / 3})
    assert '"big":1e+16' in payload and '"small":1e-07' in payload
    assert not math.isnan(json.loads(payload)["third"])


_readings = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**70), 2**70)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_text, _readings | st.lists(_readings, max_size=3), max_size=4),
       st.dictionaries(_text, _readings | _text, max_size=3))
def test_a_line_with_floats_takes_the_plain_path_with_the_exact_paths_row(
        payload: dict, metadata: dict) -> None:
    """A meter reading's float no longer sends its line down the exact path; the plain path's
    row is the exact path's, field for field, or the plain path steps aside."""
    line = json.dumps({"stream_id": "meter-1", "stream_type": "Meter", "version": 3,
                       "type": "ReadingTaken", "recorded_at": "2026-01-01T00:00:01.000002Z",
                       "payload": payload, "metadata": metadata}).encode()
    plain = jsonl_reader._plain_line("f", 7, line)
    exact = jsonl_reader._exact_row("f", 7, line)
    assert plain is None or plain == exact
    values = [*payload.values(), *metadata.values()]
    flat = [x for v in values for x in (v if isinstance(v, list) else [v])]
    if all(not isinstance(x, float) or abs(x) < 2.0**63 for x in flat) and not any(
            isinstance(x, int) and not -(2**63) <= x < 2**64 for x in flat):
        assert plain is not None


_EDGES = [0.0, -0.0, 1e-4, math.nextafter(1e-4, 0), math.nextafter(1e-4, 1), 1e16,
          math.nextafter(1e16, 0), 5e-324, 2.0**53, 2.0**53 + 2, 1e15 + 0.3, 0.1, 1 / 3,
          123456789.123, 2.0**63, math.nextafter(2.0**63, 0)]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False)
                | st.floats(min_value=1e-5, max_value=1e-3)
                | st.floats(min_value=1e15, max_value=1e17)
                | st.sampled_from(_EDGES).flatmap(lambda f: st.sampled_from([f, -f])),
                min_size=1, max_size=5))
def test_floats_orjson_writes_are_written_by_orjson_exactly_as_the_recipe(
        numbers: list[float]) -> None:
    """Where ``canonical_json_parsed`` lets orjson write floats (zero, and magnitudes from
    1e-4 to 1e16), orjson's text is the recipe's, at both edges of that range."""
    text = json.dumps({"kwh": numbers, "n": numbers[0]})
    fast = canonical_json_parsed(orjson.loads(text))
    assert fast == canonical_json(json.loads(text)) or (
        fast is None and any(abs(f) >= 2.0**63 for f in numbers))
    for f in numbers:
        if f == 0.0 or 1e-4 <= abs(f) < 1e16:
            assert orjson.dumps(f).decode() == json.dumps(f)


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(_text, _json_values, max_size=6) | _json_values,
       st.sampled_from(["", ' "n": 12345678901234567890123, ', ' "d": 1, "d": 2.5, ']))
def test_an_object_orjson_parsed_is_decode_jsons_reading_or_declined(
        value: object, extra: str) -> None:
    """The eventsourcing import's reading of a plain state: the very values ``decode_json``
    gives (integers stay integers, floats floats), and orjson's canonical text only where it
    is the recipe's."""
    text = json.dumps(value)
    if extra and text.startswith("{"):
        text = "{" + extra + text[1:] if text != "{}" else "{" + extra.rstrip(", ") + "}"
    parsed = parse_json_object(text.encode())
    exact = decode_json(text)
    if parsed is None:
        assert not isinstance(exact, dict) or _unsure(exact, floats_below=2.0**63)
        return
    found, orjson_writes = parsed
    assert repr(found) == repr(exact)
    if orjson_writes:
        assert canonical_json_orjson(found) == canonical_json(exact)
