"""`make bench`: esaudit figures next to a raw sqlite3 baseline measured in the same run.

Each figure prints what it measured and its ratio to the baseline; medians of several runs.
Sizes default to the figures' targets (10k appends, a 200k-event replay, 1M events to import and
verify, 100k orders to seed, a report of 190k events); ``--quick`` divides them by 10 for a
smoke run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from esaudit.application.replay import Replayer
from esaudit.application.seed import seed as run_seed
from esaudit.application.transfer import import_history
from esaudit.application.verify import verify
from esaudit.bootstrap import bootstrap
from esaudit.domain import commands as c
from esaudit.domain import order
from store import ANY, EventStore, NewEvent, open_store
from store.hashing import iso_from_us, us_from_instant

from .baseline_insert import insert_history, jsonl_rows

ROOT = Path(__file__).resolve().parent.parent  # where ``-m benchmarks.app`` is found


def median_of(runs: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(runs))


def paired_medians(runs: int, ours: Callable[[], float], baseline: Callable[[], float]
                   ) -> tuple[float, float]:
    """Medians of runs taken in turns (ours, baseline, ours, ...), so a slow spell of the
    machine's disk or CPU falls on both sides of a ratio instead of on one."""
    pairs = [(ours(), baseline()) for _ in range(runs)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


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


APPEND_BLOCK = 500


def bench_append(n: int, runs: int, folder: Path) -> tuple[float, float]:
    """Events/s for n single-event appends, one durable transaction each.

    The baseline writes the very rows esaudit wrote just before it (read back from that store:
    same positions, times, payloads and hashes) into the same tables, the event row and the
    stream's head row (upserted), one transaction each. Only the same bytes make the same disk
    work: a constant placeholder hash is ~20 us per commit cheaper to write than real ones (on
    the reference machine's disk). The baseline does not hash, read the head, check the
    expected version or allocate positions; esaudit does all of that inside its transaction.

    The two sides take turns in blocks of 500 commits, each on its own file: fsync time on a
    virtual machine drifts by a third within a minute, and whole runs taken in turns can still
    leave one side in a slow spell the other misses (ratios from 0.67x to 0.80x for the same
    code).
    """
    payload = {"sku": "SKU-1", "qty": 1, "unit_price_cents": 100}
    events = [NewEvent("LineAdded", payload)]

    def one_run() -> tuple[float, float]:
        stamp = time.monotonic_ns()
        ours_path = folder / f"a-{stamp}.db"
        st = open_store(ours_path)
        written = sqlite3.connect(ours_path)
        conn = raw_sqlite(folder / f"b-{stamp}.db")
        ours_s = base_s = 0.0
        for first in range(0, n, APPEND_BLOCK):
            block = range(first, min(first + APPEND_BLOCK, n))
            start = time.perf_counter()
            for i in block:
                st.append(f"s-{i % 100}", "Order", events, ANY)
            ours_s += time.perf_counter() - start
            rows = written.execute(
                "SELECT position, stream_id, stream_type, version, type, recorded_at, payload, "
                "metadata, hash FROM events WHERE position > ? ORDER BY position",
                (first,)).fetchall()
            start = time.perf_counter()
            for row in rows:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)", row)
                conn.execute("INSERT INTO streams VALUES (?,?,?,?,?,?) ON CONFLICT (stream_id) "
                             "DO UPDATE SET version = excluded.version, "
                             "head_hash = excluded.head_hash, last_at = excluded.last_at",
                             (row[1], row[2], row[3], row[8], row[5], row[5]))
                conn.execute("COMMIT")
            base_s += time.perf_counter() - start
        written.close()
        conn.close()
        st.close()
        return n / ours_s, n / base_s

    pairs = [one_run() for _ in range(runs)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def append_big_order(st: EventStore, n: int) -> None:
    """The order ``big``: created, then lines added until it holds ``n`` events."""
    st.append("big", "Order", [NewEvent("OrderCreated", {
        "order_id": "big", "customer": "Ada", "currency": "EUR"})], 0)
    batch = [NewEvent("LineAdded", {"sku": f"SKU-{i % 50}", "qty": 1,
                                    "unit_price_cents": 100}) for i in range(1000)]
    while (version := st.stream("big").version) < n:  # type: ignore[union-attr]
        st.append("big", "Order", batch[: n - version], ANY)


def replay_rate(target: str | Path, n: int) -> float:
    """Events/s of esaudit replaying the order ``big`` of ``n`` events without snapshots."""
    with open_store(target, read_only=True) as st:
        replayer = Replayer(st)
        start = time.perf_counter()
        result = replayer.replay("big", use_snapshots=False)
        elapsed = time.perf_counter() - start
    assert result.state is not None and result.version == n
    return n / elapsed


def bench_replay(n: int, runs: int, folder: Path) -> tuple[float, float]:
    """Events/s replaying one n-event order stream without snapshots (read+decode+fold)."""
    path = folder / "replay.db"
    with open_store(path, synchronous="NORMAL") as st:
        append_big_order(st, n)

    def ours() -> float:
        return replay_rate(path, n)

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

    return paired_medians(runs, ours, baseline)


HISTORY_SPAN_US = 7 * 86_400_000_000


def write_history_jsonl(path: Path, n: int, streams: int) -> None:
    """n events spread over ``streams`` order-like streams, in the export format.

    Their instants rise through one week in file order, each at its own microsecond (about
    1.7 events per second), as a shop's history would: a file where every event shares a few
    instants would flatter whatever remembers the last second's text (hashing, parsing).
    """
    per = max(n // streams, 1)
    start = us_from_instant(datetime(2026, 1, 1, tzinfo=UTC))
    i = 0
    with path.open("w", encoding="utf-8") as fh:
        for v in range(1, per + 1):
            for s in range(streams):
                at = start + i * HISTORY_SPAN_US // n + (i * 7919) % 1000
                i += 1
                fh.write(json.dumps({
                    "stream_id": f"ord-{s:06d}", "stream_type": "Order", "version": v,
                    "type": "LineAdded", "recorded_at": iso_from_us(at),
                    "payload": {"sku": f"SKU-{v}", "qty": 1, "unit_price_cents": 100 + v},
                    "metadata": {"actor": "bench"}}) + "\n")
        # On disk before anything is timed: else the kernel writes these 230 MB back during
        # the first import, which then pays for the fixture's I/O besides its own.
        fh.flush()
        os.fsync(fh.fileno())


def bench_import(n: int, runs: int, folder: Path, source: Path) -> tuple[float, float]:
    """Events/s importing a JSONL file into an empty store (parse + check + hash + insert).

    The baseline parses the same file and inserts the same rows, with the instants and hashes
    esaudit stored (read back from its store, outside the timing): it neither checks nor hashes,
    but it writes the same bytes, as the append baseline does.
    """
    stored: list[tuple[int, str]] = []

    def ours() -> float:
        path = folder / f"i-{time.monotonic_ns()}.db"
        with open_store(path) as st:
            start = time.perf_counter()
            summary = import_history(st, source)
            elapsed = time.perf_counter() - start
        assert summary.events == n
        if not stored:
            with sqlite3.connect(path) as conn:
                stored[:] = conn.execute(
                    "SELECT recorded_at, hash FROM events ORDER BY position").fetchall()
        path.unlink()
        return n / elapsed

    def baseline() -> float:
        path = folder / f"j-{time.monotonic_ns()}.db"
        conn = raw_sqlite(path)
        start = time.perf_counter()
        insert_history(conn, jsonl_rows(str(source), stored))
        elapsed = time.perf_counter() - start
        conn.close()
        path.unlink()
        return n / elapsed

    return paired_medians(runs, ours, baseline)


def bench_verify(n: int, runs: int, store_path: Path) -> tuple[float, float]:
    """Seconds to verify n events, and seconds to read the same rows and hash them by hand."""

    def ours() -> float:
        with open_store(store_path, read_only=True) as st:
            start = time.perf_counter()
            report = verify(st)
            elapsed = time.perf_counter() - start
        assert report.ok and report.events_checked == n
        return elapsed

    def baseline() -> float:
        conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
        start = time.perf_counter()
        prev: dict[str, str] = {}
        sha = hashlib.sha256
        for sid, version, type_, at, payload, meta in conn.execute(
                "SELECT stream_id, version, type, recorded_at, payload, metadata FROM events "
                "ORDER BY position"):
            head = json.dumps([sid, version, type_, iso_from_us(at)], ensure_ascii=False,
                              separators=(",", ":"))
            envelope = f"{head[:-1]},{payload},{meta}]".encode()
            prev[sid] = sha(prev.get(sid, "").encode() + envelope).hexdigest()
        elapsed = time.perf_counter() - start
        conn.close()
        return elapsed

    return paired_medians(runs, ours, baseline)


def bench_snapshot_replay(n: int, runs: int, folder: Path) -> tuple[float, float]:
    """Median ms to replay to a random version of an n-event order, with and without snapshots."""
    path = folder / "snap.db"
    svc = bootstrap(path, synchronous="NORMAL", snapshot_every=100)
    svc.commands.execute(c.CreateOrder("snap", "Ada"))
    state, version, _ = svc.commands.load("snap")
    st = svc.store
    batch = 1000
    while version < n:
        k = min(batch, n - version)
        events = [NewEvent("LineAdded", {"sku": f"SKU-{(version + i) % 50}", "qty": 1,
                                         "unit_price_cents": 100}) for i in range(k)]
        st.append("snap", "Order", events, version)
        for i in range(k):
            state = order.apply(state, "LineAdded", events[i].payload)
            if (version + i + 1) % 100 == 0:
                st.save_snapshot("snap", version + i + 1, state)
        version += k
    svc.close()
    rng = random.Random(7)
    targets = [rng.randint(1, n) for _ in range(50)]

    def timed(use_snapshots: bool) -> float:
        with open_store(path, read_only=True) as ro:
            replayer = Replayer(ro)
            times = []
            for v in targets:
                start = time.perf_counter()
                replayer.replay("snap", v, use_snapshots=use_snapshots)
                times.append(time.perf_counter() - start)
        return statistics.median(times) * 1000

    return paired_medians(runs, lambda: timed(True), lambda: timed(False))


def bench_app(source: Path, folder: Path, idle_s: float = 30.0) -> dict[str, float]:
    """The app on the imported history (n events, n/10 streams), read models caught up, in a
    process of its own: see benchmarks/app.py. ``idle_s``: how long it follows the idle store
    (its CPU time over that is the idle cost of live follow)."""
    path = folder / "app.db"
    with open_store(path, synchronous="NORMAL") as st:
        import_history(st, source)
    return app_figures(str(path), idle_s)


def app_figures(target: str, idle_s: float) -> dict[str, float]:
    """benchmarks/app.py's figures on a store (a path or URL) already holding the history."""
    bootstrap(target).close()  # read models caught up, as in a store that is in use
    out = subprocess.run([sys.executable, "-m", "benchmarks.app", target, str(idle_s)],
                         check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_seed(orders: int, folder: Path) -> float:
    path = folder / "seed.db"
    start = time.perf_counter()
    svc = bootstrap(path)
    run_seed(svc.commands, orders=orders, seed=1, days=90)
    svc.close()
    return time.perf_counter() - start


def print_app_rows(app: dict[str, float]) -> None:
    """The app's frame, keystroke and memory rows (its open time has a row of its own)."""
    print(f"{'app: pan/zoom frame, median (max) of 40':<52} "
          f"{app['frame_median_ms']:>8.1f} ms ({app['frame_max_ms']:.0f})")
    print(f"{'app: stream-filter keystroke to rows shown, median (max) of 8':<52} "
          f"{app['keystroke_median_ms']:>8.1f} ms ({app['keystroke_max_ms']:.0f})")
    print(f"{'app: stream-filter keystroke to the count shown, median (max)':<52} "
          f"{app['keystroke_counted_median_ms']:>8.1f} ms ({app['keystroke_counted_max_ms']:.0f})")
    print(f"{'app: the GUI thread held by a keystroke, max of 8':<52} "
          f"{app['keystroke_blocked_max_ms']:>8.1f} ms")
    print(f"{'app: resident memory with that store open':<52} "
          f"{app['rss_mb']:>10.0f} MB (peak {app['peak_rss_mb']:.0f})")


FIGURES = ("append", "replay", "snapshots", "import", "verify", "seed", "app", "foreign",
            "classes", "witness", "investigate", "report", "startup", "realdata")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="sizes / 10, for a smoke run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed-orders", type=int, default=None,
                        help="orders for the seed figure (default 100,000, or 10,000 --quick)")
    parser.add_argument("--only", action="append", choices=FIGURES, default=None,
                        help="run only this figure (repeatable)")
    parser.add_argument("--scale", metavar="SIZE", default=None,
                        help="import, verify, seal and the app at 1M and at SIZE (e.g. 10m), "
                             "with each cost's growth (benchmarks/scale.py)")
    parser.add_argument("--pg", metavar="URL", nargs="?", const="", default=None,
                        help="the 1M-event PostgreSQL figures (default URL: "
                             "$ESAUDIT_BENCH_PG_URL; benchmarks/postgres.py)")
    args = parser.parse_args()
    if args.scale is not None:
        from .scale import main_scale
        main_scale(args.scale, args.runs)
        return
    if args.pg is not None:
        from .postgres import main_pg
        main_pg(args.pg, args.runs, args.quick)
        return
    only = set(args.only or FIGURES)
    scale = 10 if args.quick else 1
    print(f"machine: {platform.machine()} {platform.processor() or ''}, "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"median of {args.runs} runs")
    print(f"{'figure':<52} {'esaudit':>14} {'baseline':>14} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "append" in only:
            n = 10_000 // scale
            ours, base = bench_append(n, args.runs, folder)
            print(f"{f'append {n:,} events, one FULL-sync transaction each':<52} "
                  f"{ours:>10,.0f} ev/s {base:>10,.0f} ev/s {ours / base:>6.2f}x")
        if "replay" in only:
            n = 200_000 // scale
            ours, base = bench_replay(n, args.runs, folder)
            print(f"{f'replay a {n:,}-event stream, no snapshots':<52} "
                  f"{ours:>10,.0f} ev/s {base:>10,.0f} ev/s {ours / base:>6.2f}x")
        if "snapshots" in only:
            n = 100_000 // scale
            ours, base = bench_snapshot_replay(n, args.runs, folder)
            print(f"{f'replay to a random version of {n:,}, snapshots':<52} "
                  f"{ours:>11.2f} ms {base:>11.2f} ms {base / ours:>6.1f}x faster")
        n = 1_000_000 // scale
        source = folder / "history.jsonl"
        if only & {"import", "verify", "app", "witness"}:
            write_history_jsonl(source, n, n // 10)
        if "import" in only:
            ours, base = bench_import(n, args.runs, folder, source)
            print(f"{f'bulk import {n:,} events from JSONL':<52} "
                  f"{ours:>10,.0f} ev/s {base:>10,.0f} ev/s {ours / base:>6.2f}x")
        if "verify" in only:
            verify_path = folder / "verify.db"
            with open_store(verify_path, synchronous="NORMAL") as st:
                import_history(st, source)
            ours, base = bench_verify(n, args.runs, verify_path)
            print(f"{f'verify {n:,} events':<52} {ours:>12.2f} s {base:>12.2f} s "
                  f"{base / ours:>6.2f}x")
        if "app" in only:
            app = bench_app(source, folder)
            print(f"{f'app: open {n:,} events / {n // 10:,} streams, timeline drawn':<52} "
                  f"{app['open_s']:>12.2f} s {'-':>14} {'-':>7}  from its {app['drawn_from']}")
            print(f"{'  open until every event is read':<52} "
                  f"{app['events_read_s']:>12.2f} s {'-':>14} {'-':>7}")
            print_app_rows(app)
            print(f"{'app: following the idle store, CPU over 30 s':<52} "
                  f"{app['follow_idle_cpu_pct']:>12.2f} % {'-':>14} {'-':>7}"
                  "  target <= 5% of one core")
        if "witness" in only:
            from .witness import print_witness
            witness_path = folder / "witness.db"
            with open_store(witness_path, synchronous="NORMAL") as st:
                import_history(st, source)
            print_witness(n, args.runs, witness_path, folder)
        if "report" in only:
            from .report import print_report
            m = 190_000 // scale
            history, report_path = folder / "report.jsonl", folder / "report.db"
            write_history_jsonl(history, m, m // 10)
            with open_store(report_path, synchronous="NORMAL") as st:
                import_history(st, history)
            print_report(m, args.runs, report_path, folder)
        if "foreign" in only:
            from .foreign import print_foreign
            print_foreign(200_000 // scale, args.runs, folder)
        if "classes" in only:
            from .classes import print_classes
            for events in (10_000, 100_000 // scale):
                print_classes(events, args.runs, folder)
        if "realdata" in only:
            from .realdata import print_realdata
            print_realdata(scale, args.runs, folder)
        if "investigate" in only:
            from .investigate import print_investigate
            print_investigate(1_000_000 // scale, args.runs, folder)
        if "startup" in only:
            from .startup import print_startup
            print_startup(max(args.runs, 7), folder)
        if "seed" in only:
            orders = args.seed_orders or 100_000 // scale
            seconds = bench_seed(orders, folder)
            print(f"{f'esaudit seed --orders {orders:,}':<52} {seconds:>12.1f} s "
                  f"{'-':>14} {'-':>7}")

if __name__ == "__main__":
    main()
