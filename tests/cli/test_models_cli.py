"""Model files and rule checks from the command line: ``--model``, ``check-rules``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import ok, run
from tests.histories import ORDER_PLACED, write_history
from tests.ui.test_models_ui import BANK, _bank_store


@pytest.fixture
def bank(tmp_path: Path) -> tuple[str, Path]:
    model = tmp_path / "bank.toml"
    model.write_text(BANK, "utf-8")
    return _bank_store(tmp_path), model


def test_a_model_file_replays_the_balance_exactly(bank: tuple[str, Path]) -> None:
    store, model = bank
    merged = json.loads(ok(store, "replay", "acct-1", "--version", "4", "--json"))
    assert merged["model"] == "none" and merged["state"]["amount"] == "120.25"
    folded = json.loads(ok(store, "--model", str(model), "replay", "acct-1", "--version", "4",
                           "--json"))
    assert folded["model"] == f"file:{model.resolve()}"
    assert folded["state"]["balance"] == {"_type_": "decimal_str", "_data_": "1379.75"}
    text = ok(store, "--model", str(model), "replay", "acct-1", "--version", "4")
    assert "1379.75" in text and "note:" not in text
    assert "note: no model for BankAccount" in ok(store, "replay", "acct-1")


def test_check_rules_reports_each_violation_and_exits_1(bank: tuple[str, Path]) -> None:
    store, model = bank
    result = run(store, "check-rules", "--model", str(model), "--json")
    assert result.returncode == 1, result.stderr
    found = json.loads(result.stdout)
    assert set(found) == {"ok", "streams_checked", "events_checked", "violations"}
    assert (found["ok"], found["streams_checked"], found["events_checked"]) == (False, 1, 6)
    assert found["violations"] == [{"stream_id": "acct-1", "version": 6, "type": "Withdrawn",
                                    "rule": "from", "status_before": "closed",
                                    "detail": found["violations"][0]["detail"]}]
    clean = run(store, "check-rules", "--model", str(model), "--stream", "nope")
    assert clean.returncode == 2 and "no stream 'nope'" in clean.stderr


def test_without_a_model_nothing_is_checked_and_it_says_so(bank: tuple[str, Path]) -> None:
    store, _ = bank
    result = run(store, "check-rules", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["streams_checked"] == 0
    assert "not checked: 1 BankAccount stream (no model with rules covers them)" in result.stderr


def test_a_malformed_model_file_is_exit_2_with_its_line(bank: tuple[str, Path],
                                                        tmp_path: Path) -> None:
    store, _ = bank
    bad = tmp_path / "bad.toml"
    bad.write_text("[BankAccount]\ninitial = { balance = 0 }\n\n[BankAccount.on.Deposited]\n"
                   "add = { balance = \"$.amount\" }\nfrom = \"open\"\n", "utf-8")
    result = run(store, "--model", str(bad), "replay", "acct-1")
    assert result.returncode == 2
    assert result.stderr.startswith(f"esaudit: {bad.resolve()}:6: ")


def test_an_imported_order_is_checked_against_the_shop_rules(tmp_path: Path) -> None:
    rows = [*ORDER_PLACED, ("OrderShipped", {"carrier": "DHL", "tracking_no": "T1"})]
    history = write_history(tmp_path / "orders.jsonl", "o-1", "Order", rows, month=2)
    store = tmp_path / "shop.db"
    ok(store, "import", str(history))
    replayed = json.loads(ok(store, "replay", "o-1", "--json"))
    assert replayed["model"] == "none" and "status" not in replayed["state"]
    result = run(store, "check-rules", "--json")
    assert result.returncode == 1
    (violation,) = json.loads(result.stdout)["violations"]
    assert (violation["version"], violation["rule"], violation["status_before"]) == \
        (4, "shipped_before_paid", "pending_payment")
    refused = run(store, "order", "ship", "o-1", "--carrier", "UPS", "--tracking", "X")
    assert refused.returncode == 2 and "was imported" in refused.stderr


def test_the_readme_model_example_is_the_one_that_works(bank: tuple[str, Path],
                                                        tmp_path: Path) -> None:
    import re
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    match = re.search(r"```toml\n(.*?)```", readme, re.S)
    assert match, "no ```toml block in README.md"
    model = tmp_path / "readme.toml"
    model.write_text(match.group(1), "utf-8")
    store, _ = bank
    state = json.loads(ok(store, "--model", str(model), "replay", "acct-1", "--version", "5",
                          "--json"))["state"]
    assert state["balance"] == {"_type_": "decimal_str", "_data_": "1379.75"}
    assert (state["status"], state["reason"]) == ("closed", "moved")


def test_a_report_replays_with_the_models_given(bank: tuple[str, Path], tmp_path: Path) -> None:
    store, model = bank
    out = tmp_path / "r.json"
    ok(store, "--model", str(model), "report", "--out", str(out), "--stream", "acct-1",
       "--versions", "1:4")
    text = out.read_text("utf-8")
    assert '"1379.75"' in text and "no model for BankAccount" not in text
    ok(store, "report", "--out", str(out), "--stream", "acct-1", "--versions", "1:4")
    assert "no model for BankAccount" in out.read_text("utf-8")
