"""Commands that change the store: the demo seed, order commands, read-model rebuilds."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..domain.errors import InvalidCommand
from ..domain.money import format_money
from ..output import print_json, print_table
from .common import command, end_progress, stderr_progress, writable
from .exits import EXIT_OK

if TYPE_CHECKING:
    from ..bootstrap import Services


@command("seed")
def cmd_seed(svc: Services, args: argparse.Namespace) -> int:
    from ..application.seed import seed as run_seed
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


def order_command(a: argparse.Namespace) -> Any:
    """The domain command an ``order ACTION`` runs (the domain's commands load only when one
    runs)."""
    from ..domain import commands as c

    if a.action == "create":
        from ..application.handlers import new_order_id
        return c.CreateOrder(new_order_id(), a.customer, a.currency)
    on_order: dict[str, Callable[[], Any]] = {
        "add-line": lambda: c.AddLine(a.id, a.sku, a.qty, a.price),
        "remove-line": lambda: c.RemoveLine(a.id, a.sku),
        "place": lambda: c.PlaceOrder(a.id),
        "pay": lambda: c.ReceivePayment(a.id, a.amount, a.method),
        "ship": lambda: c.ShipOrder(a.id, a.carrier, a.tracking),
        "deliver": lambda: c.DeliverOrder(a.id),
        "cancel": lambda: c.CancelOrder(a.id, a.reason),
        "refund": lambda: c.IssueRefund(a.id, a.amount, a.reason),
    }
    return on_order[a.action]()


@command("order")
def cmd_order(svc: Services, args: argparse.Namespace) -> int:
    w = writable(svc, f"order {args.action}")
    if args.action != "create" and svc.store.stream(args.id) is None:
        raise InvalidCommand(f"no order {args.id!r} in the store")
    cmd = order_command(args)
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
