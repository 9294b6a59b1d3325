"""Plan tracking: month, quarter and year to date against target, the landing estimate, by retailer and by
category, and the waterfall.

The SQL floor and the pandas baseline compute the sell-in net sales per retailer x category x week (from the
last year of the plan year's first week to its end), sell-in's latest week, the retailers with sell-out and no
sell-in (left out of the net sales figures) and the year's targets spread to weeks (all-category per retailer,
and by category), then finish with the same pure functions as the app (landing grid, tracking, roll-up,
waterfall).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from bench.pages.portfolio import ids, sql_in
from kam_dash.filters import Filters
from kam_dash.metrics import plan

PAGE = "Plan tracking"


def ibis_work(engine, filters: Filters):
    return plan.page_data(engine, filters)


# -- shared by both baselines -------------------------------------------------------------------------------
def _window(filters: Filters, latest_week: dt.date) -> tuple[int, list[dt.date], dt.date]:
    year = plan.plan_year(filters, latest_week)
    return year, plan.year_weeks(year), plan.ly_window(year)[0]


def _spread(rows: pd.DataFrame, filters: Filters, weeks: list[dt.date], by_category: bool) -> pd.DataFrame:
    """Monthly target rows (retailer_id, month, category, value) to weeks, as the app spreads them."""
    return plan.spread_targets(rows, weeks[0], weeks[-1], by_category, filters.categories)


def _finish(weekly_c: pd.DataFrame, target_rows: pd.DataFrame | None, retailers: pd.DataFrame, rid,
            filters: Filters, latest_week: dt.date, sell_out_only: set):
    """latest_week: sell-in's latest week; sell_out_only: retailers with sell-out and no sell-in."""
    year, weeks, _ = _window(filters, latest_week)
    weekly_c["week"] = pd.to_datetime(weekly_c["week"]).astype("datetime64[ns]")
    first_c = weekly_c.groupby(["retailer_id", "category"], as_index=False)["week"].min().rename(
        columns={"week": "first_week"})
    weekly_r = weekly_c.groupby(["retailer_id", "week"], as_index=False)["net_sales"].sum()
    first_r = first_c.groupby("retailer_id", as_index=False)["first_week"].min()
    grid_r = plan.landing_grid(weekly_r, first_r, _spread(target_rows, filters, weeks, False), year,
                                latest_week, ["retailer_id"])
    grid_c = plan.landing_grid(weekly_c, first_c, _spread(target_rows, filters, weeks, True), year,
                                latest_week, ["retailer_id", "category"])
    grid_r = grid_r[~grid_r["retailer_id"].isin(sell_out_only)]
    grid_c = grid_c[~grid_c["retailer_id"].isin(sell_out_only)]
    cutoff = min(latest_week, weeks[-1])
    names = retailers if rid is None else retailers[retailers["retailer_id"].isin(rid)]
    by_retailer = names[["retailer_id", "retailer_name"]].merge(
        plan.tracking(grid_r, ["retailer_id"], cutoff), on="retailer_id")
    by_category = plan.rollup(plan.tracking(grid_c, ["retailer_id", "category"], cutoff), ["category"])
    return by_retailer, by_category, plan.waterfall(by_retailer)


# -- the SQL floor ------------------------------------------------------------------------------------------
def sql_work(con, filters: Filters, latest_week: dt.date):
    retailers = con.execute("SELECT * FROM retailers").df()
    products = con.execute("SELECT * FROM products").df()
    rid, sku = ids(retailers, products, filters)
    latest_week = con.execute("SELECT max(week) FROM sell_in").fetchone()[0]
    sell_out_only = {r for (r,) in con.execute(
        "SELECT DISTINCT retailer_id FROM sell_out EXCEPT SELECT DISTINCT retailer_id FROM sell_in").fetchall()}
    _, weeks, first_ly = _window(filters, latest_week)
    params: list = [first_ly, weeks[-1]]
    where = sql_in("s.retailer_id", rid, params) + sql_in("s.sku_id", sku, params)
    weekly_c = con.execute(f"""
        SELECT s.retailer_id, p.category, s.week, sum(s.net_sales) AS net_sales
        FROM sell_in AS s JOIN products AS p USING (sku_id)
        WHERE s.week BETWEEN ? AND ?{where} GROUP BY s.retailer_id, p.category, s.week""", params).df()
    rows = None
    if not filters.brands:
        params = [weeks[0].replace(day=1), weeks[-1]]
        where = sql_in("retailer_id", rid, params) + sql_in("coalesce(category, '')",
                                                            list(filters.categories) or None, params)
        rows = con.execute(f"""
            SELECT retailer_id, month, coalesce(category, '') AS category, net_sales_target AS value
            FROM targets WHERE month BETWEEN ? AND ?{where}""", params).df()
        rows["month"] = pd.to_datetime(rows["month"]).dt.date
    return _finish(weekly_c, rows, retailers, rid, filters, latest_week, sell_out_only)


# -- pandas -------------------------------------------------------------------------------------------------
def pandas_work(tables: dict, filters: Filters, latest_week: dt.date):
    retailers, products = tables["retailers"], tables["products"]
    rid, sku = ids(retailers, products, filters)
    s = tables["sell_in"]
    latest_week = pd.Timestamp(s["week"].max()).date()
    sell_out_only = set(tables["sell_out"]["retailer_id"]) - set(s["retailer_id"])
    _, weeks, first_ly = _window(filters, latest_week)
    week = pd.to_datetime(s["week"])
    mask = (week >= pd.Timestamp(first_ly)) & (week <= pd.Timestamp(weeks[-1]))
    if rid is not None:
        mask &= s["retailer_id"].isin(rid)
    if sku is not None:
        mask &= s["sku_id"].isin(sku)
    t = s[mask]
    weekly_c = pd.DataFrame({"retailer_id": t["retailer_id"],
                             "category": t["sku_id"].map(products.set_index("sku_id")["category"]),
                             "week": week[mask], "net_sales": t["net_sales"]})
    weekly_c = weekly_c.groupby(["retailer_id", "category", "week"], as_index=False)["net_sales"].sum()
    rows = None
    if not filters.brands:
        tg = tables["targets"]
        tg = tg.assign(month=pd.to_datetime(tg["month"]).dt.date, category=tg["category"].fillna(""))
        tg = tg[(tg["month"] >= weeks[0].replace(day=1)) & (tg["month"] <= weeks[-1])]
        if rid is not None:
            tg = tg[tg["retailer_id"].isin(rid)]
        if filters.categories:
            tg = tg[tg["category"].isin(filters.categories)]
        rows = tg[["retailer_id", "month", "category"]].assign(value=tg["net_sales_target"])
    return _finish(weekly_c, rows, retailers, rid, filters, latest_week, sell_out_only)
