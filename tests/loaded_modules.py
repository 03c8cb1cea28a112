"""Which heavy packages one esaudit command loads, run in a fresh interpreter: how the tests
check that a read starts without the database layer, Qt or numpy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping

HEAVY = ("sqlalchemy", "psycopg", "PySide6", "numpy")


def loaded_by(argv: list[str], env: Mapping[str, str] | None = None,
              ) -> tuple[int, list[str]]:
    """Run ``esaudit ARGV`` in a fresh interpreter (with ``env`` added to the environment):
    its exit code and the heavy packages it loaded."""
    code = ("import io, sys, contextlib; from esaudit.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    rc = main({argv!r})\n"
            f"print(rc, sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False,
                          env={**os.environ, "ESAUDIT_DB": "", **(env or {})})
    assert done.returncode == 0, done.stderr
    rc, _, loaded = done.stdout.strip().splitlines()[-1].partition(" ")
    return int(rc), json.loads(loaded.replace("'", '"'))
