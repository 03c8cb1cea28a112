"""``esaudit import`` starts a large file's second process before it opens the store, so the
worker's start-up overlaps the database layer's; whatever happens next, it is stopped, and
an import that cannot run says what it always said."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import esaudit.bootstrap as bootstrap_module
import store.jsonl_reader as jsonl_reader
import store.two_process as two_process
from esaudit.cli import main
from store import open_store
from store.hashing import iso_from_us


def _history(path: Path, events: int, prefix: str = "s") -> Path:
    path.write_text("".join(json.dumps({
        "stream_id": f"{prefix}-{i % 7}", "stream_type": "Meter", "version": i // 7 + 1,
        "type": "ReadingTaken", "recorded_at": iso_from_us(1_767_225_600_000_000 + i),
        "payload": {"i": i}, "metadata": {}}) + "\n" for i in range(events)), "utf-8")
    return path


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every second process started (in order with the store's opening, ``bootstrap``),
    for any file size."""
    monkeypatch.setattr(jsonl_reader, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(jsonl_reader, "BLOCK_BYTES", 2048)
    seen: list[tuple[str, Any]] = []
    start = two_process.SecondProcess.start.__func__  # type: ignore[attr-defined]

    def spy(cls: type[two_process.SecondProcess], entry: str, job: object
            ) -> two_process.SecondProcess:
        worker = start(cls, entry, job)
        seen.append(("worker", worker))
        return worker

    bootstrap = bootstrap_module.bootstrap

    def opened(*args: Any, **kwargs: Any) -> Any:
        seen.append(("store", None))
        return bootstrap(*args, **kwargs)

    monkeypatch.setattr(two_process.SecondProcess, "start", classmethod(spy))
    monkeypatch.setattr(bootstrap_module, "bootstrap", opened)
    return seen


def _stopped(worker: two_process.SecondProcess) -> bool:
    proc = worker._proc
    return proc is None or proc.poll() is not None


def test_the_parser_starts_before_the_store_opens_and_imports_every_line(
        tmp_path: Path, workers: list[tuple[str, Any]]) -> None:
    source = _history(tmp_path / "h.jsonl", 700)
    assert main(["--db", str(tmp_path / "s.db"), "import", str(source)]) == 0
    assert [what for what, _ in workers] == ["worker", "store"]  # one worker, started first
    assert _stopped(workers[0][1])
    with open_store(tmp_path / "s.db", read_only=True) as st:
        assert st.head_position() == 700
        assert [e.payload["i"] for e in st.iter_events()] == list(range(700))
    assert source.stat().st_size > 20 * 2048  # many blocks handed over by the early worker


def test_a_file_replaced_while_the_store_opens_is_imported_as_it_is_now(
        tmp_path: Path, workers: list[tuple[str, Any]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    source = _history(tmp_path / "h.jsonl", 700, prefix="old")
    newer = _history(tmp_path / "newer.jsonl", 350, prefix="new")
    bootstrap = bootstrap_module.bootstrap

    def replaced_first(*args: Any, **kwargs: Any) -> Any:
        newer.replace(source)  # another program puts a new file under the name
        return bootstrap(*args, **kwargs)

    monkeypatch.setattr(bootstrap_module, "bootstrap", replaced_first)
    assert main(["--db", str(tmp_path / "s.db"), "import", str(source)]) == 0
    with open_store(tmp_path / "s.db", read_only=True) as st:
        assert {s.stream_id for s in st.streams()} == {f"new-{i}" for i in range(7)}
        assert st.head_position() == 350
    started = [w for what, w in workers if what == "worker"]
    assert len(started) == 2 and all(map(_stopped, started))  # the first one discarded


def test_an_interrupt_while_the_store_opens_stops_the_parser(
        tmp_path: Path, workers: list[tuple[str, Any]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    source = _history(tmp_path / "h.jsonl", 300)

    def interrupted(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(bootstrap_module, "bootstrap", interrupted)
    assert main(["--db", str(tmp_path / "s.db"), "import", str(source)]) == 130
    assert [what for what, _ in workers] == ["worker"]
    assert _stopped(workers[0][1])


def test_an_import_refused_after_the_parser_started_stops_it_and_says_why(
        tmp_path: Path, workers: list[tuple[str, Any]],
        capsys: pytest.CaptureFixture[str]) -> None:
    source = _history(tmp_path / "h.jsonl", 300)
    missing = tmp_path / "no-such-folder" / "s.db"
    assert main(["--db", str(missing), "import", str(source)]) == 2
    assert capsys.readouterr().err.strip() == f"esaudit: folder {missing.parent} does not exist"
    assert [what for what, _ in workers] == ["worker", "store"]
    assert _stopped(workers[0][1])

    shop = tmp_path / "s.db"
    assert main(["--db", str(shop), "seed", "--orders", "2"]) == 0
    workers.clear()
    assert main(["--db", str(shop), "--read-only", "import", str(source)]) == 2
    assert "read-only" in capsys.readouterr().err
    assert [what for what, _ in workers] == ["worker", "store"]
    assert _stopped(workers[0][1])


def test_a_file_that_cannot_be_read_is_named_as_before_and_starts_nothing(
        tmp_path: Path, workers: list[tuple[str, Any]],
        capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "gone.jsonl"
    assert main(["--db", str(tmp_path / "s.db"), "import", str(missing)]) == 2
    assert "cannot read the file" in capsys.readouterr().err
    assert [what for what, _ in workers] == ["store"]
