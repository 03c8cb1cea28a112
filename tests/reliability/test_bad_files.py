"""Bad files: a clear error (exit 2 on the command line, a dialog in the app), no crash, and
the file byte for byte as it was."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from esaudit.bootstrap import bootstrap
from esaudit.domain import commands as c

ESAUDIT = str(Path(sys.executable).with_name("esaudit"))


def _store(path: Path) -> None:
    svc = bootstrap(str(path))
    svc.commands.execute(c.CreateOrder("ord-1", "Ada"))
    svc.commands.execute(c.AddLine("ord-1", "X", 1, 100))
    svc.close()


def not_a_database(path: Path) -> str:
    path.write_bytes(b"%PDF-1.7 certainly not sqlite\n" * 50)
    return "not a readable SQLite database"


def truncated(path: Path) -> str:
    _store(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return "not a readable SQLite database"


def newer_schema(path: Path) -> str:
    _store(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE es_meta SET value='99' WHERE key='schema_version'")
    conn.close()
    return "store schema version 99 is newer than this esaudit supports"


def read_only_on_disk(path: Path) -> str:
    _store(path)
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    return "is read-only on disk"


CASES: list[Callable[[Path], str]] = [not_a_database, truncated, newer_schema,
                                      read_only_on_disk]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _bad_store(tmp_path: Path, make: Callable[[Path], str]) -> tuple[Path, Path, str]:
    """(its folder, the bad file, the message expected for it), alone in its folder so that
    every byte of the folder can be compared afterwards (WAL and journal files included)."""
    folder = tmp_path / "d"
    folder.mkdir()
    path = folder / "store.db"
    return folder, path, make(path)


@pytest.mark.parametrize("make", CASES, ids=lambda f: f.__name__)
def test_cli_refuses_with_exit_2_and_leaves_the_file(tmp_path: Path,
                                                     make: Callable[[Path], str]) -> None:
    folder, path, expected = _bad_store(tmp_path, make)
    before = _files(folder)
    for args in (["stats"], ["order", "create", "--customer", "B"], ["verify"]):
        result = subprocess.run([ESAUDIT, "--db", str(path), *args], capture_output=True,
                                text=True, timeout=60, env={**os.environ, "ESAUDIT_DB": ""})
        assert result.returncode == 2, (args, result.stderr)
        assert expected in result.stderr
        assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert _files(folder) == before


def test_a_read_only_file_still_opens_read_only(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    read_only_on_disk(path)
    before = path.read_bytes()
    result = subprocess.run([ESAUDIT, "--db", str(path), "--read-only", "verify"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == before


@pytest.mark.parametrize("make", CASES, ids=lambda f: f.__name__)
def test_app_shows_a_dialog_and_leaves_the_file(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                make: Callable[[Path], str]) -> None:
    from PySide6.QtCore import QSettings

    from tests.ui.conftest import refused_open
    from ui.main_window import MainWindow

    folder, path, expected = _bad_store(tmp_path, make)
    before = _files(folder)
    win = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    assert expected in refused_open(qtbot, win, str(path))
    assert win.stack.currentWidget().objectName() == "emptyState"
    win.session.close()
    assert _files(folder) == before
