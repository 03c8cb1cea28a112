"""The app benchmark drives the real window through a few of its internals (the filter's
typing-pause timer, the timeline's view): run it on a small store so a UI change that breaks
it fails here, not in the middle of a ten-minute ``make bench``."""

from __future__ import annotations

from pathlib import Path

from benchmarks.__main__ import bench_app, write_history_jsonl


def test_the_app_benchmark_measures_a_store_it_opened(tmp_path: Path) -> None:
    events, streams = 2_000, 200
    source = tmp_path / "history.jsonl"
    write_history_jsonl(source, events, streams)
    figures = bench_app(source, tmp_path, idle_s=3.0)
    assert figures["events"] == events
    assert figures["open_s"] > 0 and figures["drawn_from"] == "events"  # too small for counts
    assert figures["events_read_s"] >= figures["open_s"]
    assert 0 < figures["frame_median_ms"] <= figures["frame_max_ms"]
    assert 0 < figures["keystroke_median_ms"] <= figures["keystroke_max_ms"]
    with_nine = sum("9" in f"ord-{s:06d}" for s in range(streams))
    assert figures["last_filter_count"] == f"{with_nine:,} streams match"
    assert figures["rss_mb"] > 0
    assert figures["follow_polls"] >= 2 and 0 <= figures["follow_idle_cpu_pct"] < 100
