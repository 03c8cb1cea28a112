"""Replay through the system's own classes: one eventsourcing aggregate (10k and 100k events),
rebuilt by esaudit (its code in a child process) beside the library's own
``repository.get`` on the same file, both as whole processes, as a user runs them.
Target: within 2x of the library.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from .foreign import BANK

ROOT = Path(__file__).resolve().parent.parent

WRITE = """
import sys
from decimal import Decimal
from bank import BankAccount, BankAccounts
app = BankAccounts(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                        "SQLITE_DBNAME": sys.argv[1]})
account = BankAccount(owner="Ada")
for j in range(int(sys.argv[2]) - 1):
    account.deposit(Decimal(j % 100) + Decimal("0.25"))
    if j % 1000 == 999:
        app.save(account)
app.save(account)
print(account.id)
app.close()
"""

LIBRARY_GET = """
import sys
from uuid import UUID
from bank import BankAccounts
app = BankAccounts(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                        "SQLITE_DBNAME": sys.argv[1]})
print(app.repository.get(UUID(sys.argv[2])).balance)
"""


def _seconds(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=cwd, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def bench_classes(n: int, runs: int, folder: Path) -> dict[str, float]:
    code = folder / "bankcode"
    code.mkdir(exist_ok=True)
    (code / "bank.py").write_text(BANK, "utf-8")
    store = folder / "bank-classes.db"
    store.unlink(missing_ok=True)
    account = subprocess.run([sys.executable, "-c", WRITE, str(store), str(n)], check=True,
                             cwd=code, capture_output=True, text=True).stdout.strip()
    ours, library = [], []
    for _ in range(runs):
        ours.append(_seconds([sys.executable, "-m", "esaudit", "--db", str(store),
                              "--code-path", str(code), "replay", account, "--json"], ROOT))
        library.append(_seconds([sys.executable, "-c", LIBRARY_GET, str(store), account],
                                code))
    return {"ours": statistics.median(ours), "library": statistics.median(library)}


def print_classes(n: int, runs: int, folder: Path) -> None:
    f = bench_classes(n, runs, folder)
    label = f"classes {n:,} events: esaudit replay vs repository.get (process)"
    print(f"{label:<52} {f['ours']:>12.2f} s {f['library']:>12.2f} s "
          f"{f['ours'] / f['library']:>6.2f}x  target <= 2x")
