"""The stream browser's pages: the stream list filtered, sorted and counted in the database.

A browser over 100k streams reads only the page on screen, counts a stream's row instead of
reading up to it, and searches words in id and type. A word holding ``*`` or ``?`` is a glob
over the whole stream id instead (``ord-0*``; any case, as the words are). A store with read
models may join one of them (``Annotation``, the application's order summary) so its status
and label columns are shown, sorted and searched too; the read model is the application's
table, the SQL is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from sqlalchemy import Column, Select, and_, func, null, or_, select

from . import schema as s
from .connections import Connections
from .search_sql import like_pattern

SortKey = Literal["stream_id", "stream_type", "version", "status", "last_at"]


@dataclass(frozen=True)
class Annotation:
    """A read-model table joined to the stream list on ``key`` (its stream id column)."""

    key: Column[Any]
    status: Column[Any]
    label: Column[Any]


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


_SORT_COLUMNS = {"stream_id": s.streams.c.stream_id, "stream_type": s.streams.c.stream_type,
                 "version": s.streams.c.version, "last_at": s.streams.c.last_at}


class StreamBrowser:
    def __init__(self, connections: Connections) -> None:
        self._c = connections

    def _select(self, text: str | None, stream_type: str | None,
                annotation: Annotation | None) -> Select[Any]:
        st = s.streams.c
        if annotation is not None:
            query = select(st.stream_id, st.stream_type, st.version, annotation.status,
                           annotation.label, st.first_at, st.last_at, st.head_hash
                           ).select_from(s.streams.outerjoin(annotation.key.table,
                                                             annotation.key == st.stream_id))
        else:
            query = select(st.stream_id, st.stream_type, st.version, null().label("status"),
                           null().label("label"), st.first_at, st.last_at, st.head_hash)
        return query.where(*self._filter(text, stream_type, annotation))

    def _filter(self, text: str | None, stream_type: str | None,
                annotation: Annotation | None) -> list[Any]:
        """The WHERE clauses, on the streams table alone (a count needs no join)."""
        st = s.streams.c
        clauses = [st.stream_type == stream_type] if stream_type else []
        sqlite = self._c.backend.name == "sqlite"

        def like(column: Any, pattern: str, escape: str | None = None) -> Any:
            # SQLite's LIKE already ignores ASCII case, and its lower() folds nothing more:
            # wrapping every column in lower() triples the cost of a 100k-stream scan.
            return column.like(pattern, escape=escape) if sqlite else \
                column.ilike(pattern, escape=escape)

        for word in (text or "").split():
            if is_glob(word):
                clauses.append(like(st.stream_id, like_pattern(word), "\\"))
                continue
            pattern = f"%{word}%"
            found = [like(st.stream_id, pattern), like(st.stream_type, pattern)]
            if annotation is not None:
                # A subquery, not the outer join: it scans a covering index of the read
                # model once instead of looking up every stream's row.
                found.append(st.stream_id.in_(select(annotation.key).where(
                    or_(like(annotation.label, pattern), like(annotation.status, pattern)))))
            clauses.append(or_(*found))
        return clauses

    @staticmethod
    def _sort_key(sort: SortKey, annotation: Annotation | None) -> Any:
        """The sort expression; never NULL (status is '' for streams without a row), so both
        backends order it alike and a row's place can be counted with plain < and =."""
        if sort == "status":
            if annotation is None:
                return s.streams.c.stream_id
            return func.coalesce(annotation.status, "")
        return _SORT_COLUMNS[sort]

    def rows(self, text: str | None = None, stream_type: str | None = None, *,
             sort: SortKey = "stream_id", descending: bool = False, offset: int = 0,
             limit: int | None = None, annotation: Annotation | None = None,
             ) -> list[StreamPageRow]:
        key = self._sort_key(sort, annotation)
        query = self._select(text, stream_type, annotation).order_by(
            key.desc() if descending else key.asc(), s.streams.c.stream_id.asc()
        ).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self._c.read_connection() as conn:
            return [StreamPageRow(*r) for r in conn.execute(query).all()]

    def count(self, text: str | None = None, stream_type: str | None = None,
              annotation: Annotation | None = None) -> int:
        query = select(func.count()).select_from(s.streams).where(
            *self._filter(text, stream_type, annotation))
        with self._c.read_connection() as conn:
            return int(conn.execute(query).scalar() or 0)

    def row_number(self, stream_id: str, text: str | None = None,
                   stream_type: str | None = None, *, sort: SortKey = "stream_id",
                   descending: bool = False, annotation: Annotation | None = None,
                   ) -> int | None:
        """Where a stream sits (0-based) in ``rows``' order under this filter, or None if the
        filter hides it: it counts the rows that sort before the stream."""
        key = self._sort_key(sort, annotation)
        where = self._filter(text, stream_type, annotation)
        source: Any = s.streams
        if sort == "status" and annotation is not None:
            source = s.streams.outerjoin(annotation.key.table,
                                         annotation.key == s.streams.c.stream_id)
        with self._c.read_connection() as conn:
            found = conn.execute(select(key).select_from(source).where(
                s.streams.c.stream_id == stream_id, *where)).first()
            if found is None:
                return None
            value = found[0]
            ahead = key > value if descending else key < value
            before = or_(ahead, and_(key == value, s.streams.c.stream_id < stream_id))
            return int(conn.execute(select(func.count()).select_from(source).where(
                *where, before)).scalar() or 0)
