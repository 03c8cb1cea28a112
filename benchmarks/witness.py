"""The witness: seal, verify against a seal, prove and check a proof, as whole processes on the
bench's history imported into esaudit's store, each beside a baseline taken in the same run:

- seal and verify --against SEAL beside plain ``verify`` (the walk every audit pays);
- prove and check-proof beside ``esaudit info`` (a process that starts and opens the store);
- the tree alone, in this process, beside ``pymerkle`` (RFC 9162 too) when it is importable:
  the same roots and inclusion paths, and how long each takes over the same leaves.

Targets: seal 1M events <= 10 s, verify against a seal of 1M <= 10 s, prove and check-proof
<= 200 ms each.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from esaudit.application.witness.merkle import ChunkedTree, root_of

ROOT = Path(__file__).resolve().parent.parent


def _esaudit(*args: str) -> float:
    """Seconds for one whole ``esaudit`` process (start-up included)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "esaudit", *args], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _paired(runs: int, ours: list[str], baseline: list[str]) -> tuple[float, float]:
    pairs = [(_esaudit(*ours), _esaudit(*baseline)) for _ in range(runs)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def bench_seal(store: Path, runs: int, folder: Path) -> tuple[float, float]:
    """Seconds for ``esaudit seal --key`` (a process) and for plain ``verify`` beside it; the
    seal is left at ``folder / "seal.json"``."""
    db = ["--db", str(store), "--read-only"]
    key = folder / "witness.key"
    if not key.exists():
        _esaudit("keygen", "--out", str(key))
    seal = folder / "seal.json"
    return _paired(runs, [*db, "seal", "--out", str(seal), "--key", str(key)], [*db, "verify"])


def bench_witness(store: Path, runs: int, folder: Path) -> dict[str, float]:
    """Medians of ``runs`` (each figure and its baseline in turns)."""
    db = ["--db", str(store), "--read-only"]
    seal, proof = folder / "seal.json", folder / "proof.json"
    out: dict[str, float] = {}
    out["seal"], out["seal_base"] = bench_seal(store, runs, folder)
    out["seal_mb"] = seal.stat().st_size / 1e6
    out["against"], out["against_base"] = _paired(
        runs, [*db, "verify", "--against", str(seal)], [*db, "verify"])
    listing = subprocess.run([sys.executable, "-m", "esaudit", *db, "streams", "--json"],
                             check=True, capture_output=True, text=True, cwd=ROOT).stdout
    streams = json.loads(listing)
    middle = streams[len(streams) // 2]
    prove = [*db, "prove", middle["stream_id"], str(middle["version"]), "--seal", str(seal),
             "--out", str(proof)]
    out["prove"], out["prove_base"] = _paired(max(runs, 5), prove, [*db, "info"])
    out["check"], out["check_base"] = _paired(
        max(runs, 5), ["check-proof", str(proof), "--seal", str(seal)], [*db, "info"])
    out["path"] = len(json.loads(proof.read_text())["audit_path"])
    return out


def bench_tree(n: int) -> dict[str, float] | None:
    """Our tree and pymerkle's over the same n leaf inputs (None without pymerkle)."""
    if importlib.util.find_spec("pymerkle") is None:
        return None
    from pymerkle import InmemoryTree  # type: ignore[import-not-found]

    data = [f'["s-{i % 1000}",{i // 1000 + 1},"Touched",{{"i":{i}}}]'.encode()
            for i in range(n)]
    start = time.perf_counter()
    sha = hashlib.sha256
    leaves = [sha(b"\x00" + d).digest() for d in data]
    runs = [root_of(leaves[i:i + 1024]) for i in range(0, n, 1024)]
    ours = ChunkedTree(n, 1024, runs).root()
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    tree = InmemoryTree(algorithm="sha256")
    for d in data:
        tree.append_entry(d)
    theirs = tree.get_root()
    theirs_s = time.perf_counter() - start
    full = ChunkedTree(n, 1024, runs, leaves)
    same_paths = all(full.inclusion_path(i) == tree.prove_inclusion(i + 1).path[1:]
                     for i in range(0, n, max(1, n // 7)))
    return {"ours": ours_s, "theirs": theirs_s, "same": float(ours == theirs and same_paths)}


def print_witness(n: int, runs: int, store: Path, folder: Path) -> None:
    w = bench_witness(store, runs, folder)
    rows = (
        (f"seal {n:,} events, signed (process)", w["seal"], w["seal_base"], "verify",
         "<= 10 s"),
        (f"verify --against a seal of {n:,} (process)", w["against"], w["against_base"],
         "verify", "<= 10 s"),
        (f"prove one event of {n:,} (process)", w["prove"], w["prove_base"], "info",
         "<= 0.2 s"),
        ("check-proof (process, no store)", w["check"], w["check_base"], "info", "<= 0.2 s"),
    )
    for label, ours, base, what, target in rows:
        print(f"{label:<52} {ours:>12.2f} s {base:>10.2f} s {what:<4}{ours / base:>6.2f}x  "
              f"target {target}")
    print(f"{'seal file; audit path':<52} {w['seal_mb']:>11.1f} MB {int(w['path']):>8} hashes")
    tree = bench_tree(n)
    if tree is None:
        print(f"{'tree alone vs pymerkle':<52} {'-':>14} (pymerkle not installed)")
    else:
        print(f"{f'tree of {n:,} leaves (in process) vs pymerkle':<52} {tree['ours']:>12.2f} s "
              f"{tree['theirs']:>12.2f} s {tree['ours'] / tree['theirs']:>6.2f}x  "
              f"same roots and paths: {'yes' if tree['same'] else 'NO'}")
