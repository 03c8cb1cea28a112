"""Audit ▸ Seal…, Verify against a seal…, Prove selected event…: the witness in the app.

Each job runs on the pool behind a progress dialog with Cancel (sealing and verifying walk
every event); results go to the audit dock, failures to a dialog with the one-line reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from esaudit.application.jobs import CancelCheck, Progress

from .actions import make_action
from .audit_dock import AuditDock
from .session import Session
from .workers import run_in_background


class WitnessJobs(QObject):
    finished = Signal(str)  # the job's name, once its result is shown

    def __init__(self, session: Session, window: QMainWindow, dock: AuditDock,
                 folder: Callable[[], str]) -> None:
        super().__init__(window)
        self.session = session
        self.window = window
        self.dock = dock
        self.folder = folder
        self.selected_position = 0
        self.seal = make_action(window, "&Seal…", self.run_seal, None,
                                "Write a seal: a Merkle tree over every event (RFC 9162), "
                                "signed with your key if you give one", "actionSeal")
        self.verify_seal = make_action(
            window, "Verify against a s&eal…", self.run_verify_seal, None,
            "Check that every event a seal covers is still there, unchanged, in its place",
            "actionVerifyAgainstSeal")
        self.prove = make_action(
            window, "&Prove selected event…", self.run_prove, None,
            "Write the inclusion proof of the selected event in a seal (checkable with the "
            "seal alone)", "actionProveEvent")
        self.all_actions = [self.seal, self.verify_seal, self.prove]
        session.storeOpened.connect(self._update)
        session.storeClosed.connect(self._update)
        session.eventSelected.connect(self._on_event)
        session.streamSelected.connect(lambda _sid: self._on_event(0))
        self._update()

    def _on_event(self, position: int) -> None:
        self.selected_position = position
        self._update()

    def _update(self) -> None:
        is_open = self.session.is_open
        self.seal.setEnabled(is_open)
        self.verify_seal.setEnabled(is_open)
        self.prove.setEnabled(is_open and self.selected_position > 0)
        self.prove.setToolTip(self.prove.statusTip() if self.selected_position
                              else "Select an event first (in the events table or on the "
                                   "timeline)")

    def _fail(self, title: str) -> Callable[[str], None]:
        return lambda message: QMessageBox.critical(self.window, title, message)

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)

    # -- seal ------------------------------------------------------------------------------
    def run_seal(self) -> None:
        if self.session.services is None:
            return
        out, _ = QFileDialog.getSaveFileName(self.window, "Write a seal",
                                             str(Path(self.folder()) / "seal.json"),
                                             "Seals (*.json)")
        if not out:
            return
        key = ""
        if QMessageBox.question(self.window, "Sign the seal?",
                                "Sign the seal with your private key (made by esaudit "
                                "keygen)? An unsigned seal proves what it holds only to "
                                "whoever keeps it safe.") == QMessageBox.StandardButton.Yes:
            key, _ = QFileDialog.getOpenFileName(self.window, "Private key", self.folder(),
                                                 "All files (*)")
            if not key:
                return
        self.seal_to(Path(out), Path(key) if key else None)

    def seal_to(self, out: Path, key_path: Path | None = None) -> None:
        services = self.session.services
        if services is None:
            return
        try:
            from esaudit.application.witness.keys import load_private
            key = load_private(key_path) if key_path is not None else None
        except ValueError as e:
            QMessageBox.critical(self.window, "Cannot use this key", str(e))
            return

        def job(progress: Progress, cancelled: CancelCheck) -> Any:
            from esaudit.application.witness.sealing import seal
            return seal(services.store, out, key=key, progress=progress, cancelled=cancelled)

        def done(written: Any) -> None:
            signer = f"signed by {written.signer}" if written.signer else "unsigned"
            self.dock.show_note(f"✔ Sealed {written.size:,} events in {written.streams:,} "
                                f"streams into {out.name}: root {written.root[:16]}…, "
                                f"{signer}. Keep the seal: Verify against a seal later shows "
                                "any change since.")
            self._status(f"Wrote the seal {out}")
            self.finished.emit("seal")

        run_in_background(self.window, "Sealing every event…", job, done,
                          self._fail("Seal failed"))

    # -- verify against a seal -------------------------------------------------------------
    def run_verify_seal(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Verify against a seal",
                                              self.folder(), "Seals (*.json)")
        if path:
            self.verify_against(Path(path))

    def verify_against(self, path: Path) -> None:
        services = self.session.services
        if services is None:
            return
        from esaudit.application.witness.against import refuse_other_source
        from esaudit.application.witness.against_file import load_against
        try:
            _heads, seal = load_against(path)
            if seal is None:
                raise ValueError(f"{path.name} is a report, not a seal: use Verify against a "
                                 "report")
            refuse_other_source(services.store, seal)
        except ValueError as e:
            QMessageBox.critical(self.window, "Cannot use this seal", str(e))
            return

        def job(progress: Progress, cancelled: CancelCheck) -> Any:
            from esaudit.application.witness.against import verify_against_seal
            return verify_against_seal(services.store, seal, progress=progress,
                                       cancelled=cancelled, code=services.models.code)

        def done(result: Any) -> None:
            check = result.seal
            self.session.set_findings(result.report.findings, result.report.not_checked)
            signer = f"signed by {check.signer}" if check.signer else "unsigned"
            self.dock.show_verification(
                result.report, path.name,
                seal_line=(f"Sealed {check.size:,} events at {check.sealed_at} ({signer}); "
                           f"appended since: {check.appended:,}."))
            self._status("Against the seal: clean" if result.ok else
                         f"Against the seal: {len(result.report.findings)} finding(s)")
            self.finished.emit("verify-seal")

        run_in_background(self.window, "Verifying against the seal…", job, done,
                          self._fail("Verification failed"))

    # -- prove -----------------------------------------------------------------------------
    def run_prove(self) -> None:
        if self.session.services is None or not self.selected_position:
            return
        seal, _ = QFileDialog.getOpenFileName(self.window, "The seal to prove the event in",
                                              self.folder(), "Seals (*.json)")
        if not seal:
            return
        out, _ = QFileDialog.getSaveFileName(self.window, "Write the proof",
                                             str(Path(self.folder()) / "proof.json"),
                                             "Proofs (*.json)")
        if out:
            self.prove_to(Path(seal), Path(out))

    def prove_to(self, seal_path: Path, out: Path) -> None:
        services, position = self.session.services, self.selected_position
        if services is None or not position:
            return

        def job(progress: Progress, cancelled: CancelCheck) -> Any:
            from esaudit.application.witness import proof_check, seal_file
            from esaudit.application.witness.proving import prove
            seal = seal_file.load(seal_path)
            event = next(iter(services.store.iter_events(after_position=position - 1,
                                                         to_position=position)), None)
            if event is None:
                raise ValueError(f"no event at position {position}")
            written = prove(services.store, seal, event.stream_id, event.version, out)
            checked = proof_check.check(proof_check.load(out), seal)
            return written, checked

        def done(result: Any) -> None:
            written, checked = result
            verdict = "it checks against the seal" if checked.ok else \
                f"it does NOT check: {checked.reason}"
            self.dock.show_note(f"{'✔' if checked.ok else '✖'} Wrote {out.name}: "
                                f"{written.stream_id} version {written.version} is leaf "
                                f"{written.leaf_index:,} of the {written.size:,} sealed events "
                                f"(an audit path of {written.path_length} hashes); {verdict}. "
                                "esaudit check-proof checks it with the seal alone.")
            self._status(f"Wrote the proof {out}")
            self.finished.emit("prove")

        run_in_background(self.window, "Proving the event…", job, done,
                          self._fail("Cannot prove the event"))
