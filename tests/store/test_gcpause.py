"""Bulk jobs run without the cyclic garbage collector and give it back as they found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from store import open_store
from store.bulk import ImportRow
from store.gcpause import collector_paused


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after_even_on_an_error() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("the job failed")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_an_import_runs_with_the_collector_paused(tmp_path: Path) -> None:
    gc.enable()
    seen: list[bool] = []
    rows = [ImportRow("f", i, "s-1", "Thing", i, "Touched", i, "1970-01-01T00:00:00.00000"
                      f"{i}Z", "{}", "{}") for i in range(1, 4)]
    with open_store(tmp_path / "s.db") as st:
        st.import_rows(rows, progress=lambda n: seen.append(gc.isenabled()))
        assert st.stream("s-1").version == 3
    assert seen == [False]
    assert gc.isenabled()
