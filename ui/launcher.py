"""The ``esaudit`` console script and ``main.py``: the command line, with the desktop app.

``esaudit.cli`` knows nothing of Qt: it runs the ``gui`` command (or no command) through the
``run_gui`` callable it is given. This launcher gives it one that imports ``ui.app`` only when
called, so every other command starts without loading PySide6. ``python -m esaudit`` is the
command line alone.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from esaudit import cli


def run_gui(target: str | None, read_only: bool, screenshot: str | None) -> int:
    """Open the desktop app on ``target`` (None: the last store, or none)."""
    from .app import run_app
    return run_app(target=target, read_only=read_only, screenshot=screenshot)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, run_gui=run_gui)


if __name__ == "__main__":
    sys.exit(main())
