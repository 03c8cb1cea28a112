"""report, export and import through the installed command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .test_cli import ok, run

UNTIL = "2026-01-01T00:00:00Z"


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    db = tmp_path / "seeded.db"
    ok(db, "seed", "--orders", "12", "--seed", "5", "--days", "3", "--until", UNTIL)
    return db


def _an_order(db: Path) -> tuple[str, int]:
    streams = json.loads(ok(db, "streams", "--type", "Order", "--json"))
    best = max(streams, key=lambda s: s["version"])
    return best["stream_id"], best["version"]


def test_json_report_heads_feed_verify_against(seeded: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    ok(seeded, "report", "--out", str(out))
    report = json.loads(out.read_text("utf-8"))
    streams = json.loads(ok(seeded, "streams", "--json"))
    assert {s["stream_id"]: s["version"] for s in report["streams"]} == \
        {s["stream_id"]: s["version"] for s in streams}
    assert report["summary"]["events"] == len(report["events"]) > 0
    assert report["integrity"]["ok"] is True
    assert run(seeded, "verify", "--against", str(out)).returncode == 0
    oid, version = _an_order(seeded)
    import sqlite3
    with sqlite3.connect(seeded) as conn:  # drop the last event and fix the head: consistent
        conn.execute("DELETE FROM events WHERE stream_id=? AND version=?", (oid, version))
        prev = conn.execute("SELECT hash FROM events WHERE stream_id=? AND version=?",
                            (oid, version - 1)).fetchone()[0]
        conn.execute("UPDATE streams SET version=?, head_hash=? WHERE stream_id=?",
                     (version - 1, prev, oid))
    assert run(seeded, "verify").returncode == 0
    result = run(seeded, "verify", "--against", str(out), "--json")
    assert result.returncode == 1
    assert [(f["kind"], f["stream_id"]) for f in json.loads(result.stdout)["findings"]] == \
        [("truncated", oid)]


def test_html_report_names_every_selected_stream_and_its_head(seeded: Path,
                                                             tmp_path: Path) -> None:
    oid, version = _an_order(seeded)
    product = "product-SKU-1001"
    out = tmp_path / "r.html"
    ok(seeded, "report", "--out", str(out), "--stream", oid, "--stream", product,
       "--versions", f"1:{version}")
    html = out.read_text("utf-8")
    for sid in (oid, product):
        head = json.loads(ok(seeded, "events", sid, "--json"))[-1]["hash"]
        assert sid in html and head in html
    assert "data:image/png;base64," in html and "<img src=\"http" not in html
    assert f"Version 1 &rarr; {version}" in html
    assert "clean" in html


def test_pdf_report_is_a_pdf_with_the_events_in_it(seeded: Path, tmp_path: Path) -> None:
    """Needs pdftotext (poppler-utils, which .ci/run installs) to read the PDF back."""
    oid, _ = _an_order(seeded)
    out = tmp_path / "r.pdf"
    ok(seeded, "report", "--out", str(out), "--stream", oid)
    assert out.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    events = json.loads(ok(seeded, "events", oid, "--json"))
    assert oid in text
    for e in events:
        assert e["type"] in text
    assert events[-1]["hash"][:16] in text


def test_csv_report_is_one_row_per_event(seeded: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    ok(seeded, "report", "--out", str(out), "--type", "Product")
    import csv
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows and {r["stream_type"] for r in rows} == {"Product"}
    assert len(rows) == sum(s["version"] for s in json.loads(
        ok(seeded, "streams", "--type", "Product", "--json")))


def test_report_refuses_an_unknown_extension_without_writing(seeded: Path,
                                                             tmp_path: Path) -> None:
    result = run(seeded, "report", "--out", str(tmp_path / "r.docx"))
    assert result.returncode == 2 and "use .html, .pdf, .csv or .json" in result.stderr
    assert not (tmp_path / "r.docx").exists()


def test_export_import_round_trip_and_clash(seeded: Path, tmp_path: Path) -> None:
    file = tmp_path / "all.jsonl"
    ok(seeded, "export", str(file))
    copy = tmp_path / "copy.db"
    out = json.loads(ok(copy, "import", str(file), "--json"))
    assert out["events"] == len(file.read_text("utf-8").splitlines())
    assert ok(copy, "verify") == ok(seeded, "verify")
    assert json.loads(ok(copy, "audit-projections", "--json"))["ok"] is True
    before = copy.read_bytes()
    again = run(copy, "import", str(file))
    assert again.returncode == 2
    assert again.stderr.startswith(f"esaudit: {file}:1: stream ")
    assert "already exists" in again.stderr
    assert copy.read_bytes() == before


def test_import_is_refused_read_only(seeded: Path, tmp_path: Path) -> None:
    file = tmp_path / "all.jsonl"
    ok(seeded, "export", str(file), "--type", "Product")
    result = run(seeded, "import", str(file), read_only=True)
    assert result.returncode == 2 and "read-only" in result.stderr
