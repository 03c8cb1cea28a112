"""What every command shares: the registry that dispatches to it, the refusal of writes on a
read-only store, progress on a terminal, the selection options and file digests."""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the commands load them; --help and errors need none of them
    from store import Source

    from ..application.jobs import Progress
    from ..application.transfer import Selection
    from ..bootstrap import Services, Writing

Command = Callable[["Services", argparse.Namespace], int]
"""A command: runs on the opened services with the parsed arguments, returns the exit code."""

COMMANDS: dict[str, Command] = {}
"""Every command by the name it is typed as; filled by the ``@command`` functions."""

WITHOUT_READ_MODELS: set[str] = set()
"""The commands whose output depends on no read model: their open neither creates nor catches
up the read models (so it writes nothing, and starts without SQLAlchemy)."""


def command(name: str, *, read_models: bool = True) -> Callable[[Command], Command]:
    """Register a function as the command ``name`` (its arguments are in ``arguments.py``);
    ``read_models=False`` for a command that reads none of them."""
    def register(fn: Command) -> Command:
        _check_unique(name)
        COMMANDS[name] = fn
        if not read_models:
            WITHOUT_READ_MODELS.add(name)
        return fn
    return register


class Early(Protocol):
    """Work a command began before its store opened; closed whatever happens next."""

    def close(self) -> None: ...


Prepare = Callable[[argparse.Namespace], Early | None]
"""What a command can begin before its store is open (``args.early`` then holds it)."""

PREPARES: dict[str, Prepare] = {}
"""The commands that begin work before their store opens, by name."""


def prepare(name: str) -> Callable[[Prepare], Prepare]:
    """Register what the command ``name`` begins before its store opens: a start-up's
    loading of the database layer and opening of the store then overlaps it."""
    def register(fn: Prepare) -> Prepare:
        PREPARES[name] = fn
        return fn
    return register


SourceCommand = Callable[["Source", argparse.Namespace], int]
"""A command that only reads the source, opened read-only without the services (no read
model caught up, nothing written): the witness's seal and prove."""

SOURCE_COMMANDS: dict[str, SourceCommand] = {}

StandaloneCommand = Callable[[argparse.Namespace], int]
"""A command that opens no store at all (keygen, check-proof)."""

STANDALONE_COMMANDS: dict[str, StandaloneCommand] = {}


def _check_unique(name: str) -> None:
    if name in COMMANDS or name in SOURCE_COMMANDS or name in STANDALONE_COMMANDS:
        raise ValueError(f"two commands named {name!r}")


def source_command(name: str) -> Callable[[SourceCommand], SourceCommand]:
    """Register a function as the command ``name``, run on the source alone."""
    def register(fn: SourceCommand) -> SourceCommand:
        _check_unique(name)
        SOURCE_COMMANDS[name] = fn
        return fn
    return register


def standalone_command(name: str) -> Callable[[StandaloneCommand], StandaloneCommand]:
    """Register a function as the command ``name``, run without any store."""
    def register(fn: StandaloneCommand) -> StandaloneCommand:
        _check_unique(name)
        STANDALONE_COMMANDS[name] = fn
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
