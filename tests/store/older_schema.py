"""A SQLite store taken back to an earlier schema, as that version of esaudit left it: the
tables and ``es_meta`` keys each later version added are removed (the correlation index of
schema 3 stays: it changes no read)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

ADDED: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    2: (("imports",), ("origins_known_after",)),
    4: (("fold_snapshots",), ()),
    5: (("timeline_minutes",), ("timeline_minutes_through",)),
}
"""schema version -> (tables, es_meta keys) it added."""


def make_older(path: Path, version: int) -> None:
    with sqlite3.connect(path) as conn:
        for since, (tables, keys) in ADDED.items():
            if since > version:
                for table in tables:
                    conn.execute(f"DROP TABLE {table}")
                for key in keys:
                    conn.execute("DELETE FROM es_meta WHERE key = ?", (key,))
        conn.execute("UPDATE es_meta SET value = ? WHERE key = 'schema_version'",
                     (str(version),))
