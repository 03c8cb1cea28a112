"""A deterministic demo history: products and orders walking realistic lifecycles.

Same ``seed`` and ``until``, same ids, same events, same hashes. ``until`` defaults to today's
midnight (UTC), so a seed is reproducible all day and anyone can pin it with ``--until``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from store import ConcurrencyError

from ..domain import commands as c
from ..domain import product
from ..domain.errors import InvalidCommand
from ..domain.limits import shown
from .handlers import CommandHandler
from .jobs import Progress

CUSTOMERS = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Edsger Dijkstra",
             "Barbara Liskov", "Donald Knuth", "Margaret Hamilton", "Ken Thompson", "Frances Allen",
             "Tony Hoare", "Radia Perlman", "John Backus", "Hedy Lamarr", "Niklaus Wirth",
             "Annie Easley", "Dennis Ritchie", "Shafi Goldwasser", "Leslie Lamport", "Joan Clarke")
PRODUCTS = (("SKU-1001", "Mechanical keyboard", 8950), ("SKU-1002", "Wireless mouse", 2490),
            ("SKU-1003", "27-inch monitor", 27900), ("SKU-1004", "USB-C dock", 13450),
            ("SKU-1005", "Noise-cancelling headset", 19900), ("SKU-1006", "Laptop stand", 3990),
            ("SKU-1007", "Webcam 4K", 11900), ("SKU-1008", "Desk lamp", 4590),
            ("SKU-1009", "Ergonomic chair", 38900), ("SKU-1010", "Cable kit", 1290),
            ("SKU-1011", "Portable SSD 1 TB", 10990), ("SKU-1012", "Standing desk", 54900))
CARRIERS = ("DHL", "UPS", "PostNL", "DPD", "GLS")
METHODS = ("card", "card", "card", "bank_transfer", "paypal")
STAFF = ("support:alice", "support:bob", "warehouse:carol", "payments:dave")
SCENARIOS = (("delivered", 34), ("delivered_refund", 6), ("shipped", 8), ("paid", 8),
             ("partial", 9), ("pending", 6), ("draft", 9), ("cancel_draft", 5),
             ("cancel_pending", 4), ("cancel_paid", 6), ("concurrent", 5))


@dataclass(frozen=True, slots=True)
class SeedResult:
    orders: int
    products: int
    commands: int
    conflicts: int
    order_ids: list[str]


class _Step(NamedTuple):  # a named tuple: 700k of them are built for 100k orders
    at: datetime
    seq: int
    command: object
    actor: str
    stale_by: int = 0  # > 0: replays a user who looked at an older version (a conflict)


ORDER_SPAN = timedelta(days=7)
"""Longer than any order's steps take from its first (a refunded delivery: 9,200 minutes)."""


def default_until() -> datetime:
    now = datetime.now(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


def plan(orders: int, seed: int, days: int, until: datetime) -> tuple[list[_Step], list[str]]:
    """Every command of the demo, in time order; pure, so it can be tested without a store."""
    rng = random.Random(seed)
    try:  # every step's instant must be a UTC datetime (years 1 to 9999)
        start = until - timedelta(days=days)
        start.astimezone(UTC), (until + ORDER_SPAN).astimezone(UTC)
    except OverflowError:
        raise InvalidCommand(f"a seed over {shown(days)} day(s) until {until.isoformat()}, its "
                             f"last orders running up to a week beyond, does not fit in the "
                             f"years 1 to 9999") from None
    span = (until - start).total_seconds()
    steps: list[_Step] = []
    seq = 0

    def add(at: datetime, cmd: object, actor: str, stale_by: int = 0) -> None:
        nonlocal seq
        seq += 1
        steps.append(_Step(at, seq, cmd, actor, stale_by))

    prices = {sku: price for sku, _, price in PRODUCTS}
    for sku, name, price in PRODUCTS:
        add(start, c.RegisterProduct(sku, name, price), "catalogue:admin")
    for _ in range(max(1, days // 10)):
        sku = rng.choice(PRODUCTS)[0]
        prices[sku] = max(99, int(prices[sku] * rng.uniform(0.85, 1.15)))
        add(start + timedelta(seconds=rng.uniform(0, span)), c.ChangePrice(sku, prices[sku]),
            "catalogue:admin")

    names, weights = zip(*SCENARIOS, strict=True)
    order_ids = []
    for _ in range(orders):
        oid = f"ord-{rng.getrandbits(48):012x}"
        order_ids.append(oid)
        customer = rng.choice(CUSTOMERS)
        scenario = rng.choices(names, weights)[0]
        clock = _Clock(start + timedelta(seconds=rng.uniform(0, span * 0.8)), rng)
        later = clock.advance

        currency = "EUR" if rng.random() < 0.85 else "USD"
        add(clock.now, c.CreateOrder(oid, customer, currency), customer)
        lines: dict[str, int] = {}
        for _ in range(rng.randint(1, 4)):
            sku, _, _ = rng.choice(PRODUCTS)
            qty = rng.randint(1, 3)
            add(later(30), c.AddLine(oid, sku, qty), customer)
            lines[sku] = lines.get(sku, 0) + qty
        if len(lines) > 1 and rng.random() < 0.25:
            sku = rng.choice(sorted(lines))
            add(later(20), c.RemoveLine(oid, sku), customer)
            del lines[sku]
        if scenario == "concurrent":
            # A support agent edits a draft the customer is still changing: the agent's second
            # command was decided on a stale version and is refused, then redone after reload.
            sku = rng.choice(PRODUCTS)[0]
            add(later(10), c.AddLine(oid, sku, 1), customer)
            add(later(1), c.AddLine(oid, sku, 1), rng.choice(STAFF), stale_by=1)
            add(later(5), c.AddLine(oid, sku, 1), rng.choice(STAFF))
            lines[sku] = lines.get(sku, 0) + 2
        if scenario in ("draft", "cancel_draft"):
            if scenario == "cancel_draft":
                add(later(600), c.CancelOrder(oid, "customer changed their mind"), customer)
            continue
        add(later(60), c.PlaceOrder(oid), customer)
        # Amounts are resolved when the step runs (prices change), so payments say "a fraction".
        if scenario == "pending":
            continue
        if scenario == "cancel_pending":
            add(later(1440), c.CancelOrder(oid, "payment not received"), "support:alice")
            continue
        if scenario == "partial":
            add(later(120), _Pay(oid, fraction=rng.uniform(0.2, 0.8)), "payments:dave")
            continue
        if rng.random() < 0.3:
            add(later(120), _Pay(oid, fraction=rng.uniform(0.3, 0.7)), "payments:dave")
        add(later(240), _Pay(oid, fraction=1.0), "payments:dave")
        if scenario == "cancel_paid":
            add(later(720), c.CancelOrder(oid, "out of stock"), "support:bob")
            add(later(60), _Refund(oid, fraction=1.0, reason="order cancelled"), "payments:dave")
            continue
        if scenario == "paid":
            continue
        add(later(1440), c.ShipOrder(oid, rng.choice(CARRIERS),
                                     f"TRK{rng.getrandbits(40):010d}"), "warehouse:carol")
        if scenario == "shipped":
            continue
        add(later(4320), c.DeliverOrder(oid), "warehouse:carol")
        if scenario == "delivered_refund":
            add(later(2880), _Refund(oid, fraction=rng.choice((0.1, 0.25, 0.5)),
                                     reason="damaged in transit"), "support:bob")
    steps.sort(key=lambda s: (s.at, s.seq))
    return steps, order_ids


class _Clock:
    """One order's own time line: each step a random number of minutes after the last."""

    def __init__(self, now: datetime, rng: random.Random) -> None:
        self.now, self._rng = now, rng

    def advance(self, minutes: float) -> datetime:
        self.now += timedelta(minutes=self._rng.uniform(1, minutes))
        return self.now


@dataclass(frozen=True, slots=True)
class _Pay:
    order_id: str
    fraction: float


@dataclass(frozen=True, slots=True)
class _Refund:
    order_id: str
    fraction: float
    reason: str


BATCH = 5000  # commands per transaction: one fsync per batch, not per command


def seed(handler: CommandHandler, *, orders: int, seed: int = 1, days: int = 30,
         until: datetime | None = None,
         progress: Progress | None = None) -> SeedResult:
    """Run the planned commands; amounts depending on state are resolved as each step runs.

    Commands run through the real handler and domain, in store batches of ``BATCH`` commands
    with each order's state kept in memory between its commands (forgotten after its last).
    A seed interrupted midway leaves whole batches: every stored command is complete.
    """
    until = until or default_until()
    steps, order_ids = plan(orders, seed, days, until)
    rng = random.Random(seed ^ 0x5EED)
    runner = CommandHandler(handler.store, handler.projector, handler.queries,
                            snapshot_every=handler.snapshot_every,
                            new_id=lambda: f"{rng.getrandbits(128):032x}",
                            remember_states=True)
    last_step = {_stream_of(step.command): i for i, step in enumerate(steps)}
    conflicts = 0
    catalogue: dict[str, int] = {}
    with handler.store.bulk_appends():
        for start in range(0, len(steps), BATCH):
            with handler.store.batch():
                for i in range(start, min(start + BATCH, len(steps))):
                    conflicts += _run(runner, steps[i], catalogue, rng)
                    if last_step[_stream_of(steps[i].command)] == i:
                        runner.forget(_stream_of(steps[i].command))
            if progress:
                progress(min(start + BATCH, len(steps)), len(steps))
    handler.projector.catch_up()
    return SeedResult(orders, len(PRODUCTS), len(steps), conflicts, order_ids)


def _stream_of(cmd: object) -> str:
    order_id = getattr(cmd, "order_id", None)
    return order_id if order_id is not None else product.stream_id_for(cmd.sku)  # type: ignore[attr-defined]


def _run(runner: CommandHandler, step: _Step, catalogue: dict[str, int],
         rng: random.Random) -> int:
    """Run one planned step; 1 if it was refused as a (planned) concurrent edit, else 0."""
    cmd = step.command
    if isinstance(cmd, c.RegisterProduct | c.ChangePrice):
        catalogue[cmd.sku] = cmd.price_cents
    elif isinstance(cmd, c.AddLine):
        cmd = c.AddLine(cmd.order_id, cmd.sku, cmd.qty, catalogue[cmd.sku])
    elif isinstance(cmd, _Pay | _Refund):
        state, _, _ = runner.load(cmd.order_id)
        assert state is not None
        if isinstance(cmd, _Pay):
            owed = state["total_cents"] - state["paid_cents"]
            amount = owed if cmd.fraction >= 1 else max(1, int(owed * cmd.fraction))
            if amount <= 0:
                return 0
            cmd = c.ReceivePayment(cmd.order_id, amount, rng.choice(METHODS))
        else:
            left = state["paid_cents"] - state["refunded_cents"]
            amount = left if cmd.fraction >= 1 else max(1, int(left * cmd.fraction))
            if amount <= 0:
                return 0
            cmd = c.IssueRefund(cmd.order_id, amount, cmd.reason)
    expected = None
    if step.stale_by:
        _, version, _ = runner.load(cmd.order_id)  # type: ignore[attr-defined]
        expected = version - step.stale_by
    try:
        runner.execute(cmd, expected_version=expected, recorded_at=step.at,  # type: ignore[arg-type]
                       actor=step.actor, catch_up=False)
    except ConcurrencyError:
        return 1
    return 0
