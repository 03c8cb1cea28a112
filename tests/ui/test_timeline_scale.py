"""The timeline at scale: a crowded view is a density image, a zoomed-in one has clickable marks,
and a command reloads only the new events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import ui.timeline as timeline_module
from esaudit.application.timeline import load_timeline
from esaudit.bootstrap import bootstrap
from store import ANY, NewEvent, open_store
from ui.session import Session
from ui.timeline import TimelinePanel


def _store(path: Path, streams: int, versions: int) -> str:
    with open_store(path, synchronous="NORMAL") as st, st.batch():
        for v in range(versions):
            for s in range(streams):
                st.append(f"s-{s:03d}", "Order" if s % 3 else "Product",
                          [NewEvent("Touched" if v % 2 else "Made", {"v": v})], ANY)
    return str(path)


def test_a_crowded_view_is_a_density_image_and_zooming_in_brings_marks_back(
        qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(timeline_module, "DETAIL_LIMIT", 200)
    target = _store(tmp_path / "s.db", streams=60, versions=20)
    with open_store(target, read_only=True) as st:
        data = load_timeline(st)
    panel = TimelinePanel(Session())
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.show()
    panel.set_data(data)
    assert panel.point_count() == 1200
    assert not panel.detailed and panel.marks_shown() == 0
    assert panel._density.isVisible() and "drawn as density" in panel.caption.text()
    assert sorted(panel.lanes()) == ["Order", "Product"]

    panel.plot.setXRange(float(data.times[550]), float(data.times[650]), padding=0)
    panel.update_view()
    assert panel.detailed and not panel._density.isVisible()
    assert 0 < panel.marks_shown() <= 200
    assert "density" not in panel.caption.text()
    shown = {int(p) for item in panel._items for p in item.data["data"]}
    assert int(data.positions[600]) in shown

    panel.fit()
    assert not panel.detailed and panel.marks_shown() == 0


def test_a_reload_after_a_command_reads_only_the_new_events(tmp_path: Path) -> None:
    target = _store(tmp_path / "s.db", streams=5, versions=4)
    with open_store(target) as st:
        first = load_timeline(st)
        st.append("s-001", "Order", [NewEvent("Touched", {})], ANY)
        st.append("new", "Audit", [NewEvent("Noted", {})], ANY)
        positions_read: list[int] = []
        original = st.iter_event_codes

        def spy(*args, after_position: int = 0, **kwargs):  # type: ignore[no-untyped-def]
            positions_read.append(after_position)
            return original(*args, after_position=after_position, **kwargs)

        st.iter_event_codes = spy  # type: ignore[method-assign]
        second = load_timeline(st, base=first)
    assert positions_read == [20]
    assert len(first) == 20 and len(second) == 22  # the base is left as it was
    assert (len(first.stream_types), second.stream_count) == (2, 6)
    assert second.stream_types[second.stream_type_codes[-1]] == "Audit"
    assert second.event_types[second.event_type_codes[-1]] == "Noted"
    assert second.stream_types[:2] == first.stream_types  # codes kept: the base's stay valid
    assert list(second.positions) == list(range(1, 23))
    ordered = second.times[second.by_time]
    assert len(second.by_time) == 22 and bool((ordered[1:] >= ordered[:-1]).all())


def test_codes_name_every_event_whatever_page_a_new_name_first_appears_on(tmp_path: Path
                                                                          ) -> None:
    target = _store(tmp_path / "s.db", streams=7, versions=6)
    with open_store(target) as st:
        st.append("late", "Audit", [NewEvent("Noted", {}), NewEvent("OrderPlaced", {})], ANY)
        st.append("s-003", "Product", [NewEvent("Made", {})], ANY)
        data = load_timeline(st, page_size=5)
        heads = [row for page in st.iter_event_heads() for row in page]
    assert [int(p) for p in data.positions] == [row[0] for row in heads]
    assert [data.stream_types[c] for c in data.stream_type_codes] == [row[2] for row in heads]
    assert [data.event_types[c] for c in data.event_type_codes] == [row[4] for row in heads]
    assert sorted(data.event_types) == ["Made", "Noted", "OrderPlaced", "Touched"]
    assert sorted(data.stream_types) == ["Audit", "Order", "Product"]  # only names that occur


def _long_stream_panel(qtbot, path: Path) -> tuple[TimelinePanel, Session]:  # type: ignore[no-untyped-def]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with open_store(path, synchronous="NORMAL") as st:
        st.append("long", "Thing", [NewEvent("Ticked", {"i": i}, recorded_at=start + timedelta(
            minutes=i)) for i in range(400)], 0)
        st.append("other", "Thing", [NewEvent("Ticked", {}, recorded_at=start)], 0)
    session = Session()
    session.open(bootstrap(str(path)))
    panel = TimelinePanel(session)
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.show()
    panel.set_data(load_timeline(session.services.store))
    return panel, session


def test_a_long_selected_stream_is_ringed_in_view_and_at_most_detail_limit_times(
        qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(timeline_module, "DETAIL_LIMIT", 50)
    panel, session = _long_stream_panel(qtbot, tmp_path / "s.db")
    session.select_stream("long")
    assert panel.highlighted_count() == 50  # every 8th of 400
    data = panel.data
    first, last = data.index_of(101), data.index_of(130)  # versions 101..130
    panel.plot.setXRange(float(data.times[first]), float(data.times[last]), padding=0)
    panel.update_view()
    assert panel.highlighted_count() == 30  # all in view, none outside
    session.close()


def test_a_view_showing_the_newest_event_follows_new_ones_and_another_stays(
        qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel, session = _long_stream_panel(qtbot, tmp_path / "s.db")
    store = session.services.store
    later = datetime(2026, 3, 1, tzinfo=UTC)
    store.append("other", "Thing", [NewEvent("Ticked", {}, recorded_at=later)], ANY)
    panel.set_data(load_timeline(store, base=panel.data))
    (x0, x1), _ = panel.plot.getPlotItem().getViewBox().viewRange()
    assert x0 <= later.timestamp() <= x1  # the view followed the newest event

    panel.plot.setXRange(later.timestamp() - 7200, later.timestamp() - 3600, padding=0)
    store.append("other", "Thing", [NewEvent("Ticked", {}, recorded_at=later + timedelta(
        days=1))], ANY)
    panel.set_data(load_timeline(store, base=panel.data))
    (x0, x1), _ = panel.plot.getPlotItem().getViewBox().viewRange()
    assert x1 == pytest.approx(later.timestamp() - 3600)  # looking elsewhere: left alone
    session.close()
