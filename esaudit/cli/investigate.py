"""Commands that investigate a history: blame, history, trace, search, tail.

Each command loads its application module when it runs: every command imports this module
to find its own, and none pays for the others'.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from ..output import event_json, json_default, print_json, print_table, shown_payload
from ..wording import counted
from .common import command
from .exits import EXIT_OK

if TYPE_CHECKING:
    from ..application.investigate.events import EventRef
    from ..bootstrap import Services


@command("blame", read_models=False)
def cmd_blame(svc: Services, args: argparse.Namespace) -> int:
    from ..application.investigate.blame import blame
    found = blame(svc.replayer, args.stream, args.version)
    if args.json:
        print_json(found.as_json())
        return EXIT_OK
    print(f"{found.stream_id} ({found.stream_type}) at version {found.version}, "
          f"model {found.model}")
    if found.caveat:
        print(f"note: {found.caveat}")
    print_table(["field", "value", "version", "type", "recorded (UTC)", "actor"],
                [(f.path, shown_payload(f.value),
                  *((f.event.version, f.event.type, f.event.recorded_at, f.event.actor)
                    if f.event else ("initial", "-", "-", "-")))
                 for f in found.fields], right=[2])
    return EXIT_OK


@command("history", read_models=False)
def cmd_history(svc: Services, args: argparse.Namespace) -> int:
    from ..application.investigate.blame import history
    found = history(svc.replayer, args.stream, args.field)
    if args.json:
        print_json(found.as_json())
        return EXIT_OK
    print(f"{found.stream_id}: {found.path} changed by {counted(len(found.changes), 'event')} "
          f"(model {found.model})")
    if found.caveat:
        print(f"note: {found.caveat}")
    if found.changes:
        print_table(["version", "recorded (UTC)", "type", "actor", "old", "new"],
                    [(c.event.version, c.event.recorded_at, c.event.type, c.event.actor,
                      shown_payload(c.old), shown_payload(c.new)) for c in found.changes],
                    right=[0])
    return EXIT_OK


@command("trace", read_models=False)
def cmd_trace(svc: Services, args: argparse.Namespace) -> int:
    from ..application.investigate.trace import find_event, trace
    found = trace(svc.store, find_event(svc.store, args.event))
    if found.note:
        print(f"esaudit: note: {found.note}", file=sys.stderr)
    if args.json:
        print_json(found.as_json())
        return EXIT_OK
    e = found.event
    print(f"{e.stream_id}@{e.version} (position {e.position}) {e.type}")
    headers = ["", "pos", "stream", "ver", "type", "recorded (UTC)", "actor"]

    def row(mark: str, r: EventRef) -> tuple[object, ...]:
        return (mark, r.position, r.stream_id, r.version, r.type, r.recorded_at, r.actor)

    print(f"correlation {found.correlation_id or '-'}: {len(found.events)} events")
    print_table(headers, [row("*" if r.position == e.position else "", r)
                          for r in found.events], right=[1, 3])
    if found.causes:
        print("\ncaused by (nearest first):")
        print_table(headers, [row("", r) for r in found.causes], right=[1, 3])
    if found.caused:
        print("\nwhat it caused:")
        print_table([*headers, "caused by"],
                    [(*row("", c.event), c.caused_by) for c in found.caused],
                    right=[1, 3, 7])
    return EXIT_OK


@command("search", read_models=False)
def cmd_search(svc: Services, args: argparse.Namespace) -> int:
    from ..application.investigate.search import event_search, search
    query = event_search(args.where, event_types=args.event_types,
                         stream_glob=args.stream_glob, since=args.since, until=args.until)
    page = search(svc.store, query, limit=args.limit)
    if page.more:
        print(f"esaudit: note: more events match than the {args.limit} shown "
              "(raise --limit)", file=sys.stderr)
    if args.json:
        print_json(page.as_json())
        return EXIT_OK
    print_table(["pos", "recorded (UTC)", "stream", "ver", "type", "payload"],
                [(e.position, e.recorded_at, e.stream_id, e.version, e.type,
                  shown_payload(e.payload)) for e in page.events], right=[0, 3])
    return EXIT_OK


@command("tail", read_models=False)
def cmd_tail(svc: Services, args: argparse.Namespace) -> int:
    from ..application.investigate.events import actor_of
    from ..application.investigate.tail import follow
    start = svc.store.head_position()
    print(f"esaudit: following {svc.store.label} from position {start} (Ctrl-C to stop)",
          file=sys.stderr, flush=True)
    out = sys.stdout
    for e in follow(svc.store, event_types=args.event_types, after_position=start):
        if args.json:
            out.write(_line(event_json(e)))
        else:
            out.write(f"{e.position}  {e.recorded_at:%Y-%m-%d %H:%M:%S}  "
                      f"{e.stream_id}@{e.version}  {e.type}  {actor_of(e.metadata) or '-'}  "
                      f"{_line(shown_payload(e.payload))}")
        out.write("\n")
        out.flush()
    return EXIT_OK


def _line(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=json_default)
