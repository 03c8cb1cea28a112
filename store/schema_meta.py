"""The schema's version and the keys of ``es_meta``: what every open reads first, as plain
constants, so that opening a store loads no table definitions (``store.schema``, SQLAlchemy).
Bump SCHEMA_VERSION with every change of the schema and add a migration step."""

from __future__ import annotations

SCHEMA_VERSION = 4
"""2 adds ``imports``: which positions an import copied in (see ``store.origins``); 3 the index
on each event's correlation id (``store.tracing``), an expression index the dialects write
differently, so it is created there and not declared here; 4 ``fold_snapshots``, the states
folds other than esaudit's domain reached (``store.fold_snapshots``)."""

SCHEMA_VERSION_KEY = "schema_version"
"""es_meta key: the schema version the store is at."""

ORIGINS_KNOWN_AFTER = "origins_known_after"
"""es_meta key: a store made before ``imports`` existed knows nothing of the origin of the
events up to this position."""
