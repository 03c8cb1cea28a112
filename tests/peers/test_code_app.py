"""Store ▸ Use application code… on an eventsourcing store: the aggregate replayed through its
own classes in the app, remembered for the store, and the store left as it was."""

from __future__ import annotations

from pathlib import Path

from tests.peers.eventsourcing_apps import Expected
from tests.peers.test_eventsourcing_app import open_in
from tests.peers.test_eventsourcing_source import files_of
from tests.ui.conftest import window  # noqa: F401  (the app fixture)
from ui.json_tree import tree_values
from ui.main_window import MainWindow

PEERS = Path(__file__).parent  # the fixtures' topics are tests.peers.eventsourcing_apps:...


def test_the_app_replays_through_the_applications_classes(
        qtbot, window: MainWindow,  # type: ignore[no-untyped-def]  # noqa: F811
        eventsourcing_sqlite_styles: Expected) -> None:
    expected = eventsourcing_sqlite_styles
    before = files_of(expected.location)
    open_in(qtbot, window, expected.location)
    (dog,) = expected.of_class("Dog")
    assert window.model_actions.use_code.isEnabled()
    window.session.select_stream(dog.id)
    replay = window.replay
    qtbot.waitUntil(lambda: "model none" in replay.info.text(), timeout=10_000)
    assert window.model_actions.use(PEERS)
    qtbot.waitUntil(lambda: "model classes:tests.peers.eventsourcing_apps" in
                    replay.info.text(), timeout=20_000)
    tricks = [e.state["trick"] for e in dog.events if "trick" in e.state]
    state = tree_values(replay.state_view)
    assert [state[f"tricks.[{i}]"] for i in range(len(tricks))] == tricks
    window.session.close()
    open_in(qtbot, window, expected.location)  # remembered for this store
    window.session.select_stream(dog.id)
    qtbot.waitUntil(lambda: "model classes:" in replay.info.text(), timeout=20_000)
    window.session.close()
    assert files_of(expected.location) == before
