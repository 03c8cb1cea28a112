"""Rows read a page at a time, the most recently used pages kept: lazy models over big tables."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

Row = TypeVar("Row")


class PageCache(Generic[Row]):
    """Row ``r`` lives on page ``r // size``; ``read(number)`` fetches a whole page when a row
    of it is first asked for. At most ``capacity`` pages stay in memory, whatever the total."""

    def __init__(self, read: Callable[[int], list[Row]], size: int, capacity: int) -> None:
        self._read = read
        self.size = size
        self._capacity = capacity
        self._pages: OrderedDict[int, list[Row]] = OrderedDict()

    def clear(self) -> None:
        self._pages.clear()

    def put(self, number: int, rows: list[Row]) -> None:
        """A page read elsewhere (off the GUI thread), kept as if ``read`` had returned it."""
        self._pages[number] = rows
        self._pages.move_to_end(number)
        while len(self._pages) > self._capacity:
            self._pages.popitem(last=False)

    def forget(self, number: int) -> None:
        """Read a page again when next asked (rows were added to it)."""
        self._pages.pop(number, None)

    def __len__(self) -> int:
        return len(self._pages)

    def __iter__(self) -> Iterator[int]:
        """The numbers of the pages in memory, least recently used first."""
        return iter(list(self._pages))

    def page(self, number: int) -> list[Row]:
        rows = self._pages.get(number)
        if rows is None:
            rows = self._pages[number] = self._read(number)
            while len(self._pages) > self._capacity:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(number)
        return rows

    def row(self, row: int) -> Row | None:
        """The row; None past the end of its page (the table shrank under a stale view)."""
        number, offset = divmod(row, self.size)
        rows = self.page(number)
        return rows[offset] if offset < len(rows) else None

    def cached(self) -> Iterator[tuple[int, Row]]:
        """(row number, row) of the pages in memory, without reading any."""
        for number, rows in self._pages.items():
            for offset, item in enumerate(rows):
                yield number * self.size + offset, item
