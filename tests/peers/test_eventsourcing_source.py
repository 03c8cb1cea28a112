"""esaudit reads stores the eventsourcing library wrote, in place, and says what the library
says: every fixture here was written through the library's own Application API, and every
expectation is what the library itself read back (``Expected``)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from store import Source, StoreError
from store.sources import open_source
from tests.peers.eventsourcing_apps import Expected, append_bank_events
from tests.store.source_contract import check_read_contract

SQLITE_FIXTURES = [
    "eventsourcing_sqlite_bank", "eventsourcing_sqlite_bank_snapshots",
    "eventsourcing_sqlite_bank_zlib", "eventsourcing_sqlite_bank_aes",
    "eventsourcing_sqlite_bank_zlib_aes", "eventsourcing_sqlite_styles",
    "eventsourcing_sqlite_styles_snapshots", "eventsourcing_sqlite_text_ids",
    "eventsourcing_sqla_sqlite_bank_snapshots", "eventsourcing_sqla_sqlite_styles",
]
PG_FIXTURES = [
    "eventsourcing_pg_bank", "eventsourcing_pg_bank_snapshots",
    "eventsourcing_pg_bank_zlib_aes", "eventsourcing_pg_schema_bank",
    "eventsourcing_pg_styles", "eventsourcing_pg_text_ids",
]
TYPES = {"decimal_str": Decimal, "uuid_hex": UUID, "datetime_iso": datetime.fromisoformat}


def as_python(value: Any) -> Any:
    """A payload with the transcoder's typed objects turned into the values they stand for
    (what the library hands its application), to compare with what the library read."""
    if isinstance(value, dict):
        if value.keys() == {"_type_", "_data_"} and value["_type_"] in TYPES:
            return TYPES[value["_type_"]](value["_data_"])
        return {k: as_python(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_python(v) for v in value]
    return value


def plain(value: Any) -> Any:
    """The library's decoded values with tuples as the lists JSON holds."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def files_of(location: str) -> dict[str, str]:
    """SHA-256 of a SQLite store's file and side files (empty for a server URL)."""
    path = Path(location.removeprefix("sqlite:///")) if "://" not in location or \
        location.startswith("sqlite") else None
    if path is None:
        return {}
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()}


def opened(expected: Expected) -> Source:
    return open_source(expected.location, create=False, cipher_key=expected.cipher_key)


def assert_same_history(source: Source, expected: Expected) -> None:
    assert source.identity.kind == "eventsourcing" and source.read_only
    assert not source.capabilities.writable and not source.capabilities.hash_chain
    streams = {s.stream_id: s for s in source.streams()}
    assert set(streams) == {a.id for a in expected.aggregates}
    for agg in expected.aggregates:
        info = streams[agg.id]
        assert (info.stream_type, info.version) == (agg.class_name, agg.version)
        assert info.first_version == agg.events[0].version
        read = source.read_stream(agg.id)
        assert [e.version for e in read] == [e.version for e in agg.events]
        for got, want in zip(read, agg.events, strict=True):
            assert got.type == want.class_name.rsplit(".", 1)[-1]
            assert got.position == want.notification_id
            assert got.recorded_at == want.timestamp
            assert got.provenance["topic"] == want.topic
            assert got.provenance["notification_id"] == want.notification_id
            state = {k: v for k, v in want.state.items() if k != "timestamp"}
            assert as_python(got.payload) == plain(state)
    assert source.counts() == (expected.event_count, len(expected.aggregates))
    snaps = sorted((s.stream_id, s.version) for s in source.iter_snapshots())
    assert snaps == sorted((s.aggregate_id, s.version) for s in expected.snapshots)
    assert source.capabilities.snapshots == (expected.snapshots_table is not None)


@pytest.mark.parametrize("fixture", SQLITE_FIXTURES)
def test_sqlite_stores_read_as_the_library_reads_them(fixture: str,
                                                       request: pytest.FixtureRequest) -> None:
    expected: Expected = request.getfixturevalue(fixture)
    before = files_of(expected.location)
    with opened(expected) as source:
        assert_same_history(source, expected)
        check_read_contract(source)
    assert files_of(expected.location) == before


@pytest.mark.postgres
@pytest.mark.parametrize("fixture", PG_FIXTURES)
def test_postgres_stores_read_as_the_library_reads_them(fixture: str,
                                                         request: pytest.FixtureRequest) -> None:
    expected: Expected = request.getfixturevalue(fixture)
    with opened(expected) as source:
        assert_same_history(source, expected)
        check_read_contract(source)


def test_a_paged_log_of_interleaved_streams(eventsourcing_sqlite_paging: Expected) -> None:
    expected = eventsourcing_sqlite_paging
    with opened(expected) as source:
        ids = [e.position for e in source.iter_events(page_size=37)]
        assert ids == [e.notification_id for e in expected.events]
        check_read_contract(source)


def test_version_zero_aggregates_keep_their_numbers(eventsourcing_sqlite_styles: Expected
                                                    ) -> None:
    counter = eventsourcing_sqlite_styles.of_class("Counter")[0]
    assert counter.events[0].version == 0
    with opened(eventsourcing_sqlite_styles) as source:
        info = source.stream(counter.id)
        assert info is not None and info.first_version == 0
        assert source.read_stream(counter.id, 0, 0)[0].version == 0


def test_events_defined_outside_the_aggregate_name_it(eventsourcing_sqlite_styles: Expected
                                                      ) -> None:
    cargo = eventsourcing_sqlite_styles.of_class("Cargo")[0]
    assert "." not in cargo.events[1].topic.split(":")[1]  # a module-level event class
    with opened(eventsourcing_sqlite_styles) as source:
        info = source.stream(cargo.id)
        assert info is not None and info.stream_type == "Cargo"


def test_an_id_typed_without_dashes_finds_the_stream(eventsourcing_sqlite_bank: Expected
                                                     ) -> None:
    agg = eventsourcing_sqlite_bank.aggregates[0]
    with opened(eventsourcing_sqlite_bank) as source:
        info = source.stream(UUID(agg.id).hex)
        assert info is not None and info.stream_id == agg.id


def test_encrypted_states_without_the_key_say_what_to_give(
        eventsourcing_sqlite_bank_aes: Expected) -> None:
    location = eventsourcing_sqlite_bank_aes.location
    before = files_of(location)
    done = cli("--db", location, "streams", env_key=None)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "CIPHER_KEY" in done.stderr
    wrong = cli("--db", location, "streams", env_key="A" * 22 + "==")
    assert wrong.returncode == 2 and "CIPHER_KEY" in wrong.stderr
    ok = cli("--db", location, "streams", "--json",
             env_key=eventsourcing_sqlite_bank_aes.cipher_key)
    assert ok.returncode == 0, ok.stderr
    assert {s["stream_id"] for s in json.loads(ok.stdout)} == {
        a.id for a in eventsourcing_sqlite_bank_aes.aggregates}
    assert files_of(location) == before


def cli(*args: str, env_key: str | None) -> subprocess.CompletedProcess[str]:
    import os
    env = {k: v for k, v in os.environ.items() if k != "CIPHER_KEY"}
    if env_key is not None:
        env["CIPHER_KEY"] = env_key
    return subprocess.run([sys.executable, "-m", "esaudit", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_the_command_line_reads_and_never_writes(eventsourcing_sqlite_styles_snapshots: Expected,
                                                 tmp_path: Path) -> None:
    expected = eventsourcing_sqlite_styles_snapshots
    location = expected.location
    before = files_of(location)
    info = json.loads(cli("--db", location, "info", "--json", env_key=None).stdout)
    assert {k: info[k] for k in ("kind", "read_only", "events", "streams", "target")} == {
        "kind": "eventsourcing", "read_only": True, "events": expected.event_count,
        "streams": len(expected.aggregates), "target": location}
    dog = expected.of_class("Dog")[0]
    events = json.loads(cli("--db", location, "events", dog.id, "--json", env_key=None).stdout)
    assert [e["version"] for e in events] == [e.version for e in dog.events]
    assert all(e["provenance"]["topic"] == want.topic
               for e, want in zip(events, dog.events, strict=True))
    replay = json.loads(cli("--db", location, "replay", dog.id, "--json", env_key=None).stdout)
    assert replay["model"] == "none"
    verify = cli("--db", location, "verify", "--json", env_key=None)
    assert verify.returncode == 0, verify.stdout
    assert json.loads(verify.stdout)["not_checked"]
    for args in (["order", "create", "--customer", "x"], ["seed", "--orders", "1"],
                 ["projections", "rebuild"], ["import", str(tmp_path / "x.jsonl")]):
        refused = cli("--db", location, *args, env_key=None)
        assert refused.returncode == 2
        assert refused.stderr.count("\n") == 1 and "never writes" in refused.stderr
    assert cli("--db", location, "export", str(tmp_path / "out.jsonl"),
               env_key=None).returncode == 0
    assert cli("--db", location, "report", "--out", str(tmp_path / "r.html"),
               env_key=None).returncode == 0
    assert files_of(location) == before


def test_a_store_being_written_shows_its_cut_until_refreshed(
        eventsourcing_sqlite_bank: Expected) -> None:
    with opened(eventsourcing_sqlite_bank) as source:
        head = source.head_position()
        grown = append_bank_events(eventsourcing_sqlite_bank, count=4)  # the writer goes on
        assert source.head_position() == head
        assert len(list(source.iter_events())) == eventsourcing_sqlite_bank.event_count
        source.refresh()
        assert source.head_position() == grown.max_notification_id
        assert_same_history(source, grown)


def test_a_refresh_whose_read_is_refused_keeps_the_cut_it_had(
        eventsourcing_sqlite_bank: Expected, monkeypatch: pytest.MonkeyPatch) -> None:
    with opened(eventsourcing_sqlite_bank) as source:
        head = source.head_position()
        grown = append_bank_events(eventsourcing_sqlite_bank, count=4)
        db = source._db  # type: ignore[attr-defined]
        real, calls = db.read, []

        @contextmanager
        def refused_at_its_end() -> Iterator[Any]:
            calls.append(1)
            with real() as reads:
                yield reads
            if len(calls) == 2:  # the read that takes the new cut (after "anything new?")
                raise StoreError("checkpointed by its application while it was read")

        monkeypatch.setattr(db, "read", refused_at_its_end)
        with pytest.raises(StoreError, match="while it was read"):
            source.refresh()
        monkeypatch.undo()
        assert source.head_position() == head  # not the cut the refused read set
        source.refresh()
        assert source.head_position() == grown.max_notification_id
        assert_same_history(source, grown)


@pytest.mark.postgres
def test_a_postgres_store_being_written_shows_its_cut_until_refreshed(
        eventsourcing_pg_bank: Expected) -> None:
    with opened(eventsourcing_pg_bank) as source:
        head = source.head_position()
        grown = append_bank_events(eventsourcing_pg_bank, count=4)
        assert source.head_position() == head
        assert len(list(source.iter_events())) == eventsourcing_pg_bank.event_count
        source.refresh()
        assert_same_history(source, grown)


@pytest.mark.postgres
def test_import_of_a_postgres_store_keeps_the_provenance(eventsourcing_pg_styles: Expected,
                                                         tmp_path: Path) -> None:
    target = str(tmp_path / "copy.db")
    done = cli("--db", target, "import", eventsourcing_pg_styles.location, "--format",
               "eventsourcing", "--json", env_key=None)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["events"] == eventsourcing_pg_styles.event_count
    counter = eventsourcing_pg_styles.of_class("Counter")[0]
    copied = json.loads(cli("--db", target, "events", counter.id, "--json",
                            env_key=None).stdout)
    assert [e["version"] for e in copied] == [e.version + 1 for e in counter.events]
    assert [e["metadata"]["esaudit:provenance"]["version"] for e in copied] == [
        e.version for e in counter.events]
    assert all(e["metadata"]["esaudit:provenance"]["kind"] == "eventsourcing"
               for e in copied)


def test_every_first_byte_of_an_encrypted_state_is_read() -> None:
    """AES-GCM states start with a random nonce: one in 256 starts with '{' and about one in
    8,000 like a zlib header; the key opens every one of them."""
    import base64
    import os
    import zlib

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from store.sources.eventsourcing_state import StateReader

    key = os.urandom(16)
    reader = StateReader(base64.b64encode(key).decode())
    plaintext = b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-01-01T00:00:00+00:00"}}'
    for first in (b"{", b"\x78\x9c", b"\x00"):
        for body in (plaintext, zlib.compress(plaintext)):
            nonce = (first + os.urandom(12))[:12]
            sealed = AESGCM(key).encrypt(nonce, body, None)
            state, how = reader.decode(nonce + sealed[-16:] + sealed[:-16], "test")
            assert state["timestamp"]["_data_"] == "2026-01-01T00:00:00+00:00"
            assert how == ("aes-gcm+json" if body is plaintext else "aes-gcm+zlib+json")


def test_the_readme_block_runs_on_a_store_the_library_wrote(
        eventsourcing_sqlite_bank_snapshots: Expected) -> None:
    """The README's block under 'Other event stores', with ``bank.sqlite`` being a store the
    library wrote: every SQLite line exits 0 and ``info`` prints the keys it promises."""
    import re
    import shlex

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    section = readme.split("\n## Other event stores", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"^```sh\n(.*?)^```", section, re.S | re.M)
    assert block is not None
    lines = [line.split("  #", 1)[0].strip() for line in block.group(1).splitlines()]
    local = [line for line in lines if "bank.sqlite" in line]
    assert len(local) >= 2
    for line in local:
        args = shlex.split(line.replace("bank.sqlite",
                                        eventsourcing_sqlite_bank_snapshots.location))
        assert args[0] == "esaudit"
        done = cli(*args[1:], env_key=None)
        assert done.returncode == 0, f"{line}: {done.stderr}"
        if "info" in args and "--json" in args:
            assert {"kind", "read_only", "events", "streams", "target"} <= set(
                json.loads(done.stdout))


@pytest.mark.parametrize("fixture", ["eventsourcing_sqlite_styles",
                                     "eventsourcing_sqla_sqlite_styles",
                                     "eventsourcing_sqlite_text_ids"])
def test_one_stream_is_answered_without_the_stream_list(fixture: str,
                                                        request: pytest.FixtureRequest) -> None:
    """A command about one stream reads that stream only; its answers equal those taken from
    the whole list (ids in every spelling, heads, events, the log of that stream)."""
    expected: Expected = request.getfixturevalue(fixture)
    with opened(expected) as lazy, opened(expected) as full:
        listed = {s.stream_id: s for s in full.streams()}
        for agg in expected.aggregates:
            assert lazy.stream(agg.id) == listed[agg.id]
            assert lazy.read_stream(agg.id) == full.read_stream(agg.id)
            assert list(lazy.iter_events(stream_ids=[agg.id])) == list(
                full.iter_events(stream_ids=[agg.id]))
        assert lazy.stream("no such stream") is None
        assert lazy.counts() == full.counts()


@pytest.mark.postgres
def test_an_empty_schema_beside_an_application_schema_becomes_esaudits(
        eventsourcing_pg_schema_bank: Expected) -> None:
    """Reading an empty connection schema finds the application in its own schema; creating
    esaudit's store there (seed, import) is not mistaken for writing to the application."""
    with open_source(eventsourcing_pg_schema_bank.location, create=False) as found:
        assert found.identity.kind == "eventsourcing"
    with open_source(eventsourcing_pg_schema_bank.location) as created:
        assert created.identity.kind == "esaudit" and not created.read_only
