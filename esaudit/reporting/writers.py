"""Write a report in the format its file name asks for; the file appears only when complete."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined

from store import EventRow, Source
from store.exporters import write_csv
from store.hashing import iso_from_us

from ..application.report import ReportData
from ..application.transfer import atomic_output
from ..application.values import shown
from ..output import flatten, json_default, plain
from .chart import render_timeline

FORMATS = (".html", ".htm", ".pdf", ".csv", ".json")
CHART_RESOURCE = "esaudit-timeline.png"


def check_report_path(path: Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot tell the report format from {Path(path).name!r}: "
                         "use .html, .pdf, .csv or .json")
    if not Path(path).parent.is_dir():
        raise ValueError(f"folder {Path(path).parent} does not exist")
    return suffix


def _shown_plain(value: Any) -> str:
    """A value as one line, typed values with their type (``10.50 (Decimal)``)."""
    return plain(shown(value))


def render_html(data: ReportData, chart_src: str, chart_width: int = 1000) -> str:
    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True)
    template = env.from_string((files("resources") / "report.html.j2").read_text("utf-8"))
    return template.render(r=data, chart_src=chart_src, chart_width=chart_width, show=_shown_plain,
                           flat=flatten,
                           generated=data.generated_at.strftime("%Y-%m-%d %H:%M:%S"))


def write_report(store: Source, data: ReportData, path: Path,
                 cancelled: Callable[[], bool] | None = None) -> None:
    suffix = check_report_path(path)
    if suffix == ".csv":
        with atomic_output(path) as fh:
            write_csv(data.selection.raw_rows(store, cancelled), fh)
    elif suffix == ".json":
        events = [_event_json(row) for row in data.selection.raw_rows(store, cancelled)]
        with atomic_output(path) as fh:
            json.dump(data.as_json(events), fh, indent=1, ensure_ascii=False,
                      default=json_default)
            fh.write("\n")
    else:
        png = render_timeline(data.chart_times, data.chart_lanes, data.chart_kinds)
        if suffix == ".pdf":
            from .pdf import write_pdf
            write_pdf(render_html(data, CHART_RESOURCE, 1000), {CHART_RESOURCE: png}, path)
        else:
            src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            with atomic_output(path) as fh:
                fh.write(render_html(data, src))


def _event_json(row: EventRow) -> dict[str, Any]:
    pos, sid, stype, version, type_, at, payload, meta, digest = row
    return {"position": pos, "stream_id": sid, "stream_type": stype, "version": version,
            "type": type_, "recorded_at": iso_from_us(at), "payload": json.loads(payload),
            "metadata": json.loads(meta), "hash": digest}
