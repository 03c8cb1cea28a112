"""Second processes that fail (entries for ``store.two_process``), for the tests of what the
first process does then: it does the missing work itself."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

from store.jsonl_reader import parse_in_blocks


def exits_at_once(job: Any) -> Iterator[Any]:
    """A worker that dies before its first message."""
    os._exit(3)
    yield  # a generator, as a real entry is


def two_blocks_then_dies(job: tuple[str, int]) -> Iterator[Any]:
    """The JSONL parser, killed after delivering two blocks."""
    for i, block in enumerate(parse_in_blocks(job)):
        if i == 2:
            sys.stdout.flush()
            os._exit(1)
        yield block


def eventsourcing_pages_then_dies(job: tuple[str, str | None, int]) -> Iterator[Any]:
    """The eventsourcing converter in pages of 300 events, killed after delivering two."""
    from store.sources import importing

    importing.PAGE = 300
    for i, block in enumerate(importing.convert_in_blocks(job)):
        if i == 2:
            sys.stdout.flush()
            os._exit(1)
        yield block
