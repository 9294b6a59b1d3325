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

from kam_dash import calendar, freshness
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
        "A year is complete for a series (a category under the filters in view) when it is fully loaded and at "
        "least one of the series' retailers reported sell-out in every one of its weeks (a row for any product). "
        "The year's values sum only those retailers: a retailer with an unreported week in a year is left out of "
        "that year (its missing week is not a zero), and the page says how many retailers each year used. Inside "
        "the year a week without a row for the series' products sold 0 units for those retailers (a real zero, "
        "such as sun care in winter). Years not fully loaded, years in which no retailer reported every week, "
        "and years in which the series sold nothing are left out; with fewer than two complete years the index "
        "rests on one year and is flagged. Months are calendar months (the Monday's month) whatever the "
        "KAM_DASH_CALENDAR setting, so the index lines up with the plan's monthly targets."
    ),
    "Peaks and troughs": "For each category, the three periods with the highest index and the three with the "
    "lowest.",
    "Year-over-year lines": "Weekly sell-out units of the chosen category over the retailers in view, one line "
    "per ISO year on an ISO week axis (partial years included). A week a retailer did not report (between its "
    "first and latest sell-out weeks) is never read as 0: that retailer's units that week are the straight line "
    "between its own reported weeks around it, and the page says how many retailer-weeks were filled so. The "
    "lines end at the latest week every retailer in view has reported (a retailer whose sell-out lags is not "
    "read as selling nothing).",
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
        "units over the retailers in view, the same weekly series as the year-over-year lines (unreported "
        "retailer-weeks interpolated, never 0, and marked on the chart; ending at the latest week every retailer "
        "has reported): trend + seasonal + remainder = the weekly units. It needs at least two years of weeks."
    ),
}

INDEX_COLUMNS = ["category", "period", "index", "years_used"]


# -- the estimator ------------------------------------------------------------------------
def _iso_weeks_in_year(year: int) -> int:
    return dt.date(year, 12, 28).isocalendar()[1]


def _calendar(weeks: pd.Series, grain: str) -> tuple[pd.Series, pd.Series]:
    """(year, period) of each week (datetime64 Mondays) at the grain, by kam_dash.calendar's rules.

    Month: the Gregorian year and month the Monday falls in (calendar.month_of). Week: the ISO year and the
    ISO week number with week 53 folded into 52 (calendar.week_number)."""
    codes, uniq = pd.factorize(pd.to_datetime(weeks))
    days = pd.DatetimeIndex(uniq).date
    if grain == "month":
        pairs = [calendar.month_of(d, calendar.GREGORIAN) for d in days]
    else:
        pairs = [(d.isocalendar()[0], calendar.week_number(d)) for d in days]
    table = np.array(pairs, dtype="int64").reshape(-1, 2)
    return (pd.Series(table[codes, 0], index=weeks.index, dtype="int64"),
            pd.Series(table[codes, 1], index=weeks.index, dtype="int64"))


def _weeks_in_year(year: int, grain: str) -> int:
    return len(calendar.weeks_of_year(year)) if grain == "month" else _iso_weeks_in_year(year)


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
        return pd.DataFrame(columns=index_cols), pd.DataFrame(columns=["series", "year", "status", "retailers"])
    # Integer keys: grouping by them is much cheaper than by text.
    codes, names = pd.factorize(weekly["series"], sort=True)
    year, period = _calendar(weekly["week"], grain)
    frame = pd.DataFrame({"s": codes, "year": year.to_numpy(), "period": period.to_numpy(),
                          "units": weekly["units"].to_numpy(dtype=float),
                          "reported": weekly["reported"].to_numpy(dtype=bool),
                          "retailers": weekly["retailers"].to_numpy() if "retailers" in weekly else np.nan})
    years = frame.groupby(["s", "year"], as_index=False).agg(
        weeks=("units", "size"), reported=("reported", "sum"), units=("units", "sum"),
        retailers=("retailers", "max"))
    expected = years["year"].map({y: _weeks_in_year(int(y), grain) for y in years["year"].unique()})
    years["status"] = np.select(
        [years["weeks"] < expected, years["reported"] < years["weeks"], ~(years["units"] > 0)],
        ["not fully loaded", "unreported weeks", "no sales"], "complete")
    complete = years[years["status"] == "complete"]
    years = pd.DataFrame({"series": names.take(years["s"]), "year": years["year"], "status": years["status"],
                          "retailers": years["retailers"]})
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
def retailer_category_weeks(engine: Engine, scope: Scope) -> pd.DataFrame:
    """Per category x retailer x week: sell-out units of the products in view, over the retailers in view
    (or every retailer when the view has no retailer filter): category, retailer_id, week, units.

    Which weeks each retailer reported comes from freshness.reported_weeks (any product), so a category or
    brand filter never turns a reported week into an unreported one."""
    p = engine.table("products")
    conds = ([p.category.isin(scope.categories)] if scope.categories else []) + (
        [p.brand.isin(scope.brands)] if scope.brands else [])
    p = p.filter(conds) if conds else p
    t = engine.table("sell_out")
    if scope.retailer_ids is not None:
        t = t.filter(t.retailer_id.isin(scope.retailer_ids) if scope.retailer_ids else ibis.literal(False))
    t = t.join(p.select("sku_id", "category"), "sku_id")
    frame = engine.execute(t.group_by(["category", "retailer_id", "week"]).aggregate(units=t.units.sum()))
    frame["week"] = pd.to_datetime(frame["week"]).astype("datetime64[ns]")
    frame["units"] = frame["units"].astype(float)
    return frame[["category", "retailer_id", "week", "units"]]


def reported_of(engine: Engine, retailer_ids) -> pd.DataFrame:
    """retailer_id, week (datetime64): the weeks each of the retailers (None = all) reported any sell-out."""
    rep = freshness.reported_weeks(engine)
    if retailer_ids is not None:
        rep = rep[rep["retailer_id"].isin(list(retailer_ids))]
    return pd.DataFrame({"retailer_id": rep["retailer_id"].to_numpy(),
                         "week": pd.to_datetime(rep["week"]).astype("datetime64[ns]").to_numpy()})


def full_reporters(reported: pd.DataFrame, weeks: pd.DatetimeIndex, grain: str) -> pd.DataFrame:
    """retailer_id, year: the retailers that reported sell-out in every week of a fully loaded year (the
    grain's year), the only ones a year's seasonal index reads (see DEFINITIONS, Complete year)."""
    if reported.empty or not len(weeks):
        return pd.DataFrame({"retailer_id": pd.Series(dtype=object), "year": pd.Series(dtype="int64")})
    loaded_year, _ = _calendar(pd.Series(weeks), grain)
    loaded = loaded_year.value_counts()
    expected = {int(y): _weeks_in_year(int(y), grain) for y in loaded.index}
    full_years = {y for y, n in loaded.items() if n == expected[int(y)]}
    rep = reported[reported["week"].isin(weeks)]
    year, _ = _calendar(rep["week"].reset_index(drop=True), grain)
    counts = pd.DataFrame({"retailer_id": rep["retailer_id"].to_numpy(), "year": year.to_numpy()}).value_counts()
    out = counts.reset_index(name="n")
    keep = out["year"].isin(full_years) & (out["n"] == out["year"].map(expected))
    return out.loc[keep, ["retailer_id", "year"]].reset_index(drop=True)


def series_grid(units: pd.DataFrame, reported: pd.DataFrame, categories: list[str], weeks: pd.DatetimeIndex,
                grain: str, label=None) -> pd.DataFrame:
    """A complete category x week grid for the seasonal index: series, category, week, units, reported,
    retailers.

    units: category, retailer_id, week, units (retailer_category_weeks); reported: retailer_id, week of the
    retailers of the view. A week's units are the sum over the retailers that reported every week of that
    week's year (full_reporters; a retailer x week without a row then sold 0); `retailers` counts them and
    `reported` is True when there is at least one."""
    full = full_reporters(reported, weeks, grain)
    grid = pd.MultiIndex.from_product([categories, weeks], names=["category", "week"]).to_frame(index=False)
    year, _ = _calendar(grid["week"], grain)
    n_full = full.groupby("year").size()
    grid["retailers"] = year.map(n_full).fillna(0).astype(int).to_numpy()
    if len(units) and len(full):
        u_year, _ = _calendar(units["week"].reset_index(drop=True), grain)
        u = units.reset_index(drop=True).assign(year=u_year.to_numpy())
        u = u.merge(full, on=["retailer_id", "year"])
        summed = u.groupby(["category", "week"])["units"].sum()
        grid["units"] = summed.reindex(pd.MultiIndex.from_frame(grid[["category", "week"]])).fillna(0.0).to_numpy()
    else:
        grid["units"] = 0.0
    grid["reported"] = grid["retailers"] > 0
    grid["series"] = grid["category"] if label is None else label
    return grid[["series", "category", "week", "units", "reported", "retailers"]]


def detail_series(units: pd.DataFrame, reported: pd.DataFrame, category: str, weeks: pd.DatetimeIndex
                  ) -> pd.DataFrame:
    """The weekly units of one category summed over the view's retailers: week, units, interpolated, late.

    A retailer's unreported week (inside its span of reported weeks) is never a 0: its units that week are the
    straight line between its own reported weeks around it, and `interpolated` counts the retailers so filled.
    After a retailer's latest sell-out week its units are unknown: `late` marks the weeks some retailer has not
    reported yet, which the charts leave out (they end where every retailer's sell-out ends). Before a
    retailer's first sell-out week it was not selling (0)."""
    rids = pd.Index(sorted(set(reported["retailer_id"])))
    n_weeks = len(weeks)
    out = pd.DataFrame({"week": weeks, "units": 0.0, "interpolated": 0, "late": False})
    if not len(rids) or not n_weeks:
        return out
    rep = reported[reported["week"].isin(weeks)]
    has = np.zeros((len(rids), n_weeks), dtype=bool)
    has[rids.get_indexer(rep["retailer_id"]), weeks.get_indexer(rep["week"])] = True
    one = units[(units["category"] == category) & units["retailer_id"].isin(rids) & units["week"].isin(weeks)]
    one = one.groupby(["retailer_id", "week"], as_index=False)["units"].sum()
    values = np.zeros((len(rids), n_weeks))
    values[rids.get_indexer(one["retailer_id"]), weeks.get_indexer(one["week"])] = one["units"].to_numpy(float)
    at = np.arange(n_weeks)
    any_week = has.any(axis=1)
    first = np.where(any_week, has.argmax(axis=1), n_weeks)
    last = np.where(any_week, n_weeks - 1 - has[:, ::-1].argmax(axis=1), -1)
    gap = (at >= first[:, None]) & (at <= last[:, None]) & ~has
    late = any_week[:, None] & (at > last[:, None])
    # Each retailer along its own weeks: a gap lies between two reported weeks, so the line always has both ends.
    filled = pd.DataFrame(np.where(gap, np.nan, values).T).interpolate(limit_area="inside").to_numpy().T
    out["units"] = np.where(late, 0.0, filled).sum(axis=0)
    out["interpolated"] = gap.sum(axis=0)
    out["late"] = late.any(axis=0)
    return out


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
def stl_input(series: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The weeks STL reads from a detail_series (week, units, interpolated) and how many of them hold an
    interpolated retailer-week: up to the last week every retailer has reported (later weeks are not in yet)."""
    shown = series[~series["late"].to_numpy(dtype=bool)]
    gap = shown["interpolated"].to_numpy() > 0
    return (pd.DataFrame({"week": shown["week"].to_numpy(), "units": shown["units"].to_numpy(dtype=float),
                          "interpolated": gap}), int(gap.sum()))


def decompose(series: pd.DataFrame) -> pd.DataFrame | None:
    """STL of weekly units (columns week, units, optional interpolated) over its span; None when under two
    cycles."""
    from statsmodels.tsa.seasonal import STL

    if len(series) < 2 * STL_PERIOD or series["units"].sum() <= 0:
        return None
    values = series.set_index("week")["units"].astype(float)
    # Robust to promotion spikes; five outer passes settle it at a fraction of the default's cost.
    fit = STL(values.to_numpy(), period=STL_PERIOD, robust=True).fit(outer_iter=5)
    interpolated = (series["interpolated"].to_numpy(dtype=bool) if "interpolated" in series
                    else np.zeros(len(series), dtype=bool))
    return pd.DataFrame({"week": values.index, "observed": values.to_numpy(), "trend": fit.trend,
                         "seasonal": fit.seasonal, "remainder": fit.resid, "interpolated": interpolated})


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


def _index_for(units: pd.DataFrame, reported: pd.DataFrame, categories: list[str], weeks: pd.DatetimeIndex,
               grain: str, label=None):
    grid = series_grid(units, reported, categories, weeks, grain, label)
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


def coverage_note(years: pd.DataFrame, reported: pd.DataFrame) -> str | None:
    """Which complete years left out retailers that did not report every week (None when none did)."""
    if "retailers" not in years or reported.empty:
        return None
    total = reported["retailer_id"].nunique()
    used = years[years["status"] == "complete"].groupby("year")["retailers"].max()
    short = [f"{int(y)}: {int(n)} of {total}" for y, n in used.items() if n < total]
    if not short:
        return None
    return ("Retailers with an unreported week in a year are left out of that year's index (their missing "
            "weeks are not zeros); retailers used: " + "; ".join(short) + ".")


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

    units = retailer_category_weeks(engine, scope)
    reported = reported_of(engine, scope.retailer_ids)
    weeks = _loaded_weeks(engine, scope)
    (index, years), _ = _index_for(units, reported, categories, weeks, grain)
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
    coverage = coverage_note(years, reported)
    if coverage:
        notes.append(coverage)

    # The detail charts: one category, every retailer in view; an unreported retailer-week is interpolated from
    # that retailer's own weeks around it, never read as 0, and weeks not every retailer has reported yet end them.
    detail = detail_series(units, reported, category, weeks)
    shown = detail[~detail["late"]]
    iso = shown["week"].dt.isocalendar()
    yoy = pd.DataFrame({"year": iso["year"].astype(int).to_numpy(), "week_of_year": iso["week"].astype(int).to_numpy(),
                        "units": shown["units"].to_numpy()})
    filled = int(detail["interpolated"].sum())
    if filled:
        notes.append(f"{filled} unreported retailer-week{'s' if filled != 1 else ''} (no sell-out from the retailer) "
                     f"{'are' if filled != 1 else 'is'} interpolated in the year-over-year lines and the trend split: "
                     f"a straight line between that retailer's own reported weeks around "
                     f"{'them' if filled != 1 else 'it'}, never 0.")
    if detail["late"].any() and len(shown):
        notes.append(f"The weekly lines stop at {shown['week'].max():%d %b %Y}, the latest week every retailer in view "
                     f"has reported sell-out for.")
    names = dict(zip(retailers(engine)["retailer_id"], retailers(engine)["retailer_name"]))
    if scope.retailer_ids is None:
        all_units, all_reported = units, reported
    else:
        every = Scope(scope.period, None, scope.sku_ids, scope.categories, scope.brands)
        all_units, all_reported = retailer_category_weeks(engine, every), reported_of(engine, None)
    (portfolio, _), _ = _index_for(all_units, all_reported, [category], weeks, grain, "Portfolio")
    comparison = [portfolio]
    if retailer:
        (focus, _), _ = _index_for(units[units["retailer_id"] == retailer],
                                   reported[reported["retailer_id"] == retailer], [category], weeks, grain,
                                   names.get(retailer, retailer))
        comparison.append(focus)
        if focus.empty:
            notes.append(f"{names.get(retailer, retailer)} has no complete year of {category} sell-out to "
                         f"compare with the portfolio.")
    comparison = pd.concat(comparison, ignore_index=True)[["series", "period", "index"]]

    year = plan.plan_year(filters, scope.period.latest_week)
    phasing, measure = plan_phasing(engine, scope, year)
    (monthly, _), _ = (_index_for(units, reported, [category], weeks, "month")
                       if grain != "month" else ((index, years), None))
    seasonal = monthly[monthly["series"] == category][["period", "index"]].rename(columns={"index": "seasonal_index"})
    plan_index = phasing[phasing["series"] == category][["period", "index"]].rename(columns={"index": "plan_index"})
    phasing_frame = seasonal.merge(plan_index, on="period", how="outer").sort_values("period")
    if measure is None:
        notes.append("No category targets apply here (none loaded, or a brand filter), so the plan's phasing "
                     "is not shown.")
    elif plan_index.empty:
        notes.append(f"The {year} plan has no full year of monthly {category} targets for the retailers in view.")

    stl_weeks, interpolated = stl_input(detail)
    stl = decompose(stl_weeks)
    if stl is None:
        notes.append(f"The trend / seasonal / remainder split of {category} needs at least {2 * STL_PERIOD} "
                     f"weeks of sell-out; there are {len(stl_weeks)}.")
    elif interpolated:
        notes.append(f"{interpolated} week{'s' if interpolated != 1 else ''} of the trend split hold"
                     f"{'' if interpolated != 1 else 's'} interpolated retailer-weeks; they are marked on the chart.")
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
    (index, _), _ = _index_for(retailer_category_weeks(engine, scope), reported_of(engine, scope.retailer_ids),
                               categories, _loaded_weeks(engine, scope), grain)
    return index.rename(columns={"series": "category"})[INDEX_COLUMNS].reset_index(drop=True)


@export_metric("seasonality", columns=INDEX_COLUMNS, options=("grain",),
               examples=({"grain": "month"}, {"grain": "week"}))
def export_seasonality(engine: Engine, filters: Filters, grain: str = "month") -> pd.DataFrame:
    return seasonal_indices(engine, filters, grain)
