"""Whether a folded state fits its read-model row, and an insert that never stops on one that
does not.

A read model is rebuilt from events nobody here chose: an import, a foreign source, an old bug
may hold a quantity of 10**20 or a customer that is a number. Such a stream is recorded as not
projectable (``rm_unprojectable``, audited like a mismatch) instead of stopping every later
catch-up, which would leave the store unable to open for writing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Connection, Integer, String, Table, Text, insert
from sqlalchemy import exc as sa_exc

_INT_BOUNDS: dict[type[Any], int] = {Integer: 2**31, BigInteger: 2**63}
"""Integer columns hold 32 bits on PostgreSQL, BigInteger 64 bits on both backends."""


def value_problem(column: Any, value: Any) -> str | None:
    """Why ``value`` cannot be stored in ``column`` on every backend, or None if it can."""
    if value is None:
        return None if column.nullable else "is empty"
    kind = type(column.type)
    if kind in _INT_BOUNDS:
        if type(value) is not int:
            return f"is a {type(value).__name__}, not a whole number"
        bound = _INT_BOUNDS[kind]
        if not -bound <= value < bound:
            return f"{value if abs(value) < 10**30 else 'a number of that size'} is outside " \
                   f"the column's {bound.bit_length()}-bit range"
        return None
    if isinstance(column.type, String | Text):
        if not isinstance(value, str):
            return f"is a {type(value).__name__}, not text"
        length = getattr(column.type, "length", None)
        if length is not None and len(value) > length:
            return f"is {len(value):,} characters long, more than the column's {length}"
        if "\x00" in value:
            return "holds a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "holds a lone surrogate"
    return None


_Check = tuple[str, Any, int, int | None]
"""(column name, the column, its integer bound or 0 for text and others, text length)."""


@cache
def _checks(table: Table) -> tuple[_Check, ...]:
    checks = []
    for column in table.columns:
        bound = _INT_BOUNDS.get(type(column.type), 0)
        length = getattr(column.type, "length", None) if isinstance(
            column.type, String | Text) else None
        checks.append((column.name, column, bound, length))
    return tuple(checks)


def row_problem(table: Table, row: Mapping[str, Any]) -> str | None:
    """The first reason a row cannot be inserted into ``table``, naming the column.

    A catch-up checks every row it writes, so the values that fit (all of them, nearly
    always) pass a few inline tests; ``value_problem`` is asked only about the others.
    """
    for name, column, bound, length in _checks(table):
        if name not in row:
            continue
        value = row[name]
        if value is None and column.nullable:
            continue
        if bound:
            if type(value) is int and -bound <= value < bound:
                continue
        elif type(value) is str and (length is None or len(value) <= length) \
                and value.isascii() and "\x00" not in value:
            continue
        problem = value_problem(column, value)
        if problem is not None:
            return f"{name} {problem}"
    return None


_INSERT_ERRORS = (sa_exc.SQLAlchemyError, OverflowError, ValueError, TypeError)


def insert_fitting(conn: Connection, table: Table, rows: Sequence[dict[str, Any]],
                   key: Callable[[dict[str, Any]], str]) -> dict[str, str]:
    """Insert the rows that fit; returns {key: reason} for those that do not.

    Rows are checked first; if the database still refuses the batch (a limit the check does
    not know), each row is retried in a savepoint of its own, so one refusal never undoes the
    rest of the caller's transaction.
    """
    refused: dict[str, str] = {}
    fitting = []
    for row in rows:
        problem = row_problem(table, row)
        if problem is None:
            fitting.append(row)
        else:
            refused[key(row)] = problem
    if not fitting:
        return refused
    try:
        with conn.begin_nested():
            conn.execute(insert(table), fitting)
    except _INSERT_ERRORS:
        for row in fitting:
            try:
                with conn.begin_nested():
                    conn.execute(insert(table), [row])
            except _INSERT_ERRORS as e:
                refused[key(row)] = _first_line(e)
    return refused


def _first_line(e: BaseException) -> str:
    text = str(getattr(e, "orig", None) or e).strip().splitlines()
    return text[0] if text else type(e).__name__
