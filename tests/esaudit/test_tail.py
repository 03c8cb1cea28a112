"""Following a history: what each poll hands out, on a store whose positions commit in order
and on one where a position may commit after a higher one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from esaudit.application.investigate.tail import LATE_WINDOW, Follower, follow
from esaudit.application.timeline import load_timeline
from store import ANY, NewEvent, RecordedEvent, open_store
from store.protocol import Capabilities


def test_a_follower_hands_out_each_new_event_once(store_target: str) -> None:
    with open_store(store_target) as st:
        st.append("a", "T", [NewEvent("Old", {})], ANY)
        follower = Follower(st)
        assert follower.poll() == []
        st.append("a", "T", [NewEvent("New", {"n": 1}), NewEvent("New", {"n": 2})], ANY)
        st.append("b", "T", [NewEvent("Other", {})], ANY)
        assert [(e.position, e.type) for e in follower.poll()] == [
            (2, "New"), (3, "New"), (4, "Other")]
        assert follower.poll() == []
        typed = Follower(st, event_types=["Other"], after_position=0)
        assert [e.position for e in typed.poll()] == [4]


def test_follow_stops_when_told_and_sleeps_only_when_idle(tmp_path: Any) -> None:
    with open_store(tmp_path / "s.db") as st:
        naps: list[float] = []

        def nap(seconds: float) -> None:
            naps.append(seconds)
            if len(naps) == 1:
                st.append("a", "T", [NewEvent("Woke", {})], ANY)

        seen = []
        for e in follow(st, poll_s=0.25, sleep=nap, stopped=lambda: len(naps) >= 2):
            seen.append(e.type)
        assert seen == ["Woke"] and naps == [0.25, 0.25]


class LateCommits:
    """A source whose positions may become visible out of order (as Emmett's do)."""

    capabilities = Capabilities(hash_chain=False, snapshots=False, writable=False, live=True,
                                ordered=False)

    def __init__(self, positions: list[int]) -> None:
        self.visible = list(positions)
        self.refreshed = 0

    def _event(self, p: int) -> RecordedEvent:
        return RecordedEvent(p, f"s-{p}", "T", 1, "E", datetime(2026, 1, 1, tzinfo=UTC),
                             {}, {}, "")

    def refresh(self) -> None:
        self.refreshed += 1

    def head_position(self) -> int:
        return max(self.visible, default=0)

    def counts(self) -> tuple[int, int]:
        return len(self.visible), len(self.visible)

    def iter_events(self, after_position: int = 0, *, to_position: int | None = None,
                    **_: Any) -> Iterator[RecordedEvent]:
        end = self.head_position() if to_position is None else to_position
        for p in sorted(self.visible):
            if after_position < p <= end:
                yield self._event(p)

    def iter_event_heads(self, after_position: int = 0, page_size: int = 20_000, *,
                         to_position: int | None = None) -> Iterator[list[tuple[Any, ...]]]:
        yield [(e.position, e.stream_id, e.stream_type, e.version, e.type, 0)
               for e in self.iter_events(after_position, to_position=to_position)]


    def iter_event_codes(self, stream_types: Any, event_types: Any, after_position: int = 0,
                         page_size: int = 50_000) -> Iterator[list[tuple[int, int, int, int]]]:
        page = [(e.position, e.position * 1_000_000, 0, 0)
                for e in self.iter_events(after_position)]
        if page:
            yield page


def test_a_position_that_commits_late_is_still_handed_out_once() -> None:
    source = LateCommits([1, 2, 4])
    follower = Follower(source)  # type: ignore[arg-type]
    assert follower.poll() == []
    source.visible += [5, 3]  # 3 was drawn before 4 and 5, and committed after them
    assert [e.position for e in follower.poll()] == [3, 5]
    assert follower.poll() == []
    source.visible.append(6)
    assert [e.position for e in follower.poll()] == [6]
    assert source.refreshed == 4


def test_late_commits_beyond_the_window_are_not_read_again() -> None:
    source = LateCommits([1])
    follower = Follower(source)  # type: ignore[arg-type]
    source.visible += list(range(2, LATE_WINDOW + 10))
    assert len(follower.poll()) == LATE_WINDOW + 8
    source.visible.append(LATE_WINDOW + 10)
    assert [e.position for e in follower.poll()] == [LATE_WINDOW + 10]


def test_the_timeline_shows_a_position_that_commits_late() -> None:
    source = LateCommits([1, 2, 4])
    first = load_timeline(source)  # type: ignore[arg-type]
    source.visible += [5, 3]
    again = load_timeline(source, base=first)  # type: ignore[arg-type]
    assert again.positions.tolist() == [1, 2, 3, 4, 5]
    assert sorted(again.times[again.by_time].tolist()) == again.times[again.by_time].tolist()


def test_the_timeline_reads_everything_again_for_a_commit_beyond_the_window() -> None:
    source = LateCommits([p for p in range(1, LATE_WINDOW + 20) if p != 7])
    first = load_timeline(source)  # type: ignore[arg-type]
    source.visible.append(7)
    again = load_timeline(source, base=first)  # type: ignore[arg-type]
    assert again.positions.tolist() == list(range(1, LATE_WINDOW + 20))
    assert {again.stream_types[c] for c in again.stream_type_codes.tolist()} == {"T"}
