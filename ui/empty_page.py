"""The page shown while no store is open: what esaudit is for, and the ways to start."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .store_opener import StoreOpener


def empty_page(opener: StoreOpener) -> QWidget:
    """A centred welcome with one button per way to get a store: demo, open, new."""
    page = QWidget(objectName="emptyState")
    title = QLabel("No store is open", objectName="emptyTitle")
    text = QLabel("esaudit shows what an event-sourced history holds: every stream, every "
                  "event, the state at any version, and what changed between two.\n\n"
                  "Start with a demo store (300 orders over 60 days), or open your own.",
                  objectName="emptyText")
    text.setWordWrap(True)
    text.setAlignment(Qt.AlignmentFlag.AlignCenter)
    # A wrapped label added with an alignment flag gets a one-line-ish height; centred by
    # stretches instead, with a fixed width, the layout asks heightForWidth.
    text.setFixedWidth(560)
    text_row = QHBoxLayout()
    text_row.addStretch(1)
    text_row.addWidget(text)
    text_row.addStretch(1)
    demo = QPushButton("Create demo store…", objectName="createDemoButton")
    demo.setToolTip("Create and open a store seeded with realistic orders")
    demo.clicked.connect(opener.create_demo_store)
    open_ = QPushButton("Open store…", objectName="openStoreButton")
    open_.setToolTip("Open an existing SQLite store (Ctrl+O)")
    open_.clicked.connect(lambda: opener.open_dialog(read_only=False))
    new = QPushButton("New empty store…", objectName="newStoreButton")
    new.setToolTip("Create an empty store file to import histories into (Ctrl+Shift+N)")
    new.clicked.connect(opener.new_store)
    buttons = QHBoxLayout()
    buttons.addStretch(1)
    for b in (demo, open_, new):
        b.setMinimumHeight(34)
        buttons.addWidget(b)
    buttons.addStretch(1)
    box = QVBoxLayout(page)
    box.addStretch(2)
    box.addWidget(title, 0, Qt.AlignmentFlag.AlignCenter)
    box.addLayout(text_row)
    box.addSpacing(16)
    box.addLayout(buttons)
    box.addStretch(3)
    return page
