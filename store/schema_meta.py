"""The schema's version and the keys of ``es_meta``: what every open reads first, as plain
constants, so that opening a store loads no table definitions (``store.schema``, SQLAlchemy).
Bump SCHEMA_VERSION with every change of the schema and add a migration step."""

from __future__ import annotations

SCHEMA_VERSION = 5
"""2 adds ``imports``: which positions an import copied in (see ``store.origins``); 3 the index
on each event's correlation id (``store.tracing``), an expression index the dialects write
differently, so it is created there and not declared here; 4 ``fold_snapshots``, the states
folds other than esaudit's domain reached (``store.fold_snapshots``); 5
``timeline_minutes``, the events counted per minute, stream type and event type
(``store.timeline_minutes``)."""

SCHEMA_VERSION_KEY = "schema_version"
"""es_meta key: the schema version the store is at."""

ORIGINS_KNOWN_AFTER = "origins_known_after"
"""es_meta key: a store made before ``imports`` existed knows nothing of the origin of the
events up to this position."""

TIMELINE_MINUTES_THROUGH = "timeline_minutes_through"
"""es_meta key: ``timeline_minutes`` counts every event up to this position (absent: it
counts none of a store that had events before the table existed)."""
