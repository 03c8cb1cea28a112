"""One run of the command line: parse, open the store the command names, dispatch, and turn
every error into its one line and exit code."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from store.errors import ConcurrencyError, StoreError

from ..domain.errors import DomainError, InvalidTransition
from .arguments import NOTES, build_parser
from .common import (
    COMMANDS,
    PREPARES,
    SOURCE_COMMANDS,
    STANDALONE_COMMANDS,
    WITHOUT_READ_MODELS,
)
from .exits import (
    EXIT_CONFLICT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    UsageError,
    fail,
)

RunGui = Callable[[str | None, bool, str | None], int]
"""Opens the desktop app: (target, read_only, screenshot) -> exit code."""


def default_target(create: bool = False) -> str:
    """The store a command opens without ``--db``: ``$ESAUDIT_DB``, else the per-user one."""
    env = os.environ.get("ESAUDIT_DB")
    if env:
        return env
    from platformdirs import user_data_dir
    folder = Path(user_data_dir("esaudit", appauthor=False))
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return str(folder / "esaudit.db")


def commands() -> dict[str, Callable[..., int]]:
    """Every command by name (those run on the services, on the source alone, or on no
    store). Each command module registers its commands as it is imported, which happens
    here, once a command is to run: ``--help`` and a usage error pay for neither the
    application nor the database layer, and each module loads what a command needs inside
    the command, so a read loads no write side."""
    from . import audits, investigate, reads, witness, writes  # noqa: F401
    return {**COMMANDS, **SOURCE_COMMANDS, **STANDALONE_COMMANDS}


def _run_alone(args: argparse.Namespace) -> int | None:
    """Run a command that needs no store (keygen, check-proof), or one that reads the source
    alone (seal, prove: opened read-only, no services built); None for any other command.
    The witness module registers them and imports nothing heavy, so ``check-proof`` never
    loads the database layer."""
    from . import witness  # noqa: F401
    alone = STANDALONE_COMMANDS.get(args.command)
    if alone is not None:
        return alone(args)
    on_source = SOURCE_COMMANDS.get(args.command)
    if on_source is None:
        return None
    from store.sources import open_source
    source = open_source(args.db or default_target(), kind=args.source, read_only=True,
                         create=False, cipher_key=os.environ.get("CIPHER_KEY") or None)
    try:
        return on_source(source, args)
    finally:
        source.close()


def _creates(args: argparse.Namespace) -> bool:
    """Whether a command may create the store it names: only seed, import and ``order
    create``; every other command refuses a missing store (``no store at PATH``) instead of
    answering for an empty one."""
    return args.command in ("seed", "import") or (
        args.command == "order" and args.action == "create")


def main(argv: Sequence[str] | None = None, run_gui: RunGui | None = None) -> int:
    """Run one command. ``gui`` (or no command) needs ``run_gui``: the launcher that owns Qt
    (``ui.launcher``, behind the ``esaudit`` script and ``main.py``) passes it; without it,
    as under ``python -m esaudit``, the command is refused with exit 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    NOTES.clear()
    try:
        args = build_parser().parse_args(argv)
        if args.command in (None, "gui"):
            if run_gui is None:
                raise UsageError("the desktop app starts with the esaudit command or main.py")
            return run_gui(args.db, args.read_only, getattr(args, "screenshot", None))
        if args.code_app and not args.code_path:
            raise UsageError("--code-app names an Application class of the code given with "
                             "--code-path")
        code = _run_alone(args)
        if code is None:
            from ..bootstrap import bootstrap
            commands()
            run = COMMANDS[args.command]
            creates = _creates(args)
            target = args.db or default_target(creates)
            models = [Path(m) for m in args.models + getattr(args, "check_models", [])]
            begin = PREPARES.get(args.command)
            args.early = None
            try:
                if begin is not None:
                    args.early = begin(args)
                svc = bootstrap(target, read_only=args.read_only, create=creates,
                                read_models=args.command not in WITHOUT_READ_MODELS,
                                source_kind=args.source, model_files=models,
                                code_path=Path(args.code_path) if args.code_path else None,
                                code_application=args.code_app)
                try:
                    code = run(svc, args)
                finally:
                    svc.close()
            finally:
                if args.early is not None:
                    args.early.close()
        for note in NOTES:
            print(note, file=sys.stderr)
        return code
    except UsageError as e:
        return fail(f"esaudit: {e}", EXIT_USAGE, debug)
    except ConcurrencyError as e:
        return fail(f"esaudit: conflict: {e}", EXIT_CONFLICT, debug)
    except InvalidTransition as e:
        return fail(f"esaudit: refused: {e}", EXIT_REFUSED, debug)
    except (DomainError, StoreError, ValueError) as e:
        return fail(f"esaudit: {e}", EXIT_USAGE, debug)
    except KeyboardInterrupt:
        return fail("esaudit: interrupted", EXIT_INTERRUPTED, debug)
    except BrokenPipeError:
        return EXIT_OK
