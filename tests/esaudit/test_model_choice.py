"""Which model folds which stream: the shop's rules only for orders esaudit's commands wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from esaudit.application.audit import audit_projections
from esaudit.application.transfer import export_history, import_history
from esaudit.bootstrap import Services, bootstrap
from esaudit.domain import commands as c
from esaudit.domain.errors import InvalidCommand
from tests.esaudit.test_application import walk


@pytest.fixture
def imported_order(services: Services, tmp_path: Path) -> str:
    """An ``Order`` stream in ``services``' store that an import copied in (another
    esaudit store's order, exported), next to ``ord-1`` written by its own commands."""
    other = bootstrap(str(tmp_path / "other.db"), actor="elsewhere")
    try:
        walk(other, "ord-x")
        export_history(other.store, tmp_path / "orders.jsonl")
    finally:
        other.close()
    lines = [json.loads(line) for line in
             (tmp_path / "orders.jsonl").read_text("utf-8").splitlines()]
    kept = [line for line in lines if line["stream_id"] == "ord-x"]
    (tmp_path / "orders.jsonl").write_text("".join(json.dumps(line) + "\n" for line in kept),
                                           "utf-8")
    walk(services)
    import_history(services.writing("import").store, tmp_path / "orders.jsonl")
    services.projector.catch_up()  # type: ignore[union-attr]
    return "ord-x"


def test_the_shop_folds_only_orders_its_commands_wrote(services: Services,
                                                       imported_order: str) -> None:
    own = services.replayer.replay("ord-1")
    assert own.model == "builtin:Order" and own.caveat == ""
    assert own.state is not None and own.state["status"] == "shipped"
    copied = services.replayer.replay(imported_order)
    assert copied.model == "none"
    assert copied.caveat.startswith("Order stream imported: esaudit's shop rules replay only")
    assert copied.state is not None and "status" not in copied.state  # merged fields only
    assert copied.as_json()["model"] == "none"


def test_order_commands_never_append_to_an_imported_order(services: Services,
                                                          imported_order: str) -> None:
    head = services.store.stream(imported_order)
    with pytest.raises(InvalidCommand, match="was imported: esaudit's commands append only"):
        services.commands.execute(c.DeliverOrder(imported_order))  # type: ignore[union-attr]
    assert services.store.stream(imported_order) == head


def test_read_models_hold_no_imported_order_and_the_audit_names_what_it_skipped(
        services: Services, imported_order: str) -> None:
    assert {o.order_id for o in services.queries.orders()} == {"ord-1"}
    services.projector.rebuild()  # type: ignore[union-attr]
    assert {o.order_id for o in services.queries.orders()} == {"ord-1"}
    audit = audit_projections(services.comparer)
    assert audit.ok and audit.orders_checked == 1
    skipped = {n.stream_type: (n.streams, n.reason) for n in audit.not_audited}
    assert skipped["Order"] == (1, "imported: no read model of esaudit's describes them")
    assert skipped["Product"][0] == 1
    assert audit.as_json()["not_audited"][0]["stream_type"] == "Order"


def test_the_shop_rules_check_orders_and_products_whoever_wrote_them(
        services: Services, imported_order: str) -> None:
    from esaudit.application.rule_check import check_rules
    check = check_rules(services.models)
    assert check.ok and check.not_checked == []
    assert check.streams_checked == 3  # ord-1, the imported ord-x, product-A
