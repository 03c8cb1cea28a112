"""``--where`` expressions read into conditions, and a page of matches."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from esaudit.application.investigate.search import (
    MalformedCondition,
    event_search,
    parse_condition,
    search,
)
from store import ANY, NewEvent, open_store
from store.search import Condition


@pytest.mark.parametrize(("text", "expected"), [
    ("payload.qty = 2", Condition("payload", ("qty",), "=", 2)),
    ("payload.qty>=2.5", Condition("payload", ("qty",), ">=", 2.5)),
    ("payload.status != paid", Condition("payload", ("status",), "!=", "paid")),
    ('payload.status = "12"', Condition("payload", ("status",), "=", "12")),
    ("payload.status = null", Condition("payload", ("status",), "=", None)),
    ("payload.ok = true", Condition("payload", ("ok",), "=", True)),
    ("metadata.actor ~ Zoë", Condition("metadata", ("actor",), "~", "Zoë")),
    ("metadata.actor ~ 12", Condition("metadata", ("actor",), "~", "12")),
    ('metadata.actor ~ "a b"', Condition("metadata", ("actor",), "~", "a b")),
    ("payload.lines.SKU-1.qty < 3", Condition("payload", ("lines", "SKU-1", "qty"), "<", 3)),
    ('payload.lines["SKU = 1"].qty <= 3',
     Condition("payload", ("lines", "SKU = 1", "qty"), "<=", 3)),
    ("payload.items[0].sku = a b c", Condition("payload", ("items", 0, "sku"), "=", "a b c")),
    ("payload.x = NaN", Condition("payload", ("x",), "=", "NaN")),
    ("payload.x > Infinity", Condition("payload", ("x",), ">", "Infinity")),
])
def test_an_expression_reads_as_one_condition(text: str, expected: Condition) -> None:
    assert parse_condition(text) == expected


@pytest.mark.parametrize(("text", "says"), [
    ("qty = 2", "start with payload. or metadata."),
    ("payload.qty 2", "no operator"),
    ("payload.qty =", "no value"),
    ("payload.qty == 2", "one operator"),
    ("payload.qty => 2", "one operator"),
    ("payload. = 2", "empty field path"),
    ("payload.a..b = 2", "no key at character 3"),
    ("payload.x < true", "< compares numbers or strings"),
    ("payload.x >= null", ">= compares numbers or strings"),
    ("payload.x = [1, 2]", "an object or a list"),
    ("payload.x = 1e999", "too large"),
])
def test_a_malformed_expression_is_refused_naming_it(text: str, says: str) -> None:
    with pytest.raises(MalformedCondition) as error:
        parse_condition(text)
    message = str(error.value)
    assert message.startswith(f"--where {text!r}: ") and says in message
    assert "\n" not in message


def test_a_search_is_built_from_its_pieces() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    found = event_search(["payload.a = 1"], event_types=["A", "B", "A"], stream_glob="o-*",
                         since=at, until=at)
    assert found.conditions == (Condition("payload", ("a",), "=", 1),)
    assert found.event_types == ("A", "B") and found.stream_glob == "o-*"
    assert found.since_us == found.until_us == 1767225600000000
    assert event_search().event_types is None


def test_a_page_says_whether_more_events_match(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as st:
        for i in range(5):
            st.append(f"o-{i}", "T", [NewEvent("A", {"i": i})], ANY)
        page = search(st, event_search(["payload.i >= 1"]), limit=3)
        assert [e.payload["i"] for e in page.events] == [1, 2, 3] and page.more
        rest = search(st, event_search(["payload.i >= 1"]),
                      after_position=page.events[-1].position, limit=3)
        assert [e.payload["i"] for e in rest.events] == [4] and not rest.more
        assert list(page.as_json()[0]) == ["position", "stream_id", "stream_type", "version",
                                           "type", "recorded_at", "payload", "metadata",
                                           "hash"]


def test_an_export_of_a_search_writes_the_rows_an_export_of_everything_has(
        tmp_path: Path) -> None:
    from esaudit.application.jobs import Cancelled
    from esaudit.application.transfer import export_search, export_selection, search_rows

    with open_store(tmp_path / "s.db") as st:
        for i in range(40):
            st.append(f"o-{i % 7}", "T", [NewEvent("A" if i % 3 else "B", {"i": i})], ANY)
        query = event_search(["payload.i >= 5"], event_types=["A"], stream_glob="o-?")
        rows = list(search_rows(st, query, page=4))
        expected = [e.position for e in st.iter_events()
                    if e.payload["i"] >= 5 and e.type == "A"]
        assert [r[0] for r in rows] == expected
        whole = {r[0]: r for r in st.iter_raw_events()}
        assert rows == [whole[p] for p in expected]  # the stored bytes and hashes
        summary = export_search(st, tmp_path / "found.jsonl", query)
        assert (summary.format, summary.events, summary.streams) == ("jsonl", len(rows), 7)
        everything = tmp_path / "all.jsonl"
        export_selection(st, everything)
        lines = everything.read_text().splitlines()
        positions = [e.position for e in st.iter_events()]
        assert (tmp_path / "found.jsonl").read_text().splitlines() == \
            [lines[positions.index(p)] for p in expected]
        csv_summary = export_search(st, tmp_path / "found.csv", query)
        assert csv_summary.events == len(rows)
        assert len((tmp_path / "found.csv").read_text().splitlines()) == len(rows) + 1
        with pytest.raises(Cancelled):
            export_search(st, tmp_path / "never.csv", query, cancelled=lambda: True)
        assert not (tmp_path / "never.csv").exists()


def test_a_filter_bar_reads_into_a_search_or_one_line_naming_the_field() -> None:
    from esaudit.application.investigate.search import search_from_text, split_conditions

    assert split_conditions('payload.a = 1; metadata.b ~ "x;y" ;; ') == \
        ["payload.a = 1", 'metadata.b ~ "x;y"']
    found = search_from_text("payload.a = 1; payload.b != x", " A, B ,", " ord-0* ",
                             "2026-01-01", "2026-01-02T12:00:00+01:00")
    assert found.conditions == (Condition("payload", ("a",), "=", 1),
                                Condition("payload", ("b",), "!=", "x"))
    assert found.event_types == ("A", "B") and found.stream_glob == "ord-0*"
    assert found.since_us == 1767225600000000
    assert found.until_us == 1767225600000000 + 36 * 3600 * 10**6 - 3600 * 10**6
    assert search_from_text() == event_search()
    for fields, says in [(("qty = 2",), "'qty = 2': start with payload. or metadata."),
                         (("", "", "", "yesterday"), "From 'yesterday' is not a date"),
                         (("", "", "", "2026-02-01", "2026-01-01"),
                          "From 2026-02-01 comes after To 2026-01-01")]:
        with pytest.raises(MalformedCondition) as e:
            search_from_text(*fields)
        assert str(e.value).startswith(says) and "\n" not in str(e.value)


def test_jump_to_a_date_finds_the_first_match_at_or_after_it(tmp_path: Path) -> None:
    from esaudit.application.investigate.search import first_match_from

    with open_store(tmp_path / "s.db") as st:
        for i in range(6):
            st.append(f"o-{i}", "T", [NewEvent("A", {"i": i},
                                               recorded_at=datetime(2026, 1, 1 + i, tzinfo=UTC))],
                      ANY)
        found = first_match_from(st, event_search(["payload.i != 3"]),
                                 datetime(2026, 1, 3, 12, tzinfo=UTC))
        assert found is not None and found.payload["i"] == 4
        assert first_match_from(st, event_search(), datetime(2027, 1, 1, tzinfo=UTC)) is None
