"""Which model folds which stream, said every time: esaudit's own domain, a model file, the
system's own aggregate classes, or none.

A stream type is only a name: an imported history's ``Order`` is not the demo shop's, so the
shop's rules fold a stream only when esaudit's own commands wrote it (its origin says so, see
``store.origins``). A model file names the stream types (or stream ids) it covers; the
system's own classes cover the aggregates whose topics resolve in its code. Anything else
replays as ``none``: the events' payload fields merged, said as such.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store import Source
from store.records import APPENDED, IMPORTED, UNKNOWN_ORIGIN

from ..domain.events import ORDER, PRODUCT
from ..domain.folds import FOLDS, fold, merge_all
from ..domain.model_file import load_model_file
from ..domain.rules import RuleViolation, StreamModel
from ..domain.shop_rules import ProductRules, ShopRules

if TYPE_CHECKING:
    from .code_models import ApplicationCode

State = dict[str, Any]
Triple = tuple[int, str, Mapping[str, Any]]
NONE = "none"


class BuiltinFold:
    """esaudit's own domain fold for one of its stream types (no rules of its own to check:
    the commands that wrote the stream checked them before any event existed)."""

    fold_key: str | None = None

    def __init__(self, stream_type: str) -> None:
        self.stream_type = stream_type
        self.name = f"builtin:{stream_type}"

    def covers(self, stream_id: str, stream_type: str) -> bool:
        return stream_type == self.stream_type

    def fold(self, events: Iterable[Triple], state: State | None = None) -> State | None:
        return fold(self.stream_type, events, state)

    def check(self, stream_id: str, events: Iterable[Triple]) -> list[RuleViolation]:
        return []


class MergedFields:
    """No model: the events' payload fields merged, which is not the aggregate's state."""

    name = NONE
    fold_key: str | None = "merged/1"
    """Bumped whenever ``deep_merge`` changes what it makes of a payload."""

    def covers(self, stream_id: str, stream_type: str) -> bool:
        return True

    def fold(self, events: Iterable[Triple], state: State | None = None) -> State | None:
        return merge_all(events, state)

    def check(self, stream_id: str, events: Iterable[Triple]) -> list[RuleViolation]:
        return []


MERGED = MergedFields()


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """The model a stream replays with, and why there is none when there is none."""

    name: str
    fold: StreamModel
    """The fold (``MERGED`` for none; unused when ``code`` replays the stream)."""
    code: ApplicationCode | None = None
    why_none: str = ""

    @property
    def own_snapshots(self) -> bool:
        """esaudit's snapshots hold states its domain folds wrote: only they continue them."""
        return self.name.startswith("builtin:")


class Models:
    """The models loaded for one open store, and the choice of one for each stream.

    Origins are read once per stream and kept: a stream's origin never changes (an import
    never extends a stream; commands never append to an imported one).
    """

    def __init__(self, store: Source, files: Sequence[StreamModel] = (),
                 code: ApplicationCode | None = None) -> None:
        self.store = store
        self.files: list[StreamModel] = list(files)
        self.file_paths: list[Path] = []
        self.code = code
        self._origins: dict[str, str] = {}
        self._lock = threading.Lock()
        self.changed = 0
        """Bumped whenever the loaded models change (a replay cache keyed on it is fresh)."""

    # -- loading ---------------------------------------------------------------------------
    def load_file(self, path: Path) -> list[StreamModel]:
        """Load a model file (ModelFileError: ``FILE:LINE: reason``); it is consulted before
        the ones loaded earlier, and replaces one loaded from the same path."""
        resolved = path.resolve()
        loaded: list[StreamModel] = list(load_model_file(resolved))
        old = {m.name for m in self.files if m.name == f"file:{resolved}"}
        self.files = loaded + [m for m in self.files if m.name not in old]
        self.file_paths = [resolved] + [p for p in self.file_paths if p != resolved]
        self.changed += 1
        return loaded

    def clear_files(self) -> None:
        self.files.clear()
        self.file_paths.clear()
        self.changed += 1

    def use_code(self, code: ApplicationCode | None) -> None:
        if self.code is not None and self.code is not code:
            self.code.close()
        self.code = code
        self.changed += 1

    def close(self) -> None:
        if self.code is not None:
            self.code.close()

    # -- choosing --------------------------------------------------------------------------
    def origin(self, stream_id: str) -> str:
        with self._lock:
            found = self._origins.get(stream_id)
        if found is None:
            found = self.store.origin_of(stream_id)
            if found != UNKNOWN_ORIGIN or self.store.stream(stream_id) is not None:
                with self._lock:
                    self._origins[stream_id] = found
        return found

    def read_origins(self, stream_type: str | None = None) -> None:
        """Read the origin of every stream (of a type) in one read, before choosing models
        for many of them."""
        found = self.store.stream_origins(stream_type)
        with self._lock:
            self._origins.update(found)

    def choose(self, stream_id: str, stream_type: str) -> ModelChoice:
        """The fold for a stream: esaudit's domain for streams its commands wrote, else the
        first model file that covers it, else the system's classes, else none (with why)."""
        origin = self.origin(stream_id)
        if stream_type in FOLDS and origin == APPENDED:
            return ModelChoice(f"builtin:{stream_type}", BuiltinFold(stream_type))
        for model in self.files:
            if model.covers(stream_id, stream_type):
                return ModelChoice(model.name, model)
        if self.code is not None:
            name = self.code.model_name(self.store, stream_id)
            if name is not None:
                return ModelChoice(name, MERGED, code=self.code)
        return ModelChoice(NONE, MERGED, why_none=self._why_none(stream_type, origin))

    def choose_now(self, stream_id: str, stream_type: str) -> ModelChoice | None:
        """``choose``, or None when only the system's code can say (its child process may
        have to start): what a caller that must answer at once, the GUI thread, asks."""
        if self.code is not None and not self.code.answers_at_once(self.store, stream_id):
            origin = self.origin(stream_id)
            if not (stream_type in FOLDS and origin == APPENDED) and \
                    not any(m.covers(stream_id, stream_type) for m in self.files):
                return None
        return self.choose(stream_id, stream_type)

    def rules_for(self, stream_id: str, stream_type: str) -> StreamModel | None:
        """The model whose rules a stream's history is checked against: a model file that
        covers it, else the shop's state machine for an ``Order`` (or ``Product``) stream in
        esaudit's own store (written by its commands or imported), else None."""
        for model in self.files:
            if model.covers(stream_id, stream_type):
                return model
        if self.store.identity.kind == "esaudit":
            if stream_type == ORDER:
                return ShopRules()
            if stream_type == PRODUCT:
                return ProductRules()
        return None

    def _why_none(self, stream_type: str, origin: str) -> str:
        if stream_type in FOLDS and origin == IMPORTED:
            return (f"{stream_type} stream imported: esaudit's shop rules replay only streams "
                    "its own commands wrote")
        if stream_type in FOLDS and origin == UNKNOWN_ORIGIN:
            return (f"{stream_type} stream stored before esaudit recorded which streams its "
                    "commands wrote")
        return f"no model for {stream_type}"
