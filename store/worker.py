"""Our own code in a second Python process: the other half of the two-core jobs (parsing a
large import, verifying the later positions of a large store)."""

from __future__ import annotations

import subprocess
import sys
from contextlib import suppress
from pathlib import Path

PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


def start_worker(code: str, *args: str, stdin: int = subprocess.DEVNULL
                 ) -> subprocess.Popen[bytes]:
    """Run ``code`` with ``python -c``; its ``sys.argv[1]`` is this checkout's root (to put on
    ``sys.path``), then ``args``. Only stdout is kept: a worker that fails is noticed by what
    it does not deliver, and its caller does the work itself. OSError if it cannot start."""
    return subprocess.Popen([sys.executable, "-c", code, PACKAGE_ROOT, *args], stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    """End a worker whatever state it is in, and release its pipes."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            with suppress(OSError):
                pipe.close()
