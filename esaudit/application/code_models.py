"""Replay through the system's own aggregate classes, run in a child process.

A store the Python ``eventsourcing`` library wrote holds each aggregate's events, not its
states: the states are what the application's classes make of them. Pointed at that code (a
directory), esaudit resolves the aggregates' topics to their classes and rebuilds a state the
way the application does, ``app.repository.get(id, version=v)`` with the library's mapper and
the aggregate's own mutators, and checks the application's snapshots against that replay.

The code is the user's, so it runs in a child process (``code_child``) that esaudit starts on
first use and reuses: an exception in it comes back as a ``CodeModelError``; a crash, or no
answer within the time limit (the child is then killed), too, and the next call starts a new
child. The child never opens the user's database: esaudit reads the stored rows through its
read-only adapter (cipher and compressor layers taken off) and sends them over a pipe, and the
child replays them in the library's in-memory persistence, so no byte of the store changes.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from store import Source
from store.sources.eventsourcing import EventsourcingSource, StoredRow, shown_id

from ..domain.errors import DomainError, InvalidCommand, UnknownStream
from . import code_child
from .code_child import aggregate_topic
from .jobs import CancelCheck, Cancelled, Progress
from .values import shown, typed_value

MODEL_PREFIX = "classes:"
"""A replay's model name: ``classes:`` and the aggregate class' module."""

_CHILD_FILE = str(Path(code_child.__file__).resolve())
_BOOT = ("import importlib.util, sys; "
         "spec = importlib.util.spec_from_file_location('esaudit_code_child', sys.argv[1]); "
         "child = importlib.util.module_from_spec(spec); "
         "sys.modules[spec.name] = child; spec.loader.exec_module(child); "
         "sys.exit(child.main(sys.argv[2:]))")
"""Loads the child's module by its file: no esaudit package is imported or put on the
path, where it could stand in for a module of the user's code. The child's environment is
esaudit's without ``PYTHONPATH``: the code path says where the code is, the interpreter's
site-packages hold the library and the code's dependencies."""

_SHOWN_DIFFERENCES = 3
_SHOWN_VALUE = 60


class CodeModelError(DomainError):
    """The application code could not answer: it does not import, it raised, it did not
    answer in time, or its process ended. The message is one line."""


@dataclass(frozen=True, slots=True)
class SnapshotDisagreement:
    """A snapshot whose state is not what the events make at its version."""

    stream_id: str
    version: int
    detail: str
    """The first differing attribute(s), or why the two could not be compared."""


class _Child:
    """One child process and its two pipes."""

    def __init__(self, code_path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-B", "-P", "-c", _BOOT, _CHILD_FILE, str(code_path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.inp: IO[bytes] = self.proc.stdin
        self.out: IO[bytes] = self.proc.stdout
        self.asked = False
        """Whether a request was sent (a child never asked has nothing to finish)."""

    def exchange(self, request: tuple[Any, ...], box: list[Any]) -> None:
        """Send a request and put the answer (None: the child ended) or the error in box."""
        self.asked = True
        try:
            code_child.write_message(self.inp, request)
            box.append(code_child.read_message(self.out))
        except (OSError, ValueError, EOFError) as e:
            box.append(e)

    def ended(self) -> str:
        """Why the child is gone, once it is (it is waited for)."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        return f"the application code's process ended (exit code {code})"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._close_pipes()

    def stop(self) -> None:
        """End the child politely (its input closes), else by force; one never asked is
        ended at once, since it may still be importing the code."""
        if not self.asked:
            self.kill()
            return
        with contextlib.suppress(OSError):
            self.inp.close()
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.inp, self.out):
            with contextlib.suppress(OSError):
                pipe.close()


class ApplicationCode:
    """The system's own aggregate classes, run in a child process that esaudit starts once
    and reuses.

    ``application`` names the code's Application class (``module:Class``) when it defines
    several that decode differently and the store's tables do not name one; otherwise the
    child finds it (see ``code_child``), or uses the library's own ``Application``.
    """

    def __init__(self, code_path: Path, *, timeout_s: float = 30.0,
                 application: str | None = None) -> None:
        path = Path(code_path).expanduser().resolve()
        if not path.is_dir():
            raise CodeModelError(f"the application code directory {code_path} does not exist")
        self._path = path
        self._timeout = timeout_s
        self._application = application
        self._child: _Child | None = None
        self._lock = threading.Lock()
        """One request at a time: the app asks from the GUI thread and from workers."""
        self._modules: dict[str, str | None] = {}
        """Aggregate topic -> its class' module (None: not in the code)."""
        self._topics: dict[tuple[str, str], str | None] = {}
        """(source label, stream id) -> the stream's aggregate topic (a first event stays)."""

    @property
    def code_path(self) -> Path:
        return self._path

    # -- the three questions -------------------------------------------------------------------
    def model_name(self, source: Source, stream_id: str) -> str | None:
        """``classes:<module>`` when the stream's aggregate class is in the code; None when
        the source is not an eventsourcing store or the class is not there."""
        if not isinstance(source, EventsourcingSource):
            return None
        info = source.stream(stream_id)
        if info is None:
            return None
        topic = self._aggregate_topic(source, info.stream_id, info.first_version)
        if topic is None:
            return None
        if topic not in self._modules:
            self._modules[topic] = self._ask(("model", topic), f"resolving {topic}")
        module = self._modules[topic]
        return None if module is None else MODEL_PREFIX + module

    def answers_at_once(self, source: Source, stream_id: str) -> bool:
        """Whether ``model_name`` answers without asking the child (a caller on the GUI
        thread asks a worker to find out otherwise: the child may have to start)."""
        if not isinstance(source, EventsourcingSource):
            return True
        info = source.stream(stream_id)
        if info is None:
            return True
        topic = self._aggregate_topic(source, info.stream_id, info.first_version)
        return topic is None or topic in self._modules

    def replay(self, source: Source, stream_id: str, version: int) -> dict[str, Any]:
        """The aggregate's state at ``version`` (the library's own numbering, which is
        esaudit's for these stores), as ``code_child.aggregate_state`` writes it."""
        es = _eventsourcing(source)
        info = es.stream(stream_id)
        if info is None:
            raise UnknownStream(f"no stream {stream_id!r} in the store")
        if not info.first_version <= version <= info.version:
            raise InvalidCommand(f"stream {info.stream_id} has versions {info.first_version}.."
                                 f"{info.version}, not {version}")
        rows = es.stored_events(info.stream_id, version)
        topic = self._topic_of(es, info.stream_id, rows[0])
        answer: dict[str, Any] = self._ask(
            ("replay", _app_name(es), self._application, topic, rows[0].originator_id,
             version, _plain(rows)),
            f"replaying {info.stream_id} to version {version}")
        return answer

    def check_snapshots(self, source: Source, progress: Progress | None = None,
                        cancelled: CancelCheck | None = None) -> list[SnapshotDisagreement]:
        """Every snapshot the application stored, as the library loads it, compared with the
        replay from events alone at the snapshot's version (raises ``Cancelled``)."""
        es = _eventsourcing(source)
        snapshots = es.stored_snapshots()
        total, done = len(snapshots), 0
        found: list[SnapshotDisagreement] = []
        for key, group in groupby(snapshots, key=lambda r: r.originator_id):
            if cancelled is not None and cancelled():
                raise Cancelled("the snapshot check was cancelled")
            rows = list(group)
            found += self._check_stream(es, key, rows)
            done += len(rows)
            if progress is not None:
                progress(done, total)
        return found

    # -- the child -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the child now, so that it imports the library and the code while esaudit
        goes on opening the store: the first question then waits only for its answer. A
        child that cannot start is started again (and the failure said) when first asked."""
        with self._lock:
            if self._child is None:
                with contextlib.suppress(OSError):
                    self._child = _Child(self._path)

    def close(self) -> None:
        """Stop the child (a later call starts a new one)."""
        with self._lock:
            if self._child is not None:
                self._child.stop()
                self._child = None

    def __enter__(self) -> ApplicationCode:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def _ask(self, request: tuple[Any, ...], doing: str) -> Any:
        """The child's answer, within the time limit; any failure as a ``CodeModelError``."""
        with self._lock:
            child = self._child
            if child is None:
                try:
                    child = self._child = _Child(self._path)
                except OSError as e:
                    raise CodeModelError(f"cannot start the application code's process: "
                                         f"{e}") from e
            box: list[Any] = []
            talk = threading.Thread(target=child.exchange, args=(request, box), daemon=True,
                                    name="esaudit-code-child")
            talk.start()
            talk.join(self._timeout)
            if talk.is_alive():
                child.kill()
                talk.join()
                self._child = None
                raise CodeModelError(f"the application code did not answer within "
                                     f"{self._timeout:g} s ({doing})")
            answer = box[0] if box else None
            if not isinstance(answer, tuple):
                self._child = None
                raise CodeModelError(child.ended())
        if answer[0] == "ok":
            return answer[1]
        _, kind, message = answer
        if kind == "import":
            raise CodeModelError(f"cannot import the application code in {self._path}: "
                                 f"{message}")
        if kind == "raised":
            raise CodeModelError(f"the application code raised {message} ({doing})")
        raise CodeModelError(message)

    # -- helpers -------------------------------------------------------------------------------
    def _aggregate_topic(self, source: EventsourcingSource, stream_id: str,
                         first_version: int) -> str | None:
        key = (source.label, stream_id)
        if key not in self._topics:
            rows = source.stored_events(stream_id, first_version)
            self._topics[key] = aggregate_topic(rows[0].topic, rows[0].state) if rows \
                else None
        return self._topics[key]

    def _topic_of(self, source: EventsourcingSource, stream_id: str, first: StoredRow) -> str:
        key = (source.label, stream_id)
        topic = self._topics.get(key) or aggregate_topic(first.topic, first.state)
        if topic is None:
            raise CodeModelError(f"the first event of {stream_id} ({first.topic}) names no "
                                 f"aggregate class")
        self._topics[key] = topic
        return topic

    def _check_stream(self, source: EventsourcingSource, key: str,
                      snapshots: list[StoredRow]) -> list[SnapshotDisagreement]:
        stream_id = shown_id(key)
        info = source.stream(stream_id)
        if info is None:
            return [SnapshotDisagreement(stream_id, s.originator_version,
                                         "a snapshot of a stream that has no events")
                    for s in snapshots]
        last = min(info.version, max(s.originator_version for s in snapshots))
        events = source.stored_events(info.stream_id, last)
        if not events:
            return [SnapshotDisagreement(info.stream_id, s.originator_version,
                                         "the stream has no events up to this version")
                    for s in snapshots]
        topic = self._topic_of(source, info.stream_id, events[0])
        answers = self._ask(
            ("snapshots", _app_name(source), self._application, topic,
             events[0].originator_id, _plain(events), _plain(snapshots)),
            f"checking the snapshots of {info.stream_id}")
        return [SnapshotDisagreement(info.stream_id, version,
                                     note or _difference(from_snapshot, from_events))
                for version, from_snapshot, from_events, note in answers]


def _eventsourcing(source: Source) -> EventsourcingSource:
    if not isinstance(source, EventsourcingSource):
        raise CodeModelError(f"{source.label} is not a store the eventsourcing library wrote: "
                             f"its code cannot replay it")
    return source


def _app_name(source: EventsourcingSource) -> str | None:
    """The application's name as its tables carry it (eventsourcing.sqlite's do not)."""
    return None if source.layout.events == "stored_events" else source.layout.application


def _plain(rows: Sequence[StoredRow]) -> list[tuple[int, str, bytes]]:
    return [(r.originator_version, r.topic, r.state) for r in rows]


def _difference(from_snapshot: dict[str, Any], from_events: dict[str, Any]) -> str:
    """The first attributes in which a snapshot's state and the events' differ."""
    names = list(from_snapshot) + [k for k in from_events if k not in from_snapshot]
    differing = [k for k in names if from_snapshot.get(k, _MISSING)
                 != from_events.get(k, _MISSING)]
    parts = []
    for name in differing[:_SHOWN_DIFFERENCES]:
        if name not in from_snapshot:
            parts.append(f"{name}: only the events have it ({_value(from_events[name])})")
        elif name not in from_events:
            parts.append(f"{name}: only the snapshot has it ({_value(from_snapshot[name])})")
        else:
            parts.append(f"{name}: the snapshot has {_value(from_snapshot[name])}, the events "
                         f"{_value(from_events[name])}")
    more = len(differing) - _SHOWN_DIFFERENCES
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


_MISSING = object()


def _value(value: Any) -> str:
    """A value as the app shows it (``1379.75 (Decimal)``; other values as JSON), short."""
    text = shown(value) if typed_value(value) is not None else json.dumps(
        shown(value), ensure_ascii=False)
    return text if len(text) <= _SHOWN_VALUE else text[:_SHOWN_VALUE - 1] + "…"


__all__ = ["MODEL_PREFIX", "ApplicationCode", "CodeModelError", "SnapshotDisagreement"]
