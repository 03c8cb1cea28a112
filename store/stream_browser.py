"""The stream browser's pages: the stream list filtered, sorted and counted in the database.

A browser over 100k streams reads only the page on screen, counts a stream's row instead of
reading up to it, and searches words in id and type. A word holding ``*`` or ``?`` is a glob
over the whole stream id instead (``ord-0*``; any case, as the words are). A store with read
models may join one of them (``Annotation``, the application's order summary) so its status
and label columns are shown, sorted and searched too; the read model is the application's
table, the SQL is here: driver SQL, so a command that lists streams starts without SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from .connections import Connections
from .search_sql import like_pattern

SortKey = Literal["stream_id", "stream_type", "version", "status", "last_at"]


@dataclass(frozen=True)
class Annotation:
    """A read-model table joined to the stream list on ``key`` (its stream id column), by the
    names of the table and its columns."""

    table: str
    key: str
    status: str
    label: str

    def column(self, name: str) -> str:
        return f"{self.table}.{name}"


class StreamPageRow(NamedTuple):
    """One row of a page: the stream list's columns and the annotation's (None without one)."""

    stream_id: str
    stream_type: str
    version: int
    status: str | None
    label: str | None
    first_at_us: int
    last_at_us: int
    head_hash: str


def is_glob(word: str) -> bool:
    """Whether a word of the filter is a stream-id glob (it holds ``*`` or ``?``)."""
    return "*" in word or "?" in word


_SORT_COLUMNS = {"stream_id": "streams.stream_id", "stream_type": "streams.stream_type",
                 "version": "streams.version", "last_at": "streams.last_at"}

Where = tuple[list[str], list[Any]]
"""WHERE clauses (driver SQL) and their parameters, in order."""


class StreamBrowser:
    def __init__(self, connections: Connections) -> None:
        self._c = connections

    @staticmethod
    def _source(annotation: Annotation | None) -> str:
        """The stream list, joined with the annotation's table."""
        if annotation is None:
            return "streams"
        return (f"streams LEFT OUTER JOIN {annotation.table} "
                f"ON {annotation.column(annotation.key)} = streams.stream_id")

    def _filter(self, text: str | None, stream_type: str | None,
                annotation: Annotation | None) -> Where:
        """The WHERE clauses, on the streams table alone (a count needs no join)."""
        mark, like = self._c.sql.mark, self._c.sql.like
        clauses: list[str] = []
        params: list[Any] = []
        if stream_type:
            clauses.append(f"streams.stream_type = {mark}")
            params.append(stream_type)
        for word in (text or "").split():
            if is_glob(word):
                clauses.append(f"streams.stream_id {like} {mark} ESCAPE '\\'")
                params.append(like_pattern(word))
                continue
            pattern = f"%{word}%"
            found = [f"streams.stream_id {like} {mark}", f"streams.stream_type {like} {mark}"]
            params += [pattern, pattern]
            if annotation is not None:
                # A subquery, not the outer join: it scans a covering index of the read
                # model once instead of looking up every stream's row.
                a = annotation
                found.append(f"streams.stream_id IN (SELECT {a.column(a.key)} FROM {a.table} "
                             f"WHERE {a.column(a.label)} {like} {mark} "
                             f"OR {a.column(a.status)} {like} {mark})")
                params += [pattern, pattern]
            clauses.append(f"({' OR '.join(found)})")
        return clauses, params

    @staticmethod
    def _sort_key(sort: SortKey, annotation: Annotation | None) -> str:
        """The sort expression; never NULL (status is '' for streams without a row), so both
        backends order it alike and a row's place can be counted with plain < and =."""
        if sort == "status":
            if annotation is None:
                return "streams.stream_id"
            return f"coalesce({annotation.column(annotation.status)}, '')"
        return _SORT_COLUMNS[sort]

    def rows(self, text: str | None = None, stream_type: str | None = None, *,
             sort: SortKey = "stream_id", descending: bool = False, offset: int = 0,
             limit: int | None = None, annotation: Annotation | None = None,
             ) -> list[StreamPageRow]:
        a = annotation
        labels = (f"{a.column(a.status)}, {a.column(a.label)}" if a is not None
                  else "NULL, NULL")
        clauses, params = self._filter(text, stream_type, annotation)
        key = self._sort_key(sort, annotation)
        sql = (f"SELECT streams.stream_id, streams.stream_type, streams.version, {labels}, "
               f"streams.first_at, streams.last_at, streams.head_hash "
               f"FROM {self._source(annotation)}{_where(clauses)} "
               f"ORDER BY {key} {'DESC' if descending else 'ASC'}, streams.stream_id ASC "
               f"{self._c.sql.no_limit if limit is None else f'LIMIT {int(limit)}'} "
               f"OFFSET {int(offset)}")
        return [StreamPageRow(*r) for r in self._c.read(sql, params)]

    def count(self, text: str | None = None, stream_type: str | None = None,
              annotation: Annotation | None = None) -> int:
        clauses, params = self._filter(text, stream_type, annotation)
        return int(self._c.read(f"SELECT count(*) FROM streams{_where(clauses)}",
                                params)[0][0] or 0)

    def row_number(self, stream_id: str, text: str | None = None,
                   stream_type: str | None = None, *, sort: SortKey = "stream_id",
                   descending: bool = False, annotation: Annotation | None = None,
                   ) -> int | None:
        """Where a stream sits (0-based) in ``rows``' order under this filter, or None if the
        filter hides it: it counts the rows that sort before the stream, in the same read
        transaction that found it."""
        key = self._sort_key(sort, annotation)
        clauses, params = self._filter(text, stream_type, annotation)
        source = self._source(annotation if sort == "status" else None)
        with self._c.reads() as q:
            found = q.rows(f"SELECT {key} FROM {source}"
                           f"{_where([f'streams.stream_id = {q.mark}', *clauses])}",
                           [stream_id, *params])
            if not found:
                return None
            value = found[0][0]
            ahead = f"{key} {'>' if descending else '<'} {q.mark}"
            before = f"({ahead} OR ({key} = {q.mark} AND streams.stream_id < {q.mark}))"
            return int(q.value(f"SELECT count(*) FROM {source}{_where([*clauses, before])}",
                               [*params, value, value, stream_id]) or 0)


def _where(clauses: list[str]) -> str:
    return f" WHERE {' AND '.join(clauses)}" if clauses else ""
