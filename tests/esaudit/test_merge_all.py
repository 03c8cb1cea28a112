"""The payloads merged many at a time (``merge_all``, the fold of streams no model covers) are
exactly ``deep_merge`` one event after another, and change nothing they are given."""

from __future__ import annotations

import copy

from hypothesis import given
from hypothesis import strategies as st

from esaudit.domain.folds import deep_merge, merge_all

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3)
    | st.lists(st.integers(), max_size=2),
    lambda inner: st.dictionaries(st.sampled_from("abc"), inner, max_size=3), max_leaves=8)
_payloads = st.dictionaries(st.sampled_from("abcd"), _values, max_size=4)


@given(start=st.none() | _payloads, payloads=st.lists(_payloads, max_size=6))
def test_merging_many_events_at_once_is_merging_them_one_by_one(
        start: dict | None, payloads: list[dict]) -> None:
    events = [(v, "T", p) for v, p in enumerate(payloads, 1)]
    before = copy.deepcopy((start, payloads))
    one_by_one = start
    for _v, type_, payload in events:
        one_by_one = deep_merge(one_by_one, type_, payload)
    assert merge_all(events, start) == one_by_one
    assert (start, payloads) == before, "neither the state nor a payload is changed"
