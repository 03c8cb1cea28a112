"""Start-up: whole ``esaudit`` processes on a small seeded store (50 orders over 5 days), each
beside a bare Python process (``python -c "import sqlite3, json"``: the interpreter and its
site, what any Python command pays) timed in the same run.

Targets: ``--help`` and ``--version`` <= 150 ms, ``events``, ``replay`` and ``verify`` of that
store <= 250 ms. The processes run in turns (bare, then each command), so a slow spell of the
machine falls on every figure of a round; the bytecode caches are written by one untimed
round first, as an installed esaudit has them.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE = ("-c", "import sqlite3, json")
TARGETS_MS = {"--help": 150, "--version": 150, "events": 250, "replay": 250, "verify": 250}


def _seconds(args: tuple[str, ...], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, cwd=ROOT, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def bench_startup(runs: int, folder: Path) -> dict[str, tuple[float, float]]:
    """Per command line: (median seconds of esaudit, median seconds of the bare process)."""
    store = folder / "startup.db"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "esaudit", "--db", str(store), "seed", "--orders",
                    "50", "--seed", "1", "--days", "5"], check=True, cwd=ROOT, env=env,
                   capture_output=True)
    with closing(sqlite3.connect(store)) as conn:
        stream = conn.execute("SELECT stream_id FROM streams WHERE stream_type = 'Order' "
                              "ORDER BY stream_id LIMIT 1").fetchone()[0]
    db = ("-m", "esaudit", "--db", str(store))
    lines = {"--help": (*db, "--help"), "--version": (*db, "--version"),
             "events": (*db, "events", stream), "replay": (*db, "replay", stream),
             "verify": (*db, "verify")}
    for args in (BARE, *lines.values()):  # the untimed round: bytecode caches, file cache
        _seconds(args, env)
    times: dict[str, list[float]] = {name: [] for name in lines}
    bare: dict[str, list[float]] = {name: [] for name in lines}
    for _ in range(runs):
        for name, args in lines.items():
            bare[name].append(_seconds(BARE, env))
            times[name].append(_seconds(args, env))
    return {name: (statistics.median(times[name]), statistics.median(bare[name]))
            for name in lines}


def print_startup(runs: int, folder: Path) -> None:
    for name, (ours, base) in bench_startup(runs, folder).items():
        target = TARGETS_MS[name]
        label = f"start-up: esaudit {name}{' STREAM' if name in ('events', 'replay') else ''}"
        verdict = "met" if ours * 1000 <= target else "not met"
        print(f"{label + ' (process)':<52} {ours * 1000:>11.0f} ms {base * 1000:>8.0f} ms bare"
              f"{ours / base:>6.1f}x  target <= {target} ms: {verdict}")
