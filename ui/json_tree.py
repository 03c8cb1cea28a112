"""Show JSON-like values as an expandable tree (payloads, metadata, replayed states)."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from esaudit.application.paths import Key, join

PathRole = Qt.ItemDataRole.UserRole + 1
"""Column 0 of every item holds its field path (``lines.SKU-1.qty``), as blame names it."""


def _label(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _add(parent: QTreeWidgetItem, key: Key, value: Any, path: str) -> QTreeWidgetItem:
    item = QTreeWidgetItem(parent, [f"[{key}]" if isinstance(key, int) else str(key), ""])
    item.setData(0, PathRole, path)
    if isinstance(value, dict):
        item.setText(1, f"{{{len(value)}}}")
        for k in sorted(value, key=str):
            _add(item, str(k), value[k], join(path, str(k)))
    elif isinstance(value, list):
        item.setText(1, f"[{len(value)}]")
        for i, v in enumerate(value):
            _add(item, i, v, join(path, i))
    else:
        item.setText(1, _label(value))
        item.setToolTip(1, _label(value))
    return item


def fill_tree(tree: QTreeWidget, sections: dict[str, Any], expand: bool = True) -> None:
    """Replace the tree's content with one top-level item per section."""
    tree.setUpdatesEnabled(False)
    tree.clear()
    root = tree.invisibleRootItem()
    for name, value in sections.items():
        _add(root, name, value, join("", name))  # type: ignore[arg-type]
    if expand:
        tree.expandAll()
    tree.resizeColumnToContents(0)
    tree.setUpdatesEnabled(True)


def item_path(item: QTreeWidgetItem) -> str:
    """The field path of an item ``fill_tree`` made."""
    return str(item.data(0, PathRole) or "")


def tree_items(tree: QTreeWidget) -> list[QTreeWidgetItem]:
    """Every item, depth first (parents before their children)."""
    out: list[QTreeWidgetItem] = []

    def walk(item: QTreeWidgetItem) -> None:
        for i in range(item.childCount()):
            out.append(item.child(i))
            walk(item.child(i))

    walk(tree.invisibleRootItem())
    return out


def tree_values(tree: QTreeWidget) -> dict[str, str]:
    """Every leaf as "a.b.c" -> text, for tests and copy-out."""
    out: dict[str, str] = {}

    def walk(item: QTreeWidgetItem, prefix: str) -> None:
        for i in range(item.childCount()):
            child = item.child(i)
            path = f"{prefix}.{child.text(0)}" if prefix else child.text(0)
            if child.childCount():
                walk(child, path)
            else:
                out[path] = child.text(1)

    walk(tree.invisibleRootItem(), "")
    return out
