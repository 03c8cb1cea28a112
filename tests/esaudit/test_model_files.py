"""Model files: parsing, every operation and check of the fold, and the errors a bad file gives."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from esaudit.domain.errors import DomainError
from esaudit.domain.model_file import ModelFileError, load_model_file, parse_model_text
from esaudit.domain.model_fold import TypeModel, parse_path
from esaudit.domain.rules import RuleViolation

BANK = """\
[BankAccount]                      # a stream type; or  match = "account-*"  over stream ids
initial = { balance = 0, status = "open" }
status = "status"                  # the field the state machine reads
[BankAccount.on.Deposited]
add = { balance = "$.amount" }     # "$.path" reads the event's payload; anything else is literal
[BankAccount.on.Withdrawn]
subtract = { balance = "$.amount" }
from = ["open"]                    # allowed only in these states, else a rule violation
require = ["$.amount"]
[BankAccount.on.Closed]
set = { status = "closed", reason = "$.reason" }
from = ["open"]
"""

Events = list[tuple[int, str, dict[str, Any]]]


def one(text: str, label: str = "m.toml") -> TypeModel:
    [model] = parse_model_text(text, label)
    return model


def history(*events: tuple[str, dict[str, Any]]) -> Events:
    return [(version, type_, payload) for version, (type_, payload) in enumerate(events, 1)]


def rules(violations: list[RuleViolation]) -> list[tuple[int, str]]:
    return [(v.version, v.rule) for v in violations]


def simple(event_table: str, initial: str = "{}", extra: str = "") -> TypeModel:
    return one(f"[T]\ninitial = {initial}\n{extra}\n[T.on.E]\n{event_table}\n")


# --- the bank example ------------------------------------------------------------------------

def test_bank_deposits_and_a_withdrawal_fold_to_an_exact_decimal_balance() -> None:
    bank = one(BANK, "/abs/bank.toml")
    state = bank.fold(history(("Deposited", {"amount": 500}), ("Deposited", {"amount": 1000}),
                              ("Withdrawn", {"amount": "120.25"})))
    assert state == {"balance": Decimal("1379.75"), "status": "open"}
    assert isinstance(state["balance"], Decimal)
    assert bank.name == "file:/abs/bank.toml"
    assert bank.key == "BankAccount"


def test_bank_ints_stay_ints() -> None:
    state = one(BANK).fold(history(("Deposited", {"amount": 500}), ("Withdrawn", {"amount": 20})))
    assert state is not None
    assert state["balance"] == 480
    assert type(state["balance"]) is int


def test_bank_withdrawal_after_closing_breaks_from_with_the_status_before() -> None:
    events = history(("Deposited", {"amount": 500}), ("Closed", {"reason": "moved"}),
                     ("Withdrawn", {"amount": 10}))
    bank = one(BANK)
    [violation] = bank.check("acc-1", events)
    assert violation == RuleViolation("acc-1", 3, "Withdrawn", "from", "closed", violation.detail)
    assert "open" in violation.detail and "closed" in violation.detail
    # the fold still applies what history says
    assert bank.fold(events) == {"balance": 490, "status": "closed", "reason": "moved"}


def test_bank_withdrawal_without_amount_breaks_require_once() -> None:
    events = history(("Deposited", {"amount": 5}), ("Withdrawn", {"note": "x"}))
    bank = one(BANK)
    [violation] = bank.check("acc-1", events)
    assert (violation.version, violation.type, violation.rule, violation.status_before) == (
        2, "Withdrawn", "require", "open")
    assert "$.amount" in violation.detail
    assert bank.fold(events) == {"balance": 5, "status": "open"}


def test_a_null_required_value_breaks_require() -> None:
    [violation] = one(BANK).check("a", history(("Withdrawn", {"amount": None})))
    assert violation.rule == "require" and "null" in violation.detail


def test_violation_json_has_exactly_the_public_keys() -> None:
    closed = ("Closed", {"reason": "r"})
    [violation] = one(BANK).check("a", history(closed, closed))
    assert violation.as_json() == {"stream_id": "a", "version": 2, "type": "Closed",
                                   "rule": "from", "status_before": "closed",
                                   "detail": violation.detail}


def test_a_missing_set_operand_leaves_the_field_and_is_reported() -> None:
    bank = one(BANK)
    events = history(("Closed", {}))
    assert bank.fold(events) == {"balance": 0, "status": "closed"}
    [violation] = bank.check("a", events)
    assert violation.rule == "missing_operand" and "$.reason" in violation.detail
    assert violation.status_before == "open"


# --- operations ------------------------------------------------------------------------------

def test_set_literals_paths_whole_payload_and_dotted_targets() -> None:
    model = simple('set = { kind = "fixed", who = "$.user.name", first = "$.lines[0].sku", '
                   'last = "$.lines[-1].sku", all = "$", "totals.net" = "$.net", '
                   'cost = "$notapath", n = 3, flag = true }')
    payload = {"user": {"name": "ada"}, "lines": [{"sku": "A"}, {"sku": "B"}], "net": 7}
    state = model.fold(history(("E", payload)))
    assert state == {"kind": "fixed", "who": "ada", "first": "A", "last": "B", "all": payload,
                     "totals": {"net": 7}, "cost": "$notapath", "n": 3, "flag": True}


def test_dotted_target_keeps_its_siblings() -> None:
    model = simple('set = { "totals.net" = "$.net" }', initial="{ totals = { gross = 9 } }")
    assert model.fold(history(("E", {"net": 1}))) == {"totals": {"gross": 9, "net": 1}}


def test_add_and_subtract_numbers_numeric_strings_floats_and_missing_fields() -> None:
    model = simple('add = { a = "$.x", b = "$.y", c = 1, "n.m" = "2.5" }\n'
                   'subtract = { d = "$.x", e = 0.1 }', initial="{ a = 1, b = 1, e = 1 }")
    state = model.fold(history(("E", {"x": 2, "y": 0.1}), ("E", {"x": "0.2", "y": 0.2})))
    assert state == {"a": Decimal("3.2"), "b": Decimal("1.3"), "c": 2,
                     "n": {"m": Decimal("5.0")}, "d": Decimal("-2.2"), "e": Decimal("0.8")}
    assert type(state["c"]) is int
    assert not any(isinstance(v, float) for v in state.values())


def test_arithmetic_is_exact_beyond_float_precision() -> None:
    model = simple('add = { a = "$.x" }')
    state = model.fold(history(("E", {"x": "0.1"}), ("E", {"x": "0.2"}),
                               ("E", {"x": 10**30}), ("E", {"x": "1e-30"})))
    assert state == {"a": Decimal("1000000000000000000000000000000.300000000000000000000000000001")}


@pytest.mark.parametrize("bad", ["abc", None, True, [1], {"a": 1}, "1,5", "NaN", float("nan")])
def test_a_non_numeric_operand_is_not_a_number_and_leaves_the_field(bad: Any) -> None:
    model = simple('add = { a = "$.x" }', initial="{ a = 5 }")
    events = history(("E", {"x": bad}))
    assert model.fold(events) == {"a": 5}
    [violation] = model.check("s", events)
    assert violation.rule == "not_a_number"


def test_a_non_numeric_field_is_not_a_number() -> None:
    model = simple('subtract = { a = 1 }', initial='{ a = "lots" }')
    [violation] = model.check("s", history(("E", {})))
    assert violation.rule == "not_a_number" and "'lots'" in violation.detail


def test_append_creates_a_list_appends_copies_and_refuses_non_lists() -> None:
    model = simple('append = { tags = "$.tag", items = { sku = "$.sku", qty = 1 }, bad = 1 }',
                   initial="{ bad = 3 }")
    payload = {"tag": {"k": "v"}, "sku": "A"}
    events = history(("E", payload), ("E", {"tag": "t", "sku": "B"}))
    state = model.fold(events)
    assert state == {"bad": 3, "tags": [{"k": "v"}, "t"],
                     "items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 1}]}
    assert state["tags"][0] is not payload["tag"]
    assert rules(model.check("s", events)) == [(1, "not_a_list"), (2, "not_a_list")]


def test_remove_a_map_key_and_a_list_item_quietly_when_absent() -> None:
    model = simple('remove = { lines = "$.sku", tags = "$.tag", "deep.map" = "k", none = 1 }',
                   initial='{ lines = { A = 1, B = 2 }, tags = ["x", "y", "x"] }')
    events = history(("E", {"sku": "A", "tag": "x"}), ("E", {"sku": "Z", "tag": "q"}))
    assert model.fold(events) == {"lines": {"B": 2}, "tags": ["y", "x"]}
    assert model.check("s", events) == []


def test_remove_from_a_scalar_is_not_a_collection() -> None:
    model = simple('remove = { n = "k" }', initial="{ n = 4 }")
    assert rules(model.check("s", history(("E", {})))) == [(1, "not_a_collection")]


def test_merge_deep_merges_maps_and_creates_missing_ones() -> None:
    model = simple('merge = { meta = "$.meta", more = { by = "$.who", fixed = { a = 1 } } }',
                   initial='{ meta = { a = { x = 1, y = 2 }, keep = true } }')
    payload = {"meta": {"a": {"y": 3, "z": 4}, "new": [1]}, "who": "bob"}
    state = model.fold(history(("E", payload)))
    assert state == {"meta": {"a": {"x": 1, "y": 3, "z": 4}, "keep": True, "new": [1]},
                     "more": {"by": "bob", "fixed": {"a": 1}}}
    assert state["meta"]["new"] is not payload["meta"]["new"]


def test_merge_refuses_a_non_map_operand_and_a_non_map_field() -> None:
    model = simple('merge = { meta = "$.meta", n = { a = 1 } }', initial="{ n = 1 }")
    events = history(("E", {"meta": 5}))
    assert model.fold(events) == {"n": 1}
    assert rules(model.check("s", events)) == [(1, "not_a_map"), (1, "not_a_map")]


def test_a_dotted_target_through_a_scalar_is_not_a_map() -> None:
    model = simple('set = { "a.b" = 1 }\nadd = { "a.c" = 1 }', initial="{ a = 2 }")
    events = history(("E", {}))
    assert model.fold(events) == {"a": 2}
    assert rules(model.check("s", events)) == [(1, "not_a_map"), (1, "not_a_map")]


def test_operations_apply_in_the_documented_order() -> None:
    # written merge-first; applied set, add, subtract, append, remove, merge
    model = simple('merge = { m = { v = "$.v" } }\nremove = { l = "a" }\nappend = { l = "a" }\n'
                   'subtract = { n = 1 }\nadd = { n = 10 }\nset = { n = 0, m = {}, l = [] }')
    assert model.fold(history(("E", {"v": 1}))) == {"n": 9, "m": {"v": 1}, "l": []}


def test_literals_and_templates_are_fresh_per_event() -> None:
    model = simple('set = { l = [], t = ["$.a"] }\nappend = { l = "$.a" }')
    state = model.fold(history(("E", {"a": 1}), ("E", {"a": 2})))
    assert state == {"l": [2], "t": [2]}
    state2 = model.fold(history(("E", {"a": 3})))
    assert state2 == {"l": [3], "t": [3]}


def test_a_missing_index_or_key_in_a_path_is_a_missing_operand() -> None:
    model = simple('set = { a = "$.lines[5].sku", b = "$.x.y", c = "$.s[0]" }',
                   initial="{ a = 1 }")
    events = history(("E", {"lines": [{"sku": "A"}], "x": 3, "s": "text"}))
    assert model.fold(events) == {"a": 1}
    assert rules(model.check("s", events)) == [(1, "missing_operand")] * 3


# --- fold: state and coverage ----------------------------------------------------------------

def test_fold_never_changes_the_state_passed_in_or_the_initial_or_the_payload() -> None:
    model = simple('append = { l = "$.x" }\nmerge = { m = "$.m" }\nadd = { "c.n" = 1 }',
                   initial="{ l = [0], m = { a = { b = 1 } } }")
    state = {"l": [1], "m": {"a": {"b": 2}}, "c": {"n": 1}}
    before = copy.deepcopy(state)
    payload = {"x": [9], "m": {"a": {"c": 3}}}
    after = model.fold(history(("E", payload)), state)
    assert state == before
    assert payload == {"x": [9], "m": {"a": {"c": 3}}}
    assert after == {"l": [1, [9]], "m": {"a": {"b": 2, "c": 3}}, "c": {"n": 2}}
    assert model.fold([]) == {"l": [0], "m": {"a": {"b": 1}}}
    model.fold(history(("E", payload)))
    assert model.fold([]) == {"l": [0], "m": {"a": {"b": 1}}}


def test_fold_continues_from_a_given_state() -> None:
    bank = one(BANK)
    half = bank.fold(history(("Deposited", {"amount": 500})))
    assert bank.fold([(2, "Withdrawn", {"amount": "0.5"})], half) == {
        "balance": Decimal("499.5"), "status": "open"}


def test_unknown_events_are_ignored_by_default_and_reported_when_asked() -> None:
    events = history(("Deposited", {"amount": 1}), ("Frozen", {}), ("Deposited", {"amount": 2}))
    assert one(BANK).check("a", events) == []
    strict = one(BANK.replace('status = "status"',
                              'status = "status"\nunknown_events = "violation"'))
    [violation] = strict.check("a", events)
    assert (violation.version, violation.type, violation.rule, violation.status_before) == (
        2, "Frozen", "unknown_event", "open")
    assert strict.fold(events) == {"balance": 3, "status": "open"}


def test_type_models_cover_their_stream_type_and_match_models_their_ids() -> None:
    models = parse_model_text(BANK + '[Accounts]\nmatch = "account-*"\ninitial = {}\n'
                              '[Accounts.on.Opened]\nset = { open = true }\n', "f")
    bank, accounts = models
    assert bank.covers("anything", "BankAccount") and not bank.covers("x", "Account")
    assert accounts.match == "account-*" and accounts.key == "Accounts"
    assert accounts.covers("account-17", "whatever") and not accounts.covers("acc-1", "Accounts")
    assert not accounts.covers("Account-1", "x")
    assert accounts.fold(history(("Opened", {}))) == {"open": True}


def test_violations_come_in_version_order_and_all_are_listed() -> None:
    events = [(1, "Closed", {"reason": "a"}), (2, "Closed", {}), (3, "Withdrawn", {}),
              (4, "Withdrawn", {"amount": "x"})]
    found = one(BANK).check("a", events)
    assert rules(found) == [(2, "from"), (2, "missing_operand"), (3, "from"), (3, "require"),
                            (4, "from"), (4, "not_a_number")]


def test_a_status_field_may_be_nested_and_non_text() -> None:
    model = one('[T]\ninitial = { s = { code = 1 } }\nstatus = "s.code"\n'
                '[T.on.E]\nfrom = ["2"]\nset = { "s.code" = 2 }\n')
    assert [(v.version, v.status_before) for v in model.check("t", history(("E", {}), ("E", {})))] \
        == [(1, "1")]


def test_two_hundred_thousand_decimal_steps_stay_exact() -> None:
    bank = one(BANK)
    events = [(i, "Deposited" if i % 2 else "Withdrawn", {"amount": "1.25"})
              for i in range(200_000)]
    assert bank.fold(events) == {"balance": Decimal("0.00"), "status": "open"}
    assert bank.fold(events[:199_999]) == {"balance": Decimal("-1.25"), "status": "open"}


# --- loading and malformed files -------------------------------------------------------------

def test_load_model_file_names_the_file_as_given(tmp_path: Path) -> None:
    path = tmp_path / "bank.toml"
    path.write_text(BANK, encoding="utf-8")
    [model] = load_model_file(path)
    assert model.name == f"file:{path}"
    path.write_text("[A]\ninitial = 1\n", encoding="utf-8")
    with pytest.raises(ModelFileError) as caught:
        load_model_file(path)
    assert str(caught.value) == f"{path}:2: initial in [A] must be a table."


def test_a_file_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_bytes(b"[A]\ninitial = { a = 1 }\n# caf\xe9\n")
    with pytest.raises(ModelFileError, match=r":3: the file is not UTF-8 text\.$"):
        load_model_file(path)


def error(text: str) -> str:
    with pytest.raises(ModelFileError) as caught:
        parse_model_text(text, "bank.toml")
    assert isinstance(caught.value, DomainError)
    return str(caught.value)


def test_toml_syntax_errors_give_the_line_tomllib_found() -> None:
    assert error("[A]\ninitial = {}\n[A.on.X]\nset = { a = }\n") == (
        "bank.toml:4: invalid TOML: Invalid value.")
    assert error("[A]\ninitial = {}\n\n\nstatus = \n") .startswith("bank.toml:5: invalid TOML:")
    assert error('[A]\ninitial = {}\n["A"]\nstatus = "s"\n') == (
        "bank.toml:3: invalid TOML: Cannot declare ('A',) twice.")


def test_a_syntax_error_at_the_end_of_the_document_names_the_last_line() -> None:
    assert error('[A]\ninitial = { a = "x').startswith("bank.toml:2: invalid TOML:")


BAD = """\
[Good]
initial = {}

[A]
initial = { balance = 0 }
status = "status"
[A.on.Deposited]
add = { balance = "$.amount" }
{line}
"""


@pytest.mark.parametrize(("line", "reason"), [
    ("adds = { balance = 1 }", "unknown key 'adds' in [A.on.Deposited] (expected set, add, "
                               "subtract, append, remove, merge, from or require)."),
    ("set = 5", "set in [A.on.Deposited] must be a table of field = value."),
    ('merge = ["a"]', "merge in [A.on.Deposited] must be a table of field = value."),
    ('from = "open"', "from in [A.on.Deposited] must be a list of status names."),
    ("from = [1, 2]", "from in [A.on.Deposited] must be a list of status names."),
    ('require = ["amount"]', "require in [A.on.Deposited] must be a list of $. payload paths."),
    ('require = ["$.a..b"]', "require in [A.on.Deposited]: '$.a..b' is not a valid payload "
                             "path."),
    ('set = { x = "$.lines[x]" }', "set in [A.on.Deposited]: x: '$.lines[x]' is not a valid "
                                   "payload path."),
    ('append = { x = { y = ["$."] } }', "append in [A.on.Deposited]: x: '$.' is not a valid "
                                        "payload path."),
    ('subtract = { x = "lots" }', "subtract in [A.on.Deposited]: x must be a number or a $. "
                                  "payload path, not 'lots'."),
    ("subtract = { totals.net = 1 }", "subtract in [A.on.Deposited]: totals must be a number "
                                      "or a $. payload path, not a table (quote a dotted "
                                      'target: "a.b" = ...).'),
    ("merge = { m = 1 }", "merge in [A.on.Deposited]: m must be a table or a $. payload path, "
                          "not 1."),
    ('set = { "a..b" = 1 }', "set in [A.on.Deposited]: 'a..b' is not a field name."),
    ('set = { "$.a" = 1 }', "set in [A.on.Deposited]: '$.a' is not a field name."),
])
def test_semantic_errors_in_an_event_table_name_the_key_and_its_line(line: str,
                                                                     reason: str) -> None:
    assert error(BAD.replace("{line}", line)) == f"bank.toml:9: {reason}"


@pytest.mark.parametrize(("text", "line", "reason"), [
    ('[A]\ninitial = {}\nunknown_events = "warn"\n', 3,
     'unknown_events in [A] must be "ignore" or "violation".'),
    ("[A]\ninitial = {}\nmatch = 3\n", 3, "match in [A] must be a string glob over stream ids."),
    ("[A]\ninitial = {}\nstatus = 3\n", 3, "status in [A] must be the name of a field."),
    ("[A]\ninitial = {}\non = 3\n", 3, "on in [A] must be a table of event types."),
    ("[A]\ninitial = {}\nstates = 3\n", 3, "unknown key 'states' in [A] (expected initial, "
                                         "status, unknown_events, on or match)."),
    ("# models\n\n[A]\nstatus = \"s\"\n", 3, "model A has neither an initial table nor on "
                                           "tables."),
    ("version = 1\n[A]\ninitial = {}\n", 1, "version is not a table: every top-level entry "
                                           "must be a model table."),
    ("[A]\ninitial = {}\n[A.on]\nX = 1\n", 4, "on.X in [A] must be a table."),
    ("[A]\ninitial = {}\n[[A.on.X]]\nset = {}\n", 3, "on.X in [A] must be a table."),
    ("[A]\ninitial = {}\n[A.on.X]\nset = {}\n[A.on.Y]\nfrom = [\"a\"]\n", 6,
     "from in [A.on.Y] needs a status key in [A] naming the field it reads."),
    ("[A]\ninitial = {}\non.X.sets = 1\n", 3, "unknown key 'sets' in [A.on.X] (expected set, "
                                            "add, subtract, append, remove, merge, from or "
                                            "require)."),
    ("[A]\ninitial = {}\non = { X = { set = { a = \"$.a[\" } } }\n", 3,
     "set in [A.on.X]: a: '$.a[' is not a valid payload path."),
])
def test_semantic_errors_in_a_model_table_name_the_key_and_its_line(text: str, line: int,
                                                                    reason: str) -> None:
    assert error(text) == f"bank.toml:{line}: {reason}"


def test_the_line_of_a_key_in_its_own_operation_table() -> None:
    text = ('[A]\ninitial = {}\n[A.on.X]\nfrom = []\n[A.on.X.set]\nok = 1\n'
            '"weird key" = "$.x"\nbad = "$.x.[0]"\n')
    assert error(text) == "bank.toml:8: set in [A.on.X]: bad: '$.x.[0]' is not a valid " \
                          "payload path."


def test_the_scanner_skips_strings_comments_and_multi_line_values() -> None:
    text = ('[A]\ninitial = {}\nstatus = "s"\n[A.on.X]\n'
            'require = [\n  "$.a",\n  "[A.on.Y]",\n]\n'
            'note = """\nfrom = 1\n[A.on.X.set]\n"""\n'
            "# from = 2\n"
            "from = 'open'\n")
    assert error(text) == "bank.toml:9: unknown key 'note' in [A.on.X] (expected set, add, " \
                          "subtract, append, remove, merge, from or require)."
    text = text.replace("note = ", "set.a = ")
    assert error(text) == "bank.toml:14: from in [A.on.X] must be a list of status names."


def test_quoted_table_names_are_found() -> None:
    text = '[Good]\ninitial = {}\n["Bank Account"]\ninitial = {}\n["Bank Account".on.\'X.Y\']\n' \
           'set = 1\n'
    assert error(text) == "bank.toml:6: set in [Bank Account.on.X.Y] must be a table of " \
                          "field = value."


def test_a_valid_file_with_everything_parses() -> None:
    models = parse_model_text(BANK + """
[Cart]
match = "cart-*"
unknown_events = "violation"
initial = { items = [], meta = {} }
[Cart.on.ItemAdded]
append = { items = { sku = "$.sku" } }
merge = { meta = "$.meta" }
require = ["$.sku", "$.meta"]
[Cart.on.ItemRemoved]
remove = { items = "$.sku" }
""", "f.toml")
    assert [m.key for m in models] == ["BankAccount", "Cart"]
    assert [m.unknown_events for m in models] == ["ignore", "violation"]


@pytest.mark.parametrize(("text", "steps"), [
    ("$", ()), ("$.a", ("a",)), ("$.a.b", ("a", "b")), ("$.lines[0].sku", ("lines", 0, "sku")),
    ("$.m[-1][2]", ("m", -1, 2)), ("$.with space", ("with space",))])
def test_payload_paths_parse(text: str, steps: tuple[str | int, ...]) -> None:
    assert parse_path(text).steps == steps


@pytest.mark.parametrize("text", ["", "a", "$.", "$.a.", "$..a", "$.a[", "$.a[1.5]", "$a"])
def test_malformed_payload_paths_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a valid payload path"):
        parse_path(text)
