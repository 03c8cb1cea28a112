"""Commands that change the store: the demo seed, order commands, read-model rebuilds."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ..application.seed import seed as run_seed
from ..bootstrap import Services
from ..domain import commands as c
from ..domain.errors import InvalidCommand
from ..domain.money import format_money
from ..output import print_json, print_table
from .common import command, end_progress, stderr_progress, writable
from .exits import EXIT_OK


@command("seed")
def cmd_seed(svc: Services, args: argparse.Namespace) -> int:
    w = writable(svc, "seed")
    result = run_seed(w.commands, orders=args.orders, seed=args.seed, days=args.days,
                      until=args.until, progress=stderr_progress("seeding"))
    end_progress()
    summary = {"orders": result.orders, "products": result.products,
               "commands": result.commands, "conflicts": result.conflicts,
               "events": svc.store.stats().events}
    if args.json:
        print_json(summary)
    else:
        print(f"seeded {result.orders} orders and {result.products} products: "
              f"{result.commands} commands, {result.conflicts} refused as concurrent edits, "
              f"{summary['events']} events in the store")
    return EXIT_OK


ORDER_COMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
    "add-line": lambda a: c.AddLine(a.id, a.sku, a.qty, a.price),
    "remove-line": lambda a: c.RemoveLine(a.id, a.sku),
    "place": lambda a: c.PlaceOrder(a.id),
    "pay": lambda a: c.ReceivePayment(a.id, a.amount, a.method),
    "ship": lambda a: c.ShipOrder(a.id, a.carrier, a.tracking),
    "deliver": lambda a: c.DeliverOrder(a.id),
    "cancel": lambda a: c.CancelOrder(a.id, a.reason),
    "refund": lambda a: c.IssueRefund(a.id, a.amount, a.reason),
}
"""Each ``order ACTION`` on an existing order, as the domain command it runs."""


@command("order")
def cmd_order(svc: Services, args: argparse.Namespace) -> int:
    from ..application.handlers import new_order_id
    w = writable(svc, f"order {args.action}")
    if args.action == "create":
        cmd: Any = c.CreateOrder(new_order_id(), args.customer, args.currency)
    else:
        if svc.store.stream(args.id) is None:
            raise InvalidCommand(f"no order {args.id!r} in the store")
        cmd = ORDER_COMMANDS[args.action](args)
    result = w.commands.execute(cmd, expected_version=args.expected_version)
    if args.json:
        print_json(result.as_json())
    elif args.action == "create":
        print(result.stream_id)
    else:
        summary = svc.queries.order(result.stream_id)
        status = f", {summary.status}, total {format_money(summary.total_cents, summary.currency)}"\
            if summary else ""
        print(f"{result.stream_id} is at version {result.version}{status}")
    return EXIT_OK


@command("projections")
def cmd_projections(svc: Services, args: argparse.Namespace) -> int:
    if args.action == "rebuild":
        w = writable(svc, "projection rebuild")
        n = w.projector.rebuild()
        print(f"rebuilt {len(w.projector.projections)} read models from {n} events")
        return EXIT_OK
    status = [] if svc.projector is None else svc.projector.status()
    if args.json:
        print_json([{"name": s.name, "checkpoint": s.checkpoint, "head": s.head, "lag": s.lag}
                    for s in status])
    else:
        print_table(["projection", "checkpoint", "head", "lag"],
                    [(s.name, s.checkpoint, s.head, s.lag) for s in status], right=[1, 2, 3])
    return EXIT_OK
