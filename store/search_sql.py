"""A search (``store.search``) as SQL: SQLite's JSON functions, PostgreSQL's jsonb operators.

Each source says where its columns are (``SearchColumns``: the payload and metadata as JSON
documents, the type, stream id and time columns), and gets the WHERE clauses of a search with
their parameters in its driver's style. The clauses mean exactly what ``Condition.holds``
means in Python, which the read contract checks on every source.

SQLite: a path is bound as a JSON path (``$."lines"."SKU-1"."qty"``); ``json_type`` tells the
field's type so that no comparison crosses types (SQLite would order any number before any
text). PostgreSQL: a path is bound as ``text[]`` for ``#>``; strings compare ``COLLATE "C"``
(code point order, as in Python and SQLite), numbers as ``numeric``. ``~`` lowers both sides:
on SQLite with ``esaudit_lower`` (Python's ``str.lower``, which every connection esaudit opens
registers, so that non-ASCII letters fold too), on PostgreSQL with ``lower``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from .search import DECIMAL_TYPE, JSON_NUMBER, Condition, EventSearch, Key

LOWER_FUNCTION = "esaudit_lower"


def register_functions(conn: sqlite3.Connection) -> None:
    """The functions search SQL calls on SQLite, on a new connection."""
    conn.create_function(LOWER_FUNCTION, 1, _lower, deterministic=True)


def _lower(value: str | int | float | bytes | None) -> str | int | float | bytes | None:
    return value.lower() if isinstance(value, str) else value


class Params:
    """The named parameters of one statement, each placeholder in the driver's style:
    ``:name`` for sqlite3 and SQLAlchemy's ``text``, ``%(name)s`` for psycopg. Named, so a
    clause may be built in any order and a placeholder used twice."""

    def __init__(self, pyformat: bool = False) -> None:
        self.pyformat = pyformat
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        name = f"s{len(self.values)}"
        self.values[name] = value
        return f"%({name})s" if self.pyformat else f":{name}"


@dataclass(frozen=True, slots=True)
class SearchColumns:
    """Where a source's event table keeps what a search filters on (SQL expressions); a filter
    whose column is None is left to the caller (who filters the rows in Python)."""

    payload: str | None
    metadata: str | None
    type: str | None
    stream_id: str | None
    recorded_at_us: str | None


def where(dialect: str, search: EventSearch, columns: SearchColumns,
          params: Params) -> list[str]:
    """The clauses (ANDed) that keep exactly the events the search matches, but for the
    filters ``columns`` has no column for."""
    clauses: list[str] = []
    if search.event_types is not None and columns.type is not None:
        if not search.event_types:
            clauses.append("1 = 0")
        else:
            marks = ", ".join(params.add(t) for t in search.event_types)
            clauses.append(f"{columns.type} IN ({marks})")
    glob = search.stream_glob
    if glob is not None and columns.stream_id is not None:
        if dialect == "sqlite":
            clauses.append(f"{columns.stream_id} GLOB {params.add(sqlite_glob(glob))}")
        else:
            clauses.append(f"{columns.stream_id} LIKE {params.add(like_pattern(glob))}")
    if columns.recorded_at_us is not None:
        if search.since_us is not None:
            clauses.append(f"{columns.recorded_at_us} >= {params.add(search.since_us)}")
        if search.until_us is not None:
            clauses.append(f"{columns.recorded_at_us} <= {params.add(search.until_us)}")
    for condition in search.conditions:
        document = columns.payload if condition.field == "payload" else columns.metadata
        if document is None:  # the caller filters these
            continue
        clause = (sqlite_condition if dialect == "sqlite" else postgres_condition)(
            condition, document, params)
        clauses.append(f"({clause})")
    return clauses


# -- globs -----------------------------------------------------------------------------------
def sqlite_glob(pattern: str) -> str:
    """A stream-id glob for SQLite's GLOB: ``*`` and ``?`` kept, ``[`` made literal."""
    return pattern.replace("[", "[[]")


def like_pattern(pattern: str) -> str:
    """A stream-id glob for LIKE with the backslash escape (PostgreSQL's default)."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


# -- SQLite ----------------------------------------------------------------------------------
def sqlite_path(path: tuple[Key, ...]) -> str:
    """A path as SQLite's JSON path, every key quoted (SQLite has no escape inside quotes,
    so a key holding a double quote cannot be named)."""
    parts = ["$"]
    for key in path:
        if isinstance(key, int):
            parts.append(f"[{key}]")
        elif '"' in key:
            raise ValueError(f"a field whose name holds a double quote ({key!r}) cannot be "
                             "searched in a SQLite store")
        else:
            parts.append(f'."{key}"')
    return "".join(parts)


def sqlite_condition(c: Condition, doc: str, params: Params) -> str:
    path = sqlite_path(c.path)

    def at(suffix: str = "") -> str:
        return params.add(path + suffix)

    kind = c.kind
    if kind == "null":
        if c.op == "=":
            return f"coalesce(json_type({doc}, {at()}), 'null') = 'null'"
        return f"json_type({doc}, {at()}) <> 'null'"
    if kind == "bool":
        wanted = "true" if (c.value is True) == (c.op == "=") else "false"
        return f"json_type({doc}, {at()}) = '{wanted}'"
    typed = (f"json_type({doc}, {at(_TYPE)}) = 'text' AND "
             f"json_type({doc}, {at(_DATA)}) = 'text'")
    if kind == "number":
        def data() -> str:
            return f"json_extract({doc}, {at(_DATA)})"
        value = (f"CASE json_type({doc}, {at()}) WHEN 'integer' THEN json_extract({doc}, "
                 f"{at()}) WHEN 'real' THEN json_extract({doc}, {at()}) WHEN 'object' THEN "
                 f"CASE WHEN {typed} AND json_extract({doc}, {at(_TYPE)}) = "
                 f"{params.add(DECIMAL_TYPE)} AND json_valid({data()}) AND "
                 f"json_type({data()}) IN ('integer', 'real') THEN CAST({data()} AS REAL) "
                 "END END")
        assert isinstance(c.value, int | float)
        return f"({value}) {c.op} {params.add(float(c.value))}"
    text = (f"CASE json_type({doc}, {at()}) WHEN 'text' THEN json_extract({doc}, {at()}) "
            f"WHEN 'object' THEN CASE WHEN {typed} THEN json_extract({doc}, {at(_DATA)}) "
            "END END")
    if c.op == "~":
        return f"instr({LOWER_FUNCTION}({text}), {params.add(str(c.value).lower())}) > 0"
    return f"({text}) {c.op} {params.add(c.value)}"


_TYPE, _DATA = '."_type_"', '."_data_"'


# -- PostgreSQL ------------------------------------------------------------------------------
def postgres_condition(c: Condition, doc: str, params: Params) -> str:
    """``doc`` is a jsonb expression."""
    keys = [str(k) for k in c.path]

    def v() -> str:
        return f"({doc} #> CAST({params.add(keys)} AS text[]))"

    kind = c.kind
    if kind == "null":
        if c.op == "=":
            return f"coalesce(jsonb_typeof({v()}), 'null') = 'null'"
        return f"jsonb_typeof({v()}) <> 'null'"
    if kind == "bool":
        wanted = "true" if (c.value is True) == (c.op == "=") else "false"
        return f"{v()} = '{wanted}'::jsonb"
    typed = (f"jsonb_typeof({v()} -> '_type_') = 'string' AND "
             f"jsonb_typeof({v()} -> '_data_') = 'string'")
    if kind == "number":
        def data() -> str:
            return f"({v()} ->> '_data_')"
        value = (f"CASE jsonb_typeof({v()}) WHEN 'number' THEN ({v()})::numeric WHEN 'object' "
                 f"THEN CASE WHEN {typed} AND {v()} ->> '_type_' = {params.add(DECIMAL_TYPE)} "
                 f"AND {data()} ~ {params.add('^' + JSON_NUMBER.pattern + '$')} "
                 f"THEN {data()}::numeric END END")
        return f"({value}) {c.op} CAST({params.add(repr(c.value))} AS numeric)"
    text = (f"CASE jsonb_typeof({v()}) WHEN 'string' THEN {v()} #>> '{{}}' WHEN 'object' "
            f"THEN CASE WHEN {typed} THEN {v()} ->> '_data_' END END")
    if c.op == "~":
        return (f"strpos(lower({text}), CAST({params.add(str(c.value).lower())} AS text))"
                " > 0")
    return f'({text}) COLLATE "C" {c.op} CAST({params.add(c.value)} AS text) COLLATE "C"'
