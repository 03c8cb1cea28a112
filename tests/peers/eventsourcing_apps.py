"""Stores written by the Python ``eventsourcing`` library (9.5.6) through its own public API.

esaudit's read-only adapter for eventsourcing stores must read what the library really writes:
its table layouts, its JSON transcoding of Decimal/UUID/datetime, its zlib and AES-GCM
states, its snapshot tables. Hand-made rows would only test our guess of that format, so every
row here is written by an ``Application`` of the library, and every ``Expected`` is what the
library's own API reads back afterwards (never what we meant to write).

The aggregates cover the library's documented modelling styles, because each style leaves
different topics and states in the store:

1. ``BankAccount``: explicit nested event classes triggered with ``trigger_event()``;
2. ``Dog``: the declarative ``@event("...")`` decorator on ``__init__`` and on commands;
3. ``Cargo``: module-level event classes, so topics do not name the aggregate class;
4. ``Counter``: ``INITIAL_VERSION = 0``, so streams start at version 0;
5. ``Specimen``: payloads of every type the JSON transcoder records;
6. ``Member``: text ids (``BaseAggregate[str]`` with ``ORIGINATOR_ID_TYPE=text``).

Topics name this module (``tests.peers.eventsourcing_apps:...``): an adapter must not need to
import it, which is the point of a read-only audit of a foreign store.
"""

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.cryptography import AESCipher
from eventsourcing.domain import (
    Aggregate,
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    CanSnapshotAggregate,
    MetaDomainEvent,
    event,
)
from eventsourcing.utils import Environment, EnvType, get_topic, resolve_topic
from sqlalchemy.engine import URL, make_url

SQLITE_MODULE = "eventsourcing.sqlite"
POSTGRES_MODULE = "eventsourcing.postgres"
SQLALCHEMY_MODULE = "eventsourcing_sqlalchemy"
ZLIB_TOPIC = "eventsourcing.compressor:ZlibCompressor"
AES_TOPIC = "eventsourcing.cryptography:AESCipher"

# ---------------------------------------------------------------------------------------------
# 1. Explicit nested event classes, triggered with trigger_event().
# ---------------------------------------------------------------------------------------------


class BankAccount(Aggregate):
    """A bank account in the library's explicit style: every event class is written out.

    The nested classes get topics such as ``...:BankAccount.Deposited``; the amounts are
    Decimals, which the transcoder stores as ``{"_type_": "decimal_str", ...}``.
    """

    class Opened(Aggregate.Created):
        full_name: str
        currency: str

    class Deposited(Aggregate.Event):
        amount: Decimal

        def apply(self, aggregate: "BankAccount") -> None:
            aggregate.balance += self.amount

    class Withdrawn(Aggregate.Event):
        amount: Decimal

        def apply(self, aggregate: "BankAccount") -> None:
            aggregate.balance -= self.amount

    class Closed(Aggregate.Event):
        reason: str

        def apply(self, aggregate: "BankAccount") -> None:
            aggregate.is_closed = True

    def __init__(self, full_name: str, currency: str) -> None:
        self.full_name = full_name
        self.currency = currency
        self.balance = Decimal("0.00")
        self.is_closed = False

    @classmethod
    def open(cls, full_name: str, currency: str = "EUR") -> "BankAccount":
        return cls._create(cls.Opened, full_name=full_name, currency=currency)

    def deposit(self, amount: Decimal) -> None:
        self._check_open()
        self.trigger_event(self.Deposited, amount=amount)

    def withdraw(self, amount: Decimal) -> None:
        self._check_open()
        self.trigger_event(self.Withdrawn, amount=amount)

    def close(self, reason: str) -> None:
        self._check_open()
        self.trigger_event(self.Closed, reason=reason)

    def _check_open(self) -> None:
        if self.is_closed:
            msg = f"account {self.id} is closed"
            raise ValueError(msg)


# ---------------------------------------------------------------------------------------------
# 2. The declarative @event decorator.
# ---------------------------------------------------------------------------------------------


class Dog(Aggregate):
    """The library's declarative style: ``@event`` defines ``Dog.Registered``/``TrickAdded``
    from the method signatures, so their states hold exactly the method's arguments."""

    @event("Registered")
    def __init__(self, name: str, breed: str) -> None:
        self.name = name
        self.breed = breed
        self.tricks: list[str] = []

    @event("TrickAdded")
    def add_trick(self, trick: str) -> None:
        self.tricks.append(trick)


# ---------------------------------------------------------------------------------------------
# 3. Events defined outside the aggregate class.
# ---------------------------------------------------------------------------------------------


class CargoBooked(Aggregate.Created):
    """Module-level "created" event: its topic is ``...:CargoBooked``, not ``Cargo.X``,
    so an audit cannot derive the aggregate type from the event topic alone (the created
    event's ``originator_topic`` still names ``Cargo``)."""

    origin: str
    destination: str


class CargoLoaded(Aggregate.Event):
    """Module-level event: nothing in its topic or state names ``Cargo``."""

    vessel: str

    def apply(self, aggregate: "Cargo") -> None:
        aggregate.vessel = self.vessel


class CargoDelivered(Aggregate.Event):
    delivered_at: datetime

    def apply(self, aggregate: "Cargo") -> None:
        aggregate.delivered_at = self.delivered_at


class Cargo(Aggregate):
    """Triggers only the module-level events above (never assigned as class attributes,
    which would make the library redefine them as ``Cargo.CargoLoaded``)."""

    def __init__(self, origin: str, destination: str) -> None:
        self.origin = origin
        self.destination = destination
        self.vessel: str | None = None
        self.delivered_at: datetime | None = None

    @classmethod
    def book(cls, origin: str, destination: str) -> "Cargo":
        return cls._create(CargoBooked, origin=origin, destination=destination)

    def load(self, vessel: str) -> None:
        self.trigger_event(CargoLoaded, vessel=vessel)

    def deliver(self, delivered_at: datetime) -> None:
        self.trigger_event(CargoDelivered, delivered_at=delivered_at)


# ---------------------------------------------------------------------------------------------
# 4. INITIAL_VERSION = 0.
# ---------------------------------------------------------------------------------------------


class Counter(Aggregate):
    """Streams that start at version 0: an audit assuming versions start at 1 sees a gap
    or an off-by-one here (and interval snapshots fire at version 0, since 0 % n == 0)."""

    INITIAL_VERSION = 0

    @event("Started")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Incremented")
    def increment(self, by: int) -> None:
        self.count += by


# ---------------------------------------------------------------------------------------------
# 5. Payload values of the types the JSON transcoder records.
# ---------------------------------------------------------------------------------------------


class Specimen(Aggregate):
    """One event per payload shape, so an adapter's decoder meets every JSON form the
    library writes: tagged Decimal/UUID/datetime (also nested in lists and dicts), plain
    str/int/float/bool/None/list/dict, unicode outside the BMP, integers past 64 bits."""

    @event("Catalogued")
    def __init__(self, label: str) -> None:
        self.label = label
        self.readings: list[dict[str, Any]] = []

    @event("Measured")
    def measure(
        self,
        weight: Decimal,
        sample_id: UUID,
        taken_at: datetime,
        note: str,
        count: int,
        ratio: float,
        verified: bool,
        reviewer: str | None,
        tags: list[Any],
        extra: dict[str, Any],
    ) -> None:
        self.readings.append({"weight": weight, "sample_id": sample_id, "taken_at": taken_at})

    @event("Annotated")
    def annotate(self, value: Any) -> None:
        self.last_annotation = value


# ---------------------------------------------------------------------------------------------
# 6. Text ids: the library supports str originator ids with ORIGINATOR_ID_TYPE=text.
# ---------------------------------------------------------------------------------------------


class TextIdDomainEvent(metaclass=MetaDomainEvent):
    """Base event with a ``str`` originator id. The library's own ``DomainEvent`` rejects
    non-UUID ids in ``__post_init__``, so text-id aggregates need their own base (as in the
    library's string-id examples)."""

    originator_id: str
    originator_version: int
    timestamp: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.originator_id, str):
            msg = f"{type(self).__qualname__} needs a str originator_id: {self.originator_id!r}"
            raise TypeError(msg)


class TextIdSnapshot(TextIdDomainEvent, CanSnapshotAggregate[str]):
    """Snapshot class for text-id aggregates (``eventsourcing.domain:Snapshot`` is UUID-only)."""

    topic: str
    state: dict[str, Any]


class TextIdAggregate(BaseAggregate[str]):
    """Base for aggregates whose ids are strings chosen by the domain (``member-ada``)."""

    class Event(TextIdDomainEvent, CanMutateAggregate[str]):
        pass

    class Created(Event, CanInitAggregate[str]):
        originator_topic: str

    Snapshot = TextIdSnapshot


class Member(TextIdAggregate):
    """A club member identified by handle: the id is ``member-<handle>``, unicode allowed."""

    @staticmethod
    def create_id(handle: str) -> str:
        return f"member-{handle}"

    @event("Joined")
    def __init__(self, handle: str, display_name: str) -> None:
        self.handle = handle
        self.display_name = display_name

    @event("Renamed")
    def rename(self, display_name: str) -> None:
        self.display_name = display_name


# ---------------------------------------------------------------------------------------------
# Applications.
# ---------------------------------------------------------------------------------------------


class _EnvOnlyApplication(Application[Any]):
    """An Application configured only by the ``env`` it is given.

    ``Application.construct_env`` merges ``os.environ`` over the class env, and its
    ``Environment`` prefers ``<APPNAME>_KEY`` over ``KEY``: a developer's exported
    ``PERSISTENCE_MODULE``, ``CIPHER_KEY`` or ``BANKACCOUNTS_SQLITE_DBNAME`` would silently
    change what a fixture writes. This override keeps the library's class-level behaviour
    (``snapshotting_intervals`` still switches snapshotting on) and drops only os.environ.
    """

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        merged = dict(type(self).env)
        if type(self).is_snapshotting_enabled or type(self).snapshotting_intervals:
            merged["IS_SNAPSHOTTING_ENABLED"] = "y"
        if env is not None:
            merged.update(env)
        return Environment(name, merged)


class BankAccounts(_EnvOnlyApplication):
    """Tables ``bankaccounts_events``/``bankaccounts_snapshots`` on PostgreSQL and
    SQLAlchemy (named after the application); ``stored_events`` on eventsourcing.sqlite."""


class BankAccountsSnapshotting(BankAccounts):
    """Same tables as ``BankAccounts`` (``name`` is kept), with automatic snapshots every
    3 versions through the library's ``snapshotting_intervals``."""

    name = "BankAccounts"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {BankAccount: 3}


class DomainStyles(_EnvOnlyApplication):
    """Holds one aggregate of each style (Dog, Cargo, Counter, Specimen, BankAccount): a
    store of mixed aggregate types, as real applications write."""


class DomainStylesSnapshotting(DomainStyles):
    """``DomainStyles`` with automatic snapshots of Counters every 2 versions: as Counter
    starts at version 0, the library snapshots it at version 0 too."""

    name = "DomainStyles"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Counter: 2}


class Club(_EnvOnlyApplication):
    """Text-id application: must run with ``ORIGINATOR_ID_TYPE=text``."""


TApp = TypeVar("TApp", bound=Application[Any])

# ---------------------------------------------------------------------------------------------
# Targets.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EsTarget:
    """Where and through which persistence module an Application writes.

    ``location`` is a file path for eventsourcing.sqlite and a SQLAlchemy URL otherwise
    (eventsourcing.postgres takes its POSTGRES_* settings from the URL's parts).
    """

    module: str
    location: str
    schema: str | None = None

    @classmethod
    def sqlite(cls, path: str | Path) -> "EsTarget":
        return cls(SQLITE_MODULE, str(path))

    @classmethod
    def postgres(cls, url: str, *, schema: str | None = None) -> "EsTarget":
        return cls(POSTGRES_MODULE, url, schema)

    @classmethod
    def sqlalchemy(cls, url: str, *, schema: str | None = None) -> "EsTarget":
        return cls(SQLALCHEMY_MODULE, url, schema)

    @classmethod
    def sqlalchemy_sqlite(cls, path: str | Path) -> "EsTarget":
        return cls(SQLALCHEMY_MODULE, f"sqlite:///{path}")

    def env(self) -> dict[str, str]:
        """The library's settings for this target (keys as its factories read them)."""
        if self.module == SQLITE_MODULE:
            return {"PERSISTENCE_MODULE": SQLITE_MODULE, "SQLITE_DBNAME": self.location}
        if self.module == POSTGRES_MODULE:
            url = make_url(self.location)
            env = {
                "PERSISTENCE_MODULE": POSTGRES_MODULE,
                "POSTGRES_DBNAME": url.database or "postgres",
                "POSTGRES_HOST": url.host or "127.0.0.1",
                "POSTGRES_PORT": str(url.port or 5432),
                "POSTGRES_USER": url.username or "postgres",
                "POSTGRES_PASSWORD": url.password or "",
            }
            if self.schema:
                env["POSTGRES_SCHEMA"] = self.schema
            return env
        if self.module == SQLALCHEMY_MODULE:
            env = {"PERSISTENCE_MODULE": SQLALCHEMY_MODULE, "SQLALCHEMY_URL": self.location}
            if self.schema:
                env["SQLALCHEMY_SCHEMA"] = self.schema
            return env
        msg = f"unknown persistence module {self.module!r}"
        raise ValueError(msg)


def as_target(target: "EsTarget | str | Path") -> EsTarget:
    """A path means eventsourcing.sqlite; a ``postgresql...`` URL eventsourcing.postgres."""
    if isinstance(target, EsTarget):
        return target
    text = str(target)
    if text.startswith("postgresql"):
        return EsTarget.postgres(text)
    return EsTarget.sqlite(text)


# ---------------------------------------------------------------------------------------------
# What the library reads back.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectedEvent:
    """One stored event as the library decodes it.

    ``state`` is the decoded stored state: every attribute of the domain event except
    ``originator_id``/``originator_version`` (those are row columns), so it holds
    ``timestamp`` and, on created events, ``originator_topic``. Python types are kept.
    """

    version: int
    class_name: str
    topic: str
    state: Mapping[str, Any]
    timestamp: datetime
    notification_id: int


@dataclass(frozen=True)
class ExpectedAggregate:
    id: str
    class_name: str
    topic: str
    version: int
    events: tuple[ExpectedEvent, ...]


@dataclass(frozen=True)
class ExpectedSnapshot:
    """A snapshot row: ``topic`` is the snapshot class's, ``aggregate_topic`` the aggregate
    class named inside its state (``state`` here is the aggregate's ``__dict__`` as stored)."""

    aggregate_id: str
    version: int
    topic: str
    aggregate_topic: str
    timestamp: datetime
    state: Mapping[str, Any]


@dataclass(frozen=True)
class Expected:
    """What a fixture's store holds, read back through the library's API after writing.

    Plain data (``to_json``/``from_json`` round-trip, tagging Decimal/UUID/datetime) so a
    benchmark or a subprocess can take it. ``env`` reopens the Application; it holds the
    cipher key when there is one.
    """

    persistence_module: str
    application_name: str
    application_topic: str
    location: str
    schema: str | None
    events_table: str
    snapshots_table: str | None
    id_type: str
    compressor_topic: str | None
    cipher_topic: str | None
    cipher_key: str | None
    env: Mapping[str, str]
    aggregates: tuple[ExpectedAggregate, ...]
    snapshots: tuple[ExpectedSnapshot, ...] = ()
    wal_files_after_close: tuple[str, ...] = field(default=())

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables the library created (a snapshots table exists once snapshotting is
        enabled, even if no snapshot was taken)."""
        if self.snapshots_table is None:
            return (self.events_table,)
        return (self.events_table, self.snapshots_table)

    @property
    def events(self) -> tuple[ExpectedEvent, ...]:
        """All events in notification order (the application sequence)."""
        return tuple(
            sorted(
                (e for a in self.aggregates for e in a.events),
                key=lambda e: e.notification_id,
            )
        )

    @property
    def event_count(self) -> int:
        return sum(len(a.events) for a in self.aggregates)

    @property
    def max_notification_id(self) -> int:
        return max((e.notification_id for a in self.aggregates for e in a.events), default=0)

    def aggregate(self, aggregate_id: str) -> ExpectedAggregate:
        for agg in self.aggregates:
            if agg.id == aggregate_id:
                return agg
        raise KeyError(aggregate_id)

    def of_class(self, class_name: str) -> tuple[ExpectedAggregate, ...]:
        return tuple(a for a in self.aggregates if a.class_name == class_name)

    def to_json(self) -> str:
        return json.dumps(_tag(_asdict(self)), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Expected":
        raw = _untag(json.loads(text))
        return cls(
            **{
                **raw,
                "env": dict(raw["env"]),
                "aggregates": tuple(
                    ExpectedAggregate(
                        **{**a, "events": tuple(ExpectedEvent(**e) for e in a["events"])}
                    )
                    for a in raw["aggregates"]
                ),
                "snapshots": tuple(ExpectedSnapshot(**s) for s in raw["snapshots"]),
                "wal_files_after_close": tuple(raw["wal_files_after_close"]),
            }
        )


def _asdict(obj: Any) -> Any:
    """Like dataclasses.asdict but keeps Decimal/UUID/datetime leaves (asdict deep-copies)."""
    if hasattr(obj, "__dataclass_fields__"):
        return {name: _asdict(getattr(obj, name)) for name in obj.__dataclass_fields__}
    if isinstance(obj, Mapping):
        return {k: _asdict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_asdict(v) for v in obj]
    return obj


_TAG = "$esaudit_type"


def _tag(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return {_TAG: "decimal", "value": str(obj)}
    if isinstance(obj, UUID):
        return {_TAG: "uuid", "value": str(obj)}
    if isinstance(obj, datetime):
        return {_TAG: "datetime", "value": obj.isoformat()}
    if isinstance(obj, Mapping):
        return {k: _tag(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_tag(v) for v in obj]
    return obj


def _untag(obj: Any) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {_TAG, "value"}:
            kind, value = obj[_TAG], obj["value"]
            if kind == "decimal":
                return Decimal(value)
            if kind == "uuid":
                return UUID(value)
            return datetime.fromisoformat(value)
        return {k: _untag(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_untag(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------------------------
# Opening, closing, reading back.
# ---------------------------------------------------------------------------------------------


def _variant_env(*, compress: bool, encrypt: bool, snapshots: bool) -> dict[str, str]:
    env: dict[str, str] = {}
    if compress:
        env["COMPRESSOR_TOPIC"] = ZLIB_TOPIC
    if encrypt:
        env["CIPHER_TOPIC"] = AES_TOPIC
        env["CIPHER_KEY"] = AESCipher.create_key(16)
    if snapshots:
        env["IS_SNAPSHOTTING_ENABLED"] = "y"
    return env


def close_application(app: Application[Any]) -> None:
    """Close an Application the way its persistence module leaves the store.

    ``Application.close()`` closes eventsourcing.sqlite's and eventsourcing.postgres's
    pools (SQLite then checkpoints and removes ``-wal``/``-shm``); eventsourcing_sqlalchemy's
    factory has no ``close()``, so its engine is disposed here or its pooled connections
    would keep the WAL open and a PostgreSQL database undroppable.
    """
    app.close()
    datastore = getattr(app.factory, "datastore", None)
    engine = getattr(datastore, "engine", None)
    if engine is not None and hasattr(engine, "dispose"):
        engine.dispose()


@contextmanager
def open_application(app_cls: type[TApp] | str, env: Mapping[str, str]) -> Iterator[TApp]:
    """Open an Application (class or topic) with exactly ``env``; close it on exit."""
    cls: type[TApp] = resolve_topic(app_cls) if isinstance(app_cls, str) else app_cls
    app = cls(env=dict(env))
    try:
        yield app
    finally:
        close_application(app)


@contextmanager
def reopen(expected: Expected) -> Iterator[Application[Any]]:
    """The fixture's Application, opened again on its store (to read, or to write while an
    adapter reads: a SQLite store keeps a live ``-wal`` file while it is open)."""
    app_cls: type[Application[Any]] = resolve_topic(expected.application_topic)
    with open_application(app_cls, expected.env) as app:
        yield app


def _notification_ids(app: Application[Any]) -> dict[tuple[str, int], int]:
    """(printed id, version) -> notification id, paged through the application recorder."""
    ids: dict[tuple[str, int], int] = {}
    start = 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=500)
        for n in page:
            ids[(str(n.originator_id), n.originator_version)] = n.id
        if len(page) < 500:
            return ids
        start = page[-1].id + 1


def read_expected(
    app: Application[Any], aggregate_ids: Sequence[UUID | str], *, env: Mapping[str, str]
) -> Expected:
    """Describe the store by reading it back through the library: events from the event
    store (decoded by the app's mapper), versions from the repository, notification ids
    from the recorder, snapshots from the snapshot store."""
    notification_ids = _notification_ids(app)
    aggregates: list[ExpectedAggregate] = []
    snapshots: list[ExpectedSnapshot] = []
    for agg_id in aggregate_ids:
        printed = str(agg_id)
        # The library's stores are typed with protocols; these are its concrete classes.
        domain_events = cast("list[CanMutateAggregate[Any]]", list(app.events.get(agg_id)))
        current: BaseAggregate[Any] = app.repository.get(agg_id)
        events = tuple(
            ExpectedEvent(
                version=e.originator_version,
                class_name=type(e).__qualname__,
                topic=get_topic(type(e)),
                state={
                    k: v
                    for k, v in vars(e).items()
                    if k not in ("originator_id", "originator_version")
                },
                timestamp=e.timestamp,
                notification_id=notification_ids[(printed, e.originator_version)],
            )
            for e in domain_events
        )
        aggregates.append(
            ExpectedAggregate(
                id=printed,
                class_name=type(current).__qualname__,
                topic=get_topic(type(current)),
                version=current.version,
                events=events,
            )
        )
        if app.snapshots is not None:
            for snap in cast("list[CanSnapshotAggregate[Any]]", list(app.snapshots.get(agg_id))):
                snapshots.append(
                    ExpectedSnapshot(
                        aggregate_id=printed,
                        version=snap.originator_version,
                        topic=get_topic(type(snap)),
                        aggregate_topic=snap.topic,
                        timestamp=cast("datetime", vars(snap)["timestamp"]),
                        state=dict(snap.state),
                    )
                )
    snapshot_recorder = app.snapshots.recorder if app.snapshots is not None else None
    # An Environment at run time (construct_env), typed as the class-level dict.
    settings = cast("Environment", app.env)
    module = settings.get("PERSISTENCE_MODULE", "")
    schema = settings.get("POSTGRES_SCHEMA") or settings.get("SQLALCHEMY_SCHEMA")
    if module == POSTGRES_MODULE and not schema:
        schema = "public"
    return Expected(
        persistence_module=module,
        application_name=app.name,
        application_topic=get_topic(type(app)),
        location=_location(settings),
        schema=schema or None,
        events_table=app.recorder.events_table_name,  # type: ignore[attr-defined]
        snapshots_table=getattr(snapshot_recorder, "events_table_name", None),
        id_type=settings.get("ORIGINATOR_ID_TYPE", "uuid"),
        compressor_topic=settings.get("COMPRESSOR_TOPIC"),
        cipher_topic=settings.get("CIPHER_TOPIC"),
        cipher_key=settings.get("CIPHER_KEY"),
        env=dict(env),
        aggregates=tuple(aggregates),
        snapshots=tuple(snapshots),
    )


def _location(env: Environment) -> str:
    """The store's file path (eventsourcing.sqlite) or SQLAlchemy URL (the other modules;
    for eventsourcing.postgres built from its POSTGRES_* settings)."""
    if env.get("PERSISTENCE_MODULE") == POSTGRES_MODULE:
        return URL.create(
            "postgresql+psycopg",
            username=env.get("POSTGRES_USER"),
            password=env.get("POSTGRES_PASSWORD") or None,
            host=env.get("POSTGRES_HOST"),
            port=int(env.get("POSTGRES_PORT") or 5432),
            database=env.get("POSTGRES_DBNAME"),
        ).render_as_string(hide_password=False)
    return env.get("SQLITE_DBNAME") or env.get("SQLALCHEMY_URL") or ""


def _sqlite_leftovers(expected: Expected) -> tuple[str, ...]:
    """Names of ``-wal``/``-shm`` files beside the store after the writer closed."""
    path = expected.location
    if expected.persistence_module == SQLALCHEMY_MODULE:
        url = make_url(path)
        if url.get_backend_name() != "sqlite" or not url.database:
            return ()
        path = url.database
    elif expected.persistence_module != SQLITE_MODULE:
        return ()
    return tuple(
        Path(path + suffix).name for suffix in ("-wal", "-shm") if Path(path + suffix).exists()
    )


def _finish(app: Application[Any], ids: Sequence[UUID | str], env: Mapping[str, str]) -> Expected:
    """Read back, close, then record which SQLite side files the close left."""
    try:
        expected = read_expected(app, ids, env=env)
    finally:
        close_application(app)
    return _replace(expected, wal_files_after_close=_sqlite_leftovers(expected))


def _replace(expected: Expected, **changes: Any) -> Expected:
    return replace(expected, **changes)


# ---------------------------------------------------------------------------------------------
# Writers.
# ---------------------------------------------------------------------------------------------


def write_bank_accounts(
    target: EsTarget | str | Path,
    *,
    snapshots: bool = False,
    compress: bool = False,
    encrypt: bool = False,
) -> Expected:
    """Three accounts through ``BankAccounts`` (style 1, Decimal amounts).

    ada: Opened, Deposited 100.00, Withdrawn 30.50, Deposited 0.01 (version 4);
    grace: Opened, Deposited 2500, Closed (version 3); zoë: Opened + 5 deposits (version 6).
    With ``snapshots`` the app is ``BankAccountsSnapshotting`` (automatic snapshots at
    versions 3 and 6) and ada gets one manual ``take_snapshot`` at version 4.
    """
    tgt = as_target(target)
    env = {**tgt.env(), **_variant_env(compress=compress, encrypt=encrypt, snapshots=snapshots)}
    app_cls: type[BankAccounts] = BankAccountsSnapshotting if snapshots else BankAccounts
    app = app_cls(env=env)
    try:
        ada = BankAccount.open("Ada Lovelace", "GBP")
        grace = BankAccount.open("Grace Hopper", "USD")
        zoe = BankAccount.open("Zoë Ōkubo 東京 🐕", "JPY")
        app.save(ada, grace, zoe)
        ada.deposit(Decimal("100.00"))
        ada.withdraw(Decimal("30.50"))
        grace.deposit(Decimal("2500"))
        app.save(ada, grace)
        ada.deposit(Decimal("0.01"))
        grace.close("moved abroad")
        for amount in ("1", "2.5", "-0.001", "1E+3", "99999999999999999999.99"):
            zoe.deposit(Decimal(amount))
        app.save(ada, grace, zoe)
        if snapshots:
            app.take_snapshot(ada.id)
    except BaseException:
        close_application(app)
        raise
    return _finish(app, [ada.id, grace.id, zoe.id], env)


def write_many_bank_accounts(
    target: EsTarget | str | Path,
    *,
    accounts: int = 400,
    events_per_account: int = 5,
    batch: int = 100,
) -> Expected:
    """``accounts`` x ``events_per_account`` events (2,000 by default) for paging tests.

    Accounts are written ``batch`` at a time, one ``app.save(*aggregates)`` per round of
    events, so each stream's events are spread over the notification log (account 1's
    Opened is notification 1, its first Deposited is notification ``batch + 1``), as in
    a store written by many concurrent requests.
    """
    tgt = as_target(target)
    env = tgt.env()
    app = BankAccounts(env=env)
    ids: list[UUID] = []
    try:
        for first in range(0, accounts, batch):
            group = [
                BankAccount.open(f"holder {n:05d}")
                for n in range(first, min(accounts, first + batch))
            ]
            app.save(*group)
            for round_ in range(1, events_per_account):
                for account in group:
                    account.deposit(Decimal(round_) + Decimal("0.25"))
                app.save(*group)
            ids.extend(a.id for a in group)
    except BaseException:
        close_application(app)
        raise
    return _finish(app, ids, env)


SPECIMEN_SAMPLE_ID = UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427")


def specimen_payloads() -> list[dict[str, Any]]:
    """The ``Annotated`` values written by ``write_domain_styles``: one per JSON shape."""
    return [
        {"value": "plain ascii"},
        {"value": 'Zoë — 東京 — 🐕‍🦺 — e\u0301 — \u2028 — "quoted" \\ back'},
        {"value": ""},
        {"value": 0},
        {"value": -(2**63)},
        {"value": 2**70},
        {"value": 0.1},
        {"value": -1.5e300},
        {"value": True},
        {"value": False},
        {"value": None},
        {"value": []},
        {"value": {}},
        {"value": [1, "two", 3.0, None, [Decimal("4.40")]]},
        {"value": {"nested": {"uuid": SPECIMEN_SAMPLE_ID, "when": datetime(2020, 2, 29)}}},
        {"value": Decimal("-0.000")},
        {
            "value": datetime(
                2024, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=5, minutes=30))
            )
        },
    ]


def write_domain_styles(
    target: EsTarget | str | Path,
    *,
    snapshots: bool = False,
    compress: bool = False,
    encrypt: bool = False,
    non_finite_floats: bool = False,
) -> Expected:
    """One aggregate per modelling style through ``DomainStyles`` (styles 2-5 + one
    BankAccount), in this order: Dog, Cargo, Counter, Specimen, BankAccount.

    ``non_finite_floats`` adds Annotated events holding NaN, Infinity and -Infinity, which
    Python's json writes as the bare tokens ``NaN``/``Infinity`` (not JSON: strict parsers
    such as orjson reject them). Off by default because NaN != NaN in comparisons.
    """
    tgt = as_target(target)
    env = {**tgt.env(), **_variant_env(compress=compress, encrypt=encrypt, snapshots=snapshots)}
    app = (DomainStylesSnapshotting if snapshots else DomainStyles)(env=env)
    try:
        dog = Dog("Fido", "Border Collie")
        dog.add_trick("roll over")
        dog.add_trick("play dead")
        cargo = Cargo.book("Rotterdam", "Singapore")
        cargo.load("Ever Given")
        cargo.deliver(datetime(2026, 3, 14, 15, 9, 26, 535897, tzinfo=UTC))
        counter = Counter("visits")
        for by in (1, 2, 3):
            counter.increment(by)
        specimen = Specimen("S-001 Ω")
        specimen.measure(
            weight=Decimal("12.340"),
            sample_id=SPECIMEN_SAMPLE_ID,
            taken_at=datetime(2025, 6, 30, 23, 59, 59, 999999, tzinfo=UTC),
            note="naïve café ☕",
            count=42,
            ratio=0.333,
            verified=True,
            reviewer=None,
            tags=["a", 1, 2.5, False, None],
            extra={"k": "v", "n": 1, "nested": [{"d": Decimal("1.0")}]},
        )
        for payload in specimen_payloads():
            specimen.annotate(**payload)
        if non_finite_floats:
            for value in (float("nan"), float("inf"), float("-inf")):
                specimen.annotate(value=value)
        account = BankAccount.open("Style Mixer")
        account.deposit(Decimal("1.23"))
        app.save(dog, cargo, counter, specimen, account)
        if snapshots:
            for agg in (dog, cargo, specimen):
                app.take_snapshot(agg.id)
    except BaseException:
        close_application(app)
        raise
    return _finish(app, [dog.id, cargo.id, counter.id, specimen.id, account.id], env)


def write_text_ids(
    target: EsTarget | str | Path,
    *,
    snapshots: bool = False,
) -> Expected:
    """Members with text ids through ``Club`` (``ORIGINATOR_ID_TYPE=text``).

    Ids: ``member-ada`` (Joined, Renamed, Renamed), ``member-zoë`` (Joined) and
    ``member-1b4e28ba-2fa1-11d2-883f-0016d3cca427`` (a text id that contains a UUID).
    Not for eventsourcing_sqlalchemy: its ``UUIDType`` id column takes UUIDs only.
    """
    tgt = as_target(target)
    if tgt.module == SQLALCHEMY_MODULE:
        msg = "eventsourcing_sqlalchemy stores ids in a UUID column: no text ids"
        raise ValueError(msg)
    env = {
        **tgt.env(),
        "ORIGINATOR_ID_TYPE": "text",
        **_variant_env(compress=False, encrypt=False, snapshots=snapshots),
    }
    app = Club(env=env)
    try:
        ada = Member("ada", "Ada")
        ada.rename("Ada King")
        ada.rename("Ada Lovelace")
        zoe = Member("zoë", "Zoë")
        uuidish = Member(str(SPECIMEN_SAMPLE_ID), "Looks Like A UUID")
        app.save(ada, zoe, uuidish)
        if snapshots:
            app.take_snapshot(ada.id)
    except BaseException:
        close_application(app)
        raise
    return _finish(app, [ada.id, zoe.id, uuidish.id], env)


def append_bank_events(expected: Expected, *, count: int = 5) -> Expected:
    """Append ``count`` Deposited events to a store written earlier, round-robin over its
    open BankAccounts (opening one if it has none), then read the whole store back.

    For tests of a store that grows between (or during) an adapter's reads.
    """
    accounts = [a.id for a in expected.aggregates if a.class_name == "BankAccount"]
    with reopen(expected) as app:
        loaded: list[BankAccount] = [app.repository.get(UUID(a)) for a in accounts]
        open_accounts = [a for a in loaded if not a.is_closed]
        if not open_accounts:
            opened = BankAccount.open("appended")
            app.save(opened)
            open_accounts = [opened]
            count -= 1
        for n in range(count):
            open_accounts[n % len(open_accounts)].deposit(Decimal(n + 1))
        app.save(*open_accounts)
        ids = [a.id for a in expected.aggregates]
        known = set(ids)
        ids.extend(str(a.id) for a in open_accounts if str(a.id) not in known)
        agg_ids: list[UUID | str] = [UUID(i) if expected.id_type == "uuid" else i for i in ids]
        fresh = read_expected(app, agg_ids, env=expected.env)
    return _replace(fresh, wal_files_after_close=_sqlite_leftovers(fresh))


# ---------------------------------------------------------------------------------------------
# Large store for benchmarks.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LargeStore:
    """Summary of ``write_large_sqlite`` (per-event detail would dwarf the store itself)."""

    path: str
    events_table: str
    aggregates: int
    events: int
    max_notification_id: int
    first_aggregate_id: str
    last_aggregate_id: str


def write_large_sqlite(
    path: str | Path,
    events: int = 200_000,
    *,
    events_per_aggregate: int = 10,
    batch: int = 1_000,
) -> LargeStore:
    """A ``BankAccounts`` eventsourcing.sqlite store of ``events`` events, quickly.

    Accounts of ``events_per_aggregate`` events (Opened + Deposited), saved ``batch``
    aggregates per ``app.save(*aggregates)`` (one transaction each). The last account
    takes the remainder so the total is exact. 200,000 events take a few seconds.
    """
    env = EsTarget.sqlite(path).env()
    app = BankAccounts(env=env)
    written = 0
    first_id = last_id = ""
    try:
        pending: list[BankAccount] = []
        n = 0
        while written < events:
            size = min(events_per_aggregate, events - written)
            account = BankAccount.open(f"bench {n:07d}")
            for i in range(1, size):
                account.deposit(Decimal(i))
            pending.append(account)
            written += size
            n += 1
            if not first_id:
                first_id = str(account.id)
            last_id = str(account.id)
            if len(pending) >= batch:
                app.save(*pending)
                pending = []
        if pending:
            app.save(*pending)
        max_id = app.recorder.max_notification_id() or 0
        table = app.recorder.events_table_name  # type: ignore[attr-defined]
    finally:
        close_application(app)
    return LargeStore(
        path=str(path),
        events_table=table,
        aggregates=n,
        events=written,
        max_notification_id=max_id,
        first_aggregate_id=first_id,
        last_aggregate_id=last_id,
    )
