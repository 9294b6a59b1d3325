"""Promotions: what each promotion really added over its baseline, and whether it paid.

The engine does the heavy lifting in four small queries: sell-out units of each event's retailer x SKU
in the weeks around it (a join of the events to weekly sell-out, restricted to their windows), the
stock-out weeks in the same windows, the sell-in price before each event, and (once per database) the
category seasonal index. Everything after that is arithmetic on a few rows per event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import ibis
import numpy as np
import pandas as pd

from kam_dash import calendar, derived, freshness
from kam_dash import scope as scopes
from kam_dash.engine import Engine
from kam_dash.export import export_metric
from kam_dash.filters import Filters
from kam_dash.metrics import seasonality
from kam_dash.scope import Scope, resolve

METHODS = {  # the default first: the page offers them in this order
    "seasonal_pre": "Seasonal pre-period",
    "pre_period": "Pre-period",
    "pre_post": "Pre and post",
    "last_year": "Last year",
}
DEFAULT_METHOD = "seasonal_pre"  # the most accurate on demo seeds 1-5 (see accuracy_report and the tests)
PRE_WEEKS = 8  # weeks before the event a baseline looks at
DIP_WEEKS = 2  # weeks after a promotion that belong to its post-promotion dip
POST_WEEKS = 8  # weeks after the dip that pre_post also looks at
MIN_CLEAN = 4  # clean weeks a baseline needs
PRICE_WEEKS = 13  # weeks of sell-in before the event that set its net price
WEEK = pd.Timedelta(weeks=1)
LAST_YEAR = pd.Timedelta(calendar.LAST_YEAR)  # the span of "the same weeks last year" (calendar.last_year per week)

DEFINITIONS = {
    "Promotion event": "A row of the promotions table: one retailer x SKU from start to end date (inclusive). "
    "Its weeks are the ISO weeks (Mondays) it touches; a one-day promotion touches one week. An event is in "
    "view when one of its weeks falls in the period and its retailer and SKU pass the filters.",
    "Clean week": "A week of the event's retailer x SKU that can stand for normal sales: the retailer reported "
    "sell-out that week (see Unreported weeks; a week after the retailer's own latest sell-out week is not "
    "reported yet), the line had sold in the weeks we look at by then (before its first sale it was not on the "
    "shelf), it is not inside another promotion of the same retailer x SKU, not in the 2 weeks after one (the "
    "post-promotion dip), and not a stock-out week (retailer on-hand 0 at the end of the week). Sell-out units of "
    "a week are summed over store and online; inside a reported week a line with no row sold 0.",
    "Unreported weeks skipped": "Per event, the weeks among those its baselines and dip read (this year's and "
    "last year's) in which its retailer reported no sell-out for any SKU. They are never clean weeks and never "
    "dip weeks; an event week that is unreported leaves the event without actual units or lift.",
    "Baseline: seasonal_pre (default)": "The mean weekly sell-out units of the clean weeks among the 8 weeks "
    "before the event, rescaled week by week by the category's seasonal index: baseline of a week = pre-period "
    "mean x index of that week / mean index of the clean pre-weeks used. Needs at least 4 clean pre-weeks. Where "
    "the category has no seasonal index yet (no complete year) it keeps the plain pre-period mean, with a flag. "
    "It is the default because it is the most accurate on the demo's planted lifts over seeds it was not tuned "
    "to (total incremental units within 10%, median lift error under 8 points).",
    "Baseline: pre_period": "The mean weekly sell-out units of the clean weeks among the 8 weeks before the "
    "event, for every event week and the 2 weeks after. Needs at least 4 clean weeks.",
    "Baseline: pre_post": "The mean weekly units of the clean weeks among the 8 weeks before the event and "
    "the 8 weeks that follow the 2 dip weeks right after it (weeks 3 to 10 after the last event week). "
    "Needs at least 4 clean weeks.",
    "Category seasonal index (weekly)": "The Seasonality page's seasonal index of the category at week grain "
    "(ISO week numbers, week 53 folded into 52), over every retailer and every complete year loaded, each year "
    "reading only the retailers that reported every week of it (see Seasonality: Seasonal index, Complete "
    "year). It leaves out each retailer x SKU line in the years it was promoted (any event week or the 2 weeks "
    "after), so promotions, an event's own lift included, do not pose as season; where the unpromoted lines "
    "hold under a quarter of the category's units, it reads every line. No filter applies: seasonality "
    "belongs to the category.",
    "Baseline: last_year": "The units of the same weeks last year (each week's last year: 364 days earlier, "
    "none for a 53rd Monday such as 30 Dec 2024), scaled by the ratio of this year's to last year's pre-period "
    "(mean of the clean weeks among the 8 weeks before the event, and among their last years). A last-year week "
    "that is not clean, or does not exist, takes the mean of the clean last-year event weeks. Needs at least one "
    "clean last-year event week and at least 4 clean weeks in each pre-period; its clean weeks count all three.",
    "Low baseline coverage": "A method that lacks enough clean weeks gives no lift for that event; the flag "
    "says how many clean weeks it found. No number is made up.",
    "Baseline units": "The method's baseline summed over the event weeks.",
    "Actual units": "Sell-out units over the event weeks. An event that has not started, or is not over, in "
    "its retailer's sell-out (each retailer's sell-out stops at its own latest week, which may lag the other "
    "tables) is unfinished: no actual units and no lift yet, never a drop to zero. Nor has an event one of whose "
    "weeks its retailer did not report.",
    "Incremental units": "Actual minus baseline units over the event weeks.",
    "Lift": "Incremental units divided by baseline units (0.25 = +25%). Empty when the baseline is zero.",
    "Post-promotion dip": "Baseline minus actual units over the 2 weeks after the event (positive = a dip). "
    "Empty, with a flag, when those weeks are not yet reported by the retailer, include a week it did not "
    "report, fall inside another promotion or are stock-out weeks.",
    "Net incremental units": "Incremental units minus the post-promotion dip.",
    "Overlapping promotions": "When promotions of the same retailer x SKU overlap, each counts all the units "
    "above its baseline in its own weeks, so their lift is shared and must not be added up; the flag names "
    "the other promotions. Weeks inside one are never clean weeks for the other.",
    "Stock-out during the event": "A stock-out week among the event weeks cuts its sales short, so its lift "
    "is understated; the lift is still shown, with a flag.",
    "Net price": "Sell-in net sales divided by sell-in units of the retailer x SKU over the 13 weeks before "
    "the event (the manufacturer's price after invoice discounts). Empty when no units were shipped.",
    "Incremental gross profit": "Net incremental units x (net price - unit cost). Empty when the unit cost "
    "or the net price is missing.",
    "ROI": "(Incremental gross profit - trade spend) / trade spend. Empty when the trade spend is missing or "
    "zero. An event paid back when its ROI is at least 0.",
    "Cost per incremental unit": "Trade spend / net incremental units. Empty when the trade spend is missing "
    "or zero, or when there are no net incremental units.",
    "Share paid back": "Events with ROI >= 0 divided by the events that have an ROI.",
    "Actual vs plan": "Incremental units divided by the planned incremental units of the promotions table, "
    "minus 1 (-0.2 = 20% short of plan). Empty where no plan was recorded.",
    "ROI of a group": "For all events in view (the ROI tile), or those of one mechanic or retailer: (sum of "
    "incremental gross profit - sum of trade spend) / sum of trade spend, over the events that have an ROI.",
    "Lift vs discount line": "For each mechanic with at least 3 measured events at 2 or more discount depths, "
    "the least-squares straight line of lift on discount depth, drawn over the depths seen. Events with a "
    "stock-out during the event are drawn but left out of the fit (their lift is understated).",
}

EXPORT_COLUMNS = [
    "promo_id", "retailer_id", "sku_id", "mechanic", "discount_pct", "start_week", "end_week", "method",
    "clean_weeks", "baseline_units", "actual_units", "incremental_units", "lift_pct", "post_dip_units",
    "net_incremental_units", "net_price", "unit_cost", "trade_spend", "incremental_gross_profit", "roi",
    "cost_per_incremental_unit", "planned_incremental_units", "unreported_weeks", "flag",
]
PROMO_COLUMNS = ["promo_id", "retailer_id", "sku_id", "start_date", "end_date", "mechanic", "discount_pct",
                 "trade_spend", "planned_incremental_units"]


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    return method


def _monday(values: pd.Series) -> pd.Series:
    days = pd.to_datetime(values)
    return (days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.normalize()


# -- what the engine gives ----------------------------------------------------------------
def promotions_of(engine: Engine, scope: Scope) -> pd.DataFrame:
    """Every promotion of the retailers and SKUs in scope (all dates), with its first and last week."""

    # A promotions calendar is small (one row per event), so it is read once per engine like a dimension.
    frame = _all_promotions(engine)
    for ids, col in ((scope.retailer_ids, "retailer_id"), (scope.sku_ids, "sku_id")):
        if ids is not None:
            frame = frame[frame[col].isin(ids)]
    return frame.reset_index(drop=True)


def with_weeks(frame: pd.DataFrame) -> pd.DataFrame:
    """Promotions rows with their first and last week (w0, w1: Mondays) and number of weeks, by start."""
    frame = frame.copy()
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    frame["end_date"] = pd.to_datetime(frame["end_date"])
    for col in ("discount_pct", "trade_spend", "planned_incremental_units"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    frame["w0"] = _monday(frame["start_date"])
    frame["w1"] = _monday(frame["end_date"])
    frame["n_weeks"] = ((frame["w1"] - frame["w0"]) // WEEK).astype(int) + 1
    return frame.sort_values(["start_date", "promo_id"]).reset_index(drop=True)


def in_period(promos: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """The events one of whose weeks is a week of the period start..end (Mondays: Period.start/end, already
    clamped to the loaded weeks where the filters were resolved)."""
    keep = (promos["w1"] >= pd.Timestamp(start)) & (promos["w0"] <= pd.Timestamp(end))
    return promos[keep].reset_index(drop=True)


def windows(events: pd.DataFrame) -> pd.DataFrame:
    """Per event the weeks we read: this year's (lo..hi), last year's (ly_lo..ly_hi), and the sell-in
    weeks that set its net price (p_lo..p_hi)."""
    lo = events["w0"] - PRE_WEEKS * WEEK
    return pd.DataFrame({
        "e_promo": events["promo_id"].astype(str),
        "e_retailer": events["retailer_id"].astype(str),
        "e_sku": events["sku_id"].astype(str),
        "lo": lo.dt.date,
        "hi": (events["w1"] + (DIP_WEEKS + POST_WEEKS) * WEEK).dt.date,
        "ly_lo": (lo - LAST_YEAR).dt.date,
        "ly_hi": (events["w1"] + DIP_WEEKS * WEEK - LAST_YEAR).dt.date,
        "p_lo": (events["w0"] - PRICE_WEEKS * WEEK).dt.date,
        "p_hi": (events["w0"] - WEEK).dt.date,
    })


WINDOW_SCHEMA = {"e_promo": "string", "e_retailer": "string", "e_sku": "string", "lo": "date", "hi": "date",
                 "ly_lo": "date", "ly_hi": "date", "p_lo": "date", "p_hi": "date"}


def _around_events(table: ibis.Table, w: ibis.Table) -> ibis.Table:
    """Rows of a weekly table in each event's weeks this year or last year, with the event's id.

    The events are already those in scope, so the join alone applies the filters. (Filtering the table by
    the ids in scope first, or by the span of weeks read, only made DuckDB slower.)
    """
    # Joining on the span from last year's first week to this year's last, then keeping the two windows,
    # lets DuckDB run a plain hash join (an OR inside the join condition makes it several times slower).
    j = table.join(w, [table.retailer_id == w.e_retailer, table.sku_id == w.e_sku, table.week.between(w.ly_lo, w.hi)])
    return j.filter(j.week.between(j.lo, j.hi) | j.week.between(j.ly_lo, j.ly_hi))


def _no_rows(**dtypes) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes.items()})


def window_units(engine: Engine, w: ibis.Table) -> pd.DataFrame:
    """Sell-out units (store + online) per event and week inside its windows: promo_id, week, units."""
    so = _around_events(engine.table("sell_out"), w)
    frame = engine.execute(so.group_by([so.e_promo, so.week]).aggregate(units=so.units.sum()))
    return frame.rename(columns={"e_promo": "promo_id"}).astype({"week": "datetime64[ns]", "units": float})


def stockout_weeks(engine: Engine) -> pd.DataFrame:
    """Every stock-out week in the data (retailer on-hand 0 at the end of the week): retailer_id, sku_id,
    week. They are few and do not depend on the filters, so they are read once per engine."""

    def load() -> pd.DataFrame:
        if not engine.has("inventory"):
            return _no_rows(retailer_id=str, sku_id=str, week="datetime64[ns]")
        inv = engine.table("inventory")
        frame = engine.execute(inv.filter(inv.on_hand_units <= 0).select("retailer_id", "sku_id", "week"))
        return frame.astype({"week": "datetime64[ns]"})

    return engine.memo("promotions.stockouts", load)


def net_prices(engine: Engine, w: ibis.Table) -> pd.DataFrame:
    """Sell-in net sales and units of each event's retailer x SKU over the 13 weeks before it."""
    if not engine.has("sell_in"):
        return _no_rows(promo_id=str, si_net_sales=float, si_units=float)
    s = engine.table("sell_in")
    j = s.join(w, [s.retailer_id == w.e_retailer, s.sku_id == w.e_sku, s.week.between(w.p_lo, w.p_hi)])
    frame = engine.execute(j.group_by(j.e_promo).aggregate(si_net_sales=j.net_sales.sum(), si_units=j.units.sum()))
    return frame.rename(columns={"e_promo": "promo_id"}).astype({"si_net_sales": float, "si_units": float})


MIN_UNPROMOTED_SHARE = 0.25  # below this share of a category's units, its unpromoted lines are too few to say


def promoted_series_years(promos: pd.DataFrame) -> pd.DataFrame:
    """retailer_id, sku_id, year: the lines (retailer x SKU) in the years they were promoted, a year being the
    year of the Monday (calendar.week_year) of any event week or of the 2 dip weeks after."""
    n = promos["n_weeks"].to_numpy(dtype="int64") + DIP_WEEKS
    row = np.repeat(np.arange(len(promos)), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    weeks = pd.DatetimeIndex(promos["w0"].to_numpy()[row]) + pd.to_timedelta(k * 7, unit="D")
    return pd.DataFrame({"retailer_id": promos["retailer_id"].astype(str).to_numpy()[row],
                         "sku_id": promos["sku_id"].astype(str).to_numpy()[row],
                         "year": [calendar.week_year(d) for d in weeks.date]}).drop_duplicates(ignore_index=True)


def category_week_units(engine: Engine) -> pd.DataFrame:
    """Sell-out per category, retailer and week, every retailer (one scan): category, retailer_id, week, units,
    and units_unpromoted: the units of the lines not promoted in that year (promoted_series_years)."""
    s, p = engine.table("sell_out"), engine.table("products")
    j = s.join(p.select("sku_id", "category"), "sku_id")
    promoted = promoted_series_years(_all_promotions(engine))
    if len(promoted):
        # The promoted line-years are few (one to three per promotion): a left join flags their rows.
        m = ibis.memtable(promoted.rename(columns={"retailer_id": "m_retailer", "sku_id": "m_sku", "year": "m_year"}),
                          schema={"m_retailer": "string", "m_sku": "string", "m_year": "int64"})
        j = j.left_join(m, [j.retailer_id == m.m_retailer, j.sku_id == m.m_sku, j.week.year() == m.m_year])
        unpromoted = ibis.ifelse(j.m_year.isnull(), j.units, 0).sum()
    else:
        unpromoted = j.units.sum()
    frame = engine.execute(j.group_by([j.category, j.retailer_id, j.week]).aggregate(
        units=j.units.sum(), units_unpromoted=unpromoted))
    return frame.astype({"week": "datetime64[ns]", "units": float, "units_unpromoted": float})


def _all_promotions(engine: Engine) -> pd.DataFrame:
    if not engine.has("promotions"):
        return with_weeks(pd.DataFrame(columns=PROMO_COLUMNS))
    return engine.memo("promotions.calendar", lambda: with_weeks(
        engine.execute(engine.table("promotions").select(*PROMO_COLUMNS))))


def weekly_seasonal_index(units: pd.DataFrame, reported: pd.DataFrame, first: dt.date, latest: dt.date
                          ) -> pd.DataFrame:
    """Each category's seasonal index by ISO week, free of promotions where it can be (see DEFINITIONS, Category
    seasonal index): category, iso_week, index (1.0 = an average week).

    units: category, retailer_id, week (Monday), units and optionally units_unpromoted; reported: retailer_id,
    week (the weeks each retailer reported any sell-out). first/latest: the loaded weeks. A year reads only the
    retailers that reported every week of it (Seasonality: Complete year)."""
    cols = ["category", "iso_week", "index"]
    if units.empty:
        return pd.DataFrame(columns=cols)
    loaded = pd.date_range(pd.Timestamp(first), pd.Timestamp(latest), freq="7D").astype("datetime64[ns]")
    reported = reported.assign(week=pd.to_datetime(reported["week"]).astype("datetime64[ns]"))
    categories = sorted(units["category"].unique())

    def index_of(col: str) -> pd.DataFrame:
        grid = seasonality.series_grid(units[["category", "retailer_id", "week"]].assign(units=units[col]),
                                       reported, categories, loaded, "week")
        return seasonality.seasonal_index(grid, "week")[0]

    index = index_of("units")
    if "units_unpromoted" in units:
        totals = units.groupby("category")[["units", "units_unpromoted"]].sum()
        enough = totals.index[totals["units_unpromoted"] >= MIN_UNPROMOTED_SHARE * totals["units"]]
        free = index_of("units_unpromoted")
        free = free[free["series"].isin(enough)]
        index = pd.concat([free, index[~index["series"].isin(free["series"])]], ignore_index=True)
    index = index.sort_values(["series", "period"])
    return pd.DataFrame({"category": index["series"].to_numpy(), "iso_week": index["period"].astype("int64").to_numpy(),
                         "index": index["index"].astype(float).to_numpy() / 100})


def reported_weeks(engine: Engine) -> pd.DataFrame:
    """retailer_id, week (datetime64): the weeks each retailer reported any sell-out (freshness.reported_weeks)."""
    rep = freshness.reported_weeks(engine)
    return pd.DataFrame({"retailer_id": rep["retailer_id"].astype(str).to_numpy(),
                         "week": pd.to_datetime(rep["week"]).astype("datetime64[ns]").to_numpy()})


def seasonal_index(engine: Engine, stored: bool = True) -> pd.DataFrame:
    """The category seasonal index of this database: the derived table when it is fresh (kam_dash.derived), else
    computed once per engine (it ignores the filters). `stored=False` always computes (to derive it)."""

    def load() -> pd.DataFrame:
        if not (engine.has("sell_out") and engine.has("products")):
            return pd.DataFrame(columns=["category", "iso_week", "index"])
        return weekly_seasonal_index(category_week_units(engine), reported_weeks(engine),
                                     scopes.first_week(engine), scopes.latest_week(engine))

    if stored:
        frame = engine.memo("promotions.seasonal_index.stored", lambda: derived.read(engine, "promo_seasonal_index"))
        if frame is not None:
            return frame.astype({"category": object, "iso_week": "int64", "index": float})
    return engine.memo("promotions.seasonal_index", load)


# -- the estimator (numpy and pandas, on the few rows above) ---------------------------------
@dataclass
class Inputs:
    """What the estimator reads: the engine's answers (or the same frames built another way)."""

    events: pd.DataFrame  # the promotions in view (promotions_of columns)
    promos: pd.DataFrame  # every promotion of their retailer x SKUs, any date (for clean weeks)
    units: pd.DataFrame  # promo_id, week, units: sell-out of the weeks read (a week without a row sold 0)
    stockouts: pd.DataFrame  # retailer_id, sku_id, week: stock-out weeks (any; those of other lines are ignored)
    prices: pd.DataFrame  # promo_id, si_net_sales, si_units
    index: pd.DataFrame  # category, iso_week, index
    products: pd.DataFrame  # sku_id, category, unit_cost, ...
    first_week: dt.date | None
    latest_week: dt.date | None
    start: dt.date | None = None  # the period in view (the events are those touching it)
    end: dt.date | None = None
    # retailer_id, week (datetime64): the weeks each retailer reported any sell-out (freshness.reported_weeks).
    # None: every retailer reported every loaded week (hand-built inputs).
    reported: pd.DataFrame | None = None


ROLES = ("pre", "event", "dip", "post", "ly_pre", "ly_event", "ly_dip")
PRE, EVENT, DIP, POST, LY_PRE, LY_EVENT, LY_DIP = range(len(ROLES))
REASONS = ("", "not in the loaded data", "before the line's first sale", "inside another promotion",
           "after another promotion", "stock-out", "unreported week (no sell-out from the retailer)",
           "not reported yet (after the retailer's latest sell-out week)")
UNREPORTED, NOT_YET = 6, 7
_NO_WEEK = -500_000  # a week number no key can reach: a week with no last year (a 53rd Monday's)
_KEY = 1 << 20  # room for a week number (weeks since 1970) in a combined integer key
STOCKOUT_FLAG = "stock-out during the event: lift understated"
NO_INDEX_FLAG = ("no seasonal index for the category (needs a complete year of sell-out): baseline not "
                 "rescaled, as pre_period")
GRID_COLUMNS = ["promo_id", "week", "role", "units", "clean", "reason"] + [f"baseline_{m}" for m in METHODS]


def _last_year_weekno(weekno: np.ndarray) -> np.ndarray:
    """The week number of each week's last year (calendar.last_year), _NO_WEEK where it has none."""
    uniq = np.unique(weekno)
    ly = [calendar.last_year(pd.Timestamp(d).date()) for d in _weekdate(uniq)]
    ly_no = np.array([_weekno([x])[0] if x is not None else _NO_WEEK for x in ly], dtype="int64")
    return ly_no[np.searchsorted(uniq, weekno)]


def _week_numbers(weekno: np.ndarray) -> np.ndarray:
    """calendar.week_number (ISO, 53 folded into 52) of each week number."""
    uniq = np.unique(weekno)
    nums = np.array([calendar.week_number(pd.Timestamp(d).date()) for d in _weekdate(uniq)], dtype="int64")
    return nums[np.searchsorted(uniq, weekno)]


def _weekno(values) -> np.ndarray:
    """Whole weeks since Monday 5 Jan 1970 of Monday dates."""
    days = np.asarray(pd.to_datetime(values).to_numpy(dtype="datetime64[D]"), dtype="int64")
    return (days - 4) // 7


def _lookup(keys: np.ndarray, table_keys: np.ndarray) -> np.ndarray:
    """Position of each key in table_keys (unique), -1 where absent."""
    return pd.Index(table_keys).get_indexer(keys)


@dataclass
class Estimate:
    """Per event x week read (grid) and per event x method (tables) results."""

    grid: pd.DataFrame
    tables: dict[str, pd.DataFrame]


def estimate(inputs: Inputs, methods: list[str] | None = None, grid: bool = True) -> Estimate:
    """Every method's lift for every event in view (see DEFINITIONS). grid=False leaves the weeks out (an empty
    grid): the derived table needs only the tables."""
    methods = list(METHODS) if methods is None else [check_method(m) for m in methods]
    events = inputs.events.reset_index(drop=True)
    E = len(events)
    if E == 0:
        return Estimate(pd.DataFrame(columns=GRID_COLUMNS), {m: pd.DataFrame(columns=EXPORT_COLUMNS) for m in methods})

    # -- the grid: every week each event reads, this year (pre, event, dip, post) and last year
    n = events["n_weeks"].to_numpy(dtype="int64")
    w0 = _weekno(events["w0"])
    ev_parts, k_parts, ly_parts = [], [], []
    for ly, span in ((0, PRE_WEEKS + DIP_WEEKS + POST_WEEKS), (1, PRE_WEEKS + DIP_WEEKS)):
        lengths = n + span
        ev = np.repeat(np.arange(E), lengths)
        k = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths) - PRE_WEEKS
        ev_parts.append(ev), k_parts.append(k), ly_parts.append(np.full(len(ev), ly))
    ev, k, ly = np.concatenate(ev_parts), np.concatenate(k_parts), np.concatenate(ly_parts)
    nn = n[ev]
    role = np.select([k < 0, k < nn, k < nn + DIP_WEEKS], [PRE, EVENT, DIP], POST) + ly * LY_PRE
    wk = w0[ev] + k
    wk = np.where(ly == 1, _last_year_weekno(wk), wk)  # a 53rd Monday has no last year: _NO_WEEK
    G = len(ev)

    # sell-out units (0 where no row) and stock-outs
    promo_ix = pd.Index(events["promo_id"].astype(str))
    key = ev * _KEY + wk
    u = inputs.units
    pos = _lookup(key, promo_ix.get_indexer(u["promo_id"].astype(str)) * _KEY + _weekno(u["week"]))
    units = np.where(pos >= 0, u["units"].to_numpy(dtype=float)[np.maximum(pos, 0)], 0.0)

    # stock-out weeks, and weeks inside (or in the dip after) other promotions, of the same retailer x SKU
    series_ix = pd.Index(pd.unique(pd.concat([events["retailer_id"] + "\x1f" + events["sku_id"],
                                              inputs.promos["retailer_id"] + "\x1f" + inputs.promos["sku_id"]])))
    ev_series = series_ix.get_indexer(events["retailer_id"] + "\x1f" + events["sku_id"])
    series_key = ev_series[ev] * _KEY + wk
    s = inputs.stockouts
    s = s[s["retailer_id"].isin(events["retailer_id"]) & s["sku_id"].isin(events["sku_id"])]
    stockout = np.isin(series_key, series_ix.get_indexer(s["retailer_id"] + "\x1f" + s["sku_id"]) * _KEY
                       + _weekno(s["week"]))
    p = inputs.promos
    p_n = p["n_weeks"].to_numpy(dtype="int64") + DIP_WEEKS
    p_row = np.repeat(np.arange(len(p)), p_n)
    p_k = np.arange(p_n.sum()) - np.repeat(np.cumsum(p_n) - p_n, p_n)
    p_key = series_ix.get_indexer(p["retailer_id"] + "\x1f" + p["sku_id"])[p_row] * _KEY + _weekno(p["w0"])[p_row] + p_k
    p_is_promo = p_k < p["n_weeks"].to_numpy(dtype="int64")[p_row]

    def count_at(keys: np.ndarray) -> np.ndarray:
        uniq, counts = np.unique(keys, return_counts=True)
        at = _lookup(series_key, uniq)
        return np.where(at >= 0, counts[at], 0)

    own_promo = (ly == 0) & (role == EVENT)  # the event's own weeks and own dip are not "another" promotion
    own_dip = (ly == 0) & (role == DIP)
    other_promo = count_at(p_key[p_is_promo]) - own_promo > 0
    other_dip = count_at(p_key[~p_is_promo]) - own_dip > 0

    # Each retailer's sell-out runs from its first to its latest reported week (its own freshness); inside that
    # span a week it reported nothing for is unreported: skipped, never a zero.
    first, latest = inputs.first_week, inputs.latest_week
    ret_ix = pd.Index(pd.unique(events["retailer_id"].astype(str)))
    ev_r = ret_ix.get_indexer(events["retailer_id"].astype(str))
    big = np.iinfo("int64").max // 4
    r_first, r_latest = np.full(len(ret_ix), big), np.full(len(ret_ix), -big)
    if inputs.reported is None:
        if first is not None:
            r_first[:], r_latest[:] = _weekno([first])[0], _weekno([latest])[0]
        is_reported = np.ones(G, dtype=bool)
    else:
        rp = inputs.reported[inputs.reported["retailer_id"].astype(str).isin(ret_ix)]
        rp_r, rp_w = ret_ix.get_indexer(rp["retailer_id"].astype(str)), _weekno(rp["week"])
        np.minimum.at(r_first, rp_r, rp_w)
        np.maximum.at(r_latest, rp_r, rp_w)
        is_reported = np.isin(ev_r[ev] * _KEY + wk, rp_r * _KEY + rp_w)
    row_first, row_latest = r_first[ev_r[ev]], r_latest[ev_r[ev]]
    loaded = (wk != _NO_WEEK) & (wk >= row_first) & (wk <= row_latest)
    unreported = loaded & ~is_reported
    latest_no = _weekno([latest])[0] if latest is not None else -big
    not_yet = (wk > row_latest) & (wk <= latest_no) & (row_latest >= row_first)
    # Before the line first sold in the weeks we read it was not on the shelf: those zeros are no baseline.
    group = ev * 2 + ly
    first_sale = np.full(2 * E, np.iinfo("int64").max)
    np.minimum.at(first_sale, group[units > 0], wk[units > 0])
    unlisted = wk < first_sale[group]
    reason = np.select([not_yet, ~loaded, unreported, unlisted, other_promo, other_dip, stockout],
                       [NOT_YET, 1, UNREPORTED, 2, 3, 4, 5], 0)
    clean = reason == 0

    # -- per event and role: clean weeks, their units, all units
    cell = ev * len(ROLES) + role
    size = E * len(ROLES)

    def per_role(weights) -> np.ndarray:
        return np.bincount(cell, weights=weights, minlength=size).reshape(E, len(ROLES))

    n_clean = per_role(clean.astype(float))
    clean_units = per_role(np.where(clean, units, 0.0))
    all_units = per_role(units)

    with np.errstate(divide="ignore", invalid="ignore"):
        pre_mean = np.where(n_clean[:, PRE] > 0, clean_units[:, PRE] / n_clean[:, PRE], np.nan)
        both = n_clean[:, PRE] + n_clean[:, POST]
        pre_post_mean = np.where(both > 0, (clean_units[:, PRE] + clean_units[:, POST]) / both, np.nan)
        ly_pre_mean = np.where(n_clean[:, LY_PRE] > 0, clean_units[:, LY_PRE] / n_clean[:, LY_PRE], np.nan)
        ly_ratio = np.where(ly_pre_mean > 0, pre_mean / ly_pre_mean, np.nan)
        ly_fill = np.where(n_clean[:, LY_EVENT] > 0, clean_units[:, LY_EVENT] / n_clean[:, LY_EVENT], np.nan)

    # category seasonal index of every week read
    cats = events["sku_id"].map(inputs.products.set_index("sku_id")["category"]).astype(object)
    season = np.full(G, np.nan)
    if len(inputs.index):
        cat_ix = pd.Index(inputs.index["category"].astype(str).unique())
        table = np.full((len(cat_ix), 53), np.nan)
        table[cat_ix.get_indexer(inputs.index["category"].astype(str)),
              inputs.index["iso_week"].to_numpy(dtype="int64")] = inputs.index["index"].to_numpy(dtype=float)
        ev_cat = cat_ix.get_indexer(cats.fillna("").astype(str))
        iso = _week_numbers(np.where(wk == _NO_WEEK, wk.max(), wk))
        season = np.where((ev_cat[ev] >= 0) & (wk != _NO_WEEK), table[np.maximum(ev_cat[ev], 0), iso], np.nan)
    pre_clean = clean & (role == PRE)
    needs_season = pre_clean | ((ly == 0) & ((role == EVENT) | (role == DIP)))
    season_gap = np.bincount(ev, weights=(needs_season & np.isnan(season)).astype(float), minlength=E) > 0
    # Without an index for the category (no complete year yet) seasonal_pre cannot rescale: it keeps the plain
    # pre-period mean and says so, rather than giving no baseline at all.
    season = np.where(season_gap[ev], 1.0, season)
    pre_season_sum = np.bincount(ev, weights=np.where(pre_clean, np.nan_to_num(season), 0.0), minlength=E)
    with np.errstate(divide="ignore", invalid="ignore"):
        pre_season = np.where(n_clean[:, PRE] > 0, pre_season_sum / n_clean[:, PRE], np.nan)

    # each method's baseline on the event and dip weeks
    ok = {
        "pre_period": n_clean[:, PRE] >= MIN_CLEAN,
        "pre_post": both >= MIN_CLEAN,
        "seasonal_pre": (n_clean[:, PRE] >= MIN_CLEAN) & (pre_season > 0),
        "last_year": (n_clean[:, PRE] >= MIN_CLEAN) & (n_clean[:, LY_PRE] >= MIN_CLEAN)
        & (n_clean[:, LY_EVENT] >= 1) & ~np.isnan(ly_ratio),
    }
    ly_key = ev * _KEY + (k + PRE_WEEKS)
    ly_rows = np.flatnonzero(ly == 1)
    ly_pos = _lookup(ly_key, ly_key[ly_rows])
    ly_ref = np.where(clean, units, ly_fill[ev])[ly_rows][np.maximum(ly_pos, 0)]
    target = (ly == 0) & ((role == EVENT) | (role == DIP))
    with np.errstate(divide="ignore", invalid="ignore"):
        per_week = {
            "pre_period": pre_mean[ev],
            "pre_post": pre_post_mean[ev],
            "seasonal_pre": pre_mean[ev] * season / pre_season[ev],
            "last_year": np.where(ly_pos >= 0, ly_ref, np.nan) * ly_ratio[ev],
        }
    baselines = {m: np.where(target & ok[m][ev], v, np.nan) for m, v in per_week.items()}

    def per_event(values: np.ndarray, which: int) -> np.ndarray:
        rows = (ly == 0) & (role == which)
        return np.bincount(ev[rows], weights=values[rows], minlength=E)

    # -- what every method shares: the event's actual units, its dip weeks, its money
    ev_w1 = _weekno(events["w1"])
    ev_latest = r_latest[ev_r]
    no_sell_out = ev_latest < r_first[ev_r]
    not_started = ~no_sell_out & (w0 > ev_latest)
    not_over = ~no_sell_out & ~not_started & (ev_w1 > ev_latest)
    ty = ly == 0
    event_rows = ty & (role == EVENT)
    dip_rows = ty & (role == DIP)

    def any_of(flags: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return np.bincount(ev[rows], weights=flags[rows].astype(float), minlength=E) > 0

    event_unreported = any_of(unreported, event_rows) & ~not_started & ~not_over
    finished = ~no_sell_out & ~not_started & ~not_over & ~event_unreported
    actual = np.where(finished, all_units[:, EVENT], np.nan)
    dip_actual = all_units[:, DIP]
    dip_not_loaded = any_of(~loaded, dip_rows)
    dip_unreported = any_of(unreported, dip_rows)
    dip_other = any_of(other_promo, dip_rows)
    dip_stock = any_of(stockout, dip_rows)
    dip_ok = ~dip_not_loaded & ~dip_unreported & ~dip_other & ~dip_stock
    stock_in_event = any_of(stockout, event_rows)
    overlaps = _overlaps(events, inputs.promos, ev, event_rows & other_promo)
    skipped = np.bincount(ev, weights=unreported.astype(float), minlength=E).astype("int64")

    through = np.array([f"{d:%d %b %Y}" if ok else "" for d, ok in
                        zip(_weekdate(np.where(no_sell_out, 0, ev_latest)).astype("datetime64[D]").astype(object),
                            ~no_sell_out)], dtype=object)
    lagging = ev_latest < latest_no
    event_flag = np.select(
        [no_sell_out, not_started & lagging, not_started, not_over & lagging, not_over, event_unreported],
        ["no sell-out loaded for this retailer: no lift",
         "not started in this retailer's sell-out (through " + through + ")",
         "not started in the loaded data",
         "unfinished: this retailer's sell-out runs through " + through + ", before the event ends: no lift yet",
         "not over in the loaded data",
         "an event week is unreported (no sell-out from the retailer): no lift"], "")
    overlap_flag = np.array([f"overlaps {', '.join(overlaps[i])} (lift shared)" if i in overlaps else ""
                             for i in range(E)], dtype=object)
    stock_flag = np.where(stock_in_event & finished, STOCKOUT_FLAG, "")
    dip_flag = np.select(
        [dip_not_loaded & lagging, dip_not_loaded, dip_unreported, dip_other, dip_stock],
        ["the 2 weeks after are not reported yet by this retailer (sell-out through " + through + "): no dip",
         "the 2 weeks after are not loaded yet: no dip",
         "an unreported week in the 2 weeks after (no sell-out from the retailer): no dip",
         "another promotion follows within 2 weeks: no dip",
         "stock-out in the 2 weeks after: no dip"], "")

    cost = events["sku_id"].map(inputs.products.set_index("sku_id")["unit_cost"]).to_numpy(dtype=float)
    prices = inputs.prices.set_index("promo_id").reindex(events["promo_id"])
    si_units = prices["si_units"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        net_price = np.where(si_units > 0, prices["si_net_sales"].to_numpy(dtype=float) / si_units, np.nan)
    spend = events["trade_spend"].to_numpy(dtype=float)

    tables = {}
    for method in methods:
        measured = ok[method] & finished
        baseline = np.where(measured, per_event(np.nan_to_num(baselines[method]), EVENT), np.nan)
        incremental = actual - baseline
        with np.errstate(divide="ignore", invalid="ignore"):
            lift = np.where(baseline > 0, incremental / baseline, np.nan)
            dip = np.where(measured & dip_ok, per_event(np.nan_to_num(baselines[method]), DIP) - dip_actual, np.nan)
            net = incremental - dip
            igp = net * (net_price - cost)
            paid = np.where(spend > 0, spend, np.nan)
            roi = (igp - paid) / paid
            cpu = np.where(net > 0, paid / net, np.nan)
        has_net = ~np.isnan(net)
        money_flag = np.where(has_net & np.isnan(cost), "unit cost missing: no profit or ROI",
                              np.where(has_net & np.isnan(net_price),
                                       "no sell-in in the 13 weeks before: no net price", ""))
        spend_flag = np.where(has_net & np.isnan(spend), "trade spend missing: no ROI",
                              np.where(has_net & (spend == 0), "no trade spend recorded: no ROI", ""))
        zero_flag = np.where(measured & ~(baseline > 0), "baseline is zero: no lift", "")
        if method == "seasonal_pre":
            zero_flag = np.where(measured & season_gap, NO_INDEX_FLAG, zero_flag)
        coverage = np.where(finished, _coverage(method, n_clean, ok[method]), "")
        flag = _join_flags(event_flag, coverage, zero_flag, overlap_flag, stock_flag,
                           np.where(measured, dip_flag, ""), money_flag, spend_flag)
        clean_weeks = {"pre_period": n_clean[:, PRE], "seasonal_pre": n_clean[:, PRE], "pre_post": both,
                       "last_year": n_clean[:, PRE] + n_clean[:, LY_PRE] + n_clean[:, LY_EVENT]}[method]
        tables[method] = pd.DataFrame({
            "promo_id": events["promo_id"].to_numpy(),
            "retailer_id": events["retailer_id"].to_numpy(),
            "sku_id": events["sku_id"].to_numpy(),
            "mechanic": events["mechanic"].to_numpy(),
            "discount_pct": events["discount_pct"].to_numpy(dtype=float),
            "start_week": events["w0"].dt.date.to_numpy(),
            "end_week": events["w1"].dt.date.to_numpy(),
            "method": method,
            "clean_weeks": clean_weeks.astype("int64"),
            "baseline_units": baseline,
            "actual_units": actual,
            "incremental_units": incremental,
            "lift_pct": lift,
            "post_dip_units": dip,
            "net_incremental_units": net,
            "net_price": net_price,
            "unit_cost": cost,
            "trade_spend": spend,
            "incremental_gross_profit": igp,
            "roi": roi,
            "cost_per_incremental_unit": cpu,
            "planned_incremental_units": events["planned_incremental_units"].to_numpy(dtype=float),
            "unreported_weeks": skipped,
            "flag": flag,
        })

    if not grid:
        return Estimate(pd.DataFrame(columns=GRID_COLUMNS), tables)
    shown = ty & (loaded | not_yet)  # the page draws this year's loaded weeks around the event
    grid = pd.DataFrame({
        "promo_id": events["promo_id"].to_numpy()[ev[shown]],
        "week": _weekdate(wk[shown]),
        "role": np.array(ROLES, dtype=object)[role[shown]],
        "units": np.where(unreported | not_yet, np.nan, units)[shown],  # unknown, not 0: drawn as a gap
        "clean": clean[shown],
        "reason": np.array(REASONS, dtype=object)[reason[shown]],
        **{f"baseline_{m}": baselines[m][shown] for m in METHODS},
    })
    return Estimate(grid, tables)


def _weekdate(weekno: np.ndarray) -> np.ndarray:
    return (np.asarray(weekno, dtype="int64") * 7 + 4).astype("datetime64[D]").astype("datetime64[ns]")


def _overlaps(events: pd.DataFrame, promos: pd.DataFrame, ev: np.ndarray, rows: np.ndarray) -> dict[int, list[str]]:
    """For events whose weeks are inside other promotions of the same retailer x SKU: their ids."""
    hit = np.unique(ev[rows])
    out = {}
    for i in hit:
        e = events.iloc[i]
        same = promos[(promos["retailer_id"] == e["retailer_id"]) & (promos["sku_id"] == e["sku_id"])
                      & (promos["promo_id"] != e["promo_id"]) & (promos["w0"] <= e["w1"]) & (promos["w1"] >= e["w0"])]
        out[int(i)] = sorted(same["promo_id"].astype(str))
    return out


def _coverage(method: str, n_clean: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """The flag of events the method cannot measure: how many clean weeks it found, or what it lacks."""
    pre, post, ly_pre, ly_ev = (n_clean[:, r].astype(int) for r in (PRE, POST, LY_PRE, LY_EVENT))
    out = np.full(len(ok), "", dtype=object)
    for i in np.flatnonzero(~ok):
        if method in ("pre_period", "seasonal_pre") and pre[i] < MIN_CLEAN:
            out[i] = f"low baseline coverage: {pre[i]} clean weeks before (needs {MIN_CLEAN})"
        elif method == "seasonal_pre":
            out[i] = "the category's seasonal index is zero in the weeks before: no baseline"
        elif method == "pre_post":
            out[i] = f"low baseline coverage: {pre[i] + post[i]} clean weeks before and after (needs {MIN_CLEAN})"
        elif pre[i] < MIN_CLEAN or ly_pre[i] < MIN_CLEAN or ly_ev[i] < 1:
            out[i] = (f"low baseline coverage: {pre[i]} clean weeks before (needs {MIN_CLEAN}), {ly_pre[i]} "
                      f"before the same weeks last year (needs {MIN_CLEAN}), {ly_ev[i]} clean last-year event "
                      f"weeks (needs 1)")
        else:
            out[i] = "no sales in the pre-period last year"
    return out


def _join_flags(*parts) -> np.ndarray:
    """The non-empty messages of each row joined by '; ' (None where there are none)."""
    joined = np.full(len(parts[0]), "", dtype=object)
    for part in parts:
        text = np.asarray(part, dtype=object)
        joined = np.where(joined == "", text, np.where(text == "", joined, joined + "; " + text))
    return np.where(joined == "", None, joined)


# -- from filters to inputs ------------------------------------------------------------------
def gather(engine: Engine, filters: Filters, seasonal: bool = True) -> Inputs | None:
    """Run the engine queries for the events in view. None when no data is loaded."""
    scope = resolve(engine, filters)
    if scope is None:
        return None
    promos = promotions_of(engine, scope)
    events = in_period(promos, scope.period.start, scope.period.end)
    return inputs_of(engine, events, promos, scope.period.start, scope.period.end, seasonal)


def inputs_of(engine: Engine, events: pd.DataFrame, promos: pd.DataFrame, start: dt.date | None,
              end: dt.date | None, seasonal: bool = True) -> Inputs:
    """The estimator's inputs for these events (promos: at least every promotion of their retailer x SKUs)."""
    if events.empty or not engine.has("sell_out"):
        units = _no_rows(promo_id=str, week="datetime64[ns]", units=float)
        prices = _no_rows(promo_id=str, si_net_sales=float, si_units=float)
    else:
        w = ibis.memtable(windows(events), schema=WINDOW_SCHEMA)
        units, prices = window_units(engine, w), net_prices(engine, w)
    return Inputs(
        events=events,
        promos=promos[promos["retailer_id"].isin(events["retailer_id"]) & promos["sku_id"].isin(events["sku_id"])],
        units=units,
        stockouts=stockout_weeks(engine),
        prices=prices,
        index=seasonal_index(engine) if seasonal and len(events) else pd.DataFrame(
            columns=["category", "iso_week", "index"]),
        products=scopes.products(engine),
        first_week=scopes.first_week(engine),
        latest_week=scopes.latest_week(engine),
        start=start,
        end=end,
        reported=reported_weeks(engine),
    )


def promo_lift(engine: Engine, filters: Filters, method: str = DEFAULT_METHOD) -> pd.DataFrame:
    """The export `promo-lift`: one row per event in view, for one baseline method."""
    check_method(method)
    found = stored_in_view(engine, filters, [method])
    if found is not None:
        return found[2][method][EXPORT_COLUMNS]
    inputs = gather(engine, filters, seasonal=method == "seasonal_pre")
    if inputs is None:
        return pd.DataFrame(columns=EXPORT_COLUMNS)
    return estimate(inputs, [method]).tables[method]


@export_metric("promo-lift", columns=EXPORT_COLUMNS, options=("method",),
               examples=({}, {"method": "pre_post"}, {"method": "seasonal_pre"}, {"method": "last_year"},
                         {"filters": {"period": "l52w"}, "method": "pre_period"}))
def export_promo_lift(engine: Engine, filters: Filters, method: str = DEFAULT_METHOD) -> pd.DataFrame:
    return promo_lift(engine, filters, method)


# -- the page -------------------------------------------------------------------------------
SUMMARY_COLUMNS = ["group", "events", "events_with_roi", "trade_spend", "incremental_gross_profit", "roi",
                   "paid_back_share"]


def roi_summary(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """ROI and share paid back per group (see DEFINITIONS), over the events that have an ROI."""
    if table.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    has = table["roi"].notna()
    parts = pd.DataFrame({
        "group": table[by].to_numpy(), "events": 1, "events_with_roi": has.to_numpy(dtype=int),
        "trade_spend": table["trade_spend"].where(has, 0.0).to_numpy(),
        "incremental_gross_profit": table["incremental_gross_profit"].where(has, 0.0).to_numpy(),
        "paid": (has & (table["roi"] >= 0)).to_numpy(dtype=int)})
    out = parts.groupby("group", as_index=False).sum()
    with_roi = out["events_with_roi"] > 0
    out["roi"] = ((out["incremental_gross_profit"] - out["trade_spend"]) / out["trade_spend"]).where(with_roi)
    out["paid_back_share"] = (out["paid"] / out["events_with_roi"]).where(with_roi)
    out.loc[~with_roi, ["trade_spend", "incremental_gross_profit"]] = np.nan
    return out[SUMMARY_COLUMNS].sort_values(["roi", "group"], ascending=[False, True], na_position="last")


def lift_curves(table: pd.DataFrame, points: int = 25) -> pd.DataFrame:
    """The fitted lift vs discount line of each mechanic (see DEFINITIONS): mechanic, discount_pct, lift_pct."""
    rows = []
    data = table.dropna(subset=["lift_pct", "discount_pct"])
    data = data[~data["flag"].fillna("").str.contains(STOCKOUT_FLAG, regex=False)]
    for mechanic, g in data.groupby("mechanic", sort=True):
        depths = g["discount_pct"].nunique()
        if len(g) < 3 or depths < 2:
            continue
        # A straight line: a curve with more terms chases the noise of a few dozen events.
        coef = np.polyfit(g["discount_pct"].to_numpy(float), g["lift_pct"].to_numpy(float), 1)
        x = np.linspace(g["discount_pct"].min(), g["discount_pct"].max(), points)
        rows.append(pd.DataFrame({"mechanic": mechanic, "discount_pct": x, "lift_pct": np.polyval(coef, x)}))
    if not rows:
        return pd.DataFrame(columns=["mechanic", "discount_pct", "lift_pct"])
    return pd.concat(rows, ignore_index=True)


def kpis(table: pd.DataFrame) -> dict[str, float | int | None]:
    """The page tiles for one method's lift table."""

    def total(col: str) -> float | None:
        value = table[col].sum(min_count=1) if len(table) else np.nan
        return None if pd.isna(value) else float(value)

    measured = table["lift_pct"].notna() if len(table) else pd.Series(dtype=bool)
    has_roi = table["roi"].dropna() if len(table) else pd.Series(dtype=float)
    roi_rows = table[table["roi"].notna()] if len(table) else table
    spend = roi_rows["trade_spend"].sum()
    return {
        "events": int(len(table)),
        "measured": int(measured.sum()),
        "incremental_units": total("incremental_units"),
        "net_incremental_units": total("net_incremental_units"),
        "median_lift": float(table["lift_pct"].median()) if measured.any() else None,
        "trade_spend": total("trade_spend"),
        "roi": float((roi_rows["incremental_gross_profit"].sum() - spend) / spend) if len(roi_rows) and spend > 0
        else None,
        "paid_back_share": float((has_roi >= 0).mean()) if len(has_roi) else None,
        "unreported_weeks": int(table["unreported_weeks"].sum()) if len(table) else 0,
        "events_with_unreported_weeks": int((table["unreported_weeks"] > 0).sum()) if len(table) else 0,
        "unfinished": int(table["flag"].fillna("").str.startswith("unfinished").sum()) if len(table) else 0,
    }


def skipped_note(k: dict) -> str | None:
    """The page's line on what the figures skipped: unreported weeks and events not measurable yet."""
    parts = []
    if k.get("unreported_weeks"):
        n, e = k["unreported_weeks"], k["events_with_unreported_weeks"]
        parts.append(f"{n:,} unreported week{'s' if n != 1 else ''} (no sell-out from the retailer) skipped, not "
                     f"read as zeros, around {e:,} event{'s' if e != 1 else ''}")
    if k.get("unfinished"):
        n = k["unfinished"]
        parts.append(f"{n:,} event{'s' if n != 1 else ''} unfinished in {'their' if n != 1 else 'its'} retailer's "
                     f"sell-out (it lags): no lift yet")
    return "; ".join(parts) + "." if parts else None


@dataclass
class PromotionsPage:
    method: str
    events: pd.DataFrame  # the method's lift table plus names and dates, one row per event in view
    methods: pd.DataFrame  # every method's result per event (for the event detail)
    # the weeks around each event: actual units, why not clean, each method's baseline; None when the lift came
    # from the derived table (event_weeks gives one event's)
    weeks: pd.DataFrame | None
    curves: pd.DataFrame  # lift vs discount fits
    by_mechanic: pd.DataFrame
    by_retailer: pd.DataFrame
    kpis: dict = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # tables the page needs but lacks
    start: dt.date | None = None  # the period in view
    end: dt.date | None = None


def lift_of_every_event(engine: Engine, chunk: int = 10_000) -> pd.DataFrame:
    """Every method's lift for every event a view can show (those touching the loaded weeks), one row per event and
    method (EXPORT_COLUMNS): the derived table promo_lift. An event's lift reads only its own retailer x SKU, the
    loaded weeks and the category seasonal index, never the view, so it is computed once per data version."""
    inputs = gather(engine, ALL_TIME)
    if inputs is None or inputs.events.empty:
        return pd.DataFrame(columns=EXPORT_COLUMNS)
    # Events are estimated independently, so in slices: the estimator's arrays hold ~30 rows per event, and
    # all of a real panel's 200K events at once would take gigabytes.
    parts, units, prices = [], inputs.units, inputs.prices
    for lo in range(0, len(inputs.events), chunk):
        events = inputs.events.iloc[lo:lo + chunk].reset_index(drop=True)
        part = replace(inputs, events=events, units=units[units["promo_id"].isin(events["promo_id"])],
                       prices=prices[prices["promo_id"].isin(events["promo_id"])])
        parts += estimate(part, grid=False).tables.values()
    # one text dtype for the flags (a slice without any flag would keep Python None)
    return pd.concat(parts, ignore_index=True).astype({"flag": "str"})


def stored_lift(engine: Engine) -> dict[str, pd.DataFrame] | None:
    """The derived promo_lift per method, indexed by promo_id (read once per engine), or None when it is not
    fresh (kam_dash.derived): the page then computes the events in view live."""

    def load() -> dict[str, pd.DataFrame] | None:
        frame = derived.read(engine, "promo_lift")
        if frame is None:
            return None
        frame = frame.astype({"clean_weeks": "int64", "unreported_weeks": "int64"})
        for col in ("start_week", "end_week"):
            frame[col] = pd.to_datetime(frame[col]).dt.date.astype(object)
        return {m: part.set_index(part["promo_id"].astype(str)) for m, part in frame.groupby("method", sort=False)}

    return engine.memo("promotions.stored_lift", load)


def stored_in_view(engine: Engine, filters: Filters, methods: list[str]
                   ) -> tuple[Scope, pd.DataFrame, dict[str, pd.DataFrame]] | None:
    """(scope, events in view, each method's lift table of those events) read from the derived table, or None when
    it is not fresh or lacks an event in view (then the caller computes live)."""
    stored = stored_lift(engine)
    scope = resolve(engine, filters) if stored is not None else None
    if scope is None:
        return None
    events = in_period(promotions_of(engine, scope), scope.period.start, scope.period.end)
    ids = events["promo_id"].astype(str).to_numpy()
    at = {m: stored[m].index.get_indexer(ids) if m in stored else np.array([-1]) for m in methods}
    if any(len(pos) and pos.min() < 0 for pos in at.values()):
        return None
    return scope, events, {m: stored[m].iloc[pos].reset_index(drop=True) for m, pos in at.items()}


def page_data(engine: Engine, filters: Filters, method: str = DEFAULT_METHOD) -> PromotionsPage | None:
    """Everything the Promotions page shows, for the events in view. None when no data is loaded.

    The lift of each event comes from the derived table when it is fresh (the same numbers, computed when the
    data was loaded), else from the estimator on the events in view."""
    check_method(method)
    found = stored_in_view(engine, filters, list(METHODS))
    if found is not None:
        scope, events, tables = found
        return _page(events, tables, None, scopes.retailers(engine), scopes.products(engine), method,
                     engine.missing("promotions", "sell_out", "inventory", "sell_in"), scope.period.start,
                     scope.period.end)
    inputs = gather(engine, filters)
    if inputs is None:
        return None
    return page_from(inputs, scopes.retailers(engine), method,
                     engine.missing("promotions", "sell_out", "inventory", "sell_in"))


def page_from(inputs: Inputs, retailers: pd.DataFrame, method: str, missing: list[str]) -> PromotionsPage:
    """The page's tables and summaries from the estimator's inputs (pure; the benchmark's baselines use it)."""
    result = estimate(inputs)
    return _page(inputs.events, result.tables, result.grid, retailers, inputs.products, method, missing,
                 inputs.start, inputs.end)


def _page(events: pd.DataFrame, tables: dict[str, pd.DataFrame], grid: pd.DataFrame | None, retailers: pd.DataFrame,
          products: pd.DataFrame, method: str, missing: list[str], start, end) -> PromotionsPage:
    table = tables[method]
    retailers = retailers.set_index("retailer_id")["retailer_name"]
    products = products.set_index("sku_id")
    shown = table.assign(
        retailer_name=table["retailer_id"].map(retailers).fillna(table["retailer_id"]),
        sku_name=table["sku_id"].map(products["sku_name"]).fillna(table["sku_id"]),
        brand=table["sku_id"].map(products["brand"]),
        category=table["sku_id"].map(products["category"]),
        start_date=table["promo_id"].map(events.set_index("promo_id")["start_date"]) if len(events) else None,
        end_date=table["promo_id"].map(events.set_index("promo_id")["end_date"]) if len(events) else None,
        vs_plan=table["incremental_units"] / table["planned_incremental_units"].where(
            table["planned_incremental_units"] > 0) - 1,
    )
    methods = pd.concat([t[["promo_id", "method", "clean_weeks", "baseline_units", "actual_units",
                            "incremental_units", "lift_pct", "post_dip_units", "net_incremental_units", "flag"]]
                         for t in tables.values()], ignore_index=True)
    return PromotionsPage(
        method=method, events=shown, methods=methods, weeks=grid, curves=lift_curves(table),
        by_mechanic=roi_summary(table, "mechanic"),
        by_retailer=roi_summary(shown.assign(retailer=shown["retailer_name"]), "retailer"),
        kpis=kpis(table), missing=missing, start=start, end=end)


def event_weeks(engine: Engine, filters: Filters, promo_id: str) -> pd.DataFrame:
    """The weeks around one event (the estimator's grid: units, why a week is not clean, each method's baseline),
    computed for that event alone: they do not depend on the view (filters are not read)."""
    every = _all_promotions(engine)
    events = every[every["promo_id"].astype(str) == str(promo_id)].reset_index(drop=True)
    if events.empty or not engine.has("sell_out"):
        return pd.DataFrame(columns=GRID_COLUMNS)
    line = every[(every["retailer_id"] == events.at[0, "retailer_id"]) & (every["sku_id"] == events.at[0, "sku_id"])]
    return estimate(inputs_of(engine, events, line, None, None)).grid


def event_detail(page: PromotionsPage, promo_id: str, weeks: pd.DataFrame | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The weeks around one event (with every method's baseline) and every method's result for it. `weeks`: that
    event's weeks (event_weeks) when the page holds no grid of its own (its lift came from the derived table)."""
    weeks = page.weeks if weeks is None else weeks
    weeks = weeks[weeks["promo_id"] == promo_id]
    methods = page.methods[page.methods["promo_id"] == promo_id].copy()
    methods["method_name"] = methods["method"].map(METHODS)
    return weeks.reset_index(drop=True), methods.reset_index(drop=True)


SHOW = {
    "all": "All events",
    "paid": "Paid back (ROI >= 0)",
    "not_paid": "Did not pay back",
    "no_lift": "No lift (flagged)",
    "flagged": "Any flag",
}


def filter_events(events: pd.DataFrame, mechanics: list[str] | None = None, show: str = "all") -> pd.DataFrame:
    """The page's table filters: by mechanic, and by outcome (see SHOW)."""
    frame = events
    if mechanics:
        frame = frame[frame["mechanic"].isin(mechanics)]
    if show == "paid":
        frame = frame[frame["roi"] >= 0]
    elif show == "not_paid":
        frame = frame[frame["roi"] < 0]
    elif show == "no_lift":
        frame = frame[frame["lift_pct"].isna()]
    elif show == "flagged":
        frame = frame[frame["flag"].notna()]
    return frame


PICK_LIMIT = 200  # promotions a picker offers at once: a longer list is one nobody reads (search or narrow instead)
SCATTER_LIMIT = 500  # events the lift vs discount chart draws: past that the points hide each other


def biggest_first(events: pd.DataFrame) -> pd.DataFrame:
    """Events by what was at stake: trade spend (largest first, missing last), then the size of the net incremental
    units, then the promotion id (so the order is the same on every run)."""
    if events.empty:
        return events
    order = events.assign(_spend=events["trade_spend"].fillna(-np.inf),
                          _size=events["net_incremental_units"].abs().fillna(-np.inf),
                          _id=events["promo_id"].astype(str))
    order = order.sort_values(["_spend", "_size", "_id"], ascending=[False, False, True])
    return events.loc[order.index]


def event_choices(events: pd.DataFrame, retailer: str | None = None, search: str = "", limit: int | None = None
                  ) -> tuple[pd.DataFrame, int]:
    """The events an event picker offers: those of `retailer` (a retailer_name; None: every retailer) whose id,
    retailer, SKU or mechanic contains `search` (any case), biggest first (biggest_first), at most `limit`; and
    how many matched."""
    frame = events
    if retailer is not None:
        frame = frame[frame["retailer_name"] == retailer]
    text = search.strip()
    if text:
        words = (frame["promo_id"].astype(str) + " " + frame["retailer_name"].astype(str) + " "
                 + frame["sku_name"].astype(str) + " " + frame["mechanic"].astype(str))
        frame = frame[words.str.contains(text, case=False, regex=False)]
    return biggest_first(frame).head(PICK_LIMIT if limit is None else limit), len(frame)


def scatter_points(events: pd.DataFrame, limit: int | None = None) -> tuple[pd.DataFrame, int]:
    """The events the lift vs discount chart draws: every event with a lift and a discount when they are at most
    `limit`, else the `limit` biggest (biggest_first); and how many there are in all. The fitted lines
    (lift_curves) always read all of them."""
    measured = events.dropna(subset=["lift_pct", "discount_pct"])
    limit = SCATTER_LIMIT if limit is None else limit
    return (measured if len(measured) <= limit else biggest_first(measured).head(limit)), len(measured)


def event_label(row) -> str:
    start, end = pd.Timestamp(row["start_date"]), pd.Timestamp(row["end_date"])
    return (f"{row['promo_id']} · {row['retailer_name']} · {row['sku_name']} · {row['mechanic']} · "
            f"{start:%d %b %Y} to {end:%d %b %Y}")


def pick_event(events: pd.DataFrame, wanted: str | None) -> tuple[str | None, str | None]:
    """The event to detail: the one asked for (a link) if it is in view, else the latest measured one.

    Returns (promo_id or None when there are no events, a warning when the one asked for is not in view).
    """
    if events.empty:
        return None, None
    ids = list(events["promo_id"])
    if wanted in ids:
        return wanted, None
    measured = events[events["lift_pct"].notna()]
    pool = measured if len(measured) else events
    chosen = pool.sort_values(["start_date", "promo_id"]).iloc[-1]["promo_id"]
    warning = None
    if wanted:
        shown = "".join(ch for ch in str(wanted) if ch.isalnum() or ch in "-_.")[:20] or "(unreadable)"
        warning = f"The promotion '{shown}' in the link is not among the promotions in view; showing {chosen}."
    return chosen, warning


# -- accuracy against the demo's planted truth ---------------------------------------------
ALL_TIME = Filters(period="custom", start=dt.date(1900, 1, 1), end=dt.date(2999, 12, 31))


def accuracy(table: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """How one method's lift table compares with the planted truth (columns promo_id, true_lift_pct,
    true_incremental_units, true_post_dip_units), over the events the method measured."""
    both = table.merge(truth, on="promo_id").dropna(subset=["lift_pct"])
    dip = both.dropna(subset=["post_dip_units"])
    return {
        "events": int(len(both)),
        "median_abs_lift_error": float((both["lift_pct"] - both["true_lift_pct"]).abs().median()),
        "incremental_ratio": float(both["incremental_units"].sum() / both["true_incremental_units"].sum()),
        "dip_ratio": float(dip["post_dip_units"].sum() / dip["true_post_dip_units"].sum()) if len(dip) else np.nan,
    }


def accuracy_report(engine: Engine, truth: pd.DataFrame) -> pd.DataFrame:
    """Every method's accuracy over every event of the database: one row per method."""
    inputs = gather(engine, ALL_TIME)
    tables = estimate(inputs).tables if inputs is not None else {}
    return pd.DataFrame([{"method": m, **accuracy(tables[m], truth)} for m in tables])


def main(argv: list[str] | None = None) -> int:
    """`python -m kam_dash.metrics.promotions [DB]`: each method's lift accuracy against a demo's truth."""
    import sys

    from kam_dash.config import settings_from_env
    from kam_dash.engine import DuckDBEngine

    args = sys.argv[1:] if argv is None else argv
    path = args[0] if args else str(settings_from_env().db)
    truth = ibis.duckdb.connect(path, read_only=True).table("promo_lift", database="truth").to_pandas()
    engine = DuckDBEngine(path)
    report = accuracy_report(engine, truth)
    engine.close()
    print(f"Promotion lift vs the planted truth in {path} (events each method measured):")
    print(report.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
