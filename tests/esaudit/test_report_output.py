"""What a report says and how it looks: the digest file, the embedded seal, money, plurals,
pages (numbered, headings kept with their content, a big selection capped)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from esaudit.application.report import SHOWN_EVENTS, SHOWN_HEADS, EventLine, build_report
from esaudit.application.seed import seed
from esaudit.application.transfer import Selection, import_history
from esaudit.application.witness import seal_file
from esaudit.application.witness.keys import generate, load_private
from esaudit.application.witness.seal_file import SealRefused
from esaudit.application.witness.sealing import seal
from esaudit.bootstrap import Services, bootstrap
from esaudit.reporting.writers import digest_path_of, shown_payload, shown_value, write_report
from esaudit.wording import counted
from store import NewEvent, open_store

UNTIL = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _app(qapp):  # type: ignore[no-untyped-def]
    """The PDF and the picture need a GUI application: pytest-qt's QApplication, so that
    the app's tests after these find the one they need (not ensure_gui's QGuiApplication)."""
    return qapp


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Services]:
    svc = bootstrap(str(tmp_path / "shop.db"))
    seed(svc.commands, orders=6, seed=3, days=2, until=UNTIL)
    yield svc
    svc.close()


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def _pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    return int(next(line.split()[1] for line in info.splitlines()
                    if line.startswith("Pages:")))


# -- the digest file -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["r.html", "r.pdf", "r.csv", "r.json"])
def test_a_digest_file_beside_every_report_holds_its_sha256_as_sha256sum_writes_it(
        shop: Services, tmp_path: Path, name: str) -> None:
    data = build_report(shop.store, Selection(stream_type="Product"), models=shop.models)
    out = tmp_path / name
    written = write_report(shop.store, data, out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert written.digest == f"sha256:{digest}"
    assert written.digest_path == digest_path_of(out) == tmp_path / f"{name}.sha256"
    assert written.digest_path.read_bytes() == f"{digest}  {name}\n".encode()
    check = subprocess.run(["sha256sum", "-c", f"{name}.sha256"], cwd=tmp_path,
                           capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout == f"{name}: OK\n"
    out.write_bytes(out.read_bytes() + b" ")
    assert subprocess.run(["sha256sum", "-c", f"{name}.sha256"], cwd=tmp_path,
                          capture_output=True).returncode == 1


# -- the seal --------------------------------------------------------------------------------

def test_a_report_with_a_seal_embeds_its_root_size_and_signer_and_checks_it(
        shop: Services, tmp_path: Path) -> None:
    key, _, fingerprint = generate(tmp_path / "k.key")
    sealed = seal(shop.store, tmp_path / "seal.json", key=load_private(key))
    loaded = seal_file.load(tmp_path / "seal.json")
    data = build_report(shop.store, Selection(stream_type="Product"), models=shop.models,
                        seal=loaded)
    assert data.seal is not None and data.seal.check.ok and not data.findings
    out = tmp_path / "r.json"
    write_report(shop.store, data, out)
    report = json.loads(out.read_text("utf-8"))
    embedded = report["seal"]
    assert (embedded["root"], embedded["size"], embedded["signer"]) == \
        (sealed.root, sealed.size, fingerprint)
    assert embedded["signature"] and embedded["check"]["ok"] is True
    assert embedded["check"]["appended"] == 0
    assert report["streams"] and report["heads_digest"] == data.heads_digest

    html = tmp_path / "r.html"
    write_report(shop.store, data, html)
    text = html.read_text("utf-8")
    assert sealed.root in text and fingerprint in text and f"{sealed.size:,} events" in text
    assert "keep the seal <b>" in text and "verify --against" in text
    assert "not this HTML file" not in text


def test_a_seal_of_another_store_is_refused_before_anything_is_read(
        shop: Services, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with open_store(other) as st:
        st.append("acct-1", "Account", [NewEvent("Opened", {"owner": "Ada"})])
        seal(st, tmp_path / "other-seal.json")
    with pytest.raises(SealRefused, match="seals another source"):
        build_report(shop.store, Selection(), models=shop.models,
                     seal=seal_file.load(tmp_path / "other-seal.json"))


def test_a_report_without_a_seal_says_which_file_verify_against_reads(
        shop: Services, tmp_path: Path) -> None:
    data = build_report(shop.store, Selection(stream_type="Product"), models=shop.models)
    out = tmp_path / "audit.html"
    write_report(shop.store, data, out)
    text = out.read_text("utf-8")
    assert "not this HTML file" in text
    assert "report --out audit.json --type Product" in text
    assert data.heads_digest in text and "audit.html.sha256" in text


def test_the_heads_digest_is_the_documented_recipe_over_the_json_reports_heads(
        shop: Services, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    write_report(shop.store, build_report(shop.store, Selection(), models=shop.models), out)
    report = json.loads(out.read_text("utf-8"))
    heads = [[s["stream_id"], s["version"], s["head_hash"]] for s in report["streams"]]
    text = json.dumps(heads, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert report["heads_digest"] == "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# -- money and plurals -----------------------------------------------------------------------

def test_cents_are_money_where_the_built_in_model_knows_them() -> None:
    assert shown_value("total_cents", 119050, "EUR") == "1,190.50 EUR"
    assert shown_value("lines.SKU-1.unit_price_cents", 1290, "USD") == "12.90 USD"
    assert shown_value("price_cents", 8950, "") == "89.50"
    assert shown_value("total_cents", 119050, None) == "119050"  # no model: as stored
    assert shown_value("qty", 3, "EUR") == "3"
    assert shown_value("lines.SKU-1", {"qty": 3, "unit_price_cents": 38900}, "EUR") == \
        "{qty: 3, unit_price_cents: 389.00 EUR}"
    line = EventLine(1, "ord-1", "Order", 2, "LineAdded", "", "", json.dumps(
        {"sku": "SKU-1", "qty": 2, "unit_price_cents": 1290}), "", "EUR")
    assert shown_payload(line) == "sku: SKU-1, qty: 2, unit_price_cents: 12.90 EUR"
    assert shown_payload(EventLine(1, "o", "Order", 3, "OrderPlaced", "", "", "{}", "",
                                   "EUR")) == "-"
    long = EventLine(1, "x", "X", 1, "T", "", "", json.dumps({"text": "y" * 300}), "", None)
    assert len(shown_payload(long)) == 96 and shown_payload(long).endswith("…")


def test_a_seeded_orders_amounts_show_in_its_currency(shop: Services, tmp_path: Path) -> None:
    order = max(shop.queries.orders(), key=lambda o: o.total_cents)
    data = build_report(shop.store, Selection((order.order_id,)), models=shop.models)
    assert [st.currency for st in data.states] == [order.currency]
    assert {e.currency for e in data.events} == {order.currency}
    out = tmp_path / "r.html"
    write_report(shop.store, data, out)
    text = out.read_text("utf-8")
    cents = order.total_cents
    assert f"{cents // 100:,}.{cents % 100:02d} {order.currency}" in text
    assert '"unit_price_cents": ' not in text and f"_cents: {cents}<" not in text


def test_counts_are_singular_for_one() -> None:
    assert counted(1, "stream") == "1 stream"
    assert counted(2, "stream") == "2 streams"
    assert counted(0, "event") == "0 events"
    assert counted(2114, "event") == "2,114 events"
    assert counted(2114, "event", grouped=False) == "2114 events"
    assert counted(1, "entry", "entries") == "1 entry" and counted(3, "entry", "entries") == \
        "3 entries"


def test_a_report_of_one_event_in_one_stream_says_so(tmp_path: Path) -> None:
    with open_store(tmp_path / "one.db") as st:
        st.append("acct-1", "Account", [NewEvent("Opened", {"owner": "Ada"})])
        data = build_report(st, Selection())
        out = tmp_path / "r.html"
        write_report(st, data, out)
    text = out.read_text("utf-8")
    assert "1 event<" in text and "1 stream<" in text and "1 head," in text
    for wrong in ("1 events", "1 streams", "1 heads", "(s)"):
        assert wrong not in text


# -- pages -----------------------------------------------------------------------------------

def test_pdf_pages_are_numbered_x_of_y(shop: Services, tmp_path: Path) -> None:
    out = tmp_path / "r.pdf"
    written = write_report(shop.store, build_report(shop.store, Selection(),
                                                    models=shop.models), out)
    pages = _pages(out)
    assert written.pages == pages > 1
    text = _pdf_text(out)
    for n in range(1, pages + 1):
        assert f"Page {n} of {pages}" in text


def test_a_heading_never_ends_a_page() -> None:
    """A heading whose content would start on the next page moves there with it."""
    from esaudit.reporting.chart import ensure_gui
    from esaudit.reporting.pdf import keep_headings_with_content
    ensure_gui()
    from PySide6.QtCore import QSizeF
    from PySide6.QtGui import QTextDocument

    for filler in range(20, 40):
        doc = QTextDocument()
        doc.setHtml("<p>text</p>" * filler + "<h2>Timeline</h2>"
                    "<table><tr><td style='padding: 60px'>the picture</td></tr></table>"
                    "<h2>States</h2><h3>ord-1</h3><p>one</p><p>two</p><p>three</p>"
                    + "<p>more</p>" * 30)
        doc.setPageSize(QSizeF(800, 600))
        keep_headings_with_content(doc, 600)
        layout = doc.documentLayout()
        block = doc.begin()
        while block.isValid():
            if block.blockFormat().headingLevel():
                top = layout.blockBoundingRect(block).top()
                follower = block.next()
                while follower.isValid() and follower.blockFormat().headingLevel():
                    follower = follower.next()
                below = layout.blockBoundingRect(follower)
                assert top // 600 == (below.top() + 12) // 600, (filler, block.text())
            block = block.next()


def _history(path: Path, events: int, streams: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(events):
            fh.write(json.dumps({
                "stream_id": f"ord-{i % streams:05d}", "stream_type": "Order",
                "version": i // streams + 1, "type": "LineAdded",
                "recorded_at": (start + timedelta(seconds=7 * i)).isoformat(),
                "payload": {"sku": f"SKU-{i % 50}", "qty": 1, "unit_price_cents": 100 + i},
                "metadata": {"actor": "importer"}}) + "\n")


def test_a_big_selection_lists_a_capped_number_of_events_and_heads(tmp_path: Path) -> None:
    """20k events in 2k streams: the PDF lists 2,000 events and 500 heads, counts the rest,
    and stays short; the bench's 190k events give the same page count (see benchmarks/)."""
    pages = {}
    for events, streams in ((2_500, 250), (20_000, 2_000)):
        history, db = tmp_path / f"h{events}.jsonl", tmp_path / f"s{events}.db"
        _history(history, events, streams)
        with open_store(db, synchronous="NORMAL") as st:
            import_history(st, history)
            data = build_report(st, Selection())
            out = tmp_path / f"r{events}.pdf"
            written = write_report(st, data, out)
        assert data.events_total == events and len(data.events) == min(events, SHOWN_EVENTS)
        assert len(data.heads_shown) == min(streams, SHOWN_HEADS)
        pages[events] = written.pages
    assert pages[20_000] < 100
    assert pages[20_000] <= pages[2_500] + 15  # 8x the events, a few pages more (the heads)
    text = " ".join(_pdf_text(tmp_path / "r20000.pdf").split())
    assert "The first 2,000 of 20,000 events are listed" in text
    assert "the other 18,000 are counted by type" in text
    assert "18,000" in text  # the type table's "Not listed" column
    assert text.index("Stream heads The hash") < text.index("Keeping this report")  # drawn
