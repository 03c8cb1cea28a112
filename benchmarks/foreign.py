"""A store the eventsourcing library wrote, opened in place, beside the same history imported
into esaudit's own store: whole processes, as a user runs them.

The history is written through the library's own Application (BankAccounts of ten events
each, saved in batches), so its layout, encoding and notification ids are the library's.
Targets: the app drawn in 3 s, ``streams`` in 1 s, one aggregate replayed within 1.5x of the
same replay on esaudit's own store.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BANK = """
from decimal import Decimal
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

class BankAccount(Aggregate):
    @event("Opened")
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.balance = Decimal("0")

    @event("Deposited")
    def deposit(self, amount: Decimal) -> None:
        self.balance += amount

class BankAccounts(Application):
    \"\"\"The library's Application with its defaults: what a user's own would be.\"\"\"
"""
"""The benchmarks' domain, written as a user of the eventsourcing library writes one."""

WRITER = BANK + """
import sys

app = BankAccounts(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                        "SQLITE_DBNAME": sys.argv[1]})
batch = []
for i in range(int(sys.argv[2]) // 10):
    account = BankAccount(owner=f"owner {i}")
    for j in range(9):
        account.deposit(Decimal(j) + Decimal("0.25"))
    batch.append(account)
    if len(batch) == 500:
        app.save(*batch)
        batch = []
if batch:
    app.save(*batch)
app.close()
"""


def _esaudit(*args: str) -> float:
    """Seconds for one whole ``esaudit`` process (start-up included)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "esaudit", *args], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _app_open(store: Path) -> float:
    out = subprocess.run([sys.executable, "-m", "benchmarks.app", str(store)], check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout
    return float(json.loads(out.strip().splitlines()[-1])["open_s"])


def bench_foreign(n: int, runs: int, folder: Path) -> dict[str, float]:
    """Medians of ``runs`` (the two sides in turns) for streams, replay and the app."""
    foreign = folder / "eventsourcing.db"
    native = folder / "native.db"
    subprocess.run([sys.executable, "-c", WRITER, str(foreign), str(n)], check=True)
    subprocess.run([sys.executable, "-m", "esaudit", "--db", str(native), "import",
                    str(foreign)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    listing = subprocess.run([sys.executable, "-m", "esaudit", "--db", str(foreign), "streams",
                              "--json"], check=True, capture_output=True, text=True,
                             cwd=ROOT).stdout
    stream_id = json.loads(listing)[n // 20]["stream_id"]
    figures: dict[str, list[float]] = {k: [] for k in (
        "streams", "streams_native", "replay", "replay_native", "app", "app_native")}
    for _ in range(runs):
        figures["streams"].append(_esaudit("--db", str(foreign), "streams"))
        figures["streams_native"].append(_esaudit("--db", str(native), "streams"))
        figures["replay"].append(_esaudit("--db", str(foreign), "replay", stream_id))
        figures["replay_native"].append(_esaudit("--db", str(native), "replay", stream_id))
    for _ in range(max(1, runs // 2)):
        figures["app"].append(_app_open(foreign))
        figures["app_native"].append(_app_open(native))
    return {k: statistics.median(v) for k, v in figures.items()}


def print_foreign(n: int, runs: int, folder: Path) -> None:
    f = bench_foreign(n, runs, folder)
    rows = (
        (f"eventsourcing {n:,}: esaudit streams (process)", f["streams"], f["streams_native"],
         "<= 1 s"),
        (f"eventsourcing {n:,}: esaudit replay (process)", f["replay"], f["replay_native"],
         "<= 1.5x"),
        (f"eventsourcing {n:,}: app opened, timeline drawn", f["app"], f["app_native"],
         "<= 3 s"),
    )
    for label, ours, base, target in rows:
        print(f"{label:<52} {ours:>12.2f} s {base:>12.2f} s {ours / base:>6.2f}x  "
              f"target {target}")
