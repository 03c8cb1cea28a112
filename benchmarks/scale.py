"""``python -m benchmarks --scale 10m``: the import, verify, seal and app figures at 1M events and
at a larger size, and how each one's cost grows between them.

Each size gets its own history (n events in n/10 streams, ``write_history_jsonl``), imported
once by the timed figure and once more into the store the other figures read, so verify, seal
and the app all see the same file. The growth column is the larger size's cost over 1M's
(seconds, milliseconds or megabytes, never a rate): with ten times the events, ~10x is linear,
less is better than linear. The larger size runs each figure once (a 10M import alone takes
minutes); 1M takes the median of ``runs``.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from esaudit.application.transfer import import_history
from store import open_store

from .__main__ import app_figures, bench_import, bench_verify, write_history_jsonl
from .witness import bench_seal

BASE = 1_000_000
TARGET_SIZE = 10_000_000
"""The size the targets are set for."""


def parse_size(text: str) -> int:
    """``10m`` -> 10,000,000; ``500k`` -> 500,000; plain digits as they are."""
    lowered = text.strip().lower().replace("_", "").replace(",", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(lowered[-1:], 1)
    digits = lowered[:-1] if factor > 1 else lowered
    if not digits.isdigit() or int(digits) * factor < 1:
        raise ValueError(f"not a size: {text!r} (write e.g. 10m or 500k)")
    return int(digits) * factor


@dataclass(frozen=True)
class Figure:
    """One row: what it is, its unit (a cost, so that bigger is worse), its 10M target."""

    key: str
    label: str
    unit: str
    target: str
    limit: float | None = None
    """The target as a number in ``unit`` (a cost at 10M must not exceed it)."""


FIGURES = (
    Figure("import_s", "bulk import from JSONL", "s", "<= 120 s", 120),
    Figure("import_base_s", "  baseline: parse + executemany, no checks", "s", "-"),
    Figure("verify_s", "verify", "s", "<= 40 s", 40),
    Figure("verify_base_s", "  baseline: read + hash by hand, one process", "s", "-"),
    Figure("seal_s", "seal --key (process)", "s", "<= 60 s", 60),
    Figure("seal_base_s", "  baseline: plain verify (process)", "s", "-"),
    Figure("open_s", "app: open until the timeline is drawn", "s", "<= 4 s", 4),
    Figure("events_read_s", "  open until every event is read (marks when zoomed in)", "s",
           "-"),
    Figure("frame_median_ms", "app: pan/zoom frame, median of 40", "ms", "<= 50 ms", 50),
    Figure("frame_max_ms", "app: pan/zoom frame, max of 40", "ms", "-"),
    Figure("keystroke_median_ms", "app: stream-filter keystroke to rows shown, median of 8",
           "ms", "<= 100 ms", 100),
    Figure("keystroke_max_ms", "app: stream-filter keystroke to rows shown, max of 8", "ms",
           "-"),
    Figure("keystroke_counted_median_ms",
           "  keystroke to the count of the matches shown, median of 8", "ms", "-"),
    Figure("keystroke_blocked_max_ms", "  the GUI thread held by a keystroke, max of 8", "ms",
           "-"),
    Figure("rss_mb", "app: resident memory with the store open", "MB", "<= 1,200 MB", 1200),
    Figure("peak_rss_mb", "app: peak resident memory", "MB", "-"),
    Figure("store_mb", "store file on disk", "MB", "-"),
)


def measure_size(n: int, runs: int, folder: Path, progress: bool = True) -> dict[str, float]:
    """Every figure of the table at n events; the files it writes are removed before it returns."""
    work = folder / f"n{n}"
    work.mkdir()
    try:
        source = work / "history.jsonl"
        say = print if progress else (lambda *_a, **_k: None)
        say(f"  {n:,}: writing the history ...", flush=True)
        write_history_jsonl(source, n, n // 10)
        say(f"  {n:,}: import ...", flush=True)
        ours, base = bench_import(n, runs, work, source)
        out = {"import_s": n / ours, "import_base_s": n / base}
        path = work / "scale.db"
        with open_store(path, synchronous="NORMAL") as st:
            import_history(st, source)
        source.unlink()
        out["store_mb"] = sum(f.stat().st_size for f in work.glob("scale.db*")) / 1e6
        say(f"  {n:,}: verify ...", flush=True)
        out["verify_s"], out["verify_base_s"] = bench_verify(n, runs, path)
        say(f"  {n:,}: seal ...", flush=True)
        out["seal_s"], out["seal_base_s"] = bench_seal(path, runs, work)
        say(f"  {n:,}: app ...", flush=True)
        app = app_figures(str(path), 1.0)
        out.update({f.key: float(app[f.key]) for f in FIGURES if f.key in app})
        say(f"  {n:,}: " + ", ".join(f"{f.key} {out[f.key]:.2f}" for f in FIGURES), flush=True)
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def print_scale(size: int, runs: int) -> None:
    """Measure at 1M and at ``size``, then print both and the growth of each cost. A size of
    1M or less is compared with a tenth of itself instead (a smoke run of the driver)."""
    base = BASE if size > BASE else max(size // 10, 10)
    free_gb = shutil.disk_usage(tempfile.gettempdir()).free / 1e9
    need_gb = size * 1.2e-6  # fixture (~230 B/event) + two stores and a WAL at once
    if free_gb < need_gb:
        raise SystemExit(f"--scale {size:,}: ~{need_gb:.0f} GB of temporary space needed, "
                         f"{free_gb:.0f} GB free in {tempfile.gettempdir()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        small = measure_size(base, runs, folder)
        large = measure_size(size, 1, folder)
    factor = size / base
    print(f"scale: {base:,} events (median of {runs}) and {size:,} (one run), n/10 streams; "
          f"growth = cost at {size:,} / cost at {base:,} (linear = {factor:.0f}x)")
    head_small, head_large = f"{base / 1_000_000:g}M", f"{size / 1_000_000:g}M"
    print(f"{'figure':<52} {head_small:>11} {head_large:>11} {'growth':>8}  {'shape':<17}  "
          f"target at 10M")
    for f in FIGURES:
        a, b = small[f.key], large[f.key]
        growth = b / a if a > 0 else float("nan")
        shape = "linear or better" if growth <= factor * 1.15 else "worse than linear"
        verdict = "" if f.limit is None or size != TARGET_SIZE else (
            ": met" if b <= f.limit else ": NOT met")
        print(f"{f.label:<52} {a:>8.2f} {f.unit:<2} {b:>8.2f} {f.unit:<2} {growth:>7.1f}x  "
              f"{shape:<17}  {f.target}{verdict}")


def main_scale(size_text: str, runs: int) -> None:
    """``--scale SIZE``: one line on a bad size, else the table."""
    try:
        size = parse_size(size_text)
    except ValueError as e:
        raise SystemExit(f"--scale: {e}") from e
    print_scale(size, runs)
