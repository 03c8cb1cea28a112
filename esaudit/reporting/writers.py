"""Write a report in the format its file name asks for; the file appears only when complete,
and its SHA-256 beside it, in ``REPORT.sha256`` as ``sha256sum`` writes it
(``<hex>  <file name>``), so ``sha256sum -c REPORT.sha256`` checks it."""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined

from store import EventRow, Source
from store.exporters import write_csv
from store.hashing import iso_from_us

from ..application.report import EventLine, ReportData
from ..application.transfer import Selection, atomic_output, atomic_path
from ..application.values import shown, typed_value
from ..domain.money import format_money
from ..output import flatten, json_default, plain
from ..wording import counted
from .chart import render_timeline

FORMATS = (".html", ".htm", ".pdf", ".csv", ".json")
CHART_RESOURCE = "esaudit-timeline.png"
PAYLOAD_CHARS = 96
"""A listed event's payload is cut to this many characters (one line of the PDF's table)."""


@dataclass(frozen=True, slots=True)
class ReportWritten:
    """What ``write_report`` wrote: the report, its digest file, the digest, its pages."""

    path: Path
    digest_path: Path
    digest: str
    """``sha256:<hex>`` of the report's bytes."""
    pages: int | None = None
    """The PDF's page count (None for other formats)."""


def check_report_path(path: Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot tell the report format from {Path(path).name!r}: "
                         "use .html, .pdf, .csv or .json")
    if not Path(path).parent.is_dir():
        raise ValueError(f"folder {Path(path).parent} does not exist")
    return suffix


def digest_path_of(path: Path) -> Path:
    """Where a report's digest file goes: ``r.pdf`` -> ``r.pdf.sha256``."""
    return Path(path).with_name(Path(path).name + ".sha256")


def _shown_plain(value: Any) -> str:
    """A value as one line, typed values with their type (``10.50 (Decimal)``)."""
    return plain(shown(value))


def shown_value(path: str, value: Any, currency: str | None) -> str:
    """A state's or payload's value as the report shows it: where the stream's model knows
    money (``currency`` not None), a ``_cents`` field as an amount (``12.50 EUR``), also
    inside an object (``{qty: 3, unit_price_cents: 389.00 EUR}``); anything else as it is."""
    if currency is None:
        return _shown_plain(value)
    if type(value) is int and path.rsplit(".", 1)[-1].endswith("_cents"):
        return format_money(value, currency)
    if isinstance(value, dict) and value and typed_value(value) is None:
        return "{" + _fields(value, currency) + "}"
    return _shown_plain(value)


def _fields(payload: dict[str, Any], currency: str | None) -> str:
    return ", ".join(f"{k}: {shown_value(str(k), v, currency)}" for k, v in payload.items())


def shown_payload(event: EventLine, limit: int = PAYLOAD_CHARS) -> str:
    """A listed event's payload on one line, ``field: value, ...`` (amounts as money where
    the model knows them), cut to ``limit`` characters; ``-`` for no fields."""
    try:
        payload = json.loads(event.payload)
    except ValueError:
        payload = event.payload
    if isinstance(payload, dict):
        text = _fields(payload, event.currency) or "-"
    else:
        text = _shown_plain(payload)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _instant(stamp: str | None) -> str:
    """``2026-10-02T00:00:00.000000Z`` as ``2026-10-02 00:00:00.000000 UTC``."""
    if not stamp:
        return "-"
    return stamp.replace("T", " ").removesuffix("Z") + " UTC"


def _selection_args(selection: Selection) -> list[str]:
    args: list[str] = []
    for sid in selection.stream_ids:
        args += ["--stream", sid]
    if selection.stream_type:
        args += ["--type", selection.stream_type]
    if selection.since:
        args += ["--from", selection.since.isoformat()]
    if selection.until:
        args += ["--to", selection.until.isoformat()]
    return args


def render_html(data: ReportData, chart_src: str, chart_width: int = 1000,
                name: str = "REPORT.html", paged: bool = False) -> str:
    """The report as HTML (``name``: the report's file name, which its text refers to;
    ``paged``: for the PDF, whose pages have margins of their own)."""
    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["counted"] = counted
    template = env.from_string((files("resources") / "report.html.j2").read_text("utf-8"))
    db = ["esaudit", "--db", data.source_target or data.store_label]
    stem = Path(name).stem
    later_seal = [*db, "verify", "--against", data.seal.file] if data.seal else []
    return template.render(
        r=data, chart_src=chart_src, chart_width=chart_width, paged=paged, show=_shown_plain,
        flat=flatten, value=shown_value, payload=shown_payload, instant=_instant, name=name,
        kind=Path(name).suffix.lstrip(".").upper(),
        later_seal=shlex.join(later_seal),
        json_command=shlex.join([*db, "report", "--out", f"{stem}.json",
                                 *_selection_args(data.selection)]),
        seal_command=shlex.join([*db, "seal", "--out", "SEAL.json", "--key", "KEY"]),
        generated=data.generated_at.strftime("%Y-%m-%d %H:%M:%S"))


def write_report(store: Source, data: ReportData, path: Path,
                 cancelled: Callable[[], bool] | None = None) -> ReportWritten:
    """Write the report, then its digest file beside it."""
    path = Path(path)
    suffix = check_report_path(path)
    pages = None
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
            pages = write_pdf(render_html(data, CHART_RESOURCE, 1000, path.name, paged=True),
                              {CHART_RESOURCE: png}, path,
                              f"esaudit audit report · {data.store_label} · generated "
                              f"{data.generated_at:%Y-%m-%d %H:%M:%S} UTC")
        else:
            src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            with atomic_output(path) as fh:
                fh.write(render_html(data, src, name=path.name))
    digest = write_digest(path)
    return ReportWritten(path, digest_path_of(path), digest, pages)


def write_digest(path: Path) -> str:
    """Write ``path``'s SHA-256 beside it (``sha256sum``'s line); returns ``sha256:<hex>``."""
    with open(path, "rb") as fh:
        hexdigest = hashlib.file_digest(fh, "sha256").hexdigest()
    name = Path(path).name
    line = f"{hexdigest}  {name}\n"
    if "\\" in name or "\n" in name:  # a name sha256sum escapes: so does this line
        escaped = name.replace("\\", "\\\\").replace("\n", "\\n")
        line = f"\\{hexdigest}  {escaped}\n"
    with atomic_path(digest_path_of(path)) as tmp:
        tmp.write_bytes(line.encode("utf-8", "surrogateescape"))
    return "sha256:" + hexdigest


def _event_json(row: EventRow) -> dict[str, Any]:
    pos, sid, stype, version, type_, at, payload, meta, digest = row
    return {"position": pos, "stream_id": sid, "stream_type": stype, "version": version,
            "type": type_, "recorded_at": iso_from_us(at), "payload": json.loads(payload),
            "metadata": json.loads(meta), "hash": digest}
