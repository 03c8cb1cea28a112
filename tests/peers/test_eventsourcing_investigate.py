"""Investigating a store the eventsourcing library wrote: searches whose plain JSON states
the database tests (and whose compressed or encrypted ones Python decodes), Decimal amounts
compared as numbers, a trace that says the library keeps no metadata, and blame with no model
and through the system's own classes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from esaudit.application.diff import leaves
from esaudit.application.investigate.blame import blame, history
from esaudit.application.investigate.trace import find_event, trace
from esaudit.application.replay import Replayer
from esaudit.bootstrap import bootstrap
from store.search import Condition, EventSearch
from store.sources import open_source
from store.sources.eventsourcing import EventsourcingSource
from tests.cli.test_cli import run
from tests.peers.eventsourcing_apps import Expected

PEERS = Path(__file__).parent
BANKS = ["eventsourcing_sqlite_bank", "eventsourcing_sqlite_bank_zlib",
         "eventsourcing_sqlite_bank_aes", "eventsourcing_sqlite_bank_zlib_aes",
         "eventsourcing_sqla_sqlite_bank_snapshots", "eventsourcing_pg_bank",
         "eventsourcing_pg_bank_zlib_aes"]


def opened(expected: Expected) -> Any:
    return open_source(expected.location, create=False, cipher_key=expected.cipher_key)


def notifications(expected: Expected, keep: Any) -> list[int]:
    return sorted(e.notification_id for a in expected.aggregates for e in a.events
                  if keep(a, e))


def found(source: Any, *conditions: Condition, **filters: Any) -> list[int]:
    return [e.position for e in source.search_events(EventSearch(conditions, **filters))]


@pytest.mark.parametrize("fixture", BANKS)
def test_searches_find_what_the_library_recorded(fixture: str,
                                                 request: pytest.FixtureRequest) -> None:
    expected: Expected = request.getfixturevalue(fixture)
    with opened(expected) as source:
        big = notifications(expected, lambda a, e: e.class_name.endswith("Deposited")
                            and e.state["amount"] > Decimal(50))
        assert big and found(source, Condition("payload", ("amount",), ">", 50),
                             event_types=("Deposited",)) == big
        cent = notifications(expected, lambda a, e: e.state.get("amount") == Decimal("0.01"))
        assert found(source, Condition("payload", ("amount",), "=", 0.01)) == cent
        assert found(source, Condition("payload", ("amount",), "=", "0.01")) == cent
        zoe = next(a for a in expected.aggregates if "Zoë" in a.events[0].state["full_name"])
        assert found(source, Condition("payload", ("full_name",), "~", "ŌKUBO 東京")) == [
            zoe.events[0].notification_id]
        assert found(source, stream_glob=zoe.id[:8] + "*") == [
            e.notification_id for e in zoe.events]
        assert found(source, Condition("metadata", ("actor",), "!=", None)) == []
        assert found(source, Condition("payload", ("timestamp",), "=", None)) == \
            notifications(expected, lambda a, e: True), "the payload shows no timestamp"


def _decoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    decode = EventsourcingSource._decode

    def counting(self: EventsourcingSource, nid: int, *rest: Any) -> Any:
        calls.append(nid)
        return decode(self, nid, *rest)

    monkeypatch.setattr(EventsourcingSource, "_decode", counting)
    return calls


@pytest.mark.parametrize("fixture", ["eventsourcing_sqlite_paging", "eventsourcing_pg_paging"])
def test_plain_states_are_tested_by_the_database(fixture: str, monkeypatch: pytest.MonkeyPatch,
                                                 request: pytest.FixtureRequest) -> None:
    expected: Expected = request.getfixturevalue(fixture)
    with opened(expected) as source:
        some = expected.aggregates[123].events[0]
        calls = _decoded(monkeypatch)
        hits = found(source, Condition("payload", ("full_name",), "=", some.state["full_name"]))
        assert hits == [some.notification_id]
        assert calls == hits, "only the matching row was decoded"


def test_compressed_states_are_decoded_page_by_page(eventsourcing_sqlite_bank_zlib: Expected,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with opened(eventsourcing_sqlite_bank_zlib) as source:
        calls = _decoded(monkeypatch)
        assert found(source, Condition("payload", ("amount",), ">", 10**30)) == []
        assert len(calls) == 13


def test_a_trace_says_the_library_keeps_no_metadata(eventsourcing_sqlite_bank: Expected) -> None:
    ada = eventsourcing_sqlite_bank.aggregates[0]
    with opened(eventsourcing_sqlite_bank) as source:
        got = trace(source, find_event(source, f"{ada.id}@2"))
        assert got.correlation_id is None and [e.version for e in got.events] == [2]
        assert "records no metadata" in got.note and not source.capabilities.correlation
    result = run(eventsourcing_sqlite_bank.location, "trace",
                 str(ada.events[1].notification_id), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"correlation_id": None, "events": [
        got.events[0].as_json()], "causes": [], "caused": []}
    assert "records no metadata" in result.stderr


def test_blame_without_a_model_is_per_payload_field(eventsourcing_sqlite_bank: Expected) -> None:
    ada = eventsourcing_sqlite_bank.aggregates[0]
    with opened(eventsourcing_sqlite_bank) as source:
        rows = {f.path: f for f in blame(Replayer(source), ada.id).fields}
        assert rows["amount"].value == {"_type_": "decimal_str", "_data_": "0.01"}
        assert rows["amount"].event is not None and rows["amount"].event.version == 4
        assert rows["full_name"].event is not None and rows["full_name"].event.version == 1
        assert all(f.event is not None and f.event.actor is None for f in rows.values())
        amounts = history(Replayer(source), ada.id, "amount")
        assert [c.event.version for c in amounts.changes] == [2, 3, 4]


def test_blame_through_the_systems_own_classes(eventsourcing_sqlite_styles: Expected) -> None:
    (dog,) = eventsourcing_sqlite_styles.of_class("Dog")
    svc = bootstrap(eventsourcing_sqlite_styles.location, create=False, code_path=PEERS)
    try:
        got = blame(svc.replayer, dog.id)
        assert got.model.startswith("classes:")
        state = svc.replayer.replay(dog.id).state
        assert {f.path: f.value for f in got.fields} == dict(leaves(state))
        tricks = [e.version for e in dog.events if "trick" in e.state]
        origins = {f.path: f.event.version for f in got.fields if f.event is not None}
        assert origins["tricks[0]"] == tricks[0] and origins["tricks[1]"] == tricks[1]
        assert origins["name"] == dog.events[0].version
    finally:
        svc.close()


def test_a_condition_sqlite_cannot_name_is_tested_in_python(
        eventsourcing_sqlite_bank: Expected) -> None:
    with opened(eventsourcing_sqlite_bank) as source:
        assert found(source, Condition("payload", ('no "such"',), "=", None)) == \
            notifications(eventsourcing_sqlite_bank, lambda a, e: True)
