"""keygen, seal, verify --against SEAL, prove and check-proof through the real entry point:
their JSON shapes, exit codes and one-line refusals."""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

ESAUDIT = str(Path(sys.executable).with_name("esaudit"))


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ESAUDIT_DB": ""}
    return subprocess.run([ESAUDIT, *map(str, args)], capture_output=True, text=True,
                          timeout=120, env=env, check=False)


def ok_json(*args: str | Path) -> Any:
    done = run(*args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def refused(*args: str | Path, code: int = 2) -> str:
    done = run(*args)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1, done.stderr
    return done.stderr


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded store, a key pair and a signed seal of the store."""
    folder = tmp_path_factory.mktemp("witness")
    db = folder / "shop.db"
    assert run("--db", db, "seed", "--orders", "4", "--until",
               "2026-01-01T00:00:00Z").returncode == 0
    ok_json("keygen", "--out", folder / "key", "--json")
    return db


def test_keygen_writes_a_private_key_only_its_owner_reads(shop: Path, tmp_path: Path) -> None:
    key = tmp_path / "k"
    made = ok_json("keygen", "--out", key, "--json")
    assert made == {"private": str(key), "public": str(key) + ".pub",
                    "fingerprint": made["fingerprint"]}
    assert made["fingerprint"].startswith("sha256:") and len(made["fingerprint"]) == 71
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert Path(made["public"]).read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert "never overwrites" in refused("keygen", "--out", key)
    assert "is not an unencrypted PEM private key" in refused(
        "--db", shop, "seal", "--out", tmp_path / "s.json", "--key",
        made["public"])


def test_seal_verify_prove_and_check(shop: Path, tmp_path: Path) -> None:
    seal = tmp_path / "seal.json"
    written = ok_json("--db", shop, "seal", "--out", seal, "--key", shop.parent / "key",
                      "--json")
    assert set(written) == {"size", "root", "signed", "out"}
    assert written["signed"] is True and written["out"] == str(seal)
    events = ok_json("--db", shop, "info", "--json")["events"]
    assert written["size"] == events and len(written["root"]) == 64

    verified = ok_json("--db", shop, "verify", "--against", seal, "--json")
    assert list(verified) == ["ok", "events_checked", "streams_checked", "findings", "seal"]
    assert verified["ok"] is True and verified["findings"] == []
    assert verified["seal"] == {"size": events, "root": written["root"], "appended": 0,
                                "sealed_at": verified["seal"]["sealed_at"], "signed": True,
                                "current_root": written["root"], "consistency": []}

    order = run("--db", shop, "order", "create", "--customer", "Ada").stdout.strip()
    assert run("--db", shop, "order", "add-line", order, "--sku", "SKU-1001", "--qty",
               "1").returncode == 0
    human = run("--db", shop, "verify", "--against", seal)
    assert human.returncode == 0, human.stdout
    assert "clean, appended 2" in human.stdout and "signed by sha256:" in human.stdout

    streams = ok_json("--db", shop, "streams", "--json")
    stream = next(s["stream_id"] for s in streams if s["version"] >= 3)
    proof = tmp_path / "proof.json"
    made = ok_json("--db", shop, "prove", stream, "2", "--seal", seal, "--out", proof,
                   "--json")
    assert made["out"] == str(proof) and made["size"] == events
    checked = ok_json("check-proof", proof, "--seal", seal, "--json")
    assert checked == {"ok": True, "stream_id": stream, "version": 2,
                       "leaf_index": made["leaf_index"], "size": events}
    assert "the proof holds" in run("check-proof", proof, "--seal", seal).stdout

    forged = tmp_path / "forged.json"
    data = json.loads(proof.read_text())
    data["event"] = data["event"].replace(",2,", ",2 ,", 1)  # one byte more
    forged.write_text(json.dumps(data))
    done = run("check-proof", forged, "--seal", seal, "--json")
    assert done.returncode == 1 and json.loads(done.stdout)["ok"] is False
    assert "does not hold" in run("check-proof", forged, "--seal", seal).stdout

    later = tmp_path / "later.json"
    ok_json("--db", shop, "seal", "--out", later, "--json")
    assert "for another seal" in refused("check-proof", proof, "--seal", later)
    assert "appended after the seal" in refused("--db", shop, "prove", order, "1", "--seal",
                                                seal, "--out", tmp_path / "p2.json")


def test_a_tampered_history_is_a_finding(shop: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(shop.read_bytes())
    seal = tmp_path / "seal.json"
    ok_json("--db", copy, "seal", "--out", seal, "--json")
    with closing(sqlite3.connect(copy)) as conn, conn:
        sid, version, position = conn.execute(
            "SELECT stream_id, version, position FROM events WHERE version = 2 "
            "ORDER BY position LIMIT 1").fetchone()
        conn.execute("DELETE FROM events WHERE position = ?", (position,))
    done = run("--db", copy, "verify", "--against", seal, "--json")
    assert done.returncode == 1
    findings = json.loads(done.stdout)["findings"]
    assert {"kind": "removed_since_seal", "stream_id": sid, "version": version,
            "position": position} in [{k: f[k] for k in ("kind", "stream_id", "version",
                                                          "position")} for f in findings]
    assert "cannot prove it" in refused("--db", copy, "prove", sid, "1", "--seal", seal,
                                        "--out", tmp_path / "p.json", code=1)


def test_a_bad_signature_or_another_sources_seal_is_refused(shop: Path,
                                                            tmp_path: Path) -> None:
    seal = tmp_path / "seal.json"
    ok_json("--db", shop, "seal", "--out", seal, "--key", shop.parent / "key", "--json")
    document = json.loads(seal.read_text())
    document["sealed_at"] = "2001-01-01T00:00:00.000000Z"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    assert "the signature does not hold" in refused("--db", shop, "verify", "--against", bad)
    assert "the signature does not hold" in refused("check-proof", bad, "--seal", bad)
    other = tmp_path / "other.db"
    assert run("--db", other, "seed", "--orders", "1").returncode == 0
    message = refused("--db", other, "verify", "--against", seal)
    assert "seals another source" in message and str(shop) in message
    assert "not an esaudit proof" in refused("check-proof", seal, "--seal", seal)


def test_a_v1_seal_is_still_verified_proved_from_and_checked(shop: Path,
                                                             tmp_path: Path) -> None:
    """A seal written before esaudit-seal/2, as written or indented by hand: read whole, its
    signature checked over its canonical bytes; its proofs hold against a /2 seal of the same
    history too (they name the root and size, not the format)."""
    from esaudit.application.witness import seal_file
    from esaudit.application.witness.keys import load_private
    from esaudit.application.witness.sealing import build_seal
    from store import open_store

    with open_store(shop, read_only=True) as st:
        document = build_seal(st, key=load_private(shop.parent / "key"),
                              format=seal_file.FORMAT_1)
    assert document["format"] == "esaudit-seal/1"
    v1, indented, v2 = tmp_path / "v1.json", tmp_path / "indented.json", tmp_path / "v2.json"
    seal_file.write(v1, document)
    indented.write_text(json.dumps(document, indent=2))
    ok_json("--db", shop, "seal", "--out", v2, "--key", shop.parent / "key", "--json")
    assert v2.read_bytes().split(b"\n")[1].startswith(b'"body":"')
    for seal in (v1, indented):
        verified = ok_json("--db", shop, "verify", "--against", seal, "--json")
        assert verified["ok"] is True and verified["seal"]["signed"] is True
    stream = ok_json("--db", shop, "streams", "--json")[0]["stream_id"]
    proof = tmp_path / "proof.json"
    made = ok_json("--db", shop, "prove", stream, "1", "--seal", v1, "--out", proof, "--json")
    for seal in (v1, indented, v2):
        checked = ok_json("check-proof", proof, "--seal", seal, "--json")
        assert checked["ok"] is True and checked["leaf_index"] == made["leaf_index"]
    document["sealed_at"] = "2001-01-01T00:00:00.000000Z"
    indented.write_text(json.dumps(document, indent=2))
    assert "the signature does not hold" in refused("check-proof", proof, "--seal", indented)


def test_check_proof_loads_no_database_code(shop: Path, tmp_path: Path) -> None:
    seal, proof = tmp_path / "seal.json", tmp_path / "proof.json"
    ok_json("--db", shop, "seal", "--out", seal, "--json")
    stream = ok_json("--db", shop, "streams", "--json")[0]["stream_id"]
    ok_json("--db", shop, "prove", stream, "1", "--seal", seal, "--out", proof, "--json")
    code = ("import sys; from esaudit.cli import main; "
            f"code = main(['check-proof', {str(proof)!r}, '--seal', {str(seal)!r}]); "
            "print(code, sorted(m for m in sys.modules if m.split('.')[0] in "
            "('sqlalchemy', 'psycopg', 'orjson', 'PySide6')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "0 []"


def test_the_readme_block_runs_as_written(tmp_path: Path) -> None:
    readme = Path(__file__).resolve().parents[2] / "README.md"
    section = readme.read_text("utf-8").split("\n## Sealing a history\n", 1)[1]
    block = re.search(r"^```sh\n(.*?)^```", section, re.S | re.M)
    assert block
    env = {**os.environ, "ESAUDIT_DB": ""}
    assert subprocess.run([ESAUDIT, "--db", "demo.db", "seed", "--orders", "3"], cwd=tmp_path,
                          env=env, capture_output=True, check=False).returncode == 0
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        assert words[0] == "esaudit"
        done = subprocess.run([ESAUDIT, *words[1:]], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, (line, done.stderr)
