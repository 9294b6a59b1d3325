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
from dataclasses import dataclass

import ibis
import pandas as pd
from ibis import _

from kam_dash.engine import Engine
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


def context(engine: Engine, filters: Filters) -> Context | None:
    """None when there is no inventory, or the period holds no week."""
    if not engine.has("inventory"):
        return None
    scope = resolve(engine, filters)
    if scope is None:
        return None
    weeks = period_weeks(scope)
    if weeks is None:
        return None
    return Context(scope, *weeks)


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
    counts = _in_stock_counts(engine, ctx, keys)
    lost = _lost_by(out_of_stock_weeks(engine, ctx), keys)
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
    if ctx is None:
        return pd.DataFrame({"retailer_id": pd.Series(dtype=str),
                             **{c: pd.Series(dtype=float) for c in AVAILABILITY_BY_RETAILER_COLUMNS[1:]}})
    return _availability(engine, ctx, ["retailer_id"])[AVAILABILITY_BY_RETAILER_COLUMNS]
