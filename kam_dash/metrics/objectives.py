"""Account-plan objectives: each one's live value for its plan year to date, progress and status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kam_dash import scope as scopes
from kam_dash.engine import Engine
from kam_dash.export import export_metric
from kam_dash.filters import Filters
from kam_dash.metrics import account, inventory, plan, promotions, share
from kam_dash.state import plans


@dataclass(frozen=True)
class Measure:
    label: str
    kind: str  # "total": adds up over the year's weeks; "rate": a ratio, read as it stands
    higher_is_better: bool
    unit: str  # "money" or "fraction"
    band: float = 0.0  # rates: how far short of the target still counts as at risk (in the measure's unit)


# The measure names live in kam_dash.state.plans (the data contract); how each is read lives here.
MEASURE_INFO = {
    "net_sales": Measure("Net sales", "total", True, "money"),
    "sell_out_value": Measure("Sell-out value", "total", True, "money"),
    "lost_sales": Measure("Lost sales (value)", "total", False, "money"),
    "yoy_growth": Measure("Growth vs last year", "rate", True, "fraction", 0.02),
    "plan_attainment": Measure("Plan attainment", "rate", True, "fraction", 0.05),
    "gross_margin": Measure("Gross margin", "rate", True, "fraction", 0.02),
    "in_stock_rate": Measure("In-stock rate", "rate", True, "fraction", 0.02),
    "promo_roi": Measure("Promotion ROI", "rate", True, "fraction", 0.10),
}
assert set(MEASURE_INFO) == set(plans.MEASURES), "every allowed measure needs a way to read it"
AT_RISK_SHARE = 0.90  # totals: at least 90% of the pro-rata target is at risk, below is off track
OVER_ALLOWANCE = 1.10  # lost sales: up to 110% of the pro-rata allowance is at risk
STATUSES = ("on track", "at risk", "off track", "no data")

DEFINITIONS = {
    "Objective measures": "An objective is bound to one live metric, read for its retailer over its plan year "
    "to date (the calendar year's weeks whose Monday falls in the year, up to the latest loaded week), with "
    "the same definitions as the pages: net_sales (Net sales), sell_out_value (Sell-out value), yoy_growth "
    "(Growth vs last year), plan_attainment (Plan attainment: net sales / target of the same weeks), "
    "gross_margin (Gross margin), in_stock_rate (In-stock rate), lost_sales (Lost sales, value), promo_roi "
    "(ROI of a group: the retailer's promotions touching the year, pre_period baseline). Numeric distribution "
    "is not offered yet: it needs store-level sell-out, which the data model does not hold.",
    "Share of the plan year elapsed": "The plan year's weeks (Mondays in the year) up to and including the "
    "latest loaded week, divided by all its weeks (52 or 53); 1 for a past year, 0 before the year starts.",
    "Objective progress": "Actual value divided by the target value (0.5 = half-way). Empty when either is "
    "missing or the target is not above 0.",
    "Objective status": "No data when the measure has no value for the retailer and year yet. Totals where "
    "more is better (net_sales, sell_out_value) are judged against the pro-rata target, target x share of the "
    f"year elapsed: on track at or above it, at risk from {AT_RISK_SHARE:.0%} of it, off track below. Lost "
    "sales (less is better) against the pro-rata allowance: on track at or below it, at risk up to "
    f"{OVER_ALLOWANCE:.0%} of it (and not above the full-year target), off track beyond. Rates (yoy_growth, "
    "plan_attainment, gross_margin, in_stock_rate, promo_roi) are compared with the target as they stand: on "
    "track at or above it, at risk when short by at most the measure's band (2 points for growth, margin and "
    "in-stock rate, 5 points for attainment, 0.10 for ROI), off track beyond.",
    "Overdue initiative": "An initiative not done or dropped (planned, in progress or blocked) whose due date "
    "is before today. Overdue and blocked initiatives are account-health reasons.",
    "Stale decision maker": "A contact of influence decision_maker whose last contact is more than "
    f"{plans.DEFAULT_STALE_CONTACT_DAYS} days before today (the setting KAM_DASH_STALE_CONTACT_DAYS), or who "
    "has no contact date: an account-health reason.",
}

PROGRESS_COLUMNS = ["actual_value", "progress", "expected_progress", "status", "status_reason"]
EXPORT_COLUMNS = ["objective_id", "retailer_id", "year", "title", "measure", "target_value", "actual_value",
                  "progress", "due_date", "status"]


def year_filters(year: int, retailer_ids) -> Filters:
    return Filters(period="year", year=int(year), retailers=tuple(retailer_ids))


def elapsed_share(year: int, latest_week: dt.date | None) -> float:
    """See DEFINITIONS["Share of the plan year elapsed"]."""
    weeks = plan.year_weeks(int(year))
    if latest_week is None:
        return 0.0
    return sum(w <= latest_week for w in weeks) / len(weeks)


def actuals(engine: Engine, filters: Filters, measures: tuple[str, ...] = plans.MEASURES) -> pd.DataFrame:
    """The measures' values per retailer in the filters (a plan year through year_filters): columns
    retailer_id, measure, actual_value. Each from the public metric function the pages use."""
    frames = []

    def take(frame: pd.DataFrame, column: str, measure: str) -> None:
        if measure in measures and len(frame):
            frames.append(pd.DataFrame({"retailer_id": frame["retailer_id"].astype(str), "measure": measure,
                                        "actual_value": pd.to_numeric(frame[column], errors="coerce")}))

    if {"net_sales", "sell_out_value", "yoy_growth", "plan_attainment"} & set(measures):
        shares = share.revenue_share(engine, filters)
        for column, measure in (("net_sales", "net_sales"), ("sell_out_value", "sell_out_value"),
                                ("yoy_growth", "yoy_growth"), ("attainment", "plan_attainment")):
            take(shares, column, measure)
    if "gross_margin" in measures:
        take(account.margin_and_ytd(engine, filters), "margin_pct", "gross_margin")
    if {"in_stock_rate", "lost_sales"} & set(measures) and engine.has("inventory"):
        availability = inventory.availability_by_retailer(engine, filters)
        take(availability, "in_stock_rate", "in_stock_rate")
        take(availability, "lost_value", "lost_sales")
    if "promo_roi" in measures and engine.has("promotions"):
        by_retailer = promotions.roi_summary(promotions.promo_lift(engine, filters), "retailer_id")
        take(by_retailer.rename(columns={"group": "retailer_id"}), "roi", "promo_roi")
    if not frames:
        return pd.DataFrame({"retailer_id": pd.Series(dtype=str), "measure": pd.Series(dtype=str),
                             "actual_value": pd.Series(dtype=float)})
    out = pd.concat(frames, ignore_index=True)
    return out[out["retailer_id"].isin(filters.retailers)] if filters.retailers else out


def judge(measure: str, actual, target, elapsed: float) -> tuple[str, str]:
    """One objective's status and the reason in words (see DEFINITIONS["Objective status"])."""
    info = MEASURE_INFO[measure]
    if actual is None or pd.isna(actual):
        return "no data", f"no {info.label.lower()} for this retailer and year yet"

    def shown(v) -> str:
        from kam_dash import fmt

        return fmt.money(v) if info.unit == "money" else fmt.pct(v, 1)

    if info.kind == "total":
        due = target * elapsed
        if info.higher_is_better:
            if actual >= due:
                return "on track", f"{shown(actual)} at or above the {shown(due)} due by now ({elapsed:.0%} of the year)"
            if actual >= AT_RISK_SHARE * due:
                return "at risk", f"{shown(actual)} is {actual / due:.0%} of the {shown(due)} due by now"
            return "off track", f"{shown(actual)} is {actual / due:.0%} of the {shown(due)} due by now"
        if actual <= due:
            return "on track", f"{shown(actual)} within the {shown(due)} allowed by now ({elapsed:.0%} of the year)"
        if actual <= OVER_ALLOWANCE * due and actual <= target:
            return "at risk", f"{shown(actual)} is over the {shown(due)} allowed by now, by at most 10%"
        return "off track", f"{shown(actual)} is well over the {shown(due)} allowed by now"
    if actual >= target:
        return "on track", f"{shown(actual)} at or above the target of {shown(target)}"
    if actual >= target - info.band - 1e-12:
        return "at risk", f"{shown(actual)} is short of the {shown(target)} target by at most {shown(info.band)}"
    return "off track", f"{shown(actual)} is short of the {shown(target)} target by more than {shown(info.band)}"


def with_progress(objectives: pd.DataFrame, values: pd.DataFrame, latest_week: dt.date | None) -> pd.DataFrame:
    """The objectives with PROGRESS_COLUMNS added, from actuals() of their retailers and years
    (values needs columns retailer_id, year, measure, actual_value)."""
    out = objectives.copy()
    if out.empty:
        for c in PROGRESS_COLUMNS:
            out[c] = pd.Series(dtype=float if c in ("actual_value", "progress", "expected_progress") else str)
        return out
    out = out.merge(values, on=["retailer_id", "year", "measure"], how="left")
    target = out["target_value"].astype(float)
    out["progress"] = out["actual_value"] / target.where(target > 0)
    kinds = out["measure"].map(lambda m: MEASURE_INFO[m].kind)
    elapsed = out["year"].map(lambda y: elapsed_share(y, latest_week))
    out["expected_progress"] = np.where(kinds == "total", elapsed, 1.0)
    judged = [judge(m, a, t, e) for m, a, t, e in zip(out["measure"], out["actual_value"], target, elapsed)]
    out["status"] = [s for s, _ in judged]
    out["status_reason"] = [r for _, r in judged]
    return out


def plan_progress(engine: Engine, objectives: pd.DataFrame, compute=None) -> pd.DataFrame:
    """Progress of any set of objectives (records of kam_dash.state.plans): one actuals() call per plan year
    over the retailers that have objectives that year. `compute` runs a metric function (the pages pass
    ui.compute, which caches); default: call it directly."""
    compute = compute or (lambda fn, filters, **kw: fn(engine, filters, **kw))
    parts = []
    for year, group in objectives.groupby("year"):
        measures = tuple(m for m in plans.MEASURES if m in set(group["measure"]))
        values = compute(actuals, year_filters(year, sorted(set(group["retailer_id"]))), measures=measures)
        parts.append(values.assign(year=int(year)))
    values = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["retailer_id", "measure", "actual_value", "year"])
    return with_progress(objectives, values, scopes.latest_week(engine))


@export_metric("account-plan", columns=EXPORT_COLUMNS, options=("state", "year"), examples=())
def export_account_plan(engine: Engine, filters: Filters, state: str | Path | None = None,
                        year: int | None = None) -> pd.DataFrame:
    """The objectives in the state database (of the filters' retailers, and --year) with their live progress.

    No examples for the Spark parity run: it needs a state database (tests/parity has its own test)."""
    from kam_dash.state.store import Store, state_path_for

    store = Store(state or state_path_for(engine.location), create=False)
    objectives = plans.records(store, "objectives", year=year)
    if filters.retailers:
        objectives = objectives[objectives["retailer_id"].isin(filters.retailers)]
    return plan_progress(engine, objectives)[EXPORT_COLUMNS]
