"""Inventory: is the shelf full, and is the pipeline honest?

Weeks of cover and its status, availability (in-stock rate and the sales lost to empty shelves),
phantom stock, the stock reconciliation and forward-buy warnings: the Inventory page, the
availability signal of the Portfolio health status, and the `coverage`, `availability` and
`reconciliation` exports.

How missing rows are read. A week with no sell-out row sold nothing (the contract). A week with no
inventory row is NOT an empty shelf: the stock is unknown, so that week gets no cover status, is
neither in stock nor out of stock, never counts towards a trailing in-stock rate, breaks a phantom
run, and a reconciliation that needs it leaves the line out.

Speed. The fact tables run to tens of millions of rows. Lost sales need each out-of-stock week's
8 weeks before it, which is the one piece of row-level work; it does not depend on the filters, so
it is computed once per database for all of history (the "ledger": one row per out-of-stock week,
a few per thousand rows) and kept by the engine, like the dimension tables. Everything that depends
on the filters is one pass per fact table grouped by retailer x SKU, or a scan of a few weeks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
from ibis import _

from kam_dash import scope as scopes
from kam_dash.engine import Engine
from kam_dash.export import export_metric
from kam_dash.filters import Filters, monday
from kam_dash.scope import Scope, resolve

KEYS = ["retailer_id", "sku_id"]
WEEK = dt.timedelta(weeks=1)

WINDOWS = (4, 8, 13)
DEFAULT_WINDOW = 4
STATUSES = ("oos", "low", "ok", "high", "no_sales")
DEFAULT_WOC_MIN, DEFAULT_WOC_MAX = 2.0, 6.0
RATE_WEEKS = 8  # the trailing in-stock rate behind lost sales
PHANTOM_ZERO_WEEKS = 2  # weeks with stock and no sales
PHANTOM_HISTORY_WEEKS = 12  # the weeks before them ...
PHANTOM_MIN_SELLING_WEEKS = 6  # ... of which at least this many sold
FORWARD_HORIZON = 26  # weeks of last year's sell-out walked through for forward cover
FORWARD_BUY_WEEKS = 8
FORWARD_BUY_LIMIT = 2.0  # weeks of sell-out

DEFINITIONS = {
    "Listed": "A retailer x SKU counts as listed from the first week, anywhere in the data, that shows stock on hand "
    "above 0 or any sell-out. Weeks before that are not counted by any measure: no out-of-stock flag, no lost "
    "sales, and the trailing average of a newly listed line runs over its weeks since listing only.",
    "Weeks of cover": "On-hand units at the end of the week divided by the mean weekly sell-out units (store and "
    "online) of the N weeks ending with that week (N = 4 by default; 8 or 13 to choose). A week with no sell-out "
    "row sold 0. A week with no stock count has no cover.",
    "Cover status": "oos: on-hand is 0. no_sales: stock but no sell-out in the N weeks (cover is undefined, shown "
    "empty, not infinite or zero). low: cover below the retailer's agreed minimum (woc_min, 2 weeks unless the "
    "retailer has its own). high: above its agreed maximum (woc_max, 6 unless set). ok: from the minimum to the "
    "maximum, both included.",
    "Forward cover": "How many weeks the stock lasts on expected demand: walk forward from the week through last "
    f"year's sell-out of the coming weeks (the same ISO weeks 52 weeks earlier), each scaled by the YTD growth "
    "ratio (the retailer x SKU's sell-out units from 1 January to the week, over the same weeks a year earlier; 1 "
    "when last year sold nothing then), until the stock runs out. The week it runs out counts as the fraction of "
    f"that week's demand the remaining stock covers. Past {FORWARD_HORIZON} weeks the rest is spread at the "
    f"{FORWARD_HORIZON}-week average. Empty where last year sold nothing in those weeks (nothing to project from).",
    "In-stock rate": "The share of listed SKU-weeks in the period, among those with a stock count, that ended with "
    "on-hand above 0. Weeks with no stock count are left out of both sides.",
    "Out-of-stock weeks": "Listed weeks in the period that ended with on-hand 0.",
    "Lost sales (units)": f"For each out-of-stock week, the shortfall of its sell-out below the SKU's trailing "
    f"{RATE_WEEKS}-week in-stock rate: the mean weekly sell-out of those of the {RATE_WEEKS} weeks before it that "
    "ended with stock (weeks out of stock or without a count do not count). 0 when the week sold at least that "
    f"much, and 0 (not estimated) when none of the {RATE_WEEKS} weeks before it had stock.",
    "Lost sales (value)": "Lost units times the retailer x SKU's average sell-out price over the same in-stock "
    "weeks (their sell-out value divided by their units).",
    "Phantom inventory candidate": f"At the period's last week: on-hand above 0 in it and in the week before, no "
    f"sell-out in either, and sell-out in at least {PHANTOM_MIN_SELLING_WEEKS} of the {PHANTOM_HISTORY_WEEKS} "
    "weeks before those two. A missing stock count in either of the two weeks rules the line out (unknown). Stock "
    "that is on the books but does not scan: lost, damaged, in the back room or a wrong count.",
    "Stock reconciliation": "Over the period, per retailer x SKU: sell-in units (returns count negative) minus "
    "sell-out units, against the change in on-hand from the count at the end of the week before the period (0 for "
    "a line listed within the period) to the count at the period's last week. Unexplained units = sell-in - "
    "sell-out - change in on-hand: positive means stock went missing (shrink, waste) or the data disagree. Lines "
    "lacking either count are left out and counted as not reconciled; a retailer's figures are the sums over its "
    "reconciled lines.",
    "Forward-buy warning": f"Pipeline fill = sell-in units minus sell-out units over the last {FORWARD_BUY_WEEKS} "
    f"weeks of the period. A retailer is flagged when its fill exceeds {FORWARD_BUY_LIMIT:g} weeks of its "
    f"sell-out (its mean weekly sell-out units over the same {FORWARD_BUY_WEEKS} weeks). The expected order "
    "trough is the fill divided by that weekly sell-out: the weeks the extra stock lasts before orders can "
    "return to normal.",
}

AVAILABILITY_BY_RETAILER_COLUMNS = ["retailer_id", "in_stock_rate", "oos_weeks", "lost_units", "lost_value"]


# -- weeks ----------------------------------------------------------------------------------------------------
def period_weeks(scope: Scope) -> tuple[dt.date, dt.date] | None:
    """The first and last Monday of the period that hold data (None when the period holds no week)."""
    p = scope.period
    first = p.start + dt.timedelta(days=(7 - p.start.weekday()) % 7)
    last = monday(min(p.end, p.latest_week))
    return None if first > last else (first, last)


@dataclass(frozen=True)
class Context:
    """The filters resolved for inventory: the scope and the period's first and last week."""

    scope: Scope
    first: dt.date
    last: dt.date


def context(engine: Engine, filters: Filters, week: dt.date | None = None) -> Context | None:
    """None when no weekly data is loaded or the period holds no week.

    week: look at this week (its Monday) instead of the period's last week.
    """
    scope = resolve(engine, filters)
    if scope is None:
        return None
    weeks = period_weeks(scope)
    if week is None:
        return None if weeks is None else Context(scope, *weeks)
    last = monday(week)
    if last > scope.period.latest_week:
        return None
    return Context(scope, min(weeks[0], last) if weeks else last, last)


def weeks_before(week: ibis.DateValue, n: int) -> ibis.DateValue:
    """The Monday n weeks before, as a DATE on every backend."""
    # DuckDB types date - interval as TIMESTAMP while Ibis calls it a date (and so drops a cast to date); a
    # timestamp key joined to a DATE column would cast every probed row. The round trip keeps it a DATE.
    return (week - ibis.interval(days=7 * n)).cast("timestamp").cast("date")


def _ts(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day)


def _in_scope(frame: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    if scope.retailer_ids is not None:
        mask &= frame["retailer_id"].isin(scope.retailer_ids)
    if scope.sku_ids is not None:
        mask &= frame["sku_id"].isin(scope.sku_ids)
    return frame[mask]


# -- listing and the out-of-stock ledger (computed once per database) -----------------------------------------
def _listing_expr(engine: Engine) -> ibis.Table:
    """First week with stock above 0 or any sell-out, per retailer x SKU (see DEFINITIONS["Listed"])."""
    parts = []
    inv = engine.table("inventory")
    parts.append(inv.filter(inv.on_hand_units > 0).group_by(KEYS).aggregate(first_week=_.week.min()))
    if engine.has("sell_out"):
        so = engine.table("sell_out")
        parts.append(so.filter(so.units > 0).group_by(KEYS).aggregate(first_week=_.week.min()))
    both = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    return both.group_by(KEYS).aggregate(listed=_.first_week.min())


def listing(engine: Engine) -> pd.DataFrame:
    """retailer_id, sku_id, listed (Timestamp): one row per line that ever had stock or sales."""

    def load() -> pd.DataFrame:
        frame = engine.execute(_listing_expr(engine))
        frame["listed"] = pd.to_datetime(frame["listed"])
        return frame

    if not engine.has("inventory"):
        return pd.DataFrame({"retailer_id": pd.Series(dtype=str), "sku_id": pd.Series(dtype=str),
                             "listed": pd.Series(dtype="datetime64[s]")})
    return engine.memo(("inventory", "listing"), load)


LEDGER_COLUMNS = ["retailer_id", "sku_id", "week", "sold_units", "rate_weeks", "expected_units", "lost_units",
                  "price", "lost_value"]


def _ledger_expr(engine: Engine) -> ibis.Table:
    """Per listed out-of-stock week: its sell-out, and the sell-out (units, value) and count of the in-stock weeks
    among the RATE_WEEKS before it."""
    inv = engine.table("inventory")
    listed = _listing_expr(engine)
    zero = inv.filter(inv.on_hand_units == 0).select(*KEYS, "week")
    out = zero.join(listed, KEYS).filter(_.week >= _.listed).select(*KEYS, "week")
    # The weeks before each out-of-stock week, one row per (week, earlier week); a union of fixed offsets
    # keeps the date arithmetic portable (DuckDB and Spark).
    prior = ibis.union(*[out.select(*KEYS, "week", earlier=weeks_before(out.week, k))
                         for k in range(1, RATE_WEEKS + 1)], distinct=False)
    stocked = inv.filter(inv.on_hand_units > 0).select(*KEYS, earlier=_.week)
    prior_in_stock = prior.join(stocked, [*KEYS, "earlier"]).select(*KEYS, "week", "earlier")
    wanted = ibis.union(prior_in_stock, out.select(*KEYS, "week", earlier=_.week), distinct=False)
    if engine.has("sell_out"):
        so = engine.table("sell_out").select(*KEYS, earlier=_.week, units=_.units, value=_.sales_value)
        # A semi join hashes the few wanted weeks and streams sell-out past them once (a left join from the
        # wanted weeks would hash the whole of sell-out); the weeks that sold nothing come back by the small
        # left join below. Store and online rows of one week add up.
        sold = so.semi_join(wanted.select(*KEYS, "earlier").distinct(), [*KEYS, "earlier"]).group_by(
            [*KEYS, "earlier"]).aggregate(units=_.units.sum(), value=_.value.sum())
        weekly = wanted.left_join(sold, [*KEYS, "earlier"]).select(
            wanted.retailer_id, wanted.sku_id, wanted.week, wanted.earlier,
            units=sold.units.fill_null(0.0), value=sold.value.fill_null(0.0))
    else:
        weekly = wanted.mutate(units=ibis.literal(0.0), value=ibis.literal(0.0))
    before = weekly.earlier < weekly.week
    return weekly.group_by([*KEYS, "week"]).aggregate(
        rate_weeks=ibis.cases((before, 1), else_=0).sum(),
        rate_units=ibis.cases((before, weekly.units), else_=0.0).sum(),
        rate_value=ibis.cases((before, weekly.value), else_=0.0).sum(),
        sold_units=ibis.cases((~before, weekly.units), else_=0.0).sum(),
    )


def ledger(engine: Engine) -> pd.DataFrame:
    """Every listed out-of-stock week in the data with its lost sales (see DEFINITIONS); columns LEDGER_COLUMNS.

    Independent of the filters, so computed once per engine; callers select their scope and weeks.
    """

    def load() -> pd.DataFrame:
        frame = engine.execute(_ledger_expr(engine))
        frame["week"] = pd.to_datetime(frame["week"])
        frame["rate_weeks"] = frame["rate_weeks"].astype(int)
        has_rate = frame["rate_weeks"] > 0
        frame["expected_units"] = (frame["rate_units"] / frame["rate_weeks"]).where(has_rate)
        frame["lost_units"] = (frame["expected_units"] - frame["sold_units"]).clip(lower=0).fillna(0.0)
        frame["price"] = (frame["rate_value"] / frame["rate_units"]).where(frame["rate_units"] > 0)
        frame["lost_value"] = (frame["lost_units"] * frame["price"]).where(frame["lost_units"] > 0, 0.0)
        return frame[LEDGER_COLUMNS].sort_values([*KEYS, "week"]).reset_index(drop=True)

    if not engine.has("inventory"):
        return pd.DataFrame({c: pd.Series(dtype=float) for c in LEDGER_COLUMNS})
    return engine.memo(("inventory", "ledger"), load)


def out_of_stock_weeks(engine: Engine, ctx: Context) -> pd.DataFrame:
    """The ledger's rows in scope and in the period's weeks."""
    rows = ledger(engine)
    rows = rows[(rows["week"] >= _ts(ctx.first)) & (rows["week"] <= _ts(ctx.last))]
    return _in_scope(rows, ctx.scope)


# -- availability -------------------------------------------------------------------------------------------
def _lost_by(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return rows.groupby(keys, as_index=False).agg(oos_weeks=("week", "size"), lost_units=("lost_units", "sum"),
                                                  lost_value=("lost_value", "sum"))


def _in_stock_counts(engine: Engine, ctx: Context, keys: list[str]) -> pd.DataFrame:
    """Weeks with a stock count and weeks in stock, per keys, over the period."""
    inv = ctx.scope.weekly(engine.table("inventory"), ctx.first, ctx.last)
    return engine.execute(inv.group_by(keys).aggregate(
        counted_weeks=_.count(), in_stock_weeks=ibis.cases((_.on_hand_units > 0, 1), else_=0).sum()))


def _availability(engine: Engine, ctx: Context, keys: list[str]) -> pd.DataFrame:
    return _with_lost(_in_stock_counts(engine, ctx, keys), _lost_by(out_of_stock_weeks(engine, ctx), keys), keys)


def _with_lost(counts: pd.DataFrame, lost: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    frame = counts.merge(lost, on=keys, how="left")
    frame[["oos_weeks", "lost_units", "lost_value"]] = frame[["oos_weeks", "lost_units", "lost_value"]].fillna(0)
    frame["in_stock_weeks"] = frame["in_stock_weeks"].astype(int)
    frame["oos_weeks"] = frame["oos_weeks"].astype(int)
    listed_weeks = frame["in_stock_weeks"] + frame["oos_weeks"]
    frame["in_stock_rate"] = (frame["in_stock_weeks"] / listed_weeks).where(listed_weeks > 0)
    return frame.sort_values(keys).reset_index(drop=True)


def availability_by_retailer(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Availability per retailer in scope that has inventory data, over the filtered period.

    Columns: retailer_id, in_stock_rate (a fraction; see DEFINITIONS["In-stock rate"]), oos_weeks, lost_units,
    lost_value. Used by the Portfolio health status.
    """
    ctx = context(engine, filters)
    if ctx is None or not engine.has("inventory"):
        return pd.DataFrame({"retailer_id": pd.Series(dtype=str),
                             **{c: pd.Series(dtype=float) for c in AVAILABILITY_BY_RETAILER_COLUMNS[1:]}})
    return _availability(engine, ctx, ["retailer_id"])[AVAILABILITY_BY_RETAILER_COLUMNS]


# -- the position of every line at a week, and the period's flows -------------------------------------------------
def bands(engine: Engine) -> pd.DataFrame:
    """retailer_id, retailer_name, woc_min, woc_max (the contract's defaults where a retailer has none)."""
    r = scopes.retailers(engine)[["retailer_id", "retailer_name", "woc_min", "woc_max"]].copy()
    r["woc_min"] = pd.to_numeric(r["woc_min"], errors="coerce").fillna(DEFAULT_WOC_MIN).astype(float)
    r["woc_max"] = pd.to_numeric(r["woc_max"], errors="coerce").fillna(DEFAULT_WOC_MAX).astype(float)
    return r


def classify(on_hand: pd.Series, avg: pd.Series, woc_min: pd.Series, woc_max: pd.Series) -> pd.Series:
    """The cover status of each row (see DEFINITIONS["Cover status"]); empty where there is no stock count."""
    cover = on_hand / avg.where(avg > 0)
    status = np.select(
        [on_hand.isna(), on_hand <= 0, ~(avg > 0), cover < woc_min, cover > woc_max],
        [None, "oos", "no_sales", "low", "high"], default="ok")
    return pd.Series(status, index=on_hand.index, dtype=object)


def _window_weeks(listed: pd.Series, week: pd.Series, window: int) -> pd.Series:
    """Weeks of the trailing window at or after listing: min(window, weeks since listing + 1)."""
    since = (week - listed).dt.days // 7 + 1
    return since.clip(upper=window).where(since > 0)


def _by_line(parts: list[ibis.Table]) -> ibis.Table | None:
    """Per-line aggregates of several tables side by side: one row per retailer x SKU found in any of them."""
    if not parts:
        return None
    # Outer-joining the parts would chain joins; a union of the per-line rows, each part's columns filled
    # with NULL in the other parts, grouped once, gives the same table.
    columns = {c: part[c].type() for part in parts for c in part.columns if c not in KEYS}
    stacked = ibis.union(*[
        part.select(*KEYS, **{c: part[c] if c in part.columns else ibis.null(t) for c, t in columns.items()})
        for part in parts], distinct=False)
    return stacked.group_by(KEYS).aggregate(**{c: stacked[c].max() for c in columns})


def _sum_between(col, week, lo, hi):
    return ibis.cases((week.between(lo, hi), col), else_=0.0).sum()


def _at(col, week, day):
    return ibis.cases((week == day, col)).max()


def _positions_expr(engine: Engine, ctx: Context, window: int) -> ibis.Table | None:
    """One row per retailer x SKU in scope, reading only the last weeks of each fact table: stock at the last week
    and the week before, sell-out of the trailing window and of the last two weeks, and the flows of the last
    FORWARD_BUY_WEEKS weeks."""
    last, previous = ctx.last, ctx.last - WEEK
    window_start = last - (window - 1) * WEEK
    recent_start = last - (FORWARD_BUY_WEEKS - 1) * WEEK
    parts = []
    if engine.has("inventory"):
        inv = ctx.scope.weekly(engine.table("inventory"), previous, last)
        parts.append(inv.group_by(KEYS).aggregate(on_hand=_at(inv.on_hand_units, inv.week, last),
                                                  on_hand_previous=_at(inv.on_hand_units, inv.week, previous)))
    if engine.has("sell_out"):
        so = ctx.scope.weekly(engine.table("sell_out"), min(window_start, recent_start, previous), last)
        parts.append(so.group_by(KEYS).aggregate(
            units_window=_sum_between(so.units, so.week, window_start, last),
            value_window=_sum_between(so.sales_value, so.week, window_start, last),
            sold_last_two=_sum_between(so.units, so.week, previous, last),
            sell_out_recent=_sum_between(so.units, so.week, recent_start, last),
        ))
    if engine.has("sell_in"):
        si = ctx.scope.weekly(engine.table("sell_in"), recent_start, last)
        parts.append(si.group_by(KEYS).aggregate(sell_in_recent=si.units.sum()))
    return _by_line(parts)


def _filled(frame: pd.DataFrame, sums: list[str], levels: list[str]) -> pd.DataFrame:
    """Sums missing for a line are 0 (no row sold or shipped nothing); stock levels missing stay missing."""
    for col in sums:
        frame[col] = frame[col].fillna(0.0).astype(float) if col in frame else 0.0
    for col in levels:
        frame[col] = frame[col].astype(float) if col in frame else np.nan
    return frame


def positions(engine: Engine, ctx: Context, window: int) -> pd.DataFrame:
    """Every retailer x SKU in scope at the period's last week: stock, listing, band, average weekly sell-out,
    weeks of cover and status (see DEFINITIONS), the price of the window's sell-out, and the recent flows."""
    expr = _positions_expr(engine, ctx, window)
    frame = engine.execute(expr) if expr is not None else pd.DataFrame(columns=KEYS)
    frame = _filled(frame, ["units_window", "value_window", "sold_last_two", "sell_out_recent", "sell_in_recent"],
                    ["on_hand", "on_hand_previous"])
    frame = frame.merge(listing(engine), on=KEYS, how="left").merge(bands(engine), on="retailer_id", how="left")
    last = _ts(ctx.last)
    frame["avg_weekly_units"] = frame["units_window"] / _window_weeks(frame["listed"], pd.Series(
        last, index=frame.index), window)
    # a line with no stock and no sales yet is not listed: its row says nothing about the shelf
    on_hand = frame["on_hand"].where(frame["listed"] <= last)
    frame["weeks_of_cover"] = on_hand / frame["avg_weekly_units"].where(frame["avg_weekly_units"] > 0)
    frame["status"] = classify(on_hand, frame["avg_weekly_units"], frame["woc_min"], frame["woc_max"])
    frame["price"] = (frame["value_window"] / frame["units_window"]).where(frame["units_window"] > 0)
    return frame


def line_flows(engine: Engine, ctx: Context, retailer_id: str | None = None) -> pd.DataFrame:
    """Per retailer x SKU (of one retailer, if given): the stock counts at the end of the week before the period
    (opening) and of its last week (closing), sell-in and sell-out units over the period, and the listing."""
    opening_week = ctx.first - WEEK

    def rows(name: str, lo: dt.date) -> ibis.Table:
        t = ctx.scope.weekly(engine.table(name), lo, ctx.last)
        return t.filter(t.retailer_id == retailer_id) if retailer_id is not None else t

    parts = []
    if engine.has("inventory"):
        inv = rows("inventory", opening_week)
        inv = inv.filter(inv.week.isin([opening_week, ctx.last]))
        parts.append(inv.group_by(KEYS).aggregate(opening=_at(inv.on_hand_units, inv.week, opening_week),
                                                  closing=_at(inv.on_hand_units, inv.week, ctx.last)))
    for name, col in (("sell_in", "sell_in_units"), ("sell_out", "sell_out_units")):
        if engine.has(name):
            t = rows(name, ctx.first)
            parts.append(t.group_by(KEYS).aggregate(**{col: t.units.sum()}))
    expr = _by_line(parts)
    frame = engine.execute(expr) if expr is not None else pd.DataFrame(columns=KEYS)
    frame = _filled(frame, ["sell_in_units", "sell_out_units"], ["opening", "closing"])
    return frame.merge(listing(engine), on=KEYS, how="left")


# -- forward cover ------------------------------------------------------------------------------------------------
def forward_cover(engine: Engine, scope: Scope, week: dt.date, stock: pd.DataFrame) -> pd.Series:
    """Forward cover in weeks (see DEFINITIONS) of each row of `stock` (retailer_id, sku_id, on_hand) at `week`.

    Only the lines in `stock` are read (by retailer and SKU), so a page can ask for the few rows it shows.
    """
    result = pd.Series(np.nan, index=stock.index, dtype=float)
    if stock.empty or not engine.has("sell_out"):
        return result
    ytd_first = dt.date(week.year, 1, 1)
    ytd_first += dt.timedelta(days=(7 - ytd_first.weekday()) % 7)
    ly = dt.timedelta(weeks=52)
    horizon = [week + k * WEEK - ly for k in range(1, FORWARD_HORIZON + 1)]
    so = scope.by_ids(engine.table("sell_out"))
    so = so.filter(so.retailer_id.isin(sorted(set(stock["retailer_id"]))), so.sku_id.isin(sorted(set(stock["sku_id"]))),
                   so.week.between(min(ytd_first - ly, horizon[0]), week))
    sums = {
        "ytd": ibis.cases((so.week >= ytd_first, so.units), else_=0.0).sum(),
        "ytd_ly": ibis.cases((so.week.between(ytd_first - ly, week - ly), so.units), else_=0.0).sum(),
        **{f"d{k}": ibis.cases((so.week == day, so.units), else_=0.0).sum() for k, day in enumerate(horizon, 1)},
    }
    demand = stock[KEYS].merge(engine.execute(so.group_by(KEYS).aggregate(**sums)), on=KEYS, how="left")
    ratio = (demand["ytd"] / demand["ytd_ly"].where(demand["ytd_ly"] > 0)).fillna(1.0).to_numpy()
    ly_units = demand[[f"d{k}" for k in range(1, FORWARD_HORIZON + 1)]].fillna(0.0).to_numpy()
    weeks = walk_forward(stock["on_hand"].to_numpy(dtype=float), ly_units * ratio[:, None])
    return pd.Series(weeks, index=stock.index)


def walk_forward(on_hand: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Weeks until each row's stock runs out on its weekly demand (rows x horizon), fractional in the last week;
    past the horizon at its average; NaN where the horizon holds no demand."""
    horizon = demand.shape[1]
    cum = np.cumsum(demand, axis=1)
    total = cum[:, -1]
    out = np.full(len(on_hand), np.nan)
    for i, stock in enumerate(on_hand):
        if np.isnan(stock):
            continue
        if stock <= 0:
            out[i] = 0.0
        elif total[i] >= stock:
            k = int(np.argmax(cum[i] >= stock))  # the week (0-based) in which the stock runs out
            before = cum[i, k - 1] if k else 0.0
            out[i] = k + (stock - before) / demand[i, k]
        elif total[i] > 0:
            out[i] = horizon + (stock - total[i]) / (total[i] / horizon)
    return out


# -- phantom inventory ------------------------------------------------------------------------------------------
PHANTOM_COLUMNS = ["retailer_id", "sku_id", "on_hand", "selling_weeks", "price"]


def phantom_candidates(engine: Engine, scope: Scope, week: dt.date, lines: pd.DataFrame | None = None
                       ) -> pd.DataFrame:
    """Phantom inventory candidates at `week` (see DEFINITIONS); columns PHANTOM_COLUMNS, where `price` is the
    average sell-out price of the history weeks.

    lines: the lines' on_hand at the week, on_hand_previous the week before and sold_last_two (sell-out units of the
    two weeks), when already at hand (the page's `series`); read here otherwise.
    """
    empty = pd.DataFrame({c: pd.Series(dtype=str if c in KEYS else float) for c in PHANTOM_COLUMNS})
    if not engine.has("inventory") or not engine.has("sell_out"):
        return empty  # without sell-out there is no history of selling to contrast with
    previous = week - (PHANTOM_ZERO_WEEKS - 1) * WEEK
    if lines is None:
        inv = scope.weekly(engine.table("inventory"), previous, week)
        so = scope.weekly(engine.table("sell_out"), previous, week)
        lines = engine.execute(inv.group_by(KEYS).aggregate(
            on_hand=ibis.cases((inv.week == week, inv.on_hand_units)).max(),
            on_hand_previous=ibis.cases((inv.week == previous, inv.on_hand_units)).max()))
        sold = engine.execute(so.group_by(KEYS).aggregate(sold_last_two=so.units.sum()))
        lines = lines.merge(sold, on=KEYS, how="left")
    silent = lines[(lines["on_hand"] > 0) & (lines["on_hand_previous"] > 0)
                   & ~(lines["sold_last_two"].fillna(0.0) > 0)][[*KEYS, "on_hand"]]
    if silent.empty:
        return empty
    # the selling history of the few silent lines only: a narrow read however large the tables
    history = scope.weekly(engine.table("sell_out"), previous - PHANTOM_HISTORY_WEEKS * WEEK, previous - WEEK)
    history = history.filter(history.units > 0, history.retailer_id.isin(sorted(set(silent["retailer_id"]))),
                             history.sku_id.isin(sorted(set(silent["sku_id"]))))
    selling = engine.execute(history.group_by(KEYS).aggregate(
        selling_weeks=history.week.nunique(), units=history.units.sum(), value=history.sales_value.sum()))
    frame = silent.merge(selling, on=KEYS, how="inner")
    frame = frame[frame["selling_weeks"] >= PHANTOM_MIN_SELLING_WEEKS].copy()
    frame["selling_weeks"] = frame["selling_weeks"].astype(int)
    frame["price"] = frame["value"] / frame["units"]
    return frame[PHANTOM_COLUMNS].sort_values(KEYS).reset_index(drop=True)


# -- reconciliation and forward buying -------------------------------------------------------------------------
RECONCILIATION_COLUMNS = ["retailer_id", "sell_in_units", "sell_out_units", "on_hand_change", "unexplained_units"]


def reconcile(frame: pd.DataFrame, first: dt.date) -> pd.DataFrame:
    """Per retailer x SKU with a stock count: opening and closing stock, flows, the unexplained remainder and
    whether the line could be reconciled (see DEFINITIONS["Stock reconciliation"])."""
    frame = frame[frame["listed"].notna()].copy()
    new_listing = frame["listed"] >= _ts(first)
    frame["opening_units"] = frame["opening"].where(frame["opening"].notna() | ~new_listing, 0.0)
    frame["closing_units"] = frame["closing"]
    frame["reconciled"] = frame["opening_units"].notna() & frame["closing_units"].notna()
    frame["on_hand_change"] = frame["closing_units"] - frame["opening_units"]
    frame["unexplained_units"] = frame["sell_in_units"] - frame["sell_out_units"] - frame["on_hand_change"]
    return frame


def reconciliation_by_retailer(lines: pd.DataFrame) -> pd.DataFrame:
    """Sums over each retailer's reconciled lines, with the number of lines left out."""
    done = lines[lines["reconciled"]]
    cols = ["opening_units", "sell_in_units", "sell_out_units", "closing_units", "on_hand_change",
            "unexplained_units"]
    frame = done.groupby("retailer_id", as_index=False)[cols].sum()
    left_out = lines[~lines["reconciled"]].groupby("retailer_id").size().rename("lines_left_out")
    frame = frame.merge(left_out, on="retailer_id", how="outer")
    frame["lines_left_out"] = frame["lines_left_out"].fillna(0).astype(int)
    return frame.sort_values("retailer_id").reset_index(drop=True)


FORWARD_BUY_COLUMNS = ["retailer_id", "sell_in_units", "sell_out_units", "fill_units", "weekly_sell_out",
                       "fill_weeks", "warning"]


def forward_buy(frame: pd.DataFrame) -> pd.DataFrame:
    """Pipeline fill over the last FORWARD_BUY_WEEKS weeks per retailer (see DEFINITIONS["Forward-buy warning"])."""
    per = frame.groupby("retailer_id", as_index=False)[["sell_in_recent", "sell_out_recent"]].sum()
    per = per[per["sell_out_recent"] > 0].rename(columns={"sell_in_recent": "sell_in_units",
                                                          "sell_out_recent": "sell_out_units"})
    per["fill_units"] = per["sell_in_units"] - per["sell_out_units"]
    per["weekly_sell_out"] = per["sell_out_units"] / FORWARD_BUY_WEEKS
    per["fill_weeks"] = per["fill_units"] / per["weekly_sell_out"]
    per["warning"] = per["fill_weeks"] > FORWARD_BUY_LIMIT
    return per[FORWARD_BUY_COLUMNS].sort_values(["fill_weeks", "retailer_id"], ascending=[False, True]
                                                ).reset_index(drop=True)


# -- one retailer week by week: the heatmap and the trend -------------------------------------------------------
EPOCH = dt.date(2000, 1, 3)  # a Monday: weeks are counted from it for range windows


def retailer_weeks(engine: Engine, ctx: Context, retailer_id: str, window: int,
                   skus: list[str] | None = None) -> pd.DataFrame:
    """One retailer's lines week by week over the period: sku_id, week, on_hand, avg_weekly_units, weeks_of_cover,
    status (weeks with a stock count and listed only), computed as for the last week (see DEFINITIONS)."""
    columns = ["sku_id", "week", "on_hand", "avg_weekly_units", "weeks_of_cover", "status"]
    if not engine.has("inventory"):
        return pd.DataFrame(columns=columns)
    lo = ctx.first - (window - 1) * WEEK

    def rows(table: str) -> ibis.Table:
        t = ctx.scope.weekly(engine.table(table), lo, ctx.last)
        t = t.filter(t.retailer_id == retailer_id)
        return t.filter(t.sku_id.isin(skus)) if skus is not None else t

    inv = rows("inventory")
    parts = [inv.select("sku_id", "week", on_hand=inv.on_hand_units, units=ibis.literal(0.0))]
    if engine.has("sell_out"):
        so = rows("sell_out")
        parts.append(so.select("sku_id", "week", on_hand=ibis.null("float64"), units=so.units))
    both = ibis.union(*parts, distinct=False)
    weekly = both.group_by(["sku_id", "week"]).aggregate(on_hand=_.on_hand.max(), units=_.units.sum())
    weekly = weekly.mutate(wk=(weekly.week.delta(ibis.date(EPOCH), unit="day") // 7).cast("int64"))
    trailing = ibis.window(group_by="sku_id", order_by="wk", range=(-(window - 1), 0))
    weekly = weekly.mutate(units_window=weekly.units.sum().over(trailing))
    weekly = weekly.filter(weekly.week >= ctx.first, weekly.on_hand.notnull())
    frame = engine.execute(weekly.select("sku_id", "week", "on_hand", "units_window"))
    frame["week"] = pd.to_datetime(frame["week"])
    listed = listing(engine)
    frame = frame.merge(listed[listed["retailer_id"] == retailer_id][["sku_id", "listed"]], on="sku_id", how="inner")
    frame = frame[frame["week"] >= frame["listed"]].copy()
    frame["avg_weekly_units"] = frame["units_window"] / _window_weeks(frame["listed"], frame["week"], window)
    band = bands(engine).set_index("retailer_id").loc[retailer_id]
    frame["weeks_of_cover"] = frame["on_hand"] / frame["avg_weekly_units"].where(frame["avg_weekly_units"] > 0)
    frame["status"] = classify(frame["on_hand"], frame["avg_weekly_units"],
                               pd.Series(band["woc_min"], index=frame.index),
                               pd.Series(band["woc_max"], index=frame.index))
    return frame[columns].sort_values(["sku_id", "week"]).reset_index(drop=True)


def trend(weeks: pd.DataFrame) -> pd.DataFrame:
    """A retailer's cover week by week: its total stock over its total average weekly sell-out, and the share of
    its lines in stock."""
    grouped = weeks.groupby("week", as_index=False).agg(
        on_hand=("on_hand", "sum"), avg_weekly_units=("avg_weekly_units", "sum"),
        lines=("sku_id", "size"), in_stock=("on_hand", lambda v: int((v > 0).sum())))
    grouped["weeks_of_cover"] = grouped["on_hand"] / grouped["avg_weekly_units"].where(grouped["avg_weekly_units"] > 0)
    grouped["in_stock_share"] = grouped["in_stock"] / grouped["lines"]
    return grouped


# -- the page ---------------------------------------------------------------------------------------------------
TOP_ROWS = 15
HEATMAP_SKUS = 25
HEATMAP_WEEKS = 26


@dataclass
class InventoryPage:
    """Everything the Inventory page shows, for one set of filters, window and retailer."""

    window: int
    first: dt.date | None = None  # the period's first and last week (None: nothing to show)
    last: dt.date | None = None
    has_inventory: bool = False  # inventory rows for the lines in view
    kpis: dict = field(default_factory=dict)
    retailers: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per retailer with inventory
    out_of_stock: pd.DataFrame = field(default_factory=pd.DataFrame)
    low_cover: pd.DataFrame = field(default_factory=pd.DataFrame)
    phantom: pd.DataFrame = field(default_factory=pd.DataFrame)
    overstock: pd.DataFrame = field(default_factory=pd.DataFrame)
    reconciliation: pd.DataFrame = field(default_factory=pd.DataFrame)  # the chosen retailer's, one row
    reconciliation_lines: pd.DataFrame = field(default_factory=pd.DataFrame)  # its lines, largest remainder first
    waterfall: pd.Series | None = None  # the chosen retailer's reconciliation, when it has reconciled lines
    forward_buy: pd.DataFrame = field(default_factory=pd.DataFrame)
    retailer: str | None = None  # the retailer of the heatmap and trend
    retailer_choices: list[str] = field(default_factory=list)
    heatmap: pd.DataFrame = field(default_factory=pd.DataFrame)
    trend: pd.DataFrame = field(default_factory=pd.DataFrame)
    band: tuple[float, float] | None = None


def _names(engine: Engine, frame: pd.DataFrame) -> pd.DataFrame:
    r = scopes.retailers(engine)[["retailer_id", "retailer_name"]]
    p = scopes.products(engine)[["sku_id", "sku_name"]]
    out = frame.drop(columns=[c for c in ("retailer_name", "sku_name") if c in frame]).merge(r, on="retailer_id",
                                                                                             how="left")
    if "sku_id" in out:
        out = out.merge(p, on="sku_id", how="left")
    return out


def _worst(frame: pd.DataFrame, by: str, columns: list[str]) -> pd.DataFrame:
    ranked = frame.sort_values([by, "retailer_id", "sku_id"], ascending=[False, True, True], na_position="last")
    return ranked.head(TOP_ROWS)[columns].reset_index(drop=True)


def _tables(engine: Engine, ctx: Context, frame: pd.DataFrame, lost: pd.DataFrame, phantom: pd.DataFrame) -> dict:
    """The worst positions at the last week, each with the units and value at stake."""
    frame = _names(engine, frame)
    ids = ["retailer_id", "retailer_name", "sku_id", "sku_name"]
    oos = frame[frame["status"] == "oos"].merge(lost, on=KEYS, how="left")
    oos[["oos_weeks", "lost_units", "lost_value"]] = oos[["oos_weeks", "lost_units", "lost_value"]].fillna(0)
    low = frame[frame["status"] == "low"].copy()
    low["shortfall_units"] = low["woc_min"] * low["avg_weekly_units"] - low["on_hand"]
    low["shortfall_value"] = low["shortfall_units"] * low["price"]
    high = frame[frame["status"] == "high"].copy()
    high["excess_units"] = high["on_hand"] - high["woc_max"] * high["avg_weekly_units"]
    high["excess_value"] = high["excess_units"] * high["price"]
    ghost = _names(engine, phantom)
    ghost["on_hand_value"] = ghost["on_hand"] * ghost["price"]
    tables = {
        "out_of_stock": _worst(oos, "lost_value", [*ids, "oos_weeks", "lost_units", "lost_value"]),
        "low_cover": _worst(low, "shortfall_value", [*ids, "on_hand", "avg_weekly_units", "weeks_of_cover",
                                                     "woc_min", "shortfall_units", "shortfall_value"]),
        "overstock": _worst(high, "excess_value", [*ids, "on_hand", "avg_weekly_units", "weeks_of_cover", "woc_max",
                                                   "excess_units", "excess_value"]),
        "phantom": _worst(ghost, "on_hand_value", [*ids, "on_hand", "selling_weeks", "on_hand_value"]),
    }
    # forward cover only for the rows shown: one small read of last year's sell-out
    shown = pd.concat([tables["low_cover"], tables["overstock"]], ignore_index=True)
    cover = forward_cover(engine, ctx.scope, ctx.last, shown)
    for name, part in (("low_cover", cover.iloc[:len(tables["low_cover"])]),
                       ("overstock", cover.iloc[len(tables["low_cover"]):])):
        tables[name]["forward_cover"] = part.to_numpy()
    return tables


def page_data(engine: Engine, filters: Filters, window: int = DEFAULT_WINDOW,
              retailer: str | None = None) -> InventoryPage:
    """The Inventory page's numbers (see DEFINITIONS). `retailer` picks the retailer of the heatmap, trend and
    reconciliation (default: the one losing most sales value); one with no inventory in view is replaced."""
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {WINDOWS}")
    page = InventoryPage(window=window)
    ctx = context(engine, filters)
    if ctx is None:
        return page
    page.first, page.last = ctx.first, ctx.last
    frame = positions(engine, ctx, window)
    page.forward_buy = _names(engine, forward_buy(frame))
    page.kpis = {"forward_buy_warnings": int(page.forward_buy["warning"].sum())}
    avail = _availability(engine, ctx, ["retailer_id"]) if engine.has("inventory") else pd.DataFrame()
    avail = avail[avail["in_stock_weeks"] + avail["oos_weeks"] > 0] if len(avail) else avail
    page.has_inventory = len(avail) > 0
    if not page.has_inventory:
        return page

    phantom = phantom_candidates(engine, ctx.scope, ctx.last, frame)
    page.__dict__.update(_tables(engine, ctx, frame, _lost_by(out_of_stock_weeks(engine, ctx), KEYS), phantom))
    status_counts = pd.crosstab(frame["retailer_id"], frame["status"]).reindex(columns=list(STATUSES), fill_value=0)
    overview = avail.merge(status_counts.add_prefix("now_").reset_index(), on="retailer_id", how="left")
    overview = overview.merge(phantom.groupby("retailer_id").size().rename("now_phantom").reset_index(),
                              on="retailer_id", how="left")
    overview = overview.merge(bands(engine), on="retailer_id", how="left").fillna(
        {f"now_{s}": 0 for s in (*STATUSES, "phantom")})
    page.retailers = overview.sort_values(["lost_value", "retailer_id"], ascending=[False, True]).reset_index(drop=True)

    listed_weeks = avail["in_stock_weeks"].sum() + avail["oos_weeks"].sum()
    counts = frame["status"].value_counts()
    page.kpis.update({
        "in_stock_rate": float(avail["in_stock_weeks"].sum() / listed_weeks),
        "oos_weeks": int(avail["oos_weeks"].sum()),
        "lost_units": float(avail["lost_units"].sum()),
        "lost_value": float(avail["lost_value"].sum()),
        "positions": int(frame["status"].notna().sum()),
        **{f"now_{s}": int(counts.get(s, 0)) for s in STATUSES},
        "now_phantom": len(phantom),
    })

    # one retailer in detail: read by its id alone, so cheap however large the tables
    page.retailer_choices = list(page.retailers.sort_values("retailer_name")["retailer_id"])
    page.retailer = retailer if retailer in page.retailer_choices else page.retailers["retailer_id"].iloc[0]
    band = bands(engine).set_index("retailer_id").loc[page.retailer]
    page.band = (float(band["woc_min"]), float(band["woc_max"]))
    weeks = retailer_weeks(engine, ctx, page.retailer, window)
    page.trend = trend(weeks)
    mine = frame[frame["retailer_id"] == page.retailer]
    top = mine.sort_values(["value_window", "sku_id"], ascending=[False, True]).head(HEATMAP_SKUS)["sku_id"]
    shown_from = _ts(ctx.last - (HEATMAP_WEEKS - 1) * WEEK)
    page.heatmap = _names(engine, weeks[weeks["sku_id"].isin(top) & (weeks["week"] >= shown_from)].assign(
        retailer_id=page.retailer))
    lines = reconcile(line_flows(engine, ctx, page.retailer), ctx.first)
    page.reconciliation = _names(engine, reconciliation_by_retailer(lines))
    if len(page.reconciliation) and page.reconciliation["closing_units"].notna().all():
        page.waterfall = page.reconciliation.iloc[0]
    done = lines[lines["reconciled"]]
    page.reconciliation_lines = _names(engine, done.assign(size=done["unexplained_units"].abs()).sort_values(
        ["size", "sku_id"], ascending=[False, True]).head(TOP_ROWS)[
        ["retailer_id", "sku_id", "opening_units", "sell_in_units", "sell_out_units", "closing_units",
         "unexplained_units"]])
    return page


# -- exports ----------------------------------------------------------------------------------------------------
COVERAGE_COLUMNS = ["retailer_id", "sku_id", "week", "on_hand_units", "avg_weekly_units", "weeks_of_cover",
                    "forward_cover", "status"]
AVAILABILITY_COLUMNS = ["retailer_id", "sku_id", "oos_weeks", "lost_units", "lost_value", "phantom_candidate"]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@export_metric("coverage", columns=COVERAGE_COLUMNS, options=("window", "week"),
               examples=({}, {"window": 8}, {"window": 13}))
def coverage(engine: Engine, filters: Filters, window: int = DEFAULT_WINDOW,
             week: dt.date | None = None) -> pd.DataFrame:
    """Weeks of cover, forward cover and status of every listed line with a stock count at a week (default: the
    period's last week), one row per retailer x SKU."""
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {', '.join(map(str, WINDOWS))}")
    ctx = context(engine, filters, week)
    if ctx is None or not engine.has("inventory"):
        return _empty(COVERAGE_COLUMNS)
    frame = positions(engine, ctx, window)
    frame = frame[frame["status"].notna()].copy()
    frame["week"] = _ts(ctx.last)
    frame["on_hand_units"] = frame["on_hand"]
    frame["forward_cover"] = forward_cover(engine, ctx.scope, ctx.last, frame[[*KEYS, "on_hand"]]).to_numpy()
    return frame[COVERAGE_COLUMNS].sort_values(KEYS).reset_index(drop=True)


@export_metric("availability", columns=AVAILABILITY_COLUMNS)
def availability(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Out-of-stock weeks and lost sales over the period per listed retailer x SKU with a stock count, and whether
    it is a phantom inventory candidate at the period's last week."""
    ctx = context(engine, filters)
    if ctx is None or not engine.has("inventory"):
        return _empty(AVAILABILITY_COLUMNS)
    frame = _availability(engine, ctx, KEYS)
    frame = frame[frame["in_stock_weeks"] + frame["oos_weeks"] > 0]
    phantom = phantom_candidates(engine, ctx.scope, ctx.last)
    flagged = set(zip(phantom["retailer_id"], phantom["sku_id"]))
    frame = frame.assign(phantom_candidate=[k in flagged for k in zip(frame["retailer_id"], frame["sku_id"])])
    return frame[AVAILABILITY_COLUMNS].reset_index(drop=True)


@export_metric("reconciliation", columns=RECONCILIATION_COLUMNS)
def reconciliation(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Sell-in minus sell-out against the change in on-hand over the period, per retailer (reconciled lines)."""
    ctx = context(engine, filters)
    if ctx is None or not engine.has("inventory"):
        return _empty(RECONCILIATION_COLUMNS)
    per = reconciliation_by_retailer(reconcile(line_flows(engine, ctx), ctx.first))
    return per.dropna(subset=["on_hand_change"])[RECONCILIATION_COLUMNS].reset_index(drop=True)
