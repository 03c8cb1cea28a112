"""What every command shares: the registry that dispatches to it, the refusal of writes on a
read-only store, progress on a terminal, the selection options and file digests."""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the commands load them; --help and errors need none of them
    from ..application.jobs import Progress
    from ..application.transfer import Selection
    from ..bootstrap import Services, Writing

Command = Callable[["Services", argparse.Namespace], int]
"""A command: runs on the opened services with the parsed arguments, returns the exit code."""

COMMANDS: dict[str, Command] = {}
"""Every command by the name it is typed as; filled by the ``@command`` functions."""


def command(name: str) -> Callable[[Command], Command]:
    """Register a function as the command ``name`` (its arguments are in ``arguments.py``)."""
    def register(fn: Command) -> Command:
        if name in COMMANDS:
            raise ValueError(f"two commands named {name!r}")
        COMMANDS[name] = fn
        return fn
    return register


def writable(svc: Services, what: str) -> Writing:
    """The write side, or ``what`` refused before it starts (read-only, or not our store)."""
    return svc.writing(what)


def stderr_progress(label: str) -> Progress | None:
    """A percentage on stderr when it is a terminal; nothing in pipes and logs."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        sys.stderr.write(f"\r{label}: {100 * done // max(total, 1)}%")
        sys.stderr.flush()

    return show


def end_progress() -> None:
    """End the progress line so the command's own output starts on a fresh line."""
    if sys.stderr.isatty():
        sys.stderr.write("\n")


def selection(args: argparse.Namespace) -> Selection:
    """The streams and time span chosen by the ``--stream/--type/--from/--to`` options."""
    from ..application.transfer import Selection

    return Selection(tuple(dict.fromkeys(args.streams)), args.stream_type, args.since,
                     args.until)


def file_digest(path: Path) -> str:
    """The written file's SHA-256, so a script can record exactly what it handed on."""
    with open(path, "rb") as fh:
        return "sha256:" + hashlib.file_digest(fh, "sha256").hexdigest()
