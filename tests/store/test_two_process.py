"""The second-process protocol: messages in order, the end told apart from a failure, and the
missing work done here whenever the worker fails."""

from __future__ import annotations

import json
from pathlib import Path

from store import two_process
from store.two_process import SecondProcess

PARSER = "store.jsonl_reader:parse_in_blocks"


def _history(path: Path, lines: int = 400) -> None:
    path.write_text("".join(json.dumps({
        "stream_id": f"s-{i % 7}", "stream_type": "T", "version": i // 7 + 1, "type": "E",
        "recorded_at": "2026-01-01T00:00:00Z", "payload": {"i": i}, "metadata": {}}) + "\n"
        for i in range(lines)), "utf-8")


def test_a_worker_delivers_every_message_then_the_end(tmp_path: Path) -> None:
    _history(tmp_path / "h.jsonl")
    with SecondProcess.start(PARSER, (str(tmp_path / "h.jsonl"), 1024)) as worker:
        blocks = list(worker.messages())
        assert worker.complete
    assert sum(len(rows) for rows, _end, _line in blocks) == 400
    assert [line for _rows, _end, line in blocks][-1] == 401


def test_a_worker_that_fails_is_told_by_what_it_did_not_deliver(tmp_path: Path) -> None:
    _history(tmp_path / "h.jsonl")
    job = (str(tmp_path / "h.jsonl"), 1024)
    for entry, delivered in (("tests.worker_fakes:exits_at_once", 0),
                             ("tests.worker_fakes:two_blocks_then_dies", 2),
                             ("no.such.module:work", 0)):
        with SecondProcess.start(entry, job) as worker:
            assert len(list(worker.messages())) == delivered
            assert not worker.complete


def test_the_work_a_worker_did_not_do_is_done_here() -> None:
    asked: list[object] = []

    def here(last: object) -> list[str]:
        asked.append(last)
        return ["done here"]

    assert list(two_process.walk("tests.worker_fakes:exits_at_once", None, here)) == [
        "done here"]
    assert asked == [None]
    assert SecondProcess.start("tests.worker_fakes:exits_at_once", None).result(
        lambda: "answered here") == "answered here"
