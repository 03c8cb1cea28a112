"""Replay through the system's own aggregate classes in a child process: every state must be
what the library itself returns, ``app.repository.get(id, version=v)``, read in this process
from the same store (converted by the same ``aggregate_state``, and checked by hand where a
value is known, so the comparison is not only with itself)."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from esaudit.application.code_child import aggregate_state, jsonable
from esaudit.application.code_models import ApplicationCode, CodeModelError
from esaudit.domain.errors import InvalidCommand, UnknownStream
from store import Source
from store.sources import open_source
from store.sources.eventsourcing import EventsourcingSource
from tests.peers.eventsourcing_apps import (
    BankAccount,
    Cargo,
    Counter,
    Dog,
    DomainStyles,
    EsTarget,
    Expected,
    close_application,
    open_application,
    reopen,
)

PEERS = Path(__file__).parent
"""The code path for the fixtures' topics (``tests.peers.eventsourcing_apps:...``): a
package, so the child also puts the directory above ``tests`` on its path."""
USERCODE = PEERS / "usercode"
TROUBLE = "ESAUDIT_TEST_TROUBLE"

REPLAY_FIXTURES = [
    "eventsourcing_sqlite_styles", "eventsourcing_sqlite_bank_zlib_aes",
    "eventsourcing_sqlite_text_ids", "eventsourcing_sqla_sqlite_styles",
    "eventsourcing_pg_styles", "eventsourcing_pg_text_ids",
]
SNAPSHOT_FIXTURES = [
    "eventsourcing_sqlite_bank_snapshots", "eventsourcing_sqlite_styles_snapshots",
    "eventsourcing_sqla_sqlite_bank_snapshots", "eventsourcing_pg_bank_snapshots",
]


def opened(expected: Expected) -> Source:
    return open_source(expected.location, create=False, cipher_key=expected.cipher_key)


def library_key(expected: Expected, aggregate_id: str) -> UUID | str:
    return aggregate_id if expected.id_type == "text" else UUID(aggregate_id)


@pytest.fixture(scope="module")
def code() -> Iterator[ApplicationCode]:
    """One child for the module's tests, as the app keeps one."""
    with ApplicationCode(PEERS) as found:
        yield found


@pytest.fixture
def usercode(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's code importable here too, to write its stores with the library."""
    monkeypatch.syspath_prepend(str(USERCODE))
    return USERCODE


def sha(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# -- replay equals the library's repository.get ---------------------------------------------------

@pytest.mark.parametrize("fixture", REPLAY_FIXTURES)
def test_replay_is_what_the_repository_returns(fixture: str, code: ApplicationCode,
                                               request: pytest.FixtureRequest) -> None:
    expected: Expected = request.getfixturevalue(fixture)
    pick = random.Random(fixture)
    with opened(expected) as source, reopen(expected) as app:
        for aggregate in expected.aggregates:
            first = aggregate.events[0].version
            versions = {aggregate.version, pick.randint(first, aggregate.version), first}
            for version in sorted(versions):
                library = app.repository.get(library_key(expected, aggregate.id),
                                             version=version)
                replayed = code.replay(source, aggregate.id, version)
                assert replayed == aggregate_state(library), (aggregate.class_name, version)
                assert replayed["version"] == version
            assert code.model_name(source, aggregate.id) == \
                "classes:tests.peers.eventsourcing_apps"


@dataclass
class HandStore:
    path: Path
    env: dict[str, str]
    ids: dict[str, UUID] = field(default_factory=dict)


@pytest.fixture
def hand_store(tmp_path: Path) -> HandStore:
    """Known values: a balance of 1379.75, four tricks, a cargo, a counter from version 0."""
    store = HandStore(tmp_path / "styles.db", EsTarget.sqlite(tmp_path / "styles.db").env())
    app = DomainStyles(env=store.env)
    try:
        dog = Dog("Rex", "Beagle")
        for trick in ("sit", "stay", "heel", "beg"):
            dog.add_trick(trick)
        account = BankAccount.open("Ada Lovelace", "GBP")
        account.deposit(Decimal("1000.00"))
        account.deposit(Decimal("500.25"))
        account.withdraw(Decimal("120.50"))
        cargo = Cargo.book("Rotterdam", "Singapore")
        cargo.load("Ever Given")
        counter = Counter("visits")
        counter.increment(5)
        app.save(dog, account, cargo, counter)
        store.ids = {"dog": dog.id, "account": account.id, "cargo": cargo.id,
                     "counter": counter.id}
    finally:
        close_application(app)
    return store


def test_replay_values_by_hand(hand_store: HandStore, code: ApplicationCode) -> None:
    ids = {k: str(v) for k, v in hand_store.ids.items()}
    with open_source(hand_store.path, create=False) as source:
        account = code.replay(source, ids["account"], 4)
        assert account["balance"] == {"_type_": "decimal_str", "_data_": "1379.75"}
        assert account["full_name"] == "Ada Lovelace" and account["is_closed"] is False
        assert account["id"] == {"_type_": "uuid_hex", "_data_": hand_store.ids["account"].hex}
        assert account["version"] == 4
        assert list(account)[:4] == ["id", "version", "created_on", "modified_on"]
        assert account["created_on"]["_type_"] == "datetime_iso"
        assert code.replay(source, ids["account"], 2)["balance"] == {
            "_type_": "decimal_str", "_data_": "1000.00"}
        assert code.replay(source, ids["dog"], 5)["tricks"] == ["sit", "stay", "heel", "beg"]
        assert code.replay(source, ids["dog"], 3)["tricks"] == ["sit", "stay"]
        cargo = code.replay(source, ids["cargo"], 2)
        assert cargo["vessel"] == "Ever Given" and cargo["delivered_at"] is None
        assert code.replay(source, ids["counter"], 0)["count"] == 0
        assert code.replay(source, ids["counter"], 1)["count"] == 5
        with pytest.raises(InvalidCommand):
            code.replay(source, ids["dog"], 6)
        with pytest.raises(UnknownStream):
            code.replay(source, "no-such-stream", 1)
    with open_application(DomainStyles, hand_store.env) as app:
        library = app.repository.get(hand_store.ids["dog"], version=4)
        assert library.tricks == ["sit", "stay", "heel"]
        with open_source(hand_store.path, create=False) as source:
            assert code.replay(source, ids["dog"], 4) == aggregate_state(library)


def test_the_store_is_not_changed(hand_store: HandStore, code: ApplicationCode) -> None:
    before = sha(hand_store.path)
    with open_source(hand_store.path, create=False) as source:
        code.replay(source, str(hand_store.ids["dog"]), 5)
        code.check_snapshots(source)
    assert sha(hand_store.path) == before
    assert sorted(p.name for p in hand_store.path.parent.iterdir()) == ["styles.db"]


# -- the application's own transcodings ------------------------------------------------------------

def write_invoices(path: Path) -> tuple[dict[str, str], UUID]:
    from invoicing.application import Invoicing  # type: ignore[import-not-found]
    from invoicing.domain import Invoice, Line  # type: ignore[import-not-found]

    env = EsTarget.sqlite(path).env()
    app = Invoicing(env=env)
    try:
        invoice = Invoice("2024-001", "ACME")
        invoice.add_line(Line("widgets", 3, Decimal("19.99")))
        invoice.add_line(Line("gadgets", 2, Decimal("100.10")))
        invoice.pay("2024-03-01")
        app.save(invoice)
    finally:
        app.close()
    return env, invoice.id


def test_invoice_lines_through_the_applications_transcoding(usercode: Path,
                                                            tmp_path: Path) -> None:
    from invoicing.application import Invoicing

    env, invoice_id = write_invoices(tmp_path / "invoices.db")
    with ApplicationCode(usercode) as code, \
            open_source(tmp_path / "invoices.db", create=False) as source:
        assert code.model_name(source, str(invoice_id)) == "classes:invoicing.domain"
        head = code.replay(source, str(invoice_id), 4)
        middle = code.replay(source, str(invoice_id), 2)
        app = Invoicing(env=env)
        try:
            assert head == aggregate_state(app.repository.get(invoice_id, version=4))
            assert middle == aggregate_state(app.repository.get(invoice_id, version=2))
        finally:
            app.close()
    assert head["lines"] == [
        {"description": "widgets", "quantity": 3,
         "unit_price": {"_type_": "decimal_str", "_data_": "19.99"}},
        {"description": "gadgets", "quantity": 2,
         "unit_price": {"_type_": "decimal_str", "_data_": "100.10"}}]
    assert head["total"] == {"_type_": "decimal_str", "_data_": "260.17"}
    assert head["paid_on"] == {"_type_": "date", "_data_": "2024-03-01"}
    assert middle["total"] == {"_type_": "decimal_str", "_data_": "59.97"}
    assert middle["paid_on"] is None


# -- snapshots -------------------------------------------------------------------------------------

@pytest.mark.parametrize("fixture", SNAPSHOT_FIXTURES)
def test_the_applications_snapshots_agree(fixture: str, code: ApplicationCode,
                                          request: pytest.FixtureRequest) -> None:
    expected: Expected = request.getfixturevalue(fixture)
    assert expected.snapshots
    seen: list[tuple[int, int]] = []
    with opened(expected) as source:
        assert code.check_snapshots(source, progress=lambda d, t: seen.append((d, t))) == []
    assert seen[-1] == (len(expected.snapshots), len(expected.snapshots))


def test_text_id_snapshots_agree(tmp_path: Path, code: ApplicationCode) -> None:
    from tests.peers.eventsourcing_apps import write_text_ids

    expected = write_text_ids(EsTarget.sqlite(tmp_path / "club.db"), snapshots=True)
    with opened(expected) as source:
        assert code.check_snapshots(source) == []


def test_an_altered_snapshot_is_reported(eventsourcing_sqlite_bank_snapshots: Expected,
                                         tmp_path: Path, code: ApplicationCode) -> None:
    original = Path(eventsourcing_sqlite_bank_snapshots.location)
    before = sha(original)
    copy = tmp_path / "altered" / "bank.db"
    copy.parent.mkdir()
    shutil.copyfile(original, copy)
    ada = eventsourcing_sqlite_bank_snapshots.aggregates[0]
    with sqlite3.connect(copy) as db:
        (state,) = db.execute("SELECT state FROM stored_snapshots WHERE originator_id = ? AND "
                              "originator_version = 4", (UUID(ada.id).hex,)).fetchone()
        altered = state.replace(b'"69.51"', b'"1069.51"')
        assert altered != state
        db.execute("UPDATE stored_snapshots SET state = ? WHERE originator_id = ? AND "
                   "originator_version = 4", (altered, UUID(ada.id).hex))
    db.close()
    with open_source(copy, create=False) as source:
        found = code.check_snapshots(source)
    assert [(f.stream_id, f.version) for f in found] == [(ada.id, 4)]
    assert found[0].detail == ("balance: the snapshot has 1069.51 (Decimal), the events "
                               "69.51 (Decimal)")
    assert sha(original) == before


def test_a_snapshot_that_does_not_load_is_reported(eventsourcing_sqlite_bank_snapshots: Expected,
                                                   tmp_path: Path,
                                                   code: ApplicationCode) -> None:
    copy = tmp_path / "bank.db"
    shutil.copyfile(eventsourcing_sqlite_bank_snapshots.location, copy)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE stored_snapshots SET state = ? WHERE originator_version = 6",
                   (b'{"timestamp": 1',))
    db.close()
    with open_source(copy, create=False) as source:
        found = code.check_snapshots(source)
    assert [f.version for f in found] == [6]
    assert found[0].detail.startswith("the snapshot does not load: MapperDeserialisationError")


# -- what is not the code's ------------------------------------------------------------------------

def test_a_store_esaudit_wrote_has_no_classes(tmp_path: Path, code: ApplicationCode) -> None:
    with open_source(tmp_path / "own.db") as source:
        assert code.model_name(source, "order-1") is None
        with pytest.raises(CodeModelError, match="not a store the eventsourcing library"):
            code.replay(source, "order-1", 1)


def test_code_without_the_module(hand_store: HandStore, tmp_path: Path) -> None:
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    with ApplicationCode(empty) as code, \
            open_source(hand_store.path, create=False) as source:
        dog = str(hand_store.ids["dog"])
        assert code.model_name(source, dog) is None
        with pytest.raises(CodeModelError) as raised:
            code.replay(source, dog, 1)
    assert str(raised.value) == (f"cannot import the application code in {empty}: "
                                 "ModuleNotFoundError: No module named 'tests'")
    with pytest.raises(CodeModelError, match="does not exist"):
        ApplicationCode(tmp_path / "missing")


def test_code_that_does_not_import(hand_store: HandStore, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    (broken / "tests" / "peers").mkdir(parents=True)
    (broken / "tests" / "__init__.py").write_text("")
    (broken / "tests" / "peers" / "__init__.py").write_text("")
    (broken / "tests" / "peers" / "eventsourcing_apps.py").write_text("import nowhere_at_all\n")
    with ApplicationCode(broken) as code, \
            open_source(hand_store.path, create=False) as source, \
            pytest.raises(CodeModelError, match="No module named 'nowhere_at_all'"):
        code.model_name(source, str(hand_store.ids["dog"]))


# -- the user's code misbehaving -------------------------------------------------------------------

@pytest.fixture
def gadgets(usercode: Path, tmp_path: Path) -> tuple[Path, str, str]:
    """A store with a poked gadget (its mutator misbehaves on replay) and an untouched one."""
    from eventsourcing.application import Application
    from troubles import Gadget  # type: ignore[import-not-found]

    path = tmp_path / "gadgets.db"
    app: Application[Any] = Application(env=EsTarget.sqlite(path).env())
    try:
        poked, calm = Gadget("poked"), Gadget("calm")
        poked.poke()
        app.save(poked, calm)
    finally:
        app.close()
    return path, str(poked.id), str(calm.id)


def test_an_exception_in_a_mutator(gadgets: tuple[Path, str, str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path, poked, calm = gadgets
    monkeypatch.setenv(TROUBLE, "raise")
    with ApplicationCode(USERCODE) as code, open_source(path, create=False) as source:
        with pytest.raises(CodeModelError) as raised:
            code.replay(source, poked, 2)
        assert str(raised.value) == (f"the application code raised RuntimeError: the gadget "
                                     f"broke (replaying {poked} to version 2)")
        assert code.replay(source, poked, 1)["pokes"] == 0
        assert code.replay(source, calm, 1)["name"] == "calm"


def test_a_mutator_that_hangs(gadgets: tuple[Path, str, str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    path, poked, calm = gadgets
    monkeypatch.setenv(TROUBLE, "hang")
    with ApplicationCode(USERCODE, timeout_s=1) as code, \
            open_source(path, create=False) as source:
        assert code.replay(source, calm, 1)["pokes"] == 0  # the child is up
        started = time.monotonic()
        with pytest.raises(CodeModelError) as raised:
            code.replay(source, poked, 2)
        assert time.monotonic() - started < 2
        assert str(raised.value) == (f"the application code did not answer within 1 s "
                                     f"(replaying {poked} to version 2)")
        assert code.replay(source, calm, 1)["name"] == "calm"


def test_a_child_killed_mid_call(gadgets: tuple[Path, str, str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path, poked, calm = gadgets
    monkeypatch.setenv(TROUBLE, "die")
    with ApplicationCode(USERCODE) as code, open_source(path, create=False) as source:
        with pytest.raises(CodeModelError) as raised:
            code.replay(source, poked, 2)
        assert str(raised.value) == "the application code's process ended (exit code -9)"
        assert code.replay(source, calm, 1)["name"] == "calm"


# -- the converter ---------------------------------------------------------------------------------

class Colour(Enum):
    RED = 1


@dataclass
class Point:
    x: int
    y: Decimal
    _hidden: int = 0


class Opaque:
    __slots__ = ()

    def __repr__(self) -> str:
        return "Opaque()"


def test_values_keep_their_types() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    assert jsonable({"t": (1, 2), "s": {3, 1, 2}, "p": Point(1, Decimal("2.50")),
                     "c": Colour.RED, "o": Opaque(), 4: b"x", "loop": cyclic}) == {
        "t": [1, 2], "s": [1, 2, 3],
        "p": {"x": 1, "y": {"_type_": "decimal_str", "_data_": "2.50"}},
        "c": {"_type_": "Colour", "_data_": "Colour.RED"},
        "o": {"_type_": "Opaque", "_data_": "Opaque()"},
        "4": {"_type_": "bytes", "_data_": "b'x'"},
        "loop": [{"_type_": "list", "_data_": "<cycle>"}],
    }


# -- the rows the child is sent --------------------------------------------------------------------

def test_stored_rows_are_plain_json(eventsourcing_sqlite_bank_zlib_aes: Expected) -> None:
    expected = eventsourcing_sqlite_bank_zlib_aes
    with opened(expected) as source:
        assert isinstance(source, EventsourcingSource)
        aggregate = expected.aggregates[0]
        rows = source.stored_events(aggregate.id, 2)
        assert [r.originator_version for r in rows] == [1, 2]
        assert [r.topic for r in rows] == [e.topic for e in aggregate.events[:2]]
        assert json.loads(rows[1].state)["amount"] == {"_type_": "decimal_str",
                                                       "_data_": "100.00"}
        assert UUID(rows[0].originator_id) == UUID(aggregate.id)
        assert source.stored_events("no-such-stream") == []
        assert source.stored_snapshots() == []


TWO_APPS = '''
from decimal import Decimal
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import JSONTranscoder


class Jar(Aggregate):
    @event("Filled")
    def __init__(self, amount: Decimal) -> None:
        self.amount = amount


class Pantry(Application[Any]):
    """The library's default transcodings."""


class Cellar(Application[Any]):
    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
'''


def two_apps_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, str]:
    """(code folder, store, jar id): a store Pantry wrote, with code that also defines Cellar,
    which decodes differently."""
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    (code_dir / "esaudit_two_apps.py").write_text(TWO_APPS)
    monkeypatch.syspath_prepend(str(code_dir))
    from esaudit_two_apps import Jar, Pantry  # type: ignore[import-not-found]

    app = Pantry(env=EsTarget.sqlite(tmp_path / "jars.db").env())
    try:
        jar = Jar(Decimal("2.5"))
        app.save(jar)
    finally:
        app.close()
    return code_dir, tmp_path / "jars.db", str(jar.id)


def test_applications_that_decode_differently_are_named(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    code_dir, store, jar_id = two_apps_store(tmp_path, monkeypatch)
    with open_source(store, create=False) as source:
        with ApplicationCode(code_dir) as code, pytest.raises(CodeModelError) as raised:
            code.replay(source, jar_id, 1)
        assert "several Applications that decode differently (esaudit_two_apps:Cellar, " \
               "esaudit_two_apps:Pantry)" in str(raised.value)
        with ApplicationCode(code_dir, application="esaudit_two_apps:Pantry") as code:
            assert code.replay(source, jar_id, 1)["amount"] == {
                "_type_": "decimal_str", "_data_": "2.5"}
