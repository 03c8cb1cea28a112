"""The command line on an Emmett store: every read works in place, writes are refused in one
line, and the database is unchanged afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import EmmettDatabase, database_state, expected_type, stored_metadata

pytestmark = pytest.mark.postgres

ESAUDIT = str(Path(sys.executable).with_name("esaudit"))


def esaudit(target: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ESAUDIT_DB": ""}
    return subprocess.run([ESAUDIT, "--db", target, *args], capture_output=True, text=True,
                          timeout=120, env=env, check=False)


def ok_json(target: str, *args: str) -> Any:
    done = esaudit(target, *args)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def state_before(emmett_db: EmmettDatabase) -> dict[str, Any]:
    return database_state(emmett_db.target)


def test_info(emmett_db: EmmettDatabase, state_before: dict[str, Any]) -> None:
    info = ok_json(emmett_db.target, "info", "--json")
    streams = emmett_db.expected["streams"]
    assert info["kind"] == "emmett" and info["read_only"] is True
    assert info["events"] == sum(len(s["events"]) for s in streams)
    assert info["streams"] == len(streams)
    assert info["target"] == emmett_db.target
    assert info["capabilities"]["writable"] is False
    forced = ok_json(emmett_db.target, "--source", "emmett", "info", "--json")
    assert forced["events"] == info["events"]


def test_streams(emmett_db: EmmettDatabase, state_before: dict[str, Any]) -> None:
    listed = ok_json(emmett_db.target, "streams", "--json")
    expected = emmett_db.expected
    assert [(s["stream_id"], s["stream_type"], s["version"]) for s in listed] == [
        (s["stream_id"], expected_type(s["stream_id"], expected), s["current_stream_version"])
        for s in expected["streams"]]


def test_events(emmett_db: EmmettDatabase, state_before: dict[str, Any]) -> None:
    for stream in emmett_db.expected["streams"][::4]:
        events = ok_json(emmett_db.target, "events", stream["stream_id"], "--json")
        assert [(e["version"], e["position"], e["type"], e["payload"], e["metadata"],
                 e["provenance"]["message_id"]) for e in events] == [
            (e["stream_position"], e["global_position"], e["type"], e["data"],
             stored_metadata(e["metadata"]), e["message_id"]) for e in stream["events"]]


def test_verify_checks_what_needs_no_hash_chain(emmett_db: EmmettDatabase,
                                                state_before: dict[str, Any]) -> None:
    done = esaudit(emmett_db.target, "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "hash chain" in done.stdout


def test_writes_are_refused_in_one_line(emmett_db: EmmettDatabase,
                                        state_before: dict[str, Any]) -> None:
    done = esaudit(emmett_db.target, "seed", "--orders", "1")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "emmett" in done.stderr


def test_import_copies_every_event_with_its_provenance(emmett_db: EmmettDatabase,
                                                       state_before: dict[str, Any],
                                                       tmp_path: Path) -> None:
    copy = str(tmp_path / "copy.db")
    summary = ok_json(copy, "import", emmett_db.target, "--format", "emmett", "--json")
    theirs = emmett_db.expected["global_order"]
    assert (summary["events"], summary["streams"]) == (
        len(theirs), len(emmett_db.expected["streams"]))
    stream = emmett_db.expected["streams"][0]
    copied = ok_json(copy, "events", stream["stream_id"], "--json")
    assert [e["version"] for e in copied] == [e["stream_position"] for e in stream["events"]]
    for got, want in zip(copied, stream["events"], strict=True):
        source = got["metadata"].pop("esaudit:provenance")
        assert source["kind"] == "emmett" and source["version"] == want["stream_position"]
        assert got["metadata"] == stored_metadata(want["metadata"])
        assert got["payload"] == want["data"]
    assert ok_json(copy, "verify", "--json")["ok"] is True  # the copy is hash-chained


def test_the_database_is_unchanged_after_every_command(emmett_db: EmmettDatabase,
                                                       state_before: dict[str, Any]) -> None:
    assert database_state(emmett_db.target) == state_before
