"""Show JSON-like values as an expandable tree (payloads, metadata, replayed states)."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem


def _label(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _add(parent: QTreeWidgetItem, key: str, value: Any) -> QTreeWidgetItem:
    item = QTreeWidgetItem(parent, [key, ""])
    if isinstance(value, dict):
        item.setText(1, f"{{{len(value)}}}")
        for k in sorted(value, key=str):
            _add(item, str(k), value[k])
    elif isinstance(value, list):
        item.setText(1, f"[{len(value)}]")
        for i, v in enumerate(value):
            _add(item, f"[{i}]", v)
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
        _add(root, name, value)  # type: ignore[arg-type]
    if expand:
        tree.expandAll()
    tree.resizeColumnToContents(0)
    tree.setUpdatesEnabled(True)


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
