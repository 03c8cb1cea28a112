"""The app's figures on a big store, measured in a process of their own (so the resident memory
is the app's, not the benchmark's): ``python -m benchmarks.app STORE`` prints one JSON object.

Runs the real MainWindow on Qt's offscreen platform; every figure includes painting (the
widget is grabbed, which renders it), not only the model work.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory in MB, from /proc."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _until(app: Any, condition: Callable[[], bool], step_s: float) -> None:
    """Run the event loop until ``condition`` holds, looking every ``step_s``."""
    while not condition():
        app.processEvents()
        time.sleep(step_s)


def measure(store: str, idle_s: float = 30.0) -> dict[str, float | str]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer

    from ui.app import make_app
    from ui.main_window import MainWindow

    app = make_app()
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings)
    window.resize(1440, 900)
    window.show()
    app.processEvents()
    done: list[float] = []
    window.loaded.connect(lambda: done.append(time.perf_counter()))
    window.failed.connect(lambda message: sys.exit(f"cannot open {store}: {message}"))
    start = time.perf_counter()
    window.open_target(store, read_only=True)
    _until(app, lambda: bool(done), 0.001)
    window.grab()  # the first full paint, timeline included
    opened = time.perf_counter() - start
    drawn_from = "counts" if window.timeline.overview is not None else "events"
    # A big store's timeline is drawn from its per-minute counts first: the figures below
    # are taken once its events are read too, as on every other store.
    _until(app, lambda: window.timeline.overview is None, 0.001)
    events_read = time.perf_counter() - start

    timeline, view = window.timeline, window.timeline.plot.getPlotItem().getViewBox()
    frames = []
    for step in range(40):
        (x0, x1), _ = view.viewRange()
        width = x1 - x0
        if step < 20:  # zoom in towards the middle, then pan at that zoom
            x0, x1 = x0 + width * 0.15, x1 - width * 0.15
        else:
            x0, x1 = x0 + width * 0.1, x1 + width * 0.1
        begin = time.perf_counter()
        view.setXRange(x0, x1, padding=0)
        timeline.update_view()
        timeline.plot.grab()
        frames.append(time.perf_counter() - begin)

    panel = window.streams
    debounce = panel.filter.findChild(QTimer, "streamFilterDebounce")
    keystrokes, counted, blocked = [], [], []
    for text in ("o", "or", "ord", "ord-0", "ord-00", "ord-000", "ord-0001", "9"):
        begin = time.perf_counter()
        panel.filter.setText(text)
        # The typing pause is a wait, not work: end it at once and measure the work.
        debounce.stop()
        debounce.timeout.emit()
        blocked.append(time.perf_counter() - begin)  # the GUI thread's own share
        # the list is read on the pool: until it is shown
        _until(app, lambda: not panel.model.reading, 0.0005)
        panel.table.grab()
        keystrokes.append(time.perf_counter() - begin)
        # the count of every match follows on a thread of its own
        _until(app, lambda: not panel.model.counting, 0.0005)
        counted.append(time.perf_counter() - begin)
    matched = panel.count.text()  # what the last keystroke filtered: proof the work ran
    rss, peak = _rss_mb()
    events = timeline.point_count()

    # Following an idle store: the real event loop for idle_s, the check every second on the
    # pool. process_time() counts every thread of the process (the pool's included).
    assert window.follow.following, "View > Follow new events is on by default"
    polls = window.follow.polls
    QTimer.singleShot(int(idle_s * 1000), app.quit)
    cpu = time.process_time()
    app.exec()
    idle_cpu = (time.process_time() - cpu) / idle_s * 100
    polls = window.follow.polls - polls
    window.close()
    return {"open_s": opened, "drawn_from": drawn_from, "events_read_s": events_read,
            "frame_median_ms": statistics.median(frames) * 1000,
            "frame_max_ms": max(frames) * 1000,
            "keystroke_median_ms": statistics.median(keystrokes) * 1000,
            "keystroke_max_ms": max(keystrokes) * 1000,
            "keystroke_counted_median_ms": statistics.median(counted) * 1000,
            "keystroke_counted_max_ms": max(counted) * 1000,
            "keystroke_blocked_max_ms": max(blocked) * 1000, "rss_mb": rss, "peak_rss_mb": peak,
            "events": events, "last_filter_count": matched,
            "follow_idle_cpu_pct": idle_cpu, "follow_polls": polls}


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], *(float(a) for a in sys.argv[2:3]))))
