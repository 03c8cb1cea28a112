"""Several processes writing one store at once: SQLite waits (busy timeout), PostgreSQL locks."""

from __future__ import annotations

import multiprocessing as mp

from store import ConcurrencyError, NewEvent, open_store


def _worker(target: str, k: int, rounds: int, out: mp.Queue) -> None:
    ok = conflicts = 0
    with open_store(target) as st:
        for i in range(rounds):
            stream = f"shared-{i % 3}"
            info = st.stream(stream)
            try:
                st.append(stream, "T", [NewEvent("E", {"k": k, "i": i})] * 2,
                          info.version if info else 0)
                ok += 1
            except ConcurrencyError:
                conflicts += 1
            st.append(f"own-{k}", "T", [NewEvent("Mine", {"i": i})])
    out.put((k, ok, conflicts))


def test_processes_append_concurrently(store_target: str) -> None:
    open_store(store_target).close()
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    rounds = 30
    procs = [ctx.Process(target=_worker, args=(store_target, k, rounds, out)) for k in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    with open_store(store_target) as st:
        total_ok = sum(r[1] for r in results)
        assert sum(r[1] + r[2] for r in results) == 4 * rounds
        shared = [st.read_stream(f"shared-{j}") for j in range(3)]
        for events in shared:
            assert [e.version for e in events] == list(range(1, len(events) + 1))
        assert sum(len(e) for e in shared) == 2 * total_ok
        for k in range(4):
            assert [e.payload["i"] for e in st.read_stream(f"own-{k}")] == list(range(rounds))
        positions = [e.position for e in st.iter_events()]
        assert positions == list(range(1, len(positions) + 1))
