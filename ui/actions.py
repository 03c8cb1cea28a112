"""One way to make a menu/toolbar action: text, shortcut, tooltip and status tip together."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence


def make_action(parent: QObject, text: str, slot: Callable[[], Any], shortcut: Any = None,
                tip: str = "", name: str = "") -> QAction:
    action = QAction(text, parent, objectName=name or None)
    if shortcut is not None and shortcut != "":
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({shown})" if shown else tip)
        action.setStatusTip(tip)
    action.triggered.connect(lambda _=False: slot())
    return action
