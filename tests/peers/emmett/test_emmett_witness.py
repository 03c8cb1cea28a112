"""Sealing an Emmett store: an edited ``message_data`` row, a deleted message and two swapped
ones are named by verify against the seal; messages Emmett appends afterwards are counted.

Each test works on its own copy of the database Emmett wrote (``CREATE DATABASE ... TEMPLATE``),
so the edits reach no other test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from esaudit.application.witness import proof_check, seal_file
from esaudit.application.witness.against import check_against_seal
from esaudit.application.witness.proving import build_proof
from esaudit.application.witness.seal_file import Seal
from esaudit.application.witness.sealing import build_seal
from store.sources import open_source

from .conftest import PG_URL, EmmettDatabase, run_script

pytestmark = pytest.mark.postgres

ESAUDIT = str(Path(sys.executable).with_name("esaudit"))


@pytest.fixture
def copy(emmett_db: EmmettDatabase) -> Iterator[str]:
    """A copy of the module's Emmett database, dropped afterwards."""
    name = "emw_" + uuid.uuid4().hex[:12]
    source = sa.make_url(emmett_db.target).database
    admin = sa.create_engine(sa.make_url(PG_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        try:
            yield sa.make_url(emmett_db.target).set(database=name).render_as_string(
                hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def sealed(target: str) -> Seal:
    with open_source(target, create=False) as source:
        return seal_file.parse(build_seal(source, chunk=4), "seal.json")


def findings(target: str, seal: Seal) -> list[tuple[str, str, int | None, int | None]]:
    with open_source(target, create=False) as source:
        return [(f.kind, f.stream_id, f.version, f.position)
                for f in check_against_seal(source, seal).findings]


def sql(target: str, *statements: str) -> None:
    engine = sa.create_engine(target)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def messages(emmett_db: EmmettDatabase) -> list[dict[str, Any]]:
    return sorted(emmett_db.expected["global_order"], key=lambda m: m["global_position"])


def test_an_edited_message_data_row_is_named(emmett_db: EmmettDatabase, copy: str) -> None:
    seal = sealed(copy)
    m = messages(emmett_db)[3]
    sql(copy, "UPDATE emt_messages SET message_data = message_data || '{\"tampered\": true}'"
              f" WHERE global_position = {m['global_position']}")
    assert findings(copy, seal) == [("changed_since_seal", m["stream_id"],
                                     m["stream_position"], m["global_position"])]


def test_an_edited_metadata_or_message_id_is_named(emmett_db: EmmettDatabase,
                                                   copy: str) -> None:
    seal = sealed(copy)
    a, b = messages(emmett_db)[1], messages(emmett_db)[5]
    sql(copy, "UPDATE emt_messages SET message_metadata = message_metadata || "
              f"'{{\"actor\": \"mallory\"}}' WHERE global_position = {a['global_position']}",
        f"UPDATE emt_messages SET message_id = '{uuid.uuid4()}'"
        f" WHERE global_position = {b['global_position']}")
    assert findings(copy, seal) == [
        ("changed_since_seal", a["stream_id"], a["stream_position"], a["global_position"]),
        ("changed_since_seal", b["stream_id"], b["stream_position"], b["global_position"])]


def test_a_deleted_message_and_two_swapped_ones_are_named(emmett_db: EmmettDatabase,
                                                          copy: str) -> None:
    seal = sealed(copy)
    ordered = messages(emmett_db)
    gone, a, b = ordered[2], ordered[6], ordered[8]
    pa, pb = a["global_position"], b["global_position"]
    sql(copy, f"DELETE FROM emt_messages WHERE global_position = {gone['global_position']}",
        f"UPDATE emt_messages SET global_position = -1 WHERE global_position = {pa}",
        f"UPDATE emt_messages SET global_position = {pa} WHERE global_position = {pb}",
        f"UPDATE emt_messages SET global_position = {pb} WHERE global_position = -1")
    assert findings(copy, seal) == [
        ("removed_since_seal", gone["stream_id"], gone["stream_position"],
         gone["global_position"]),
        ("moved_since_seal", b["stream_id"], b["stream_position"], pa),
        ("moved_since_seal", a["stream_id"], a["stream_position"], pb)]


def test_messages_emmett_appends_later_are_only_counted(emmett_db: EmmettDatabase,
                                                        copy: str, tmp_path: Path) -> None:
    env = {**os.environ, "ESAUDIT_DB": ""}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ESAUDIT, "--db", copy, *args], capture_output=True, text=True,
                              timeout=120, env=env, check=False)

    seal_path = tmp_path / "seal.json"
    done = cli("seal", "--out", str(seal_path), "--json")
    assert done.returncode == 0, done.stderr
    before = json.loads(done.stdout)["size"]
    grown = run_script(sa.make_url(copy).set(drivername="postgresql").render_as_string(
        hide_password=False), "--more")  # Emmett's own appendToStream, on the copy
    appended = len(grown["global_order"]) - before
    assert appended > 0
    verified = cli("verify", "--against", str(seal_path), "--json")
    assert verified.returncode == 0, verified.stdout
    report = json.loads(verified.stdout)
    assert report["findings"] == [] and report["seal"]["appended"] == appended
    assert not any("no check can show" in line for line in report["not_checked"])

    m = messages(emmett_db)[4]
    with open_source(copy, create=False) as source:
        proof = build_proof(source, seal_file.load(seal_path), m["stream_id"],
                            m["stream_position"])
    assert proof_check.check(proof, seal_file.load(seal_path)).ok
    provenance = json.loads(proof["event"])[5]["esaudit:provenance"]
    assert provenance["kind"] == "emmett" and provenance["message_id"] == m["message_id"]
    assert "global_position" not in provenance
