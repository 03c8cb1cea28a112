"""Workers: a failure reaches the one error handler as one line; only esaudit's own faults
leave a traceback behind."""

from __future__ import annotations

import pytest

from esaudit.domain.errors import InvalidCommand
from store.errors import StoreError
from ui.workers import Worker


def _failing(error: Exception) -> Worker:
    def job(progress: object, cancelled: object) -> None:
        raise error
    return Worker(job)


@pytest.mark.parametrize("error", [StoreError("the store was closed"),
                                   InvalidCommand("no stream 'x' in the store"),
                                   OSError("cannot read seal.json")])
def test_an_answer_is_one_line_and_no_traceback(qtbot, capsys, error: Exception) -> None:  # type: ignore[no-untyped-def]
    worker = _failing(error)
    with qtbot.waitSignal(worker.signals.failed, timeout=5000) as failed:
        worker.start()
    assert failed.args == [str(error)]
    assert "Traceback" not in capsys.readouterr().err


def test_a_fault_keeps_its_traceback(qtbot, capsys) -> None:  # type: ignore[no-untyped-def]
    worker = _failing(KeyError("position"))
    with qtbot.waitSignal(worker.signals.failed, timeout=5000) as failed:
        worker.start()
    assert failed.args == ["'position'"]
    assert "Traceback" in capsys.readouterr().err
