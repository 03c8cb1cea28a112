"""The one composition root: a target (path or URL) in, every service wired together out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from store import EventStore, open_store

from .application.compare import Comparer
from .application.handlers import CommandHandler
from .application.projections import Projector
from .application.queries import Queries
from .application.replay import Replayer


@dataclass
class Services:
    store: EventStore
    projector: Projector
    queries: Queries
    commands: CommandHandler
    replayer: Replayer
    comparer: Comparer

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    def close(self) -> None:
        self.store.close()


def bootstrap(target: str | Path, *, read_only: bool = False, create: bool = True,
              snapshot_every: int = 100, synchronous: str = "FULL", actor: str | None = None,
              catch_up: bool = True) -> Services:
    """Open the store and build the services; read models catch up unless read-only.

    ``create=False`` refuses a target that holds no store instead of making an empty one:
    only the jobs that create (seeding, importing, a new order, a new store) pass True.
    """
    store = open_store(target, read_only=read_only, create=create, synchronous=synchronous)
    try:
        projector = Projector(store)
        if not read_only:
            projector.ensure_tables()
            if catch_up:
                projector.catch_up()
        queries = Queries(store, has_read_models=not read_only or projector.tables_exist())
        replayer = Replayer(store)
        return Services(
            store=store, projector=projector, queries=queries,
            commands=CommandHandler(store, projector, queries, snapshot_every=snapshot_every,
                                    actor=actor),
            replayer=replayer, comparer=Comparer(replayer, queries),
        )
    except BaseException:
        store.close()
        raise
