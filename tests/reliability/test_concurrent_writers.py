"""Four processes drive the same ten orders with expected versions, on every backend.

Afterwards: versions contiguous with no duplicate (verify), every acknowledged command's events
present with its hashes and its writer's name, conflicts reported as ConcurrencyError (and as
exit 3 on the command line), and the read model equal to replay.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from esaudit.application.audit import audit_projections
from esaudit.application.verify import verify
from esaudit.bootstrap import bootstrap
from esaudit.domain import commands as c

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 4
SECONDS = 4.0


def test_four_processes_on_ten_orders(store_target: str) -> None:
    svc = bootstrap(store_target)
    orders = [f"ord-shared-{i}" for i in range(10)]
    for oid in orders:
        svc.commands.execute(c.CreateOrder(oid, "Shared"))
    svc.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.writer_child", store_target, f"p{i}",
         str(100 + i), str(SECONDS), ",".join(orders)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        for i in range(WRITERS)]
    results = []
    for i, proc in enumerate(procs):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        results.append((f"p{i}", [json.loads(line) for line in out.decode().splitlines()]))

    acks = [(name, a) for name, lines in results for a in lines if "stream_id" in a]
    conflicts = [a for _, lines in results for a in lines if "conflict" in a]
    assert len(acks) > 40
    assert conflicts, "four writers on ten orders for seconds must collide"
    assert all(c["actual"] != c["expected"] for c in conflicts)

    svc = bootstrap(store_target)
    try:
        report = verify(svc.store)
        assert report.ok, report.findings
        claimed: dict[tuple[str, int], str] = {}
        for name, ack in acks:
            first = ack["version"] - len(ack["types"]) + 1
            stored = svc.store.read_stream(ack["stream_id"], first, ack["version"])
            assert [e.type for e in stored] == ack["types"]
            assert [e.hash for e in stored] == ack["hashes"]
            assert {e.metadata["actor"] for e in stored} == {name}
            for v in range(first, ack["version"] + 1):
                assert (ack["stream_id"], v) not in claimed  # no two successes share a version
                claimed[(ack["stream_id"], v)] = name
        for oid in orders:
            info = svc.store.stream(oid)
            versions = [e.version for e in svc.store.read_stream(oid)]
            assert versions == list(range(1, info.version + 1))
            assert {v for (sid, v) in claimed if sid == oid} == set(range(2, info.version + 1))
        assert audit_projections(svc.comparer).ok
    finally:
        svc.close()


def test_a_stale_expected_version_exits_3_on_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    esaudit = str(Path(sys.executable).with_name("esaudit"))
    env = {**os.environ, "ESAUDIT_DB": ""}
    oid = subprocess.run([esaudit, "--db", str(db), "order", "create", "--customer", "A"],
                         capture_output=True, text=True, env=env, check=True).stdout.strip()
    subprocess.run([esaudit, "--db", str(db), "order", "add-line", oid, "--sku", "X", "--qty",
                    "1", "--price", "1", "--expected-version", "1"], env=env, check=True,
                   capture_output=True)
    def files() -> list[bytes]:
        return [p.read_bytes() for p in sorted(tmp_path.glob("cli.db*"))]

    before = files()
    stale = subprocess.run([esaudit, "--db", str(db), "order", "add-line", oid, "--sku", "Y",
                            "--qty", "1", "--price", "1", "--expected-version", "1"],
                           capture_output=True, text=True, env=env)
    assert stale.returncode == 3
    assert "is at version 2, not the expected 1" in stale.stderr
    assert "Traceback" not in stale.stderr
    assert files() == before
