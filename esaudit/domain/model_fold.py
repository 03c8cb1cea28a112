"""The fold and the rule checks of one stream type described by a model file.

A model file (see ``model_file``) says, per event type, how the event changes the state and
which rules it must keep. This module is what runs it; the loader builds the values below.

Applying one event, in this order: ``set``, ``add``, ``subtract``, ``append``, ``remove``,
``merge`` (each over its fields in the file's order), so that ``set = {status = "x"}`` and
``add = {n = 1}`` on one event never depend on how the TOML table happened to be written.

Operands. A string beginning ``$.`` (or ``$`` alone, the whole payload) is read from the
event's payload; ``$.a.b`` walks maps and ``$.lines[0].sku`` list items (negative indices
count from the end). A table or list operand may hold such paths at any depth and is built
from the payload. Anything else is a literal. Values taken into the state are copies, so a
fold never shares a list or map with a payload, the model or the caller's state.

Arithmetic (``add``, ``subtract``) is exact: ints, numeric strings (``"120.25"``) and floats
(read as their shortest decimal, ``0.1`` is ``Decimal("0.1")``) are summed as
``decimal.Decimal``. The result is an ``int`` when the field and the operand are both ints,
otherwise a ``Decimal`` (never a float, which would lose cents). A field that is missing
counts as 0; ``None``, a bool or a non-numeric string is ``not_a_number``.

Nothing here raises on bad history: replay is a fact-finding tool. An operation that cannot
be applied leaves its field as it was and, in ``check``, is reported:

* ``missing_operand``: a ``$.`` path is absent from the payload. The field is not set to
  ``None``, because an absent value is not a null one and replay should not invent it;
* ``not_a_number``, ``not_a_list`` (append), ``not_a_map`` (merge, or a dotted target whose
  parent is not a map), ``not_a_collection`` (remove from something neither map nor list).

An operand that the event's ``require`` also lists is reported once, as ``require``, not
again by the operation that reads it.

Checks, in ``check`` only: ``from`` (the status field before the event is not one of the
listed ones), ``require`` (a path absent or null), ``unknown_event`` (a type the model does
not list, when the model says ``unknown_events = "violation"``). ``remove`` of a key or item
that is not there is not a violation: the state already is what the event asks for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from fnmatch import fnmatchcase
from typing import Any

from .rules import Event, RuleViolation

State = dict[str, Any]
Target = tuple[str, ...]
"""A field of the state: ``("totals", "net")`` for the file's ``"totals.net"``."""

OPERATIONS = ("set", "add", "subtract", "append", "remove", "merge")
FOLD_FORMAT = 1
"""How esaudit folds a model file; a change to what any operation does bumps it, so states
an older reading of the same file kept are never continued."""
"""The operations an event table may hold, in the order they are applied."""


class _Missing:
    """Marks a value that is not there (``None`` is a value)."""

    __slots__ = ()


_MISSING = _Missing()


class MissingOperand(Exception):
    """A payload path an operation reads is absent; carries the path as written."""


_STEP = re.compile(r"\.([^.\[\]]+)|\[(-?\d+)\]")


@dataclass(frozen=True, slots=True)
class PayloadPath:
    """``$.a.b[0]``: where in an event's payload an operand is read."""

    text: str
    steps: tuple[str | int, ...]

    def find(self, payload: Any) -> Any:
        """The value at this path, or ``_MISSING``."""
        value = payload
        for step in self.steps:
            if isinstance(step, str):
                if type(value) is not dict and not isinstance(value, Mapping):
                    return _MISSING
                value = value.get(step, _MISSING)
                if value is _MISSING:
                    return _MISSING
            else:
                if not isinstance(value, list | tuple) or not -len(value) <= step < len(value):
                    return _MISSING
                value = value[step]
        return value

    def evaluate(self, payload: Mapping[str, Any]) -> Any:
        value = self.find(payload)
        if value is _MISSING:
            raise MissingOperand(self.text)
        return plain(value)


@dataclass(frozen=True, slots=True)
class Literal:
    """A value written in the model file itself."""

    value: Any

    def evaluate(self, payload: Mapping[str, Any]) -> Any:
        return plain(self.value)


@dataclass(frozen=True, slots=True)
class Template:
    """A table or list operand with payload paths inside: built afresh for each event."""

    items: tuple[tuple[str | int, Operand], ...]
    is_map: bool

    def evaluate(self, payload: Mapping[str, Any]) -> Any:
        if self.is_map:
            return {key: item.evaluate(payload) for key, item in self.items}
        return [item.evaluate(payload) for _, item in self.items]


Operand = PayloadPath | Literal | Template


def is_path(value: object) -> bool:
    """Whether a model-file string is a payload path rather than a literal."""
    return isinstance(value, str) and (value == "$" or value.startswith("$."))


def parse_path(text: str) -> PayloadPath:
    """The path ``text`` names; ValueError when it is not ``$`` followed by ``.key``/``[n]``."""
    if not text.startswith("$"):
        raise ValueError(f"{text!r} is not a valid payload path")
    steps: list[str | int] = []
    pos = 1
    while pos < len(text):
        step = _STEP.match(text, pos)
        if step is None:
            raise ValueError(f"{text!r} is not a valid payload path")
        key, index = step.groups()
        steps.append(key if key is not None else int(index))
        pos = step.end()
    return PayloadPath(text, tuple(steps))


def operand(value: Any) -> Operand:
    """A model-file value as an operand; ValueError names a payload path that is malformed."""
    if is_path(value):
        return parse_path(value)
    if isinstance(value, Mapping | list):
        pairs = value.items() if isinstance(value, Mapping) else enumerate(value)
        items = tuple((key, operand(item)) for key, item in pairs)
        if any(not isinstance(item, Literal) for _, item in items):
            return Template(items, isinstance(value, Mapping))
    return Literal(value)


_ATOMS = frozenset({str, int, float, bool, type(None), Decimal})


def plain(value: Any) -> Any:
    """A deep copy made of dicts and lists, the only containers a fold changes in place."""
    if type(value) in _ATOMS:
        return value
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


_EXACT = Context(prec=100, Emax=MAX_EMAX, Emin=MIN_EMIN)
_NUMERIC = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def number(value: Any) -> int | Decimal | None:
    """``value`` as an exact number, or None when it is not one."""
    kind = type(value)
    if kind is int:
        return value  # type: ignore[no-any-return]
    if kind is str:
        return Decimal(value) if _NUMERIC.fullmatch(value) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    return None


def _absent(value: Any) -> bool:
    return value is _MISSING or value is None


Problem = tuple[str, str] | None
"""(rule, detail) when an operation could not be applied."""


class NotAMap(Exception):
    """A dotted target's parent holds something other than a map; carries the detail."""


def _dotted(target: Target) -> str:
    return ".".join(target)


def _parent(state: State, target: Target, create: bool = True) -> State | None:
    """The map holding the target's last key (created when missing, unless ``create`` is
    false: then None)."""
    if len(target) == 1:
        return state
    node = state
    for depth, key in enumerate(target[:-1]):
        child = node.get(key, _MISSING)
        if child is _MISSING:
            if not create:
                return None
            child = node[key] = {}
        elif not isinstance(child, dict):
            raise NotAMap(f"{_dotted(target)} cannot be reached: "
                          f"{_dotted(target[:depth + 1])} is not a map")
        node = child
    return node


def _set(state: State, target: Target, value: Any) -> Problem:
    parent = _parent(state, target)
    assert parent is not None
    parent[target[-1]] = value
    return None


def _arithmetic(sign: int) -> Callable[[State, Target, Any], Problem]:
    combine = _EXACT.add if sign > 0 else _EXACT.subtract

    def apply(state: State, target: Target, value: Any) -> Problem:
        parent = _parent(state, target)
        assert parent is not None
        leaf = target[-1]
        old = parent.get(leaf, 0)
        a, b = number(old), number(value)
        if a is None or b is None:
            bad = old if a is None else value
            return "not_a_number", (f"{_dotted(target)} was left as it was: {bad!r} is not "
                                    f"a number")
        if type(a) is int and type(b) is int:
            parent[leaf] = a + b if sign > 0 else a - b
        else:
            parent[leaf] = combine(a, b)
        return None
    return apply


def _append(state: State, target: Target, value: Any) -> Problem:
    parent = _parent(state, target)
    assert parent is not None
    old = parent.get(target[-1], _MISSING)
    if old is _MISSING:
        parent[target[-1]] = [value]
    elif isinstance(old, list):
        old.append(value)
    else:
        return "not_a_list", f"cannot append to {_dotted(target)}: it holds {old!r}"
    return None


def _remove(state: State, target: Target, value: Any) -> Problem:
    parent = _parent(state, target, create=False)
    old = _MISSING if parent is None else parent.get(target[-1], _MISSING)
    if isinstance(old, dict):
        if isinstance(value, dict | list):
            return None
        old.pop(value, None)
    elif isinstance(old, list):
        if value in old:
            old.remove(value)
    elif old is not _MISSING:
        return "not_a_collection", (f"cannot remove {value!r} from {_dotted(target)}: it "
                                    f"holds {old!r}")
    return None


def _merge_into(old: State, new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        mine = old.get(key)
        if isinstance(value, dict) and isinstance(mine, dict):
            _merge_into(mine, value)
        else:
            old[key] = value


def _merge(state: State, target: Target, value: Any) -> Problem:
    if not isinstance(value, dict):
        return "not_a_map", f"cannot merge {value!r} into {_dotted(target)}: it is not a map"
    parent = _parent(state, target)
    assert parent is not None
    old = parent.get(target[-1], _MISSING)
    if old is _MISSING:
        parent[target[-1]] = value
    elif isinstance(old, dict):
        _merge_into(old, value)
    else:
        return "not_a_map", f"cannot merge into {_dotted(target)}: it holds {old!r}"
    return None


APPLY: dict[str, Callable[[State, Target, Any], Problem]] = {
    "set": _set, "add": _arithmetic(1), "subtract": _arithmetic(-1), "append": _append,
    "remove": _remove, "merge": _merge}


@dataclass(frozen=True, slots=True)
class Operation:
    kind: str
    target: Target
    operand: Operand


@dataclass(frozen=True, slots=True)
class EventRule:
    """What one event type does to the state (operations in applying order) and must keep."""

    operations: tuple[Operation, ...] = ()
    allowed_from: tuple[str, ...] | None = None
    require: tuple[PayloadPath, ...] = ()


@dataclass(frozen=True, slots=True)
class TypeModel:
    """One model-file table: the fold and the checks of the streams it covers."""

    label: str
    key: str
    """The table's key: the stream type, or just the model's name when ``match`` is set."""
    events: Mapping[str, EventRule]
    initial: Mapping[str, Any]
    status: Target | None = None
    match: str | None = None
    unknown_events: str = "ignore"
    digest: str = ""
    """SHA-256 of the model file's text: what pins this fold's behaviour."""

    @property
    def name(self) -> str:
        return f"file:{self.label}"

    @property
    def fold_key(self) -> str | None:
        """This table of this exact file text (``FOLD_FORMAT`` names how esaudit reads it)."""
        return f"file/{FOLD_FORMAT}:{self.digest}:{self.key}" if self.digest else None

    def covers(self, stream_id: str, stream_type: str) -> bool:
        if self.match is not None:
            return fnmatchcase(stream_id, self.match)
        return stream_type == self.key

    def fold(self, events: Iterable[Event], state: State | None = None) -> State | None:
        """The state after ``events``: from a copy of ``state``, else of ``initial`` (so no
        events fold to ``initial`` itself, never None)."""
        return self._run("", events, plain(self.initial if state is None else state), None)

    def check(self, stream_id: str, events: Iterable[Event]) -> list[RuleViolation]:
        found: list[RuleViolation] = []
        self._run(stream_id, events, plain(self.initial), found)
        found.sort(key=lambda v: v.version)
        return found

    def status_of(self, state: State) -> str | None:
        """The status field's value as text, None when unset or when the model has none."""
        if self.status is None:
            return None
        value: Any = state
        for key in self.status:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return None if value is None else value if isinstance(value, str) else str(value)

    def _run(self, stream_id: str, events: Iterable[Event], state: State,
             found: list[RuleViolation] | None) -> State:
        """Fold ``events`` onto ``state`` in place; with ``found``, also collect violations."""
        rules = self.events
        for version, type_, payload in events:
            rule = rules.get(type_)
            if found is None:
                if rule is not None:
                    for op in rule.operations:
                        try:
                            APPLY[op.kind](state, op.target, op.operand.evaluate(payload))
                        except (MissingOperand, NotAMap):
                            continue
                continue
            before = self.status_of(state)
            problems: list[tuple[str, str]] = []
            if rule is None:
                if self.unknown_events == "violation":
                    problems.append(("unknown_event", f"{self.key} has no rule for {type_} "
                                                      f"events."))
            else:
                self._check_event(rule, type_, payload, before, problems)
                self._apply_checked(rule, payload, state, problems)
            found.extend(RuleViolation(stream_id, version, type_, kind, before, detail)
                         for kind, detail in problems)
        return state

    def _check_event(self, rule: EventRule, type_: str, payload: Mapping[str, Any],
                     before: str | None, problems: list[tuple[str, str]]) -> None:
        allowed = rule.allowed_from
        if allowed is not None and before not in allowed:
            field = _dotted(self.status or ())
            was = "unset" if before is None else repr(before)
            problems.append(("from", f"{type_} is allowed only when {field} is "
                             f"{' or '.join(map(repr, allowed))}, but it was {was}."))
        for path in rule.require:
            value = path.find(payload)
            if _absent(value):
                how = "missing" if value is _MISSING else "null"
                problems.append(("require", f"{type_} requires {path.text}, but it is {how}."))

    @staticmethod
    def _apply_checked(rule: EventRule, payload: Mapping[str, Any], state: State,
                       problems: list[tuple[str, str]]) -> None:
        absent = {p.text for p in rule.require if _absent(p.find(payload))}
        for op in rule.operations:
            try:
                problem = APPLY[op.kind](state, op.target, op.operand.evaluate(payload))
            except NotAMap as blocked:
                problems.append(("not_a_map", f"{op.kind}: {blocked.args[0]}."))
                continue
            except MissingOperand as missing:
                if missing.args[0] not in absent:
                    problems.append(("missing_operand", f"{op.kind} {_dotted(op.target)}: "
                                     f"{missing.args[0]} is missing from the payload, so the "
                                     f"field was left as it was."))
                continue
            if problem is not None and not (isinstance(op.operand, PayloadPath)
                                            and op.operand.text in absent):
                problems.append((problem[0], f"{op.kind}: {problem[1]}."))
