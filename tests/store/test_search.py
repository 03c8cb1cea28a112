"""Searching the global log: what a condition means (store.search), and esaudit's store
answering it in SQL on SQLite and PostgreSQL with those very meanings."""

from __future__ import annotations

from typing import Any

import pytest

from store import ANY, NewEvent, open_store
from store.search import Condition, EventSearch, glob_regex

DEC = {"_type_": "decimal_str", "_data_": "10.50"}
UUID = {"_type_": "uuid_hex", "_data_": "0b8a0f2c6d3e4b1a9f0e7d6c5b4a3928"}


def holds(op: Any, value: Any, document: dict[str, Any], path: tuple[Any, ...] = ("x",),
          ) -> bool:
    return Condition("payload", path, op, value).holds(document)


def test_a_condition_compares_within_one_json_type() -> None:
    assert holds("=", 2, {"x": 2}) and holds("=", 2, {"x": 2.0})
    assert not holds("=", 2, {"x": "2"}) and not holds("=", "2", {"x": 2})
    assert not holds("=", 1, {"x": True}) and not holds("=", True, {"x": 1})
    assert holds(">", 1, {"x": 2}) and not holds(">", 1, {"x": "zzz"})
    assert holds("<", "b", {"x": "a"}) and not holds("<", "b", {"x": 1})
    assert holds("!=", 3, {"x": 2}) and not holds("!=", 3, {"x": "2"})
    assert not holds("!=", 3, {}), "a missing field is not 'some other number'"
    assert holds("!=", True, {"x": False}) and not holds("!=", True, {"x": 0})


def test_null_means_null_or_missing_and_not_null_means_present() -> None:
    assert holds("=", None, {"x": None}) and holds("=", None, {})
    assert not holds("=", None, {"x": 0})
    assert holds("!=", None, {"x": 0}) and holds("!=", None, {"x": {}})
    assert not holds("!=", None, {"x": None}) and not holds("!=", None, {})


def test_substring_ignores_case_beyond_ascii_and_reads_only_text() -> None:
    assert holds("~", "zür", {"x": "Hotel ZÜRICH"})
    assert holds("~", "", {"x": ""})
    assert not holds("~", "12", {"x": 12})


def test_typed_values_compare_as_their_text_and_a_decimal_as_its_number() -> None:
    assert holds(">", 10, {"x": DEC}) and holds("=", 10.5, {"x": DEC})
    assert holds("=", "10.50", {"x": DEC}) and not holds("=", "10.5", {"x": DEC})
    assert holds("~", "6D3E", {"x": UUID}) and not holds(">", 0, {"x": UUID})
    weird = {"_type_": "decimal_str", "_data_": "NaN"}
    assert not holds(">", 0, {"x": weird}) and holds("=", "NaN", {"x": weird})


def test_paths_walk_objects_and_lists() -> None:
    doc = {"lines": {"SKU-1": {"qty": 3}}, "items": [{"sku": "a"}, {"sku": "b"}]}
    assert holds("=", 3, doc, ("lines", "SKU-1", "qty"))
    assert holds("=", "b", doc, ("items", 1, "sku"))
    assert holds("=", None, doc, ("items", 5, "sku"))
    assert holds("=", None, doc, ("lines", 0)), "an index into an object finds nothing"


def test_malformed_conditions_are_refused() -> None:
    for args in ((("x",), "<", None), (("x",), ">=", True), (("x",), "~", 3), ((), "=", 1),
                 (("x",), "==", 1)):
        with pytest.raises(ValueError):
            Condition("payload", *args)


def test_a_glob_has_two_wildcards_and_nothing_else() -> None:
    assert glob_regex("ord-0*").fullmatch("ord-0042")
    assert not glob_regex("ord-0*").fullmatch("xord-0042")
    assert glob_regex("a?c").fullmatch("abc") and not glob_regex("a?c").fullmatch("abbc")
    assert glob_regex("[x].%_").fullmatch("[x].%_")
    assert not glob_regex("[x]").fullmatch("x")
    assert not glob_regex("Ord*").fullmatch("ord-1"), "case matters"


HISTORY = [
    ("ord-001", "LineAdded", {"sku": "SKU-1", "qty": 2, "price": DEC}, {"actor": "Zoë"}),
    ("ord-002", "LineAdded", {"sku": "sku-2", "qty": 12, "price": {"_type_": "decimal_str",
                                                                   "_data_": "9.99"}},
     {"actor": "ada"}),
    ("ord-002", "Noted", {"note": "Größe ZÜRICH", "flags": [True, None],
                          "odd key.with dots": "v", "ключ": 1}, {}),
    ("ord[1]%_x", "Noted", {"note": None, "qty": "2"}, {"actor": None}),
    ("inv-1", "Counted", {"qty": 2.0, "nested": {"a": {"b": [1, {"c": "deep"}]}}},
     {"tenant": {"region": "eu"}}),
]


@pytest.fixture
def store(store_target: str) -> Any:
    with open_store(store_target) as st:
        for sid, type_, payload, meta in HISTORY:
            st.append(sid, "Thing", [NewEvent(type_, payload, meta)], ANY)
        yield st


def positions(store: Any, *conditions: Condition, **filters: Any) -> list[int]:
    return [e.position for e in store.search_events(EventSearch(tuple(conditions), **filters))]


def c(field: Any, *path_op_value: Any) -> Condition:
    *path, op, value = path_op_value
    return Condition(field, tuple(path), op, value)


def test_the_store_answers_each_kind_of_condition(store: Any) -> None:
    assert positions(store, c("payload", "qty", "=", 2)) == [1, 5]
    assert positions(store, c("payload", "qty", "=", "2")) == [4]
    assert positions(store, c("payload", "qty", ">", 2)) == [2]
    assert positions(store, c("payload", "qty", "!=", 2)) == [2]
    assert positions(store, c("payload", "sku", "<", "SKU-2")) == [1]
    assert positions(store, c("payload", "sku", "~", "SKU")) == [1, 2]
    assert positions(store, c("payload", "note", "~", "zürich")) == [3]
    assert positions(store, c("payload", "note", "=", None)) == [1, 2, 4, 5]
    assert positions(store, c("payload", "note", "!=", None)) == [3]
    assert positions(store, c("payload", "flags", 0, "=", True)) == [3]
    assert positions(store, c("payload", "flags", 1, "=", None)) == [1, 2, 3, 4, 5]
    assert positions(store, c("payload", "odd key.with dots", "=", "v")) == [3]
    assert positions(store, c("payload", "ключ", ">=", 1)) == [3]
    assert positions(store, c("payload", "nested", "a", "b", 1, "c", "=", "deep")) == [5]
    assert positions(store, c("metadata", "actor", "~", "ZO")) == [1]
    assert positions(store, c("metadata", "tenant", "region", "=", "eu")) == [5]


def test_typed_decimals_in_the_store_compare_as_numbers(store: Any) -> None:
    assert positions(store, c("payload", "price", ">", 10)) == [1]
    assert positions(store, c("payload", "price", "<=", 10.5)) == [1, 2]
    assert positions(store, c("payload", "price", "=", "9.99")) == [2]


def test_conditions_combine_with_types_globs_and_times(store: Any) -> None:
    assert positions(store, c("payload", "qty", "=", 2), event_types=("LineAdded",)) == [1]
    assert positions(store, stream_glob="ord-00?") == [1, 2, 3]
    assert positions(store, stream_glob="ord[1]%_*") == [4]
    assert positions(store, stream_glob="ord_001") == []
    assert positions(store, stream_glob="ORD-*") == []
    first, last = store.read_stream("ord-001")[0], store.read_stream("inv-1")[0]
    from store.hashing import us_from_instant
    assert positions(store, since_us=us_from_instant(last.recorded_at)) == [5]
    assert positions(store, until_us=us_from_instant(first.recorded_at)) == [1]


def test_a_search_pages_by_position(store: Any) -> None:
    every = EventSearch()
    assert [e.position for e in store.search_events(every, limit=2)] == [1, 2]
    assert [e.position for e in store.search_events(every, after_position=2, limit=2)] == [3, 4]
    assert store.search_events(every, after_position=5) == []


def test_a_key_with_a_double_quote_is_searched_on_postgresql_and_refused_on_sqlite(
        store_target: str) -> None:
    with open_store(store_target) as st:
        st.append("q", "T", [NewEvent("A", {'say "hi"': 1})], ANY)
        condition = Condition("payload", ('say "hi"',), "=", 1)
        if st.backend_name == "sqlite":
            with pytest.raises(ValueError, match="double quote"):
                st.search_events(EventSearch((condition,)))
        else:
            assert [e.stream_id for e in st.search_events(EventSearch((condition,)))] == ["q"]
