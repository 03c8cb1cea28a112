"""Investigating an Emmett store where it is: a conversation Emmett wrote traced by its
correlationId and causationId, searches in jsonb, blame with Emmett's userId as the actor, and
tail following Emmett's own writer. Expectations come from what Emmett's API read back."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
from typing import IO, Any

import pytest

from esaudit.application.investigate.blame import blame
from esaudit.application.investigate.trace import find_event, trace
from esaudit.application.replay import Replayer
from store.sources import open_source
from tests.cli.test_cli import ESAUDIT

from .conftest import EmmettDatabase, stored_metadata

pytestmark = pytest.mark.postgres


@pytest.fixture
def source(emmett_db: EmmettDatabase) -> Any:
    src = open_source(emmett_db.target)
    yield src
    src.close()


def messages(emmett_db: EmmettDatabase) -> list[dict[str, Any]]:
    """Every message as Emmett read it back, with its stream, in position order."""
    found = [{**e, "stream_id": s["stream_id"], "metadata": stored_metadata(e["metadata"])}
             for s in emmett_db.expected["streams"] for e in s["events"]]
    return sorted(found, key=lambda e: e["global_position"])


def esaudit_json(target: str, *args: str) -> Any:
    done = subprocess.run([ESAUDIT, "--db", target, *args, "--json"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "ESAUDIT_DB": ""})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_conversation_is_traced_by_emmetts_ids(emmett_db: EmmettDatabase,
                                                 source: Any) -> None:
    every = messages(emmett_db)
    reserved = next(m for m in every if m["type"] == "StockReserved")
    correlation = reserved["metadata"]["correlationId"]
    conversation = [m for m in every if m["metadata"].get("correlationId") == correlation]
    started = next(m for m in conversation if m["type"] == "CheckoutStarted")
    receipt = next(m for m in conversation if m["type"] == "ReceiptSent")
    assert reserved["metadata"]["causationId"] == started["message_id"]
    found = trace(source, find_event(source, f"product-123@{reserved['stream_position']}"))
    assert found.correlation_id == correlation and found.note == ""
    assert [e.position for e in found.events] == [m["global_position"] for m in conversation]
    assert [(e.position, e.actor) for e in found.causes] == [
        (started["global_position"], started["metadata"]["userId"])]
    assert [(c.event.position, c.caused_by) for c in found.caused] == [
        (receipt["global_position"], reserved["global_position"])]
    assert found.event.actor == "stock-service"
    by_cli = esaudit_json(emmett_db.target, "trace", str(reserved["global_position"]))
    assert by_cli == found.as_json()


def test_searches_run_in_jsonb(emmett_db: EmmettDatabase) -> None:
    every = messages(emmett_db)
    user = next(m["metadata"]["userId"] for m in every if "ł" in m["metadata"].get("userId", ""))
    expected = [m["global_position"] for m in every
                if m["metadata"].get("userId") == user and m["type"] == "ProductItemAdded"
                and m["data"]["productItem"]["quantity"] >= 3]
    assert expected
    found = esaudit_json(emmett_db.target, "search", "--where", f"metadata.userId ~ {user.upper()}",
                         "--where", "payload.productItem.quantity >= 3", "--type",
                         "ProductItemAdded", "--stream", "shopping_cart-*")
    assert [e["position"] for e in found] == expected
    assert {e["stream_type"] for e in found} == {"shopping_cart"}
    assert all(e["hash"] == "" and e["provenance"]["message_id"] for e in found)
    empty = [m["global_position"] for m in every if m["data"].get("emptyString") == ""]
    assert [e["position"] for e in esaudit_json(
        emmett_db.target, "search", "--where", 'payload.emptyString = ""')] == empty


def test_blame_names_emmetts_user_as_the_actor(emmett_db: EmmettDatabase,
                                               source: Any) -> None:
    product = next(s for s in emmett_db.expected["streams"] if s["stream_id"] == "product-456")
    found = blame(Replayer(source), "product-456")
    assert found.model == "none"
    reason = found.origin_of("reason")
    assert reason is not None and reason.event is not None
    value, changed = None, None  # the last event that set another reason than before
    for e in product["events"]:
        if "reason" in e["data"] and e["data"]["reason"] != value:
            value, changed = e["data"]["reason"], e
    assert changed is not None
    assert (reason.value, reason.event.version) == (value, changed["stream_position"])
    assert reason.event.actor == stored_metadata(changed["metadata"]).get("userId")


def _lines(stream: IO[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def test_tail_follows_emmetts_writer(emmett_db: EmmettDatabase) -> None:
    tail = subprocess.Popen([ESAUDIT, "--db", emmett_db.target, "tail", "--json"], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "ESAUDIT_DB": ""})
    try:
        out, err = _lines(tail.stdout), _lines(tail.stderr)  # type: ignore[arg-type]
        assert "following" in err.get(timeout=30)
        before = {m["global_position"] for m in messages(emmett_db)}
        after = emmett_db.run_emmett("--more")
        new = sorted((e["global_position"], s["stream_id"], e["type"])
                     for s in after["streams"] for e in s["events"]
                     if e["global_position"] not in before)
        assert len(new) == 3
        got = [json.loads(out.get(timeout=10)) for _ in new]
        assert [(e["position"], e["stream_id"], e["type"]) for e in got] == new
        assert out.empty()
    finally:
        tail.terminate()
        tail.wait(timeout=10)
