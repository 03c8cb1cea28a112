"""Sealing a store the eventsourcing library wrote: every edit of its stored bytes after the
seal is named, events the application appends afterwards are only counted.

The stores are the library's own (``conftest.py`` fixtures); every tampering is done on a copy
of the file, taken through SQLite's backup API so the library's WAL is included."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import zlib
from contextlib import closing
from pathlib import Path

import pytest

from esaudit.application.witness import proof_check, seal_file
from esaudit.application.witness.against import check_against_seal, verify_against_seal
from esaudit.application.witness.proving import build_proof
from esaudit.application.witness.seal_file import Seal
from esaudit.application.witness.sealing import build_seal
from store import Source
from store.sources import open_source
from tests.peers.eventsourcing_apps import Expected, append_bank_events

ESAUDIT = str(Path(sys.executable).with_name("esaudit"))


def copy_of(expected: Expected, folder: Path) -> Path:
    copy = folder / "copy.db"
    source = sqlite3.connect(f"file:{expected.location}?mode=ro", uri=True)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return copy


def sealed(source: Source) -> Seal:
    return seal_file.parse(build_seal(source, chunk=4), "seal.json")


def findings(path: Path | str, seal: Seal) -> list[tuple[str, str, int | None, int | None]]:
    with open_source(path, create=False) as source:
        return [(f.kind, f.stream_id, f.version, f.position)
                for f in check_against_seal(source, seal).findings]


def edit_state(path: Path, rowid: int, old: bytes, new: bytes) -> None:
    """Change bytes of one stored state, as someone with the file would (a compressed one is
    decompressed, changed and compressed again)."""
    with closing(sqlite3.connect(path)) as conn, conn:
        (state,) = conn.execute("SELECT state FROM stored_events WHERE rowid = ?",
                                (rowid,)).fetchone()
        compressed = state[:1] == b"\x78"
        plain = zlib.decompress(state) if compressed else state
        assert old in plain
        plain = plain.replace(old, new)
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?",
                     (zlib.compress(plain) if compressed else plain, rowid))


@pytest.mark.parametrize("fixture", ["eventsourcing_sqlite_bank",
                                     "eventsourcing_sqlite_bank_zlib"])
def test_an_edited_payload_is_named(fixture: str, request: pytest.FixtureRequest,
                                    tmp_path: Path) -> None:
    expected: Expected = request.getfixturevalue(fixture)
    copy = copy_of(expected, tmp_path)
    with open_source(copy, create=False) as source:
        seal = sealed(source)
    ada = expected.aggregates[0]
    deposit = ada.events[1]  # Deposited 100.00
    edit_state(copy, deposit.notification_id, b'"100.00"', b'"900.00"')
    assert findings(copy, seal) == [("changed_since_seal", ada.id, deposit.version,
                                     deposit.notification_id)]
    with open_source(copy, create=False) as source:
        result = verify_against_seal(source, seal)
    assert not result.ok
    assert any("only changes made since the seal" in line
               for line in result.report.not_checked)


def test_the_time_and_the_topic_are_sealed_too(eventsourcing_sqlite_bank: Expected,
                                               tmp_path: Path) -> None:
    copy = copy_of(eventsourcing_sqlite_bank, tmp_path)
    with open_source(copy, create=False) as source:
        seal = sealed(source)
    grace = eventsourcing_sqlite_bank.aggregates[1]
    opened, closed = grace.events[0], grace.events[-1]
    stamp = opened.timestamp.isoformat().encode()
    edit_state(copy, opened.notification_id, stamp, stamp.replace(b"20", b"19", 1))
    with closing(sqlite3.connect(copy)) as conn, conn:
        conn.execute("UPDATE stored_events SET topic = replace(topic, 'tests.peers', "
                     "'elsewhere') WHERE rowid = ?", (closed.notification_id,))
    assert findings(copy, seal) == [
        ("changed_since_seal", grace.id, opened.version, opened.notification_id),
        ("changed_since_seal", grace.id, closed.version, closed.notification_id)]


def test_a_deleted_event_and_two_swapped_ones_are_named(eventsourcing_sqlite_bank: Expected,
                                                        tmp_path: Path) -> None:
    copy = copy_of(eventsourcing_sqlite_bank, tmp_path)
    with open_source(copy, create=False) as source:
        seal = sealed(source)
    events = eventsourcing_sqlite_bank.events
    ids = {e.notification_id: a.id for a in eventsourcing_sqlite_bank.aggregates
           for e in a.events}
    gone, a, b = events[4], events[6], events[9]
    with closing(sqlite3.connect(copy)) as conn, conn:
        conn.execute("DELETE FROM stored_events WHERE rowid = ?", (gone.notification_id,))
        conn.execute("UPDATE stored_events SET rowid = -1 WHERE rowid = ?", (a.notification_id,))
        conn.execute("UPDATE stored_events SET rowid = ? WHERE rowid = ?",
                     (a.notification_id, b.notification_id))
        conn.execute("UPDATE stored_events SET rowid = ? WHERE rowid = -1",
                     (b.notification_id,))
    assert findings(copy, seal) == [
        ("removed_since_seal", ids[gone.notification_id], gone.version, gone.notification_id),
        ("moved_since_seal", ids[b.notification_id], b.version, a.notification_id),
        ("moved_since_seal", ids[a.notification_id], a.version, b.notification_id)]


def test_events_the_application_appends_later_are_only_counted(
        eventsourcing_sqlite_bank: Expected, tmp_path: Path) -> None:
    seal_path = tmp_path / "seal.json"
    env = {**os.environ, "ESAUDIT_DB": ""}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ESAUDIT, "--db", eventsourcing_sqlite_bank.location, *args],
                              capture_output=True, text=True, timeout=120, env=env,
                              check=False)

    assert cli("seal", "--out", str(seal_path)).returncode == 0
    append_bank_events(eventsourcing_sqlite_bank, count=3)  # the library's own Application
    done = cli("verify", "--against", str(seal_path), "--json")
    assert done.returncode == 0, done.stdout
    report = json.loads(done.stdout)
    assert report["findings"] == [] and report["seal"]["appended"] == 3
    assert "clean, appended 3" in cli("verify", "--against", str(seal_path)).stdout
    ada = eventsourcing_sqlite_bank.aggregates[0]
    proof_path = tmp_path / "proof.json"
    assert cli("prove", ada.id.replace("-", ""), "3", "--seal", str(seal_path), "--out",
               str(proof_path)).returncode == 0
    seal = seal_file.load(seal_path)
    proof = proof_check.load(proof_path)
    assert proof["stream_id"] == ada.id and proof_check.check(proof, seal).ok
    event = json.loads(proof["event"])
    assert event[5]["esaudit:provenance"]["topic"] == ada.events[2].topic
    assert "notification_id" not in event[5]["esaudit:provenance"]


def test_an_encrypted_store_is_sealed_through_its_key(eventsourcing_sqlite_bank_aes: Expected,
                                                      tmp_path: Path) -> None:
    expected = eventsourcing_sqlite_bank_aes
    with open_source(expected.location, create=False,
                     cipher_key=expected.cipher_key) as source:
        seal = sealed(source)
        ada = expected.aggregates[0]
        proof = build_proof(source, seal, ada.id, 2)
    assert proof_check.check(proof, seal).ok
    assert json.loads(proof["event"])[5]["esaudit:provenance"]["state"] == "aes-gcm+json"
