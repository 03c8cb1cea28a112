"""Searches of esaudit's own store, answered by its database: the conditions on payloads and
metadata as JSON expressions over the stored text (``store.search_sql``), the correlation of
a trace from its index (``store.tracing``).

A search walks the log in position order and stops at its limit, so a search whose first
matches come early costs little; one that matches nothing reads every row once, in the
database, never decoding a row in Python.
"""

from __future__ import annotations

from .connections import Connections
from .reading import row_to_event
from .records import EVENT_ROW_COLUMNS, RecordedEvent
from .search import EventSearch
from .search_sql import Params, SearchColumns, where
from .tracing import correlation_expression

_COLUMNS = ", ".join(EVENT_ROW_COLUMNS)
_ROW = SearchColumns("payload", "metadata", "type", "stream_id", "recorded_at")
_PLAIN = SearchColumns(None, None, "type", "stream_id", "recorded_at")
_DECODED = SearchColumns("pj", "mj", None, None, None)


class Searcher:
    """``search_events`` and ``correlated_events`` of an ``EventStore``."""

    def __init__(self, connections: Connections) -> None:
        self._c = connections

    @property
    def _dialect(self) -> str:
        return self._c.backend.name

    def search_events(self, search: EventSearch, *, after_position: int = 0,
                      limit: int = 1000) -> list[RecordedEvent]:
        """Up to ``limit`` matching events after a position, in position order (page on by
        passing the last position returned)."""
        params = Params(pyformat=self._dialect != "sqlite")
        after = params.add(after_position)
        if self._dialect == "sqlite":
            clauses = [f"position > {after}", *where("sqlite", search, _ROW, params)]
            sql = (f"SELECT {_COLUMNS} FROM events WHERE {' AND '.join(clauses)} "
                   f"ORDER BY position LIMIT {int(limit)}")
        else:
            sql = self._postgres_sql(search, after, params, limit)
        return [row_to_event(r) for r in self._c.read(sql, params.values)]

    def _postgres_sql(self, search: EventSearch, after: str, params: Params,
                      limit: int) -> str:
        """The metadata and payload texts are cast to jsonb once a row, in a subquery the
        planner keeps (``OFFSET 0``): every condition reads the same parsed document."""
        plain = " AND ".join([f"position > {after}", *where("postgresql", search, _PLAIN,
                                                            params)])
        if not search.conditions:
            return (f"SELECT {_COLUMNS} FROM events WHERE {plain} ORDER BY position "
                    f"LIMIT {int(limit)}")
        decoded = " AND ".join(where("postgresql", EventSearch(search.conditions), _DECODED,
                                     params))
        return (f"SELECT {_COLUMNS} FROM (SELECT {_COLUMNS}, payload::jsonb AS pj, "
                f"metadata::jsonb AS mj FROM events WHERE {plain} ORDER BY position "
                f"OFFSET 0) e WHERE {decoded} ORDER BY position LIMIT {int(limit)}")

    def correlated_events(self, correlation_id: str, *, limit: int = 10_000,
                          ) -> list[RecordedEvent]:
        """Every event whose metadata names this correlation id, in position order."""
        params = Params(pyformat=self._dialect != "sqlite")
        sql = (f"SELECT {_COLUMNS} FROM events WHERE "
               f"{correlation_expression(self._dialect)} = {params.add(correlation_id)} "
               f"ORDER BY position LIMIT {int(limit)}")
        return [row_to_event(r) for r in self._c.read(sql, params.values)]
