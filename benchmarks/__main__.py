"""`make bench`: esaudit figures next to a raw sqlite3 baseline measured in the same run.

Each figure prints what it measured and its ratio to the baseline; medians of several runs.
Sizes default to issue 8's; ``--quick`` divides them by 10 for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from esaudit.application.replay import Replayer
from esaudit.domain import order
from store import ANY, NewEvent, open_store


def median_of(runs: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(runs))


def raw_sqlite(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection on a file with the store's own tables, indexes and pragmas.

    The tables are created by ``open_store`` (so the baseline maintains exactly the indexes the
    store does); every row the baseline writes or reads goes through sqlite3 alone.
    """
    open_store(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def bench_append(n: int, runs: int, folder: Path) -> tuple[float, float]:
    """Events/s for n single-event appends, one durable transaction each.

    The baseline writes the same rows the store writes for an append, into the same tables: the
    event row and the stream's head row (upserted). It does not hash, read the head, check the
    expected version or allocate positions; esaudit does all of that inside its transaction.
    """
    payload = {"sku": "SKU-1", "qty": 1, "unit_price_cents": 100}

    def ours() -> float:
        path = folder / f"a-{time.monotonic_ns()}.db"
        with open_store(path) as st:
            start = time.perf_counter()
            for i in range(n):
                st.append(f"s-{i % 100}", "Order", [NewEvent("LineAdded", payload)], ANY)
            return n / (time.perf_counter() - start)

    def baseline() -> float:
        conn = raw_sqlite(folder / f"b-{time.monotonic_ns()}.db")
        text = json.dumps(payload)
        digest = "0" * 64
        versions: dict[str, int] = {}
        start = time.perf_counter()
        for i in range(n):
            sid = f"s-{i % 100}"
            versions[sid] = versions.get(sid, 0) + 1
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)",
                         (i + 1, sid, "Order", versions[sid], "LineAdded", i, text, "{}", digest))
            conn.execute("INSERT INTO streams VALUES (?,?,?,?,?,?) ON CONFLICT (stream_id) DO "
                         "UPDATE SET version = excluded.version, head_hash = excluded.head_hash,"
                         " last_at = excluded.last_at", (sid, "Order", versions[sid], digest, i, i))
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - start
        conn.close()
        return n / elapsed

    return median_of(runs, ours), median_of(runs, baseline)


def bench_replay(n: int, runs: int, folder: Path) -> tuple[float, float]:
    """Events/s replaying one n-event order stream without snapshots (read+decode+fold)."""
    path = folder / "replay.db"
    with open_store(path, synchronous="NORMAL") as st:
        st.append("big", "Order", [NewEvent("OrderCreated", {
            "order_id": "big", "customer": "Ada", "currency": "EUR"})], 0)
        batch = [NewEvent("LineAdded", {"sku": f"SKU-{i % 50}", "qty": 1,
                                        "unit_price_cents": 100}) for i in range(1000)]
        while st.stream("big").version < n:
            st.append("big", "Order", batch[: n - st.stream("big").version], ANY)

    def ours() -> float:
        with open_store(path, read_only=True) as st:
            replayer = Replayer(st)
            start = time.perf_counter()
            result = replayer.replay("big", use_snapshots=False)
            elapsed = time.perf_counter() - start
        assert result.state is not None and result.version == n
        return n / elapsed

    def baseline() -> float:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        start = time.perf_counter()
        state = None
        apply = order.apply  # the same fold esaudit uses, called inline
        for type_, payload in conn.execute(
                "SELECT type, payload FROM events WHERE stream_id = ? ORDER BY version",
                ("big",)):
            state = apply(state, type_, json.loads(payload))
        elapsed = time.perf_counter() - start
        conn.close()
        return n / elapsed

    return median_of(runs, ours), median_of(runs, baseline)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="sizes / 10, for a smoke run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    print(f"machine: {platform.machine()} {platform.processor() or ''}, "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"median of {args.runs} runs")
    print(f"{'figure':<52} {'esaudit':>14} {'baseline':>14} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        n = 10_000 // scale
        ours, base = bench_append(n, args.runs, folder)
        print(f"{f'append {n:,} events, one FULL-sync transaction each':<52} "
              f"{ours:>10,.0f} ev/s {base:>10,.0f} ev/s {ours / base:>6.2f}x")
        n = 200_000 // scale
        ours, base = bench_replay(n, args.runs, folder)
        print(f"{f'replay a {n:,}-event stream, no snapshots':<52} "
              f"{ours:>10,.0f} ev/s {base:>10,.0f} ev/s {ours / base:>6.2f}x")


if __name__ == "__main__":
    main()
