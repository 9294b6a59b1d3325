"""A writer process for the durability tests: `python -m tests.state.writer STATE MODE NAME [N]`.

loop: saves objectives O0..O19 round and round (each save: the record and its history row, in one
    transaction), printing the save's number after each commit, until killed.
increment: after both writers are ready, N times: read the shared objective and save its target + 1 with the
    version read (retrying when the other writer got there first); then prints the retries.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from kam_dash.state import plans
from kam_dash.state.store import StaleEdit, Store

SLOTS = 20


def objective(oid: str, n: int) -> dict:
    # every field of one save carries the same n, so a half-written record would show
    return dict(objective_id=oid, retailer_id="R1", year=2026, title=f"t{n}", measure="net_sales",
                target_value=float(n + 1), due_date="2026-12-31", owner=f"o{n}")


def loop(store: Store, name: str) -> None:
    n = 0
    while True:
        oid = f"O{n % SLOTS}"
        current = plans.get(store, "objectives", oid)
        plans.save(store, "objectives", objective(oid, n), name, None if current is None else current["version"])
        print(n, flush=True)
        n += 1


def increment(store: Store, name: str, times: int) -> None:
    ready = Path(f"{store.path}.{name}.ready")
    ready.touch()
    while len(list(store.path.parent.glob(f"{store.path.name}.*.ready"))) < 2:
        time.sleep(0.01)  # a start barrier, so the two writers overlap
    retries = 0
    for _ in range(times):
        while True:
            current = plans.get(store, "objectives", "SHARED")
            try:
                plans.save(store, "objectives", {**current, "target_value": current["target_value"] + 1}, name,
                           current["version"])
                break
            except StaleEdit:
                retries += 1
    print(retries, flush=True)


if __name__ == "__main__":
    path, mode, who = sys.argv[1:4]
    if mode == "loop":
        loop(Store(path), who)
    else:
        increment(Store(path), who, int(sys.argv[4]))
