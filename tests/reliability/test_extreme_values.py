"""Hypothesis drives every command with extreme values: integers up to 2**80, 1e308, NaN, -0,
empty and 10,000-character strings, lone surrogates, RTL text, emoji and NUL. Whatever it
draws, the command never prints a traceback, answers a refusal in one line, never stores part
of a command, and the store afterwards opens writable, verifies clean and catches up."""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from esaudit.application.audit import audit_projections
from esaudit.application.seed import plan
from esaudit.application.verify import verify
from esaudit.bootstrap import bootstrap
from esaudit.cli import main, parse_instant
from esaudit.domain import commands as c
from esaudit.domain.errors import InvalidCommand
from store import StoreError, open_store

EXTREME = settings(deadline=None,
                   suppress_health_check=[HealthCheck.too_slow,
                                          HealthCheck.function_scoped_fixture])

ATOMS = [str(2**80), str(-2**80), str(2**63), str(2**63 - 1), str(2**64), "1e308", "-1e308",
         "1e-308", "NaN", "nan", "inf", "-inf", "-0", "0", "0.001", "1_000", "0x10", " 7 ", "",
         "x" * 10_000, "\ud800", "a\udcff", "\udfff\ud800", "مرحبا", "\u202e", "\u202ebad\u202c",
         "🧾💶", "👩\u200d💻", "\x00", "a\x00b", "٣", "\uff11", "²", "\n", "\t",
         "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59.999999-23:59", "2026-02-30"]
"""Values, and pieces of values, that are hard to hold: a value is one, or a few joined."""

values = (st.sampled_from(ATOMS)
          | st.integers(-2**80, 2**80).map(str)
          | st.lists(st.sampled_from(ATOMS), min_size=2, max_size=3).map("".join))


@dataclass(frozen=True)
class Slot:
    """An argument that gets an extreme value, else ``normal``."""
    normal: str


def _slots(*argv: str | Slot) -> tuple[str | Slot, ...]:
    return argv


# The store the module seeds: one order in each status a command needs.
DRAFT, PENDING, PAID = "ord-draft", "ord-pending", "ord-paid"

ORDER_COMMANDS = {
    "create": _slots("order", "create", "--customer", Slot("Ada"), "--currency", Slot("EUR")),
    "add-line": _slots("order", "add-line", Slot(DRAFT), "--sku", Slot("SKU-1"), "--qty",
                       Slot("2"), "--price", Slot("2.50")),
    "add-line-catalogue": _slots("order", "add-line", Slot(DRAFT), "--sku", Slot("SKU-1"),
                                 "--qty", Slot("1")),
    "remove-line": _slots("order", "remove-line", Slot(DRAFT), "--sku", Slot("SKU-1")),
    "place": _slots("order", "place", Slot(DRAFT), "--expected-version", Slot("2")),
    "pay": _slots("order", "pay", Slot(PENDING), "--amount", Slot("1.25"), "--method",
                  Slot("card")),
    "refund": _slots("order", "refund", Slot(PAID), "--amount", Slot("1.00"), "--reason",
                     Slot("damaged")),
    "cancel": _slots("order", "cancel", Slot(PAID), "--reason", Slot("out of stock")),
    "ship": _slots("order", "ship", Slot(PAID), "--carrier", Slot("DHL"), "--tracking",
                   Slot("TRK1")),
    "deliver": _slots("order", "deliver", Slot(PAID)),
}

READING_COMMANDS = {
    "events": _slots("events", Slot(PAID), "--from", Slot("1"), "--to", Slot("3")),
    "replay-version": _slots("replay", Slot(PAID), "--version", Slot("2")),
    "replay-at": _slots("replay", Slot(PAID), "--at", Slot("2026-03-01T12:00:00Z")),
    "diff": _slots("diff", Slot(PAID), Slot("1"), Slot("3")),
    "streams": _slots("streams", "--type", Slot("Order")),
    "report": _slots("report", "--out", "{tmp}/report.json", "--versions", Slot("1:2"),
                     "--stream", Slot(PAID), "--from", Slot("2026-01-01T00:00:00Z")),
    "report-html": _slots("report", "--out", "{tmp}/report.html", "--versions", Slot("1:3"),
                          "--to", Slot("2030-01-01")),
    "report-csv": _slots("report", "--out", "{tmp}/report.csv", "--type", Slot("Order"),
                         "--from", Slot("2026-01-01")),
    "export": _slots("export", "{tmp}/out.jsonl", "--from", Slot("2026-01-01T00:00:00Z"),
                     "--to", Slot("2030-01-01T00:00:00Z"), "--stream", Slot(PAID)),
    "export-csv": _slots("export", "{tmp}/out.csv", "--type", Slot("Order"), "--from",
                         Slot("2026-01-01")),
}

# Seeding: --days between a few hundred and the calendar's end would only be slow, not extreme.
seed_days = st.sampled_from(ATOMS) | (st.integers(-400, 400) | st.integers(10**6, 2**80)
                                       | st.integers(-2**80, -10**6)).map(str)
SEED = _slots("seed", "--orders", "1", "--seed", Slot("1"), "--days", Slot("3"), "--until",
              Slot("2026-03-01T00:00:00Z"))


@st.composite
def argvs(draw: st.DrawFn, templates: dict[str, tuple[str | Slot, ...]] | None = None,
          template: tuple[str | Slot, ...] | None = None,
          extreme: st.SearchStrategy[str] = values) -> list[str]:
    """One command with at least one of its arguments extreme (often only one, so the others
    let it reach deep), sometimes asking for JSON."""
    if template is None:
        assert templates is not None
        template = templates[draw(st.sampled_from(sorted(templates)))]
    slots = [i for i, part in enumerate(template) if isinstance(part, Slot)]
    wild = set(draw(st.lists(st.sampled_from(slots), min_size=1, max_size=len(slots))))
    argv = [draw(extreme) if i in wild else part.normal if isinstance(part, Slot) else part
            for i, part in enumerate(template)]
    if draw(st.booleans()):
        argv.append("--json")
    return argv


def _cli(argv: list[str]) -> tuple[int, str, str]:
    """main(argv) in this process, its output written the way a process's is in a UTF-8 locale:
    stdout strict UTF-8, stderr with backslash escapes."""
    out, err = io.BytesIO(), io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", errors="strict", newline="\n")
    stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace", newline="\n")
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(argv)
        except SystemExit as e:  # only --help / --version may exit this way
            code = int(e.code or 0)
        stdout.flush()
        stderr.flush()
    return code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8")


def _events(path: Path) -> tuple[list[tuple], dict[str, tuple[int, str]]]:
    """Every event exactly as stored, and every stream's head (version, hash)."""
    with open_store(path, read_only=True) as st_:
        return list(st_.iter_raw_events()), {s.stream_id: (s.version, s.head_hash)
                                             for s in st_.streams()}


def _still_sound(path: Path) -> None:
    svc = bootstrap(path)  # opens writable; read models catch up
    try:
        assert not svc.read_only
        report = verify(svc.store)
        assert report.ok, report.findings
        svc.projector.catch_up()
        assert audit_projections(svc.comparer).ok
    finally:
        svc.close()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("extreme") / "base.db"
    svc = bootstrap(path, actor="tester")
    run = svc.commands.execute
    run(c.RegisterProduct("SKU-1", "Widget", 250))
    for oid in (DRAFT, PENDING, PAID):
        run(c.CreateOrder(oid, "Ada Lovelace"))
        run(c.AddLine(oid, "SKU-1", 2, 250))
    for oid in (PENDING, PAID):
        run(c.PlaceOrder(oid))
    run(c.ReceivePayment(PAID, 500))
    svc.close()
    assert not Path(f"{path}-wal").exists()  # one file holds the whole store: copies are whole
    yield path


def _copy(base: Path, tmp: Path) -> Path:
    copy = tmp / "store.db"
    for leftover in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(base, copy)
    return copy


def _run(copy: Path, tmp: Path, argv: list[str]) -> tuple[int, str, str]:
    argv = [a.replace("{tmp}", str(tmp)) for a in argv]
    code, out, err = _cli(["--db", str(copy), *argv])
    event(f"{argv[0]} {argv[1] if argv[0] == 'order' else ''}: exit {code}")
    assert "Traceback" not in err and "Traceback" not in out, (argv, err)
    assert code in (0, 1, 2, 3, 4), (code, argv, err)
    if code:
        assert err.startswith("esaudit: ") and err.count("\n") == 1, (argv, err)
    return code, out, err


@settings(EXTREME, max_examples=220)
@given(argv=argvs(ORDER_COMMANDS))
def test_order_commands_store_a_whole_event_or_nothing(base: Path, tmp_path: Path,
                                                       argv: list[str]) -> None:
    copy = _copy(base, tmp_path)
    events, heads = _events(copy)
    code, _out, err = _run(copy, tmp_path, argv)
    after, after_heads = _events(copy)
    if code:
        assert (after, after_heads) == (events, heads), f"refused ({err.strip()}) but wrote"
    else:  # every order command decides exactly one event
        assert after[:len(events)] == events and len(after) == len(events) + 1
        moved = {sid for sid in after_heads if after_heads[sid] != heads.get(sid)}
        assert len(moved) == 1 and set(heads) <= set(after_heads)
        (sid,) = moved
        assert after_heads[sid][0] == heads.get(sid, (0, ""))[0] + 1
    _still_sound(copy)


@settings(EXTREME, max_examples=160)
@given(argv=argvs(READING_COMMANDS))
# instants whose zone puts them outside the years 1-9999 in UTC
@example(argv=["replay", "ord-paid", "--at", "0001-01-01T00:00:00+23:59"])
@example(argv=["replay", "ord-paid", "--at", "9999-12-31T23:59:59-23:59"])
def test_reading_commands_never_write_or_crash(base: Path, tmp_path: Path,
                                               argv: list[str]) -> None:
    copy = _copy(base, tmp_path)
    before = _events(copy)
    _run(copy, tmp_path, argv)
    assert _events(copy) == before
    _still_sound(copy)


@settings(EXTREME, max_examples=40)
@given(argv=argvs(template=SEED, extreme=seed_days))
def test_seeding_with_extreme_spans_is_whole_or_refused(base: Path, tmp_path: Path,
                                                        argv: list[str]) -> None:
    copy = _copy(base, tmp_path)
    events, heads = _events(copy)
    code, _out, _err = _run(copy, tmp_path, argv)
    after, after_heads = _events(copy)
    if code:
        assert (after, after_heads) == (events, heads)
    else:
        assert after[:len(events)] == events and len(after) > len(events)
    _still_sound(copy)


# -- the bugs the fuzzing found, pinned -----------------------------------------------------
def _answer(call: Callable[[], list]) -> list | None:
    try:
        return call()
    except StoreError:
        return None


@pytest.mark.parametrize("beyond", [2**63, 2**80])
def test_a_version_beyond_64_bits_is_answered_or_a_store_error(store_target: str,
                                                                beyond: int) -> None:
    """SQLite refused such a parameter with a bare OverflowError, a traceback from
    ``esaudit events ID --from 2**80``; PostgreSQL answers or says "integer out of range"."""
    svc = bootstrap(store_target, actor="tester")
    try:
        svc.commands.execute(c.CreateOrder("ord-1", "Ada"))
        store = svc.store
        assert _answer(lambda: store.read_stream("ord-1", beyond)) in ([], None)
        assert _answer(lambda: store.read_payloads("ord-1", beyond)) in ([], None)
        assert len(_answer(lambda: store.read_stream("ord-1", 1, beyond)) or [1]) == 1
        assert len(_answer(lambda: store.read_payloads("ord-1", 1, beyond)) or [1]) == 1
        assert len(store.read_stream("ord-1", 1, 2**31 - 1)) == 1  # PostgreSQL: int4
    finally:
        svc.close()


@pytest.mark.parametrize(("days", "until"), [
    (2**80, "2026-03-01T00:00:00Z"),        # timedelta cannot hold it
    (1_000_000_000, "2026-03-01T00:00:00Z"),
    (800_000, "2026-03-01T00:00:00Z"),      # before the year 1
    (1, "0001-01-02T00:00:00+23:59"),       # the year 1 in its zone, the year 0 in UTC
    (1, "9999-12-31T00:00:00Z"),            # the last orders run into the year 10000
], ids=["2**80", "1e9", "800k", "year-0-utc", "year-10000"])
def test_a_seed_span_outside_the_calendar_is_refused(days: int, until: str) -> None:
    with pytest.raises(InvalidCommand, match="does not fit in the years 1 to 9999"):
        plan(3, 1, days, parse_instant(until))


def test_a_seed_that_just_fits_the_calendar_runs() -> None:
    steps, _ = plan(20, 1, 1, parse_instant("9999-12-24T00:00:00Z"))
    assert steps[-1].at.year == 9999
    steps, _ = plan(20, 1, 730_000, parse_instant("2026-03-01T00:00:00Z"))
    assert steps[0].at.year == 27
