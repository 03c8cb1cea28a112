"""The ``esaudit`` command line: every audit job headless, for scripts and CI.

Exit codes: 0 ok, 1 audit finding, 2 usage or input error, 3 concurrency conflict,
4 domain rule refused. Errors are one line on stderr; ``--debug`` adds the traceback.

``arguments`` is the grammar; ``reads``, ``writes`` and ``audits`` hold the commands, each a
function registered with ``@command``; ``run`` parses, opens the store and dispatches.
"""

from __future__ import annotations

from .arguments import build_parser, parse_instant
from .common import COMMANDS, Command, command
from .exits import (
    EXIT_CONFLICT,
    EXIT_FINDING,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    UsageError,
)
from .run import RunGui, commands, default_target, main

__all__ = [
    "COMMANDS", "EXIT_CONFLICT", "EXIT_FINDING", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_REFUSED",
    "EXIT_USAGE", "Command", "RunGui", "UsageError", "build_parser", "command", "commands",
    "default_target", "main", "parse_instant",
]
