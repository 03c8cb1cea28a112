"""One way to make a menu/toolbar action: text, shortcut, tooltip and status tip together."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QIcon, QKeySequence


@cache
def icon(name: str) -> QIcon:
    """An icon from resources/icons (SVG, so it stays sharp at any scale)."""
    path = files("resources") / "icons" / f"{name}.svg"
    if not path.is_file():
        raise FileNotFoundError(f"no icon {name!r} in resources/icons")
    return QIcon(str(path))


def make_action(parent: QObject, text: str, slot: Callable[[], Any], shortcut: Any = None,
                tip: str = "", name: str = "", icon_name: str = "") -> QAction:
    action = QAction(text, parent, objectName=name or None)
    if icon_name:
        action.setIcon(icon(icon_name))
    if shortcut is not None and shortcut != "":
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({shown})" if shown else tip)
        action.setStatusTip(tip)
    action.triggered.connect(lambda _=False: slot())
    return action
