"""Tests of the eventsourcing fixtures themselves: each writes what its docstring says.

The adapter tests will trust ``Expected`` as the truth about a foreign store, so here it is
checked against the store twice over: raw SQL (tables in sqlite_master/information_schema,
row counts, notification ids, how ids and states are stored, decoded by hand with the recipe
an adapter would use) and the library's own API (the Application reopened on the store
reads back exactly ``Expected``).
"""

import json
import sqlite3
import zlib
from base64 import b64decode
from collections.abc import Iterator
from contextlib import closing, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex
from sqlalchemy.engine import make_url

from tests.peers.eventsourcing_apps import (
    POSTGRES_MODULE,
    SQLALCHEMY_MODULE,
    SQLITE_MODULE,
    EsTarget,
    Expected,
    append_bank_events,
    read_expected,
    reopen,
    write_domain_styles,
    write_large_sqlite,
    write_text_ids,
)

SQLITE_FIXTURES = [
    "eventsourcing_sqlite_bank",
    "eventsourcing_sqlite_bank_snapshots",
    "eventsourcing_sqlite_bank_zlib",
    "eventsourcing_sqlite_bank_aes",
    "eventsourcing_sqlite_bank_zlib_aes",
    "eventsourcing_sqlite_styles",
    "eventsourcing_sqlite_styles_snapshots",
    "eventsourcing_sqlite_text_ids",
    "eventsourcing_sqlite_paging",
    "eventsourcing_sqla_sqlite_bank_snapshots",
    "eventsourcing_sqla_sqlite_styles",
]
PG_FIXTURES = [
    "eventsourcing_pg_bank",
    "eventsourcing_pg_bank_snapshots",
    "eventsourcing_pg_bank_zlib_aes",
    "eventsourcing_pg_schema_bank",
    "eventsourcing_pg_styles",
    "eventsourcing_pg_text_ids",
    "eventsourcing_pg_paging",
    "eventsourcing_sqla_pg_bank_snapshots",
    "eventsourcing_sqla_pg_bank_zlib_aes",
]
ALL_FIXTURES = [
    *SQLITE_FIXTURES,
    *(pytest.param(name, marks=pytest.mark.postgres) for name in PG_FIXTURES),
]

#: The column each module numbers the application sequence with.
NOTIFICATION_COLUMN = {
    SQLITE_MODULE: "rowid",
    POSTGRES_MODULE: "notification_id",
    SQLALCHEMY_MODULE: "id",
}

#: (events, snapshots) each fixture's docstring promises.
PROMISED_COUNTS = {
    "eventsourcing_sqlite_bank": (13, 0),
    "eventsourcing_sqlite_bank_snapshots": (13, 5),
    "eventsourcing_sqlite_bank_zlib": (13, 0),
    "eventsourcing_sqlite_bank_aes": (13, 0),
    "eventsourcing_sqlite_bank_zlib_aes": (13, 0),
    "eventsourcing_sqlite_styles": (31, 0),
    "eventsourcing_sqlite_styles_snapshots": (31, 5),
    "eventsourcing_sqlite_text_ids": (5, 0),
    "eventsourcing_sqlite_paging": (2000, 0),
    "eventsourcing_sqla_sqlite_bank_snapshots": (13, 5),
    "eventsourcing_sqla_sqlite_styles": (31, 0),
    "eventsourcing_pg_bank": (13, 0),
    "eventsourcing_pg_bank_snapshots": (13, 5),
    "eventsourcing_pg_bank_zlib_aes": (13, 0),
    "eventsourcing_pg_schema_bank": (13, 5),
    "eventsourcing_pg_styles": (31, 5),
    "eventsourcing_pg_text_ids": (5, 0),
    "eventsourcing_pg_paging": (2000, 0),
    "eventsourcing_sqla_pg_bank_snapshots": (13, 5),
    "eventsourcing_sqla_pg_bank_zlib_aes": (13, 0),
}


@contextmanager
def _connect(expected: Expected) -> Iterator[sa.Connection]:
    url = (
        f"sqlite:///{expected.location}"
        if expected.persistence_module == SQLITE_MODULE
        else expected.location
    )
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _is_sqlite(expected: Expected) -> bool:
    return expected.persistence_module == SQLITE_MODULE or expected.location.startswith("sqlite")


def _qualified(expected: Expected, table: str) -> str:
    if expected.schema and not _is_sqlite(expected):
        return f'"{expected.schema}"."{table}"'
    return f'"{table}"'


def _tables(conn: sa.Connection, expected: Expected) -> set[str]:
    if _is_sqlite(expected):
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return {r[0] for r in conn.exec_driver_sql(sql)}
    sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = %(s)s"
    return {r[0] for r in conn.exec_driver_sql(sql, {"s": expected.schema or "public"})}


def _event_rows(conn: sa.Connection, expected: Expected) -> list[sa.Row[Any]]:
    column = NOTIFICATION_COLUMN[expected.persistence_module]
    sql = (
        f"SELECT {column} AS notification_id, originator_id, originator_version, topic, state "
        f"FROM {_qualified(expected, expected.events_table)} ORDER BY {column}"
    )
    return list(conn.exec_driver_sql(sql))


def _id_as_printed(raw: Any, expected: Expected) -> str:
    """The recipe an adapter needs: hex text (eventsourcing.sqlite), 16 bytes
    (eventsourcing_sqlalchemy on SQLite), native uuid (PostgreSQL), or text ids as is."""
    if isinstance(raw, bytes):
        return str(UUID(bytes=raw))
    if expected.id_type == "text":
        return str(raw)
    return str(UUID(str(raw)))


def _plain_state(state: bytes, expected: Expected) -> bytes:
    """Undo the library's encodings by hand: decrypt (AES-GCM: 12-byte nonce, 16-byte tag,
    then ciphertext), then decompress (zlib), the reverse of its write order."""
    if expected.cipher_key:
        key = b64decode(expected.cipher_key)
        nonce, tag, ciphertext = state[:12], state[12:28], state[28:]
        state = AESGCM(key).decrypt(nonce, ciphertext + tag, None)
        # GCM is a stream mode: the ciphertext is exactly as long as what was encrypted.
        assert len(ciphertext) == len(state)
    if expected.compressor_topic:
        assert state.startswith(b"\x78\x9c")  # zlib header, default level
        state = zlib.decompress(state)
    return state


def _library_transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return transcoder


@pytest.mark.parametrize("fixture_name", ALL_FIXTURES)
def test_fixture_store_holds_the_rows_expected_describes(
    fixture_name: str, request: pytest.FixtureRequest
) -> None:
    expected: Expected = request.getfixturevalue(fixture_name)
    events, snapshots = PROMISED_COUNTS[fixture_name]
    assert (expected.event_count, len(expected.snapshots)) == (events, snapshots)

    with _connect(expected) as conn:
        assert set(expected.tables) <= _tables(conn, expected)
        rows = _event_rows(conn, expected)
        assert len(rows) == expected.event_count
        by_notification = {e.notification_id: e for e in expected.events}
        assert [r.notification_id for r in rows] == sorted(by_notification)
        transcoder = _library_transcoder()
        ids = {e.notification_id: a.id for a in expected.aggregates for e in a.events}
        for row in rows:
            event = by_notification[row.notification_id]
            assert _id_as_printed(row.originator_id, expected) == ids[row.notification_id]
            assert (row.originator_version, row.topic) == (event.version, event.topic)
            state = bytes(row.state)
            plain = _plain_state(state, expected)
            assert plain.startswith(b'{"timestamp":{"_type_":"datetime_iso","_data_":"')
            assert json.loads(plain)["timestamp"]["_data_"] == event.timestamp.isoformat()
            assert transcoder.decode(plain) == event.state
            assert (state == plain) == (not (expected.cipher_key or expected.compressor_topic))
        if expected.snapshots_table:
            sql = (
                "SELECT originator_id, originator_version, topic "
                f"FROM {_qualified(expected, expected.snapshots_table)}"
            )
            stored = {
                (_id_as_printed(r[0], expected), r[1], r[2]) for r in conn.exec_driver_sql(sql)
            }
            assert stored == {(s.aggregate_id, s.version, s.topic) for s in expected.snapshots}


@pytest.mark.parametrize("fixture_name", ALL_FIXTURES)
def test_library_reads_back_what_expected_describes(
    fixture_name: str, request: pytest.FixtureRequest
) -> None:
    expected: Expected = request.getfixturevalue(fixture_name)
    ids = [UUID(a.id) if expected.id_type == "uuid" else a.id for a in expected.aggregates]
    with reopen(expected) as app:
        again = read_expected(app, ids, env=expected.env)
        first = app.notification_log.select(start=1, limit=10)
    assert again.aggregates == expected.aggregates
    assert again.snapshots == expected.snapshots
    assert again.tables == expected.tables
    assert [(n.id, n.topic) for n in first] == [
        (e.notification_id, e.topic) for e in expected.events[:10]
    ]


@pytest.mark.parametrize(
    "fixture_name",
    [n for n in SQLITE_FIXTURES if "sqla" not in n and "paging" not in n],  # paging: same code
)
def test_sqlite_store_is_left_in_wal_mode_without_side_files(
    fixture_name: str, request: pytest.FixtureRequest
) -> None:
    """The library switches the file to WAL (header bytes 18-19 = 2) and its close
    checkpoints and removes ``-wal``/``-shm``."""
    expected: Expected = request.getfixturevalue(fixture_name)
    path = Path(expected.location)
    assert expected.wal_files_after_close == ()
    assert not Path(f"{path}-wal").exists() and not Path(f"{path}-shm").exists()
    assert path.read_bytes()[18:20] == b"\x02\x02"


def test_sqlite_uuid_ids_are_stored_as_hex_without_dashes(
    eventsourcing_sqlite_bank: Expected, eventsourcing_sqla_sqlite_bank_snapshots: Expected
) -> None:
    with _connect(eventsourcing_sqlite_bank) as conn:
        raw = conn.exec_driver_sql("SELECT originator_id FROM stored_events").scalars().all()
    assert {UUID(r).hex for r in raw} == set(raw)
    assert {str(UUID(r)) for r in raw} == {a.id for a in eventsourcing_sqlite_bank.aggregates}
    with _connect(eventsourcing_sqla_sqlite_bank_snapshots) as conn:
        blobs = conn.exec_driver_sql("SELECT originator_id FROM bankaccounts_events").scalars()
        assert {(type(b), len(b)) for b in blobs} == {(bytes, 16)}


def test_state_payload_types_survive_the_library_round_trip(
    eventsourcing_sqlite_styles: Expected,
) -> None:
    specimen = eventsourcing_sqlite_styles.of_class("Specimen")[0]
    measured = specimen.events[1].state
    assert measured["weight"] == Decimal("12.340")
    assert measured["sample_id"] == UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    assert measured["taken_at"].isoformat() == "2025-06-30T23:59:59.999999+00:00"
    assert measured["extra"]["nested"][0]["d"] == Decimal("1.0")
    values = [e.state["value"] for e in specimen.events if e.class_name == "Specimen.Annotated"]
    assert 2**70 in values and None in values and Decimal("-0.000") in values
    counter = eventsourcing_sqlite_styles.of_class("Counter")[0]
    assert [e.version for e in counter.events] == [0, 1, 2, 3]
    cargo = eventsourcing_sqlite_styles.of_class("Cargo")[0]
    assert [e.topic.split(":")[1] for e in cargo.events] == [
        "CargoBooked",
        "CargoLoaded",
        "CargoDelivered",
    ]
    again = Expected.from_json(eventsourcing_sqlite_styles.to_json())
    assert again == eventsourcing_sqlite_styles


def test_non_finite_floats_are_written_as_bare_json_tokens(tmp_path: Path) -> None:
    expected = write_domain_styles(EsTarget.sqlite(tmp_path / "nan.db"), non_finite_floats=True)
    with _connect(expected) as conn:
        states = b"".join(bytes(r.state) for r in _event_rows(conn, expected))
    assert b'"value":NaN' in states and b'"value":Infinity' in states
    assert b'"value":-Infinity' in states


def test_text_ids_are_refused_for_eventsourcing_sqlalchemy(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="UUID column"):
        write_text_ids(EsTarget.sqlalchemy_sqlite(tmp_path / "t.db"))


def test_append_continues_the_log_and_reopened_sqlite_keeps_a_live_wal(
    eventsourcing_sqlite_bank: Expected,
) -> None:
    grown = append_bank_events(eventsourcing_sqlite_bank, count=4)
    assert grown.event_count == eventsourcing_sqlite_bank.event_count + 4
    old_max = eventsourcing_sqlite_bank.max_notification_id
    assert [e.notification_id for e in grown.events[-4:]] == list(range(old_max + 1, old_max + 5))
    assert grown.events[: eventsourcing_sqlite_bank.event_count] == (
        eventsourcing_sqlite_bank.events
    )
    assert grown.wal_files_after_close == ()
    wal = Path(f"{grown.location}-wal")
    with reopen(grown) as app:
        app.save(app.repository.get(UUID(grown.aggregates[0].id)))  # opens the pool
        assert wal.exists()
    assert not wal.exists()


@pytest.mark.postgres
def test_append_on_postgres(eventsourcing_pg_bank: Expected) -> None:
    grown = append_bank_events(eventsourcing_pg_bank, count=3)
    assert grown.max_notification_id == eventsourcing_pg_bank.max_notification_id + 3
    assert grown.event_count == eventsourcing_pg_bank.event_count + 3


def test_write_large_sqlite_writes_the_exact_count(tmp_path: Path) -> None:
    store = write_large_sqlite(tmp_path / "large.db", 2_345, batch=50)
    assert (store.events, store.aggregates, store.max_notification_id) == (2_345, 235, 2_345)
    with closing(sqlite3.connect(store.path)) as conn:
        sql = "SELECT count(*), count(DISTINCT originator_id), max(rowid) FROM stored_events"
        assert conn.execute(sql).fetchone() == (2_345, 235, 2_345)


def test_eventsourcing_bank_store_on_every_module(eventsourcing_bank_store: Expected) -> None:
    expected = eventsourcing_bank_store
    assert (expected.event_count, len(expected.snapshots)) == (13, 5)
    with _connect(expected) as conn:
        assert set(expected.tables) <= _tables(conn, expected)
        assert len(_event_rows(conn, expected)) == 13


@pytest.mark.postgres
def test_pg_schema_fixture_writes_only_into_its_schema(
    eventsourcing_pg_schema_bank: Expected,
) -> None:
    """Nothing lands in ``public``, and ``location`` is a URL of the fixture's database."""
    expected = eventsourcing_pg_schema_bank
    assert expected.schema == "es_ledger"
    assert make_url(expected.location).database == expected.env["POSTGRES_DBNAME"]
    with _connect(expected) as conn:
        public = conn.exec_driver_sql(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).scalar_one()
    assert public == 0
