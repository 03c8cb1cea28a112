"""A SQLite store remembers the heads it wrote, to skip the append's read; an edited database
must still be read, never overwritten from memory."""

from __future__ import annotations

import sqlite3

import pytest

from store import (
    ANY,
    ConcurrencyError,
    InvalidEvent,
    NewEvent,
    StoreBusy,
    StreamTypeMismatch,
    open_store,
)
from store.hashing import chain_hash, envelope_bytes, us_from_instant


def test_an_edited_head_hash_is_chained_onto_as_stored(sqlite_target: str) -> None:
    with open_store(sqlite_target) as st:
        st.append("o-1", "Order", [NewEvent("A", {})], 0)
        with sqlite3.connect(sqlite_target) as raw:
            raw.execute("UPDATE streams SET head_hash = ? WHERE stream_id = 'o-1'", ("f" * 64,))
        [e] = st.append("o-1", "Order", [NewEvent("B", {"n": 1})], ANY)
        assert e.hash == chain_hash("f" * 64, envelope_bytes(
            "o-1", 2, "B", us_from_instant(e.recorded_at), '{"n":1}', "{}"))
        assert st.stream("o-1").head_hash == e.hash


def test_an_edited_stream_type_is_refused_as_stored(sqlite_target: str) -> None:
    with open_store(sqlite_target) as st:
        st.append("o-1", "Order", [NewEvent("A", {})], 0)
        with sqlite3.connect(sqlite_target) as raw:
            raw.execute("UPDATE streams SET stream_type = 'Invoice' WHERE stream_id = 'o-1'")
        with pytest.raises(StreamTypeMismatch):
            st.append("o-1", "Order", [NewEvent("B", {})], 1)
        assert st.stream("o-1").version == 1


def test_a_deleted_stream_row_is_not_resurrected_from_memory(sqlite_target: str) -> None:
    """With its stream row gone, the read finds no head: the append starts the stream again
    and the unique (stream, version) key refuses it, as it would without any memory."""
    with open_store(sqlite_target) as st:
        st.append("o-1", "Order", [NewEvent("A", {})], 0)
        with sqlite3.connect(sqlite_target) as raw:
            raw.execute("DELETE FROM streams WHERE stream_id = 'o-1'")
        with pytest.raises(ConcurrencyError):
            st.append("o-1", "Order", [NewEvent("B", {})], ANY)
        with sqlite3.connect(sqlite_target) as raw:
            assert raw.execute("SELECT count(*) FROM events").fetchone() == (1,)


def test_a_refused_event_on_a_remembered_stream_leaves_it_as_it_was(sqlite_target: str) -> None:
    with open_store(sqlite_target) as st:
        [first] = st.append("o-1", "Order", [NewEvent("A", {})], 0)
        for bad in (NewEvent("", {}), NewEvent("B", {"at": object()}),
                    NewEvent("B", {}, {"why": {1, 2}})):
            with pytest.raises(InvalidEvent):
                st.append("o-1", "Order", [bad], ANY)
        assert st.stream("o-1").version == 1
        [e] = st.append("o-1", "Order", [NewEvent("B", {})], 1)
        assert (e.version, e.position) == (2, 2)
        assert e.hash == chain_hash(first.hash, envelope_bytes(
            "o-1", 2, "B", us_from_instant(e.recorded_at), "{}", "{}"))


def test_a_remembered_stream_waits_for_another_writer_and_gives_up_cleanly(
        sqlite_target: str) -> None:
    with open_store(sqlite_target, busy_timeout_s=0.2) as st:
        st.append("o-1", "Order", [NewEvent("A", {})], 0)
        raw = sqlite3.connect(sqlite_target, isolation_level=None)
        raw.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreBusy):
                st.append("o-1", "Order", [NewEvent("B", {})], 1)
        finally:
            raw.execute("ROLLBACK")
            raw.close()
        assert st.stream("o-1").version == 1
        [e] = st.append("o-1", "Order", [NewEvent("B", {})], 1)
        assert e.version == 2
