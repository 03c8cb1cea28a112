"""Model files: TOML that tells esaudit how a stream type it does not know folds and which
rules its events keep. The format is a public contract::

    [BankAccount]                      # a stream type (or: match = "account-*" over ids)
    initial = { balance = 0, status = "open" }
    status = "status"                  # the field the ``from`` checks read
    unknown_events = "ignore"          # or "violation"
    [BankAccount.on.Deposited]
    add = { balance = "$.amount" }     # "$.path" reads the payload; anything else is literal
    [BankAccount.on.Withdrawn]
    subtract = { balance = "$.amount" }
    from = ["open"]
    require = ["$.amount"]

Each top-level table is one model. Its key is the stream type it covers, unless it sets
``match``, a glob (``fnmatch``, case-sensitive) over stream ids; then the key only names it.
An event table holds the operations ``set``, ``add``, ``subtract``, ``append``, ``remove`` and
``merge`` (each a table ``field = operand``) and the checks ``from`` and ``require``; how they
apply is documented in ``model_fold``. A target field may be a dotted path written as a quoted
key (``"totals.net" = ...``): an unquoted dotted key is TOML's own nesting, so
``add = { totals.net = 1 }`` is refused and ``set = { totals.net = 1 }`` sets ``totals`` to a
map. TOML floats are read as ``Decimal``, so a literal ``0.1`` is exact.

A file that cannot be used raises ``ModelFileError`` with the message ``FILE:LINE: reason``,
LINE being the line of the offending key or table header: an auditor fixes the file in an
editor, so the message must point at it. Two tables for one stream type are a TOML error
(a table declared twice) and reported as such.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, Protocol

from .errors import DomainError
from .model_fold import (
    OPERATIONS,
    EventRule,
    Operation,
    Target,
    TypeModel,
    is_path,
    number,
    operand,
    parse_path,
)

MODEL_KEYS = ("initial", "status", "unknown_events", "on", "match")
EVENT_KEYS = (*OPERATIONS, "from", "require")
UNKNOWN_EVENTS = ("ignore", "violation")


class ModelFileError(DomainError):
    """A model file that cannot be used; the message is exactly ``FILE:LINE: reason``."""

    def __init__(self, label: str, line: int, reason: str) -> None:
        super().__init__(f"{label}:{line}: {reason}")
        self.label, self.line, self.reason = label, line, reason


def load_model_file(path: Path) -> list[TypeModel]:
    """The models in the file at ``path``, named in messages as ``path`` is written.

    An unreadable file raises the OSError reading it did; a malformed one ModelFileError.
    """
    label = str(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFileError(label, data[:exc.start].count(b"\n") + 1,
                             "the file is not UTF-8 text.") from None
    return parse_model_text(text, label)


def parse_model_text(text: str, label: str) -> list[TypeModel]:
    """The models ``text`` describes, in file order; ``label`` names the file in messages
    and in each model's name (``file:{label}``)."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, text, label) from None
    lines = _KeyLines(text)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    def fail(path: tuple[str, ...], reason: str) -> NoReturn:
        raise ModelFileError(label, lines.line_of(path), reason)

    return [_model(label, key, table, fail, digest) for key, table in data.items()]


_AT = re.compile(r"\s*\(at line (\d+), column \d+\)$|\s*\(at end of document\)$")


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str, label: str) -> ModelFileError:
    message = str(exc)
    at = _AT.search(message)
    line = int(at.group(1)) if at is not None and at.group(1) else text.count("\n") + 1
    reason = message[:at.start()] if at is not None else message
    return ModelFileError(label, line, f"invalid TOML: {reason}.")


class _Fail(Protocol):
    """Type of the ``fail(path, reason)`` callback: raise at the line of ``path``."""

    def __call__(self, path: tuple[str, ...], reason: str) -> NoReturn: ...


def _model(label: str, key: str, table: Any, fail: _Fail, digest: str) -> TypeModel:
    if not isinstance(table, dict):
        fail((key,), f"{key} is not a table: every top-level entry must be a model table.")
    for name in table:
        if name not in MODEL_KEYS:
            fail((key, name), f"unknown key {name!r} in [{key}] (expected "
                              f"{_either(MODEL_KEYS)}).")
    match = table.get("match")
    if match is not None and not isinstance(match, str):
        fail((key, "match"), f"match in [{key}] must be a string glob over stream ids.")
    initial = table.get("initial", {})
    if not isinstance(initial, dict):
        fail((key, "initial"), f"initial in [{key}] must be a table.")
    status = None
    if "status" in table:
        status = _target(table["status"])
        if status is None:
            fail((key, "status"), f"status in [{key}] must be the name of a field.")
    unknown = table.get("unknown_events", "ignore")
    if unknown not in UNKNOWN_EVENTS:
        fail((key, "unknown_events"),
             f"unknown_events in [{key}] must be \"ignore\" or \"violation\".")
    on = table.get("on", {})
    if not isinstance(on, dict):
        fail((key, "on"), f"on in [{key}] must be a table of event types.")
    if "on" not in table and "initial" not in table:
        fail((key,), f"model {key} has neither an initial table nor on tables.")
    events = {event: _event(key, event, rules, status is not None, fail)
              for event, rules in on.items()}
    return TypeModel(label, key, events, initial, status, match, unknown, digest)


def _event(model: str, event: str, table: Any, has_status: bool, fail: _Fail) -> EventRule:
    where = (model, "on", event)
    header = f"[{model}.on.{event}]"
    if not isinstance(table, dict):
        fail(where, f"on.{event} in [{model}] must be a table.")
    for name in table:
        if name not in EVENT_KEYS:
            fail((*where, name), f"unknown key {name!r} in {header} (expected "
                                 f"{_either(EVENT_KEYS)}).")
    operations = [op for kind in OPERATIONS if kind in table
                  for op in _operations(kind, table[kind], (*where, kind), fail)]
    allowed = table.get("from")
    if allowed is not None:
        if not isinstance(allowed, list) or not all(isinstance(s, str) for s in allowed):
            fail((*where, "from"), f"from in {header} must be a list of status names.")
        if not has_status:
            fail((*where, "from"), f"from in {header} needs a status key in [{model}] naming "
                                   f"the field it reads.")
    require = table.get("require", [])
    if not isinstance(require, list) or not all(is_path(p) for p in require):
        fail((*where, "require"), f"require in {header} must be a list of $. payload paths.")
    try:
        paths = tuple(parse_path(p) for p in require)
    except ValueError as exc:
        fail((*where, "require"), f"require in {header}: {exc}.")
    return EventRule(tuple(operations), tuple(allowed) if allowed is not None else None, paths)


def _operations(kind: str, table: Any, where: tuple[str, ...], fail: _Fail) -> list[Operation]:
    name = f"{kind} in [{'.'.join(where[:-1])}]"
    if not isinstance(table, dict):
        fail(where, f"{name} must be a table of field = value.")
    operations = []
    for field, value in table.items():
        target = _target(field)
        if target is None:
            fail((*where, field), f"{name}: {field!r} is not a field name.")
        if kind in ("add", "subtract") and not is_path(value) and number(value) is None:
            hint = " (quote a dotted target: \"a.b\" = ...)" if isinstance(value, dict) else ""
            fail((*where, field), f"{name}: {field} must be a number or a $. payload path, not "
                                  f"{_shown(value)}{hint}.")
        if kind == "merge" and not is_path(value) and not isinstance(value, dict):
            fail((*where, field), f"{name}: {field} must be a table or a $. payload path, not "
                                  f"{_shown(value)}.")
        try:
            operations.append(Operation(kind, target, operand(value)))
        except ValueError as exc:
            fail((*where, field), f"{name}: {field}: {exc}.")
    return operations


def _target(field: Any) -> Target | None:
    """A field name, dotted for nested maps; None if it is not one."""
    if not isinstance(field, str) or field.startswith("$"):
        return None
    parts = tuple(field.split("."))
    return parts if all(parts) else None


def _either(names: tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1]


def _shown(value: Any) -> str:
    return "a table" if isinstance(value, dict) else "a list" if isinstance(
        value, list) else repr(value)


_BARE = re.compile(r"[A-Za-z0-9_-]+")


class _KeyLines:
    """Where each key and table header of a TOML text is written, for error messages.

    A small scanner, not a parser (the text already parsed): it reads table headers and
    ``key =`` lines, skipping strings, comments and values that span lines. A key is
    reported at its own line, else at its nearest ancestor's (an inline table's keys share
    their line).
    """

    def __init__(self, text: str) -> None:
        self._written: dict[tuple[str, ...], int] = {}
        self._implied: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        depth, string = 0, ""
        for lineno, line in enumerate(text.split("\n"), 1):
            pos = 0
            if not depth and not string:
                start = len(line) - len(line.lstrip())
                if line.startswith("[", start):
                    header = _key(line, start + (2 if line.startswith("[[", start) else 1))
                    if header is not None:
                        table = tuple(header[0])
                        self._note(table, lineno)
                    continue
                key = _key(line, start)
                if key is None or not line.startswith("=", key[1]):
                    continue
                self._note((*table, *key[0]), lineno)
                pos = key[1] + 1
            depth, string = _skip_value(line, pos, depth, string)

    def _note(self, path: tuple[str, ...], line: int) -> None:
        self._written.setdefault(path, line)
        for end in range(1, len(path)):
            self._implied.setdefault(path[:end], line)

    def line_of(self, path: tuple[str, ...]) -> int:
        for end in range(len(path), 0, -1):
            line = self._written.get(path[:end], self._implied.get(path[:end]))
            if line is not None:
                return line
        return 1


def _key(line: str, pos: int) -> tuple[list[str], int] | None:
    """The dotted key at ``pos`` and the position after it (and after blanks), or None."""
    parts = []
    while True:
        while line.startswith((" ", "\t"), pos):
            pos += 1
        if line.startswith('"', pos):
            end = _string_end(line, pos + 1)
            if end < 0:
                return None
            raw = line[pos:end]
            try:
                parts.append(str(json.loads(raw)))
            except ValueError:
                parts.append(raw[1:-1])
            pos = end
        elif line.startswith("'", pos):
            end = line.find("'", pos + 1)
            if end < 0:
                return None
            parts.append(line[pos + 1:end])
            pos = end + 1
        else:
            bare = _BARE.match(line, pos)
            if bare is None:
                return None
            parts.append(bare.group())
            pos = bare.end()
        while line.startswith((" ", "\t"), pos):
            pos += 1
        if not line.startswith(".", pos):
            return parts, pos
        pos += 1


def _string_end(line: str, pos: int) -> int:
    """The position after the closing quote of a basic string opened before ``pos``; -1."""
    while pos < len(line):
        if line[pos] == "\\":
            pos += 2
        elif line[pos] == '"':
            return pos + 1
        else:
            pos += 1
    return -1


def _skip_value(line: str, pos: int, depth: int, string: str) -> tuple[int, str]:
    """Read a value's text from ``pos``: the bracket depth and the open multi-line string
    (``'''`` or ``\"\"\"``, else "") when the line ends."""
    while pos < len(line):
        if string:
            end = line.find(string, pos)
            if end < 0:
                return depth, string
            pos, string = end + 3, ""
            continue
        char = line[pos]
        if char == "#":
            break
        if char in "\"'":
            if line.startswith(char * 3, pos):
                string, pos = char * 3, pos + 3
                continue
            end = _string_end(line, pos + 1) if char == '"' else line.find("'", pos + 1) + 1
            if end <= 0:
                break
            pos = end
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        pos += 1
    return depth, string
