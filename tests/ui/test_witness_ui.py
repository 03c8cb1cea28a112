"""Audit ▸ Seal…, Verify against a seal…, Prove selected event… in the app."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from esaudit.application.witness.keys import generate
from esaudit.domain import commands as c
from ui.main_window import MainWindow


def test_seal_then_verify_against_it_clean_appended_and_tampered(
        qtbot, opened: MainWindow, demo_path: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    witness, dock = opened.witness, opened.audit_dock
    seal = tmp_path / "seal.json"
    private, _public, fingerprint = generate(tmp_path / "key")
    with qtbot.waitSignal(witness.finished, timeout=30_000):
        witness.seal_to(seal, private)
    assert "Sealed" in dock.verify_summary.text() and fingerprint in dock.verify_summary.text()
    assert json.loads(seal.read_text("utf-8"))["size"] > 0
    with qtbot.waitSignal(witness.finished, timeout=30_000):
        witness.verify_against(seal)
    assert dock.verify_summary.text().startswith("✔ Clean against seal.json")
    assert "appended since: 0" in dock.verify_summary.text()
    services = opened.session.services
    assert services is not None and services.commands is not None
    services.commands.execute(c.CreateOrder("ord-new", "Zed"))
    with qtbot.waitSignal(witness.finished, timeout=30_000):
        witness.verify_against(seal)
    assert "appended since: 1" in dock.verify_summary.text()
    with sqlite3.connect(demo_path) as db:
        (pos,) = db.execute("SELECT min(position) FROM events WHERE type = 'LineAdded'"
                            ).fetchone()
        db.execute("UPDATE events SET payload = replace(payload, '\"qty\":', '\"qty\":9') "
                   "WHERE position = ?", (pos,))
    db.close()
    with qtbot.waitSignal(witness.finished, timeout=30_000):
        witness.verify_against(seal)
    found = {(f.kind, f.position) for f in
             (dock.findings.finding(i) for i in range(dock.findings.rowCount()))}
    assert ("changed_since_seal", pos) in found and dock.verify_summary.text().startswith("✖")


def test_prove_the_selected_event(qtbot, opened: MainWindow,  # type: ignore[no-untyped-def]
                                  tmp_path: Path) -> None:
    witness, dock = opened.witness, opened.audit_dock
    assert not witness.prove.isEnabled()  # nothing selected yet
    seal = tmp_path / "seal.json"
    with qtbot.waitSignal(witness.finished, timeout=30_000):
        witness.seal_to(seal)
    services = opened.session.services
    assert services is not None
    event = next(iter(services.store.iter_events(after_position=6, to_position=7)))
    opened.session.select_stream(event.stream_id)
    opened.session.eventSelected.emit(7)
    assert witness.prove.isEnabled()
    proof = tmp_path / "proof.json"
    with qtbot.waitSignal(witness.finished, timeout=30_000):
        witness.prove_to(seal, proof)
    text = dock.verify_summary.text()
    assert f"{event.stream_id} version {event.version} is leaf 6 " in text
    assert "it checks against the seal" in text
    assert json.loads(proof.read_text("utf-8"))["leaf_index"] == 6
