"""A path that holds no store is refused (no empty store answers "clean"), and a database that
is not an esaudit store is looked at without a single write: the file, its ``-wal`` and its
``-shm`` stay byte for byte as they were, uncheckpointed pages included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from store import StoreOpenError, open_store

ESAUDIT = str(Path(sys.executable).with_name("esaudit"))

READING_COMMANDS = [
    ["verify"], ["stats"], ["streams"], ["events", "ord-1"], ["replay", "ord-1"],
    ["diff", "ord-1", "1", "2"], ["projections", "status"], ["projections", "rebuild"],
    ["audit-projections"], ["report", "--out", "r.json"], ["export", "x.jsonl"],
    ["order", "place", "ord-1"], ["order", "add-line", "ord-1", "--sku", "A", "--qty", "1"],
]


def esaudit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ESAUDIT, *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, env={**os.environ, "ESAUDIT_DB": ""})


@pytest.mark.parametrize("args", READING_COMMANDS, ids=lambda a: " ".join(a))
def test_a_command_that_does_not_create_refuses_a_missing_store(tmp_path: Path,
                                                                args: list[str]) -> None:
    result = esaudit("--db", "typo.db", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert result.stderr == f"esaudit: no store at {tmp_path / 'typo.db'}\n"
    assert list(tmp_path.iterdir()) == []


def test_the_commands_that_create_still_create(tmp_path: Path) -> None:
    made = esaudit("--db", "new.db", "order", "create", "--customer", "Ada", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert esaudit("--db", "new.db", "verify", cwd=tmp_path).returncode == 0
    seeded = esaudit("--db", "seeded.db", "seed", "--orders", "2", cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr


def test_the_library_refuses_a_missing_store_when_told_not_to_create(tmp_path: Path) -> None:
    with pytest.raises(StoreOpenError, match="no store at"):
        open_store(tmp_path / "missing.db", create=False)
    assert list(tmp_path.iterdir()) == []


_WRITER = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, body TEXT)")
for i in range(200):
    c.execute("INSERT INTO orders (body) VALUES (?)", ("x" * 500,))
print("ready", flush=True)
time.sleep(600)
"""


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(params=["live writer", "killed writer"])
def foreign_wal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """An application's database in WAL mode whose pages are still in the ``-wal`` file:
    with its writer still running, or killed (which leaves ``-wal`` and ``-shm`` behind)."""
    folder = tmp_path / "app"
    folder.mkdir()
    path = folder / "app.db"
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        if request.param == "killed writer":
            writer.send_signal(signal.SIGKILL)
            writer.wait()
        wal = Path(f"{path}-wal")
        assert wal.stat().st_size > 100_000 and Path(f"{path}-shm").exists()
        yield path
    finally:
        writer.kill()
        writer.wait()


@pytest.mark.parametrize("flags", [[], ["--read-only"]], ids=["writable", "read-only"])
@pytest.mark.parametrize("command", [["verify"], ["order", "create", "--customer", "A"],
                                     ["seed", "--orders", "1"]], ids=lambda a: a[0])
def test_a_foreign_wal_database_is_refused_and_left_byte_for_byte(
        foreign_wal: Path, flags: list[str], command: list[str]) -> None:
    before = _files(foreign_wal.parent)
    result = esaudit("--db", str(foreign_wal), *flags, *command, cwd=foreign_wal.parent)
    assert result.returncode == 2
    assert "not an esaudit store" in result.stderr and "orders" in result.stderr
    assert _files(foreign_wal.parent) == before


def test_a_wal_database_without_its_shm_is_read_from_a_private_copy(tmp_path: Path) -> None:
    """SQLite cannot read a log without creating ``-shm``: the look goes through a copy, and
    still sees the table that exists only in the log."""
    folder = tmp_path / "app"
    folder.mkdir()
    path = folder / "app.db"
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)],
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    Path(f"{path}-shm").unlink()
    before = _files(folder)
    with pytest.raises(StoreOpenError, match=r"not an esaudit store \(it has tables: orders"):
        open_store(path)
    assert _files(folder) == before


def test_a_cleanly_closed_foreign_wal_database_gets_no_side_files(tmp_path: Path) -> None:
    import sqlite3
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE stored_events (id INTEGER)")
    conn.commit()
    conn.close()
    before = _files(tmp_path)
    assert list(before) == ["app.db"]
    for read_only in (False, True):
        with pytest.raises(StoreOpenError, match="not an esaudit store"):
            open_store(path, read_only=read_only)
    assert _files(tmp_path) == before


def _window(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QSettings

    from ui.main_window import MainWindow

    win = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    return win


def test_the_app_refuses_to_open_a_missing_store(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.conftest import refused_open

    win = _window(qtbot, tmp_path)
    missing = tmp_path / "data" / "typo.db"
    missing.parent.mkdir()
    assert refused_open(qtbot, win, str(missing)) == f"no store at {missing}"
    assert list(missing.parent.iterdir()) == []
    assert win.stack.currentWidget().objectName() == "emptyState"


def test_the_app_refuses_a_foreign_wal_database_and_leaves_it(qtbot, foreign_wal: Path,  # type: ignore[no-untyped-def]
                                                               tmp_path: Path) -> None:
    from tests.ui.conftest import refused_open

    before = _files(foreign_wal.parent)
    win = _window(qtbot, tmp_path)
    assert "not an esaudit store" in refused_open(qtbot, win, str(foreign_wal))
    win.close()
    assert _files(foreign_wal.parent) == before
