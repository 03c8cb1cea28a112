"""Who starts the desktop app: ``ui.launcher`` (the ``esaudit`` script, ``main.py``), never
``esaudit.cli`` itself; ``python -m esaudit`` is the command line alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import esaudit
from esaudit import cli

ESAUDIT = str(Path(sys.executable).with_name("esaudit"))
ENV = {**os.environ, "ESAUDIT_DB": "", "QT_QPA_PLATFORM": "offscreen"}


@pytest.mark.parametrize("argv", [["gui"], [], ["--db", "x.db", "--read-only"]])
def test_the_cli_alone_refuses_to_open_the_app(argv: list[str],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err == "esaudit: the desktop app starts with the esaudit command or main.py\n"


def test_the_gui_command_is_handed_to_run_gui() -> None:
    calls: list[tuple[str | None, bool, str | None]] = []

    def run_gui(target: str | None, read_only: bool, screenshot: str | None) -> int:
        calls.append((target, read_only, screenshot))
        return 7

    assert cli.main(["--db", "a.db", "--read-only", "gui", "--screenshot", "s.png"],
                    run_gui=run_gui) == 7
    assert cli.main([], run_gui=run_gui) == 7
    assert calls == [("a.db", True, "s.png"), (None, False, None)]


def test_python_m_esaudit_is_the_cli_without_the_app(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "esaudit", "gui"], capture_output=True,
                            text=True, timeout=60, env=ENV, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "esaudit: the desktop app starts with the esaudit command or main.py"]


def test_cli_commands_through_the_launcher_never_load_qt(tmp_path: Path) -> None:
    code = ("import sys; from ui.launcher import main; "
            f"rc = main(['--db', {str(tmp_path / 'q.db')!r}, 'seed', '--orders', '1']); "
            "qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph')); "
            "print(rc, qt)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env=ENV, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0 []"


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["streams", "--help"]])
def test_help_and_version_load_no_database_layer(argv: list[str], tmp_path: Path) -> None:
    """Start-up is what every command pays: asking for help loads neither SQLAlchemy, the
    store nor the application, only the grammar."""
    code = ("import sys; from ui.launcher import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', "
            "'numpy', 'PySide6') or m in ('store.eventstore', 'esaudit.bootstrap'))\n"
            "print(heavy, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, env=ENV, cwd=tmp_path)
    assert result.stdout.startswith(("usage: esaudit", "esaudit "))
    assert result.stderr.strip().splitlines()[-1] == "[]"


def test_the_console_script_opens_the_app(tmp_path: Path) -> None:
    db, shot = tmp_path / "g.db", tmp_path / "g.png"
    seeded = subprocess.run([ESAUDIT, "--db", str(db), "seed", "--orders", "2"],
                            capture_output=True, text=True, timeout=120, env=ENV)
    assert seeded.returncode == 0, seeded.stderr
    # The app remembers the store it opened in its settings: keep them out of the user's own.
    env = {**ENV, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    result = subprocess.run([ESAUDIT, "--db", str(db), "gui", "--screenshot", str(shot)],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "config" / "esaudit" / "esaudit.conf").exists()


def test_version_is_the_packages_own(tmp_path: Path) -> None:
    """``--version`` prints ``esaudit.__version__``, which the package metadata is built from,
    without reading that metadata."""
    code = ("import sys; from ui.launcher import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "print('importlib.metadata' in sys.modules, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, env=ENV, cwd=tmp_path)
    assert result.stdout == f"esaudit {esaudit.__version__}\n"
    assert result.stderr.strip().splitlines()[-1] == "False"
