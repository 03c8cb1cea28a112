"""The command line's grammar: every command's options and how their values are read.

Adding a command means its ``sub.add_parser`` lines here and one ``@command`` function in the
module of its kind (``reads``, ``writes``, ``audits``, ``investigate``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

from store.formats import FORMATS

from .. import __version__
from ..domain.errors import InvalidCommand
from ..domain.money import parse_money
from .exits import UsageError


class _Parser(argparse.ArgumentParser):
    """Bad arguments become a ``UsageError``: one line on stderr and exit 2, never argparse's
    usage block."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; one without a zone is read as UTC, and stderr says so."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"not an ISO 8601 instant: {text!r} (e.g. 2026-01-31T12:00:00Z)"
                         ) from None
    if value.tzinfo is not None:
        try:
            value.astimezone(UTC)  # 0001-01-01T00:00+01:00 is in the year 0 in UTC
        except OverflowError:
            raise UsageError(f"{text.strip()!r} lies outside the years 1 to 9999 in UTC"
                             ) from None
        return value
    NOTES.append(f"esaudit: note: {text.strip()} has no time zone; read as UTC")
    return value.replace(tzinfo=UTC)


NOTES: list[str] = []
"""Notes on how input was read, printed to stderr after a command that ran (a refused one
prints its one error line only)."""


def _money(text: str) -> int:
    try:
        return parse_money(text)
    except InvalidCommand as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


class _VersionAction(argparse.Action):
    """``--version``: the package's own ``__version__``, which the package metadata is built
    from (reading the installed metadata would cost a fifth of the command's start-up)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: Any = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0,
                         help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> NoReturn:
        sys.stdout.write(f"esaudit {__version__}\n")
        parser.exit()


def investigate_commands(sub: argparse._SubParsersAction[_Parser]) -> None:
    """Investigating a history (the commands are in ``investigate.py``)."""
    s = sub.add_parser("blame", help="each field of a stream's state and the event that "
                       "last changed it")
    s.add_argument("stream")
    s.add_argument("--version", type=_non_negative, help="the state at version N "
                   "(default: the head)")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("history", help="every change of one field of a stream's state")
    s.add_argument("stream")
    s.add_argument("--field", required=True, metavar="PATH",
                   help='a field as blame and diff write it: status, lines.SKU-1.qty, '
                        'items[0].sku, lines["SKU 1"]')
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("trace", help="an event's correlation across streams, what caused "
                       "it and what it caused")
    s.add_argument("event", metavar="EVENT", help="STREAM@VERSION, or a global position")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("search", help="events of every stream that match, in position order")
    s.add_argument("--where", action="append", default=[], metavar="EXPR",
                   help="payload.PATH OP VALUE or metadata.PATH OP VALUE, OP one of "
                        "= != < <= > >= ~ (a substring, any case); VALUE a JSON literal "
                        "(12, true, null, \"text\") or else text; repeat: all must hold")
    s.add_argument("--type", dest="event_types", action="append", metavar="T",
                   help="only events of type T (repeat for more)")
    s.add_argument("--stream", dest="stream_glob", metavar="GLOB",
                   help="only streams whose id matches (* any characters, ? one)")
    s.add_argument("--from", dest="since", type=parse_instant, metavar="ISO",
                   help="only events recorded at or after this instant")
    s.add_argument("--to", dest="until", type=parse_instant, metavar="ISO",
                   help="only events recorded at or before this instant")
    s.add_argument("--limit", type=_positive, default=1000, metavar="N",
                   help="at most N events (default 1000)")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("tail", help="print events as other programs append them, until "
                       "interrupted (Ctrl-C)")
    s.add_argument("--type", dest="event_types", action="append", metavar="T",
                   help="only events of type T (repeat for more)")
    s.add_argument("--json", action="store_true", help="one JSON object a line")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="esaudit", description="Audit event-sourced systems.")
    p.add_argument("--db", metavar="TARGET",
                   help="store path or URL (default: $ESAUDIT_DB, else esaudit.db in the "
                        "per-user data folder)")
    p.add_argument("--read-only", action="store_true", help="open the store read-only")
    p.add_argument("--source", metavar="KIND",
                   help="the kind of store TARGET holds, instead of recognising it: esaudit, "
                        "eventsourcing[:APP] (APP: the application's table prefix) or "
                        "emmett[:PARTITION]; "
                        "every kind but esaudit is always read-only")
    p.add_argument("--model", dest="models", action="append", default=[], metavar="FILE",
                   help="a model file (TOML) saying how stream types fold and which rules "
                        "their events keep (repeat for more; see the README)")
    p.add_argument("--code-path", metavar="DIR",
                   help="the folder of the system's own code: eventsourcing aggregates "
                        "replay through their classes (run in a child process)")
    p.add_argument("--code-app", metavar="MODULE:CLASS",
                   help="with --code-path: the Application class that wrote the store, when "
                        "the code defines several that decode differently")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    p.add_argument("--version", action=_VersionAction,
                   help="show program's version number and exit")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    s = sub.add_parser("seed", help="fill the store with a deterministic demo history")
    s.add_argument("--orders", type=_positive, required=True)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--days", type=_positive, default=30)
    s.add_argument("--until", type=parse_instant, default=None,
                   help="end of the time span (default: today 00:00 UTC)")
    s.add_argument("--json", action="store_true")

    order = sub.add_parser("order", help="run an order command").add_subparsers(
        dest="action", parser_class=_Parser, metavar="ACTION", required=True)

    def action(name: str, help_: str, with_id: bool = True) -> argparse.ArgumentParser:
        a = order.add_parser(name, help=help_)
        if with_id:
            a.add_argument("id", metavar="ID")
        a.add_argument("--expected-version", type=_non_negative, metavar="N",
                       help="refuse (exit 3) unless the order is at version N")
        a.add_argument("--json", action="store_true")
        return a

    a = action("create", "create an order (prints its id)", with_id=False)
    a.add_argument("--customer", required=True)
    a.add_argument("--currency", default="EUR")
    a = action("add-line", "add a line (catalogue price unless --price)")
    a.add_argument("--sku", required=True)
    a.add_argument("--qty", type=_positive, required=True)
    a.add_argument("--price", type=_money, help="unit price, e.g. 12.50")
    action("remove-line", "remove a line").add_argument("--sku", required=True)
    action("place", "place the order")
    a = action("pay", "record a payment")
    a.add_argument("--amount", type=_money, required=True)
    a.add_argument("--method", default="card")
    a = action("ship", "ship the order")
    a.add_argument("--carrier", required=True)
    a.add_argument("--tracking", required=True)
    action("deliver", "mark the order delivered")
    action("cancel", "cancel the order").add_argument("--reason", required=True)
    a = action("refund", "issue a refund (compensation)")
    a.add_argument("--amount", type=_money, required=True)
    a.add_argument("--reason", default="")

    s = sub.add_parser("streams", help="list streams")
    s.add_argument("--type", dest="stream_type")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("events", help="list a stream's events")
    s.add_argument("stream")
    s.add_argument("--from", dest="from_version", type=_non_negative,
                   help="first version (default: the stream's first)")
    s.add_argument("--to", dest="to_version", type=_non_negative)
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("replay", help="the state of a stream at a version or instant")
    s.add_argument("stream")
    when = s.add_mutually_exclusive_group()
    when.add_argument("--version", type=_non_negative)
    when.add_argument("--at", type=parse_instant, metavar="ISO8601")
    s.add_argument("--no-snapshots", action="store_true")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("diff", help="what changed in a stream between versions A and B")
    s.add_argument("stream")
    s.add_argument("a", type=_non_negative)
    s.add_argument("b", type=_non_negative)
    s.add_argument("--json", action="store_true")

    proj = sub.add_parser("projections", help="read models").add_subparsers(
        dest="action", parser_class=_Parser, metavar="ACTION", required=True)
    proj.add_parser("rebuild", help="recompute every read model from position 0")
    proj.add_parser("status", help="checkpoints and lag").add_argument("--json",
                                                                       action="store_true")

    s = sub.add_parser("verify", help="check hash chains, versions, stream heads, snapshots")
    s.add_argument("--against", metavar="REPORT.json|SEAL.json",
                   help="also check the stream heads recorded in an earlier JSON report, or "
                        "every event a seal holds")
    s.add_argument("--json", action="store_true")

    sub.add_parser("audit-projections", help="compare every order's read-model row with "
                   "its replayed history").add_argument("--json", action="store_true")

    s = sub.add_parser("check-rules", help="check every event against the rules of its "
                       "stream's model (exit 1 on a violation)")
    s.add_argument("--model", dest="check_models", action="append", default=[],
                   metavar="FILE", help="a model file to check against (repeatable)")
    s.add_argument("--stream", dest="streams", action="append", default=[], metavar="ID",
                   help="only this stream (repeat for more)")
    s.add_argument("--json", action="store_true")

    def selection_args(a: argparse.ArgumentParser) -> None:
        a.add_argument("--stream", dest="streams", action="append", default=[], metavar="ID",
                       help="only this stream (repeat for more)")
        a.add_argument("--type", dest="stream_type", metavar="T", help="only streams of type T")
        a.add_argument("--from", dest="since", type=parse_instant, metavar="ISO",
                       help="only events recorded at or after this instant")
        a.add_argument("--to", dest="until", type=parse_instant, metavar="ISO",
                       help="only events recorded at or before this instant")

    s = sub.add_parser("report", help="write an audit report (.html, .pdf, .csv or .json)")
    s.add_argument("--out", required=True, metavar="FILE", help="format from the extension")
    selection_args(s)
    s.add_argument("--versions", metavar="A:B",
                   help="show each selected stream's state at A and B and the diff")
    s.add_argument("--seal", metavar="SEAL.json",
                   help="embed this seal of the source (esaudit seal), checked against it")
    s.add_argument("--json", action="store_true",
                   help="print what was written: path, format, events, streams, digest")

    s = sub.add_parser("export", help="write events as JSONL (or CSV) for import elsewhere")
    s.add_argument("file", metavar="FILE.jsonl")
    selection_args(s)
    s.add_argument("--json", action="store_true",
                   help="print what was written: path, format, events, streams, digest")

    s = sub.add_parser("import", help="import a history file, all or nothing")
    s.add_argument("file", metavar="FILE")
    s.add_argument("--format", choices=FORMATS, help="default: from the file name")
    s.add_argument("--json", action="store_true")

    investigate_commands(sub)

    sub.add_parser("stats", help="store totals").add_argument("--json", action="store_true")
    sub.add_parser("info", help="what the store is: kind, target, read-only, totals, what it "
                   "can answer").add_argument("--json", action="store_true")
    # The witness (esaudit/cli/witness.py): keys, seals and inclusion proofs.
    s = sub.add_parser("keygen", help="make an Ed25519 key pair for signing seals")
    s.add_argument("--out", required=True, metavar="KEY",
                   help="the private key's file (PEM, mode 0600); the public key goes to KEY.pub")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("seal", help="seal every event: a Merkle tree's root and what names "
                       "each event (RFC 9162), signed with --key")
    s.add_argument("--out", required=True, metavar="SEAL.json")
    s.add_argument("--key", metavar="KEY", help="sign with this private key (esaudit keygen)")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("prove", help="write the inclusion proof of one event in a seal")
    s.add_argument("stream")
    s.add_argument("version", type=_non_negative)
    s.add_argument("--seal", required=True, metavar="SEAL.json")
    s.add_argument("--out", required=True, metavar="PROOF.json")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("check-proof", help="check an inclusion proof against its seal, "
                       "without the store")
    s.add_argument("proof", metavar="PROOF.json")
    s.add_argument("--seal", required=True, metavar="SEAL.json")
    s.add_argument("--json", action="store_true")

    g = sub.add_parser("gui", help="open the desktop app")
    g.add_argument("--screenshot", metavar="FILE.png",
                   help="open the store, wait until drawn, save a screenshot, exit")
    return p
