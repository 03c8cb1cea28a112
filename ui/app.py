"""Start the desktop app: `python main.py`, `esaudit` or `esaudit gui` (via ui.launcher)."""

from __future__ import annotations

import os
import sys
from importlib.resources import files

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from .main_window import MainWindow


def style_sheet() -> str:
    return (files("resources") / "style.qss").read_text(encoding="utf-8")


def make_app() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("esaudit")
    app.setOrganizationName("esaudit")
    app.setStyle("Fusion")
    app.setStyleSheet(style_sheet())
    return app  # type: ignore[return-value]


def run_app(target: str | None = None, read_only: bool = False,
            screenshot: str | None = None) -> int:
    app = make_app()
    window = MainWindow(QSettings("esaudit", "esaudit"))
    window.show()
    target = target or os.environ.get("ESAUDIT_DB") or None
    if target is None:
        last = window.settings.value("lastStore")
        if last and (("://" in str(last)) or os.path.exists(str(last))):
            target = str(last)
    exit_code = [0]
    if screenshot:
        def shoot() -> None:
            app.processEvents()
            if not window.grab().save(screenshot):
                print(f"esaudit: cannot write {screenshot}", file=sys.stderr)
                exit_code[0] = 2
            app.quit()

        window.loaded.connect(lambda: QTimer.singleShot(600, shoot))

        def failed(message: str) -> None:
            print(f"esaudit: {message}", file=sys.stderr)
            exit_code[0] = 2
            app.quit()

        window.failed.connect(failed)
        if target is None:
            QTimer.singleShot(600, shoot)
    if target:
        window.open_target(target, read_only)
    code = app.exec()
    return exit_code[0] or code
