"""Fixtures: stores written by the Python eventsourcing library, for esaudit's read-only
adapter tests. Each fixture writes a fresh store and returns the ``Expected`` the library
reads back from it (see ``eventsourcing_apps``).

SQLite stores live in ``tmp_path``. PostgreSQL stores get a fresh database per test
(``CREATE DATABASE`` with a random name on ``ESAUDIT_TEST_PG_URL``'s server, dropped at
teardown): the library creates its own composite types and functions beside its tables, so
a database, not a schema, is what keeps tests apart. Without the URL the PostgreSQL fixtures
skip, unless ``ESAUDIT_REQUIRE_PG=1`` (CI), where they fail, as in tests/conftest.py.

Names start with ``eventsourcing_`` to stay apart from other peers' fixtures here.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.peers.eventsourcing_apps import (
    EsTarget,
    Expected,
    write_bank_accounts,
    write_domain_styles,
    write_many_bank_accounts,
    write_text_ids,
)

PG_URL = os.environ.get("ESAUDIT_TEST_PG_URL", "")

#: The schema the ``eventsourcing_pg_schema_bank`` fixture writes into (POSTGRES_SCHEMA).
EVENTSOURCING_PG_SCHEMA = "es_ledger"


def _require_pg_url() -> str:
    if not PG_URL:
        if os.environ.get("ESAUDIT_REQUIRE_PG") == "1":
            pytest.fail("ESAUDIT_REQUIRE_PG=1 but ESAUDIT_TEST_PG_URL is not set")
        pytest.skip("ESAUDIT_TEST_PG_URL is not set (CI sets it; see .ci/run)")
    return PG_URL


@pytest.fixture
def eventsourcing_pg_database() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped (``WITH (FORCE)``, in case a test
    left a connection open) when the test ends."""
    url = _require_pg_url()
    name = "es_" + uuid.uuid4().hex[:16]
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def _sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "eventsourcing.db"


# --- eventsourcing.sqlite ---------------------------------------------------------------------


@pytest.fixture
def eventsourcing_sqlite_bank(tmp_path: Path) -> Expected:
    """3 BankAccounts, 13 events, in ``stored_events``; plain JSON states."""
    return write_bank_accounts(EsTarget.sqlite(_sqlite_path(tmp_path)))


@pytest.fixture
def eventsourcing_sqlite_bank_snapshots(tmp_path: Path) -> Expected:
    """As ``eventsourcing_sqlite_bank`` plus 5 rows in ``stored_snapshots`` (automatic at
    versions 3 and 6, one manual at version 4)."""
    return write_bank_accounts(EsTarget.sqlite(_sqlite_path(tmp_path)), snapshots=True)


@pytest.fixture
def eventsourcing_sqlite_bank_zlib(tmp_path: Path) -> Expected:
    """BankAccounts with zlib-compressed states (``ZlibCompressor``)."""
    return write_bank_accounts(EsTarget.sqlite(_sqlite_path(tmp_path)), compress=True)


@pytest.fixture
def eventsourcing_sqlite_bank_aes(tmp_path: Path) -> Expected:
    """BankAccounts with AES-GCM encrypted states; the key is ``Expected.cipher_key``."""
    return write_bank_accounts(EsTarget.sqlite(_sqlite_path(tmp_path)), encrypt=True)


@pytest.fixture
def eventsourcing_sqlite_bank_zlib_aes(tmp_path: Path) -> Expected:
    """BankAccounts compressed then encrypted (the library's order when both are set)."""
    return write_bank_accounts(EsTarget.sqlite(_sqlite_path(tmp_path)), compress=True, encrypt=True)


@pytest.fixture
def eventsourcing_sqlite_styles(tmp_path: Path) -> Expected:
    """Dog (@event), Cargo (module-level events), Counter (version 0), Specimen (every
    payload type), BankAccount: 31 events in ``stored_events``."""
    return write_domain_styles(EsTarget.sqlite(_sqlite_path(tmp_path)))


@pytest.fixture
def eventsourcing_sqlite_styles_snapshots(tmp_path: Path) -> Expected:
    """As ``eventsourcing_sqlite_styles`` plus 5 snapshots: Counter at versions 0 and 2
    (automatic), Dog, Cargo and Specimen at their last version (manual)."""
    return write_domain_styles(EsTarget.sqlite(_sqlite_path(tmp_path)), snapshots=True)


@pytest.fixture
def eventsourcing_sqlite_text_ids(tmp_path: Path) -> Expected:
    """3 Members with text ids (``member-ada``, ``member-zoë``, ``member-<uuid>``), 5
    events, ``ORIGINATOR_ID_TYPE=text``."""
    return write_text_ids(EsTarget.sqlite(_sqlite_path(tmp_path)))


@pytest.fixture
def eventsourcing_sqlite_paging(tmp_path: Path) -> Expected:
    """400 BankAccounts x 5 events = 2,000 events, streams interleaved in the log."""
    return write_many_bank_accounts(EsTarget.sqlite(_sqlite_path(tmp_path)))


# --- eventsourcing.postgres -------------------------------------------------------------------


@pytest.fixture
def eventsourcing_pg_bank(eventsourcing_pg_database: str) -> Expected:
    """3 BankAccounts, 13 events, in ``public.bankaccounts_events``."""
    return write_bank_accounts(EsTarget.postgres(eventsourcing_pg_database))


@pytest.fixture
def eventsourcing_pg_bank_snapshots(eventsourcing_pg_database: str) -> Expected:
    """As ``eventsourcing_pg_bank`` plus 5 rows in ``public.bankaccounts_snapshots``."""
    return write_bank_accounts(EsTarget.postgres(eventsourcing_pg_database), snapshots=True)


@pytest.fixture
def eventsourcing_pg_bank_zlib_aes(eventsourcing_pg_database: str) -> Expected:
    """BankAccounts compressed then AES-GCM encrypted, in ``public.bankaccounts_events``."""
    return write_bank_accounts(
        EsTarget.postgres(eventsourcing_pg_database), compress=True, encrypt=True
    )


@pytest.fixture
def eventsourcing_pg_schema_bank(eventsourcing_pg_database: str) -> Expected:
    """BankAccounts with snapshots in a non-public schema (``POSTGRES_SCHEMA=es_ledger``;
    the library does not create the schema, so this fixture does)."""
    engine = sa.create_engine(eventsourcing_pg_database)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{EVENTSOURCING_PG_SCHEMA}"')
    finally:
        engine.dispose()
    return write_bank_accounts(
        EsTarget.postgres(eventsourcing_pg_database, schema=EVENTSOURCING_PG_SCHEMA),
        snapshots=True,
    )


@pytest.fixture
def eventsourcing_pg_styles(eventsourcing_pg_database: str) -> Expected:
    """The five aggregate styles in ``public.domainstyles_events``, with snapshots."""
    return write_domain_styles(EsTarget.postgres(eventsourcing_pg_database), snapshots=True)


@pytest.fixture
def eventsourcing_pg_text_ids(eventsourcing_pg_database: str) -> Expected:
    """Text-id Members in ``public.club_events`` (``originator_id text``)."""
    return write_text_ids(EsTarget.postgres(eventsourcing_pg_database))


@pytest.fixture
def eventsourcing_pg_paging(eventsourcing_pg_database: str) -> Expected:
    """2,000 events of 400 BankAccounts in ``public.bankaccounts_events``."""
    return write_many_bank_accounts(EsTarget.postgres(eventsourcing_pg_database))


# --- eventsourcing_sqlalchemy -----------------------------------------------------------------


@pytest.fixture
def eventsourcing_sqla_sqlite_bank_snapshots(tmp_path: Path) -> Expected:
    """BankAccounts with snapshots through eventsourcing_sqlalchemy on a SQLite file:
    ``bankaccounts_events`` (``id`` autoincrement, ``originator_id BINARY(16)``) and
    ``bankaccounts_snapshots``."""
    return write_bank_accounts(EsTarget.sqlalchemy_sqlite(_sqlite_path(tmp_path)), snapshots=True)


@pytest.fixture
def eventsourcing_sqla_sqlite_styles(tmp_path: Path) -> Expected:
    """The five aggregate styles through eventsourcing_sqlalchemy on SQLite."""
    return write_domain_styles(EsTarget.sqlalchemy_sqlite(_sqlite_path(tmp_path)))


@pytest.fixture
def eventsourcing_sqla_pg_bank_snapshots(eventsourcing_pg_database: str) -> Expected:
    """BankAccounts with snapshots through eventsourcing_sqlalchemy on PostgreSQL
    (``public.bankaccounts_events`` with an ``id`` column, native ``uuid`` ids)."""
    return write_bank_accounts(EsTarget.sqlalchemy(eventsourcing_pg_database), snapshots=True)


@pytest.fixture
def eventsourcing_sqla_pg_bank_zlib_aes(eventsourcing_pg_database: str) -> Expected:
    """Compressed, encrypted BankAccounts through eventsourcing_sqlalchemy on PostgreSQL."""
    return write_bank_accounts(
        EsTarget.sqlalchemy(eventsourcing_pg_database), compress=True, encrypt=True
    )


# --- one store, every persistence module ------------------------------------------------------

EVENTSOURCING_BANK_BACKENDS = ["sqlite", "postgres", "sqla-sqlite", "sqla-postgres"]


@pytest.fixture(params=EVENTSOURCING_BANK_BACKENDS)
def eventsourcing_bank_store(request: pytest.FixtureRequest, tmp_path: Path) -> Expected:
    """The ``write_bank_accounts`` store (with snapshots) on each persistence module, for
    adapter tests that must pass on all of them."""
    backend: str = request.param
    if backend == "sqlite":
        target = EsTarget.sqlite(_sqlite_path(tmp_path))
    elif backend == "sqla-sqlite":
        target = EsTarget.sqlalchemy_sqlite(_sqlite_path(tmp_path))
    else:
        url: str = request.getfixturevalue("eventsourcing_pg_database")
        target = EsTarget.postgres(url) if backend == "postgres" else EsTarget.sqlalchemy(url)
    return write_bank_accounts(target, snapshots=True)
