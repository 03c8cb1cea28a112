"""Store ▸ Load model… and Store ▸ Use application code…: how streams esaudit's own domain did
not write are replayed, remembered per store.

What a store replays with is part of reading it right, so it is remembered with the store (by
its target, passwords hidden) and restored when the store opens again. A remembered file that
is gone or broken is said in the status bar, never silently skipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from esaudit.domain.errors import DomainError

from .actions import make_action
from .session import Session

SETTINGS_KEY = "storeModels"


class ModelActions(QObject):
    def __init__(self, session: Session, window: QMainWindow, settings: QSettings) -> None:
        super().__init__(window)
        self.session = session
        self.window = window
        self.settings = settings
        self.load_model = make_action(
            window, "Load &model…", self.choose_model, "Ctrl+Shift+M",
            "Load a model file (TOML) saying how stream types fold and which rules their "
            "events keep", "actionLoadModel")
        self.use_code = make_action(
            window, "Use application &code…", self.choose_code, None,
            "Replay eventsourcing aggregates through the system's own classes (its code runs "
            "in a separate process)", "actionUseCode")
        self.forget = make_action(
            window, "Forget models", self.forget_models, None,
            "Replay without the model files and application code loaded for this store",
            "actionForgetModels")
        self.all_actions = [self.load_model, self.use_code, self.forget]
        session.storeOpened.connect(self._on_opened)
        session.storeClosed.connect(self._update)
        self._update()

    # -- remembered per store --------------------------------------------------------------
    def _all(self) -> dict[str, Any]:
        try:
            found = json.loads(str(self.settings.value(SETTINGS_KEY, "{}")))
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}

    def remembered(self, target: str) -> dict[str, Any]:
        entry = self._all().get(target)
        return entry if isinstance(entry, dict) else {}

    def _remember(self, target: str, files: list[str], code: str | None) -> None:
        everything = self._all()
        if files or code:
            everything[target] = {"files": files, "code": code}
        else:
            everything.pop(target, None)
        self.settings.setValue(SETTINGS_KEY, json.dumps(everything))

    def _save(self) -> None:
        services = self.session.services
        if services is None:
            return
        models = services.models
        self._remember(services.store.identity.target,
                       [str(p) for p in reversed(models.file_paths)],
                       str(models.code.code_path) if models.code is not None else None)

    def _on_opened(self) -> None:
        services = self.session.services
        self._update()
        if services is None:
            return
        entry = self.remembered(services.store.identity.target)
        problems = []
        for name in entry.get("files", []):
            try:
                services.load_model(Path(name))
            except (DomainError, OSError) as e:
                problems.append(f"model {name} not loaded: {e}")
        if entry.get("code"):
            try:
                services.use_code(Path(entry["code"]))
            except DomainError as e:
                problems.append(str(e))
        if problems:
            self.window.statusBar().showMessage("; ".join(problems), 15000)
        self._update()

    def _update(self) -> None:
        services = self.session.services
        for action in self.all_actions:
            action.setEnabled(services is not None)
        if services is not None:
            models = services.models
            self.forget.setEnabled(bool(models.files) or models.code is not None)
            self.use_code.setEnabled(services.kind == "eventsourcing")
            self.use_code.setToolTip(self.use_code.statusTip() if services.kind ==
                                     "eventsourcing" else "Only eventsourcing stores replay "
                                     "through the system's own classes")

    # -- actions ---------------------------------------------------------------------------
    def choose_model(self) -> None:
        if self.session.services is None:
            return
        path, _ = QFileDialog.getOpenFileName(self.window, "Load a model file", "",
                                              "Model files (*.toml);;All files (*)")
        if path:
            self.load(Path(path))

    def load(self, path: Path) -> bool:
        services = self.session.services
        if services is None:
            return False
        try:
            services.load_model(path)
        except (DomainError, OSError) as e:
            QMessageBox.critical(self.window, "Model not loaded", str(e))
            return False
        self._loaded(f"Loaded model {path.name}")
        return True

    def choose_code(self) -> None:
        if self.session.services is None:
            return
        folder = QFileDialog.getExistingDirectory(self.window,
                                                  "The folder the application's code imports from")
        if folder:
            self.use(Path(folder))

    def use(self, folder: Path) -> bool:
        services = self.session.services
        if services is None:
            return False
        try:
            services.use_code(folder)
        except DomainError as e:
            QMessageBox.critical(self.window, "Application code not used", str(e))
            return False
        self._loaded(f"Replaying aggregates through the classes in {folder}")
        return True

    def forget_models(self) -> None:
        services = self.session.services
        if services is None:
            return
        services.models.clear_files()
        services.use_code(None)
        self._loaded("Replaying without model files or application code")

    def _loaded(self, message: str) -> None:
        self._save()
        self._update()
        self.window.statusBar().showMessage(message, 8000)
        self.session.refresh_stream()
