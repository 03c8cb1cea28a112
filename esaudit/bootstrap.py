"""The one composition root: a target (path or URL) in, every service wired together out."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from store import EventStore, Source, StoreError, StoreReadOnly
from store.sources import open_source

from .application.queries import Queries
from .domain.errors import InvalidCommand

if TYPE_CHECKING:
    from .application.code_models import ApplicationCode
    from .application.compare import Comparer
    from .application.handlers import CommandHandler
    from .application.models import Models
    from .application.projections import Projector
    from .application.replay import Replayer
    from .domain.rules import StreamModel


class Writing(NamedTuple):
    """What a job that writes needs: esaudit's own store, its read models, its commands."""

    store: EventStore
    projector: Projector
    commands: CommandHandler


class ForeignStoreReadOnly(StoreReadOnly):
    """A write asked of a store another program wrote: esaudit never writes to one."""

    def __init__(self, what: str, identity_kind: str, label: str) -> None:
        Exception.__init__(self, f"{what} refused: {label} is an {identity_kind} store, "
                                 "which esaudit reads and never writes")


class WriteSide:
    """The projector and the command handler of esaudit's own store, each made when first
    asked for: a job that only reads loads neither (nor the read models' SQLAlchemy tables)."""

    def __init__(self, store: EventStore, queries: Queries, projector: Projector | None, *,
                 snapshot_every: int, actor: str | None) -> None:
        self._store = store
        self._queries = queries
        self._projector = projector
        self._commands: CommandHandler | None = None
        self._snapshot_every = snapshot_every
        self._actor = actor
        self._making = threading.Lock()

    @property
    def projector(self) -> Projector:
        with self._making:
            if self._projector is None:
                from .application.projections import Projector
                self._projector = Projector(self._store)
            return self._projector

    @property
    def commands(self) -> CommandHandler:
        """The command handler; refused on a store opened without its read models, whose
        commands would look products up in read models nobody caught up."""
        if not self._queries.has_read_models and not self._store.read_only:
            raise StoreError(f"{self._store.label} was opened without its read models "
                             "(bootstrap(read_models=False)): commands need them")
        projector = self.projector
        with self._making:
            if self._commands is None:
                from .application.handlers import CommandHandler
                self._commands = CommandHandler(self._store, projector, self._queries,
                                                snapshot_every=self._snapshot_every,
                                                actor=self._actor)
            return self._commands


@dataclass(eq=False)
class Services:
    """What the CLI and the app work with. ``projector`` and ``commands`` exist only for
    esaudit's own store (``write_side``): a store another program wrote is read, never
    written. The replayer (with the models and the domain's folds it loads) is made when
    first asked for: listing a stream's events or verifying its chain folds nothing."""

    store: Source
    queries: Queries
    write_side: WriteSide | None
    _replayer: Replayer | None = field(default=None, init=False, repr=False)
    _comparer: Comparer | None = field(default=None, init=False, repr=False)
    _making: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def replayer(self) -> Replayer:
        with self._making:
            if self._replayer is None:
                from .application.replay import Replayer
                self._replayer = Replayer(self.store)
            return self._replayer

    @property
    def comparer(self) -> Comparer:
        replayer = self.replayer
        with self._making:
            if self._comparer is None:
                from .application.compare import Comparer
                self._comparer = Comparer(replayer, self.queries)
            return self._comparer

    @property
    def code(self) -> ApplicationCode | None:
        """The system's own classes, when they were loaded (``use_code``)."""
        return None if self._replayer is None else self._replayer.models.code

    @property
    def model_files(self) -> Sequence[StreamModel]:
        """The models of the model files loaded (``load_model``), without loading any."""
        return () if self._replayer is None else self._replayer.models.files

    @property
    def projector(self) -> Projector | None:
        return None if self.write_side is None else self.write_side.projector

    @property
    def commands(self) -> CommandHandler | None:
        return None if self.write_side is None else self.write_side.commands

    @property
    def models(self) -> Models:
        """The models loaded for this store (model files, the system's own classes)."""
        return self.replayer.models

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    @property
    def kind(self) -> str:
        return self.store.identity.kind

    @property
    def description(self) -> str:
        """What is open, for a status bar: the kind of store and, for esaudit's own, the
        database it runs on."""
        if isinstance(self.store, EventStore):
            return f"esaudit on {self.store.backend_name}"
        return f"{self.kind} store"

    @property
    def read_only_reason(self) -> str:
        """Why nothing can be written here ("" when something can)."""
        if self.write_side is None:
            return (f"an {self.kind} store: esaudit reads it where it is and never writes "
                    "to it")
        return "the store is open read-only" if self.read_only else ""

    def refresh(self) -> None:
        """See what other programs appended since the store was opened (or last refreshed)."""
        self.store.refresh()

    def writing(self, what: str) -> Writing:
        """The write side, or the refusal of ``what`` before it starts (a read-only open, or
        a store esaudit did not write)."""
        store, write_side = self.store, self.write_side
        if not isinstance(store, EventStore) or write_side is None:
            raise ForeignStoreReadOnly(what, self.kind, self.store.label)
        if store.read_only:
            raise StoreReadOnly(what)
        return Writing(store, write_side.projector, write_side.commands)

    def load_model(self, path: Path) -> None:
        """Load a model file (ModelFileError, ``FILE:LINE: reason``, if it is malformed)."""
        self.models.load_file(path)

    def use_code(self, code_path: Path | None, application: str | None = None) -> None:
        """Replay eventsourcing aggregates through the system's own classes in ``code_path``
        (run in a child process), or stop (None)."""
        if code_path is None:
            self.models.use_code(None)
            return
        if not code_path.is_dir():
            raise InvalidCommand(f"no folder {code_path} for the application code")
        from .application.code_models import ApplicationCode
        code = ApplicationCode(code_path, application=application)
        code.start()
        self.models.use_code(code)

    def close(self) -> None:
        if self._replayer is not None:
            self._replayer.models.close()
        self.store.close()


def bootstrap(target: str | Path, *, read_only: bool = False, create: bool = True,
              snapshot_every: int = 100, synchronous: str = "FULL", actor: str | None = None,
              catch_up: bool = True, read_models: bool = True, source_kind: str | None = None,
              cipher_key: str | None = None, model_files: Sequence[Path] = (),
              code_path: Path | None = None,
              code_application: str | None = None) -> Services:
    """Open the store (of the kind it holds, or ``source_kind``) and build the services; read
    models catch up unless read-only.

    ``read_models=False`` is for a job that reads none (it lists, reads, replays, verifies or
    exports the history): the read models are neither created nor caught up, so the open
    writes nothing, and the queries answer without them, as on a store that has none.

    ``create=False`` refuses a target that holds no store instead of making an empty one:
    only the jobs that create (seeding, importing, a new order, a new store) pass True.
    ``cipher_key`` opens an eventsourcing store's encrypted states; by default it is the
    ``CIPHER_KEY`` the application itself reads from its environment. ``model_files`` and
    ``code_path`` say how streams esaudit's own domain did not write are replayed.
    """
    if cipher_key is None:
        cipher_key = os.environ.get("CIPHER_KEY") or None
    source = open_source(target, kind=source_kind, read_only=read_only, create=create,
                         synchronous=synchronous, cipher_key=cipher_key)
    try:
        if not isinstance(source, EventStore):
            services = Services(store=source, queries=Queries(source), write_side=None)
        else:
            services = _own_store_services(source, read_only=read_only, catch_up=catch_up,
                                           read_models=read_models,
                                           snapshot_every=snapshot_every, actor=actor)
        for path in reversed(model_files):  # the first named is consulted first
            services.load_model(Path(path))
        if code_path is not None:
            services.use_code(Path(code_path), code_application)
        return services
    except BaseException:
        source.close()
        raise


def _own_store_services(store: EventStore, *, read_only: bool, catch_up: bool,
                        read_models: bool, snapshot_every: int, actor: str | None) -> Services:
    projector = None
    has_models = False
    if read_models:
        from .application.projections import Projector
        projector = Projector(store)
        if not read_only:
            projector.ensure_tables()
            if catch_up:
                projector.catch_up()
        has_models = not read_only or projector.tables_exist()
    queries = Queries(store, read_models=store if has_models else None)
    return Services(store=store, queries=queries,
                    write_side=WriteSide(store, queries, projector,
                                         snapshot_every=snapshot_every, actor=actor))
