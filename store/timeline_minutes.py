"""Events counted per minute, stream type and event type: what the timeline draws of a big
store before it has read the events themselves.

The timeline's view of a whole history is a density, how many events of each lane fall in
each stretch of time. Reading every event's columns costs about a microsecond a row in Python
(ten seconds for ten million events on two cores), while an import holds every row it writes
anyway: it counts them per minute in the same transaction, so the counts commit or roll back
with the events. ``es_meta``'s ``timeline_minutes_through`` is the position up to which the
counts are complete. Appends do not count (one more write per command, where every append's
cost counts); an import first counts the events appended since the marker, up to
``CATCH_UP_MAX`` of them, then its own rows, so the counts stay complete up to the marker with
no hole, and a reader counts the events after it itself.

Like a snapshot this is derived data, never the source of truth: the app replaces the drawing
with the events as soon as it has read them, and a store whose counts do not add up to its
events is drawn from the events alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .records import MinuteCount, MinuteCounts
from .schema_meta import TIMELINE_MINUTES_THROUGH

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from .connections import Connections

MINUTE_US = 60_000_000
FIRST_SCHEMA = 5
"""The schema version that added the ``timeline_minutes`` table."""

MinuteKey = tuple[int, str, str]
"""(minute, stream type, event type): the minute is ``recorded_at_us // MINUTE_US``."""

CATCH_UP_MAX = 200_000
"""The most events appended since the marker that an import counts before its own rows: at
about a microsecond each, no more than a big store's open costs to count them itself."""


def _position(marker: object) -> int | None:
    """The marker's position; None for a value esaudit never writes (an edited marker makes
    the counts count for nothing, it never stops an open or an import)."""
    if isinstance(marker, str) and marker.isascii() and marker.isdigit() and len(marker) <= 18:
        return int(marker)  # at most 18 digits: below 2**63, and never a huge int to parse
    return None


def _valid(row: tuple[object, ...]) -> bool:
    minute, stream_type, type_, events = row
    return (type(minute) is int and type(events) is int and events > 0
            and isinstance(stream_type, str) and isinstance(type_, str))


def _through(marker: object, has_events: Callable[[], bool]) -> int | None:
    """The position the counts are complete up to; None where they count none of the store's
    events (a store that had events before the table, or an edited marker)."""
    if marker is None:
        return None if has_events() else 0
    return _position(marker)


def counted_through(conn: Connection, mark: str) -> int | None:
    """``_through`` inside an import's write transaction."""
    marker = conn.exec_driver_sql(f"SELECT value FROM es_meta WHERE key = {mark}",
                                  (TIMELINE_MINUTES_THROUGH,)).scalar()
    return _through(marker, lambda: conn.exec_driver_sql(
        "SELECT 1 FROM events LIMIT 1").first() is not None)


def counts_from(conn: Connection, mark: str, head: int) -> dict[MinuteKey, int] | None:
    """Where an import starts counting: the counts of the events after the marker (appended
    since the last import that counted), or None where it counts nothing: counts that count
    none of the store, a marker past the head, more than ``CATCH_UP_MAX`` events after it,
    or one of them holding a value esaudit never writes."""
    through = counted_through(conn, mark)
    if through is None or through > head or head - through > CATCH_UP_MAX:
        return None
    if through == head:
        return {}
    rows = conn.exec_driver_sql(
        "SELECT recorded_at, stream_type, type FROM events "
        f"WHERE position > {mark} AND position <= {mark}", (through, head)).tuples()
    return count_events(rows, {})


def count_events(events: Iterable[tuple[object, object, object]],
                 counts: dict[MinuteKey, int]) -> dict[MinuteKey, int] | None:
    """``counts`` with events given as (recorded at, stream type, event type) added, each
    in its minute as an import counts it; None where one holds a value esaudit never writes
    (then the counts count for nothing). What both an import catching up and a reader
    counting the events after the marker apply."""
    for at, stream_type, type_ in events:
        if type(at) is not int or not isinstance(stream_type, str) \
                or not isinstance(type_, str):
            return None
        key = (at // MINUTE_US, stream_type, type_)
        counts[key] = counts.get(key, 0) + 1
    return counts


def add_counts(conn: Connection, mark: str, counts: dict[MinuteKey, int], through: int,
               ) -> None:
    """Add an import's counts (with those ``counts_from`` began with) and move the marker to
    its last position, in its transaction."""
    rows = [(minute, stream_type, type_, n) for (minute, stream_type, type_), n
            in counts.items()]
    if rows:
        conn.exec_driver_sql(
            "INSERT INTO timeline_minutes (minute, stream_type, type, events) VALUES "
            f"({mark}, {mark}, {mark}, {mark}) ON CONFLICT (minute, stream_type, type) "
            "DO UPDATE SET events = timeline_minutes.events + excluded.events", rows)
    conn.exec_driver_sql(
        f"INSERT INTO es_meta (key, value) VALUES ({mark}, {mark}) ON CONFLICT (key) "
        "DO UPDATE SET value = excluded.value", (TIMELINE_MINUTES_THROUGH, str(through)))


class TimelineMinutes:
    """Reads the counts of esaudit's store (one older than the table, opened read-only and
    so not upgraded, has none)."""

    def __init__(self, connections: Connections, schema_version: Callable[[], int]) -> None:
        self._c = connections
        self._schema_version = schema_version

    def read(self, max_rows: int | None = None) -> MinuteCounts | None:
        """The counts; None where there are none, or more than ``max_rows`` rows of them."""
        if self._schema_version() < FIRST_SCHEMA:
            return None
        with self._c.reads() as q:
            # One transaction: the marker and the counts are the same commit's.
            through = _through(
                q.value(f"SELECT value FROM es_meta WHERE key = {q.mark}",
                        [TIMELINE_MINUTES_THROUGH]),
                lambda: q.value("SELECT 1 FROM events LIMIT 1") is not None)
            if through is None:
                return None
            if max_rows is not None:
                kept = q.value("SELECT count(*) FROM (SELECT 1 FROM timeline_minutes "
                               f"LIMIT {int(max_rows) + 1}) AS t")
                if kept > max_rows:
                    return None
            rows = q.rows("SELECT minute, stream_type, type, events FROM timeline_minutes "
                          "ORDER BY minute, stream_type, type")
        if not all(map(_valid, rows)):
            return None
        return MinuteCounts(through, [MinuteCount(*row) for row in rows])
