"""A read command on an eventsourcing SQLite file starts as one on esaudit's own store does:
with the standard library's sqlite3 alone (no SQLAlchemy, psycopg, Qt or numpy), and the file
and its side files stay byte for byte as they were."""

from __future__ import annotations

import pytest

from tests.loaded_modules import loaded_by

from .eventsourcing_apps import Expected
from .test_eventsourcing_source import files_of

READS = [
    ["streams"], ["streams", "--json"], ["info", "--json"], ["events", "{stream}"],
    ["replay", "{stream}"], ["verify"], ["diff", "{stream}", "1", "2"],
    ["search", "--where", "payload.amount>1"],
]


@pytest.mark.parametrize("argv", READS, ids=" ".join)
def test_a_read_of_an_eventsourcing_file_loads_no_database_layer(
        eventsourcing_sqlite_bank_snapshots: Expected, argv: list[str]) -> None:
    expected = eventsourcing_sqlite_bank_snapshots
    stream = expected.aggregates[0].id
    before = files_of(expected.location)
    rc, loaded = loaded_by(["--db", expected.location,
                            *[w.format(stream=stream) for w in argv]])
    assert (rc, loaded) == (0, [])
    assert files_of(expected.location) == before


def test_a_compressed_and_encrypted_file_is_read_the_same_way(
        eventsourcing_sqlite_bank_zlib_aes: Expected) -> None:
    expected = eventsourcing_sqlite_bank_zlib_aes
    assert expected.cipher_key
    rc, loaded = loaded_by(["--db", expected.location, "replay", expected.aggregates[0].id],
                           {"CIPHER_KEY": expected.cipher_key})
    assert (rc, loaded) == (0, [])
