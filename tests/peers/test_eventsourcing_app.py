"""The desktop app on a store the eventsourcing library wrote: browsed, inspected and replayed
in place, nothing of it writable, and the files byte for byte as they were once it closes."""

from __future__ import annotations

from decimal import Decimal

from tests.peers.eventsourcing_apps import Expected, reopen
from tests.peers.test_eventsourcing_source import files_of
from tests.ui.conftest import window  # noqa: F401  (the app fixture)
from ui.json_tree import tree_values
from ui.main_window import MainWindow


def open_in(qtbot, win: MainWindow, location: str) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(win.loaded, timeout=30_000):
        win.open_target(location)


def test_the_app_reads_an_eventsourcing_store_and_leaves_it_as_it_was(
        qtbot, window: MainWindow,  # type: ignore[no-untyped-def]  # noqa: F811
        eventsourcing_sqlite_styles_snapshots: Expected) -> None:
    expected = eventsourcing_sqlite_styles_snapshots
    before = files_of(expected.location)
    open_in(qtbot, window, expected.location)
    assert window.badge.isVisible() and "never writes" in window.badge.toolTip()
    assert window.store_label.text().startswith("eventsourcing store: ")
    assert not window.orders.new_order.isEnabled()
    assert "never writes" in window.orders.new_order.toolTip()
    assert not window.jobs.import_.isEnabled() and not window.jobs.audit.isEnabled()
    assert not window.rebuild_action.isEnabled()
    assert window.streams.model.rowCount() == len(expected.aggregates)

    specimen = expected.of_class("Specimen")[0]
    window.session.select_stream(specimen.id)
    table = window.events.model
    assert table.rowCount() == len(specimen.events)
    from PySide6.QtCore import Qt
    assert table.headerData(3, Qt.Orientation.Horizontal) == "Source row"
    assert table.data(table.index(1, 3)) == specimen.events[1].topic
    window.events.table.selectRow(1)
    shown = dict(tree_values(window.events.inspector))
    assert shown["type"] == specimen.events[1].class_name.rsplit(".", 1)[-1]
    assert shown["source.topic"] == specimen.events[1].topic
    assert "hash" not in shown
    decimals = [v for k, v in shown.items() if k.startswith("payload.")
                and isinstance(v, str) and v.endswith("(Decimal)")]
    want = [v for v in specimen.events[1].state.values() if isinstance(v, Decimal)]
    assert len(decimals) >= len(want)

    qtbot.waitUntil(lambda: "no model for Specimen" in window.replay.info.text(),
                    timeout=10_000)

    counter = expected.of_class("Counter")[0]
    window.session.select_stream(counter.id)
    assert window.replay.slider.minimum() == -1  # before version 0, its first
    assert window.events.model.event_at(0).version == 0  # type: ignore[union-attr]
    window.session.close()
    assert files_of(expected.location) == before


def test_reload_shows_what_the_writing_application_appended(
        qtbot, window: MainWindow,  # type: ignore[no-untyped-def]  # noqa: F811
        eventsourcing_sqlite_bank: Expected) -> None:
    expected = eventsourcing_sqlite_bank
    with reopen(expected) as app:  # the application runs on while esaudit reads its store
        open_in(qtbot, window, expected.location)
        events, _ = window.session.services.store.counts()  # type: ignore[union-attr]
        assert events == expected.event_count
        account_id = next(a.id for a in expected.aggregates if a.class_name == "BankAccount")
        from uuid import UUID
        account = app.repository.get(UUID(account_id))
        account.deposit(Decimal("1.25"))  # the writer is not blocked by the open reader
        app.save(account)
        window.reload()  # on the pool: the window shows the new cut once it is read
        qtbot.waitUntil(lambda: f"{expected.event_count + 1:,} events"
                        in window.counts_label.text(), timeout=10_000)
        assert window.session.services.store.counts()[0] == expected.event_count + 1  # type: ignore[union-attr]


def test_an_encrypted_store_asks_for_the_key_and_opens_with_it(
        qtbot, window: MainWindow,  # type: ignore[no-untyped-def]  # noqa: F811
        eventsourcing_sqlite_bank_zlib_aes: Expected, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QInputDialog

    from tests.ui.conftest import when_modal

    monkeypatch.delenv("CIPHER_KEY", raising=False)
    expected = eventsourcing_sqlite_bank_zlib_aes
    asked: list[str] = []

    def answer(dialog: object) -> None:
        assert isinstance(dialog, QInputDialog)
        asked.append(dialog.labelText())
        dialog.setTextValue("AAAAAAAAAAAAAAAAAAAAAA==" if len(asked) == 1
                            else str(expected.cipher_key))
        dialog.accept()
        if len(asked) == 1:
            when_modal(answer)  # the wrong key first: it asks again

    when_modal(answer)
    open_in(qtbot, window, expected.location)
    assert len(asked) == 2 and "encrypted" in asked[0] and "does not open" in asked[1]
    assert window.session.services is not None
    assert window.session.services.store.counts() == (expected.event_count,
                                                       len(expected.aggregates))
