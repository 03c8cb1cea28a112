"""Store batches, on every backend: one transaction for many appends, all of it or none of it."""

from __future__ import annotations

import pytest

from store import ANY, ConcurrencyError, NewEvent, StoreError, open_store


def _event(i: int) -> list[NewEvent]:
    return [NewEvent("Touched", {"i": i})]


def test_a_batch_is_seen_by_others_only_when_it_ends(store_target: str) -> None:
    with open_store(store_target) as st, open_store(store_target) as other:
        st.append("s-0", "Thing", _event(0), 0)
        with st.batch():
            for i in range(1, 6):
                st.append(f"s-{i % 2}", "Thing", _event(i), ANY)
            assert st.stream("s-1").version == 3  # the batch reads its own writes
            assert other.head_position() == 1 and other.stream("s-1") is None
        assert other.head_position() == 6
        assert [e.version for e in other.read_stream("s-1")] == [1, 2, 3]
        st.save_snapshot("s-0", 3, {"at": 3})
        assert other.load_snapshot("s-0").version == 3


def test_a_refusal_inside_a_batch_writes_nothing_and_keeps_the_batch(store_target: str) -> None:
    with open_store(store_target) as st:
        with st.batch():
            st.append("s", "Thing", _event(1), 0)
            with pytest.raises(ConcurrencyError):
                st.append("s", "Thing", _event(2), 0)  # decided on a stale version
            st.append("s", "Thing", _event(3), 1)
        assert [e.payload["i"] for e in st.read_stream("s")] == [1, 3]


def test_an_error_rolls_the_whole_batch_back(store_target: str) -> None:
    with open_store(store_target) as st:
        st.append("kept", "Thing", _event(0), 0)
        before = list(st.iter_raw_events())
        with pytest.raises(RuntimeError), st.batch():
            st.append("s", "Thing", _event(1), 0)
            st.save_snapshot("s", 1, {"i": 1})
            raise RuntimeError("the caller failed midway")
        assert list(st.iter_raw_events()) == before
        assert st.stream("s") is None and st.load_snapshot("s") is None
        st.append("s", "Thing", _event(2), 0)  # the store is usable afterwards


def test_batches_do_not_nest(store_target: str) -> None:
    with open_store(store_target) as st:
        with st.batch():
            with pytest.raises(StoreError, match="do not nest"):
                st.batch().__enter__()
            st.append("s", "Thing", _event(1), 0)  # the outer batch goes on
        assert st.stream("s") is not None
