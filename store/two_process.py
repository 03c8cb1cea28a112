"""Half of a long walk done by a second Python process, on the second core.

Used where one job splits in two without shared state: parsing a large JSONL import while the
first process checks and inserts what is parsed, and verifying the later positions of a large
store while the first process verifies the earlier ones.

The worker runs ``module:function`` from this checkout: ``function(job)`` returns an iterable
of messages. The protocol is exact:

- the job goes to the worker's stdin as one ``marshal`` value, read before anything is
  imported, so a large job never waits for the worker's imports;
- each message comes back on stdout as an 8-byte little-endian length and the ``marshal`` of
  the message, flushed at once (the first process uses each block as it arrives);
- a zero length ends the walk: the worker did all of its work. Anything else (the worker could
  not start, raised, was killed, or a message was cut short) is a failure, noticed by what it
  did not deliver; its stderr is discarded.

``marshal``, not ``pickle``: four times faster on a million row tuples, and it carries exactly
the plain types the messages are made of. A failed worker costs time, never an answer: the
first process does the missing work itself (``walk``, ``SecondProcess.result``).
"""

from __future__ import annotations

import importlib
import marshal
import os
import subprocess
import sys
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from .gcpause import collector_paused

PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)
"""This checkout's root: the worker puts it on ``sys.path`` to import the same code."""

_HEADER = 8
_END = (0).to_bytes(_HEADER, "little")
_BOOT = ("import sys, marshal; job = marshal.loads(sys.stdin.buffer.read()); "
         "sys.path.insert(0, sys.argv[1]); "
         "from store.two_process import serve; serve(sys.argv[2], job)")

FileIdentity = tuple[int, int, int, int]
"""A file's device, inode, size and modification time: what tells a worker started on a file
whether the file is still the one the first process reads."""


def file_identity(st: os.stat_result) -> FileIdentity:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


M = TypeVar("M")
R = TypeVar("R")


class SecondProcess:
    """One worker doing ``entry(job)``: its messages in order, then stopped.

    ``start`` never raises: a worker that cannot start is one that delivers nothing.
    """

    def __init__(self, proc: subprocess.Popen[bytes] | None) -> None:
        self._proc = proc
        self.complete = False
        """Whether the worker reported the end of its work (set once ``messages`` is read)."""

    @classmethod
    def start(cls, entry: str, job: Any) -> SecondProcess:
        """Start ``entry`` (``"package.module:function"``) on ``job`` (marshal-able data)."""
        data = marshal.dumps(job)
        try:
            proc = subprocess.Popen([sys.executable, "-c", _BOOT, PACKAGE_ROOT, entry],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL)
        except OSError:
            return cls(None)
        try:
            assert proc.stdin is not None
            proc.stdin.write(data)
            proc.stdin.close()
        except OSError:  # it died before reading its job: not left running
            _stop(proc)
            return cls(None)
        return cls(proc)

    def messages(self) -> Iterator[Any]:
        """The worker's messages as they arrive; ends early, without an error, if it fails."""
        if self._proc is None or self._proc.stdout is None:
            return
        out = self._proc.stdout
        try:
            while len(head := out.read(_HEADER)) == _HEADER:
                size = int.from_bytes(head, "little")
                if size == 0:
                    self.complete = True
                    return
                data = out.read(size)
                if len(data) != size:
                    return  # cut short: the worker died mid-message
                yield marshal.loads(data)
        except (OSError, EOFError, ValueError, TypeError):
            return

    def result(self, here: Callable[[], R]) -> R:
        """The worker's one message, or ``here()`` computed in this process if it failed."""
        answers = list(self.messages())
        self.stop()
        if self.complete and len(answers) == 1:
            answer: R = answers[0]
            return answer
        return here()

    def stop(self) -> None:
        """End the worker whatever state it is in, and release its pipes (idempotent)."""
        if self._proc is not None:
            _stop(self._proc)

    def __enter__(self) -> SecondProcess:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def walk(entry: str, job: Any, here: Callable[[M | None], Iterable[M]],
         started: SecondProcess | None = None) -> Generator[M, None, None]:
    """The messages of ``entry(job)`` from a worker (``started`` earlier on that very job, or
    started now); if it fails before the end, the rest from ``here(last message delivered,
    or None)`` in this process, after the worker stopped.

    Close the iterator (``contextlib.closing``) when leaving it early, so the worker stops
    then and not when the iterator is collected.
    """
    last: M | None = None
    with started if started is not None else SecondProcess.start(entry, job) as worker:
        for message in worker.messages():
            last = message
            yield message
        complete = worker.complete
    if not complete:
        yield from here(last)


def serve(entry: str, job: object) -> None:
    """The worker's side: run ``entry`` on ``job``, each message to stdout, then the end."""
    module, _, name = entry.partition(":")
    work: Callable[[Any], Iterable[Any]] = getattr(importlib.import_module(module), name)
    out = sys.stdout.buffer
    with collector_paused():
        for message in work(job):
            data = marshal.dumps(message)
            out.write(len(data).to_bytes(_HEADER, "little"))
            out.write(data)
            out.flush()
    out.write(_END)
    out.flush()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            with suppress(OSError):
                pipe.close()
