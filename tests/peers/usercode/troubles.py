"""An aggregate whose mutator misbehaves when ``ESAUDIT_TEST_TROUBLE`` says so: ``raise``,
``hang`` or ``die`` (the process kills itself), as broken application code may. The store is
written without the variable; the child process that replays it is given it."""

import os
import signal
import time

from eventsourcing.domain import Aggregate, event

TROUBLE = "ESAUDIT_TEST_TROUBLE"


class Gadget(Aggregate):
    @event("Made")
    def __init__(self, name: str) -> None:
        self.name = name
        self.pokes = 0

    @event("Poked")
    def poke(self) -> None:
        self.pokes += 1
        _misbehave()


def _misbehave() -> None:
    how = os.environ.get(TROUBLE)
    if how == "raise":
        msg = "the gadget broke"
        raise RuntimeError(msg)
    if how == "hang":
        time.sleep(3600)
    if how == "die":
        os.kill(os.getpid(), signal.SIGKILL)
