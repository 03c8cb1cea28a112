from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from esaudit.application.seed import seed
from esaudit.bootstrap import bootstrap
from ui.app import style_sheet
from ui.main_window import MainWindow


@pytest.fixture
def demo_path(tmp_path: Path) -> str:
    path = str(tmp_path / "ui.db")
    svc = bootstrap(path)
    seed(svc.commands, orders=12, seed=4, days=30, until=datetime(2026, 5, 1, tzinfo=UTC))
    svc.close()
    return path


@pytest.fixture
def window(qtbot, tmp_path: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    QApplication.instance().setStyleSheet(style_sheet())  # type: ignore[union-attr]
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.resize(1440, 900)
    win.show()
    yield win
    win.session.close()


@pytest.fixture
def opened(qtbot, window: MainWindow, demo_path: str) -> MainWindow:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.loaded, timeout=20_000):
        window.open_target(demo_path)
    return window


def when_modal(handler: Callable[[QWidget], None]) -> None:
    """Run ``handler`` on the next modal dialog as soon as it is shown."""
    def poll() -> None:
        widget = QApplication.activeModalWidget()
        if widget is None:
            QTimer.singleShot(20, poll)
            return
        handler(widget)

    QTimer.singleShot(0, poll)


def new_order_through_dialog(qtbot, win: MainWindow,  # type: ignore[no-untyped-def]
                             fill: Callable[[QWidget], None]) -> tuple[bool, str]:
    """Trigger New Order, let ``fill`` answer the dialog; whether it was all written, and the
    order the window then shows (an ``ord-`` id)."""
    when_modal(fill)
    with qtbot.waitSignal(win.orders.commandSettled, timeout=10_000) as settled:
        win.orders.new_order.trigger()
    oid = win.session.stream_id
    assert oid.startswith("ord-")
    return settled.args[0], oid


def refused_open(qtbot, win: MainWindow, target: str) -> str:  # type: ignore[no-untyped-def]
    """Open ``target`` in ``win``, expecting a refusal: the text of the dialog that says why."""
    messages: list[str] = []
    when_modal(lambda box: (messages.append(box.text()), box.accept()))
    with qtbot.waitSignal(win.failed, timeout=15_000):
        win.open_target(target)
    qtbot.waitUntil(lambda: bool(messages), timeout=5000)
    return messages[0]
