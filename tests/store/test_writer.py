"""The store's writer: threads of one store object share it, wait for it, and always get it back."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from store import ANY, ConcurrencyError, NewEvent, StoreBusy, StreamTypeMismatch, open_store


def _event(i: int) -> list[NewEvent]:
    return [NewEvent("Touched", {"i": i})]


def test_threads_of_one_store_append_in_turn(store_target: str) -> None:
    with open_store(store_target) as st:
        def write(k: int) -> None:
            for i in range(50):
                st.append(f"s-{i % 3}", "Thing", _event(k * 100 + i), ANY)

        threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert st.head_position() == 200
        for sid in ("s-0", "s-1", "s-2"):
            events = st.read_stream(sid)
            assert [e.version for e in events] == list(range(1, len(events) + 1))
        assert [e.position for e in st.iter_events()] == list(range(1, 201))


def test_a_thread_waits_for_a_batch_no_longer_than_the_busy_timeout(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db", busy_timeout_s=0.3) as st:
        inside, release = threading.Event(), threading.Event()

        def hold() -> None:
            with st.batch():
                st.append("held", "Thing", _event(0), 0)
                inside.set()
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        assert inside.wait(10)
        with pytest.raises(StoreBusy):
            st.append("other", "Thing", _event(1), 0)
        release.set()
        holder.join()
        st.append("other", "Thing", _event(1), 0)  # the writer is free again
        assert [e.stream_id for e in st.iter_events()] == ["held", "other"]


def test_refusals_inside_the_transaction_leave_nothing_and_free_the_writer(
    store_target: str,
) -> None:
    with open_store(store_target) as st:
        st.append("s", "Thing", _event(0), 0)
        with pytest.raises(ConcurrencyError):
            st.append("s", "Thing", _event(1), 0)
        with pytest.raises(StreamTypeMismatch):
            st.append("s", "Other", _event(1), 1)
        st.append("s", "Thing", _event(2), 1)
        assert [e.payload["i"] for e in st.read_stream("s")] == [0, 2]
        assert st.head_position() == 2


def test_closing_gives_the_write_connection_back(tmp_path: Path) -> None:
    st = open_store(tmp_path / "s.db")
    st.append("s", "Thing", _event(0), 0)
    st.close()
    with open_store(tmp_path / "s.db") as again:
        again.append("s", "Thing", _event(1), 1)
        assert again.stream("s").version == 2
