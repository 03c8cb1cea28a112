"""Labels that report on a stream beside the main view."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSizePolicy


def side_label(text: str, name: str) -> QLabel:
    """Wrapped, and never the reason a side panel widens: a 200-character stream id is one
    word, which a wrapping label would otherwise make its minimum width."""
    label = QLabel(text, objectName=name)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label
