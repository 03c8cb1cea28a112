"""Hypothesis fuzzes the importers and the command line: never a traceback, never a partial
import, always exit 2 with one line that says what is wrong."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esaudit.application.transfer import import_history
from esaudit.cli import main
from store import ANY, NewEvent, open_store
from store.bulk import ImportRejected

FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("fuzz") / "base.db"
    with open_store(path) as st:
        st.append("existing", "Thing", [NewEvent("Made", {"n": 1})], ANY)
    yield path


def _good(sid: str, version: int) -> dict:
    return {"stream_id": sid, "stream_type": "T", "version": version, "type": "E",
            "recorded_at": "2026-03-01T12:00:00.5Z", "payload": {"v": version},
            "metadata": {}}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8)


@st.composite
def mutated_rows(draw: st.DrawFn) -> dict:
    row = _good(draw(st.sampled_from(["a", "b", "existing"])), draw(st.integers(1, 3)))
    for _ in range(draw(st.integers(0, 2))):
        action = draw(st.sampled_from(["drop", "set", "add"]))
        key = draw(st.sampled_from([*row, "extra"]))
        if action == "drop":
            row.pop(key, None)
        else:
            row[key] = draw(json_values)
    return row


@st.composite
def jsonl_files(draw: st.DrawFn) -> bytes:
    lines: list[bytes] = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["row", "row", "row", "raw", "text"]))
        if kind == "row":
            lines.append(json.dumps(draw(mutated_rows())).encode())
        elif kind == "raw":
            lines.append(draw(st.binary(max_size=40)).replace(b"\n", b""))
        else:
            lines.append(draw(st.text(max_size=40)).replace("\n", "").encode("utf-8",
                                                                             "surrogatepass"))
    return b"\n".join(lines) + b"\n"


def _snapshot(path: Path) -> list:
    with open_store(path, read_only=True) as st:
        return [*st.iter_raw_events(), *[(s.stream_id, s.version, s.head_hash)
                                         for s in st.streams()]]


def _valid(data: bytes) -> bool:
    """An independent judge: would every line of this file be acceptable to import?"""
    heads: dict[str, int] = {}
    try:
        lines = [json.loads(line.decode("utf-8")) for line in data.split(b"\n")
                 if line.strip()]  # blank means ASCII whitespace only, as in JSON
    except (UnicodeDecodeError, ValueError):
        return False
    required = {"stream_id", "stream_type", "version", "type", "recorded_at", "payload",
                "metadata"}
    for row in lines:
        if not isinstance(row, dict) or set(row) != required:
            return False
        if row["stream_id"] not in ("a", "b") or row["stream_type"] != "T" or row["type"] != "E":
            return False
        if not isinstance(row["payload"], dict) or not isinstance(row["metadata"], dict):
            return False
        if row["recorded_at"] != "2026-03-01T12:00:00.5Z":
            return False
        if type(row["version"]) is not int or row["version"] != heads.get(row["stream_id"],
                                                                          0) + 1:
            return False
        heads[row["stream_id"]] = row["version"]
    return True


@FUZZ
@given(data=jsonl_files())
def test_jsonl_import_is_all_or_nothing(base: Path, tmp_path: Path, data: bytes) -> None:
    file = tmp_path / "fuzz.jsonl"
    file.write_bytes(data)
    copy = tmp_path / "store.db"
    copy.write_bytes(base.read_bytes())
    before = _snapshot(copy)
    lines = data.count(b"\n")
    try:
        with open_store(copy) as st:
            summary = import_history(st, file)
    except ImportRejected as e:
        assert e.source == str(file) and 1 <= e.line <= lines and e.reason
        assert "\n" not in str(e)
        assert _snapshot(copy) == before
        assert not _valid(data), f"a valid file was refused: {e}"
    else:
        assert _valid(data), "an invalid file was accepted"
        assert len(_snapshot(copy)) > len(before) or summary.events == 0


@st.composite
def csv_files(draw: st.DrawFn) -> str:
    header = ["stream_id", "stream_type", "version", "type", "recorded_at", "payload",
              "metadata"]
    if draw(st.booleans()):
        header = draw(st.permutations(header + draw(st.sampled_from([[], ["hash"], ["junk"]]))))
    lines = [",".join(header)]
    for _ in range(draw(st.integers(0, 6))):
        values = {"stream_id": draw(st.sampled_from(["a", "existing", ""])),
                  "stream_type": "T", "version": str(draw(st.integers(-1, 3))), "type": "E",
                  "recorded_at": draw(st.sampled_from(["2026-03-01T12:00:00Z", "yesterday",
                                                       "2026-03-01T12:00:00"])),
                  "payload": draw(st.sampled_from(['"{""a"": 1}"', "{}", "[]", "nope", '""'])),
                  "metadata": "{}", "hash": draw(st.sampled_from(["", "abc", "0" * 64])),
                  "junk": "x"}
        row = [values[h] for h in header]
        if draw(st.booleans()):
            row = row[: draw(st.integers(0, len(row)))]
        lines.append(",".join(row) + draw(st.sampled_from(["", "", '"', ",extra"])))
    return "\n".join(lines) + "\n"


@FUZZ
@given(text=csv_files())
def test_csv_import_never_crashes_or_half_imports(base: Path, tmp_path: Path, text: str) -> None:
    file = tmp_path / "fuzz.csv"
    file.write_text(text, "utf-8")
    copy = tmp_path / "store.db"
    copy.write_bytes(base.read_bytes())
    before = _snapshot(copy)
    try:
        with open_store(copy) as st:
            summary = import_history(st, file)
    except ImportRejected as e:
        assert e.source == str(file) and e.line >= 1 and e.reason
        assert _snapshot(copy) == before
    else:
        assert len(_snapshot(copy)) == len(before) + summary.events + summary.streams


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:  # only --help / --version may exit this way
            code = int(e.code or 0)
    return code, out.getvalue(), err.getvalue()


COMMANDS = ["seed", "order", "streams", "events", "replay", "diff", "projections", "verify",
            "audit-projections", "stats", "report", "export", "import"]
WORDS = ["create", "add-line", "place", "pay", "ship", "refund", "rebuild", "status",
         "--json", "--version", "--at", "--amount", "--orders", "--qty", "--sku", "--out",
         "--stream", "--from", "--to", "--versions", "--format", "--expected-version",
         "--against", "existing", "ord-x", "-1", "0", "3", "1:2", "x.pdf", "x.txt", "x.jsonl",
         "csv", "eventsourcing", "2026-13-01", "2026-01-01T00:00:00Z", "12.345", "1e999",
         "nan", "--customer", "--price", "é✓", ""]


@FUZZ
@given(argv=st.tuples(st.sampled_from(COMMANDS),
                      st.lists(st.sampled_from(WORDS) | st.text(max_size=6), max_size=6)))
def test_cli_arguments_never_produce_a_traceback(base: Path, tmp_path: Path,
                                                 argv: tuple[str, list[str]]) -> None:
    copy = tmp_path / "store.db"
    copy.write_bytes(base.read_bytes())
    args = [a.replace("x.", str(tmp_path / "x.")) for a in argv[1]]
    if argv[0] == "seed":
        args = [a for a in args if not a.lstrip("-").isdigit()]  # keep seeding small
    code, _out, err = _cli(["--db", str(copy), argv[0], *args])
    assert "Traceback" not in err
    assert code in (0, 1, 2, 3, 4), (code, err)
    if code == 2:
        assert err.startswith("esaudit: ") and err.count("\n") == 1, err
