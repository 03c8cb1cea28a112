"""Tracing an event: its correlation across streams, its causes, what it caused."""

from __future__ import annotations

from typing import Any

import pytest

from esaudit.application.investigate.trace import find_event, trace
from esaudit.bootstrap import Services
from esaudit.domain import commands as c
from esaudit.domain.errors import InvalidCommand, UnknownStream
from store import ANY, NewEvent, open_store

HISTORY: list[tuple[str, str, dict[str, Any]]] = [
    ("cart-1", "CheckoutRequested", {"event_id": "e1", "correlation_id": "conv-1",
                                     "causation_id": "e1", "actor": "ada"}),
    ("pay-1", "PaymentTaken", {"event_id": "e2", "correlation_id": "conv-1",
                               "causation_id": "e1", "actor": "psp"}),
    ("other-9", "Unrelated", {"event_id": "x1", "correlation_id": "conv-2"}),
    ("stock-1", "StockReserved", {"event_id": "e3", "correlation_id": "conv-1",
                                  "causation_id": "e1"}),
    ("mail-1", "ReceiptSent", {"eventId": "e4", "correlationId": "conv-1",
                               "causationId": "e2", "userId": "mailer"}),
    ("pay-1", "PaymentSettled", {"event_id": "e5", "correlation_id": "conv-1",
                                 "causation_id": "e2"}),
    ("audit-1", "Logged", {"correlation_id": "conv-1", "causation_id": "ghost"}),
    ("x", "Early", {"event_id": "e7", "correlation_id": "conv-3", "causation_id": "e8"}),
    ("y", "Root", {"event_id": "e8", "correlation_id": "conv-3", "causation_id": "e8"}),
    ("z", "Later", {"correlation_id": "conv-3", "causation_id": "e7"}),
    ("loop-a", "A", {"event_id": "a", "correlation_id": "conv-4", "causation_id": "b"}),
    ("loop-b", "B", {"event_id": "b", "correlation_id": "conv-4", "causation_id": "a"}),
    ("lone", "Alone", {"actor": "nobody"}),
    ("at@home", "Odd", {}),
]


@pytest.fixture
def store(store_target: str) -> Any:
    with open_store(store_target) as st:
        for sid, type_, meta in HISTORY:
            st.append(sid, "Thing", [NewEvent(type_, {}, meta)], ANY)
        yield st


def traced(store: Any, ref: str) -> Any:
    return trace(store, find_event(store, ref))


def positions(entries: Any) -> list[int]:
    return [getattr(e, "event", e).position for e in entries]


def test_a_trace_follows_causes_up_and_effects_down_across_streams(store: Any) -> None:
    found = traced(store, "pay-1@1")
    assert found.correlation_id == "conv-1"
    assert positions(found.events) == [1, 2, 4, 5, 6, 7]
    assert positions(found.causes) == [1]
    assert [(c.event.position, c.caused_by) for c in found.caused] == [(5, 2), (6, 2)]
    assert found.note == ""
    root = traced(store, "1")
    assert positions(root.causes) == []
    assert [(c.event.position, c.caused_by) for c in root.caused] == [
        (2, 1), (4, 1), (5, 2), (6, 2)]
    leaf = traced(store, "mail-1@1")
    assert positions(leaf.causes) == [2, 1], "nearest cause first"
    assert leaf.event.actor == "mailer"


def test_the_json_shape(store: Any) -> None:
    data = traced(store, "pay-1@1").as_json()
    assert list(data) == ["correlation_id", "events", "causes", "caused"]
    assert list(data["events"][0]) == ["position", "stream_id", "version", "type",
                                       "recorded_at", "actor"]
    assert data["causes"][0]["stream_id"] == "cart-1" and data["causes"][0]["actor"] == "ada"
    assert data["caused"][0]["caused_by"] == 2 and data["caused"][0]["type"] == "ReceiptSent"


def test_what_a_trace_cannot_say_is_said(store: Any) -> None:
    ghost = traced(store, "audit-1@1")
    assert positions(ghost.causes) == [] and "ghost names no event" in ghost.note
    lone = traced(store, "lone@1")
    assert lone.correlation_id is None and positions(lone.events) == [13]
    assert "no correlation id" in lone.note


def test_effects_recorded_before_their_cause_and_cycles(store: Any) -> None:
    root = traced(store, "y@1")
    assert [(c.event.position, c.caused_by) for c in root.caused] == [(8, 9), (10, 8)]
    loop = traced(store, "loop-a@1")
    assert positions(loop.causes) == [12]
    assert [(c.event.position, c.caused_by) for c in loop.caused] == [(12, 11)]


def test_an_event_is_named_by_stream_and_version_or_by_position(store: Any) -> None:
    assert find_event(store, "pay-1@2").position == 6
    assert find_event(store, " 6 ").position == 6
    assert find_event(store, "at@home@1").stream_id == "at@home"
    for bad, error in (("pay-1@9", InvalidCommand), ("nope@1", UnknownStream),
                       ("pay-1", InvalidCommand), ("999", UnknownStream),
                       ("pay-1@x", InvalidCommand), ("@1", InvalidCommand)):
        with pytest.raises(error):
            find_event(store, bad)


def test_events_of_one_command_share_its_correlation_and_name_it_as_cause(
        services: Services) -> None:
    w = services.writing("test")
    oid = w.commands.execute(c.CreateOrder("ord-t", "Ada")).stream_id
    w.commands.execute(c.AddLine(oid, "SKU-1", 1, 100), correlation_id="checkout-7")
    w.commands.execute(c.PlaceOrder(oid), correlation_id="checkout-7")
    found = traced(services.store, f"{oid}@3")
    assert found.correlation_id == "checkout-7"
    assert [(e.stream_id, e.version) for e in found.events] == [(oid, 2), (oid, 3)]
    assert (found.causes, found.caused) == ((), ())
    assert "the command that appended it" in found.note
