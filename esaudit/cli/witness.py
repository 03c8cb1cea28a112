"""The witness's commands: keygen, seal, prove and check-proof (``verify --against SEAL`` is
``verify``'s, in ``audits``).

Imported whatever command runs, so it imports nothing at the top but the registry: each
command loads what it needs, and ``keygen`` and ``check-proof`` load no database code.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import end_progress, source_command, standalone_command, stderr_progress
from .exits import EXIT_FINDING, EXIT_OK

if TYPE_CHECKING:
    from store import Source


def _print_json(value: Any) -> None:
    """``esaudit.output.print_json``'s shape, without its imports (the database layer)."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


@standalone_command("keygen")
def cmd_keygen(args: argparse.Namespace) -> int:
    from ..application.witness.keys import generate
    private, public, fingerprint = generate(Path(args.out))
    if args.json:
        _print_json({"private": str(private), "public": str(public),
                     "fingerprint": fingerprint})
    else:
        print(f"wrote the private key {private} (mode 0600) and the public key {public} "
              f"({fingerprint})")
    return EXIT_OK


@source_command("seal")
def cmd_seal(source: Source, args: argparse.Namespace) -> int:
    from ..application.witness.keys import load_private
    from ..application.witness.sealing import seal
    key = load_private(Path(args.key)) if args.key else None
    written = seal(source, Path(args.out), key=key, progress=stderr_progress("sealing"))
    end_progress()
    if args.json:
        _print_json(written.as_json())
    else:
        signer = f"signed by {written.signer}" if written.signer else "unsigned"
        print(f"sealed {written.size} events in {written.streams} streams of {source.label}: "
              f"root {written.root}, {signer}; wrote {written.out}")
    return EXIT_OK


@source_command("prove")
def cmd_prove(source: Source, args: argparse.Namespace) -> int:
    from store.hashing import fast_loads

    from ..application.witness import seal_file
    from ..application.witness.proving import NotProvable, prove
    # The signature is check-proof's to check: a proof from a badly signed seal holds no one.
    seal = seal_file.load(Path(args.seal), check_signature=False, loads=fast_loads)
    try:
        written = prove(source, seal, args.stream, args.version, Path(args.out))
    except NotProvable as e:
        print(f"esaudit: cannot prove it: {e}", file=sys.stderr)
        return EXIT_FINDING
    if args.json:
        _print_json(written.as_json())
    else:
        print(f"wrote {written.out}: {written.stream_id} version {written.version} is leaf "
              f"{written.leaf_index} of the {written.size} sealed events (an audit path of "
              f"{written.path_length} hashes)")
    return EXIT_OK


@standalone_command("check-proof")
def cmd_check_proof(args: argparse.Namespace) -> int:
    from ..application.witness import proof_check, seal_file
    seal = seal_file.load(Path(args.seal))
    result = proof_check.check(proof_check.load(Path(args.proof)), seal, args.proof)
    if args.json:
        _print_json(result.as_json())
    elif result.ok:
        signer = f", signed by {seal.signer}" if seal.signer else ", unsigned"
        print(f"the proof holds: {result.stream_id} version {result.version} is leaf "
              f"{result.leaf_index} of the {result.size} events sealed at {seal.sealed_at} "
              f"(root {seal.root.hex()}{signer})")
    else:
        print(f"the proof does not hold: {result.reason}")
    return EXIT_OK if result.ok else EXIT_FINDING
