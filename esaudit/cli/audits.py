"""Audit jobs and the files they hand on: verify, audit-projections, report, export, import.

Each job loads its application module when it runs: every command imports this module to
find its own, and none pays for the others' (the read models' tables, the importers, the
witness's cryptography).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..domain.errors import InvalidCommand
from ..output import print_json, print_table
from ..wording import counted
from .common import (
    Early,
    command,
    end_progress,
    file_digest,
    prepare,
    selection,
    stderr_progress,
    writable,
)
from .exits import EXIT_FINDING, EXIT_OK

if TYPE_CHECKING:
    from ..application.verify import VerificationReport
    from ..application.witness.seal_file import Seal
    from ..bootstrap import Services


@command("verify", read_models=False)
def cmd_verify(svc: Services, args: argparse.Namespace) -> int:
    from ..application.verify import verify
    heads, seal = None, None
    if args.against:
        from ..application.witness.against_file import load_against
        heads, seal = load_against(args.against)
    if seal is not None:
        return _verify_sealed(svc, args, seal)
    report = verify(svc.store, against=heads, code=svc.code, model_files=svc.model_files)
    if args.json:
        print_json(report.as_json())
    else:
        verdict = "clean" if report.ok else f"{len(report.findings)} finding(s)"
        print(f"verified {report.events_checked} events in {report.streams_checked} streams"
              f"{' against ' + args.against if args.against else ''}: {verdict}")
        _print_findings(report)
    return EXIT_OK if report.ok else EXIT_FINDING


def _print_findings(report: VerificationReport) -> None:
    """What verify could not check, then its findings as a table."""
    for what in report.not_checked:
        print(f"not checked: {what}")
    if report.findings:
        print_table(["kind", "stream", "version", "position", "detail"],
                    [(f.kind, f.stream_id, f.version, f.position, f.detail)
                     for f in report.findings])


@command("check-rules", read_models=False)
def cmd_check_rules(svc: Services, args: argparse.Namespace) -> int:
    from ..application.rule_check import check_rules
    result = check_rules(svc.models, args.streams or None)
    if args.json:
        print_json(result.as_json())
    else:
        found = len(result.violations)
        verdict = counted(found, "rule violation", grouped=False) if found \
            else "no rule violated"
        print(f"checked {counted(result.events_checked, 'event', grouped=False)} of "
              f"{counted(result.streams_checked, 'stream', grouped=False)}: {verdict}")
        if found:
            print_table(["stream", "version", "event", "rule", "status before", "detail"],
                        [(v.stream_id, v.version, v.type, v.rule, v.status_before or "",
                          v.detail) for v in result.violations])
    if result.not_checked:
        print("esaudit: note: not checked: "
              + "; ".join(n.sentence for n in result.not_checked), file=sys.stderr)
    return EXIT_FINDING if result.violations else EXIT_OK


def _verify_sealed(svc: Services, args: argparse.Namespace, seal: Seal) -> int:
    from ..application.witness.against import verify_against_seal
    result = verify_against_seal(svc.store, seal, progress=stderr_progress("verify"),
                                 code=svc.code)
    end_progress()
    report, check = result.report, result.seal
    if args.json:
        print_json(result.as_json())
        return EXIT_OK if result.ok else EXIT_FINDING
    verdict = "clean" if report.ok else f"{len(report.findings)} finding(s)"
    signer = f"signed by {check.signer}" if check.signer else "unsigned"
    print(f"verified {report.events_checked} events in {report.streams_checked} streams "
          f"against {args.against} ({check.size} events sealed at {check.sealed_at}, root "
          f"{check.root[:16]}, {signer}): {verdict}, appended {check.appended}")
    _print_findings(report)
    return EXIT_OK if result.ok else EXIT_FINDING


@command("audit-projections")
def cmd_audit_projections(svc: Services, args: argparse.Namespace) -> int:
    from ..application.audit import audit_projections
    if svc.projector is None:
        raise InvalidCommand(f"nothing to audit: {svc.read_only_reason}, so it has none of "
                             "esaudit's read models")
    audit = audit_projections(svc.comparer)
    if args.json:
        print_json(audit.as_json())
    else:
        problems = [f"{len(audit.mismatches)} mismatching field(s)"] if audit.mismatches else []
        if audit.unprojectable:
            problems.append(f"{len(audit.unprojectable)} stream(s) a read model cannot hold")
        verdict = "; ".join(problems) or "read models match history"
        orders = "order" if audit.orders_checked == 1 else "orders"
        print(f"audited {audit.orders_checked} {orders}: {verdict}")
        if audit.not_audited:
            print("not audited: " + "; ".join(n.sentence for n in audit.not_audited))
        if audit.mismatches:
            print_table(["order", "field", "read model", "replayed"],
                        [(m.order_id, m.path, m.read_model, m.replayed)
                         for m in audit.mismatches])
        if audit.unprojectable:
            print_table(["read model", "stream", "from version", "why it cannot be held"],
                        [(u.projection, u.stream_id, u.version, u.reason)
                         for u in audit.unprojectable])
    return EXIT_OK if audit.ok else EXIT_FINDING


@command("report", read_models=False)
def cmd_report(svc: Services, args: argparse.Namespace) -> int:
    from ..application.report import build_report, parse_versions
    from ..reporting.writers import check_report_path, write_report
    suffix = check_report_path(Path(args.out))
    versions = parse_versions(args.versions) if args.versions else None
    seal = None
    if args.seal:
        from ..application.witness import seal_file
        from ..application.witness.against_file import loads_seal
        seal = seal_file.load(Path(args.seal), loads=loads_seal)
    data = build_report(svc.store, selection(args), versions, models=svc.models,
                        progress=stderr_progress("report"), seal=seal)
    written = write_report(svc.store, data, Path(args.out))
    end_progress()
    findings = len(data.findings)
    if args.json:
        print_json({"path": args.out, "format": "html" if suffix == ".htm" else suffix[1:],
                    "events": data.events_total, "streams": len(data.streams),
                    "digest": written.digest,
                    "integrity": findings or "clean",
                    "digest_file": str(written.digest_path),
                    "heads_digest": data.heads_digest,
                    **({"seal_root": data.seal.root} if data.seal else {}),
                    **({"pages": written.pages} if written.pages is not None else {})})
        return EXIT_OK
    integrity = counted(findings, "integrity finding") if findings else "clean"
    print(f"wrote {args.out}: {counted(data.events_total, 'event', grouped=False)} in "
          f"{counted(len(data.streams), 'stream', grouped=False)}, {integrity}")
    return EXIT_OK


@command("export", read_models=False)
def cmd_export(svc: Services, args: argparse.Namespace) -> int:
    from ..application.transfer import export_selection
    summary = export_selection(svc.store, Path(args.file), selection(args),
                               progress=stderr_progress("export"))
    end_progress()
    if args.json:
        print_json({"path": args.file, "format": summary.format, "events": summary.events,
                    "streams": summary.streams, "digest": file_digest(Path(args.file))})
    else:
        print(f"exported {summary.events} events to {args.file}")
    return EXIT_OK


@prepare("import")
def prepare_import(args: argparse.Namespace) -> Early | None:
    """A large file's second process, started before the store opens; None for a server
    URL, or where the file cannot be read as given (the import then says why, in the order
    it always has: the store first)."""
    if "://" in args.file:
        return None
    from store.errors import StoreError

    from ..application.transfer import open_import
    try:
        return open_import(args.file, args.format, start=True,
                           cipher_key=os.environ.get("CIPHER_KEY") or None)
    except (StoreError, OSError):
        return None


@command("import")
def cmd_import(svc: Services, args: argparse.Namespace) -> int:
    from ..application.transfer import ImportSource, import_history
    w = writable(svc, "import")
    early = getattr(args, "early", None)
    summary = import_history(w.store, args.file, args.format,
                             progress=stderr_progress("import"),
                             cipher_key=os.environ.get("CIPHER_KEY") or None,
                             models=svc.models,
                             opened=early if isinstance(early, ImportSource) else None)
    end_progress()
    w.projector.catch_up()
    if args.json:
        print_json({"events": summary.events, "streams": summary.streams,
                    "first_position": summary.first_position,
                    "last_position": summary.last_position})
    else:
        print(f"imported {summary.events} events in {summary.streams} streams "
              f"(positions {summary.first_position}..{summary.last_position})")
    return EXIT_OK
