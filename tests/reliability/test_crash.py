"""SIGKILL a writer at random moments: every acknowledged command survives, intact.

The child prints a command only after the store acknowledged it (the append committed with
synchronous=FULL). After each kill the store must open, verify clean, hold every acknowledged
event with the hash it was acknowledged with, and its read models must equal replay.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from esaudit.application.audit import audit_projections
from esaudit.application.verify import verify
from esaudit.bootstrap import bootstrap

KILLS = 20
ROOT = Path(__file__).resolve().parents[2]


def _read_acks(proc: subprocess.Popen) -> list[dict]:
    """Lines printed so far; the kill may cut the last one in half (then it was not sent)."""
    out = proc.stdout.read() if proc.stdout else b""
    acks = []
    for line in out.decode("utf-8", "replace").splitlines():
        try:
            acks.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return acks


def test_sigkill_never_loses_an_acknowledged_command(tmp_path: Path) -> None:
    db = str(tmp_path / "crash.db")
    rng = random.Random(1234)
    acknowledged: list[dict] = []
    total_events = 0
    for round_ in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.writer_child", db, f"w{round_}",
             str(round_), "60"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        time.sleep(0.6 + rng.random() * 0.6)  # start-up takes ~0.5 s; kill mid-stream
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        acks = [a for a in _read_acks(proc) if "stream_id" in a]
        acknowledged.extend(acks)

        svc = bootstrap(db)  # opens after the crash; read models catch up
        try:
            report = verify(svc.store)
            assert report.ok, report.findings
            for ack in acknowledged:
                first = ack["version"] - len(ack["types"]) + 1
                stored = svc.store.read_stream(ack["stream_id"], first, ack["version"])
                assert [e.type for e in stored] == ack["types"], ack
                assert [e.hash for e in stored] == ack["hashes"], ack
            audit = audit_projections(svc.comparer)
            assert audit.ok, audit.mismatches[:3]
            events = svc.store.stats().events
            assert events >= total_events  # nothing acknowledged earlier went missing
            total_events = events
        finally:
            svc.close()
    assert len(acknowledged) > KILLS  # the kills really landed mid-work
