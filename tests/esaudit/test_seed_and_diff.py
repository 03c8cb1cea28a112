from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from esaudit.application.diff import count_by_kind, diff_states
from esaudit.application.seed import plan, seed
from esaudit.bootstrap import bootstrap
from esaudit.domain import order
from store.tracing import CORRELATION_INDEX, correlation_expression

UNTIL = datetime(2026, 6, 1, tzinfo=UTC)


def seeded(path: Path, s: int) -> list[tuple]:
    svc = bootstrap(str(path))
    try:
        seed(svc.commands, orders=25, seed=s, days=20, until=UNTIL)
        return [(e.stream_id, e.version, e.type, e.recorded_at, e.payload, e.metadata, e.hash)
                for e in svc.store.iter_events()]
    finally:
        svc.close()


def test_a_seeded_store_finds_each_correlation_by_its_index(tmp_path: Path) -> None:
    """The seed sets the correlation index aside while it appends and builds it at its end."""
    path = tmp_path / "s.db"
    svc = bootstrap(str(path))
    try:
        seed(svc.commands, orders=25, seed=3, days=20, until=UNTIL)
        events = list(svc.store.iter_events())
        wanted = events[len(events) // 2].metadata["correlation_id"]
        found = [e.position for e in svc.store.correlated_events(wanted)]
    finally:
        svc.close()
    assert found == [e.position for e in events if e.metadata["correlation_id"] == wanted]
    with sqlite3.connect(path) as conn:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT position FROM events WHERE "
            f"{correlation_expression('sqlite')} = ?", [wanted]).fetchall()
    assert CORRELATION_INDEX in " ".join(str(row[-1]) for row in plan)


def test_same_seed_same_history_different_seed_different(tmp_path: Path) -> None:
    a = seeded(tmp_path / "a.db", 5)
    b = seeded(tmp_path / "b.db", 5)
    c = seeded(tmp_path / "c.db", 6)
    assert a == b
    assert a != c
    assert all(UNTIL.replace(day=1, month=5) < row[3] <= UNTIL for row in a)


def test_seeded_orders_are_sound_and_varied(tmp_path: Path) -> None:
    svc = bootstrap(str(tmp_path / "s.db"))
    try:
        result = seed(svc.commands, orders=120, seed=11, days=30, until=UNTIL)
        assert result.conflicts > 0  # the concurrent-edit scenario really collides
        statuses = {o.status for o in svc.queries.orders()}
        assert statuses == set(order.STATUSES)
        assert any(o.refunded_cents for o in svc.queries.orders())
        assert any(0 < o.paid_cents < o.total_cents for o in svc.queries.orders())
        for o in svc.queries.orders():
            assert order.broken_rules(svc.replayer.replay(o.order_id).state) == []
        actors = {e.metadata["actor"] for e in svc.store.iter_events()}
        assert "payments:dave" in actors and "Ada Lovelace" in actors
    finally:
        svc.close()


def test_plan_is_in_time_order() -> None:
    steps, ids = plan(50, 3, 10, UNTIL)
    assert [s.at for s in steps] == sorted(s.at for s in steps)
    assert len(set(ids)) == 50


def test_diff_kinds_paths_and_counts() -> None:
    old = {"a": 1, "b": {"x": 1, "y": [1, 2]}, "gone": True, "odd.key": 1}
    new = {"a": 2, "b": {"x": 1, "y": [1, 3, 4]}, "new": None, "odd.key": 2}
    changes = [(ch.path, ch.kind, ch.old, ch.new) for ch in diff_states(old, new)]
    assert changes == [
        ("a", "changed", 1, 2), ("b.y[1]", "changed", 2, 3), ("b.y[2]", "added", None, 4),
        ("gone", "removed", True, None), ("new", "added", None, None),
        ('["odd.key"]', "changed", 1, 2),
    ]
    assert count_by_kind(diff_states(old, new)) == {"added": 2, "removed": 1, "changed": 3}
    assert diff_states({"a": 1}, {"a": True}) == diff_states({"a": 1}, {"a": True})
    assert diff_states({"a": 1}, {"a": True})[0].kind == "changed"
    assert diff_states(old, old) == []
