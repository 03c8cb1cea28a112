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


SUMMARY_KEYS = ["path", "format", "events", "streams", "digest"]


def _sha256(path: Path) -> str:
    import hashlib
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name, fmt", [("r.html", "html"), ("r.htm", "html"),
                                       ("r.pdf", "pdf"), ("r.csv", "csv"),
                                       ("r.json", "json")])
def test_report_json_summarises_the_written_file(seeded: Path, tmp_path: Path, name: str,
                                                 fmt: str) -> None:
    out = tmp_path / name
    summary = json.loads(ok(seeded, "report", "--out", str(out), "--type", "Product",
                            "--json"))
    products = json.loads(ok(seeded, "streams", "--type", "Product", "--json"))
    added = ["digest_file", "heads_digest", *(["pages"] if fmt == "pdf" else [])]
    assert list(summary) == [*SUMMARY_KEYS, "integrity", *added]
    assert {k: summary[k] for k in [*SUMMARY_KEYS, "integrity"]} == {
        "path": str(out), "format": fmt, "events": sum(s["version"] for s in products),
        "streams": len(products), "digest": _sha256(out), "integrity": "clean"}
    assert summary["events"] > 0
    assert summary["digest_file"] == f"{out}.sha256"
    assert summary["heads_digest"].startswith("sha256:")


def test_report_json_counts_integrity_findings(seeded: Path, tmp_path: Path) -> None:
    oid, _ = _an_order(seeded)
    import sqlite3
    with sqlite3.connect(seeded) as conn:  # an edited payload, hash left as it was
        conn.execute("UPDATE events SET payload=? WHERE stream_id=? AND version=1",
                     ('{"edited":true}', oid))
    findings = json.loads(run(seeded, "verify", "--json").stdout)["findings"]
    assert len(findings) >= 1
    out = tmp_path / "r.json"
    summary = json.loads(ok(seeded, "report", "--out", str(out), "--json"))
    assert summary["integrity"] == len(findings)
    assert summary["digest"] == _sha256(out)
    assert summary["events"] == len(json.loads(out.read_text("utf-8"))["events"])


def test_report_without_json_keeps_its_line(seeded: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    line = ok(seeded, "report", "--out", str(out), "--type", "Product")
    products = json.loads(ok(seeded, "streams", "--type", "Product", "--json"))
    assert line == (f"wrote {out}: {sum(s['version'] for s in products)} events in "
                    f"{len(products)} streams, clean\n")


@pytest.mark.parametrize("name, fmt", [("o.jsonl", "jsonl"), ("o.ndjson", "jsonl"),
                                       ("o.csv", "csv")])
def test_export_json_summarises_the_written_file(seeded: Path, tmp_path: Path, name: str,
                                                 fmt: str) -> None:
    file = tmp_path / name
    summary = json.loads(ok(seeded, "export", str(file), "--type", "Order", "--json"))
    orders = json.loads(ok(seeded, "streams", "--type", "Order", "--json"))
    assert list(summary) == SUMMARY_KEYS
    assert summary == {"path": str(file), "format": fmt,
                       "events": sum(s["version"] for s in orders), "streams": len(orders),
                       "digest": _sha256(file)}
    lines = file.read_text("utf-8").splitlines()
    assert len(lines) == summary["events"] + (fmt == "csv")  # CSV: one header row
    assert ok(seeded, "export", str(file), "--type", "Order") == \
        f"exported {summary['events']} events to {file}\n"


def test_export_json_counts_only_the_selected_streams(seeded: Path, tmp_path: Path) -> None:
    oid, version = _an_order(seeded)
    file = tmp_path / "one.jsonl"
    summary = json.loads(ok(seeded, "export", str(file), "--stream", oid,
                            "--stream", "product-SKU-1001", "--json"))
    sku = json.loads(ok(seeded, "events", "product-SKU-1001", "--json"))
    assert (summary["events"], summary["streams"]) == (version + len(sku), 2)
    assert summary["digest"] == _sha256(file)


def test_report_embeds_a_seal_and_refuses_another_stores_seal(seeded: Path,
                                                             tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    ok(seeded, "keygen", "--out", str(key))
    seal = tmp_path / "seal.json"
    sealed = json.loads(ok(seeded, "seal", "--out", str(seal), "--key", str(key), "--json"))
    out = tmp_path / "r.pdf"
    summary = json.loads(ok(seeded, "report", "--out", str(out), "--seal", str(seal),
                            "--json"))
    assert summary["seal_root"] == sealed["root"] and summary["integrity"] == "clean"
    text = " ".join(subprocess.run(["pdftotext", str(out), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    assert sealed["root"] in text and f"keep the seal {seal}" in text

    other = tmp_path / "other.db"
    ok(other, "seed", "--orders", "2", "--seed", "9", "--days", "1", "--until", UNTIL)
    theirs = tmp_path / "theirs.json"
    ok(other, "seal", "--out", str(theirs))
    refused = tmp_path / "refused.html"
    result = run(seeded, "report", "--out", str(refused), "--seal", str(theirs))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "seals another source" in result.stderr
    assert not refused.exists() and not Path(f"{refused}.sha256").exists()
    forged = json.loads(seal.read_text("utf-8"))
    forged["sealed_at"] = "2020-01-01T00:00:00.000000Z"
    seal.write_text(json.dumps(forged), "utf-8")
    result = run(seeded, "report", "--out", str(refused), "--seal", str(seal))
    assert result.returncode == 2 and "signature does not hold" in result.stderr
