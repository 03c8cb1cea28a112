"""Commands that read the store and print what they find: streams, events, replay, diff, stats."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..domain.errors import InvalidCommand
from ..output import (
    event_json,
    flatten,
    print_json,
    print_table,
    provenance_text,
    shown_payload,
    utc_seconds,
)
from .common import command
from .exits import EXIT_OK, UsageError

if TYPE_CHECKING:
    from ..bootstrap import Services


@command("streams", read_models=False)
def cmd_streams(svc: Services, args: argparse.Namespace) -> int:
    if args.json:
        print_json([{"stream_id": r.stream_id, "stream_type": r.stream_type,
                     "version": r.version, "first_at": r.first_at, "last_at": r.last_at}
                    for r in svc.store.streams(args.stream_type)])
        return EXIT_OK
    # The browser's rows (times as integers, no datetime objects): a store's whole list may
    # be 100k lines, and two datetimes per line would be a third of printing it.
    rows = svc.store.stream_rows(None, args.stream_type)
    print_table(["stream", "type", "version", "first event", "last event"],
                [(r.stream_id, r.stream_type, r.version, utc_seconds(r.first_at_us),
                  utc_seconds(r.last_at_us)) for r in rows], right=[2])
    return EXIT_OK


@command("events", read_models=False)
def cmd_events(svc: Services, args: argparse.Namespace) -> int:
    info = svc.store.stream(args.stream)
    if info is None:
        raise InvalidCommand(f"no stream {args.stream!r} in the store")
    from_version = info.first_version if args.from_version is None else args.from_version
    if args.to_version is not None and from_version > args.to_version:
        raise UsageError(f"--from {from_version} comes after --to {args.to_version}")
    # Versions past the head hold nothing: asking the database for them could only fail on
    # numbers too large for its integer column.
    to_version = info.version if args.to_version is None else min(args.to_version,
                                                                   info.version)
    events = (svc.store.read_stream(info.stream_id, from_version, to_version)
              if from_version <= info.version else [])
    if not events and not args.json:
        print(f"no events: {info.stream_id} has versions {info.first_version}..{info.version}"
              f", none from {from_version}")
        return EXIT_OK
    if args.json:
        print_json([event_json(e) for e in events])
    elif svc.store.capabilities.hash_chain:
        print_table(["pos", "ver", "recorded (UTC)", "type", "actor", "payload", "hash"],
                    [(e.position, e.version, e.recorded_at, e.type, e.metadata.get("actor"),
                      shown_payload(e.payload), e.hash[:12]) for e in events], right=[0, 1])
    else:
        print_table(["pos", "ver", "recorded (UTC)", "type", "payload", "source"],
                    [(e.position, e.version, e.recorded_at, e.type, shown_payload(e.payload),
                      provenance_text(e.provenance)) for e in events], right=[0, 1])
    return EXIT_OK


@command("info", read_models=False)
def cmd_info(svc: Services, args: argparse.Namespace) -> int:
    events, streams = svc.store.counts()
    caps = svc.store.capabilities
    data = {"kind": svc.kind, "target": svc.store.identity.target,
            "read_only": svc.read_only, "events": events, "streams": streams,
            "head_position": svc.store.head_position(),
            "capabilities": {"hash_chain": caps.hash_chain, "snapshots": caps.snapshots,
                             "writable": caps.writable and not svc.read_only,
                             "live": caps.live}}
    if args.json:
        print_json(data)
        return EXIT_OK
    print(f"{svc.store.label}: {svc.kind} store, "
          f"{'read-only' if svc.read_only else 'writable'}")
    print_table(["measure", "value"], [("events", events), ("streams", streams),
                                       ("head position", data["head_position"]),
                                       ("hash chain", "yes" if caps.hash_chain else "no"),
                                       ("snapshots", "yes" if caps.snapshots else "no")],
                right=[1])
    return EXIT_OK


@command("replay", read_models=False)
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
            if result.caveat:
                print(f"note: {result.caveat}")
            print_table(["field", "value"], flatten(result.state))
    return EXIT_OK


@command("diff", read_models=False)
def cmd_diff(svc: Services, args: argparse.Namespace) -> int:
    from ..application.diff import count_by_kind
    changes = svc.comparer.versions(args.stream, args.a, args.b)
    if args.json:
        print_json([ch.as_json() for ch in changes])
    else:
        counts = count_by_kind(changes)
        print(f"{args.stream}: version {args.a} -> {args.b}: {counts['changed']} changed, "
              f"{counts['added']} added, {counts['removed']} removed")
        if changes:
            print_table(["path", "change", "old", "new"],
                        [(ch.path, ch.kind, shown_payload(ch.old), shown_payload(ch.new))
                         for ch in changes])
    return EXIT_OK


@command("stats")
def cmd_stats(svc: Services, args: argparse.Namespace) -> int:
    st = svc.store.stats()
    status = [] if svc.projector is None else svc.projector.status()
    data = {"events": st.events, "streams": st.streams, "head_position": st.head_position,
            "snapshots": st.snapshots, "streams_by_type": st.streams_by_type,
            "events_by_type": st.events_by_type,
            "projection_lag": {s.name: s.lag for s in status}}
    if args.json:
        print_json(data)
        return EXIT_OK
    print(f"store: {svc.store.label} ({svc.kind}{', read-only' if svc.read_only else ''})")
    print_table(["measure", "value"], [("events", st.events), ("streams", st.streams),
                                       ("head position", st.head_position),
                                       ("snapshots", st.snapshots)], right=[1])
    print()
    print_table(["stream type", "streams"], sorted(st.streams_by_type.items()), right=[1])
    print()
    print_table(["event type", "events"], sorted(st.events_by_type.items()), right=[1])
    if status:
        print()
        print_table(["projection", "lag"], [(s.name, s.lag) for s in status], right=[1])
    return EXIT_OK
