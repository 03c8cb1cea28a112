"""Commands that read the store and print what they find: streams, events, replay, diff, stats."""

from __future__ import annotations

import argparse

from ..application.diff import count_by_kind
from ..bootstrap import Services
from ..domain.errors import InvalidCommand
from ..output import flatten, print_json, print_table
from .common import command
from .exits import EXIT_OK, UsageError


@command("streams")
def cmd_streams(svc: Services, args: argparse.Namespace) -> int:
    rows = svc.store.streams(args.stream_type)
    if args.json:
        print_json([{"stream_id": r.stream_id, "stream_type": r.stream_type,
                     "version": r.version, "first_at": r.first_at, "last_at": r.last_at}
                    for r in rows])
    else:
        print_table(["stream", "type", "version", "first event", "last event"],
                    [(r.stream_id, r.stream_type, r.version, r.first_at, r.last_at)
                     for r in rows], right=[2])
    return EXIT_OK


@command("events")
def cmd_events(svc: Services, args: argparse.Namespace) -> int:
    info = svc.store.stream(args.stream)
    if info is None:
        raise InvalidCommand(f"no stream {args.stream!r} in the store")
    if args.to_version is not None and args.from_version > args.to_version:
        raise UsageError(f"--from {args.from_version} comes after --to {args.to_version}")
    # Versions past the head hold nothing: asking the database for them could only fail on
    # numbers too large for its integer column.
    to_version = info.version if args.to_version is None else min(args.to_version,
                                                                   info.version)
    events = (svc.store.read_stream(args.stream, args.from_version, to_version)
              if args.from_version <= info.version else [])
    if not events and not args.json:
        print(f"no events: {args.stream} has versions 1..{info.version}, none from "
              f"{args.from_version}")
        return EXIT_OK
    if args.json:
        print_json([{"position": e.position, "stream_id": e.stream_id,
                     "stream_type": e.stream_type, "version": e.version, "type": e.type,
                     "recorded_at": e.recorded_at, "payload": e.payload,
                     "metadata": e.metadata, "hash": e.hash} for e in events])
    else:
        print_table(["pos", "ver", "recorded (UTC)", "type", "actor", "payload", "hash"],
                    [(e.position, e.version, e.recorded_at, e.type, e.metadata.get("actor"),
                      e.payload, e.hash[:12]) for e in events], right=[0, 1])
    return EXIT_OK


@command("replay")
def cmd_replay(svc: Services, args: argparse.Namespace) -> int:
    result = svc.replayer.replay(args.stream, args.version, at=args.at,
                                 use_snapshots=not args.no_snapshots)
    if args.json:
        print_json(result.as_json())
    else:
        origin = (f" (from the snapshot at version {result.snapshot_version})"
                  if result.snapshot_version else "")
        print(f"{result.stream_id} ({result.stream_type}) at version {result.version}{origin}")
        if result.note:
            print(result.note)
        else:
            print_table(["field", "value"], flatten(result.state))
    return EXIT_OK


@command("diff")
def cmd_diff(svc: Services, args: argparse.Namespace) -> int:
    changes = svc.comparer.versions(args.stream, args.a, args.b)
    if args.json:
        print_json([ch.as_json() for ch in changes])
    else:
        counts = count_by_kind(changes)
        print(f"{args.stream}: version {args.a} -> {args.b}: {counts['changed']} changed, "
              f"{counts['added']} added, {counts['removed']} removed")
        if changes:
            print_table(["path", "change", "old", "new"],
                        [(ch.path, ch.kind, ch.old, ch.new) for ch in changes])
    return EXIT_OK


@command("stats")
def cmd_stats(svc: Services, args: argparse.Namespace) -> int:
    st = svc.store.stats()
    status = svc.projector.status()
    data = {"events": st.events, "streams": st.streams, "head_position": st.head_position,
            "snapshots": st.snapshots, "streams_by_type": st.streams_by_type,
            "events_by_type": st.events_by_type,
            "projection_lag": {s.name: s.lag for s in status}}
    if args.json:
        print_json(data)
        return EXIT_OK
    print(f"store: {svc.store.label} ({svc.store.backend_name}"
          f"{', read-only' if svc.read_only else ''})")
    print_table(["measure", "value"], [("events", st.events), ("streams", st.streams),
                                       ("head position", st.head_position),
                                       ("snapshots", st.snapshots)], right=[1])
    print()
    print_table(["stream type", "streams"], sorted(st.streams_by_type.items()), right=[1])
    print()
    print_table(["event type", "events"], sorted(st.events_by_type.items()), right=[1])
    print()
    print_table(["projection", "lag"], [(s.name, s.lag) for s in status], right=[1])
    return EXIT_OK
