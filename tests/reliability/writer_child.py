"""A writer process for the attack tests: runs order commands and reports each acknowledgement.

``python -m tests.reliability.writer_child TARGET NAME SEED SECONDS [ORDERS]``

Every acknowledged command is printed as one JSON line (flushed) *after* ``execute`` returned,
so the parent knows exactly which events the store promised to keep. With ``ORDERS`` the
process drives those existing orders with expected versions (conflicts are reported as
``{"conflict": ...}`` lines); without, it creates its own orders.
"""

from __future__ import annotations

import json
import random
import sys
import time

from esaudit.bootstrap import bootstrap
from esaudit.domain import commands as c
from esaudit.domain import order
from store import ConcurrencyError


def pick(rng: random.Random, oid: str, state: dict | None) -> object | None:
    actions = order.available_actions(state)
    if state is None:
        return c.CreateOrder(oid, "Crash Test")
    if "add_line" in actions and rng.random() < 0.85:
        return c.AddLine(oid, f"SKU-{rng.randint(1, 6)}", rng.randint(1, 3), rng.randint(1, 900))
    for name, make in (
        ("place", lambda: c.PlaceOrder(oid)),
        ("pay", lambda: c.ReceivePayment(oid, max(1, order.owed_cents(state) // 2))),
        ("ship", lambda: c.ShipOrder(oid, "DHL", f"T{rng.randint(1, 999)}")),
        ("deliver", lambda: c.DeliverOrder(oid)),
        ("refund", lambda: c.IssueRefund(oid, 1, "goodwill")),
    ):
        if name in actions:
            return make()
    return None


def main() -> int:
    target, name, seed, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    shared = sys.argv[5].split(",") if len(sys.argv) > 5 else None
    rng = random.Random(seed)
    svc = bootstrap(target, actor=name, snapshot_every=5)
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        oid = rng.choice(shared) if shared else f"ord-{name}-{n // 8}"
        state, version, _ = svc.commands.load(oid)
        cmd = pick(rng, oid, state)
        if cmd is None:
            if not shared:
                n += 8 - n % 8
            continue
        if shared:
            time.sleep(rng.random() * 0.002)  # widen the load-to-append window
        try:
            result = svc.commands.execute(cmd, expected_version=version)  # type: ignore[arg-type]
        except ConcurrencyError as e:
            print(json.dumps({"conflict": oid, "expected": version, "actual": e.actual}),
                  flush=True)
            continue
        print(json.dumps({"stream_id": result.stream_id, "version": result.version,
                          "types": [e.type for e in result.events],
                          "hashes": [e.hash for e in result.events]}), flush=True)
        n += 1
    svc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
