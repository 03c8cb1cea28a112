"""``python -m benchmarks --pg [URL]``: esaudit's store on PostgreSQL with 1M events, each figure
beside psycopg doing the same job by hand in the same run.

URL names a PostgreSQL server esaudit may create a database on (default:
``$ESAUDIT_BENCH_PG_URL``); the figures run in a scratch database of their own, dropped at the
end. The history is the SQLite figures' own (``write_history_jsonl``: 1M events in 100k
streams over a week), imported with ``esaudit``'s import, then:

- the app opened on the store until the timeline is drawn (benchmarks/app.py), beside psycopg
  fetching the timeline's four columns of every event;
- verify, beside psycopg reading the rows in position order and hashing them by hand;
- replay of one 200k-event order without snapshots, beside psycopg selecting its payloads and
  running the same fold inline;
- appends of 100 events per transaction, beside psycopg writing the very rows esaudit wrote
  (the events and the stream head, under the same advisory lock) in transactions of 100.

Targets: open <= 4 s, verify <= 10 s, replay >= 150k ev/s, append >= 20k ev/s.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from esaudit.application.transfer import import_history
from esaudit.application.verify import verify
from esaudit.domain import order
from store import ANY, NewEvent, open_store
from store.backends import APPEND_LOCK_KEY
from store.hashing import iso_from_us

from .__main__ import (
    app_figures,
    append_big_order,
    paired_medians,
    print_app_rows,
    replay_rate,
    write_history_jsonl,
)

EVENTS, REPLAY = 1_000_000, 200_000
APPEND_TX, APPEND_BATCH = 200, 100
URL_VARIABLE = "ESAUDIT_BENCH_PG_URL"


def _conninfo(url: URL) -> str:
    """The libpq form of a SQLAlchemy URL (psycopg takes ``postgresql://``)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _psycopg_connect(url: URL, **kwargs: Any) -> Any:
    import psycopg

    return psycopg.connect(_conninfo(url), **kwargs)


@contextmanager
def scratch_database(server: str) -> Iterator[URL]:
    """A new, empty database on the server ``server`` names, dropped afterwards."""
    url = make_url(server)
    if not url.drivername.startswith("postgresql"):
        raise SystemExit(f"--pg: {url.drivername!r} is not a PostgreSQL URL "
                         "(postgresql+psycopg://USER@HOST:PORT/DB)")
    name = f"esaudit_bench_{os.getpid()}"
    admin = _psycopg_connect(url, autocommit=True)
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(drivername="postgresql+psycopg", database=name)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


def bench_pg_import(url: URL, source: Path, n: int) -> float:
    """Seconds for esaudit to import the history into the empty store (one run: it fills the
    store the other figures read)."""
    with open_store(_target(url)) as st:
        start = time.perf_counter()
        summary = import_history(st, source)
        elapsed = time.perf_counter() - start
    assert summary.events == n, summary
    return elapsed


def bench_pg_app(url: URL, runs: int, n: int) -> tuple[dict[str, float], float]:
    """The app's figures on the store, and seconds for psycopg to fetch the timeline's
    columns (position, instant, stream type, event type) of every event."""
    app = app_figures(_target(url), 1.0)

    def baseline() -> float:
        with _psycopg_connect(url) as conn:
            start = time.perf_counter()
            rows = conn.execute("SELECT position, recorded_at, stream_type, type FROM events "
                                "ORDER BY position").fetchall()
            elapsed = time.perf_counter() - start
        assert len(rows) == n
        return elapsed

    return app, sorted(baseline() for _ in range(runs))[runs // 2]


def bench_pg_verify(url: URL, runs: int, n: int) -> tuple[float, float]:
    """Seconds to verify the store, and seconds for psycopg to read the rows in position order
    (a server-side cursor) and hash them by hand."""

    def ours() -> float:
        with open_store(_target(url), read_only=True) as st:
            start = time.perf_counter()
            report = verify(st)
            elapsed = time.perf_counter() - start
        assert report.ok and report.events_checked == n, report
        return elapsed

    def baseline() -> float:
        with _psycopg_connect(url) as conn:
            start = time.perf_counter()
            prev: dict[str, str] = {}
            sha = hashlib.sha256
            with conn.cursor(name="walk") as cur:
                cur.itersize = 5000
                cur.execute("SELECT stream_id, version, type, recorded_at, payload, metadata "
                            "FROM events ORDER BY position")
                for sid, version, type_, at, payload, meta in cur:
                    head = json.dumps([sid, version, type_, iso_from_us(at)], ensure_ascii=False,
                                      separators=(",", ":"))
                    envelope = f"{head[:-1]},{payload},{meta}]".encode()
                    prev[sid] = sha(prev.get(sid, "").encode() + envelope).hexdigest()
            elapsed = time.perf_counter() - start
        return elapsed

    return paired_medians(runs, ours, baseline)


def bench_pg_replay(url: URL, runs: int, n: int) -> tuple[float, float]:
    """Events/s replaying one n-event order without snapshots, and psycopg's select +
    ``json.loads`` + the same fold inline."""
    with open_store(_target(url)) as st:
        append_big_order(st, n)

    def ours() -> float:
        return replay_rate(_target(url), n)

    def baseline() -> float:
        with _psycopg_connect(url) as conn:
            start = time.perf_counter()
            state = None
            apply = order.apply
            for type_, payload in conn.execute(
                    "SELECT type, payload FROM events WHERE stream_id = %s ORDER BY version",
                    ("big",)):
                state = apply(state, type_, json.loads(payload))
            elapsed = time.perf_counter() - start
        assert state is not None
        return n / elapsed

    return paired_medians(runs, ours, baseline)


def bench_pg_append(url: URL, runs: int) -> tuple[float, float]:
    """Events/s appending 100 events per transaction onto 100 streams (200 transactions), and
    psycopg writing the rows esaudit just wrote (read back outside the timing) into a copy of
    the tables, 100 per transaction under the same advisory lock, with the stream's head."""
    payload = {"sku": "SKU-1", "qty": 1, "unit_price_cents": 100}
    events = [NewEvent("LineAdded", payload) for _ in range(APPEND_BATCH)]
    run = [0]

    def ours() -> float:
        run[0] += 1
        with open_store(_target(url)) as st:
            first = st.head_position()
            start = time.perf_counter()
            for i in range(APPEND_TX):
                st.append(f"app-{run[0]}-{i % 100}", "Order", events, ANY)
            elapsed = time.perf_counter() - start
        with _psycopg_connect(url) as conn:
            written[:] = conn.execute(
                "SELECT position, stream_id, stream_type, version, type, recorded_at, payload, "
                "metadata, hash FROM events WHERE position > %s ORDER BY position",
                (first,)).fetchall()
        return APPEND_TX * APPEND_BATCH / elapsed

    def baseline() -> float:
        with _psycopg_connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS bench_events, bench_streams")
            conn.execute("CREATE TABLE bench_events (LIKE events INCLUDING ALL)")
            conn.execute("CREATE TABLE bench_streams (LIKE streams INCLUDING ALL)")
            start = time.perf_counter()
            for i in range(0, len(written), APPEND_BATCH):
                rows = written[i:i + APPEND_BATCH]
                last = rows[-1]
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK_KEY,))
                    cur.executemany("INSERT INTO bench_events VALUES "
                                    "(%s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
                    cur.execute("INSERT INTO bench_streams VALUES (%s, %s, %s, %s, %s, %s) "
                                "ON CONFLICT (stream_id) DO UPDATE SET version = "
                                "excluded.version, head_hash = excluded.head_hash, "
                                "last_at = excluded.last_at",
                                (last[1], last[2], last[3], last[8], rows[0][5], last[5]))
            elapsed = time.perf_counter() - start
            conn.execute("DROP TABLE bench_events, bench_streams")
        return len(written) / elapsed

    written: list[tuple[Any, ...]] = []
    return paired_medians(runs, ours, baseline)


def _target(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def print_pg(server: str, runs: int, scale: int = 1) -> None:
    """Every figure, measured in a scratch database on ``server``; sizes divided by ``scale``."""
    events, replay = EVENTS // scale, REPLAY // scale
    with scratch_database(server) as url, tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "history.jsonl"
        write_history_jsonl(source, events, events // 10)
        with _psycopg_connect(url) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        print(f"PostgreSQL {version} at {url.render_as_string(hide_password=True)}, "
              f"median of {runs} runs")
        print(f"{'figure':<52} {'esaudit':>14} {'baseline':>14} {'ratio':>7}")
        seconds = bench_pg_import(url, source, events)
        print(f"{f'import {events:,} events from JSONL (one run)':<52} "
              f"{events / seconds:>10,.0f} ev/s {'-':>14} {'-':>7}")
        app, fetch = bench_pg_app(url, runs, events)
        print(f"{f'app: open {events:,} events, timeline drawn':<52} "
              f"{app['open_s']:>12.2f} s {fetch:>12.2f} s {'-':>7}  target <= 4 s "
              f"(from its {app['drawn_from']}; baseline: psycopg fetches the timeline's columns)")
        print(f"{'  open until every event is read':<52} "
              f"{app['events_read_s']:>12.2f} s {'-':>14} {'-':>7}")
        print_app_rows(app)
        ours, base = bench_pg_verify(url, runs, events)
        print(f"{f'verify {events:,} events':<52} {ours:>12.2f} s {base:>12.2f} s "
              f"{base / ours:>6.2f}x  target <= 10 s")
        ours, base = bench_pg_replay(url, runs, replay)
        print(f"{f'replay a {replay:,}-event stream, no snapshots':<52} "
              f"{ours:>10,.0f} ev/s {base:>10,.0f} ev/s {ours / base:>6.2f}x  "
              "target >= 150k ev/s")
        ours, base = bench_pg_append(url, runs)
        print(f"{f'append {APPEND_BATCH} events per transaction':<52} "
              f"{ours:>10,.0f} ev/s {base:>10,.0f} ev/s {ours / base:>6.2f}x  "
              "target >= 20k ev/s")


def main_pg(url: str, runs: int, quick: bool = False) -> None:
    """``--pg [URL]`` (``--quick``: sizes / 10): the URL given, else
    ``$ESAUDIT_BENCH_PG_URL``, else one line saying so."""
    server = url or os.environ.get(URL_VARIABLE, "")
    if not server:
        raise SystemExit(f"--pg: give a PostgreSQL URL (--pg postgresql+psycopg://USER@HOST/DB) "
                         f"or set {URL_VARIABLE}")
    print_pg(server, runs, 10 if quick else 1)
