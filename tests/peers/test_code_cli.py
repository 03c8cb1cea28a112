"""The system's own classes from the command line: replay, verify of snapshots, the model said."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from uuid import UUID

import pytest

from tests.cli.test_cli import run
from tests.peers.eventsourcing_apps import Expected
from tests.peers.test_code_models import two_apps_store

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


def test_a_caller_that_must_answer_at_once_never_waits_for_the_code(
        eventsourcing_sqlite_styles: Expected) -> None:
    """The GUI thread asks ``replay_within``: with the system's code loaded and not yet asked
    about a stream, it hands the replay to a worker instead of asking the child itself."""
    from esaudit.application.code_models import ApplicationCode
    from esaudit.bootstrap import bootstrap
    (dog,) = eventsourcing_sqlite_styles.of_class("Dog")
    svc = bootstrap(eventsourcing_sqlite_styles.location, read_only=True)
    try:
        svc.use_code(PEERS)
        code = svc.models.code
        assert isinstance(code, ApplicationCode)
        assert svc.replayer.replay_within(dog.id, dog.version, 5_000) is None
        assert svc.models.choose_now(dog.id, "Dog") is None
        assert svc.replayer.events_to_fold(dog.id) == len(dog.events)
        # the child starts with use_code, and nothing is asked of it on the caller's behalf
        assert code._child is not None and not code._child.asked
        replayed = svc.replayer.replay(dog.id)  # what the worker then does
        assert replayed.model == "classes:tests.peers.eventsourcing_apps"
        choice = svc.models.choose_now(dog.id, "Dog")
        assert choice is not None and choice.code is code
    finally:
        svc.close()


def test_code_app_names_the_application_that_wrote_the_store(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code_dir, store, jar_id = two_apps_store(tmp_path, monkeypatch)
    refused = run(store, "--code-path", str(code_dir), "replay", jar_id, "--json")
    assert refused.returncode == 2
    assert "decode differently" in refused.stderr and "--code-app MODULE:CLASS" in refused.stderr
    named = run(store, "--code-path", str(code_dir), "--code-app", "esaudit_two_apps:Pantry",
                "replay", jar_id, "--json")
    assert named.returncode == 0, named.stderr
    assert json.loads(named.stdout)["state"]["amount"] == {"_type_": "decimal_str",
                                                           "_data_": "2.5"}
    alone = run(store, "--code-app", "esaudit_two_apps:Pantry", "replay", jar_id)
    assert alone.returncode == 2 and "--code-path" in alone.stderr
