"""Plan targets: spreading monthly targets over weeks, and attainment.

The landing estimate and the plan-tracking page build on these.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kam_dash.engine import Engine
from kam_dash.scope import Scope

DEFINITIONS = {
    "Target (period)": (
        "A monthly target spreads evenly over the weeks whose Monday falls in that month, so the target of any "
        "set of weeks is the sum of its weeks' parts. With no category filter the all-category target row "
        "(empty category) is used; where a retailer has no such row for a month, its category rows are summed. "
        "With a category filter, the rows of those categories are summed. Targets are set by retailer and "
        "category, so under a brand filter no target is shown."
    ),
    "Plan attainment": "Net sales divided by the target of the same weeks (1.0 = 100% of plan). Empty where the "
    "target is missing or zero.",
}


def weeks_of_month(month: dt.date) -> list[dt.date]:
    """The Mondays that fall in a month."""
    first = month.replace(day=1)
    day = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    out = []
    while day.month == first.month:
        out.append(day)
        day += dt.timedelta(weeks=1)
    return out


def weekly_targets(engine: Engine, scope: Scope, start: dt.date, end: dt.date,
                   measure: str = "net_sales_target") -> pd.DataFrame:
    """Targets spread to weeks: columns retailer_id, week, target, for weeks with Monday in start..end.

    Empty when targets are not loaded or a brand filter is in force (targets have no brand).
    """
    empty = pd.DataFrame({"retailer_id": pd.Series(dtype=str), "week": pd.Series(dtype="datetime64[ns]"),
                          "target": pd.Series(dtype=float)})
    if not engine.has("targets") or scope.brands:
        return empty
    if measure not in ("net_sales_target", "sell_out_target", "units_target"):
        raise ValueError(f"unknown target measure {measure!r}")
    t = engine.table("targets")
    first_month = start.replace(day=1)
    t = t.filter(t.month >= first_month, t.month <= end)
    if scope.retailer_ids is not None:
        t = t.filter(t.retailer_id.isin(scope.retailer_ids)) if scope.retailer_ids else t.filter(False)
    cat = t.category.fill_null("")
    if scope.categories:
        t = t.filter(cat.isin(scope.categories))
    t = t.select("retailer_id", "month", category=cat, value=t[measure])
    rows = engine.execute(t)
    if rows.empty:
        return empty
    rows["month"] = pd.to_datetime(rows["month"]).dt.date
    if not scope.categories:
        # The all-category row where there is one; else the sum of the category rows.
        has_total = rows[rows["category"] == ""][["retailer_id", "month"]].drop_duplicates()
        has_total["_total"] = True
        rows = rows.merge(has_total, on=["retailer_id", "month"], how="left")
        rows = rows[(rows["_total"].fillna(False) & (rows["category"] == "")) | rows["_total"].isna()]
    monthly = rows.groupby(["retailer_id", "month"], as_index=False)["value"].sum(min_count=1)
    out = []
    for r in monthly.itertuples(index=False):
        wks = weeks_of_month(r.month)
        for w in wks:
            if start <= w <= end:
                out.append((r.retailer_id, w, r.value / len(wks)))
    if not out:
        return empty
    frame = pd.DataFrame(out, columns=["retailer_id", "week", "target"])
    frame["week"] = pd.to_datetime(frame["week"])
    return frame


def target_by_retailer(engine: Engine, scope: Scope, start: dt.date | None = None,
                       end: dt.date | None = None) -> pd.DataFrame:
    """The target of the period's weeks per retailer: columns retailer_id, target."""
    start = scope.period.start if start is None else start
    end = scope.period.end if end is None else end
    weekly = weekly_targets(engine, scope, start, end)
    return weekly.groupby("retailer_id", as_index=False)["target"].sum()


def attainment(actual: float | None, target: float | None) -> float | None:
    """Actual divided by target; None where either is missing or the target is not positive."""
    if actual is None or target is None or pd.isna(actual) or pd.isna(target) or target <= 0:
        return None
    return float(actual) / float(target)
