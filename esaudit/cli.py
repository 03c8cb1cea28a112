"""The ``esaudit`` command line: every audit job headless, for scripts and CI.

Exit codes: 0 ok, 1 audit finding, 2 usage or input error, 3 concurrency conflict,
4 domain rule refused. Errors are one line on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from store import ConcurrencyError, StoreError, StoreReadOnly
from store.importers import FORMATS

from .application.audit import audit_projections
from .application.diff import count_by_kind
from .application.jobs import Progress
from .application.seed import seed as run_seed
from .application.transfer import Selection, export_selection, import_history
from .application.verify import load_heads, verify
from .bootstrap import Services, bootstrap
from .domain import commands as c
from .domain.errors import DomainError, InvalidCommand, InvalidTransition
from .domain.money import format_money, parse_money
from .output import flatten, print_json, print_table

EXIT_OK, EXIT_FINDING, EXIT_USAGE, EXIT_CONFLICT, EXIT_REFUSED = 0, 1, 2, 3, 4


class UsageError(Exception):
    """Bad arguments: exit 2 with one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def default_target(create: bool = False) -> str:
    env = os.environ.get("ESAUDIT_DB")
    if env:
        return env
    from platformdirs import user_data_dir
    folder = Path(user_data_dir("esaudit", appauthor=False))
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return str(folder / "esaudit.db")


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; one without a zone is read as UTC, and stderr says so."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"not an ISO 8601 instant: {text!r} (e.g. 2026-01-31T12:00:00Z)"
                         ) from None
    if value.tzinfo is not None:
        return value
    _NOTES.append(f"esaudit: note: {text.strip()} has no time zone; read as UTC")
    return value.replace(tzinfo=UTC)


_NOTES: list[str] = []
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


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="esaudit", description="Audit event-sourced systems.")
    p.add_argument("--db", metavar="TARGET",
                   help="store path or URL (default: $ESAUDIT_DB, else esaudit.db in the "
                        "per-user data folder)")
    p.add_argument("--read-only", action="store_true", help="open the store read-only")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
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
    s.add_argument("--from", dest="from_version", type=_positive, default=1)
    s.add_argument("--to", dest="to_version", type=_positive)
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
    s.add_argument("--against", metavar="REPORT.json",
                   help="also check the stream heads recorded in an earlier JSON report")
    s.add_argument("--json", action="store_true")

    sub.add_parser("audit-projections", help="compare every order's read-model row with "
                   "its replayed history").add_argument("--json", action="store_true")

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

    sub.add_parser("stats", help="store totals").add_argument("--json", action="store_true")
    g = sub.add_parser("gui", help="open the desktop app")
    g.add_argument("--screenshot", metavar="FILE.png",
                   help="open the store, wait until drawn, save a screenshot, exit")
    return p


# -- commands -----------------------------------------------------------------------------
def cmd_seed(svc: Services, args: argparse.Namespace) -> int:
    _writable(svc, "seed")

    result = run_seed(svc.commands, orders=args.orders, seed=args.seed, days=args.days,
                      until=args.until, progress=_stderr_progress("seeding"))
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    summary = {"orders": result.orders, "products": result.products,
               "commands": result.commands, "conflicts": result.conflicts,
               "events": svc.store.stats().events}
    if args.json:
        print_json(summary)
    else:
        print(f"seeded {result.orders} orders and {result.products} products: "
              f"{result.commands} commands, {result.conflicts} refused as concurrent edits, "
              f"{summary['events']} events in the store")
    return EXIT_OK


ORDER_COMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
    "add-line": lambda a: c.AddLine(a.id, a.sku, a.qty, a.price),
    "remove-line": lambda a: c.RemoveLine(a.id, a.sku),
    "place": lambda a: c.PlaceOrder(a.id),
    "pay": lambda a: c.ReceivePayment(a.id, a.amount, a.method),
    "ship": lambda a: c.ShipOrder(a.id, a.carrier, a.tracking),
    "deliver": lambda a: c.DeliverOrder(a.id),
    "cancel": lambda a: c.CancelOrder(a.id, a.reason),
    "refund": lambda a: c.IssueRefund(a.id, a.amount, a.reason),
}


def _writable(svc: Services, what: str) -> None:
    if svc.read_only:
        raise StoreReadOnly(what)


def cmd_order(svc: Services, args: argparse.Namespace) -> int:
    from .application.handlers import new_order_id
    _writable(svc, f"order {args.action}")
    if args.action == "create":
        cmd: Any = c.CreateOrder(new_order_id(), args.customer, args.currency)
    else:
        if svc.store.stream(args.id) is None:
            raise InvalidCommand(f"no order {args.id!r} in the store")
        cmd = ORDER_COMMANDS[args.action](args)
    result = svc.commands.execute(cmd, expected_version=args.expected_version)
    if args.json:
        print_json(result.as_json())
    elif args.action == "create":
        print(result.stream_id)
    else:
        summary = svc.queries.order(result.stream_id)
        status = f", {summary.status}, total {format_money(summary.total_cents, summary.currency)}"\
            if summary else ""
        print(f"{result.stream_id} is at version {result.version}{status}")
    return EXIT_OK


def cmd_streams(svc: Services, args: argparse.Namespace) -> int:
    rows = svc.store.streams(args.stream_type)
    if args.json:
        print_json([{"stream_id": r.stream_id, "stream_type": r.stream_type,
                     "version": r.version, "first_at": r.first_at, "last_at": r.last_at}
                    for r in rows])
    else:
        print_table(["stream", "type", "version", "first event", "last event"],
                    [(r.stream_id, r.stream_type, r.version, r.first_at, r.last_at)
                     for r in rows], right=[2])
    return EXIT_OK


def cmd_events(svc: Services, args: argparse.Namespace) -> int:
    info = svc.store.stream(args.stream)
    if info is None:
        raise InvalidCommand(f"no stream {args.stream!r} in the store")
    if args.to_version is not None and args.from_version > args.to_version:
        raise UsageError(f"--from {args.from_version} comes after --to {args.to_version}")
    # Versions past the head hold nothing: asking the database for them could only fail on
    # numbers too large for its integer column.
    to_version = info.version if args.to_version is None else min(args.to_version,
                                                                   info.version)
    events = (svc.store.read_stream(args.stream, args.from_version, to_version)
              if args.from_version <= info.version else [])
    if not events and not args.json:
        print(f"no events: {args.stream} has versions 1..{info.version}, none from "
              f"{args.from_version}")
        return EXIT_OK
    if args.json:
        print_json([{"position": e.position, "stream_id": e.stream_id,
                     "stream_type": e.stream_type, "version": e.version, "type": e.type,
                     "recorded_at": e.recorded_at, "payload": e.payload,
                     "metadata": e.metadata, "hash": e.hash} for e in events])
    else:
        print_table(["pos", "ver", "recorded (UTC)", "type", "actor", "payload", "hash"],
                    [(e.position, e.version, e.recorded_at, e.type, e.metadata.get("actor"),
                      e.payload, e.hash[:12]) for e in events], right=[0, 1])
    return EXIT_OK


def cmd_replay(svc: Services, args: argparse.Namespace) -> int:
    result = svc.replayer.replay(args.stream, args.version, at=args.at,
                                 use_snapshots=not args.no_snapshots)
    if args.json:
        print_json(result.as_json())
    else:
        origin = (f" (from the snapshot at version {result.snapshot_version})"
                  if result.snapshot_version else "")
        print(f"{result.stream_id} ({result.stream_type}) at version {result.version}{origin}")
        if result.note:
            print(result.note)
        else:
            print_table(["field", "value"], flatten(result.state))
    return EXIT_OK


def cmd_diff(svc: Services, args: argparse.Namespace) -> int:
    changes = svc.comparer.versions(args.stream, args.a, args.b)
    if args.json:
        print_json([ch.as_json() for ch in changes])
    else:
        counts = count_by_kind(changes)
        print(f"{args.stream}: version {args.a} -> {args.b}: {counts['changed']} changed, "
              f"{counts['added']} added, {counts['removed']} removed")
        if changes:
            print_table(["path", "change", "old", "new"],
                        [(ch.path, ch.kind, ch.old, ch.new) for ch in changes])
    return EXIT_OK


def cmd_projections(svc: Services, args: argparse.Namespace) -> int:
    if args.action == "rebuild":
        _writable(svc, "projection rebuild")
        n = svc.projector.rebuild()
        print(f"rebuilt {len(svc.projector.projections)} read models from {n} events")
        return EXIT_OK
    status = svc.projector.status()
    if args.json:
        print_json([{"name": s.name, "checkpoint": s.checkpoint, "head": s.head, "lag": s.lag}
                    for s in status])
    else:
        print_table(["projection", "checkpoint", "head", "lag"],
                    [(s.name, s.checkpoint, s.head, s.lag) for s in status], right=[1, 2, 3])
    return EXIT_OK


def cmd_stats(svc: Services, args: argparse.Namespace) -> int:
    st = svc.store.stats()
    status = svc.projector.status()
    data = {"events": st.events, "streams": st.streams, "head_position": st.head_position,
            "snapshots": st.snapshots, "streams_by_type": st.streams_by_type,
            "events_by_type": st.events_by_type,
            "projection_lag": {s.name: s.lag for s in status}}
    if args.json:
        print_json(data)
        return EXIT_OK
    print(f"store: {svc.store.label} ({svc.store.backend_name}"
          f"{', read-only' if svc.read_only else ''})")
    print_table(["measure", "value"], [("events", st.events), ("streams", st.streams),
                                       ("head position", st.head_position),
                                       ("snapshots", st.snapshots)], right=[1])
    print()
    print_table(["stream type", "streams"], sorted(st.streams_by_type.items()), right=[1])
    print()
    print_table(["event type", "events"], sorted(st.events_by_type.items()), right=[1])
    print()
    print_table(["projection", "lag"], [(s.name, s.lag) for s in status], right=[1])
    return EXIT_OK


def cmd_verify(svc: Services, args: argparse.Namespace) -> int:
    heads = load_heads(args.against) if args.against else None
    report = verify(svc.store, against=heads)
    if args.json:
        print_json(report.as_json())
    else:
        verdict = "clean" if report.ok else f"{len(report.findings)} finding(s)"
        print(f"verified {report.events_checked} events in {report.streams_checked} streams"
              f"{' against ' + args.against if args.against else ''}: {verdict}")
        if report.findings:
            print_table(["kind", "stream", "version", "position", "detail"],
                        [(f.kind, f.stream_id, f.version, f.position, f.detail)
                         for f in report.findings])
    return EXIT_OK if report.ok else EXIT_FINDING


def cmd_audit_projections(svc: Services, args: argparse.Namespace) -> int:
    audit = audit_projections(svc.comparer)
    if args.json:
        print_json(audit.as_json())
    else:
        problems = [f"{len(audit.mismatches)} mismatching field(s)"] if audit.mismatches else []
        if audit.unprojectable:
            problems.append(f"{len(audit.unprojectable)} stream(s) a read model cannot hold")
        verdict = "; ".join(problems) or "read models match history"
        print(f"audited {audit.orders_checked} orders: {verdict}")
        if audit.mismatches:
            print_table(["order", "field", "read model", "replayed"],
                        [(m.order_id, m.path, m.read_model, m.replayed)
                         for m in audit.mismatches])
        if audit.unprojectable:
            print_table(["read model", "stream", "from version", "why it cannot be held"],
                        [(u.projection, u.stream_id, u.version, u.reason)
                         for u in audit.unprojectable])
    return EXIT_OK if audit.ok else EXIT_FINDING


def _selection(args: argparse.Namespace) -> Selection:
    return Selection(tuple(dict.fromkeys(args.streams)), args.stream_type, args.since,
                     args.until)


def _stderr_progress(label: str) -> Progress | None:
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        sys.stderr.write(f"\r{label}: {100 * done // max(total, 1)}%")
        sys.stderr.flush()

    return show


def _file_digest(path: Path) -> str:
    import hashlib
    with open(path, "rb") as fh:
        return "sha256:" + hashlib.file_digest(fh, "sha256").hexdigest()


def cmd_report(svc: Services, args: argparse.Namespace) -> int:
    from .application.report import build_report, parse_versions
    from .reporting.writers import check_report_path, write_report
    suffix = check_report_path(Path(args.out))
    versions = parse_versions(args.versions) if args.versions else None
    data = build_report(svc.store, _selection(args), versions,
                        progress=_stderr_progress("report"))
    write_report(svc.store, data, Path(args.out))
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    findings = len(data.integrity.findings) if data.integrity else 0
    if args.json:
        print_json({"path": args.out, "format": "html" if suffix == ".htm" else suffix[1:],
                    "events": data.events_total, "streams": len(data.streams),
                    "digest": _file_digest(Path(args.out)),
                    "integrity": "clean" if data.integrity and data.integrity.ok
                    else findings})
        return EXIT_OK
    integrity = "clean" if data.integrity and data.integrity.ok else \
        f"{findings} integrity finding(s)"
    print(f"wrote {args.out}: {data.events_total} events in {len(data.streams)} streams, "
          f"{integrity}")
    return EXIT_OK


def cmd_export(svc: Services, args: argparse.Namespace) -> int:
    summary = export_selection(svc.store, Path(args.file), _selection(args),
                               progress=_stderr_progress("export"))
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    if args.json:
        print_json({"path": args.file, "format": summary.format, "events": summary.events,
                    "streams": summary.streams, "digest": _file_digest(Path(args.file))})
    else:
        print(f"exported {summary.events} events to {args.file}")
    return EXIT_OK


def cmd_import(svc: Services, args: argparse.Namespace) -> int:
    _writable(svc, "import")
    summary = import_history(svc.store, Path(args.file), args.format,
                             progress=_stderr_progress("import"))
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    svc.projector.catch_up()
    if args.json:
        print_json({"events": summary.events, "streams": summary.streams,
                    "first_position": summary.first_position,
                    "last_position": summary.last_position})
    else:
        print(f"imported {summary.events} events in {summary.streams} streams "
              f"(positions {summary.first_position}..{summary.last_position})")
    return EXIT_OK


COMMANDS: dict[str, Callable[[Services, argparse.Namespace], int]] = {
    "report": cmd_report, "export": cmd_export, "import": cmd_import,
    "seed": cmd_seed, "order": cmd_order, "streams": cmd_streams, "events": cmd_events,
    "replay": cmd_replay, "diff": cmd_diff, "projections": cmd_projections,
    "stats": cmd_stats, "verify": cmd_verify, "audit-projections": cmd_audit_projections,
}


def _creates(args: argparse.Namespace) -> bool:
    """Whether a command may create the store it names: only seed, import and ``order
    create``; every other command refuses a missing store (``no store at PATH``) instead of
    answering for an empty one."""
    return args.command in ("seed", "import") or (
        args.command == "order" and args.action == "create")


RunGui = Callable[[str | None, bool, str | None], int]
"""Opens the desktop app: (target, read_only, screenshot) -> exit code."""


def main(argv: Sequence[str] | None = None, run_gui: RunGui | None = None) -> int:
    """Run one command. ``gui`` (or no command) needs ``run_gui``: the launcher that owns Qt
    (``ui.launcher``, behind the ``esaudit`` script and ``main.py``) passes it; without it,
    as under ``python -m esaudit``, the command is refused with exit 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    _NOTES.clear()
    try:
        args = build_parser().parse_args(argv)
        if args.command in (None, "gui"):
            if run_gui is None:
                raise UsageError("the desktop app starts with the esaudit command or main.py")
            return run_gui(args.db, args.read_only, getattr(args, "screenshot", None))
        creates = _creates(args)
        target = args.db or default_target(creates)
        svc = bootstrap(target, read_only=args.read_only, create=creates)
        try:
            code = COMMANDS[args.command](svc, args)
        finally:
            svc.close()
        for note in _NOTES:
            print(note, file=sys.stderr)
        return code
    except UsageError as e:
        return _fail(f"esaudit: {e}", EXIT_USAGE, debug)
    except ConcurrencyError as e:
        return _fail(f"esaudit: conflict: {e}", EXIT_CONFLICT, debug)
    except InvalidTransition as e:
        return _fail(f"esaudit: refused: {e}", EXIT_REFUSED, debug)
    except (DomainError, StoreError, ValueError) as e:
        return _fail(f"esaudit: {e}", EXIT_USAGE, debug)
    except KeyboardInterrupt:
        return _fail("esaudit: interrupted", 130, debug)
    except BrokenPipeError:
        return EXIT_OK


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    print(message.splitlines()[0] if message else "esaudit: error", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
