"""Emmett histories written by Emmett's own software, one fresh PostgreSQL database per module.

``write_history.mjs`` appends through ``getPostgreSQLEventStore(url).appendToStream`` (npm
``@event-driven-io/emmett-postgresql``, pinned in ``package.json``), reads everything back through
Emmett's own API and prints that reading: the expected answer. Nothing here writes a row by hand.

Without ``ESAUDIT_TEST_PG_URL``, Node.js or ``node_modules`` (``npm ci`` in this folder) the
tests are skipped, except under ``ESAUDIT_REQUIRE_PG=1`` (CI), where each is a failure, as for
the PostgreSQL store contract in ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "write_history.mjs"
PG_URL = os.environ.get("ESAUDIT_TEST_PG_URL", "")
PACKAGES = ("@event-driven-io/emmett", "@event-driven-io/emmett-postgresql",
            "@event-driven-io/dumbo")


def _missing(reason: str) -> None:
    if os.environ.get("ESAUDIT_REQUIRE_PG") == "1":
        pytest.fail(f"ESAUDIT_REQUIRE_PG=1 but {reason}")
    pytest.skip(reason)


def _node() -> str:
    """The node binary, once PostgreSQL, node and Emmett's packages are all present."""
    if not PG_URL:
        _missing("ESAUDIT_TEST_PG_URL is not set (CI sets it; see .ci/run)")
    node = shutil.which("node")
    if node is None:
        _missing("node is not installed (Emmett fixtures; see .ci/run)")
    assert node is not None
    for package in PACKAGES:
        if not (HERE / "node_modules" / package / "package.json").is_file():
            _missing(f"{package} is not installed: run `npm ci` in {HERE} (.ci/run does)")
    return node


EMMETT_READ_KEYS = frozenset(("messageId", "streamName", "streamPosition", "globalPosition"))
"""What Emmett's readers add to each message's stored metadata on the way out."""


def expected_type(stream_id: str, expected: dict[str, Any]) -> str:
    """Written independently of the adapter: the type an explicit append named, else the id's
    prefix before its first '-', else Emmett's own 'emt:unknown'."""
    named = {a["stream_id"]: a["stream_type"] for a in expected["appends"] if "stream_type" in a}
    if stream_id in named:
        return str(named[stream_id])
    return stream_id.split("-", 1)[0] if "-" in stream_id else "emt:unknown"


def stored_metadata(read_back: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in read_back.items() if k not in EMMETT_READ_KEYS}


@dataclass(frozen=True)
class EmmettDatabase:
    """A database Emmett wrote: the URL esaudit opens, the URL node uses, and what Emmett's own
    API read back from it."""

    target: str
    """``postgresql+psycopg://...``: what a user passes to ``esaudit --db``."""
    node_url: str
    """``postgresql://...``: the same database for Emmett's ``pg`` driver."""
    expected: dict[str, Any]
    """The JSON ``write_history.mjs`` printed."""

    def run_emmett(self, *args: str) -> dict[str, Any]:
        """Run the script again on this database (``--more``: a writer at work) and return
        Emmett's new reading of everything."""
        return run_script(self.node_url, *args)


class HeldAppend:
    """``write_history.mjs --hold``: an Emmett append that has drawn its global positions and
    waits to commit while a later append (higher positions) has committed."""

    def __init__(self, node_url: str) -> None:
        self._process = subprocess.Popen([_node(), str(SCRIPT), node_url, "--hold"], cwd=HERE,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self._process.wait(timeout=30)
            pytest.fail(f"write_history.mjs --hold: {self._process.communicate()[1]}")
        self.state: dict[str, Any] = json.loads(line)

    def commit(self) -> dict[str, Any]:
        """Let the held append commit; Emmett's reading of everything afterwards."""
        out, err = self._process.communicate("commit\n", timeout=60)
        if self._process.returncode != 0:
            pytest.fail(f"write_history.mjs --hold exited {self._process.returncode}:\n{err}")
        result: dict[str, Any] = json.loads(out)
        return result

    def abandon(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.communicate()


def run_script(node_url: str, *args: str) -> dict[str, Any]:
    done = subprocess.run([_node(), str(SCRIPT), node_url, *args], cwd=HERE,
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(f"write_history.mjs exited {done.returncode}:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def emmett_db() -> Iterator[EmmettDatabase]:
    """A fresh database holding the history Emmett wrote, dropped after the module."""
    _node()
    name = "emt_" + uuid.uuid4().hex[:12]
    base = sa.make_url(PG_URL)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = base.set(database=name)
    node_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        expected = run_script(node_url)
        yield EmmettDatabase(url.render_as_string(hide_password=False), node_url, expected)
    finally:
        _drop(admin, name)
        admin.dispose()


def _drop(admin: sa.Engine, name: str) -> None:
    """Drop the database; a connection still open on it (a source not closed) is a failure."""
    with admin.connect() as conn:
        try:
            conn.exec_driver_sql(f'DROP DATABASE "{name}"')
        except sa_exc.OperationalError as e:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
            pytest.fail(f"connections were left open on the Emmett database: {e.orig}")


def database_state(target: str) -> dict[str, Any]:
    """Everything a write would change: every table's rows, the sequences, and PostgreSQL's
    own insert/update/delete counters per table (read after the reader's sessions ended, when
    their counters are flushed)."""
    engine = sa.create_engine(target)
    try:
        with engine.connect() as conn:
            _wait_for_other_sessions_to_end(conn)
            tables = conn.exec_driver_sql(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname").scalars()
            rows = {t: conn.exec_driver_sql(
                f'SELECT to_jsonb(t)::text AS r FROM "{t}" t ORDER BY r').scalars().all()
                for t in list(tables)}
            sequences = conn.exec_driver_sql(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
                " ORDER BY sequencename").all()
            conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
            counters = conn.exec_driver_sql(
                "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables"
                " ORDER BY relname").all()
            return {"rows": rows, "sequences": [tuple(s) for s in sequences],
                    "counters": [tuple(c) for c in counters]}
    finally:
        engine.dispose()


def _wait_for_other_sessions_to_end(conn: sa.Connection, timeout_s: float = 10.0) -> None:
    """A session flushes its table counters as it ends, before it leaves pg_stat_activity."""
    deadline = time.monotonic() + timeout_s
    while True:
        others = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()").scalar_one()
        conn.rollback()
        if others == 0:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{others} other sessions still open on the Emmett database")
        time.sleep(0.05)
