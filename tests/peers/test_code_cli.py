"""The system's own classes from the command line: replay, verify of snapshots, the model said."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from uuid import UUID

from tests.cli.test_cli import run
from tests.peers.eventsourcing_apps import Expected

PEERS = Path(__file__).parent  # the fixtures' topics are tests.peers.eventsourcing_apps:...


def test_replay_through_the_classes_says_so_and_returns_the_aggregate(
        eventsourcing_sqlite_styles: Expected) -> None:
    store = eventsourcing_sqlite_styles.location
    (dog,) = eventsourcing_sqlite_styles.of_class("Dog")
    merged = run(store, "replay", dog.id, "--json")
    assert merged.returncode == 0, merged.stderr
    assert json.loads(merged.stdout)["model"] == "none"
    result = run(store, "--code-path", str(PEERS), "replay", dog.id, "--json")
    assert result.returncode == 0, result.stderr
    replayed = json.loads(result.stdout)
    assert replayed["model"] == "classes:tests.peers.eventsourcing_apps"
    tricks = [e.state["trick"] for e in dog.events if "trick" in e.state]
    assert len(tricks) >= 2 and replayed["state"]["tricks"] == tricks
    assert replayed["state"]["version"] == dog.version
    text = run(store, "--code-path", str(PEERS), "replay", dog.id)
    assert "note:" not in text.stdout


def test_verify_with_the_code_checks_the_snapshots(
        eventsourcing_sqlite_bank_snapshots: Expected, tmp_path: Path) -> None:
    original = Path(eventsourcing_sqlite_bank_snapshots.location)
    clean = run(original, "--code-path", str(PEERS), "verify", "--json")
    assert clean.returncode == 0, clean.stderr
    assert not any("snapshots" in n for n in json.loads(clean.stdout).get("not_checked", []))
    without = json.loads(run(original, "verify", "--json").stdout)
    assert any(n.startswith("snapshots:") for n in without["not_checked"])
    copy = tmp_path / "altered.db"
    shutil.copyfile(original, copy)
    ada = eventsourcing_sqlite_bank_snapshots.aggregates[0]
    with sqlite3.connect(copy) as db:
        (state,) = db.execute("SELECT state FROM stored_snapshots WHERE originator_id = ? AND "
                              "originator_version = 4", (UUID(ada.id).hex,)).fetchone()
        db.execute("UPDATE stored_snapshots SET state = ? WHERE originator_id = ? AND "
                   "originator_version = 4",
                   (state.replace(b'"69.51"', b'"1069.51"'), UUID(ada.id).hex))
    db.close()
    found = run(copy, "--code-path", str(PEERS), "verify", "--json")
    assert found.returncode == 1, found.stderr
    findings = json.loads(found.stdout)["findings"]
    assert [(f["kind"], f["stream_id"], f["version"]) for f in findings] == \
        [("snapshot_mismatch", ada.id, 4)]
