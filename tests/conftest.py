"""Shared fixtures: a fresh store target per test on every backend the machine offers.

The PostgreSQL variants read ``ESAUDIT_TEST_PG_URL``; each test gets its own schema. When
``ESAUDIT_REQUIRE_PG=1`` (CI sets it) a missing URL is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from esaudit.bootstrap import Services, bootstrap

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PG_URL = os.environ.get("ESAUDIT_TEST_PG_URL", "")
BACKENDS = ["sqlite", "postgres"]


def _pg_schema_target() -> Iterator[str]:
    if not PG_URL:
        if os.environ.get("ESAUDIT_REQUIRE_PG") == "1":
            pytest.fail("ESAUDIT_REQUIRE_PG=1 but ESAUDIT_TEST_PG_URL is not set")
        pytest.skip("ESAUDIT_TEST_PG_URL is not set (CI sets it; see .ci/run)")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A target (path or URL) where no store exists yet."""
    if request.param == "sqlite":
        yield str(tmp_path / "store.db")
    else:
        yield from _pg_schema_target()


@pytest.fixture
def sqlite_target(tmp_path: Path) -> str:
    return str(tmp_path / "store.db")


@pytest.fixture
def services(store_target: str) -> Iterator[Services]:
    svc = bootstrap(store_target, snapshot_every=3, actor="tester")
    yield svc
    svc.close()


@pytest.fixture
def sqlite_services(sqlite_target: str) -> Iterator[Services]:
    svc = bootstrap(sqlite_target, snapshot_every=3, actor="tester")
    yield svc
    svc.close()
