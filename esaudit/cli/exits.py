"""Exit codes and the one-line error the command line ends with.

Exit codes are a public contract for scripts: 0 ok, 1 audit finding, 2 usage or input error,
3 concurrency conflict, 4 domain rule refused, 130 interrupted.
"""

from __future__ import annotations

import sys

EXIT_OK, EXIT_FINDING, EXIT_USAGE, EXIT_CONFLICT, EXIT_REFUSED = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad arguments: exit 2 with one line."""


def fail(message: str, code: int, debug: bool) -> int:
    """Print the error's first line to stderr (the traceback too under ``--debug``)."""
    if debug:
        import traceback
        traceback.print_exc()
    print(message.splitlines()[0] if message else "esaudit: error", file=sys.stderr)
    return code
