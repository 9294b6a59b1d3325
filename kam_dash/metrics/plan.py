"""Plan targets and tracking: monthly targets spread over weeks, attainment, the landing estimate, and the
plan-tracking page's numbers (month, quarter and year to date by retailer and by category)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd

from kam_dash.engine import Engine
from kam_dash.export import export_metric
from kam_dash.filters import Filters
from kam_dash.scope import Scope, resolve, retailers_in_scope

DEFINITIONS = {
    "Target (period)": (
        "A monthly target spreads evenly over the weeks whose Monday falls in that month, so the target of any "
        "set of weeks is the sum of its weeks' parts. With no category filter the all-category target row "
        "(empty category) is used; where a retailer has no such row for a month, its category rows are summed. "
        "With a category filter, the rows of those categories are summed. Targets are set by retailer and "
        "category, so under a brand filter no target is shown."
    ),
    "Actual": "Sell-in net sales (our invoiced sales after discounts and credits) of the weeks whose Monday falls "
    "in the period. A week with no sell-in row shipped nothing (0).",
    "Month, quarter and year to date": (
        "The weeks of the plan year's month, quarter and year whose Monday is on or before the latest loaded "
        "week (the latest week of the plan year; for a past year, its last week). Target, actual, attainment "
        "and gap (actual - target) are of those same weeks."
    ),
    "Landing estimate": (
        "Where the year will land: the year-to-date actual net sales plus, for each remaining week of the year "
        "(weeks after the latest loaded week), the actual of the week 52 weeks earlier times the YTD growth ratio. "
        "The YTD growth ratio is the YTD actual divided by the actual of the same weeks a year earlier, both over "
        "the YTD weeks that have a last year. A week has a last year when the week 52 weeks earlier is on or "
        "after the retailer's (and category's) first week with sell-in, counted from the start of last year's "
        "weeks; after that first week a week without a row shipped 0. A remaining week without a last year, "
        "or every remaining week when the growth ratio is undefined (no positive last-year YTD), counts its "
        "part of the target. For a past year the landing is the year's actual."
    ),
    "Landing gap": "Landing estimate minus the annual target (negative = short of plan).",
    "Required weekly run rate": "(Annual target - YTD actual) / remaining weeks of the year: the net sales needed "
    "each remaining week to reach the annual target. Empty when no week remains.",
    "Plan attainment": "Net sales divided by the target of the same weeks (1.0 = 100% of plan). Empty where the "
    "target is missing or zero.",
    "Last year's actual": "The net sales of the same ISO weeks 52 weeks earlier, over the whole year. The "
    "waterfall walks from it to this year's landing, one step per retailer (landing minus last year).",
    "Monthly plan rows (export)": (
        "One row per retailer x category x month of the plan year (category empty for the all-category row). "
        "target is the month's whole target; actual is the net sales of the month's weeks loaded so far (empty "
        "for a month not yet started); attainment divides actual by the target of those same weeks. The YTD, "
        "landing, annual target and run-rate columns repeat the retailer (x category) values on every row."
    ),
}

TARGET_MEASURES = ("net_sales_target", "sell_out_target", "units_target")


def _keys(by_category: bool) -> list[str]:
    return ["retailer_id", "category"] if by_category else ["retailer_id"]


def weeks_of_month(month: dt.date) -> list[dt.date]:
    """The Mondays that fall in a month."""
    first = month.replace(day=1)
    day = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    out = []
    while day.month == first.month:
        out.append(day)
        day += dt.timedelta(weeks=1)
    return out


def _month_calendar(first_month: dt.date, last_day: dt.date) -> pd.DataFrame:
    """month, week, n_weeks: every Monday of the months first_month .. the month of last_day."""
    rows = []
    month = first_month.replace(day=1)
    while month <= last_day:
        wks = weeks_of_month(month)
        rows += [(month, w, len(wks)) for w in wks]
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return pd.DataFrame(rows, columns=["month", "week", "n_weeks"])


def target_rows(engine: Engine, scope: Scope, start: dt.date, end: dt.date,
                measure: str = "net_sales_target") -> pd.DataFrame | None:
    """The monthly target rows of the retailers (and categories) in scope for the months of start..end:
    columns retailer_id, month (date), category ('' = all categories), value. None when targets do not apply
    (not loaded, or a brand filter: targets have no brand)."""
    if not engine.has("targets") or scope.brands:
        return None
    if measure not in TARGET_MEASURES:
        raise ValueError(f"unknown target measure {measure!r}")
    t = engine.table("targets")
    t = t.filter(t.month >= start.replace(day=1), t.month <= end)
    if scope.retailer_ids is not None:
        t = t.filter(t.retailer_id.isin(scope.retailer_ids) if scope.retailer_ids else ibis.literal(False))
    cat = t.category.fill_null("")
    if scope.categories:
        t = t.filter(cat.isin(scope.categories))
    rows = engine.execute(t.select("retailer_id", "month", category=cat, value=t[measure]))
    rows["month"] = pd.to_datetime(rows["month"]).dt.date
    return rows


def spread_targets(rows: pd.DataFrame | None, start: dt.date, end: dt.date, by_category: bool = False,
                   categories: tuple[str, ...] = ()) -> pd.DataFrame:
    """target_rows() spread to weeks (see weekly_targets); categories: the category filter in force."""
    keys = _keys(by_category)
    empty = pd.DataFrame({**{k: pd.Series(dtype=str) for k in keys}, "week": pd.Series(dtype="datetime64[ns]"),
                          "target": pd.Series(dtype=float)})
    if rows is None or rows.empty:
        return empty
    if by_category:
        rows = rows[rows["category"] != ""]
    elif not categories:
        # The all-category row where there is one; else the sum of the category rows.
        has_total = rows[rows["category"] == ""][["retailer_id", "month"]].drop_duplicates()
        has_total["_total"] = True
        rows = rows.merge(has_total, on=["retailer_id", "month"], how="left")
        rows = rows[(rows["_total"].fillna(False) & (rows["category"] == "")) | rows["_total"].isna()]
    monthly = rows.groupby([*keys, "month"], as_index=False)["value"].sum(min_count=1)
    frame = monthly.merge(_month_calendar(start.replace(day=1), end), on="month")
    frame = frame[(frame["week"] >= start) & (frame["week"] <= end)]
    if frame.empty:
        return empty
    frame = frame.assign(target=frame["value"] / frame["n_weeks"], week=pd.to_datetime(frame["week"]))
    return frame[[*keys, "week", "target"]].sort_values([*keys, "week"]).reset_index(drop=True)


def weekly_targets(engine: Engine, scope: Scope, start: dt.date, end: dt.date,
                   measure: str = "net_sales_target", by_category: bool = False) -> pd.DataFrame:
    """Targets spread to weeks: columns retailer_id, [category,] week, target, for weeks with Monday in start..end.

    by_category: one row per category from the category rows (the all-category rows are left out).
    Empty when targets are not loaded or a brand filter is in force (targets have no brand).
    """
    return spread_targets(target_rows(engine, scope, start, end, measure), start, end, by_category,
                          scope.categories)


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


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, empty where the denominator is missing or not positive (attainment)."""
    return numerator / denominator.where(denominator > 0)


def year_weeks(year: int) -> list[dt.date]:
    """The Mondays that fall in a calendar year (a week belongs to the year of its Monday)."""
    day = dt.date(year, 1, 1)
    day += dt.timedelta(days=(7 - day.weekday()) % 7)
    out = []
    while day.year == year:
        out.append(day)
        day += dt.timedelta(weeks=1)
    return out


# -- the landing estimate -------------------------------------------------------------------
def weekly_net_sales(engine: Engine, scope: Scope, start: dt.date, end: dt.date,
                     by_category: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sell-in net sales per retailer [x category] x week for the weeks start..end (datetime64 weeks), and
    each one's first week with sell-in in that range (columns keys, first_week)."""
    keys = _keys(by_category)
    empty = (pd.DataFrame({**{k: pd.Series(dtype=str) for k in keys}, "week": pd.Series(dtype="datetime64[ns]"),
                           "net_sales": pd.Series(dtype=float)}),
             pd.DataFrame({**{k: pd.Series(dtype=str) for k in keys},
                           "first_week": pd.Series(dtype="datetime64[ns]")}))
    if not engine.has("sell_in"):
        return empty
    t = scope.weekly(engine.table("sell_in"), start=start, end=end)
    if by_category:
        t = t.join(engine.table("products").select("sku_id", "category"), "sku_id")
    rows = engine.execute(t.group_by([*keys, "week"]).aggregate(net_sales=t.net_sales.sum()))
    if rows.empty:
        return empty
    rows["week"] = pd.to_datetime(rows["week"]).astype("datetime64[ns]")
    rows["net_sales"] = rows["net_sales"].astype(float)
    first = rows.groupby(keys, as_index=False)["week"].min().rename(columns={"week": "first_week"})
    return rows, first


def landing_grid(weekly: pd.DataFrame, first: pd.DataFrame, targets: pd.DataFrame, year: int,
                  latest: dt.date, keys: list[str]) -> pd.DataFrame:
    """The week-by-week landing of one year from prefetched net sales (weeks from 52 weeks before the year)
    and targets (see landing_weeks). Worked on dense key x week arrays: one row per key, one column per week.
    """
    columns = [*keys, "week", "actual", "ly_actual", "projected", "basis", "target", "growth_ratio"]
    weeks = pd.DatetimeIndex(year_weeks(year)).astype("datetime64[ns]")
    n = len(weeks)
    origin = weeks[0] - pd.Timedelta(weeks=52)  # column 0 of the net sales array: week 1's last year
    both = pd.concat([weekly[keys], targets[keys]], ignore_index=True)
    if both.empty:
        return pd.DataFrame(columns=columns)
    key_frame = both.drop_duplicates().sort_values(keys).reset_index(drop=True)
    code_of = pd.MultiIndex.from_frame(key_frame)

    def codes(frame: pd.DataFrame) -> np.ndarray:
        return code_of.get_indexer(pd.MultiIndex.from_frame(frame[keys]))

    def positions(days: pd.Series, start) -> np.ndarray:
        return ((days - start) // pd.Timedelta(weeks=1)).to_numpy()

    k = len(key_frame)
    sales = np.full((k, 52 + n), np.nan)
    pos = positions(weekly["week"], origin)
    inside = (pos >= 0) & (pos < 52 + n)
    sales[codes(weekly)[inside], pos[inside]] = weekly["net_sales"].to_numpy(dtype=float)[inside]
    target = np.full((k, n), np.nan)
    tpos = positions(targets["week"], weeks[0])
    inside = (tpos >= 0) & (tpos < n)
    target[codes(targets)[inside], tpos[inside]] = targets["target"].to_numpy(dtype=float)[inside]

    actual, ly = sales[:, 52:].copy(), sales[:, :n].copy()
    # Inside a retailer's data span a week without a row shipped nothing; before it there is no last year.
    first_pos = np.full(k, np.inf)
    found = codes(first)
    first_pos[found[found >= 0]] = positions(first["first_week"], origin)[found >= 0]
    in_span = np.arange(n)[None, :] >= first_pos[:, None]
    ly[np.isnan(ly) & in_span] = 0.0

    cutoff = min(pd.Timestamp(latest), weeks[-1])
    done = np.broadcast_to((weeks <= cutoff)[None, :], (k, n))
    actual = np.where(done, np.nan_to_num(actual), np.nan)
    with_ly = done & ~np.isnan(ly)
    ytd_with_ly = np.where(with_ly, actual, 0.0).sum(axis=1)
    ly_with_ly = np.where(with_ly, ly, 0.0).sum(axis=1)
    growth = np.full(k, np.nan)
    ok = with_ly.any(axis=1) & (ly_with_ly > 0)
    growth[ok] = ytd_with_ly[ok] / ly_with_ly[ok]
    growth_grid = np.broadcast_to(growth[:, None], (k, n))

    from_ly = ~done & ~np.isnan(ly) & ~np.isnan(growth_grid)
    from_target = ~done & ~from_ly & ~np.isnan(target)
    projected = np.where(from_ly, ly * growth_grid, np.where(from_target, target, np.nan))
    basis = np.select([done, from_ly, from_target], ["actual", "last_year", "target"], "none")
    out = key_frame.loc[np.repeat(np.arange(k), n)].reset_index(drop=True)
    out["week"] = np.tile(weeks.to_numpy(), k)
    for name, values in (("actual", actual), ("ly_actual", ly), ("projected", projected), ("basis", basis),
                         ("target", target), ("growth_ratio", growth_grid)):
        out[name] = values.ravel()
    return out[columns]


def _plan_inputs(engine: Engine, scope: Scope, year: int, by_category: bool):
    weeks = year_weeks(year)
    first_ly = weeks[0] - dt.timedelta(weeks=52)
    weekly, first = weekly_net_sales(engine, scope, first_ly, weeks[-1], by_category)
    targets = weekly_targets(engine, scope, weeks[0], weeks[-1], by_category=by_category)
    return weekly, first, targets


def landing_weeks(engine: Engine, filters: Filters, year: int | None = None,
                  by_category: bool = False) -> pd.DataFrame:
    """Week by week of one calendar year, per retailer (and category): the actual net sales of the weeks up
    to the latest loaded week, and the projection of the remaining weeks (see "Landing estimate").

    Columns: retailer_id, [category,] week, actual, ly_actual, projected, basis ('actual' | 'last_year' |
    'target' | 'none'), target, growth_ratio. actual is empty for remaining weeks; ly_actual is empty where
    the week has no last year.
    """
    keys = _keys(by_category)
    scope = resolve(engine, filters)
    if scope is None:
        return pd.DataFrame(columns=[*keys, "week", "actual", "ly_actual", "projected", "basis", "target",
                                     "growth_ratio"])
    latest = scope.period.latest_week
    year = year or latest.year
    weekly, first, targets = _plan_inputs(engine, scope, year, by_category)
    return landing_grid(weekly, first, targets, year, latest, keys)


LANDING_COLUMNS = ["ytd_actual", "ytd_ly", "growth_ratio", "ytd_target", "annual_target", "remaining_weeks",
                   "landing_estimate", "landing_gap", "required_weekly_run_rate"]


def landing_summary(weeks: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """landing()'s columns from landing_weeks() rows, grouped by keys (one row per key)."""
    if weeks.empty:
        return pd.DataFrame(columns=[*keys, *LANDING_COLUMNS])
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
    out["required_weekly_run_rate"] = run_rate(out["annual_target"], out["ytd_actual"], out["remaining_weeks"])
    return out[[*keys, *LANDING_COLUMNS]]


def run_rate(annual_target: pd.Series, ytd_actual: pd.Series, remaining_weeks: pd.Series) -> pd.Series:
    """(annual target - YTD actual) / remaining weeks; empty when no week remains."""
    return (annual_target - ytd_actual) / remaining_weeks.where(remaining_weeks > 0)


def landing(engine: Engine, filters: Filters, year: int | None = None, by_category: bool = False) -> pd.DataFrame:
    """The year's landing per retailer (and category). See DEFINITIONS.

    Columns: retailer_id, [category,] ytd_actual, ytd_ly, growth_ratio, ytd_target, annual_target,
    remaining_weeks, landing_estimate, landing_gap, required_weekly_run_rate.
    """
    keys = _keys(by_category)
    return landing_summary(landing_weeks(engine, filters, year, by_category), keys)


# -- plan tracking ----------------------------------------------------------------------------
PERIODS = {"mtd": "Month to date", "qtd": "Quarter to date", "ytd": "Year to date"}
PERIOD_COLUMNS = [f"{p}_{m}" for p in PERIODS for m in ("target", "actual", "attainment", "gap")]
TRACKING_COLUMNS = [*PERIOD_COLUMNS, "ly_actual", "landing_estimate", "annual_target", "landing_gap",
                    "required_weekly_run_rate", "remaining_weeks", "growth_ratio"]
# Columns that add up across retailers (the rest are recomputed from them).
_ADDITIVE = [f"{p}_{m}" for p in PERIODS for m in ("target", "actual")] + [
    "ly_actual", "landing_estimate", "annual_target"]


def plan_year(filters: Filters, latest: dt.date) -> int:
    """The plan year in view: the chosen full year, else the year of the latest loaded week."""
    return filters.year if filters.period == "year" and filters.year else latest.year


def _period_masks(weeks: pd.Series, cutoff: dt.date) -> dict[str, pd.Series]:
    day = pd.Timestamp(cutoff)
    done = weeks <= day
    return {
        "mtd": done & (weeks.dt.month == day.month),
        "qtd": done & (weeks.dt.quarter == day.quarter),
        "ytd": done,
    }


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Attainment, gaps and run rate from the additive columns."""
    for p in PERIODS:
        frame[f"{p}_attainment"] = ratio(frame[f"{p}_actual"], frame[f"{p}_target"])
        frame[f"{p}_gap"] = frame[f"{p}_actual"] - frame[f"{p}_target"]
    frame["landing_gap"] = frame["landing_estimate"] - frame["annual_target"]
    frame["required_weekly_run_rate"] = run_rate(frame["annual_target"], frame["ytd_actual"],
                                                 frame["remaining_weeks"])
    return frame


def tracking(grid: pd.DataFrame, keys: list[str], cutoff: dt.date) -> pd.DataFrame:
    """Month, quarter and year to date, last year and landing per key, from landing_weeks() rows."""
    if grid.empty:
        return pd.DataFrame(columns=[*keys, *TRACKING_COLUMNS])
    masks = _period_masks(grid["week"], cutoff)
    parts = {}
    for p, mask in masks.items():
        parts[f"{p}_target"] = grid["target"].where(mask)
        parts[f"{p}_actual"] = grid["actual"].where(mask)
    g = grid.assign(**parts).groupby(keys)
    frame = g[list(parts) + ["ly_actual"]].sum(min_count=1).reset_index()
    frame = frame.merge(landing_summary(grid, keys).drop(columns=["ytd_actual", "ytd_target"]), on=keys)
    return _finish(frame)[[*keys, *TRACKING_COLUMNS]]


def rollup(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Tracking rows summed to coarser keys (e.g. retailer x category to category), ratios recomputed."""
    if frame.empty:
        return pd.DataFrame(columns=[*by, *TRACKING_COLUMNS])
    g = frame.groupby(by)
    out = g[_ADDITIVE].sum(min_count=1)
    out["remaining_weeks"] = g["remaining_weeks"].max()
    out["growth_ratio"] = np.nan  # a ratio per retailer; it does not add up
    return _finish(out.reset_index())[[*by, *TRACKING_COLUMNS]]


def waterfall(by_retailer: pd.DataFrame, max_steps: int = 10) -> pd.DataFrame:
    """From last year's actual to this year's landing: one step per retailer (landing - last year), the
    largest `max_steps` moves by size and the rest as one step. Columns step, value, measure."""
    if by_retailer.empty:
        return pd.DataFrame(columns=["step", "value", "measure", "retailer_id"])
    frame = by_retailer.assign(change=by_retailer["landing_estimate"].fillna(0.0)
                               - by_retailer["ly_actual"].fillna(0.0))
    frame = frame.reindex(frame["change"].abs().sort_values(ascending=False, kind="stable").index)
    shown, rest = frame.iloc[:max_steps], frame.iloc[max_steps:]
    rows = [("Last year", float(frame["ly_actual"].fillna(0.0).sum()), "absolute", "")]
    rows += [(r.retailer_name, float(r.change), "relative", r.retailer_id) for r in shown.itertuples()]
    if len(rest):
        rows.append((f"Other {len(rest)} retailers", float(rest["change"].sum()), "relative", ""))
    rows.append(("Landing", float(frame["landing_estimate"].fillna(0.0).sum()), "total", ""))
    return pd.DataFrame(rows, columns=["step", "value", "measure", "retailer_id"])


@dataclass(frozen=True)
class PlanPage:
    """Everything the plan-tracking page shows."""

    year: int | None = None
    cutoff: dt.date | None = None  # the latest week counted as done
    remaining_weeks: int = 0
    retailers: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["retailer_id", "retailer_name", *TRACKING_COLUMNS]))
    categories: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["category", *TRACKING_COLUMNS]))
    waterfall: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["step", "value", "measure", "retailer_id"]))
    totals: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def month_label(self) -> str:
        return f"{self.cutoff:%B %Y}" if self.cutoff else ""

    @property
    def quarter_label(self) -> str:
        return f"Q{(self.cutoff.month - 1) // 3 + 1} {self.cutoff.year}" if self.cutoff else ""


def _grids(engine: Engine, scope: Scope, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """landing_weeks() per retailer and per retailer x category from one scan of sell-in and of targets."""
    weeks = year_weeks(year)
    weekly_c, first_c = weekly_net_sales(engine, scope, weeks[0] - dt.timedelta(weeks=52), weeks[-1], True)
    weekly_r = weekly_c.groupby(["retailer_id", "week"], as_index=False)["net_sales"].sum()
    first_r = first_c.groupby("retailer_id", as_index=False)["first_week"].min()
    rows = target_rows(engine, scope, weeks[0], weeks[-1])
    targets_r = spread_targets(rows, weeks[0], weeks[-1], categories=scope.categories)
    targets_c = spread_targets(rows, weeks[0], weeks[-1], by_category=True, categories=scope.categories)
    latest = scope.period.latest_week
    return (landing_grid(weekly_r, first_r, targets_r, year, latest, ["retailer_id"]),
            landing_grid(weekly_c, first_c, targets_c, year, latest, ["retailer_id", "category"]))


def page_data(engine: Engine, filters: Filters) -> PlanPage:
    """The plan-tracking page: the plan year's month, quarter and YTD against target, and the landing."""
    scope = resolve(engine, filters)
    if scope is None:
        return PlanPage(notes=("No sales data is loaded.",))
    latest = scope.period.latest_week
    year = plan_year(filters, latest)
    cutoff = min(latest, year_weeks(year)[-1])
    notes = []
    if not engine.has("sell_in"):
        notes.append("Actuals need the sell_in table, which is not loaded.")
    if not engine.has("targets"):
        notes.append("No targets are loaded: actuals and the landing are shown without plan figures.")
    elif scope.brands:
        notes.append("Targets are set by retailer and category, so plan figures are hidden under a brand filter.")
    if filters.period not in ("ytd", "year"):
        notes.append(f"The plan is tracked over the year {year}; the period filter does not apply here.")
    grid_r, grid_c = _grids(engine, scope, year)
    by_retailer = tracking(grid_r, ["retailer_id"], cutoff)
    names = retailers_in_scope(engine, scope)[["retailer_id", "retailer_name"]]
    by_retailer = names.merge(by_retailer, on="retailer_id", how="inner")
    by_retailer = by_retailer.sort_values(["landing_gap", "retailer_id"], na_position="last").reset_index(drop=True)
    by_category = rollup(tracking(grid_c, ["retailer_id", "category"], cutoff), ["category"])
    if engine.has("targets") and not scope.brands and by_retailer["annual_target"].isna().all():
        notes.append(f"No retailer in view has a target for {year}: actuals are shown without plan figures.")
    totals_frame = rollup(by_retailer.assign(_all=""), ["_all"])
    totals = totals_frame.iloc[0].drop("_all").to_dict() if len(totals_frame) else {}
    return PlanPage(year=year, cutoff=cutoff, remaining_weeks=len([w for w in year_weeks(year) if w > cutoff]),
                    retailers=by_retailer, categories=by_category, waterfall=waterfall(by_retailer),
                    totals=totals, notes=tuple(notes))


PLAN_COLUMNS = ["retailer_id", "category", "month", "target", "actual", "attainment", "ytd_target", "ytd_actual",
                "landing_estimate", "annual_target", "landing_gap", "required_weekly_run_rate"]


def _monthly_rows(grid: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    done = grid["basis"] == "actual"
    g = grid.assign(month=grid["week"].dt.to_period("M").dt.start_time.dt.date,
                    done_target=grid["target"].where(done)).groupby([*keys, "month"])
    monthly = g[["target", "actual", "done_target"]].sum(min_count=1).reset_index()
    monthly["attainment"] = ratio(monthly["actual"], monthly["done_target"])
    summary = landing_summary(grid, keys)
    return monthly.drop(columns="done_target").merge(summary, on=keys)


def plan_rows(engine: Engine, filters: Filters, year: int | None = None) -> pd.DataFrame:
    """The export `plan`: one row per retailer x category x month (see "Monthly plan rows")."""
    scope = resolve(engine, filters)
    if scope is None:
        return pd.DataFrame(columns=PLAN_COLUMNS)
    year = year or plan_year(filters, scope.period.latest_week)
    grid_r, grid_c = _grids(engine, scope, year)
    parts = []
    if not grid_r.empty:
        parts.append(_monthly_rows(grid_r, ["retailer_id"]).assign(category=""))
    if not grid_c.empty:
        parts.append(_monthly_rows(grid_c, ["retailer_id", "category"]))
    if not parts:
        return pd.DataFrame(columns=PLAN_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["retailer_id", "category", "month"]).reset_index(drop=True)[PLAN_COLUMNS]


@export_metric("plan", columns=PLAN_COLUMNS, options=("year",), examples=({}, {"year": 2025}))
def export_plan(engine: Engine, filters: Filters, year: int | None = None) -> pd.DataFrame:
    return plan_rows(engine, filters, year)
