"""Imports as a user meets them: whole ``esaudit`` processes on histories shaped like real ones.

- A mixed JSONL file: one long order (an ``OrderCreated`` and 199,999 ``LineAdded``) and 100
  meters of 2,000 ``ReadingTaken`` each, whose payloads hold floats and whose metadata names
  the device. ``esaudit --db NEW.db import mixed.jsonl``, read models included, beside a
  baseline process that parses the same file with the standard library and inserts the very
  rows esaudit stored with ``executemany`` (no checks, no hashing). Target: >= 120k ev/s.
- A store the eventsourcing library's own Application wrote (190k events, BankAccounts of
  ten), imported with ``--format eventsourcing``, beside a baseline process that reads the
  same table with sqlite3, decodes each state with ``json.loads`` and inserts the very rows
  esaudit stored. Target: >= 80k ev/s.
- ``esaudit replay`` of the imported 200k-event order to a random version, beside the same
  command on a 1-event stream of the same store (the process's start-up). Target: within
  start-up + 100 ms.

A baseline process reads the rows it inserts from esaudit's store first; that read is left out
of its time (it reports how long it took). Runs are taken in turns, medians printed.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from store import open_store

from .foreign import WRITER

ROOT = Path(__file__).resolve().parent.parent

ORDER = "ord-big"
ONE = "ord-one"


def write_mixed_jsonl(path: Path, order_events: int, meters: int, readings: int) -> int:
    """The mixed history in the export format; returns its event count."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    i = 0

    def line(sid: str, stype: str, version: int, etype: str, payload: dict[str, object],
             metadata: dict[str, object]) -> str:
        nonlocal i
        at = start + timedelta(microseconds=i * 1_500_000 + i % 997)
        i += 1
        return json.dumps({"stream_id": sid, "stream_type": stype, "version": version,
                           "type": etype, "recorded_at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                           "payload": payload, "metadata": metadata}) + "\n"

    with path.open("w", encoding="utf-8") as fh:
        fh.write(line(ORDER, "Order", 1, "OrderCreated",
                      {"order_id": ORDER, "customer": "Ivy", "currency": "EUR"}, {}))
        for v in range(2, order_events + 1):
            fh.write(line(ORDER, "Order", v, "LineAdded",
                          {"sku": f"S{v % 50}", "qty": 1, "unit_price_cents": 100 + v % 7}, {}))
        for m in range(meters):
            for v in range(1, readings + 1):
                fh.write(line(f"meter-{m:03d}", "Meter", v, "ReadingTaken",
                              {"kwh": v * 0.5, "at": v}, {"device": f"d{m}"}))
        fh.flush()
        os.fsync(fh.fileno())  # on disk before anything is timed
    return i


def _fresh(path: Path) -> Path:
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        name.unlink(missing_ok=True)
    return path


def _seconds(cmd: list[str]) -> tuple[float, str]:
    """Seconds for one whole process, and what it printed."""
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, text=True).stdout
    return time.perf_counter() - start, out


def _esaudit(*args: str) -> float:
    return _seconds([sys.executable, "-m", "esaudit", *args])[0]


def _empty_store(path: Path) -> Path:
    """A store with esaudit's tables and indexes, as the baseline's target."""
    open_store(_fresh(path)).close()
    return path


def _paired_imports(runs: int, events: int, source: str, kind: str, folder: Path,
                    extra: tuple[str, ...] = ()) -> tuple[float, float, Path]:
    """Median ev/s of esaudit's import process and of the baseline's, taken in turns; and a
    store esaudit imported (what the baseline's rows are read from)."""
    kept = _fresh(folder / f"kept-{Path(source).stem}.db")
    _esaudit("--db", str(kept), "import", source, *extra)
    ours, base = [], []
    for _ in range(runs):
        target = _fresh(folder / "ours.db")
        ours.append(events / _esaudit("--db", str(target), "import", source, *extra))
        target = _empty_store(folder / "base.db")
        seconds, out = _seconds([sys.executable, "-m", "benchmarks.baseline_insert", kind,
                                 source, str(kept), str(target)])
        base.append(events / (seconds - float(out.strip())))
    return statistics.median(ours), statistics.median(base), kept


def bench_realdata(scale: int, runs: int, folder: Path) -> dict[str, float]:
    order_events, meters, readings = 200_000 // scale, 100, 2_000 // scale
    mixed = folder / "mixed.jsonl"
    n = write_mixed_jsonl(mixed, order_events, meters, readings)
    jsonl, jsonl_base, store = _paired_imports(runs, n, str(mixed), "jsonl", folder)

    one = folder / "one.jsonl"
    one.write_text(json.dumps({
        "stream_id": ONE, "stream_type": "Order", "version": 1, "type": "OrderCreated",
        "recorded_at": "2026-02-01T00:00:00.000000Z",
        "payload": {"order_id": ONE, "customer": "Ada", "currency": "EUR"},
        "metadata": {}}) + "\n", "utf-8")
    _esaudit("--db", str(store), "import", str(one))
    pick = random.Random(7)
    replay, startup = [], []
    for _ in range(max(5, 2 * runs)):
        version = str(pick.randint(1, order_events))
        replay.append(_esaudit("--db", str(store), "replay", ORDER, "--version", version,
                               "--json"))
        startup.append(_esaudit("--db", str(store), "replay", ONE, "--json"))

    m = 190_000 // scale
    foreign = _fresh(folder / "eventsourcing.sqlite")
    subprocess.run([sys.executable, "-c", WRITER, str(foreign), str(m)], check=True)
    with sqlite3.connect(foreign) as conn:
        m = int(conn.execute("SELECT count(*) FROM stored_events").fetchone()[0])
    es, es_base, _ = _paired_imports(runs, m, str(foreign), "eventsourcing", folder,
                                     ("--format", "eventsourcing"))
    return {"events": n, "jsonl": jsonl, "jsonl_base": jsonl_base, "es_events": m, "es": es,
            "es_base": es_base, "order_events": order_events,
            "replay_ms": statistics.median(replay) * 1000,
            "startup_ms": statistics.median(startup) * 1000}


def print_realdata(scale: int, runs: int, folder: Path) -> None:
    f = bench_realdata(scale, runs, folder)
    jsonl = f"import {f['events']:,.0f} mixed JSONL events (process)"
    es = f"import {f['es_events']:,.0f} eventsourcing events (process)"
    print(f"{jsonl:<52} {f['jsonl']:>10,.0f} ev/s {f['jsonl_base']:>10,.0f} ev/s "
          f"{f['jsonl'] / f['jsonl_base']:>6.2f}x  target >= 120k ev/s")
    print(f"{es:<52} {f['es']:>10,.0f} ev/s {f['es_base']:>10,.0f} ev/s "
          f"{f['es'] / f['es_base']:>6.2f}x  target >= 80k ev/s")
    replay = f"replay imported {f['order_events']:,.0f}-event order (process)"
    print(f"{replay:<52} {f['replay_ms']:>11.0f} ms {f['startup_ms']:>11.0f} ms "
          f"{f['replay_ms'] - f['startup_ms']:>+6.0f} ms  target <= start-up + 100 ms")
