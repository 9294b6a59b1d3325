"""Seasonality: when in the year each category sells, from sell-out units.

One scan of sell-out gives weekly units per category (for the filters in view, for all retailers and
for one chosen retailer) and which weeks were reported; everything else is arithmetic on those few
thousand rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd

from kam_dash.engine import Engine
from kam_dash.export import export_metric
from kam_dash.filters import Filters
from kam_dash.metrics import plan
from kam_dash.scope import Scope, first_week, products, resolve, retailers, retailers_in_scope

GRAINS = {"month": "Month", "week": "ISO week"}
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
STL_PERIOD = 52  # weeks in a seasonal cycle
# Target measures for the plan's phasing, best first: units compare like with like with sell-out units.
PHASING_MEASURES = {"units_target": "units target", "sell_out_target": "sell-out value target",
                    "net_sales_target": "net sales target"}

DEFINITIONS = {
    "Seasonal index": (
        "How a period's sell-out units compare with an average period of the year (100 = average, 130 = 30% "
        "above). For each complete year, each period's value is divided by that year's mean over its periods; "
        "the index is the mean of those ratios across the complete years, rescaled so the indices of a year "
        "average 100. Month grain: a month's value is its mean weekly units over the weeks whose Monday falls "
        "in the month (so 4- and 5-week months compare fairly), and the year is the calendar year of the "
        "Mondays. Week grain: the period is the ISO week number within its ISO year, and week 53 is averaged "
        "with week 52. All loaded history is used; the period filter does not apply. Retailer, channel, "
        "category and brand filters do."
    ),
    "Complete year": (
        "A year is complete for a series (a category under the filters in view) when sell-out was reported "
        "in every one of its weeks: each week has at least one sell-out row (any product) of the series' "
        "retailers. Inside a complete year a week without a row for the series' products sold 0 units (a "
        "real zero, such as sun care in winter). Years not fully loaded, years with an unreported week, and "
        "years in which the series sold nothing are left out; with fewer than two complete years the index "
        "rests on one year and is flagged."
    ),
    "Peaks and troughs": "For each category, the three periods with the highest index and the three with the "
    "lowest.",
    "Year-over-year lines": "Weekly sell-out units of the chosen category, one line per ISO year on an ISO "
    "week axis (partial years included).",
    "Retailer vs portfolio": "The chosen retailer's seasonal index for the category beside the portfolio's "
    "(every retailer, same brand filter), both computed as above from their own complete years.",
    "Plan phasing index": (
        "The plan year's monthly targets of the category (retailers in view) as an index on the same scale: "
        "each month's target divided by its number of weeks (a mean weekly target), divided by the mean over "
        "the 12 months, times 100. The units target is used where every target row has one, else the sell-out "
        "value target, else the net sales target. Where the plan index is above the seasonal index, the plan "
        "asks for more than the season usually gives."
    ),
    "Trend / seasonal / remainder": (
        "STL decomposition (statsmodels, robust, 52-week season) of the chosen category's weekly sell-out "
        "units over the reported weeks: trend + seasonal + remainder = the weekly units. It needs at least "
        "two years of weeks."
    ),
}

INDEX_COLUMNS = ["category", "period", "index", "years_used"]


# -- the estimator ------------------------------------------------------------------------
def _iso_weeks_in_year(year: int) -> int:
    return dt.date(year, 12, 28).isocalendar()[1]


def _calendar(weeks: pd.Series, grain: str) -> tuple[pd.Series, pd.Series]:
    """(year, period) of each week (datetime64 Mondays) at the grain."""
    if grain == "month":
        return weeks.dt.year.astype(int), weeks.dt.month.astype(int)
    iso = weeks.dt.isocalendar()
    return iso["year"].astype(int), iso["week"].astype(int).clip(upper=52)


def _weeks_in_year(year: int, grain: str) -> int:
    return len(plan.year_weeks(year)) if grain == "month" else _iso_weeks_in_year(year)


def seasonal_index(weekly: pd.DataFrame, grain: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The seasonal index of each series from its weekly units (see DEFINITIONS).

    weekly: one row per series x week over the loaded weeks (a complete grid), columns series, week
    (datetime64 Monday), units (0 where nothing sold), reported (bool: the series' retailers reported
    sell-out that week).
    Returns (index: series, period, index, years_used, n_years; years: series, year, status) where status
    is 'complete', 'not fully loaded', 'unreported weeks' or 'no sales'.
    """
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}")
    index_cols = ["series", "period", "index", "years_used", "n_years"]
    if weekly.empty:
        return pd.DataFrame(columns=index_cols), pd.DataFrame(columns=["series", "year", "status"])
    # Integer keys: grouping by them is much cheaper than by text.
    codes, names = pd.factorize(weekly["series"], sort=True)
    year, period = _calendar(weekly["week"], grain)
    frame = pd.DataFrame({"s": codes, "year": year.to_numpy(), "period": period.to_numpy(),
                          "units": weekly["units"].to_numpy(dtype=float),
                          "reported": weekly["reported"].to_numpy(dtype=bool)})
    years = frame.groupby(["s", "year"], as_index=False).agg(
        weeks=("units", "size"), reported=("reported", "sum"), units=("units", "sum"))
    expected = years["year"].map({y: _weeks_in_year(int(y), grain) for y in years["year"].unique()})
    years["status"] = np.select(
        [years["weeks"] < expected, years["reported"] < years["weeks"], ~(years["units"] > 0)],
        ["not fully loaded", "unreported weeks", "no sales"], "complete")
    complete = years[years["status"] == "complete"]
    years = pd.DataFrame({"series": names.take(years["s"]), "year": years["year"], "status": years["status"]})
    if complete.empty:
        return pd.DataFrame(columns=index_cols), years

    used = frame.merge(complete[["s", "year"]], on=["s", "year"])
    values = used.groupby(["s", "year", "period"])["units"].mean()
    ratios = values / values.groupby(level=["s", "year"]).transform("mean")
    index = ratios.groupby(level=["s", "period"]).mean()
    index = (index / index.groupby(level="s").transform("mean") * 100).rename("index").reset_index()
    used_years = complete.groupby("s")["year"].agg(lambda ys: sorted(int(y) for y in ys))
    index["years_used"] = index["s"].map(used_years.map(lambda ys: ", ".join(map(str, ys))))
    index["n_years"] = index["s"].map(used_years.map(len))
    index["series"] = names.take(index["s"])
    return index[index_cols], years


def period_label(period: int, grain: str) -> str:
    return MONTH_NAMES[int(period) - 1] if grain == "month" else f"W{int(period):02d}"


def peaks_and_troughs(index: pd.DataFrame, grain: str, n: int = 3) -> pd.DataFrame:
    """The n highest and n lowest periods of each series: series, kind, rank, period, label, index."""
    parts = []
    for kind, ascending in (("Peak", False), ("Trough", True)):
        ordered = index.sort_values(["series", "index", "period"], ascending=[True, ascending, True])
        top = ordered.groupby("series", sort=False).head(n).copy()
        top["kind"] = kind
        top["rank"] = top.groupby("series").cumcount() + 1
        parts.append(top)
    out = pd.concat(parts).sort_values("series", kind="stable")  # peaks first, then troughs, by rank
    out["period"] = out["period"].astype(int)
    out["label"] = [period_label(p, grain) for p in out["period"]]
    return out[["series", "kind", "rank", "period", "label", "index"]].reset_index(drop=True)


# -- reading the data -----------------------------------------------------------------------
def _category_weeks(engine: Engine, scope: Scope, retailer_ids: tuple[str, ...] | None) -> pd.DataFrame:
    """Per category x week: the units of the products in view (units) and the sell-out rows of any product
    (rows), over the given retailers (None = all)."""
    p = engine.table("products")
    conds = ([p.category.isin(scope.categories)] if scope.categories else []) + (
        [p.brand.isin(scope.brands)] if scope.brands else [])
    t = engine.table("sell_out")
    if retailer_ids is not None:
        t = t.filter(t.retailer_id.isin(retailer_ids))
    keys = ["category", "week"]
    if conds:
        # A flag on the small products table, grouped by: the rows of other products still say the week
        # was reported.
        t = t.join(p.select("sku_id", "category", in_view=ibis.and_(*conds)), "sku_id")
        keys.append("in_view")
    else:
        t = t.join(p.select("sku_id", "category"), "sku_id")
    frame = engine.execute(t.group_by(keys).aggregate(units=t.units.sum(), rows=t.count()))
    frame["week"] = pd.to_datetime(frame["week"]).astype("datetime64[ns]")
    frame["units"] = frame["units"].astype(float)
    if conds:
        frame["units"] = frame["units"].where(frame["in_view"].astype(bool), 0.0)
        frame = frame.groupby(["category", "week"], as_index=False)[["units", "rows"]].sum()
    return frame[["category", "week", "units", "rows"]]


def weekly_sell_out(engine: Engine, scope: Scope, focus: str | None = None) -> pd.DataFrame:
    """Per category x week: the units of the products in view for the retailers in view (units), for every
    retailer (units_all) and for the focus retailer (units_focus), and the sell-out rows of any product of
    those retailers (rows, rows_all, rows_focus). Weeks are datetime64.

    Sell-out is stored retailer by retailer, so the scans for a few retailers are cheap; only the
    portfolio reads every row (once, shared with the view when no retailer filter is set)."""
    views = {"": _category_weeks(engine, scope, scope.retailer_ids)}
    views["_all"] = views[""] if scope.retailer_ids is None else _category_weeks(engine, scope, None)
    if focus:
        views["_focus"] = _category_weeks(engine, scope, (focus,))
    frame = None
    for suffix, view in views.items():
        view = view.rename(columns={"units": f"units{suffix}", "rows": f"rows{suffix}"})
        frame = view if frame is None else frame.merge(view, on=["category", "week"], how="outer")
    for col in ("units_focus", "rows_focus"):
        if col not in frame:
            frame[col] = 0
    return frame.fillna(0)


def series_grid(weekly: pd.DataFrame, units: str, rows: str, categories: list[str],
                 weeks: pd.DatetimeIndex, label=None) -> pd.DataFrame:
    """A complete category x week grid of one view of weekly_sell_out(): series, week, units, reported."""
    reported_weeks = weekly.groupby("week")[rows].sum()
    reported = reported_weeks.reindex(weeks, fill_value=0) > 0
    grid = pd.MultiIndex.from_product([categories, weeks], names=["category", "week"]).to_frame(index=False)
    grid = grid.merge(weekly[["category", "week", units]], on=["category", "week"], how="left")
    grid["units"] = grid[units].fillna(0.0)
    grid["reported"] = grid["week"].map(reported).fillna(False).astype(bool)
    grid["series"] = grid["category"] if label is None else label
    return grid[["series", "category", "week", "units", "reported"]]


# -- the plan's phasing ------------------------------------------------------------------
def plan_phasing(engine: Engine, scope: Scope, year: int) -> tuple[pd.DataFrame, str | None]:
    """The plan year's monthly phasing per category as an index (see DEFINITIONS): (series, period, index),
    and the target measure used (None when there is no usable plan)."""
    empty = pd.DataFrame(columns=["series", "period", "index"])
    weeks = plan.year_weeks(year)
    for measure, label in PHASING_MEASURES.items():
        rows = plan.target_rows(engine, scope, weeks[0], weeks[-1], measure)
        if rows is None:
            return empty, None
        rows = rows[rows["category"] != ""]
        if rows.empty:
            return empty, None
        if rows["value"].notna().all():
            break
    else:
        return empty, None
    monthly = rows.groupby(["category", "month"], as_index=False)["value"].sum()
    monthly["period"] = pd.to_datetime(monthly["month"]).dt.month
    monthly["mean_weekly"] = monthly["value"] / monthly["month"].map(lambda m: len(plan.weeks_of_month(m)))
    full = monthly.groupby("category")["period"].transform("nunique") == 12
    monthly = monthly[full & (monthly.groupby("category")["value"].transform("sum") > 0)]
    monthly["index"] = monthly["mean_weekly"] / monthly.groupby("category")["mean_weekly"].transform("mean") * 100
    return monthly.rename(columns={"category": "series"})[["series", "period", "index"]], label


# -- STL ----------------------------------------------------------------------------------
def decompose(series: pd.DataFrame) -> pd.DataFrame | None:
    """STL of weekly units (columns week, units) over its reported span; None when under two cycles."""
    from statsmodels.tsa.seasonal import STL

    if len(series) < 2 * STL_PERIOD or series["units"].sum() <= 0:
        return None
    values = series.set_index("week")["units"].astype(float)
    # Robust to promotion spikes; five outer passes settle it at a fraction of the default's cost.
    fit = STL(values.to_numpy(), period=STL_PERIOD, robust=True).fit(outer_iter=5)
    return pd.DataFrame({"week": values.index, "observed": values.to_numpy(), "trend": fit.trend,
                         "seasonal": fit.seasonal, "remainder": fit.resid})


# -- the page --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeasonalityPage:
    """Everything the seasonality page shows. Index frames: series, period, index, years_used, n_years."""

    grain: str = "month"
    categories: tuple[str, ...] = ()
    category: str | None = None  # the category the detail charts are about
    retailer: str | None = None  # the retailer compared with the portfolio
    index: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["series", "period", "index", "years_used", "n_years"]))
    years: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["series", "year", "status"]))
    peaks: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["series", "kind", "rank", "period", "label", "index"]))
    yoy: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["year", "week_of_year", "units"]))
    comparison: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["series", "period", "index"]))
    phasing: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["period", "seasonal_index", "plan_index"]))
    phasing_measure: str | None = None
    plan_year: int | None = None
    stl: pd.DataFrame | None = None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _years_note(years: pd.DataFrame, series: str, index_years: str | None) -> str:
    left_out = years[(years["series"] == series) & (years["status"] != "complete")]
    parts = [f"{int(r.year)} ({r.status})" for r in left_out.itertuples()]
    used = f"uses {index_years}" if index_years else "has no complete year"
    return f"{series}: {used}" + (f"; left out {', '.join(parts)}" if parts else "")


def _index_for(weekly: pd.DataFrame, units: str, rows: str, categories: list[str], weeks: pd.DatetimeIndex,
               grain: str, label=None):
    grid = series_grid(weekly, units, rows, categories, weeks, label)
    return seasonal_index(grid, grain), grid


def _loaded_weeks(engine: Engine, scope: Scope) -> pd.DatetimeIndex:
    first = first_week(engine)
    return pd.date_range(first, scope.period.latest_week, freq="7D").astype("datetime64[ns]")


def categories_in_view(engine: Engine, scope: Scope) -> list[str]:
    p = products(engine)
    if scope.categories:
        p = p[p["category"].isin(scope.categories)]
    if scope.brands:
        p = p[p["brand"].isin(scope.brands)]
    return sorted(set(p["category"].dropna()))


def choices(engine: Engine, filters: Filters) -> tuple[list[str], dict[str, str]]:
    """What the page's selectors offer: the categories in view, and the retailers in view (id -> name) to
    compare with the portfolio."""
    scope = resolve(engine, filters)
    if scope is None:
        return [], {}
    frame = retailers_in_scope(engine, scope).sort_values("retailer_id")
    return categories_in_view(engine, scope), dict(zip(frame["retailer_id"], frame["retailer_name"]))


def page_data(engine: Engine, filters: Filters, grain: str = "month", category: str | None = None,
              retailer: str | None = None) -> SeasonalityPage:
    """The seasonality page. category: the one the detail charts are about; retailer: the one compared with
    the portfolio (each defaults to the first in view, see choices())."""
    grain = grain if grain in GRAINS else "month"
    scope = resolve(engine, filters)
    if scope is None or not engine.has("sell_out"):
        return SeasonalityPage(grain=grain, notes=("Seasonality needs the sell_out table, which is not loaded.",))
    categories = categories_in_view(engine, scope)
    if not categories or scope.retailer_ids == ():
        return SeasonalityPage(grain=grain, notes=("No retailer or product matches the filters.",))
    category = category if category in categories else categories[0]
    in_view = sorted(retailers_in_scope(engine, scope)["retailer_id"])
    if retailer not in in_view:
        retailer = in_view[0] if in_view else None

    weekly = weekly_sell_out(engine, scope, retailer)
    weeks = _loaded_weeks(engine, scope)
    (index, years), grid = _index_for(weekly, "units", "rows", categories, weeks, grain)
    warnings, notes = [], []
    n_years = index.groupby("series")["n_years"].first()
    for cat in categories:
        years_used = index.loc[index["series"] == cat, "years_used"]
        if cat not in n_years.index:
            warnings.append(f"No seasonal index for {_years_note(years, cat, None)}.")
        elif n_years[cat] < 2:
            warnings.append(f"Only one complete year, so the index is one year's pattern, not a seasonal "
                            f"average. {_years_note(years, cat, years_used.iloc[0])}.")
    left_out = years[years["status"] != "complete"]
    if len(left_out):
        by_year = left_out.groupby(["year", "status"])["series"].size().reset_index()
        notes.append("Years left out of the index (not complete): " + "; ".join(
            f"{int(r.year)}: {r.status} ({r.series} of {len(categories)} categories)" for r in by_year.itertuples())
            + ".")

    # The detail charts: one category.
    one = grid[grid["category"] == category]
    reported = one[one["reported"]]
    yoy = pd.DataFrame({"year": reported["week"].dt.isocalendar()["year"].astype(int),
                        "week_of_year": reported["week"].dt.isocalendar()["week"].astype(int),
                        "units": reported["units"].to_numpy()})
    names = dict(zip(retailers(engine)["retailer_id"], retailers(engine)["retailer_name"]))
    (portfolio, _), _ = _index_for(weekly, "units_all", "rows_all", [category], weeks, grain, "Portfolio")
    comparison = [portfolio]
    if retailer:
        (focus, focus_years), _ = _index_for(weekly, "units_focus", "rows_focus", [category], weeks, grain,
                                             names.get(retailer, retailer))
        comparison.append(focus)
        if focus.empty:
            notes.append(f"{names.get(retailer, retailer)} has no complete year of {category} sell-out to "
                         f"compare with the portfolio.")
    comparison = pd.concat(comparison, ignore_index=True)[["series", "period", "index"]]

    year = plan.plan_year(filters, scope.period.latest_week)
    phasing, measure = plan_phasing(engine, scope, year)
    (monthly, _), _ = (_index_for(weekly, "units", "rows", [category], weeks, "month")
                       if grain != "month" else ((index, years), grid))
    seasonal = monthly[monthly["series"] == category][["period", "index"]].rename(columns={"index": "seasonal_index"})
    plan_index = phasing[phasing["series"] == category][["period", "index"]].rename(columns={"index": "plan_index"})
    phasing_frame = seasonal.merge(plan_index, on="period", how="outer").sort_values("period")
    if measure is None:
        notes.append("No category targets apply here (none loaded, or a brand filter), so the plan's phasing "
                     "is not shown.")
    elif plan_index.empty:
        notes.append(f"The {year} plan has no full year of monthly {category} targets for the retailers in view.")

    span = reported["week"]
    stl_input = one[(one["week"] >= span.min()) & (one["week"] <= span.max())] if len(span) else one.iloc[:0]
    stl = decompose(stl_input[["week", "units"]])
    if stl is None:
        notes.append(f"The trend / seasonal / remainder split of {category} needs at least {2 * STL_PERIOD} "
                     f"reported weeks; there are {len(stl_input)}.")
    return SeasonalityPage(
        grain=grain, categories=tuple(categories), category=category, retailer=retailer, index=index, years=years,
        peaks=peaks_and_troughs(index, grain), yoy=yoy, comparison=comparison,
        phasing=phasing_frame.reset_index(drop=True), phasing_measure=measure if not plan_index.empty else None,
        plan_year=year, stl=stl, warnings=tuple(warnings), notes=tuple(notes))


def seasonal_indices(engine: Engine, filters: Filters, grain: str = "month") -> pd.DataFrame:
    """The export `seasonality`: category, period, index, years_used (categories with a complete year)."""
    scope = resolve(engine, filters)
    if scope is None or not engine.has("sell_out"):
        return pd.DataFrame(columns=INDEX_COLUMNS)
    categories = categories_in_view(engine, scope)
    if not categories or scope.retailer_ids == ():
        return pd.DataFrame(columns=INDEX_COLUMNS)
    weekly = weekly_sell_out(engine, scope)
    (index, _), _ = _index_for(weekly, "units", "rows", categories, _loaded_weeks(engine, scope), grain)
    return index.rename(columns={"series": "category"})[INDEX_COLUMNS].reset_index(drop=True)


@export_metric("seasonality", columns=INDEX_COLUMNS, options=("grain",),
               examples=({"grain": "month"}, {"grain": "week"}))
def export_seasonality(engine: Engine, filters: Filters, grain: str = "month") -> pd.DataFrame:
    return seasonal_indices(engine, filters, grain)
