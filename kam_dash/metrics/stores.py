"""Store-level POS: distribution, velocity, voids, store ranking and store phantom stock.

Reads `sell_out_store` (and `inventory_store`, `stores`); chain pages keep reading the chain rollup in
`sell_out`. Store rows never come to pandas whole: the engine sums them (per retailer x SKU x week, per
comparable format, per store x week) and hands over only the rows of store x SKU pairs with a gap between sales
long enough to hold a void, whose runs `find_voids` walks in pandas. On DuckDB the sums are read from the
`store_summary_*` tables kept at import (kam_dash/store_summary.py); elsewhere (Spark) computed per view. The
pandas functions (`distribution_from`, `find_voids`, `ranking`) are the reference the engine path is tested
against.

A store is open in a week when it has any sell-out row that week (any SKU, 0 units included), and the week is
inside its open and close dates when the `stores` table gives them. A store-week with no row is unreported:
skipped, never a zero.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from kam_dash import calendar, store_summary
from kam_dash.engine import Engine
from kam_dash.export import NEEDS, export_metric
from kam_dash.filters import Filters
from kam_dash.scope import Scope, products, resolve

VOID_WEEKS = 4  # N: weeks without a sale before a store x SKU is a void
VOID_SHARE = 0.5  # X: share of the chain's open stores that must sell the SKU in each of those weeks
# A run this likely to happen by chance in a store selling like the others is not reported. Weekly sales are
# overdispersed (a slow line's demand drifts for months), so Poisson odds flatter a long run of zeros: on demo seeds
# 1-5 runs that were only slow selling reached 1 in 60,000 while the least extreme planted void was 1 in 10^17.
# One in a million keeps a wide margin on both sides.
VOID_CHANCE = 1e-6
LOOKBACK_WEEKS = 26  # weeks read before the period, so a void can be seen to have sold before and to start early

DEFINITIONS = {
    "Store open": "A store is open in a week when it sent any sell-out row that week (any SKU, 0 units "
    "included) and the week is inside its open and close dates, where the stores table gives them. A store-week "
    "with no row is unreported: skipped, never counted as a zero.",
    "Numeric distribution": "Stores selling the SKU (units above 0; sales value above 0 where the retailer reports "
    "value only) divided by stores open, per retailer, SKU and week. Over a period: selling store-weeks divided "
    "by open store-weeks.",
    "ACV-weighted distribution (%ACV)": "The same, each store weighted by its acv_weight (its all-commodity volume "
    "or size; 1 where not given): the acv of the stores selling divided by the acv of the stores open.",
    "Velocity": "Units per store selling per week: units divided by selling store-weeks. Velocity per open "
    "store divides by open store-weeks instead (it falls when distribution falls).",
    "Total distribution points (TDP)": "The sum over SKUs of their %ACV distribution (in points: 100 = one SKU "
    "in every store), per retailer and per brand, per week; over a period the average of its weeks.",
    "Void": f"A store x SKU that sold before and then sold nothing for at least {VOID_WEEKS} weeks in which the "
    f"store was open while at least {VOID_SHARE:.0%} of the retailer's open stores sold it, each of those weeks. "
    "A week the store was not open neither counts nor ends the run; a sale, or a week in which fewer stores sold "
    "it, ends it. A run that could be chance is not reported: a store selling like the comparable stores (below) "
    "for its size would expect their units per acv_weight times its acv_weight each week; the chance of "
    "selling none of the expected units over the run, exp(-expected units), must be below 1 in "
    f"{1 / VOID_CHANCE:,.0f} (about 14 units expected). Voids are looked for from {LOOKBACK_WEEKS} weeks before "
    "the period and listed when "
    "they reach into it.",
    "Estimated lost units": "For a void: the SKU's velocity (units per store selling) in comparable stores, summed "
    "over the void weeks. Comparable stores are the retailer's open stores of the same format (all its open "
    "stores where the store has no format).",
    "Store ranking": "Stores ranked by sell-out value in the period, within their retailer. SKUs carried: the "
    "SKUs the store sold (units above 0) in the period.",
    "Like-for-like growth": "Sell-out of the period's weeks that have a last year (up to the retailer's latest "
    "store week) divided by the sell-out of their last-year weeks (the same week 364 days earlier), minus 1, "
    "only for stores open in every week of both that the retailer reported; other stores have none. A "
    "retailer's like-for-like growth adds up its like-for-like stores.",
    "Store phantom stock": "A void in which the store had stock on hand above 0 in every void week with a stock "
    "row: stock on the books, nothing sold while the chain sold it. Only where store stock is loaded.",
}

DISTRIBUTION_COLUMNS = ["retailer_id", "sku_id", "week", "stores_open", "stores_selling", "numeric_distribution",
                        "acv_distribution", "units", "velocity"]
VOID_COLUMNS = ["retailer_id", "store_id", "sku_id", "first_week", "weeks", "est_lost_units"]
STORE_COLUMNS = ["retailer_id", "store_id", "store_name", "format", "region", "rank", "sell_out", "sell_out_ly",
                 "like_for_like", "lfl_growth", "skus_carried"]
NEEDS.update({"distribution": ("sell_out_store",), "voids": ("sell_out_store",), "stores": ("sell_out_store",)})


def has_store_data(engine: Engine) -> bool:
    return engine.has("sell_out_store")


def _stores(engine: Engine) -> pd.DataFrame:
    """The stores table, or the stores the store rows name (weight 1, no format) when it is not loaded."""

    def load() -> pd.DataFrame:
        if engine.has("stores"):
            frame = engine.execute(engine.table("stores"))
        else:
            t = engine.table("sell_out_store")
            frame = engine.execute(t.select("store_id", "retailer_id").distinct())
            frame["store_name"] = frame["store_id"]
            for col in ("region", "format", "open_date", "close_date"):
                frame[col] = None
            frame["acv_weight"] = 1.0
        frame["acv_weight"] = pd.to_numeric(frame["acv_weight"]).fillna(1.0)
        for col in ("open_date", "close_date"):
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
        return frame.sort_values("store_id").reset_index(drop=True)

    return engine.memo("stores_table", load)


def _week_date(values: pd.Series) -> pd.Series:
    """Weeks as datetime64 (fast to group and compare; dates as objects are not)."""
    return pd.to_datetime(values).astype("datetime64[ns]")


def _ts(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day)


def open_store_weeks(engine: Engine, retailer_ids, start: dt.date, end: dt.date) -> pd.DataFrame:
    """(retailer_id, store_id, week, acv_weight, format) for every week a store was open in start..end."""
    t = engine.table("sell_out_store")
    cond = [t.week >= start, t.week <= end]
    if retailer_ids is not None:
        cond.append(t.retailer_id.isin(retailer_ids) if retailer_ids else ibis.literal(False))
    frame = engine.execute(t.filter(cond).select("retailer_id", "store_id", "week").distinct())
    frame["week"] = _week_date(frame["week"])
    stores = _stores(engine)
    frame = frame.merge(stores[["store_id", "acv_weight", "format", "open_date", "close_date"]], on="store_id",
                        how="left")
    frame["acv_weight"] = frame["acv_weight"].fillna(1.0)
    # a week is the store's when it opened by the week's last day and had not closed before its Monday
    ends = frame["week"] + pd.Timedelta(days=6)
    inside = frame["open_date"].isna() | (frame["open_date"] <= ends)
    inside &= frame["close_date"].isna() | (frame["close_date"] >= frame["week"])
    return frame.loc[inside, ["retailer_id", "store_id", "week", "acv_weight", "format"]].reset_index(drop=True)


def store_rows(engine: Engine, scope: Scope, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Store rows in scope that sold (units above 0, or value above 0 where a retailer reports value only):
    (week, retailer_id, store_id, sku_id, units, sales_value)."""
    t = scope.weekly(engine.table("sell_out_store"), start=start, end=end)
    t = t.filter(ibis.coalesce(t.units, t.sales_value) > 0)
    frame = engine.execute(t.select("week", "retailer_id", "store_id", "sku_id", "units", "sales_value"))
    frame["week"] = _week_date(frame["week"])
    frame["units"] = pd.to_numeric(frame["units"]).astype("float64")
    return frame


def distribution_from(sales: pd.DataFrame, open_weeks: pd.DataFrame) -> pd.DataFrame:
    """Per retailer x SKU x week: stores open, stores selling, numeric and %ACV distribution, units, velocity.

    `sales`: store rows with units above 0; `open_weeks`: (retailer_id, store_id, week, acv_weight). A SKU's
    weeks are those its retailer had stores open (a SKU that sold nowhere in a week has 0 distribution there,
    from its first to its last week of sales in the data read). The pandas reference of `_selling_counts`."""
    if sales.empty or open_weeks.empty:
        return pd.DataFrame(columns=DISTRIBUTION_COLUMNS)
    sales = sales.merge(open_weeks[["store_id", "week", "acv_weight"]], on=["store_id", "week"], how="inner")
    selling = sales.groupby(["retailer_id", "sku_id", "week"], as_index=False).agg(
        stores_selling=("store_id", "size"), acv_selling=("acv_weight", "sum"), units=("units", "sum"),
        with_units=("units", "count"))
    opened = open_weeks.groupby(["retailer_id", "week"], as_index=False).agg(
        stores_open=("store_id", "size"), acv_open=("acv_weight", "sum"))
    return distribution_from_counts(selling, opened)


def distribution_from_counts(selling: pd.DataFrame, opened: pd.DataFrame) -> pd.DataFrame:
    """`distribution_from` from its counts: selling (retailer_id, sku_id, week, stores_selling, acv_selling,
    units, with_units: rows with units) and opened (retailer_id, week, stores_open, acv_open)."""
    if selling.empty or opened.empty:
        return pd.DataFrame(columns=DISTRIBUTION_COLUMNS)
    selling = selling.copy()
    selling["units"] = pd.to_numeric(selling["units"]).astype("float64")
    selling["units"] = selling["units"].where(selling["with_units"] > 0)  # value-only retailers: no units
    span = selling.groupby(["retailer_id", "sku_id"], as_index=False)["week"].agg(first="min", last="max")
    grid = span.merge(opened, on="retailer_id")
    grid = grid[(grid["week"] >= grid["first"]) & (grid["week"] <= grid["last"])].drop(columns=["first", "last"])
    out = grid.merge(selling, on=["retailer_id", "sku_id", "week"], how="left")
    out["units"] = out["units"].where(out["stores_selling"].notna(), 0.0)  # no store sold: 0 units
    out["stores_selling"] = out["stores_selling"].fillna(0).astype("int64")
    out["numeric_distribution"] = out["stores_selling"] / out["stores_open"]
    out["acv_distribution"] = out["acv_selling"].fillna(0.0).astype("float64") / out["acv_open"].astype("float64")
    out["velocity"] = out["units"] / out["stores_selling"].where(out["stores_selling"] > 0)
    out["stores_open"] = out["stores_open"].astype("int64")
    return out.sort_values(["retailer_id", "sku_id", "week"])[DISTRIBUTION_COLUMNS].reset_index(drop=True)


def sku_summary(dist: pd.DataFrame) -> pd.DataFrame:
    """Per retailer x SKU over the weeks given: distribution (store-weeks weighted), %ACV (average of weeks),
    velocity per selling and per open store."""
    if dist.empty:
        return pd.DataFrame(columns=["retailer_id", "sku_id", "numeric_distribution", "acv_distribution",
                                     "velocity", "velocity_open", "units", "weeks"])
    g = dist.groupby(["retailer_id", "sku_id"], as_index=False).agg(
        selling=("stores_selling", "sum"), opened=("stores_open", "sum"), units=("units", "sum"),
        acv_distribution=("acv_distribution", "mean"), weeks=("week", "size"))
    g["numeric_distribution"] = g["selling"] / g["opened"]
    g["velocity"] = g["units"] / g["selling"].where(g["selling"] > 0)
    g["velocity_open"] = g["units"] / g["opened"]
    return g.drop(columns=["selling", "opened"])


def tdp(dist: pd.DataFrame, skus: pd.DataFrame) -> pd.DataFrame:
    """(retailer_id, brand, week, tdp): the sum of the brand's SKUs' %ACV distribution, in points."""
    if dist.empty:
        return pd.DataFrame(columns=["retailer_id", "brand", "week", "tdp"])
    frame = dist.merge(skus[["sku_id", "brand"]], on="sku_id", how="left")
    frame["brand"] = frame["brand"].fillna("(no brand)")
    out = frame.groupby(["retailer_id", "brand", "week"], as_index=False)["acv_distribution"].sum()
    return out.rename(columns={"acv_distribution": "tdp"}).assign(tdp=lambda f: f["tdp"] * 100)


def _comparable(sales: pd.DataFrame, open_weeks: pd.DataFrame) -> pd.DataFrame:
    """Per retailer x format x SKU x week among the open stores of that format (format ALL_FORMATS: all the
    retailer's open stores): velocity (units per selling store) and units per acv open."""
    fmt_of = open_weeks.assign(fmt=open_weeks["format"].fillna(ALL_FORMATS))
    # each store under its format (where it has one) and once under all formats
    both = pd.concat([fmt_of[fmt_of["format"].notna()], fmt_of.assign(fmt=ALL_FORMATS)])
    opened = both.groupby(["retailer_id", "fmt", "week"], as_index=False).agg(acv_open=("acv_weight", "sum"))
    sold = sales.merge(both[["store_id", "week", "fmt"]], on=["store_id", "week"])
    comp = sold.groupby(["retailer_id", "fmt", "sku_id", "week"], as_index=False).agg(
        units=("units", "sum"), n_selling=("store_id", "size"))
    return _comparable_from_counts(comp, opened)


def _comparable_from_counts(sold: pd.DataFrame, opened: pd.DataFrame) -> pd.DataFrame:
    comp = sold.merge(opened, on=["retailer_id", "fmt", "week"])
    comp["units"] = pd.to_numeric(comp["units"]).astype("float64").fillna(0.0)
    comp["velocity"] = comp["units"] / comp["n_selling"]
    comp["units_per_acv"] = comp["units"] / comp["acv_open"].astype("float64")
    return comp[["retailer_id", "fmt", "sku_id", "week", "velocity", "units_per_acv"]]


ALL_FORMATS = store_summary.ALL_FORMATS  # the comparable group of every open store


def find_voids(sales: pd.DataFrame, open_weeks: pd.DataFrame, dist: pd.DataFrame, min_weeks: int = VOID_WEEKS,
               min_share: float = VOID_SHARE, max_chance: float = VOID_CHANCE,
               comp: pd.DataFrame | None = None) -> pd.DataFrame:
    """Voids (see DEFINITIONS) with their last week, whether still open at the store's last open week, their
    chance and estimated lost units. Inputs as for `distribution_from`; `dist` is its result. `comp`: the
    comparable stores' figures (`_comparable`) when `sales` holds only some store x SKU pairs (the engine's
    candidates: `_void_candidates`); by default computed from `sales`."""
    columns = ["retailer_id", "store_id", "sku_id", "first_week", "last_week", "weeks", "still_open", "chance",
               "est_lost_units"]
    if sales.empty or dist.empty:
        return pd.DataFrame(columns=columns)
    pairs = sales[["retailer_id", "store_id", "sku_id"]].drop_duplicates()
    grid = pairs.merge(open_weeks[["retailer_id", "store_id", "week", "format", "acv_weight"]],
                       on=["retailer_id", "store_id"])
    grid = grid.merge(sales[["store_id", "sku_id", "week"]].assign(sold=True), on=["store_id", "sku_id", "week"],
                      how="left")
    grid = grid.merge(dist[["retailer_id", "sku_id", "week", "numeric_distribution"]],
                      on=["retailer_id", "sku_id", "week"], how="left")
    grid = grid.sort_values(["store_id", "sku_id", "week"]).reset_index(drop=True)
    sold = grid["sold"].fillna(False).to_numpy(dtype=bool)
    share = grid["numeric_distribution"].fillna(0).to_numpy()
    pair_id = grid.groupby(["store_id", "sku_id"], sort=False).ngroup().to_numpy()
    new_pair = np.r_[True, pair_id[1:] != pair_id[:-1]]
    sold_so_far = pd.Series(sold.astype(int)).groupby(pair_id).cumsum().to_numpy()
    before = (sold_so_far - sold) > 0  # a sale of the pair in an earlier open week
    candidate = ~sold & (share >= min_share) & before
    starts = candidate & (new_pair | ~np.r_[False, candidate[:-1]])
    grid["run"] = np.where(candidate, np.cumsum(starts), 0)
    last_open = grid.groupby(["store_id", "sku_id"])["week"].transform("max")
    grid["at_end"] = grid["week"] == last_open
    in_runs = grid[grid["run"] > 0].copy()
    if in_runs.empty:
        return pd.DataFrame(columns=columns)
    comp = _comparable(sales, open_weeks) if comp is None else comp
    in_runs["fmt"] = in_runs["format"].fillna(ALL_FORMATS)
    in_runs = in_runs.merge(comp, on=["retailer_id", "fmt", "sku_id", "week"], how="left")
    # The chance of selling nothing in the run for a store selling like the comparable ones for its size: its
    # expected units are their units per acv times its acv; nothing sold has chance exp(-expected) (Poisson).
    in_runs["log_chance"] = -(in_runs["units_per_acv"].fillna(0) * in_runs["acv_weight"])
    runs = in_runs.groupby("run", as_index=False).agg(
        retailer_id=("retailer_id", "first"), store_id=("store_id", "first"), sku_id=("sku_id", "first"),
        first_week=("week", "min"), last_week=("week", "max"), weeks=("week", "size"),
        log_chance=("log_chance", "sum"), still_open=("at_end", "any"),
        est_lost_units=("velocity", "sum"))
    runs = runs[(runs["weeks"] >= min_weeks) & (runs["log_chance"] < np.log(max_chance))].copy()
    if runs.empty:
        return pd.DataFrame(columns=columns)
    runs["chance"] = np.exp(runs["log_chance"])
    return runs[columns].sort_values(["est_lost_units", "store_id", "sku_id"], ascending=[False, True, True]) \
        .reset_index(drop=True)


def store_phantom(voids_frame: pd.DataFrame, stock: pd.DataFrame) -> pd.Series:
    """True for voids whose store had stock above 0 in every void week with a stock row (and at least one)."""
    if voids_frame.empty or stock.empty:
        return pd.Series(False, index=voids_frame.index)
    merged = voids_frame.reset_index()[["index", "store_id", "sku_id", "first_week", "last_week"]].merge(
        stock, on=["store_id", "sku_id"])
    merged = merged[(merged["week"] >= merged["first_week"]) & (merged["week"] <= merged["last_week"])]
    held = merged.groupby("index")["on_hand_units"].min() > 0
    return pd.Series(voids_frame.index.map(held).fillna(False).astype(bool), index=voids_frame.index)


def ranking(sales: pd.DataFrame, open_weeks: pd.DataFrame, stores: pd.DataFrame, period_weeks: list[pd.Timestamp],
            latest: dict[str, pd.Timestamp]) -> pd.DataFrame:
    """The store table (STORE_COLUMNS). `sales`: store rows of the period and of last year; `latest`: each
    retailer's latest store week (its comparable weeks stop there)."""
    in_period = sales[sales["week"].isin(set(period_weeks))]
    per_store = in_period.groupby("store_id").agg(sell_out=("sales_value", "sum"), skus_carried=("sku_id", "nunique"))
    value = sales.groupby(["store_id", "week"], as_index=False)["sales_value"].sum()
    return ranking_from(per_store, value, open_weeks, stores, period_weeks, latest)


def ranking_from(per_store: pd.DataFrame, value: pd.DataFrame, open_weeks: pd.DataFrame, stores: pd.DataFrame,
                 period_weeks: list[pd.Timestamp], latest: dict[str, pd.Timestamp]) -> pd.DataFrame:
    """`ranking` from its sums: per_store (index store_id: sell_out, skus_carried in the period) and value
    (store_id, week, sales_value) for the weeks read."""
    out = stores.merge(per_store, left_on="store_id", right_index=True, how="inner")
    # like for like: comparable weeks (with a last year, up to the retailer's latest) the retailer reported
    reported = open_weeks[["retailer_id", "week"]].drop_duplicates()
    pairs = pd.DataFrame([(w, calendar.last_year(w.date())) for w in period_weeks], columns=["week", "ly_week"])
    pairs = pairs.dropna().assign(ly_week=lambda f: pd.to_datetime(f["ly_week"]).astype("datetime64[ns]"))
    pairs = reported.merge(pairs, on="week").merge(
        reported.rename(columns={"week": "ly_week"}), on=["retailer_id", "ly_week"])
    pairs = pairs[pairs["week"] <= pairs["retailer_id"].map(latest)]
    needed = pairs.groupby("retailer_id").size().rename("needed")
    present = open_weeks[["store_id", "week"]].drop_duplicates().assign(here=1)
    seen = pairs.merge(out[["store_id", "retailer_id"]], on="retailer_id")
    seen = seen.merge(present, on=["store_id", "week"], how="left").merge(
        present.rename(columns={"week": "ly_week", "here": "here_ly"}), on=["store_id", "ly_week"], how="left")
    seen = seen.merge(value, on=["store_id", "week"], how="left").merge(
        value.rename(columns={"week": "ly_week", "sales_value": "value_ly"}), on=["store_id", "ly_week"], how="left")
    per = seen.groupby("store_id").agg(ly_open=("here_ly", "count"), cy=("sales_value", "sum"),
                                       ly=("value_ly", "sum"), retailer_id=("retailer_id", "first"))
    per["both"] = (seen["here"].notna() & seen["here_ly"].notna()).groupby(seen["store_id"]).sum()
    per["like_for_like"] = per["both"] == per["retailer_id"].map(needed)
    per["sell_out_ly"] = per["ly"].where(per["ly_open"] > 0)
    per["lfl_growth"] = (per["cy"] / per["ly"].where(per["ly"] > 0) - 1).where(per["like_for_like"])
    per["lfl_value"] = per["cy"].where(per["like_for_like"])
    per["lfl_value_ly"] = per["ly"].where(per["like_for_like"])
    out = out.merge(per[["sell_out_ly", "like_for_like", "lfl_growth", "lfl_value", "lfl_value_ly"]],
                    left_on="store_id", right_index=True, how="left")
    out["like_for_like"] = out["like_for_like"].astype("boolean").fillna(False).astype(bool)
    out["rank"] = out.groupby("retailer_id")["sell_out"].rank(ascending=False, method="first").astype("int64")
    return out.sort_values(["retailer_id", "rank"])[[*STORE_COLUMNS, "lfl_value", "lfl_value_ly"]] \
        .reset_index(drop=True)


def like_for_like_growth(table: pd.DataFrame) -> float | None:
    """Like-for-like growth of the stores in a `ranking` table: their comparable weeks' sell-out over last
    year's, minus 1 (None without a like-for-like store with last-year sales)."""
    lfl = table[table["like_for_like"]]
    ly = lfl["lfl_value_ly"].sum()
    return float(lfl["lfl_value"].sum() / ly - 1) if len(lfl) and ly > 0 else None


def retailer_latest(engine: Engine, scope: Scope) -> dict[str, dt.date]:
    t = scope.by_ids(engine.table("sell_out_store"))
    frame = engine.execute(t.group_by("retailer_id").aggregate(latest=t.week.max()))
    return dict(zip(frame["retailer_id"], _week_date(frame["latest"]), strict=True))


# -- the same in the engine: store rows never leave it ---------------------------------------------


def _open_weeks_table(engine: Engine, retailer_ids, start: dt.date, end: dt.date) -> ibis.Table:
    """`open_store_weeks` as an engine table: (retailer_id, store_id, week, acv_weight, format)."""
    t = engine.table("sell_out_store")
    cond = [t.week >= start, t.week <= end]
    if retailer_ids is not None:
        cond.append(t.retailer_id.isin(retailer_ids) if retailer_ids else ibis.literal(False))
    weeks = t.filter(cond).select("retailer_id", "store_id", "week").distinct()
    if not engine.has("stores"):
        return weeks.mutate(acv_weight=ibis.literal(1.0, "float64"), format=ibis.null("string"))
    s = engine.table("stores").select("store_id", "acv_weight", "format", "open_date", "close_date")
    j = weeks.left_join(s, "store_id").select(weeks.retailer_id, weeks.store_id, weeks.week, s.acv_weight, s.format,
                                              s.open_date, s.close_date)
    # a week is the store's when it opened by the week's last day and had not closed before its Monday
    inside = (j.open_date.isnull() | (j.open_date <= j.week + ibis.interval(days=6))) & (
        j.close_date.isnull() | (j.close_date >= j.week))
    return j.filter(inside).select("retailer_id", "store_id", "week",
                                   acv_weight=j.acv_weight.cast("float64").fill_null(1.0), format=j.format)


def _sales_table(engine: Engine, scope: Scope, start: dt.date, end: dt.date) -> ibis.Table:
    """`store_rows` as an engine table."""
    t = scope.weekly(engine.table("sell_out_store"), start=start, end=end)
    return t.filter(ibis.coalesce(t.units, t.sales_value) > 0).select(
        "week", "retailer_id", "store_id", "sku_id", "units", "sales_value")


def _execute_weeks(engine: Engine, expr) -> pd.DataFrame:
    frame = engine.execute(expr)
    for col in ("week", "ly_week"):
        if col in frame.columns:
            frame[col] = _week_date(frame[col])
    return frame


def _selling_counts(engine: Engine, sales: ibis.Table, opened: ibis.Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The counts `distribution_from_counts` takes, summed in the engine."""
    o = opened.select("store_id", "week", "acv_weight")
    j = sales.join(o, ["store_id", "week"])
    selling = j.group_by(["retailer_id", "sku_id", "week"]).aggregate(
        stores_selling=j.count(), acv_selling=j.acv_weight.sum(), units=j.units.sum(), with_units=j.units.count())
    counts = opened.group_by(["retailer_id", "week"]).aggregate(stores_open=opened.count(),
                                                                acv_open=opened.acv_weight.sum())
    return _execute_weeks(engine, selling), _execute_weeks(engine, counts)


def _comparable_open(opened: ibis.Table) -> tuple[ibis.Table, ibis.Table]:
    """(open store-weeks under each comparable format, acv open per retailer x format x week)."""
    own = opened.filter(opened.format.notnull()).mutate(fmt=opened.format)
    every = opened.mutate(fmt=ibis.literal(ALL_FORMATS))
    both = own.union(every, distinct=False)
    return both, both.group_by(["retailer_id", "fmt", "week"]).aggregate(acv_open=both.acv_weight.sum())


def _comparable_tables(sales: ibis.Table, opened: ibis.Table) -> tuple[ibis.Table, ibis.Table]:
    """(sold, opened) per retailer x comparable format (x SKU) x week, as `_comparable` sums them."""
    both, counts = _comparable_open(opened)
    j = sales.join(both.select("store_id", "week", "fmt"), ["store_id", "week"])
    sold = j.group_by(["retailer_id", "fmt", "sku_id", "week"]).aggregate(units=j.units.sum(), n_selling=j.count())
    return sold, counts


def _void_candidates(sales: ibis.Table, opened: ibis.Table, comp_sold: ibis.Table, comp_open: ibis.Table,
                     min_weeks: int, max_chance: float) -> ibis.Table:
    """Store x SKU pairs that may hold a void: after one of their sales, the store was open at least
    `min_weeks` weeks (and enough weeks to expect -ln(max_chance) units at the SKU's best week among comparable
    stores) before the pair's next sale or the store's last open week. Every void is in such a gap, so
    `find_voids` on these pairs' rows finds what it finds on all rows."""
    ordinal = opened.mutate(ord=ibis.row_number().over(group_by=opened.store_id, order_by=opened.week))
    last = ordinal.group_by("store_id").aggregate(last_ord=ordinal.ord.max())
    store_of = opened.group_by("store_id").aggregate(
        acv=opened.acv_weight.max(), fmt=ibis.coalesce(opened.format.max(), ibis.literal(ALL_FORMATS)))
    sold = sales.select("store_id", "sku_id", "week", "retailer_id").join(
        ordinal.select("store_id", "week", "ord"), ["store_id", "week"])
    sold = sold.mutate(next_ord=sold.ord.lead().over(group_by=[sold.store_id, sold.sku_id], order_by=sold.week))
    sold = sold.join(last, "store_id")
    gaps = sold.mutate(gap=ibis.coalesce(sold.next_ord, sold.last_ord + 1) - sold.ord - 1)
    gaps = gaps.filter(gaps.gap >= min_weeks)
    per_acv = comp_sold.join(comp_open, ["retailer_id", "fmt", "week"])
    best = per_acv.group_by(["retailer_id", "fmt", "sku_id"]).aggregate(
        best=(per_acv.units.cast("float64") / per_acv.acv_open).max())
    g = gaps.join(store_of, "store_id").join(best, ["retailer_id", "fmt", "sku_id"])
    g = g.filter(g.gap * g.best * g.acv >= float(-np.log(max_chance)))
    return g.select("store_id", "sku_id").distinct()


def _summaries(engine: Engine) -> dict[str, ibis.Table] | None:
    """The store summaries the database keeps (kam_dash.store_summary), or None when it lacks any."""
    found = {name: engine.summary(store_summary.table_name(name)) for name in store_summary.NAMES}
    return None if any(t is None for t in found.values()) else found


def _pushed_down(engine: Engine, scope: Scope, read_from: dt.date, start: dt.date, end: dt.date,
                 with_voids: bool, with_stores: bool):
    """What `page_data` needs, summed in the engine: (dist_all, opened, void sales, comp, per_store, value).
    From the store summaries where the database keeps them (filters only pick their rows), else from the store
    rows."""
    summary = _summaries(engine)
    sales_all = _sales_table(engine, scope, start, end)
    sales = sales_all.filter(sales_all.week >= read_from)
    if summary is not None:
        o = summary["open"]
        cond = [o.week >= start, o.week <= end]
        if scope.retailer_ids is not None:
            cond.append(o.retailer_id.isin(scope.retailer_ids) if scope.retailer_ids else ibis.literal(False))
        opened_all = o.filter(cond)
    else:
        opened_all = _open_weeks_table(engine, scope.retailer_ids, start, end)
    window = opened_all.filter(opened_all.week >= read_from)
    if summary is not None:
        selling = _execute_weeks(engine, scope.weekly(summary["selling"], start=read_from, end=end))
        counts = _execute_weeks(engine, window.group_by(["retailer_id", "week"]).aggregate(
            stores_open=window.count(), acv_open=window.acv_weight.sum()))
    else:
        selling, counts = _selling_counts(engine, sales, window)
    dist_all = distribution_from_counts(selling, counts)
    opened = _execute_weeks(engine, opened_all)
    void_sales = comp = None
    if with_voids and not dist_all.empty:
        if summary is not None:
            comp_sold = scope.weekly(summary["comparable"], start=read_from, end=end)
            comp_open = _comparable_open(window)[1]
            void_sales = _execute_weeks(engine, scope.weekly(summary["void_rows"], start=read_from, end=end))
        else:
            comp_sold, comp_open = _comparable_tables(sales, window)
            pairs = _void_candidates(sales, window, comp_sold, comp_open, VOID_WEEKS, VOID_CHANCE)
            void_sales = _execute_weeks(engine, sales.semi_join(pairs, ["store_id", "sku_id"]))
        void_sales["units"] = pd.to_numeric(void_sales["units"]).astype("float64")
        comp = _comparable_from_counts(_execute_weeks(engine, comp_sold), _execute_weeks(engine, comp_open))
    per_store = value = None
    if with_stores:
        p = scope.period
        in_period = sales_all.filter(sales_all.week.isin(list(p.weeks)))
        if summary is not None and scope.sku_ids is None:  # every SKU: store sums from the summary
            v = scope.weekly(summary["value"], start=start, end=end)
            value = _execute_weeks(engine, v.select("store_id", "week", "sales_value"))
            in_weeks = value[value["week"].isin(set(_week_date(pd.Series(p.weeks))))]
            per_store = in_weeks.groupby("store_id").agg(sell_out=("sales_value", "sum"))
            carried = engine.execute(in_period.group_by("store_id").aggregate(skus_carried=in_period.sku_id.nunique()))
            per_store = per_store.join(carried.set_index("store_id"), how="inner")
        else:
            per_store = engine.execute(in_period.group_by("store_id").aggregate(
                sell_out=in_period.sales_value.sum(), skus_carried=in_period.sku_id.nunique())).set_index("store_id")
            value = _execute_weeks(engine, sales_all.group_by(["store_id", "week"]).aggregate(
                sales_value=sales_all.sales_value.sum()))
    return dist_all, opened, void_sales, comp, per_store, value


# -- what a page and the exports need ---------------------------------------------------------


@dataclass
class StoreData:
    scope: Scope
    distribution: pd.DataFrame  # the period's weeks
    skus: pd.DataFrame  # sku_summary of the period, with sku_name and brand
    voids: pd.DataFrame  # find_voids reaching into the period, with store_name and phantom
    stores: pd.DataFrame  # ranking
    tdp: pd.DataFrame  # per retailer x brand x week
    tdp_retailer: pd.DataFrame  # per retailer x week: tdp, units, stores_selling, velocity
    store_stock: bool = False  # inventory_store is loaded: voids say whether the store held stock


def page_data(engine: Engine, filters: Filters, with_voids: bool = True, with_stores: bool = True) -> StoreData | None:
    """Everything the Distribution & stores page shows; None without store rows or weeks."""
    if not has_store_data(engine):
        return None
    scope = resolve(engine, filters)
    if scope is None or scope.period.empty:
        return None
    p = scope.period
    read_from = p.start - dt.timedelta(weeks=LOOKBACK_WEEKS) if with_voids else p.start
    start = min(read_from, p.ly_start) if with_stores and p.ly_start else read_from
    # store rows stay in the engine: it sums them per retailer x SKU x week (and per store x week), and hands
    # over the rows of the store x SKU pairs that may hold a void
    dist_all, opened, void_sales, comp, per_store, value = _pushed_down(engine, scope, read_from, start, p.end,
                                                                        with_voids, with_stores)
    window = opened[opened["week"] >= _ts(read_from)]
    dist = dist_all[dist_all["week"] >= _ts(p.start)].reset_index(drop=True)
    names = products(engine)[["sku_id", "sku_name", "brand"]]
    skus = sku_summary(dist).merge(names, on="sku_id", how="left")
    brand_tdp = tdp(dist, names)
    retailer_tdp = brand_tdp.groupby(["retailer_id", "week"], as_index=False)["tdp"].sum()
    sold = dist.groupby(["retailer_id", "week"], as_index=False)[["units", "stores_selling"]].sum()
    retailer_tdp = retailer_tdp.merge(sold, on=["retailer_id", "week"], how="left")
    retailer_tdp["velocity"] = retailer_tdp["units"] / retailer_tdp["stores_selling"].where(
        retailer_tdp["stores_selling"] > 0)
    data = StoreData(scope, dist, skus, pd.DataFrame(columns=VOID_COLUMNS), pd.DataFrame(columns=STORE_COLUMNS),
                     brand_tdp, retailer_tdp)
    stores = _stores(engine)
    if with_voids:
        found = (find_voids(void_sales, window, dist_all, comp=comp) if void_sales is not None
                 else find_voids(pd.DataFrame(), window, dist_all))
        found = found[found["last_week"] >= _ts(p.start)].reset_index(drop=True)
        found = found.merge(stores[["store_id", "store_name", "format"]], on="store_id", how="left")
        data.store_stock = engine.has("inventory_store")
        if data.store_stock and len(found):
            t = scope.weekly(engine.table("inventory_store"), start=read_from, end=p.end)
            t = t.filter(t.store_id.isin(sorted(set(found["store_id"]))))
            stock = engine.execute(t.select("store_id", "sku_id", "week", "on_hand_units"))
            stock["week"] = _week_date(stock["week"])
            found["phantom"] = store_phantom(found, stock)
        else:
            found["phantom"] = pd.Series(pd.NA, index=found.index, dtype="boolean")
        data.voids = found
    if with_stores:
        latest = retailer_latest(engine, scope)
        data.stores = ranking_from(per_store, value, opened, stores, [_ts(w) for w in p.weeks], latest)
    return data


def account_tiles(engine: Engine, filters: Filters, retailer_id: str) -> dict[str, float] | None:
    """Distribution and velocity of one retailer over the period, where it reports by store; else None."""
    if not has_store_data(engine):
        return None
    data = page_data(engine, dataclasses.replace(filters, retailers=(retailer_id,)), with_voids=False,
                     with_stores=False)
    if data is None or data.distribution.empty:
        return None
    d = data.distribution
    weeks = d["week"].nunique()
    return {
        "numeric_distribution": float(d["stores_selling"].sum() / d["stores_open"].sum()),
        "acv_distribution": float(data.skus["acv_distribution"].mean()),
        "velocity": float(d["units"].sum() / d["stores_selling"].sum()) if d["stores_selling"].sum() else np.nan,
        "tdp": float(data.tdp_retailer["tdp"].sum() / weeks) if weeks else np.nan,
    }


# -- exports -------------------------------------------------------------------------------------


@export_metric("distribution", columns=DISTRIBUTION_COLUMNS, examples=({"filters": {"period": "l13w"}},))
def export_distribution(engine: Engine, filters: Filters) -> pd.DataFrame:
    data = page_data(engine, filters, with_voids=False, with_stores=False)
    return pd.DataFrame(columns=DISTRIBUTION_COLUMNS) if data is None else data.distribution


@export_metric("voids", columns=VOID_COLUMNS, examples=({"filters": {"period": "l52w"}},))
def export_voids(engine: Engine, filters: Filters) -> pd.DataFrame:
    data = page_data(engine, filters, with_stores=False)
    return pd.DataFrame(columns=VOID_COLUMNS) if data is None else data.voids[VOID_COLUMNS]


@export_metric("stores", columns=STORE_COLUMNS, examples=({},))
def export_stores(engine: Engine, filters: Filters) -> pd.DataFrame:
    data = page_data(engine, filters, with_voids=False)
    return pd.DataFrame(columns=STORE_COLUMNS) if data is None else data.stores
