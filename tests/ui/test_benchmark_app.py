"""The app benchmark drives the real window through a few of its internals (the filter's
typing-pause timer, the timeline's view): run it on a small store so a UI change that breaks
it fails here, not in the middle of a ten-minute ``make bench``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.__main__ import write_history_jsonl
from esaudit.application.transfer import import_history
from esaudit.bootstrap import bootstrap
from store import open_store

ROOT = Path(__file__).resolve().parents[2]


def test_the_app_benchmark_measures_a_store_it_opened(tmp_path: Path) -> None:
    events, streams = 2_000, 200
    source = tmp_path / "history.jsonl"
    write_history_jsonl(source, events, streams)
    store = tmp_path / "app.db"
    with open_store(store, synchronous="NORMAL") as st:
        import_history(st, source)
    bootstrap(store).close()
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.app", str(store)], cwd=ROOT, check=True,
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["events"] == events
    assert figures["open_s"] > 0
    assert 0 < figures["frame_median_ms"] <= figures["frame_max_ms"]
    assert 0 < figures["keystroke_median_ms"] <= figures["keystroke_max_ms"]
    with_nine = sum("9" in f"ord-{s:06d}" for s in range(streams))
    assert figures["last_filter_count"] == f"{with_nine:,} streams match"
    assert figures["rss_mb"] > 0
