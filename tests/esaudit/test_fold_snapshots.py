"""States kept for an import's long streams: used only under the fold that kept them, and
checked by verify."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from esaudit.application import fold_snapshots
from esaudit.application.transfer import import_history
from esaudit.application.verify import verify
from esaudit.bootstrap import Services, bootstrap
from tests.histories import imported_store

LONG = 60
METER_MODEL = """
[Meter]
initial = { total = 0, readings = 0 }
[Meter.on.Read]
add = { total = "$.kwh", readings = 1 }
"""
DECIMAL_MODEL = """
[Meter]
initial = { total = 0.5 }
[Meter.on.Read]
add = { total = "$.kwh" }
"""


@pytest.fixture(autouse=True)
def short_streams_are_long(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 60-event stream counts as long, with a state kept every 10 versions."""
    monkeypatch.setattr(fold_snapshots, "LONG_STREAM", 50)
    monkeypatch.setattr(fold_snapshots, "KEEP_EVERY", 10)


def _meter_history(path: Path, n: int = LONG, stream_id: str = "meter-1") -> Path:
    """One imported Meter stream of ``n`` readings, a nested payload merged key by key."""
    lines = [json.dumps({"stream_id": stream_id, "stream_type": "Meter", "version": v,
                         "type": "Read",
                         "recorded_at": f"2026-01-01T00:{v // 60:02d}:{v % 60:02d}Z",
                         "payload": {"kwh": v, "site": {"name": f"s{v % 3}", f"k{v % 4}": v}},
                         "metadata": {}}) for v in range(1, n + 1)]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


@pytest.fixture
def imported(tmp_path: Path) -> Iterator[Services]:
    target = imported_store(tmp_path / "s.db", _meter_history(tmp_path / "h.jsonl"))
    svc = bootstrap(target)
    yield svc
    svc.close()


def _kept(svc: Services) -> list[tuple[str, str, int]]:
    return [(k.stream_id, k.fold, k.version) for k in svc.store.iter_fold_snapshots()]


def test_an_imports_long_stream_keeps_merged_states_that_replays_continue(
        imported: Services) -> None:
    assert _kept(imported) == [("meter-1", "merged/1", v) for v in range(10, 61, 10)]
    for version in [0, 1, 9, 10, 11, 35, 59, 60, *random.Random(4).sample(range(61), 10)]:
        kept = imported.replayer.replay("meter-1", version)
        plain = imported.replayer.replay("meter-1", version, use_snapshots=False)
        assert kept.state == plain.state, version
        assert kept.snapshot_version == (version // 10 * 10 or None), version
        assert kept.model == "none"


@contextmanager
def opened(path: Path, *models: Path, read_only: bool = False) -> Iterator[Services]:
    svc = bootstrap(path, model_files=models, read_only=read_only)
    try:
        yield svc
    finally:
        svc.close()


def _imported_with(tmp_path: Path, model_text: str) -> tuple[Path, Path]:
    """(store, model file): the meter history imported while the model was loaded."""
    model, path = tmp_path / "meter.toml", tmp_path / "s.db"
    model.write_text(model_text, "utf-8")
    with opened(path, model) as svc:
        import_history(svc.writing("import").store, _meter_history(tmp_path / "h.jsonl"),
                       models=svc.models)
    return path, model


def test_short_streams_keep_nothing(tmp_path: Path) -> None:
    target = imported_store(tmp_path / "s.db", _meter_history(tmp_path / "h.jsonl", n=20))
    with opened(Path(target)) as svc:
        assert _kept(svc) == []


def test_a_model_file_loaded_at_the_import_keeps_its_own_states(tmp_path: Path) -> None:
    path, model = _imported_with(tmp_path, METER_MODEL)
    with opened(path, model) as svc:
        assert {fold for _s, fold, _v in _kept(svc)} == {
            f"file/1:{svc.models.files[0].digest}:Meter"}
        replayed = svc.replayer.replay("meter-1", 35)
        assert replayed.snapshot_version == 30
        assert replayed.state == {"total": sum(range(1, 36)), "readings": 35}
    with opened(path) as plain:
        replayed = plain.replayer.replay("meter-1", 35)
        assert replayed.model == "none" and replayed.snapshot_version is None, \
            "the payloads merged never continue a model file's states"
        assert replayed.state == plain.replayer.replay("meter-1", 35,
                                                       use_snapshots=False).state


def test_an_edited_model_file_does_not_continue_the_states_of_its_old_text(
        tmp_path: Path) -> None:
    path, model = _imported_with(tmp_path, METER_MODEL)
    model.write_text(METER_MODEL.replace("readings = 1", "readings = 2"), "utf-8")
    with opened(path, model) as edited:
        replayed = edited.replayer.replay("meter-1", 35)
        assert replayed.snapshot_version is None
        assert replayed.state == {"total": sum(range(1, 36)), "readings": 70}


def test_a_state_json_cannot_hold_exactly_is_not_kept(tmp_path: Path) -> None:
    path, model = _imported_with(tmp_path, DECIMAL_MODEL)
    with opened(path, model) as svc:
        assert _kept(svc) == []
        assert str(svc.replayer.replay("meter-1", 35).state["total"]) == "630.5"


def _tamper(path: Path, version: int) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE fold_snapshots SET state = '{\"kwh\": -1}' WHERE version = ?",
                     (version,))


def test_verify_replays_every_kept_state_and_names_a_changed_one(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    imported_store(path, _meter_history(tmp_path / "h.jsonl"))
    with opened(path, read_only=True) as svc:
        assert verify(svc.store).ok
    _tamper(path, 40)
    with opened(path, read_only=True) as svc:
        report = verify(svc.store)
        assert [(f.kind, f.stream_id, f.version) for f in report.findings] == [
            ("snapshot_mismatch", "meter-1", 40)]
        assert "merged/1" in report.findings[0].detail
        stale = svc.replayer.replay("meter-1", 45)
        assert stale.snapshot_version == 40, "replay trusts kept states; verify checks them"


def test_states_of_a_model_file_not_loaded_are_named_not_checked(tmp_path: Path) -> None:
    path, model = _imported_with(tmp_path, METER_MODEL)
    with opened(path, model) as svc:
        assert verify(svc.store, model_files=svc.models.files).not_checked == ()
    _tamper(path, 20)
    with opened(path, read_only=True) as svc:
        blind = verify(svc.store)
        assert blind.ok and len(blind.not_checked) == 1
        assert "1 stream under a model file that is not loaded" in blind.not_checked[0]
        svc.load_model(model)
        seen = verify(svc.store, model_files=svc.models.files)
        assert [(f.kind, f.version) for f in seen.findings] == [("snapshot_mismatch", 20)]
