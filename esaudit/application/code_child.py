"""The child process that runs a system's own aggregate classes (``code_models`` starts it).

This is the only module that imports the ``eventsourcing`` library and the user's code, and it
does so only in the child, inside ``main``: at module level it imports the standard library
alone, so the parent may import ``aggregate_state`` and ``aggregate_topic`` from here.

The child is started as ``python -B -P -c BOOT this_file DIR`` (no ``.pyc`` written into the
user's code, no current directory on ``sys.path``); ``DIR`` goes first on ``sys.path``, and
when ``DIR`` is itself a package, the directory above its outermost package too, because a
stored topic names a module the way the application imported it (``bank.domain:Account``).

Protocol, on the pipes the parent gave as stdin and stdout: each message is an 8-byte
little-endian length and the ``marshal`` of a tuple. The child moves the pipes to private
descriptors at once, so the user's code printing to stdout writes to stderr and never into the
protocol. Requests and answers:

- ``("model", aggregate_topic)`` -> the aggregate class' module, or None (it does not resolve);
- ``("replay", app_name, application, aggregate_topic, key, version, rows)`` -> the state of
  ``app.repository.get(key, version=version)`` as ``aggregate_state`` writes it;
- ``("snapshots", app_name, application, aggregate_topic, key, events, snapshots)`` -> for each
  snapshot that disagrees, ``(version, snapshot_state, events_state, note)``.

``rows``, ``events`` and ``snapshots`` are ``(originator_version, topic, state)`` tuples with
plain JSON states. Every answer is ``("ok", value)`` or ``("error", kind, message)``: kind
``import`` (the user's code cannot be imported or a topic does not resolve), ``raised`` (it
raised), ``usage`` (anything else). End of input ends the child.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import enum
import json
import marshal
import os
import signal
import sys
import threading
import time as clock
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from uuid import UUID

HEADER = 8
"""Bytes of a message's length prefix."""

AGGREGATE_FIELDS = ("id", "version", "created_on", "modified_on")
"""The attributes every library aggregate has, shown first (kept as ``_id``... in __dict__)."""

_BUILD_METHODS = ("construct_factory", "construct_mapper", "construct_transcoder",
                  "register_transcodings", "construct_recorder", "construct_event_store",
                  "construct_repository")
"""What decides how an Application decodes and replays: two classes that share these decode
the same store the same way."""

_OWN_SETTINGS = ("TRANSCODER_TOPIC", "MAPPER_TOPIC")
_OVERRIDDEN = {"PERSISTENCE_MODULE": "eventsourcing.popo", "COMPRESSOR_TOPIC": "",
               "CIPHER_TOPIC": "", "CIPHER_KEY": ""}
"""In memory, touching nothing, and no cipher or compressor: the parent sends plain states.
Given also as ``<APPNAME>_KEY``, which the library's ``Environment`` prefers to ``KEY`` (so an
exported ``BANK_PERSISTENCE_MODULE`` cannot send the child to a database)."""


# -- what the parent uses too (standard library only) -----------------------------------------

def aggregate_state(aggregate: object) -> dict[str, Any]:
    """An aggregate's attributes as JSON-friendly data: ``id``, ``version``, ``created_on``,
    ``modified_on``, then every public attribute in ``__dict__`` order. Values JSON has no
    type for keep it in the transcoder's shape (``{"_type_": "decimal_str", "_data_": ...}``),
    so esaudit shows them as ``10.50 (Decimal)``, never as text."""
    out: dict[str, Any] = {}
    for name in AGGREGATE_FIELDS:
        if hasattr(aggregate, name):
            out[name] = jsonable(getattr(aggregate, name))
    for name, value in _attributes(aggregate):
        if name not in out:
            out[name] = jsonable(value)
    return out


def jsonable(value: Any, _seen: frozenset[int] = frozenset()) -> Any:
    """``value`` as JSON data; typed objects for the values JSON cannot hold (see
    ``aggregate_state``), lists for tuples and sets (sets sorted), dicts of public attributes
    for other objects, ``{"_type_": class name, "_data_": repr}`` for what has none."""
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return value
    if isinstance(value, enum.Enum):
        return _typed(kind.__name__, f"{kind.__name__}.{value.name}")
    if isinstance(value, Decimal):
        return _typed("decimal_str", str(value))
    if isinstance(value, UUID):
        return _typed("uuid_hex", value.hex)
    if isinstance(value, datetime):
        return _typed("datetime_iso", value.isoformat())
    if isinstance(value, date | time):
        return _typed(kind.__name__, value.isoformat())
    for plain in (bool, int, float, str):
        if isinstance(value, plain):
            return plain(value)
    if isinstance(value, type):
        return _typed("type", f"{value.__module__}.{value.__qualname__}")
    if id(value) in _seen:
        return _typed(kind.__name__, "<cycle>")
    seen = _seen | {id(value)}
    if isinstance(value, Mapping):
        return {k if type(k) is str else str(k): jsonable(v, seen) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, seen) for v in value]
    if isinstance(value, set | frozenset):
        items = [jsonable(v, seen) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=repr))
    attributes = list(_attributes(value))
    if attributes or dataclasses.is_dataclass(value):
        return {name: jsonable(v, seen) for name, v in attributes}
    return _typed(kind.__name__, repr(value))


def aggregate_topic(topic: str, state: bytes) -> str | None:
    """The aggregate class a stream's first stored event names: its ``originator_topic``
    (a created event), else the class enclosing the event's class."""
    try:
        found = json.loads(state).get("originator_topic")
    except (ValueError, AttributeError):
        found = None
    if isinstance(found, str) and ":" in found:
        return found
    module, _, name = topic.partition(":")
    if "." in name:
        return f"{module}:{name.rsplit('.', 1)[0]}"
    return None


def _typed(name: str, data: str) -> dict[str, str]:
    return {"_type_": name, "_data_": data}


def _attributes(obj: object) -> Iterable[tuple[str, Any]]:
    """An object's public attributes: its ``__dict__`` in order, else its dataclass fields
    or slots."""
    found = getattr(obj, "__dict__", None)
    if isinstance(found, dict):
        return [(k, v) for k, v in found.items() if isinstance(k, str) and not k.startswith("_")]
    if dataclasses.is_dataclass(obj):
        names = [f.name for f in dataclasses.fields(obj)]
    else:
        names = [n for cls in type(obj).__mro__ for n in _slots(cls)]
    return [(n, getattr(obj, n)) for n in names if not n.startswith("_") and hasattr(obj, n)]


def _slots(cls: type) -> Sequence[str]:
    slots = cls.__dict__.get("__slots__", ())
    return (slots,) if isinstance(slots, str) else tuple(slots)


def write_message(out: IO[bytes], message: Any) -> None:
    data = marshal.dumps(message)
    out.write(len(data).to_bytes(HEADER, "little") + data)
    out.flush()


def read_message(inp: IO[bytes]) -> Any:
    """The next message, or None at the end of the input (or a message cut short)."""
    head = inp.read(HEADER)
    if len(head) != HEADER:
        return None
    size = int.from_bytes(head, "little")
    data = inp.read(size)
    if len(data) != size:
        return None
    return marshal.loads(data)


# -- the child ----------------------------------------------------------------------------------

class _ImportTrouble(Exception):
    """The user's code cannot be imported, or a topic names nothing in it."""


def import_roots(code_path: Path) -> list[str]:
    """``code_path``, and the directory its outermost package sits in when it is a package."""
    roots = [str(code_path)]
    top = code_path
    while (top / "__init__.py").is_file() and top.parent != top:
        top = top.parent
    if top != code_path:
        roots.append(str(top))
    return roots


def _not_there(topic: str, cause: BaseException | None) -> bool:
    """Whether a topic fails because the code has no such module or class (not because a
    module it names fails to import, which is broken code)."""
    if isinstance(cause, ModuleNotFoundError):
        module = topic.partition(":")[0]
        missing = cause.name or ""
        return module == missing or module.startswith(missing + ".")
    return isinstance(cause, AttributeError)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _import_message(error: BaseException) -> str:
    """What the user's code could not import: the ImportError behind a TopicError."""
    cause = error.__cause__
    return _one_line(cause if isinstance(cause, ImportError) else error)


class Worker:
    """Answers the parent's requests with the library and the user's code."""

    def __init__(self, code_path: Path) -> None:
        from eventsourcing import application, persistence, utils

        self._code_path = code_path
        self._lib_app = application
        self._lib_persistence = persistence
        self._resolve = utils.resolve_topic
        self._topic_error = utils.TopicError
        self._app_classes: dict[tuple[type, str | None, str | None], type] = {}

    def handle(self, request: tuple[Any, ...]) -> tuple[Any, ...]:
        op, *args = request
        try:
            if op == "model":
                return ("ok", self.model(*args))
            if op == "replay":
                return ("ok", self.replay(*args))
            if op == "snapshots":
                return ("ok", self.snapshots(*args))
            return ("error", "usage", f"unknown request {op!r}")
        except _ImportTrouble as e:
            return ("error", "import", str(e))
        except self._topic_error as e:
            return ("error", "import", _import_message(e))
        except BaseException as e:  # the user's code: whatever it raises is an answer
            return ("error", "raised", _one_line(e))

    # -- requests ------------------------------------------------------------------------------
    def model(self, topic: str) -> str | None:
        try:
            found = self._resolve(topic)
        except self._topic_error as e:
            if _not_there(topic, e.__cause__):
                return None
            raise _ImportTrouble(_import_message(e)) from e
        except Exception as e:
            raise _ImportTrouble(_one_line(e)) from e
        return found.__module__ if isinstance(found, type) else None

    def replay(self, app_name: str | None, application: str | None, topic: str, key: str,
               version: int, rows: Sequence[tuple[int, str, bytes]]) -> dict[str, Any]:
        aggregate_cls = self._aggregate_class(topic)
        app = self._application(aggregate_cls, app_name, application)
        try:
            self._insert(app, key, rows)
            projector = self._projector(app, aggregate_cls)
            return aggregate_state(app.repository.get(key, version=version,
                                                      projector_func=projector))
        finally:
            app.close()

    def snapshots(self, app_name: str | None, application: str | None, topic: str, key: str,
                  events: Sequence[tuple[int, str, bytes]],
                  snapshots: Sequence[tuple[int, str, bytes]],
                  ) -> list[tuple[int, Any, Any, str]]:
        """The replay from events alone at each snapshot's version (one pass: each replay
        continues the previous one, as the repository fast-forwards a cached aggregate),
        compared with what the library loads from the snapshot."""
        aggregate_cls = self._aggregate_class(topic)
        app = self._application(aggregate_cls, app_name, application)
        stored_event = self._lib_persistence.StoredEvent
        out: list[tuple[int, Any, Any, str]] = []
        try:
            self._insert(app, key, events)
            projector = self._projector(app, aggregate_cls)
            aggregate: Any = None
            done: int | None = None
            broken = ""
            for version, snap_topic, state in sorted(snapshots):
                from_events: dict[str, Any] | None = None
                if not broken:
                    try:
                        aggregate = projector(aggregate, app.events.get(key, gt=done,
                                                                        lte=version))
                        done = version
                    except self._topic_error:
                        raise
                    except Exception as e:
                        broken = f"the events do not replay to version {version}: {_one_line(e)}"
                if broken:
                    out.append((version, None, None, broken))
                    continue
                if aggregate is None:
                    out.append((version, None, None, "the stream has no events up to this "
                                                     "version"))
                    continue
                reached = getattr(aggregate, "version", version)
                if reached != version:
                    out.append((version, None, None, f"the events end at version {reached}"))
                    continue
                from_events = aggregate_state(aggregate)
                try:
                    snapshot = app.mapper.to_domain_event(stored_event(
                        originator_id=key, originator_version=version, topic=snap_topic,
                        state=state))
                    from_snapshot = aggregate_state(projector(None, [snapshot]))
                except Exception as e:
                    out.append((version, None, from_events,
                                f"the snapshot does not load: {_one_line(e)}"))
                    continue
                if from_snapshot != from_events:
                    out.append((version, from_snapshot, from_events, ""))
        finally:
            app.close()
        return out

    # -- the library's objects -----------------------------------------------------------------
    def _insert(self, app: Any, key: str, rows: Sequence[tuple[int, str, bytes]]) -> None:
        stored_event = self._lib_persistence.StoredEvent
        app.recorder.insert_events([stored_event(originator_id=key, originator_version=v,
                                                 topic=t, state=s) for v, t, s in rows])

    def _projector(self, app: Any, aggregate_cls: type) -> Callable[[Any, Any], Any]:
        """The application's projector for the class (immutable aggregates name one),
        else the library's ``project_aggregate``."""
        found: Callable[[Any, Any], Any] = type(app).snapshotting_projectors.get(
            aggregate_cls, self._lib_app.project_aggregate)
        return found

    def _aggregate_class(self, topic: str) -> type:
        try:
            found = self._resolve(topic)
        except self._topic_error as e:
            raise _ImportTrouble(_import_message(e)) from e
        except Exception as e:  # the module exists but fails as it is imported
            raise _ImportTrouble(_one_line(e)) from e
        if not isinstance(found, type):
            raise _ImportTrouble(f"the topic {topic} names no class")
        return found

    def _application(self, aggregate_cls: type, app_name: str | None,
                     application: str | None) -> Any:
        """A new in-memory instance of the Application the code defines for this store."""
        cache_key = (aggregate_cls, app_name, application)
        cls = self._app_classes.get(cache_key)
        if cls is None:
            cls = self._app_classes[cache_key] = self._application_class(
                aggregate_cls, app_name, application)
        prefix = str(getattr(cls, "name", "")).upper()
        env = {**_OVERRIDDEN, **{f"{prefix}_{k}": v for k, v in _OVERRIDDEN.items()}}
        return cls(env=env)

    def _application_class(self, aggregate_cls: type, app_name: str | None,
                           application: str | None) -> type:
        """The user's Application class that wrote the store (its transcodings decode the
        states): the one named, else the one whose name the tables carry, else the one
        the code defines (several that decode alike count as one), else the library's."""
        base: type = self._lib_app.Application
        if application is not None:
            try:
                chosen = self._resolve(application)
            except self._topic_error as e:
                raise _ImportTrouble(_import_message(e)) from e
            if not (isinstance(chosen, type) and issubclass(chosen, base)):
                raise _ImportTrouble(f"{application} is not an eventsourcing Application")
            return chosen
        found = self._defined_applications(aggregate_cls, base)
        if app_name is not None:
            named = [c for c in found if str(getattr(c, 'name', '')).lower() == app_name.lower()]
            found = named or found
        kinds = {self._decoding(c) for c in found}
        if not found:
            return base
        if len(kinds) == 1:
            return found[0]
        names = ", ".join(f"{c.__module__}:{c.__qualname__}" for c in found)
        raise _ImportTrouble(f"the code defines several Applications that decode differently "
                             f"({names}): name the one that wrote the store "
                             "(--code-app MODULE:CLASS)")

    def _decoding(self, cls: type) -> tuple[Any, ...]:
        env = getattr(cls, "env", {})
        settings = tuple(env.get(k) for k in _OWN_SETTINGS)
        return tuple(getattr(cls, m) for m in _BUILD_METHODS) + settings

    def _defined_applications(self, aggregate_cls: type, base: type) -> list[type]:
        """The Application subclasses in the aggregate's module, in the modules beside it and
        at the top of the code path that define one (found by reading their source, so no
        other module is imported), and in modules of the code path imported already."""
        roots = [Path(r).resolve() for r in import_roots(self._code_path)]
        module = sys.modules.get(aggregate_cls.__module__)
        for name in _application_modules(aggregate_cls.__module__, module, self._code_path):
            try:
                __import__(name)
            except Exception as e:
                raise _ImportTrouble(_one_line(e)) from e
        found: dict[str, type] = {}
        for mod in list(sys.modules.values()):
            file = getattr(mod, "__file__", None)
            if not file or not any(_inside(Path(file), r) for r in roots):
                continue
            for obj in list(vars(mod).values()):
                if (isinstance(obj, type) and issubclass(obj, base) and obj is not base
                        and obj.__module__ == mod.__name__):
                    found[f"{obj.__module__}:{obj.__qualname__}"] = obj
        return [found[k] for k in sorted(found)]


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def _application_modules(module_name: str, module: object, code_path: Path) -> list[str]:
    """Modules beside the aggregate's and at the top of the code path whose source defines a
    class on an ``...Application`` base and imports ``eventsourcing`` (test modules aside)."""
    roots = import_roots(code_path)
    package = ".".join(code_path.relative_to(roots[-1]).parts)
    places: list[tuple[Path, str]] = [(code_path, package + "." if package else "")]
    file = getattr(module, "__file__", None)
    if file:
        here = Path(file).resolve().parent
        package = module_name.rpartition(".")[0] if not file.endswith("__init__.py") \
            else module_name
        places.append((here, package + "." if package else ""))
    names: list[str] = []
    for folder, prefix in places:
        for path in sorted(folder.glob("*.py")):
            stem = path.stem
            if stem.startswith("test_") or stem.endswith("_test") or stem == "conftest":
                continue
            name = prefix.rstrip(".") if stem == "__init__" else prefix + stem
            if name and name not in names and _defines_application(path):
                names.append(name)
    return names


def _defines_application(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_bytes(), str(path))
    except (OSError, SyntaxError, ValueError):
        return False
    uses_library = any(
        (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("eventsourcing"))
        or (isinstance(node, ast.Import)
            and any(a.name.startswith("eventsourcing") for a in node.names))
        for node in ast.walk(tree))
    return uses_library and any(
        isinstance(node, ast.ClassDef)
        and any(ast.unparse(b).split("[")[0].endswith("Application") for b in node.bases)
        for node in tree.body)


def _watch_parent(parent: int) -> None:
    """End the child once its parent is gone, even while the user's code hangs."""
    while os.getppid() == parent:
        clock.sleep(1)
    os._exit(0)


def main(argv: Sequence[str]) -> int:
    """Serve requests until the parent closes the input. Ctrl-C is the parent's to handle
    (it stops the child): the terminal sends it to both."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    inp = os.fdopen(os.dup(0), "rb")
    out = os.fdopen(os.dup(1), "wb")
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.dup2(2, 1)
    code_path = Path(argv[0]).resolve()
    sys.path[:0] = import_roots(code_path)
    worker: Worker | None = None
    with contextlib.suppress(Exception):  # imported before the first request; else with it
        worker = Worker(code_path)
    while (request := read_message(inp)) is not None:
        if worker is None:
            try:
                worker = Worker(code_path)
            except Exception as e:
                write_message(out, ("error", "import", _one_line(e)))
                continue
        write_message(out, worker.handle(request))
    return 0
