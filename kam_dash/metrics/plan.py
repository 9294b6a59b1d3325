"""Plan targets: spreading monthly targets over weeks, and attainment.

The landing estimate and the plan-tracking page build on these.
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from kam_dash.engine import Engine
from kam_dash.filters import Filters
from kam_dash.scope import Scope, resolve

DEFINITIONS = {
    "Target (period)": (
        "A monthly target spreads evenly over the weeks whose Monday falls in that month, so the target of any "
        "set of weeks is the sum of its weeks' parts. With no category filter the all-category target row "
        "(empty category) is used; where a retailer has no such row for a month, its category rows are summed. "
        "With a category filter, the rows of those categories are summed. Targets are set by retailer and "
        "category, so under a brand filter no target is shown."
    ),
    "Landing estimate": (
        "Where the year will land: the year-to-date actual net sales plus, for each remaining week of the year "
        "(weeks after the latest loaded week), the actual of the week 52 weeks earlier times the YTD growth ratio "
        "(YTD actual / the same weeks' actual a year earlier). A remaining week without last-year data, or every "
        "remaining week when the growth ratio is undefined (no positive last-year YTD), counts its part of the "
        "target. For a past year the landing is the year's actual."
    ),
    "Landing gap": "Landing estimate minus the annual target (negative = short of plan).",
    "Required weekly run rate": "(Annual target - YTD actual) / remaining weeks of the year: the net sales needed "
    "each remaining week to reach the annual target. Empty when no week remains.",
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
                   measure: str = "net_sales_target", by_category: bool = False) -> pd.DataFrame:
    """Targets spread to weeks: columns retailer_id, [category,] week, target, for weeks with Monday in start..end.

    by_category: one row per category from the category rows (the all-category rows are left out).
    Empty when targets are not loaded or a brand filter is in force (targets have no brand).
    """
    keys = ["retailer_id", "category"] if by_category else ["retailer_id"]
    empty = pd.DataFrame({**{k: pd.Series(dtype=str) for k in keys}, "week": pd.Series(dtype="datetime64[ns]"),
                          "target": pd.Series(dtype=float)})
    if not engine.has("targets") or scope.brands:
        return empty
    if measure not in ("net_sales_target", "sell_out_target", "units_target"):
        raise ValueError(f"unknown target measure {measure!r}")
    t = engine.table("targets")
    first_month = start.replace(day=1)
    t = t.filter(t.month >= first_month, t.month <= end)
    if scope.retailer_ids is not None:
        t = t.filter(t.retailer_id.isin(scope.retailer_ids) if scope.retailer_ids else ibis.literal(False))
    cat = t.category.fill_null("")
    if scope.categories:
        t = t.filter(cat.isin(scope.categories))
    t = t.select("retailer_id", "month", category=cat, value=t[measure])
    rows = engine.execute(t)
    if rows.empty:
        return empty
    rows["month"] = pd.to_datetime(rows["month"]).dt.date
    if by_category:
        rows = rows[rows["category"] != ""]
    elif not scope.categories:
        # The all-category row where there is one; else the sum of the category rows.
        has_total = rows[rows["category"] == ""][["retailer_id", "month"]].drop_duplicates()
        has_total["_total"] = True
        rows = rows.merge(has_total, on=["retailer_id", "month"], how="left")
        rows = rows[(rows["_total"].fillna(False) & (rows["category"] == "")) | rows["_total"].isna()]
    monthly = rows.groupby([*keys, "month"], as_index=False)["value"].sum(min_count=1)
    out = []
    for r in monthly.itertuples(index=False):
        wks = weeks_of_month(r.month)
        for w in wks:
            if start <= w <= end:
                out.append((*(getattr(r, k) for k in keys), w, r.value / len(wks)))
    if not out:
        return empty
    frame = pd.DataFrame(out, columns=[*keys, "week", "target"])
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


def year_weeks(year: int) -> list[dt.date]:
    """The Mondays that fall in a calendar year (a week belongs to the year of its Monday)."""
    day = dt.date(year, 1, 1)
    day += dt.timedelta(days=(7 - day.weekday()) % 7)
    out = []
    while day.year == year:
        out.append(day)
        day += dt.timedelta(weeks=1)
    return out


def landing_weeks(engine: Engine, filters: Filters, year: int | None = None,
                  by_category: bool = False) -> pd.DataFrame:
    """Week by week of one calendar year, per retailer (and category): the actual net sales of the weeks up
    to the latest loaded week, and the projection of the remaining weeks (see "Landing estimate").

    Columns: retailer_id, [category,] week, actual, ly_actual, projected, basis ('actual' | 'last_year' |
    'target' | 'none'), target, growth_ratio.
    """
    keys = ["retailer_id", "category"] if by_category else ["retailer_id"]
    columns = [*keys, "week", "actual", "ly_actual", "projected", "basis", "target", "growth_ratio"]
    scope = resolve(engine, filters)
    if scope is None:
        return pd.DataFrame(columns=columns)
    latest = scope.period.latest_week
    year = year or latest.year
    weeks = year_weeks(year)
    cutoff = min(latest, weeks[-1])
    done = [w for w in weeks if w <= cutoff]
    remaining = [w for w in weeks if w > cutoff]
    first_ly = weeks[0] - dt.timedelta(weeks=52)

    if engine.has("sell_in"):
        t = scope.weekly(engine.table("sell_in"), start=first_ly, end=weeks[-1])
        if by_category:
            p = engine.table("products").select("sku_id", "category")
            t = t.join(p, "sku_id")
        weekly = engine.execute(t.group_by([*keys, "week"]).aggregate(net_sales=t.net_sales.sum()))
        weekly["week"] = pd.to_datetime(weekly["week"]).dt.date
    else:
        weekly = pd.DataFrame(columns=[*keys, "week", "net_sales"])
    targets = weekly_targets(engine, scope, weeks[0], weeks[-1], by_category=by_category)
    targets["week"] = pd.to_datetime(targets["week"]).dt.date

    key_frame = pd.concat([weekly[keys], targets[keys]]).drop_duplicates()
    if key_frame.empty:
        return pd.DataFrame(columns=columns)
    grid = key_frame.merge(pd.DataFrame({"week": weeks}), how="cross")
    actual = weekly.rename(columns={"net_sales": "actual"})
    ly = weekly.rename(columns={"net_sales": "ly_actual"})
    ly["week"] = ly["week"] + dt.timedelta(weeks=52)
    grid = grid.merge(actual, on=[*keys, "week"], how="left").merge(ly, on=[*keys, "week"], how="left")
    grid = grid.merge(targets, on=[*keys, "week"], how="left")
    grid.loc[grid["week"] > cutoff, "actual"] = np.nan

    done_mask = grid["week"] <= cutoff
    ytd = grid[done_mask].groupby(keys)[["actual", "ly_actual"]].sum(min_count=1)
    ratio = (ytd["actual"].fillna(0) / ytd["ly_actual"].where(ytd["ly_actual"] > 0)).rename("growth_ratio")
    grid = grid.merge(ratio.reset_index(), on=keys, how="left")

    grid["basis"] = "actual"
    grid["projected"] = np.nan
    future = ~done_mask
    from_ly = future & grid["ly_actual"].notna() & grid["growth_ratio"].notna()
    grid.loc[from_ly, "projected"] = grid.loc[from_ly, "ly_actual"] * grid.loc[from_ly, "growth_ratio"]
    grid.loc[from_ly, "basis"] = "last_year"
    from_target = future & ~from_ly & grid["target"].notna()
    grid.loc[from_target, "projected"] = grid.loc[from_target, "target"]
    grid.loc[from_target, "basis"] = "target"
    grid.loc[future & ~from_ly & ~from_target, "basis"] = "none"
    grid.loc[done_mask, "actual"] = grid.loc[done_mask, "actual"].fillna(0.0)
    grid["week"] = pd.to_datetime(grid["week"])
    return grid[columns].sort_values([*keys, "week"]).reset_index(drop=True)


def landing(engine: Engine, filters: Filters, year: int | None = None, by_category: bool = False) -> pd.DataFrame:
    """The year's landing per retailer (and category). See DEFINITIONS.

    Columns: retailer_id, [category,] ytd_actual, ytd_ly, growth_ratio, ytd_target, annual_target,
    remaining_weeks, landing_estimate, landing_gap, required_weekly_run_rate.
    """
    keys = ["retailer_id", "category"] if by_category else ["retailer_id"]
    weeks = landing_weeks(engine, filters, year, by_category)
    out_cols = [*keys, "ytd_actual", "ytd_ly", "growth_ratio", "ytd_target", "annual_target", "remaining_weeks",
                "landing_estimate", "landing_gap", "required_weekly_run_rate"]
    if weeks.empty:
        return pd.DataFrame(columns=out_cols)
    done = weeks["basis"] == "actual"
    g = weeks.assign(
        done_actual=weeks["actual"].where(done),
        done_ly=weeks["ly_actual"].where(done),
        done_target=weeks["target"].where(done),
        is_remaining=(~done).astype(int),
    ).groupby(keys)
    out = pd.DataFrame({
        "ytd_actual": g["done_actual"].sum(min_count=1),
        "ytd_ly": g["done_ly"].sum(min_count=1),
        "growth_ratio": g["growth_ratio"].first(),
        "ytd_target": g["done_target"].sum(min_count=1),
        "annual_target": g["target"].sum(min_count=1),
        "remaining_weeks": g["is_remaining"].sum(),
        "projected": g["projected"].sum(min_count=1),
    }).reset_index()
    out["ytd_actual"] = out["ytd_actual"].fillna(0.0)
    out["landing_estimate"] = out["ytd_actual"] + out["projected"].fillna(0.0)
    out["landing_gap"] = out["landing_estimate"] - out["annual_target"]
    out["required_weekly_run_rate"] = ((out["annual_target"] - out["ytd_actual"])
                                       / out["remaining_weeks"].where(out["remaining_weeks"] > 0))
    return out[out_cols]
