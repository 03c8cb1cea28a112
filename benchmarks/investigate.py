"""Investigating a history: blame of a long stream, a search and a trace in a big store, and
what following an idle store costs.

Blame is timed in-process on a 10,000-event order (the baseline: replaying it, the fold blame
runs once); search and trace on an imported store of ``n`` events with correlation metadata
(five events of one conversation across five streams), beside the same query sent with plain
sqlite3 (search: the same JSON expression; trace: the correlation's expression without its
index, a scan). The search's condition matches no event, so it reads every row: its worst
case. ``tail`` runs as its own process on an idle store; its CPU time over ten seconds is the
idle cost. Targets: blame <= 300 ms, search <= 2 s on 1M events, trace <= 200 ms on 1M
events, tail <= 5% of one core.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from esaudit.application.investigate.blame import blame
from esaudit.application.investigate.search import event_search, search
from esaudit.application.investigate.trace import find_event, trace
from esaudit.application.replay import Replayer
from esaudit.application.transfer import import_history
from store import ANY, NewEvent, open_store
from store.hashing import iso_from_us, us_from_instant

ROOT = Path(__file__).resolve().parent.parent
CONVERSATION = 5
SPAN_US = 7 * 86_400_000_000


def write_conversations_jsonl(path: Path, n: int) -> None:
    """n events in n/10 streams; every five consecutive events are one conversation (one
    correlation id, each caused by the one before), spread over five streams."""
    streams = max(n // 10, CONVERSATION)
    start = us_from_instant(datetime(2026, 1, 1, tzinfo=UTC))
    versions = [0] * streams
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            s = (i * 7919) % streams
            versions[s] += 1
            conversation, step = divmod(i, CONVERSATION)
            meta: dict[str, object] = {"actor": f"user-{i % 17}", "event_id": f"e-{i}",
                                       "correlation_id": f"c-{conversation}"}
            if step:
                meta["causation_id"] = f"e-{i - 1}"
            fh.write(json.dumps({
                "stream_id": f"ord-{s:06d}", "stream_type": "Order", "version": versions[s],
                "type": "LineAdded", "recorded_at": iso_from_us(start + i * SPAN_US // n),
                "payload": {"sku": f"SKU-{i % 50}", "qty": 1 + i % 3,
                            "unit_price_cents": 100 + i % 1000},
                "metadata": meta}) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _median_ms(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_blame(runs: int, folder: Path, n: int = 10_000) -> tuple[float, float]:
    """ms to blame an n-event order stream, and ms to replay it (no snapshots)."""
    path = folder / "blame.db"
    with open_store(path, synchronous="NORMAL") as st:
        st.append("big", "Order", [NewEvent("OrderCreated", {
            "order_id": "big", "customer": "Ada", "currency": "EUR"}, {"actor": "ada"})], 0)
        batch = [NewEvent("LineAdded", {"sku": f"SKU-{i % 50}", "qty": 1,
                                        "unit_price_cents": 100 + i}, {"actor": f"u-{i % 7}"})
                 for i in range(1000)]
        while (info := st.stream("big")) is not None and info.version < n:
            st.append("big", "Order", batch[: n - info.version], ANY)
    with open_store(path, read_only=True) as st:
        replayer = Replayer(st)
        found = blame(replayer, "big")
        assert found.version == n and found.fields
        ours = _median_ms(runs, lambda: blame(replayer, "big"))
        base = _median_ms(runs, lambda: replayer.replay("big", use_snapshots=False))
    return ours, base


def bench_search_and_trace(n: int, runs: int, folder: Path) -> dict[str, float]:
    source = folder / "conversations.jsonl"
    path = folder / "investigate.db"
    write_conversations_jsonl(source, n)
    with open_store(path, synchronous="NORMAL") as st:
        import_history(st, source)
    source.unlink()
    figures: dict[str, float] = {}
    with open_store(path, read_only=True) as st:
        nothing = event_search(["payload.qty > 3"])
        assert search(st, nothing).events == ()
        figures["search"] = _median_ms(runs, lambda: search(st, nothing))
        some = event_search(['payload.sku = "SKU-7"'])  # one event in 50
        assert len(search(st, some).events) == 1000
        figures["search_page"] = _median_ms(runs, lambda: search(st, some))
        position = str(n // 2 + 3)  # the third event of a conversation: two causes
        traced = trace(st, find_event(st, position))
        assert len(traced.events) == CONVERSATION and len(traced.causes) == 2
        figures["trace"] = _median_ms(runs, lambda: trace(st, find_event(st, position)))
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        figures["search_base"] = _median_ms(runs, lambda: conn.execute(
            "SELECT position, payload FROM events WHERE json_extract(payload, '$.qty') > 3 "
            "ORDER BY position LIMIT 1001").fetchall())
        figures["trace_base"] = _median_ms(runs, lambda: conn.execute(
            "SELECT position, metadata FROM events WHERE "
            "json_extract(metadata, '$.correlation_id') = ? ORDER BY position",
            (f"c-{(n // 2 + 2) // CONVERSATION}",)).fetchall())
    finally:
        conn.close()
    return figures


def bench_tail_idle(folder: Path, seconds: float = 10.0) -> float:
    """Percent of one core ``esaudit tail`` uses on an idle store, start-up excluded."""
    path = folder / "idle.db"
    with open_store(path) as st:
        st.append("a", "T", [NewEvent("E", {})], ANY)
    tail = subprocess.Popen([sys.executable, "-m", "esaudit", "--db", str(path), "tail"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert tail.stderr is not None
        tail.stderr.readline()  # "following ...": started
        time.sleep(1.0)
        before = _cpu_seconds(tail.pid)
        time.sleep(seconds)
        used = _cpu_seconds(tail.pid) - before
    finally:
        tail.terminate()
        tail.wait(timeout=10)
    return 100 * used / seconds


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def print_investigate(n: int, runs: int, folder: Path) -> None:
    ours, base = bench_blame(runs, folder)
    print(f"{'blame a 10,000-event order (in-process)':<52} {ours:>11.1f} ms "
          f"{base:>11.1f} ms {ours / base:>6.2f}x  target <= 300 ms (baseline: its replay)")
    f = bench_search_and_trace(n, runs, folder)
    print(f"{f'search {n:,} events, one payload condition, no match':<52} "
          f"{f['search']:>11.1f} ms {f['search_base']:>11.1f} ms "
          f"{f['search'] / f['search_base']:>6.2f}x  target <= 2 s (baseline: sqlite3)")
    print(f"{f'search {n:,} events, first page of 1,000 matches':<52} "
          f"{f['search_page']:>11.1f} ms {'-':>14} {'-':>7}")
    print(f"{f'trace an event in {n:,} (5-event correlation)':<52} "
          f"{f['trace']:>11.1f} ms {f['trace_base']:>11.1f} ms "
          f"{f['trace'] / f['trace_base']:>6.2f}x  target <= 200 ms (baseline: no index)")
    idle = bench_tail_idle(folder)
    print(f"{'tail on an idle store, CPU over 10 s':<52} {idle:>12.2f} % {'-':>14} {'-':>7}"
          f"  target <= 5% of one core")
