"""Account review: one retailer (the filter's first retailer, else the first by name) for the view's period.

The SQL floor and the pandas baseline compute the page's inputs: net sales by SKU this period and last year,
sell-out by SKU and sales channel, the period's target, weekly sell-in units and sell-out by channel, net
sales by category for the retailer and the portfolio, and the plan year's weekly net sales (with the year
before) and weekly targets, rolled up to months. The landing projection over the remaining weeks is plain
arithmetic on those weekly rows and is left to the app.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from bench.pages.portfolio import (ids, pandas_targets, pandas_week_masks, period, sell_in_weeks, sql_in,
                                   sql_targets, sql_week_masks)
from kam_dash.filters import Filters
from kam_dash.metrics import account, plan

PAGE = "Account review"


def _account(retailers: pd.DataFrame, filters: Filters) -> str:
    if filters.retailers:
        return filters.retailers[0]
    return retailers.sort_values(["retailer_name", "retailer_id"])["retailer_id"].iloc[0]


def ibis_work(engine, filters: Filters):
    rid = _account(account.account_choices(engine, filters), filters)
    return account.account_page_data(engine, filters, rid)


def _year(filters: Filters, latest_week: dt.date) -> tuple[dt.date, dt.date, dt.date]:
    """The plan year's first and last day and the first day of the year before's same weeks."""
    year = plan.plan_year(filters, latest_week)
    return dt.date(year, 1, 1), dt.date(year, 12, 31), dt.date(year, 1, 1) - dt.timedelta(weeks=53)


def _monthly(weekly: pd.DataFrame, targets: pd.DataFrame, first: dt.date, last: dt.date,
             latest_week: dt.date) -> pd.DataFrame:
    """Weekly net sales (week, net_sales) and targets (week, target) -> month, actual, last_year, target."""
    weekly = weekly.assign(week=pd.to_datetime(weekly["week"]))
    year = weekly[(weekly["week"] >= pd.Timestamp(first)) & (weekly["week"] <= pd.Timestamp(latest_week))]
    ly = weekly.assign(week=weekly["week"] + pd.Timedelta(weeks=52))
    ly = ly[(ly["week"] >= pd.Timestamp(first)) & (ly["week"] <= pd.Timestamp(last))]
    out = []
    for frame, col in ((year, "actual"), (ly, "last_year"), (targets.assign(week=pd.to_datetime(targets["week"])),
                                                            "target")):
        value = "target" if col == "target" else "net_sales"
        month = frame["week"].dt.to_period("M").dt.to_timestamp()
        out.append(frame.groupby(month)[value].sum().rename(col))
    return pd.concat(out, axis=1).rename_axis("month").reset_index()


# -- the SQL floor ----------------------------------------------------------------------------------------------
def sql_work(con, filters: Filters, latest_week: dt.date):
    retailers = con.execute("SELECT * FROM retailers").df()
    products = con.execute("SELECT * FROM products").df()
    rid = _account(retailers, filters)
    scoped = filters.with_(retailers=(rid,), channels=())
    _, sku = ids(retailers, products, scoped)
    s, e, ls, le = period(filters, latest_week)
    out = {}

    def run(sql: str, params: list, skus: bool = True) -> pd.DataFrame:
        extra = sql_in("sku_id", sku, params) if skus else ""
        return con.execute(sql.replace("{skus}", extra), params).df()

    # sell-in by SKU over the weeks the app reads (up to sell-in's latest week; last year per kam_dash.calendar)
    w = sell_in_weeks(filters, latest_week, pd.Timestamp(con.execute("SELECT max(week) FROM sell_in")
                                                         .fetchone()[0]).date())
    cy, cy_p, _, _, ly, ly_p = sql_week_masks(w)
    out["sell_in_by_sku"] = run(
        f"SELECT sku_id, sum(CASE WHEN {cy} THEN net_sales ELSE 0 END) AS net_sales, "
        f"sum(CASE WHEN {ly} THEN net_sales ELSE 0 END) AS net_sales_ly, "
        f"sum(CASE WHEN {cy} THEN units ELSE 0 END) AS units, "
        f"bool_or({cy}) AS has_cy, bool_or({ly}) AS has_ly "
        "FROM sell_in WHERE retailer_id = ? AND week BETWEEN ? AND ?{skus} GROUP BY sku_id",
        [*cy_p, *ly_p, *cy_p, *cy_p, *ly_p, rid, min(w.ly_start or w.start, w.start), w.end])
    out["sell_out_by_sku"] = run(
        "SELECT sku_id, sales_channel, sum(CASE WHEN week BETWEEN ? AND ? THEN sales_value ELSE 0 END) AS value, "
        "sum(CASE WHEN week BETWEEN ? AND ? THEN sales_value ELSE 0 END) AS value_ly "
        "FROM sell_out WHERE retailer_id = ? AND week BETWEEN ? AND ?{skus} GROUP BY sku_id, sales_channel",
        [s, e, ls, le, rid, ls, e])
    out["target"] = sql_targets(con, s, e, [rid], scoped)
    out["sell_in_weeks"] = run("SELECT week, sum(units) AS units FROM sell_in WHERE retailer_id = ? "
                               "AND week BETWEEN ? AND ?{skus} GROUP BY week", [rid, s, e])
    out["sell_out_weeks"] = run("SELECT week, sales_channel, sum(units) AS units, sum(sales_value) AS value "
                                "FROM sell_out WHERE retailer_id = ? AND week BETWEEN ? AND ?{skus} "
                                "GROUP BY week, sales_channel", [rid, s, e])
    params = [rid, s, e]
    channels = sql_in("r.channel", list(filters.channels) or None, params)
    out["categories"] = con.execute(
        "SELECT p.category, sum(CASE WHEN s.retailer_id = ? THEN net_sales ELSE 0 END) AS retailer_sales, "
        "sum(net_sales) AS portfolio_sales FROM sell_in AS s JOIN products AS p USING (sku_id) "
        "JOIN retailers AS r USING (retailer_id) WHERE week BETWEEN ? AND ?" + channels
        + sql_in("s.sku_id", sku, params) + " GROUP BY p.category", params).df()
    first, last, before = _year(filters, latest_week)
    weekly = run("SELECT week, sum(net_sales) AS net_sales FROM sell_in WHERE retailer_id = ? "
                 "AND week BETWEEN ? AND ?{skus} GROUP BY week", [rid, before, last])
    out["monthly"] = _monthly(weekly, sql_targets(con, first, last, [rid], scoped, by="week"), first, last,
                              latest_week)
    return out


# -- pandas ---------------------------------------------------------------------------------------------------
def pandas_work(tables: dict, filters: Filters, latest_week: dt.date):
    retailers, products = tables["retailers"], tables["products"]
    rid = _account(retailers, filters)
    scoped = filters.with_(retailers=(rid,), channels=())
    _, sku = ids(retailers, products, scoped)
    s, e, ls, le = (pd.Timestamp(d) for d in period(filters, latest_week))
    out = {}

    def rows(name: str, lo, hi, retailer: bool = True) -> pd.DataFrame:
        t = tables[name]
        weeks = pd.to_datetime(t["week"])
        mask = (weeks >= lo) & (weeks <= hi)
        if retailer:
            mask &= t["retailer_id"] == rid
        if sku is not None:
            mask &= t["sku_id"].isin(sku)
        return t[mask].assign(week=weeks[mask])

    si_all = tables["sell_in"]
    w = sell_in_weeks(filters, latest_week, pd.to_datetime(si_all["week"]).max().date())
    si = rows("sell_in", pd.Timestamp(min(w.ly_start or w.start, w.start)), pd.Timestamp(w.end))
    cy, _, ly = pandas_week_masks(si["week"], w)
    g = si.assign(ns=si["net_sales"].where(cy, 0.0), ly=si["net_sales"].where(ly, 0.0),
                  u=si["units"].where(cy, 0.0), has_cy=cy, has_ly=ly).groupby("sku_id")
    out["sell_in_by_sku"] = pd.DataFrame({"net_sales": g["ns"].sum(), "net_sales_ly": g["ly"].sum(),
                                          "units": g["u"].sum(), "has_cy": g["has_cy"].any(),
                                          "has_ly": g["has_ly"].any()}).reset_index()
    so = rows("sell_out", ls, e)
    cy, ly = so["week"].between(s, e), so["week"].between(ls, le)
    out["sell_out_by_sku"] = so.assign(value=so["sales_value"].where(cy, 0.0),
                                       value_ly=so["sales_value"].where(ly, 0.0)).groupby(
        ["sku_id", "sales_channel"], as_index=False)[["value", "value_ly"]].sum()
    out["target"] = pandas_targets(tables["targets"], s.date(), e.date(), [rid], scoped)
    out["sell_in_weeks"] = rows("sell_in", s, e).groupby("week", as_index=False)["units"].sum()
    out["sell_out_weeks"] = rows("sell_out", s, e).groupby(["week", "sales_channel"], as_index=False).agg(
        units=("units", "sum"), value=("sales_value", "sum"))
    port = rows("sell_in", s, e, retailer=False)
    if filters.channels:
        port = port[port["retailer_id"].isin(retailers.loc[retailers["channel"].isin(filters.channels),
                                                           "retailer_id"])]
    port = port.assign(category=port["sku_id"].map(products.set_index("sku_id")["category"]),
                       mine=port["net_sales"].where(port["retailer_id"] == rid, 0.0))
    out["categories"] = port.groupby("category", as_index=False).agg(retailer_sales=("mine", "sum"),
                                                                    portfolio_sales=("net_sales", "sum"))
    first, last, before = _year(filters, latest_week)
    weekly = rows("sell_in", pd.Timestamp(before), pd.Timestamp(last)).groupby("week", as_index=False)[
        "net_sales"].sum()
    out["monthly"] = _monthly(weekly, pandas_targets(tables["targets"], first, last, [rid], scoped, by="week"),
                              first, last, latest_week)
    return out
