"""A plausible account plan for the demo's top accounts, so the Account plan page is not empty on first run.

Targets are set from each account's own numbers (some ahead of them, some behind), so the statuses vary;
a few initiatives are overdue or blocked and one decision maker has gone quiet, so the health reasons show.
"""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd

from kam_dash import scope
from kam_dash.engine import Engine
from kam_dash.state import plans
from kam_dash.state.store import Store

TOP_ACCOUNTS = 4
ACTOR = "demo"

# (title, function) per measure; the first initiatives of each objective
INITIATIVES = {
    "net_sales": [("Secure two extra end-cap slots for the core range", "sales"),
                  ("Joint business plan review with the buyer", "sales"),
                  ("Launch the new multipack in all stores", "marketing")],
    "in_stock_rate": [("Weekly forecast call with the retailer's replenishment team", "supply_chain"),
                      ("Raise the safety stock of the top 20 SKUs at the DC", "supply_chain")],
    "promo_roi": [("Drop the deepest discount mechanic from the calendar", "finance"),
                  ("Post-event review of every feature within two weeks", "category")],
    "gross_margin": [("Move the mix towards the premium range", "category"),
                     ("Renegotiate the listing fees in the annual terms", "finance")],
}
STATUSES_CYCLE = ["in_progress", "done", "planned", "blocked", "in_progress", "done"]
PEOPLE = ["Alex Morgan", "Sam Patel", "Jordan Lee", "Chris Novak", "Taylor Reed", "Jamie Cruz", "Robin Shah",
          "Casey Berg", "Morgan Diaz", "Drew Kim", "Avery Holt", "Riley Fox"]
ROLES = [("Head of buying", "decision_maker"), ("Category manager", "influencer"),
         ("Supply chain planner", "user"), ("Buyer's assistant", "gatekeeper")]


def _round(value: float, digits: int = -3) -> float:
    return float(round(value, digits))


def build(engine: Engine, seed: int = 7, accounts: int = TOP_ACCOUNTS) -> dict[str, list[dict]]:
    """The demo plan's records per type (cleaned values, ready to save)."""
    from kam_dash.metrics import objectives, share
    from kam_dash.filters import Filters

    latest = scope.latest_week(engine)
    if latest is None:
        return {name: [] for name in plans.RECORD_TYPES}
    rng = random.Random(seed)
    year = latest.year
    top = share.revenue_share(engine, Filters())["retailer_id"].head(accounts).tolist()
    values = objectives.actuals(engine, objectives.year_filters(year, top))
    value = {(r.retailer_id, r.measure): r.actual_value for r in values.itertuples()}
    elapsed = max(objectives.elapsed_share(year, latest), 1 / 52)
    kams = dict(zip(scope.retailers(engine)["retailer_id"], scope.retailers(engine)["kam"]))
    promos = (engine.execute(engine.table("promotions").select("promo_id", "retailer_id", "start_date"))
              if engine.has("promotions") else pd.DataFrame(columns=["promo_id", "retailer_id", "start_date"]))
    out: dict[str, list[dict]] = {name: [] for name in plans.RECORD_TYPES}
    people = iter(PEOPLE * 4)
    for n, rid in enumerate(top):
        kam = kams.get(rid) or "Key account manager"
        goals = []
        ns = value.get((rid, "net_sales"))
        if ns is not None and pd.notna(ns) and ns > 0:
            # a full-year target a little above or below the run rate, so statuses differ between accounts
            goals.append(("net_sales", f"Grow net sales to {_round(ns / elapsed * (1.06 - 0.05 * (n % 3)), -4):,.0f}",
                          _round(ns / elapsed * (1.06 - 0.05 * (n % 3)), -4)))
        isr = value.get((rid, "in_stock_rate"))
        if isr is not None and pd.notna(isr):
            goals.append(("in_stock_rate", "Keep shelves full: in-stock rate at 98%", 0.98))
        roi = value.get((rid, "promo_roi"))
        if roi is not None and pd.notna(roi):
            target = max(round(roi + 0.05, 2), -0.5)
            goals.append(("promo_roi", f"Improve promotion ROI to {target:.0%}", target))
        gm = value.get((rid, "gross_margin"))
        if gm is not None and pd.notna(gm):
            goals.append(("gross_margin", f"Lift gross margin to {round(gm + 0.01, 2):.0%}", round(gm + 0.01, 2)))
        for g, (measure, title, target) in enumerate(goals, start=1):
            oid = f"OBJ-{rid}-{year}-{g}"
            out["objectives"].append({"objective_id": oid, "retailer_id": rid, "year": year, "title": title,
                                      "measure": measure, "target_value": float(target),
                                      "due_date": f"{year}-12-31", "owner": kam})
            retailer_promos = promos[(promos["retailer_id"] == rid)
                                     & (pd.to_datetime(promos["start_date"]).dt.year == year)]["promo_id"].tolist()
            for i, (title_i, function) in enumerate(INITIATIVES[measure], start=1):
                status = STATUSES_CYCLE[(n + g + i) % len(STATUSES_CYCLE)]
                due = latest + dt.timedelta(weeks=rng.randint(-4, 20))
                out["initiatives"].append({
                    "initiative_id": f"INI-{rid}-{year}-{g}{i}", "objective_id": oid, "title": title_i,
                    "owner": kam if function == "sales" else next(people), "function": function,
                    "status": status, "due_date": due.isoformat(),
                    "promo_id": retailer_promos[0] if measure == "promo_roi" and i == 2 and retailer_promos
                    else None})
        for c, (role, influence) in enumerate(ROLES[: 3 + n % 2], start=1):
            # the second account's decision maker has not been met for a while
            days = rng.randint(75, 110) if (n == 1 and influence == "decision_maker") else rng.randint(3, 45)
            out["contacts"].append({"contact_id": f"CON-{rid}-{c}", "retailer_id": rid, "name": next(people),
                                    "role": role, "influence": influence, "relationship_owner": kam,
                                    "last_contact": (latest - dt.timedelta(days=days)).isoformat()})
        for m, weeks_ago in enumerate((2, 9), start=1):
            out["meetings"].append({
                "meeting_id": f"MTG-{rid}-{m}", "retailer_id": rid,
                "date": (latest - dt.timedelta(weeks=weeks_ago)).isoformat(),
                "attendees": f"{kam}, {out['contacts'][-1]['name']}",
                "notes": "Reviewed year-to-date sell-out against plan and the promotion calendar.",
                "decisions": "Agreed to keep the core range on promotion in weeks with a feature."
                if m == 1 else "Agreed a weekly availability call.",
                "next_steps": "- Send the revised promotion calendar\n- Share the out-of-stock report by SKU"
                if m == 1 else "- Propose two new listings for the spring reset"})
    return out


def write(engine: Engine, store: Store, seed: int = 7) -> dict[str, int]:
    """Save the demo plan (replacing earlier demo records by id, keeping anything else); rows per type."""
    built = build(engine, seed)
    with store.transaction() as con:
        for name, rows in built.items():
            spec = plans.RECORD_TYPES[name]
            for values in rows:
                record, errors = plans.validate(name, values, plans.Refs())
                assert not errors, errors  # the generator's own output: a failure is a bug here
                row = con.execute(f'SELECT version FROM "{name}" WHERE "{spec.key}" = ?',
                                  (record[spec.key],)).fetchone()
                plans.write_record(con, name, record, ACTOR, None if row is None else row[0])
    return {name: len(rows) for name, rows in built.items()}
