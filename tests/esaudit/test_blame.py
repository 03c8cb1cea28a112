"""Field provenance: paths, leaf changes, blame, history, what one event changed, and the time
of a version, under each kind of model."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esaudit.application.diff import leaf_changes, leaves
from esaudit.application.investigate.blame import (
    blame,
    changes_of_event,
    history,
    timestamp_of_version,
)
from esaudit.application.jobs import Cancelled
from esaudit.application.paths import PathError, join, parse_path
from esaudit.application.replay import Replayer
from esaudit.bootstrap import Services
from esaudit.domain import commands as c
from esaudit.domain.errors import InvalidCommand, UnknownStream
from store import ANY, NewEvent, open_store

keys = st.one_of(st.text(max_size=8), st.integers(0, 50))


@given(st.lists(keys, min_size=1, max_size=5))
def test_a_written_path_reads_back_as_its_keys(path: list[str | int]) -> None:
    written = ""
    for key in path:
        written = join(written, key)
    assert parse_path(written) == tuple(path)


def test_paths_as_people_type_them() -> None:
    assert parse_path("lines.SKU-1.qty") == ("lines", "SKU-1", "qty")
    assert parse_path('lines["SKU 1"].qty') == ("lines", "SKU 1", "qty")
    assert parse_path("items[0].sku") == ("items", 0, "sku")
    assert parse_path('["a \\"b\\" \\\\ c"]') == ('a "b" \\ c',)
    assert parse_path("a.0") == ("a", "0"), "a digit key is a key, [0] an index"
    for bad in ("", "a..b", "a b", "a[x]", 'a["x', ".a", "a.", "a[-1]"):
        with pytest.raises(PathError):
            parse_path(bad)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["x", "y", ""]),
              st.just({"_type_": "decimal_str", "_data_": "1.50"})),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["a", "b", "c d", "0"]), inner,
                                            max_size=3)),
    max_leaves=12)
states = st.dictionaries(st.sampled_from(["a", "b", "lines", "x.y"]), json_values, max_size=4)


def _reference(old: Any, new: Any) -> list[tuple[str, str, Any, Any]]:
    """What changed, from the two states' leaves alone."""
    a, b = dict(leaves(old)), dict(leaves(new))
    out = [(p, "removed", a[p], None) for p in a if p not in b]
    out += [(p, "added", None, b[p]) for p in b if p not in a]
    out += [(p, "changed", a[p], b[p]) for p in a if p in b
            and not (a[p] == b[p] and type(a[p]) is type(b[p]))]
    return sorted(out, key=lambda t: (t[0], t[1]))


def _changes(old: Any, new: Any) -> list[tuple[str, str, Any, Any]]:
    return sorted(((ch.path, ch.kind, ch.old, ch.new) for ch in leaf_changes(old, new)),
                  key=lambda t: (t[0], t[1]))


@settings(max_examples=300)
@given(states, states, st.data())
def test_leaf_changes_are_the_difference_of_the_leaves(old: dict[str, Any],
                                                       new: dict[str, Any],
                                                       data: st.DataObject) -> None:
    assert _changes(old, new) == _reference(old, new)
    assert _changes(None, new) == _reference(None, new)
    # A fold shares what an event did not touch: change one key of a shallow copy.
    shared = dict(old)
    if old:
        key = data.draw(st.sampled_from(sorted(old)))
        shared[key] = data.draw(json_values)
    assert _changes(old, shared) == _reference(old, shared)


def test_an_object_added_is_named_field_by_field() -> None:
    old = {"lines": {}}
    new = {"lines": {"SKU-1": {"qty": 2, "unit_price_cents": 100}}}
    assert _changes(old, new) == [("lines", "removed", {}, None),
                                  ("lines.SKU-1.qty", "added", None, 2),
                                  ("lines.SKU-1.unit_price_cents", "added", None, 100)]
    typed = {"p": {"_type_": "decimal_str", "_data_": "1"}}
    assert _changes({}, typed) == [("p", "added", None, typed["p"])]


# -- blame under esaudit's own domain ---------------------------------------------------------
@pytest.fixture
def order(services: Services) -> str:
    w = services.writing("test")
    oid = w.commands.execute(c.CreateOrder("ord-b", "Ada"), actor="ada").stream_id
    w.commands.execute(c.AddLine(oid, "SKU-1", 2, 500), actor="bob")
    w.commands.execute(c.AddLine(oid, "SKU-2", 1, 250), actor="bob")
    w.commands.execute(c.RemoveLine(oid, "SKU-2"), actor="cy")
    w.commands.execute(c.PlaceOrder(oid), actor="dee")
    w.commands.execute(c.ReceivePayment(oid, 1000, "card"), actor="eve")
    return oid


def _origins(found: Any) -> dict[str, tuple[Any, int | None, str | None]]:
    return {f.path: (f.value, f.event and f.event.version, f.event and f.event.actor)
            for f in found.fields}


def test_blame_names_the_event_and_actor_that_last_changed_each_field(
        services: Services, order: str) -> None:
    found = blame(services.replayer, order)
    assert (found.version, found.model, found.caveat) == (6, "builtin:Order", "")
    origins = _origins(found)
    assert origins["customer"] == ("Ada", 1, "ada")
    assert origins["lines.SKU-1.qty"] == (2, 2, "bob")
    assert "lines.SKU-2.qty" not in origins, "a removed line is not a field of the state"
    assert origins["total_cents"] == (1000, 4, "cy")
    assert origins["status"] == ("paid", 6, "eve")
    assert origins["paid_cents"] == (1000, 6, "eve")
    assert [f.path for f in found.fields] == sorted(origins)
    row = found.as_json()[0]
    assert list(row) == ["path", "value", "version", "type", "recorded_at", "actor"]
    head = services.replayer.replay(order)
    assert dict(leaves(head.state)) == {f.path: f.value for f in found.fields}


def test_blame_at_an_earlier_version_and_before_the_first_event(services: Services,
                                                                order: str) -> None:
    at3 = _origins(blame(services.replayer, order, 3))
    assert at3["lines.SKU-2.qty"] == (1, 3, "bob") and at3["total_cents"][1:] == (3, "bob")
    assert at3["status"] == ("draft", 1, "ada")
    assert blame(services.replayer, order, 0).fields == ()
    with pytest.raises(InvalidCommand):
        blame(services.replayer, order, 7)
    with pytest.raises(UnknownStream):
        blame(services.replayer, "no-such")


def test_history_lists_every_change_of_a_field(services: Services, order: str) -> None:
    status = history(services.replayer, order, "status")
    assert [(ch.event.version, ch.old, ch.new) for ch in status.changes] == [
        (1, None, "draft"), (5, "draft", "pending_payment"), (6, "pending_payment", "paid")]
    assert list(status.as_json()[0]) == ["version", "type", "recorded_at", "actor", "old",
                                         "new"]
    line = history(services.replayer, order, "lines.SKU-2")
    assert [(ch.event.version, ch.new) for ch in line.changes] == [
        (3, {"qty": 1, "unit_price_cents": 250}), (4, None)]
    assert history(services.replayer, order, "no.such.field").changes == ()
    with pytest.raises(PathError):
        history(services.replayer, order, "lines..x")


def test_what_one_event_changed(services: Services, order: str) -> None:
    removed = changes_of_event(services.replayer, order, 4)
    assert removed.event.type == "LineRemoved" and removed.event.actor == "cy"
    assert [(ch.path, ch.kind, ch.old, ch.new) for ch in removed.changes] == [
        ("lines.SKU-2.qty", "removed", 1, None),
        ("lines.SKU-2.unit_price_cents", "removed", 250, None),
        ("total_cents", "changed", 1250, 1000)]
    first = changes_of_event(services.replayer, order, 1)
    assert {ch.kind for ch in first.changes} == {"added"}
    assert removed.as_json()["changes"][0] == {"path": "lines.SKU-2.qty", "kind": "removed",
                                               "old": 1, "new": None}
    with pytest.raises(InvalidCommand):
        changes_of_event(services.replayer, order, 0)


def test_the_time_of_a_version(services: Services, order: str) -> None:
    events = services.store.read_stream(order)
    assert timestamp_of_version(services.store, order, 0) is None
    assert timestamp_of_version(services.store, order, 3) == events[2].recorded_at
    with pytest.raises(InvalidCommand):
        timestamp_of_version(services.store, order, 7)


# -- other models -----------------------------------------------------------------------------
MODEL = """\
[Account]
initial = { balance = 0, status = "open", owner = "nobody" }
[Account.on.Opened]
set = { owner = "$.owner" }
[Account.on.Deposited]
add = { balance = "$.amount" }
[Account.on.Closed]
set = { status = "closed" }
"""


def _accounts(path: Path) -> None:
    with open_store(path) as st:
        st.append("acc-1", "Account", [
            NewEvent("Opened", {"owner": "Ada"}, {"actor": "teller"}),
            NewEvent("Deposited", {"amount": 5}, {"actor": "atm"}),
            NewEvent("Noted", {"note": {"text": "hi", "tags": ["a"]}}, {"userId": "u-7"}),
            NewEvent("Deposited", {"amount": 7}, {}),
        ], ANY)


def test_blame_with_a_model_file_keeps_the_initial_fields_apart(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text(MODEL)
    _accounts(tmp_path / "s.db")
    with open_store(tmp_path / "s.db", read_only=True) as st:
        replayer = Replayer(st)
        replayer.models.load_file(tmp_path / "m.toml")
        found = blame(replayer, "acc-1")
        assert found.model.startswith("file:")
        assert _origins(found) == {"balance": (12, 4, None), "owner": ("Ada", 1, "teller"),
                                   "status": ("open", None, None)}
        assert found.origin_of("status") is not None
        assert found.origin_of("status").as_json() == {  # type: ignore[union-attr]
            "path": "status", "value": "open", "version": None, "type": None,
            "recorded_at": None, "actor": None}
        assert [ch.event.version for ch in history(replayer, "acc-1", "balance").changes] \
            == [2, 4]


def test_without_a_model_each_payload_field_is_blamed(tmp_path: Path) -> None:
    _accounts(tmp_path / "s.db")
    with open_store(tmp_path / "s.db", read_only=True) as st:
        found = blame(Replayer(st), "acc-1")
        assert found.model == "none" and "payload fields merged" in found.caveat
        assert _origins(found) == {"amount": (7, 4, None), "owner": ("Ada", 1, "teller"),
                                   "note.text": ("hi", 3, "u-7"),
                                   "note.tags[0]": ("a", 3, "u-7")}


def test_blame_of_a_long_stream_is_one_fold(tmp_path: Path) -> None:
    """Every fold step and every leaf change is counted once: blame on 2,000 events agrees
    with replaying each version from scratch."""
    path = tmp_path / "s.db"
    with open_store(path) as store:
        store.append("o", "Order", [NewEvent("OrderCreated", {
            "order_id": "o", "customer": "Ada", "currency": "EUR"})], 0)
        store.append("o", "Order", [NewEvent("LineAdded", {
            "sku": f"SKU-{i % 7}", "qty": 1, "unit_price_cents": 100 + i}) for i in range(1999)],
            ANY)
        replayer = Replayer(store)
        found = _origins(blame(replayer, "o"))
        assert found["lines.SKU-3.unit_price_cents"] == (1998 + 100, 2000, None)
        assert found["total_cents"][1] == 2000
        state = copy.deepcopy(replayer.replay("o", 1500, use_snapshots=False).state)
        at = _origins(blame(replayer, "o", 1500))
        assert {p: v for p, (v, _, _) in at.items()} == dict(leaves(state))


def test_a_long_blame_reports_progress_and_can_be_cancelled(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with open_store(path) as store:
        store.append("n", "Note", [NewEvent("Noted", {"i": i}) for i in range(2500)], ANY)
        seen: list[tuple[int, int]] = []
        blame(Replayer(store), "n", progress=lambda done, total: seen.append((done, total)))
        assert seen == [(1000, 2500), (2000, 2500), (2500, 2500)]
        with pytest.raises(Cancelled):
            history(Replayer(store), "n", "i", cancelled=lambda: True)
