"""The store contract: every backend must pass every test here."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from store import (
    ANY,
    ConcurrencyError,
    InvalidEvent,
    NewEvent,
    SchemaTooNew,
    StoreError,
    StoreReadOnly,
    StreamTypeMismatch,
    open_store,
)


def ev(type_: str = "Happened", **payload: object) -> NewEvent:
    return NewEvent(type_, payload, {"actor": "tester", "correlation_id": "c-1"})


def independent_chain(rows: list[tuple]) -> list[str]:
    """Recompute a stream's hashes from the documented layout, without store.hashing."""
    previous, out = "", []
    for stream_id, version, type_, recorded_at, payload, metadata in rows:
        iso = recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        envelope = json.dumps([stream_id, version, type_, iso, payload, metadata],
                              sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        previous = hashlib.sha256(previous.encode() + envelope.encode("utf-8")).hexdigest()
        out.append(previous)
    return out


def chain_of(events: list) -> list[str]:
    """``independent_chain`` of events as a read returns them."""
    return independent_chain([(e.stream_id, e.version, e.type, e.recorded_at, e.payload,
                               e.metadata) for e in events])


def run_all(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_append_and_read_back(store_target: str) -> None:
    with open_store(store_target) as st:
        first = st.append("o-1", "Order", [ev("Created", n=1), ev("Changed", n=2)], 0)
        st.append("p-1", "Product", [ev("Registered", sku="A")], 0)
        third = st.append("o-1", "Order", [ev("Changed", n=3, text="über ✓")], 2)
        events = st.read_stream("o-1")
        assert [e.version for e in events] == [1, 2, 3]
        assert [e.type for e in events] == ["Created", "Changed", "Changed"]
        assert events[2].payload == {"n": 3, "text": "über ✓"}
        assert events[0].metadata == {"actor": "tester", "correlation_id": "c-1"}
        assert [e.position for e in first + third] == [1, 2, 4]
        assert all(e.recorded_at.tzinfo is not None for e in events)
        assert st.read_stream("o-1", 2, 2)[0].payload == {"n": 2}
        assert [e.stream_id for e in st.iter_events()] == ["o-1", "o-1", "p-1", "o-1"]


def test_append_returns_exactly_what_a_read_returns(store_target: str) -> None:
    """The returned events are read back from the stored texts, each with the decoder that
    suits how it was written: numbers past 64 bits, floats and odd strings survive exactly."""
    payloads = [
        {"u64": 2**64 - 1, "i64": -(2**63), "z": [1, {"a": None, "b": True}], "s": "é\u2028"},
        {"beyond": 2**70, "negative_beyond": -(2**64) - 5, "long": 10**19},
        {"f": 1.5, "tiny": 5e-324, "mixed": [2**65, 0.1, "x"]},
    ]
    with open_store(store_target) as st:
        returned = st.append("o-1", "Order", [
            NewEvent("A", payload, {"n": 2**64 + i}) for i, payload in enumerate(payloads)])
        returned += st.append("o-1", "Order", [NewEvent("B", payloads[1])])
        read = st.read_stream("o-1")
    assert returned == read
    assert read[1].payload["beyond"] == 2**70 and type(read[1].payload["beyond"]) is int
    assert read[2].metadata == {"n": 2**64 + 2}
    assert type(read[3].payload["long"]) is int


def test_recorded_at_keeps_microseconds_and_utc(store_target: str) -> None:
    at = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone_plus(2))
    with open_store(store_target) as st:
        (event,) = st.append("s", "T", [NewEvent("E", {}, {}, recorded_at=at)])
        assert event.recorded_at == at
        assert st.read_stream("s")[0].recorded_at == at
        assert st.read_stream("s")[0].recorded_at.utcoffset() == timedelta(0)
        with pytest.raises(ValueError, match="naive"):
            st.append("s", "T", [NewEvent("E", {}, {}, recorded_at=datetime(2024, 1, 1))])


def timezone_plus(hours: int):
    from datetime import timezone
    return timezone(timedelta(hours=hours))


def test_expected_version_conflicts_write_nothing(store_target: str) -> None:
    with open_store(store_target) as st:
        st.append("o-1", "Order", [ev(), ev()], 0)
        with pytest.raises(ConcurrencyError) as info:
            st.append("o-1", "Order", [ev()], 0)
        assert info.value.actual == 2 and info.value.expected == 0
        with pytest.raises(ConcurrencyError) as info:
            st.append("o-1", "Order", [ev()], 5)
        assert info.value.actual == 2
        with pytest.raises(ConcurrencyError):
            st.append("new", "Order", [ev()], 1)
        assert st.stream("new") is None
        assert st.stream("o-1").version == 2
        assert st.head_position() == 2
        st.append("o-1", "Order", [ev()], ANY)
        st.append("o-1", "Order", [ev()], 3)
        assert [e.version for e in st.read_stream("o-1")] == [1, 2, 3, 4]


def test_invalid_input_is_refused_before_writing(store_target: str) -> None:
    with open_store(store_target) as st:
        with pytest.raises(InvalidEvent):
            st.append("s", "T", [ev(), NewEvent("E", {"x": float("nan")})])
        with pytest.raises(InvalidEvent):
            st.append("s", "T", [NewEvent("E", ["not", "an", "object"])])  # type: ignore[arg-type]
        with pytest.raises(InvalidEvent):
            st.append("s", "T", [NewEvent("", {})])
        for odd in ({"lone": "\ud800"}, {"\udfff": 1}, {"f": 1.5, "deep": ["\ud800"]}):
            with pytest.raises(InvalidEvent, match="lone surrogate"):
                st.append("s", "T", [ev(), NewEvent("E", odd)])
            with pytest.raises(InvalidEvent, match="lone surrogate"):
                st.append("s", "T", [NewEvent("E", {}, odd)])
        with pytest.raises(InvalidEvent):
            st.append("", "T", [ev()])
        with pytest.raises(InvalidEvent):
            st.append("s", "T", [])
        for name in (" \t\u2003", "x" * 201, 7, None, "a\udc80"):
            with pytest.raises(InvalidEvent):
                st.append(name, "T", [ev()])  # type: ignore[arg-type]
            with pytest.raises(InvalidEvent):
                st.append("s", name, [ev()])  # type: ignore[arg-type]
            with pytest.raises(InvalidEvent):
                st.append("s", "T", [NewEvent(name, {})])  # type: ignore[arg-type]
        assert st.head_position() == 0

        class Name(str):
            """A str subclass: a name need not be exactly ``str`` to be stored."""

        st.append(Name("n"), Name("T"), [ev(), NewEvent(Name("E"), {})])
        st.append("x" * 200, "T", [ev()])
        assert [e.version for e in st.read_stream("n")] == [1, 2]
        assert st.head_position() == 3
        assert len(st.read_stream("x" * 200)) == 1
        st.append("s", "T", [ev()])
        with pytest.raises(StreamTypeMismatch):
            st.append("s", "Other", [ev()])
        assert st.stream("s").version == 1


def test_failed_multi_event_append_is_atomic(store_target: str) -> None:
    """A failure after the events are inserted (here: updating the stream list) rolls all back."""
    with open_store(store_target) as st:
        st.append("o-1", "Order", [ev()], 0)
        good = st._appender._sql
        # The stream-list update runs after the events are inserted; make it fail there.
        st._appender._sql = dataclasses.replace(good, update_stream=good.update_stream.replace(
            "head_hash", "no_such_column", 1))
        try:
            with pytest.raises(StoreError):
                st.append("o-1", "Order", [ev(n=1), ev(n=2), ev(n=3)], 1)
        finally:
            st._appender._sql = good
        assert [e.version for e in st.read_stream("o-1")] == [1]
        assert st.stream("o-1").version == 1
        assert st.head_position() == 1
        st.append("o-1", "Order", [ev()], 1)
        assert [e.position for e in st.iter_events()] == [1, 2]


def test_a_multi_event_append_stores_every_text_exactly(store_target: str) -> None:
    """Many events of one append are written in one go (COPY on PostgreSQL): text a bulk
    format escapes comes back byte for byte, and the chain holds."""
    awkward = ["tab\there", "line\nbreak\r\n", "back\\slash \\N \\.", "", "quote \" '",
               "ünï ✓ 𝄞", "\\t", "\\\\"]
    events = [NewEvent("Noted", {"text": t, "i": i}, {"actor": "a\tb", "note": t})
              for i, t in enumerate(awkward)]
    with open_store(store_target) as st:
        written = st.append("o-1", "Order", events, 0)
        read = st.read_stream("o-1")
        assert read == written
        assert [e.payload["text"] for e in read] == awkward
        assert [e.metadata["note"] for e in read] == awkward
        assert [e.hash for e in read] == chain_of(read)
        assert st.stream("o-1").head_hash == read[-1].hash


def test_a_multi_event_append_that_meets_a_stored_version_writes_nothing(
        store_target: str) -> None:
    """An event row written behind the store's back at a version the append also takes: the
    unique (stream, version) key refuses the whole append, whichever way its rows are sent."""
    with open_store(store_target) as st:
        st.append("o-1", "Order", [ev()], 0)
        with st.write_transaction(lock=True) as conn:
            conn.exec_driver_sql(
                "INSERT INTO events (position, stream_id, stream_type, version, type, "
                "recorded_at, payload, metadata, hash) VALUES (50, 'o-1', 'Order', 3, 'X', 0, "
                "'{}', '{}', 'f00d')")
        with pytest.raises(ConcurrencyError):
            st.append("o-1", "Order", [ev(n=1), ev(n=2), ev(n=3)], 1)
        assert [e.version for e in st.read_stream("o-1")] == [1, 3]
        assert st.stream("o-1").version == 1
        assert st.head_position() == 50


def test_hash_chain_matches_independent_recomputation(store_target: str) -> None:
    with open_store(store_target) as st:
        st.append("o-1", "Order", [ev("A", z=1, a=[1, 2.5, None], s="ünï"), ev("B")], 0)
        st.append("o-2", "Order", [ev("A")], 0)
        st.append("o-1", "Order", [NewEvent("C", {"nested": {"b": 1, "a": True}},
                                            {"actor": "x", "command": "Do"})], 2)
        events = st.read_stream("o-1")
        expected = chain_of(events)
        assert [e.hash for e in events] == expected
        assert st.stream("o-1").head_hash == expected[-1]
        assert st.stream("o-2").head_hash != expected[0]  # the stream id is hashed in


def test_paging_through_more_events_than_a_page(store_target: str) -> None:
    with open_store(store_target) as st:
        for i in range(25):
            st.append(f"s-{i % 7}-{i % 2}", "T" if i % 2 else "U",
                      [NewEvent("Even" if j % 2 == 0 else "Odd", {"i": i, "j": j})
                       for j in range(10)])
        got = list(st.iter_events(page_size=33))
        assert [e.position for e in got] == list(range(1, 251))
        assert len(list(st.iter_events(after_position=240, page_size=4))) == 10
        assert len(list(st.iter_events(to_position=100, page_size=7))) == 100
        odd_t = list(st.iter_events(stream_types=["T"], event_types=["Odd"], page_size=9))
        assert len(odd_t) == 12 * 5
        assert {(e.stream_type, e.type) for e in odd_t} == {("T", "Odd")}
        some = list(st.iter_events(stream_ids=["s-0-0", "s-1-1"], page_size=5))
        assert {e.stream_id for e in some} == {"s-0-0", "s-1-1"} and len(some) == 40


def test_time_range_filters(store_target: str) -> None:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    with open_store(store_target) as st:
        st.append("s", "T", [NewEvent("E", {"d": d}, recorded_at=base + timedelta(days=d))
                             for d in range(10)])
        got = list(st.iter_events(since=base + timedelta(days=3), until=base + timedelta(days=5)))
        assert [e.payload["d"] for e in got] == [3, 4, 5]
        upto = st.read_stream("s", until=base + timedelta(days=1, hours=1))
        assert [e.version for e in upto] == [1, 2]
        info = st.stream("s")
        assert info.first_at == base and info.last_at == base + timedelta(days=9)


def test_stream_list_and_stats(store_target: str) -> None:
    with open_store(store_target) as st:
        for i in range(5):
            st.append(f"o-{i}", "Order", [ev()] * (i + 1))
        st.append("p-1", "Product", [ev("Registered")])
        assert [s.stream_id for s in st.streams("Order")] == [f"o-{i}" for i in range(5)]
        assert [s.version for s in st.streams("Order")] == [1, 2, 3, 4, 5]
        page = st.streams(after_id="o-2", limit=2)
        assert [s.stream_id for s in page] == ["o-3", "o-4"]
        stats = st.stats()
        assert (stats.events, stats.streams, stats.head_position) == (16, 6, 16)
        assert stats.streams_by_type == {"Order": 5, "Product": 1}
        assert stats.events_by_type == {"Happened": 15, "Registered": 1}
        assert st.counts() == (16, 6)
        assert st.positions_of("o-2") == [4, 5, 6] and st.positions_of("nope") == []


def test_snapshots_load_latest_at_or_below(store_target: str) -> None:
    with open_store(store_target) as st:
        st.append("o-1", "Order", [ev()] * 10)
        st.save_snapshot("o-1", 3, {"v": 3})
        st.save_snapshot("o-1", 8, {"v": 8})
        assert st.load_snapshot("o-1").version == 8
        assert st.load_snapshot("o-1", 7).state == {"v": 3}
        assert st.load_snapshot("o-1", 2) is None
        st.save_snapshot("o-1", 8, {"v": "again"})
        assert st.load_snapshot("o-1", 9).state == {"v": "again"}
        with pytest.raises(InvalidEvent):
            st.save_snapshot("o-1", 11, {})
        assert [(s.stream_id, s.version) for s in st.iter_snapshots()] == [("o-1", 3), ("o-1", 8)]


def test_checkpoints_and_catch_up(store_target: str) -> None:
    with open_store(store_target) as st:
        st.append("a", "T", [ev()] * 3)
        assert st.checkpoint("proj") == 0
        with st.write_transaction(lock=True) as conn:
            seen = [e.position for e in st.iter_events(after_position=st.checkpoint("proj", conn))]
            st.set_checkpoint(conn, "proj", seen[-1])
        st.append("b", "T", [ev()] * 2)
        assert [e.position for e in st.iter_events(after_position=st.checkpoint("proj"))] == [4, 5]


def test_read_only_refuses_every_write(store_target: str) -> None:
    with open_store(store_target) as st:
        st.append("o-1", "Order", [ev()])
    with open_store(store_target, read_only=True) as ro:
        assert ro.read_stream("o-1")[0].type == "Happened"
        with pytest.raises(StoreReadOnly):
            ro.append("o-1", "Order", [ev()])
        with pytest.raises(StoreReadOnly):
            ro.save_snapshot("o-1", 1, {})
        with pytest.raises(StoreReadOnly), ro.write_transaction():
            pass
        # The flag is not the only guard: the database connection itself refuses writes.
        ro.read_only = False
        with pytest.raises(StoreReadOnly):
            ro.append("o-1", "Order", [ev()])
    with open_store(store_target) as st:
        assert st.stream("o-1").version == 1


def test_newer_schema_is_refused_and_left_alone(store_target: str) -> None:
    with open_store(store_target) as st:
        st.append("o-1", "Order", [ev()])
        with st.write_transaction() as conn:
            conn.exec_driver_sql("UPDATE es_meta SET value = '99' WHERE key = 'schema_version'")
    for read_only in (False, True):
        with pytest.raises(SchemaTooNew, match="99"):
            open_store(store_target, read_only=read_only)


def test_concurrent_writers_in_threads_keep_versions_contiguous(store_target: str) -> None:
    with open_store(store_target) as st:
        st.append("hot", "T", [ev()], 0)
        successes: list[int] = []
        conflicts: list[int] = []
        lock = threading.Lock()

        def writer(k: int) -> None:
            for _ in range(15):
                seen = st.stream("hot").version
                try:
                    st.append("hot", "T", [ev(writer=k), ev(writer=k)], seen)
                except ConcurrencyError as e:
                    assert e.actual >= seen
                    with lock:
                        conflicts.append(k)
                else:
                    with lock:
                        successes.append(k)

        run_all([threading.Thread(target=writer, args=(k,)) for k in range(4)])
        events = st.read_stream("hot")
        assert [e.version for e in events] == list(range(1, len(events) + 1))
        assert len(events) == 1 + 2 * len(successes)
        assert len(successes) + len(conflicts) == 60
        # Each success wrote its two events next to each other.
        by_writer = [e.payload["writer"] for e in events[1:]]
        assert all(by_writer[i] == by_writer[i + 1] for i in range(0, len(by_writer), 2))
        positions = [e.position for e in st.iter_events()]
        assert positions == sorted(set(positions))


def test_an_append_after_another_writer_lands_on_the_stored_head(store_target: str) -> None:
    """Two store objects on one database (two processes, in effect): whatever one of them
    remembers of a stream, each append goes on the head the database holds."""
    with open_store(store_target) as first, open_store(store_target) as second:
        first.append("o-1", "Order", [ev("A")], 0)
        second.append("o-1", "Order", [ev("B")], 1)
        [c] = first.append("o-1", "Order", [ev("C")], ANY)
        assert (c.version, c.position) == (3, 3)
        second.append("o-1", "Order", [ev("D")], 3)
        with pytest.raises(ConcurrencyError) as refused:
            first.append("o-1", "Order", [ev("E")], 3)
        assert (refused.value.expected, refused.value.actual) == (3, 4)
        second.append("o-1", "Order", [ev("F")], 4)
        [g] = first.append("o-1", "Order", [ev("G")], 5)  # first last saw version 4
        assert g.version == 6
        events = first.read_stream("o-1")
        assert [e.type for e in events] == ["A", "B", "C", "D", "F", "G"]
        assert [e.hash for e in events] == chain_of(events)
        assert first.stream("o-1").head_hash == second.stream("o-1").head_hash == g.hash


def test_a_rolled_back_batch_leaves_the_stream_where_it_was(store_target: str) -> None:
    with open_store(store_target) as st:
        st.append("o-1", "Order", [ev("A")], 0)
        with pytest.raises(RuntimeError), st.batch():
            st.append("o-1", "Order", [ev("B")], 1)
            st.append("o-1", "Order", [ev("C")], 2)
            raise RuntimeError("abandon the batch")
        [b] = st.append("o-1", "Order", [ev("B2")], 1)
        assert (b.version, b.position) == (2, 2)
        assert [e.type for e in st.read_stream("o-1")] == ["A", "B2"]
        with st.batch():
            st.append("o-1", "Order", [ev("D")], 2)
        [e] = st.append("o-1", "Order", [ev("E")], 3)
        assert st.stream("o-1").head_hash == e.hash
        assert [x.version for x in st.read_stream("o-1")] == [1, 2, 3, 4]


def test_single_event_writers_on_two_stores_never_fork_a_stream(store_target: str) -> None:
    """Threads of two store objects race single-event appends on one stream: every refusal
    is a real conflict, and the stream stays one chain."""
    with open_store(store_target) as a, open_store(store_target) as b:
        a.append("hot", "T", [ev()], 0)
        written: list[int] = []
        lock = threading.Lock()

        def writer(st, k: int) -> None:
            for i in range(20):
                if i % 2:
                    st.append("hot", "T", [ev(writer=k)], ANY)
                    with lock:
                        written.append(k)
                    continue
                seen = st.stream("hot").version
                try:
                    st.append("hot", "T", [ev(writer=k)], seen)
                except ConcurrencyError as e:
                    assert e.actual > seen
                else:
                    with lock:
                        written.append(k)

        run_all([threading.Thread(target=writer, args=(st, k))
                 for k, st in enumerate((a, b, a, b))])
        events = b.read_stream("hot")
        assert [e.version for e in events] == list(range(1, len(written) + 2))
        assert [e.hash for e in events] == chain_of(events)
        assert a.stream("hot").head_hash == events[-1].hash


def test_a_follower_never_skips_a_position(store_target: str) -> None:
    """Readers tailing positions while writers race see every event exactly once, in order."""
    with open_store(store_target) as st:
        done = threading.Event()
        seen: list[int] = []

        def follow() -> None:
            last = 0
            while True:
                finished = done.is_set()
                for e in st.iter_events(after_position=last, page_size=50):
                    seen.append(e.position)
                    last = e.position
                if finished:
                    return

        def write(k: int) -> None:
            for i in range(40):
                st.append(f"s-{k}-{i % 3}", "T", [ev(k=k, i=i)] * (1 + i % 3))

        follower = threading.Thread(target=follow)
        follower.start()
        writers = [threading.Thread(target=write, args=(k,)) for k in range(4)]
        for w in writers:
            w.start()
        for w in writers:
            w.join()
        done.set()
        follower.join()
        assert seen == list(range(1, st.head_position() + 1))
