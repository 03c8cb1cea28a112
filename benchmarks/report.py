"""The report of a big selection, as whole processes: ``esaudit report`` of every event of the
bench's history (190k events in 19k streams) into HTML and into PDF, each beside ``esaudit
verify`` of the same store (the walk every report pays before it writes a line), and the
PDF's page count.

Targets: HTML <= 5 s, PDF <= 15 s, under 100 pages (the PDF lists 2,000 events and 500 heads
and counts the rest; before that it was 840 pages and 51 s).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _esaudit(*args: str) -> tuple[float, str]:
    """Seconds for one whole ``esaudit`` process (start-up included), and its output."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "esaudit", *args], check=True, cwd=ROOT,
                         capture_output=True, text=True).stdout
    return time.perf_counter() - start, out


def bench_report(store: Path, runs: int, folder: Path) -> dict[str, float]:
    """Medians of ``runs``, each report and the baseline taken in turns."""
    db = ["--db", str(store), "--read-only"]
    html, pdf = folder / "report.html", folder / "report.pdf"
    times: dict[str, list[float]] = {"html": [], "pdf": [], "verify": []}
    pages = 0.0
    for _ in range(runs):
        times["html"].append(_esaudit(*db, "report", "--out", str(html))[0])
        seconds, out = _esaudit(*db, "report", "--out", str(pdf), "--json")
        times["pdf"].append(seconds)
        pages = float(json.loads(out)["pages"])
        times["verify"].append(_esaudit(*db, "verify")[0])
    result = {k: statistics.median(v) for k, v in times.items()}
    result["pages"] = pages
    result["html_mb"] = html.stat().st_size / 1e6
    return result


def print_report(n: int, runs: int, store: Path, folder: Path) -> None:
    r = bench_report(store, runs, folder)
    base = r["verify"]
    for label, seconds, target in ((f"report {n:,} events to HTML (process)", r["html"], "5"),
                                   (f"report {n:,} events to PDF (process)", r["pdf"], "15")):
        print(f"{label:<52} {seconds:>12.2f} s {base:>10.2f} s verify{seconds / base:>6.2f}x  "
              f"target <= {target} s")
    print(f"{'report PDF pages; HTML size':<52} {int(r['pages']):>8} pages "
          f"{r['html_mb']:>10.1f} MB  target < 100 pages")
