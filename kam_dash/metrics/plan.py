"""Plan targets and tracking: monthly targets spread over weeks, attainment, the landing estimate, and the
plan-tracking page's numbers (month, quarter and year to date by retailer and by category)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd

from kam_dash import calendar, freshness
from kam_dash.config import settings_from_env
from kam_dash.engine import Engine
from kam_dash.export import export_metric
from kam_dash.filters import Filters
from kam_dash.scope import Scope, resolve, retailers_in_scope
from kam_dash.scope import retailers as scope_retailers

# The run-rate projection is trusted fully once this share of the year's expected sales is in; before that it
# is blended with the plan in proportion (see "Landing estimate"). Chosen by bench/landing_backtest.py.
FULL_TRUST_SHARE = 0.4
# The range: the blend's remaining sales times this relative error either side, scaled by how much of the
# year's expected sales is still to come (see "Landing range").
RANGE_ERROR = 0.1
DEFINITIONS = {
    "Target (period)": (
        "Targets are monthly rows of calendar months whatever the month setting. A monthly target spreads evenly "
        "over the weeks whose Monday falls in that calendar month, so the target of any set of weeks is the sum of "
        "its weeks' parts. With no category filter the all-category target row "
        "(empty category) is used; where a retailer has no such row for a month, its category rows are summed. "
        "With a category filter, the rows of those categories are summed. Targets are set by retailer and "
        "category, so under a brand filter no target is shown."
    ),
    "Actual": "Sell-in net sales (our invoiced sales after discounts and credits) of the weeks whose Monday falls "
    "in the period, up to sell-in's own latest week. A week with no sell-in row shipped nothing (0).",
    "Month, quarter and year to date": (
        "The plan year is a calendar year (its weeks: see Week). Weeks up to sell-in's latest week count as done "
        "(for a past year, all its weeks). Month and quarter to date are the done weeks of the latest done week's "
        "month and quarter, which follow the month setting (calendar months by default, or retail 4-5-4 months "
        "with KAM_DASH_CALENDAR=retail-454); a retail month or quarter that began in the year before counts its "
        "weeks of that year too. Target, actual, attainment and gap (actual - "
        "target) are of those same weeks. The period filter does not change the plan year; a full year still "
        "being sold compares only its loaded weeks, while the landing and the annual target cover the whole year."
    ),
    "Landing estimate": (
        "Where the year will land: the year-to-date actual net sales plus a projection of each remaining week, "
        "which blends two projections. The run rate: the week's last-year actual (see Last year) times the YTD "
        "growth ratio, the YTD actual divided by the last-year actual, both over the YTD weeks that have a last "
        "year. A week has a last year when that week is on or after the retailer's (and category's) first week "
        "with sell-in in the weeks read (after it, a week without a row shipped 0); a remaining week without a "
        "last year, or every remaining week when the growth ratio is undefined (no positive last-year YTD), takes "
        "its part of the target. The plan: the week's part of the target (the run rate where there is no target). "
        f"The run rate's weight is the share of the year's expected sales already in divided by "
        f"{FULL_TRUST_SHARE:.0%} (at most 1): the share is the last-year actual of the YTD weeks over the "
        "last-year actual of the whole year, or without a last year the target of the YTD weeks over the annual "
        f"target. So in the first weeks the landing leans on the plan and from {FULL_TRUST_SHARE:.0%} of the "
        "year's expected sales on it is the run rate alone (the backtest in bench/results.md picked the rule). "
        "For a past year the landing is the year's actual."
    ),
    "Landing range": (
        f"Low and high landing: the landing minus and plus {RANGE_ERROR:.0%} x (1 - the share of the year's "
        "expected sales already in) x the sales projected for the remaining weeks. The range narrows as the year "
        "fills in and is nil for a past year. For a group of retailers the share is their shares' average "
        "weighted by their plan landing (YTD actual + the remaining weeks' target). In the demo's backtest the "
        "actual fell inside the range for about 9 retailer-years in 10 or more (bench/results.md)."
    ),
    "Landing gap": "Landing estimate minus the annual target (negative = short of plan).",
    "Required weekly run rate": "(Annual target - YTD actual) / remaining weeks of the year: the net sales needed "
    "each remaining week to reach the annual target. Empty when no week remains.",
    "Current weekly run rate": "YTD actual net sales / the plan year's weeks done (its weeks up to sell-in's "
    "latest week): what the year has sold a week so far, shown beside the run rate needed. Empty before the "
    "first week is done.",
    "Plan attainment": "Net sales divided by the target of the same weeks (1.0 = 100% of plan). Empty where the "
    "target is missing or zero.",
    "Last year's actual": "The net sales of the last year of each week of the plan year (the week 364 days "
    "earlier; a 53rd Monday has none), so 2024 compares with the 52 weeks of 2023 and 2025 with 2024-01-08 to "
    "2024-12-30. The waterfall walks from it to this year's landing, one step per retailer (landing minus last "
    "year).",
    "Sell-out-only accounts": (
        "A retailer with sell-out rows and no sell-in row has no net sales: it is left out of the net sales "
        "figures (never shown at 0% of plan) and tracked on sell-out value against its sell-out target, with "
        "the same rules, up to its own latest sell-out week. A week it did not report is left out of the actual "
        "and of the target it is compared with, and is projected like a remaining week; a last-year week it did "
        "not report gives no last year. Without a sell-out target its sell-out value is shown without plan "
        "figures."
    ),
    "Monthly plan rows (export)": (
        "One row per retailer x category x calendar month of the plan year (category empty for the all-category "
        "row). target is the month's whole target; actual is the net sales of the month's weeks loaded so far "
        "(empty for a month not yet started); attainment divides actual by the target of those same weeks. The "
        "YTD, landing (with its low and high), annual target and run-rate columns repeat the retailer (x "
        "category) values on every row. "
        "Sell-out-only accounts have no rows (no net sales)."
    ),
}

TARGET_MEASURES = ("net_sales_target", "sell_out_target", "units_target")


def _keys(by_category: bool) -> list[str]:
    return ["retailer_id", "category"] if by_category else ["retailer_id"]


def weeks_of_month(month: dt.date) -> list[dt.date]:
    """The Mondays that fall in a calendar month (calendar.weeks_of_month)."""
    return calendar.weeks_of_month(month)


def year_weeks(year: int) -> list[dt.date]:
    """The Mondays of a calendar year: 52, or 53 (calendar.weeks_of_year)."""
    return list(calendar.weeks_of_year(year))


def _month_calendar(first_month: dt.date, last_day: dt.date) -> pd.DataFrame:
    """month, week, n_weeks: every Monday of the calendar months first_month .. the month of last_day."""
    rows = []
    for month in pd.date_range(first_month.replace(day=1), last_day, freq="MS").date:
        wks = calendar.weeks_of_month(month)
        rows += [(month, w, len(wks)) for w in wks]
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


def ly_window(year: int) -> tuple[dt.date, dt.date]:
    """The first and last week a landing of `year` reads: from the last year of its first week to its last
    week (calendar.last_year; a 53rd Monday has no last year)."""
    weeks = calendar.weeks_of_year(year)
    return calendar.last_year(weeks[0]), weeks[-1]


GRID_COLUMNS = ["week", "actual", "ly_actual", "projected", "basis", "target", "growth_ratio",
                "run_rate_projected", "plan_projected", "share_in", "run_rate_weight"]


def landing_grid(weekly: pd.DataFrame, first: pd.DataFrame, targets: pd.DataFrame, year: int,
                 latest: dt.date | dict[str, dt.date], keys: list[str], missing_is_zero: bool = True,
                 full_trust_share: float = FULL_TRUST_SHARE) -> pd.DataFrame:
    """The week-by-week landing of one year from prefetched weekly values (weeks of ly_window(year)) and
    targets (see landing_weeks). Worked on dense key x week arrays: one row per key, one column per week of
    the year; each week's last year comes from calendar.last_year.

    latest: the latest week counted as done, or one per retailer ({retailer_id: week}: sell-out's own latest
    week; a retailer not in it has no done week).
    missing_is_zero: a week without a row inside a key's span sold 0 (sell-in). False for sell-out, where a
    retailer's week without a row was not reported: such a done week is 'unreported' (projected like a
    remaining week, never a zero) and such a last-year week gives no last year.
    """
    columns = [*keys, *GRID_COLUMNS]
    weeks = calendar.weeks_of_year(year)
    n = len(weeks)
    both = pd.concat([weekly[keys], targets[keys]], ignore_index=True)
    if both.empty:
        return pd.DataFrame(columns=columns)
    key_frame = both.drop_duplicates().sort_values(keys).reset_index(drop=True)
    code_of = pd.MultiIndex.from_frame(key_frame)

    def codes(frame: pd.DataFrame) -> np.ndarray:
        return code_of.get_indexer(pd.MultiIndex.from_frame(frame[keys]))

    week_index = pd.DatetimeIndex(weeks).astype("datetime64[ns]")
    ly_weeks = [calendar.last_year(w) for w in weeks]
    ly_index = pd.DatetimeIndex([pd.NaT if w is None else pd.Timestamp(w) for w in ly_weeks]).astype(
        "datetime64[ns]")
    k = len(key_frame)

    def dense(frame: pd.DataFrame, value: str, index: pd.DatetimeIndex) -> np.ndarray:
        out = np.full((k, n), np.nan)
        row, col = codes(frame), index.get_indexer(frame["week"])
        ok = (row >= 0) & (col >= 0)
        out[row[ok], col[ok]] = frame[value].to_numpy(dtype=float)[ok]
        return out

    value = "net_sales" if "net_sales" in weekly else "value"
    actual = dense(weekly, value, week_index)
    ly = dense(weekly, value, ly_index)  # column j: the value of week j's last year
    target = dense(targets, "target", week_index)

    first_week = np.full(k, np.datetime64("NaT"), dtype="datetime64[ns]")
    found = codes(first)
    first_week[found[found >= 0]] = first["first_week"].to_numpy(dtype="datetime64[ns]")[found >= 0]
    if isinstance(latest, dict):
        cutoffs = key_frame["retailer_id"].map(latest).astype("datetime64[ns]").to_numpy()
        done = week_index.to_numpy()[None, :] <= cutoffs[:, None]  # NaT (no latest week): nothing done
    else:
        done = np.broadcast_to((week_index <= pd.Timestamp(latest))[None, :], (k, n))
    if missing_is_zero:
        # Inside a key's data span a week without a row shipped nothing; before it there is no last year.
        in_span = ly_index.to_numpy()[None, :] >= first_week[:, None]
        ly[np.isnan(ly) & in_span] = 0.0
        actual = np.where(done, np.nan_to_num(actual), np.nan)
    else:
        actual = np.where(done, actual, np.nan)
    reported = done & ~np.isnan(actual)
    open_ = ~reported  # remaining weeks, and done weeks not reported (sell-out only)

    with_ly = reported & ~np.isnan(ly)
    ytd_with_ly = np.where(with_ly, actual, 0.0).sum(axis=1)
    ly_with_ly = np.where(with_ly, ly, 0.0).sum(axis=1)
    growth = np.full(k, np.nan)
    ok = with_ly.any(axis=1) & (ly_with_ly > 0)
    growth[ok] = ytd_with_ly[ok] / ly_with_ly[ok]
    growth_grid = np.broadcast_to(growth[:, None], (k, n))

    from_ly = open_ & ~np.isnan(ly) & ~np.isnan(growth_grid)
    from_target = open_ & ~from_ly & ~np.isnan(target)
    run_rate_proj = np.where(from_ly, ly * growth_grid, np.where(from_target, target, np.nan))
    plan_proj = np.where(open_ & ~np.isnan(target), target, run_rate_proj)

    # The share of the year's expected sales already in: last year's phasing where the key has a last year,
    # else the target's; with neither, nothing to blend with.
    ly_year = np.nansum(ly, axis=1)
    target_year = np.nansum(target, axis=1)
    share_in = np.ones(k)
    by_ly = ly_year > 0
    share_in[by_ly] = ly_with_ly[by_ly] / ly_year[by_ly]
    by_target = ~by_ly & (target_year > 0)
    share_in[by_target] = np.where(reported, np.nan_to_num(target), 0.0).sum(axis=1)[by_target] / \
        target_year[by_target]
    weight = np.clip(share_in / full_trust_share, 0.0, 1.0) if full_trust_share > 0 else np.ones(k)
    weight_grid = np.broadcast_to(weight[:, None], (k, n))
    projected = weight_grid * run_rate_proj + (1 - weight_grid) * plan_proj

    unreported = done & ~reported
    basis = np.select([reported, from_ly, from_target], ["actual", "last_year", "target"], "none")
    basis = np.where(unreported & (basis != "actual"), "unreported", basis)
    out = key_frame.loc[np.repeat(np.arange(k), n)].reset_index(drop=True)
    out["week"] = np.tile(week_index.to_numpy(), k)
    for name, values in (("actual", actual), ("ly_actual", ly), ("projected", projected), ("basis", basis),
                         ("target", target), ("growth_ratio", growth_grid), ("run_rate_projected", run_rate_proj),
                         ("plan_projected", plan_proj),
                         ("share_in", np.broadcast_to(share_in[:, None], (k, n))),
                         ("run_rate_weight", weight_grid)):
        out[name] = values.ravel()
    return out[columns]


def sell_in_latest(engine: Engine, fallback: dt.date) -> dt.date:
    """The latest week of sell-in (its own freshness), else `fallback` (the latest week of any table)."""
    return freshness.freshness(engine).table_latest.get("sell_in", fallback)


def _plan_inputs(engine: Engine, scope: Scope, year: int, by_category: bool):
    first_ly, last = ly_window(year)
    weeks = calendar.weeks_of_year(year)
    weekly, first = weekly_net_sales(engine, scope, first_ly, last, by_category)
    targets = weekly_targets(engine, scope, weeks[0], weeks[-1], by_category=by_category)
    return weekly, first, targets


def landing_weeks(engine: Engine, filters: Filters, year: int | None = None,
                  by_category: bool = False) -> pd.DataFrame:
    """Week by week of one calendar year, per retailer (and category): the actual net sales of the weeks up
    to sell-in's latest week, and the projection of the remaining weeks (see "Landing estimate").

    Columns: retailer_id, [category,] week, actual, ly_actual, projected (the blend), basis ('actual' |
    'last_year' | 'target' | 'none': where the run-rate projection comes from), target, growth_ratio,
    run_rate_projected, plan_projected, share_in, run_rate_weight. actual is empty for remaining weeks;
    ly_actual is empty where the week has no last year.
    """
    keys = _keys(by_category)
    scope = resolve(engine, filters)
    if scope is None:
        return pd.DataFrame(columns=[*keys, *GRID_COLUMNS])
    latest = sell_in_latest(engine, scope.period.latest_week)
    year = year or latest.year
    weekly, first, targets = _plan_inputs(engine, scope, year, by_category)
    return _without(landing_grid(weekly, first, targets, year, latest, keys), sell_out_only(engine, scope))


LANDING_COLUMNS = ["ytd_actual", "ytd_ly", "growth_ratio", "ytd_target", "annual_target", "remaining_weeks",
                   "landing_estimate", "landing_gap", "required_weekly_run_rate"]
RANGE_COLUMNS = ["run_rate_landing", "plan_landing", "share_in", "run_rate_weight", "landing_low", "landing_high"]


def landing_summary(weeks: pd.DataFrame, keys: list[str], range_error: float = RANGE_ERROR) -> pd.DataFrame:
    """landing()'s columns from landing_weeks() rows, grouped by keys (one row per key)."""
    if weeks.empty:
        return pd.DataFrame(columns=[*keys, *LANDING_COLUMNS, *RANGE_COLUMNS])
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
        "run_rate_projected": g["run_rate_projected"].sum(min_count=1),
        "plan_projected": g["plan_projected"].sum(min_count=1),
        "share_in": g["share_in"].first(),
        "run_rate_weight": g["run_rate_weight"].first(),
    }).reset_index()
    out["ytd_actual"] = out["ytd_actual"].fillna(0.0)
    out["landing_estimate"] = out["ytd_actual"] + out["projected"].fillna(0.0)
    out["run_rate_landing"] = out["ytd_actual"] + out["run_rate_projected"].fillna(0.0)
    out["plan_landing"] = out["ytd_actual"] + out["plan_projected"].fillna(0.0)
    out["landing_gap"] = out["landing_estimate"] - out["annual_target"]
    out["required_weekly_run_rate"] = run_rate(out["annual_target"], out["ytd_actual"], out["remaining_weeks"])
    low, high = landing_range(out["landing_estimate"], out["projected"].fillna(0.0), out["share_in"], range_error)
    out["landing_low"], out["landing_high"] = low, high
    return out[[*keys, *LANDING_COLUMNS, *RANGE_COLUMNS]]


def landing_range(landing_: pd.Series, remaining: pd.Series, share_in: pd.Series,
                  range_error: float = RANGE_ERROR) -> tuple[pd.Series, pd.Series]:
    """Low and high landing (see "Landing range"): the landing -/+ range_error x the share of the year's
    expected sales still to come x the sales projected for the remaining weeks."""
    spread = range_error * (1 - share_in.fillna(1.0).clip(0, 1)) * remaining.abs()
    return landing_ - spread, landing_ + spread


def run_rate(annual_target: pd.Series, ytd_actual: pd.Series, remaining_weeks: pd.Series) -> pd.Series:
    """(annual target - YTD actual) / remaining weeks; empty when no week remains."""
    return (annual_target - ytd_actual) / remaining_weeks.where(remaining_weeks > 0)


def landing(engine: Engine, filters: Filters, year: int | None = None, by_category: bool = False) -> pd.DataFrame:
    """The year's landing per retailer (and category). See DEFINITIONS.

    Columns: retailer_id, [category,] ytd_actual, ytd_ly, growth_ratio, ytd_target, annual_target,
    remaining_weeks, landing_estimate, landing_gap, required_weekly_run_rate, then the range: run_rate_landing,
    plan_landing, share_in, run_rate_weight, landing_low, landing_high.
    """
    keys = _keys(by_category)
    return landing_summary(landing_weeks(engine, filters, year, by_category), keys)


# -- plan tracking ----------------------------------------------------------------------------
PERIODS = {"mtd": "Month to date", "qtd": "Quarter to date", "ytd": "Year to date"}
PERIOD_COLUMNS = [f"{p}_{m}" for p in PERIODS for m in ("target", "actual", "attainment", "gap")]
TRACKING_COLUMNS = [*PERIOD_COLUMNS, "ly_actual", "landing_estimate", "annual_target", "landing_gap",
                    "required_weekly_run_rate", "remaining_weeks", "growth_ratio", *RANGE_COLUMNS]
# Columns that add up across retailers (the rest are recomputed from them).
_ADDITIVE = [f"{p}_{m}" for p in PERIODS for m in ("target", "actual")] + [
    "ly_actual", "landing_estimate", "annual_target", "run_rate_landing", "plan_landing"]


def plan_year(filters: Filters, latest: dt.date) -> int:
    """The plan year in view: the chosen full year, else the year of the latest loaded week."""
    return filters.year if filters.period == "year" and filters.year else latest.year


def _period_masks(grid: pd.DataFrame, cutoff: dt.date | dict[str, dt.date],
                  calendar_name: str) -> dict[str, pd.Series]:
    """Done weeks (reported, on or before the cutoff) of the cutoff's month, quarter and year; months and
    quarters follow the calendar setting (calendar.month_of / quarter_of). cutoff: one, or one per retailer."""
    weeks = grid["week"]
    if isinstance(cutoff, dict):
        row_cutoff = grid["retailer_id"].map({r: pd.Timestamp(d) for r, d in cutoff.items()})
    else:
        row_cutoff = pd.Series(pd.Timestamp(cutoff), index=grid.index)
    done = (weeks <= row_cutoff) & (grid["basis"] == "actual")
    days = pd.concat([pd.Series(weeks.unique()), pd.Series(row_cutoff.dropna().unique())]).drop_duplicates()
    month = {d: calendar.month_of(d.date(), calendar_name) for d in days}
    quarter = {d: calendar.quarter_of(d.date(), calendar_name) for d in days}
    return {
        "mtd": done & (weeks.map(month) == row_cutoff.map(month)),
        "qtd": done & (weeks.map(quarter) == row_cutoff.map(quarter)),
        "ytd": done,
    }


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Attainment, gaps, run rate and the landing range from the additive columns."""
    for p in PERIODS:
        frame[f"{p}_attainment"] = ratio(frame[f"{p}_actual"], frame[f"{p}_target"])
        frame[f"{p}_gap"] = frame[f"{p}_actual"] - frame[f"{p}_target"]
    frame["landing_gap"] = frame["landing_estimate"] - frame["annual_target"]
    frame["required_weekly_run_rate"] = run_rate(frame["annual_target"], frame["ytd_actual"],
                                                 frame["remaining_weeks"])
    remaining = frame["landing_estimate"] - frame["ytd_actual"].fillna(0.0)
    frame["landing_low"], frame["landing_high"] = landing_range(frame["landing_estimate"], remaining,
                                                                frame["share_in"])
    return frame


def tracking(grid: pd.DataFrame, keys: list[str], cutoff: dt.date | dict[str, dt.date],
             calendar_name: str = calendar.GREGORIAN) -> pd.DataFrame:
    """Month, quarter and year to date, last year and landing per key, from landing_weeks() rows (cutoff: the
    latest done week, or one per retailer)."""
    if grid.empty:
        return pd.DataFrame(columns=[*keys, *TRACKING_COLUMNS])
    masks = _period_masks(grid, cutoff, calendar_name)
    parts = {}
    for p, mask in masks.items():
        parts[f"{p}_target"] = grid["target"].where(mask)
        parts[f"{p}_actual"] = grid["actual"].where(mask)
    g = grid.assign(**parts).groupby(keys)
    frame = g[list(parts) + ["ly_actual"]].sum(min_count=1).reset_index()
    frame = frame.merge(landing_summary(grid, keys).drop(columns=["ytd_actual", "ytd_target"]), on=keys)
    return _finish(frame)[[*keys, *TRACKING_COLUMNS]]


def rollup(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Tracking rows summed to coarser keys (e.g. retailer x category to category), ratios recomputed. The
    share of the year's expected sales in is the rows' average weighted by their plan landing."""
    if frame.empty:
        return pd.DataFrame(columns=[*by, *TRACKING_COLUMNS])
    weighted = frame.assign(_w=frame["plan_landing"].clip(lower=0).fillna(0.0))
    weighted["_ws"] = weighted["_w"] * weighted["share_in"].fillna(1.0)
    g = weighted.groupby(by)
    out = g[_ADDITIVE].sum(min_count=1)
    out["remaining_weeks"] = g["remaining_weeks"].max()
    out["growth_ratio"] = np.nan  # a ratio per retailer; it does not add up
    out["run_rate_weight"] = np.nan  # likewise
    sums = g[["_w", "_ws"]].sum()
    out["share_in"] = (sums["_ws"] / sums["_w"].where(sums["_w"] > 0)).fillna(1.0)
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


# -- sell-out-only accounts -------------------------------------------------------------------
SELL_OUT_COLUMNS = ["retailer_id", "retailer_name", "through_week", "has_target", *TRACKING_COLUMNS]


def sell_out_only(engine: Engine, scope: Scope) -> tuple[str, ...]:
    """Retailers in scope with sell-out rows and no sell-in row at all: they have no net sales to track."""
    fresh = freshness.freshness(engine)
    with_sell_out = set(fresh.retailer_latest("sell_out"))
    with_sell_in = set(fresh.retailer_latest("sell_in"))
    ids = with_sell_out - with_sell_in
    if scope.retailer_ids is not None:
        ids &= set(scope.retailer_ids)
    return tuple(sorted(ids))


def _without(grid: pd.DataFrame, retailer_ids: tuple[str, ...]) -> pd.DataFrame:
    return grid[~grid["retailer_id"].isin(retailer_ids)].reset_index(drop=True) if retailer_ids else grid


def sell_out_tracking(engine: Engine, scope: Scope, year: int, retailer_ids: tuple[str, ...],
                      calendar_name: str = calendar.GREGORIAN) -> pd.DataFrame:
    """The plan of sell-out-only accounts on sell-out value against their sell-out target (SELL_OUT_COLUMNS):
    each retailer up to its own latest sell-out week; an unreported week is left out of the actuals and the
    target they are compared with, and projected like a remaining week (see "Sell-out-only accounts")."""
    if not retailer_ids or not engine.has("sell_out"):
        return pd.DataFrame(columns=SELL_OUT_COLUMNS)
    first_ly, last = ly_window(year)
    weeks = calendar.weeks_of_year(year)
    mine = Scope(scope.period, retailer_ids, scope.sku_ids, scope.categories, scope.brands)
    t = mine.weekly(engine.table("sell_out"), start=first_ly, end=last)
    weekly = engine.execute(t.group_by(["retailer_id", "week"]).aggregate(value=t.sales_value.sum()))
    weekly["week"] = pd.to_datetime(weekly["week"]).astype("datetime64[ns]")
    weekly["value"] = weekly["value"].astype(float)
    first = weekly.groupby("retailer_id", as_index=False)["week"].min().rename(columns={"week": "first_week"})
    targets = spread_targets(target_rows(engine, mine, weeks[0], weeks[-1], "sell_out_target"), weeks[0],
                             weeks[-1], categories=scope.categories)
    last_week = pd.Timestamp(weeks[-1])
    latest_of = {rid: min(pd.Timestamp(day), last_week)
                 for rid, day in freshness.freshness(engine).retailer_latest("sell_out").items() if rid in retailer_ids}
    grid = landing_grid(weekly, first, targets, year, latest_of, ["retailer_id"], missing_is_zero=False)
    if grid.empty:
        return pd.DataFrame(columns=SELL_OUT_COLUMNS)
    frame = tracking(grid, ["retailer_id"], latest_of, calendar_name)
    names = scope_retailers(engine).set_index("retailer_id")["retailer_name"]
    has_target = grid.groupby("retailer_id")["target"].count() > 0
    frame = frame.assign(retailer_name=frame["retailer_id"].map(names).fillna(frame["retailer_id"]),
                         through_week=frame["retailer_id"].map(latest_of).dt.date,
                         has_target=frame["retailer_id"].map(has_target).fillna(False).astype(bool))
    return frame.sort_values("retailer_id").reset_index(drop=True)[SELL_OUT_COLUMNS]


@dataclass(frozen=True)
class PlanPage:
    """Everything the plan-tracking page shows."""

    year: int | None = None
    cutoff: dt.date | None = None  # the latest week counted as done (sell-in's latest week, within the year)
    remaining_weeks: int = 0
    calendar_name: str = calendar.GREGORIAN
    retailers: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["retailer_id", "retailer_name", *TRACKING_COLUMNS]))
    categories: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["category", *TRACKING_COLUMNS]))
    waterfall: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["step", "value", "measure", "retailer_id"]))
    sell_out_accounts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SELL_OUT_COLUMNS))
    totals: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def weeks_done(self) -> int:
        """The plan year's weeks up to the cutoff (counted as done)."""
        if not self.year or not self.cutoff:
            return 0
        return sum(1 for week in calendar.weeks_of_year(self.year) if week <= self.cutoff)

    @property
    def current_run_rate(self) -> float | None:
        """See DEFINITIONS["Current weekly run rate"]."""
        actual = self.totals.get("ytd_actual")
        if not self.weeks_done or actual is None or pd.isna(actual):
            return None
        return float(actual) / self.weeks_done

    @property
    def month_label(self) -> str:
        if not self.cutoff:
            return ""
        if self.calendar_name == calendar.GREGORIAN:
            return f"{self.cutoff:%B %Y}"
        return calendar.month_label(*calendar.month_of(self.cutoff, self.calendar_name), self.calendar_name)

    @property
    def quarter_label(self) -> str:
        if not self.cutoff:
            return ""
        year, quarter = calendar.quarter_of(self.cutoff, self.calendar_name)
        return f"Q{quarter} {year}" if self.calendar_name == calendar.GREGORIAN else f"Q{quarter} FY{year}"


def _grids(engine: Engine, scope: Scope, year: int, latest: dt.date,
           leave_out: tuple[str, ...] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """landing_weeks() per retailer and per retailer x category from one scan of sell-in and of targets;
    leave_out: retailers not tracked on net sales (sell-out-only accounts)."""
    weeks = calendar.weeks_of_year(year)
    first_ly, last = ly_window(year)
    weekly_c, first_c = weekly_net_sales(engine, scope, first_ly, last, True)
    weekly_r = weekly_c.groupby(["retailer_id", "week"], as_index=False)["net_sales"].sum()
    first_r = first_c.groupby("retailer_id", as_index=False)["first_week"].min()
    rows = target_rows(engine, scope, weeks[0], weeks[-1])
    targets_r = spread_targets(rows, weeks[0], weeks[-1], categories=scope.categories)
    targets_c = spread_targets(rows, weeks[0], weeks[-1], by_category=True, categories=scope.categories)
    return (_without(landing_grid(weekly_r, first_r, targets_r, year, latest, ["retailer_id"]), leave_out),
            _without(landing_grid(weekly_c, first_c, targets_c, year, latest, ["retailer_id", "category"]),
                     leave_out))


def _named(names: list[str], most: int = 5) -> str:
    """'A, B and C', or the first `most` names and how many more."""
    if len(names) > most:
        return f"{', '.join(names[:most])} and {len(names) - most} more"
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]


def _sell_out_notes(accounts: pd.DataFrame, leave_out: tuple[str, ...], names: dict, has_sell_in: bool) -> list[str]:
    if not leave_out:
        return []
    with_target = set(accounts.loc[accounts["has_target"].astype(bool), "retailer_id"])
    tracked = [names.get(r, r) for r in leave_out if r in with_target]
    untracked = [names.get(r, r) for r in leave_out if r not in with_target]
    if not has_sell_in:
        return ["No sell-in is loaded: each retailer's plan is tracked on sell-out value, against its sell-out "
                "target where it has one, each through its own latest sell-out week (below)."]
    notes = []
    if tracked:
        notes.append(f"No sell-in is loaded for {_named(tracked)}: their plan is tracked on sell-out value against "
                     "their sell-out target (below), not in the net sales figures.")
    if untracked:
        notes.append(f"No sell-in is loaded for {_named(untracked)} and they have no sell-out target: their "
                     "sell-out value is shown below without plan figures, and they are not in the net sales "
                     "figures.")
    return notes


def _quarter_began_last_year(cutoff: dt.date, year: int, calendar_name: str) -> bool:
    """True when the cutoff's (retail) quarter began in the calendar year before the plan year (a retail
    quarter runs across the turn of the year)."""
    quarter = calendar.quarter_of(cutoff, calendar_name)
    return any(calendar.quarter_of(w, calendar_name) == quarter for w in calendar.weeks_of_year(year - 1)[-14:])


_CARRIED = [f"{p}_{m}" for p in ("mtd", "qtd") for m in ("target", "actual")]


def _carry_in(frame: pd.DataFrame, before: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Tracking rows with the month and quarter to date of the weeks before the plan year (tracking() of the
    previous year's grid at the same cutoff) added in."""
    if frame.empty or before.empty:
        return frame
    out = frame.set_index(keys)
    earlier = before.set_index(keys)[_CARRIED].reindex(out.index)
    for col in _CARRIED:
        out[col] = out[col].add(earlier[col], fill_value=0.0)
    return _finish(out.reset_index())[frame.columns]


def page_data(engine: Engine, filters: Filters, calendar_name: str | None = None) -> PlanPage:
    """The plan-tracking page: the plan year's month, quarter and YTD against target, and the landing.

    calendar_name: months and quarters ("gregorian" | "retail-454"); default Settings.calendar."""
    calendar_name = calendar_name or settings_from_env().calendar
    scope = resolve(engine, filters)
    if scope is None:
        return PlanPage(notes=("No sales data is loaded.",), calendar_name=calendar_name)
    latest = sell_in_latest(engine, scope.period.latest_week)
    year = plan_year(filters, latest)
    cutoff = min(latest, calendar.weeks_of_year(year)[-1])
    notes = []
    leave_out = sell_out_only(engine, scope)
    if not engine.has("sell_in") and not leave_out:
        notes.append("Actuals need the sell_in table, which is not loaded.")
    if not engine.has("targets"):
        notes.append("No targets are loaded: actuals and the landing are shown without plan figures.")
    elif scope.brands:
        notes.append("Targets are set by retailer and category, so plan figures are hidden under a brand filter.")
    if filters.period not in ("ytd", "year"):
        notes.append(f"The plan is tracked over the year {year}; the period filter does not apply here.")
    grid_r, grid_c = _grids(engine, scope, year, latest, leave_out)
    by_retailer = tracking(grid_r, ["retailer_id"], cutoff, calendar_name)
    by_retailer_category = tracking(grid_c, ["retailer_id", "category"], cutoff, calendar_name)
    if _quarter_began_last_year(cutoff, year, calendar_name):
        before_r, before_c = _grids(engine, scope, year - 1, cutoff, leave_out)
        by_retailer = _carry_in(by_retailer, tracking(before_r, ["retailer_id"], cutoff, calendar_name),
                                ["retailer_id"])
        by_retailer_category = _carry_in(by_retailer_category, tracking(
            before_c, ["retailer_id", "category"], cutoff, calendar_name), ["retailer_id", "category"])
    names = retailers_in_scope(engine, scope)[["retailer_id", "retailer_name"]]
    by_retailer = names.merge(by_retailer, on="retailer_id", how="inner")
    by_retailer = by_retailer.sort_values(["landing_gap", "retailer_id"], na_position="last").reset_index(drop=True)
    by_category = rollup(by_retailer_category, ["category"])
    no_target = len(by_retailer) and by_retailer["annual_target"].isna().all()
    if engine.has("targets") and not scope.brands and no_target:
        notes.append(f"No retailer in view has a target for {year}: actuals are shown without plan figures.")
    accounts = sell_out_tracking(engine, scope, year, leave_out, calendar_name)
    notes += _sell_out_notes(accounts, leave_out, dict(zip(names["retailer_id"], names["retailer_name"])),
                             engine.has("sell_in"))
    totals_frame = rollup(by_retailer.assign(_all=""), ["_all"])
    totals = totals_frame.iloc[0].drop("_all").to_dict() if len(totals_frame) else {}
    return PlanPage(year=year, cutoff=cutoff,
                    remaining_weeks=len([w for w in calendar.weeks_of_year(year) if w > cutoff]),
                    calendar_name=calendar_name, retailers=by_retailer, categories=by_category,
                    waterfall=waterfall(by_retailer), sell_out_accounts=accounts, totals=totals,
                    notes=tuple(notes))


PLAN_COLUMNS = ["retailer_id", "category", "month", "target", "actual", "attainment", "ytd_target", "ytd_actual",
                "landing_estimate", "landing_low", "landing_high", "annual_target", "landing_gap",
                "required_weekly_run_rate"]


def _monthly_rows(grid: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    done = grid["basis"] == "actual"
    months = {w: dt.date(*calendar.month_of(w.date()), 1) for w in grid["week"].unique()}
    g = grid.assign(month=grid["week"].map(months),
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
    latest = sell_in_latest(engine, scope.period.latest_week)
    year = year or plan_year(filters, latest)
    grid_r, grid_c = _grids(engine, scope, year, latest, sell_out_only(engine, scope))
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
