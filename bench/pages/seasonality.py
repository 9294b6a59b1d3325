"""Seasonality: the seasonal index of every category in view (month grain), the first category's
retailer-vs-portfolio comparison, the plan's phasing and the STL split.

The SQL floor and the pandas baseline compute the weekly sell-out per category and retailer (units of the
products in view, for the retailers in view and for every retailer), the weeks each retailer reported any
sell-out, and the category targets by month, then finish with the same pure functions as the app (the index
over each year's fully reporting retailers, peaks, STL over the reported weeks).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from bench.pages.portfolio import ids, sql_in
from kam_dash.filters import Filters
from kam_dash.metrics import plan, seasonality

PAGE = "Seasonality"


def ibis_work(engine, filters: Filters):
    return seasonality.page_data(engine, filters)


# -- shared by both baselines -------------------------------------------------------------------------------
def _choices(retailers: pd.DataFrame, products: pd.DataFrame, filters: Filters, rid):
    p = products
    if filters.categories:
        p = p[p["category"].isin(filters.categories)]
    if filters.brands:
        p = p[p["brand"].isin(filters.brands)]
    categories = sorted(set(p["category"].dropna()))
    in_view = sorted(retailers["retailer_id"] if rid is None else rid)
    return categories, (in_view[0] if in_view else None)


def _finish(units: dict[str, pd.DataFrame], reported: pd.DataFrame, rid, monthly_targets: pd.DataFrame | None,
            categories: list[str], focus: str | None, weeks: pd.DatetimeIndex, latest_week: dt.date):
    """The page's results from the weekly units per retailer (category, retailer_id, week, units) of the view and
    of every retailer, the weeks each retailer reported, and the category targets by month (category, month,
    value), with the app's own arithmetic."""
    view_reported = reported if rid is None else reported[reported["retailer_id"].isin(rid)]

    def index_of(u: pd.DataFrame, rep: pd.DataFrame, cats: list[str], label=None):
        grid = seasonality.series_grid(u, rep, cats, weeks, "month", label)
        return seasonality.seasonal_index(grid, "month"), grid

    (index, _), _ = index_of(units["view"], view_reported, categories)
    first = categories[0]
    (portfolio, _), _ = index_of(units["all"], reported, [first], "Portfolio")
    (focused, _), _ = index_of(units["view"][units["view"]["retailer_id"] == focus],
                               view_reported[view_reported["retailer_id"] == focus], [first], focus)
    stl_weeks, _ = seasonality.stl_input(seasonality.detail_series(units["view"], view_reported, first, weeks))
    stl = seasonality.decompose(stl_weeks)
    phasing = None
    if monthly_targets is not None and len(monthly_targets):
        m = monthly_targets[monthly_targets["category"] == first].copy()
        m["mean_weekly"] = m["value"] / m["month"].map(lambda d: len(plan.weeks_of_month(d)))
        phasing = m["mean_weekly"] / m["mean_weekly"].mean() * 100
    return index, seasonality.peaks_and_troughs(index, "month"), portfolio, focused, phasing, stl


def _weeks(first: dt.date, latest_week: dt.date) -> pd.DatetimeIndex:
    return pd.date_range(first, latest_week, freq="7D").astype("datetime64[ns]")


# -- the SQL floor ------------------------------------------------------------------------------------------
def _sql_view(con, filters: Filters, rid) -> pd.DataFrame:
    params: list = []
    conds = []
    if filters.categories:
        conds.append(f"p.category IN ({', '.join('?' * len(filters.categories))})")
        params += list(filters.categories)
    if filters.brands:
        conds.append(f"p.brand IN ({', '.join('?' * len(filters.brands))})")
        params += list(filters.brands)
    where = "".join(f" AND {c}" for c in conds) + sql_in("s.retailer_id", rid, params)
    frame = con.execute(f"""
        SELECT p.category, s.retailer_id, s.week, sum(s.units) AS units
        FROM sell_out AS s JOIN products AS p USING (sku_id)
        WHERE TRUE{where} GROUP BY p.category, s.retailer_id, s.week""", params).df()
    frame["week"] = pd.to_datetime(frame["week"]).astype("datetime64[ns]")
    frame["units"] = frame["units"].astype(float)
    return frame


def sql_work(con, filters: Filters, latest_week: dt.date):
    retailers = con.execute("SELECT * FROM retailers").df()
    products = con.execute("SELECT * FROM products").df()
    rid, _ = ids(retailers, products, filters)
    categories, focus = _choices(retailers, products, filters, rid)
    views = {"view": _sql_view(con, filters, rid)}
    views["all"] = views["view"] if rid is None else _sql_view(con, filters, None)
    reported = con.execute("SELECT DISTINCT retailer_id, week FROM sell_out").df()
    reported["week"] = pd.to_datetime(reported["week"]).astype("datetime64[ns]")
    first = con.execute("SELECT min(week) FROM sell_out").fetchone()[0]
    targets = None
    if not filters.brands:
        year = latest_week.year
        params: list = [dt.date(year, 1, 1), dt.date(year, 12, 1)]
        where = sql_in("retailer_id", rid, params) + sql_in("category", list(filters.categories) or None, params)
        targets = con.execute(f"""
            SELECT category, month, sum(units_target) AS value FROM targets
            WHERE month BETWEEN ? AND ? AND coalesce(category, '') <> ''{where}
            GROUP BY category, month ORDER BY category, month""", params).df()
        targets["month"] = pd.to_datetime(targets["month"]).dt.date
    return _finish(views, reported, rid, targets, categories, focus, _weeks(first, latest_week), latest_week)


# -- pandas -------------------------------------------------------------------------------------------------
def _pandas_view(sell_out: pd.DataFrame, products: pd.DataFrame, filters: Filters, rid) -> pd.DataFrame:
    t = sell_out if rid is None else sell_out[sell_out["retailer_id"].isin(rid)]
    p = products.set_index("sku_id")
    in_view = pd.Series(True, index=p.index)
    if filters.categories:
        in_view &= p["category"].isin(filters.categories)
    if filters.brands:
        in_view &= p["brand"].isin(filters.brands)
    t = t[t["sku_id"].map(in_view).fillna(False).astype(bool)]
    frame = pd.DataFrame({"category": t["sku_id"].map(p["category"]), "retailer_id": t["retailer_id"].astype(str),
                          "week": t["week"], "units": t["units"].astype(float)})
    frame = frame.groupby(["category", "retailer_id", "week"], as_index=False, observed=True)["units"].sum()
    frame["week"] = pd.to_datetime(frame["week"]).astype("datetime64[ns]")
    return frame


def pandas_work(tables: dict, filters: Filters, latest_week: dt.date):
    retailers, products, sell_out = tables["retailers"], tables["products"], tables["sell_out"]
    rid, _ = ids(retailers, products, filters)
    categories, focus = _choices(retailers, products, filters, rid)
    views = {"view": _pandas_view(sell_out, products, filters, rid)}
    views["all"] = views["view"] if rid is None else _pandas_view(sell_out, products, filters, None)
    reported = pd.DataFrame({"retailer_id": sell_out["retailer_id"].astype(str),
                             "week": pd.to_datetime(sell_out["week"]).astype("datetime64[ns]")}).drop_duplicates()
    targets = None
    if not filters.brands:
        t = tables["targets"]
        t = t.assign(month=pd.to_datetime(t["month"]).dt.date, category=t["category"].fillna(""))
        t = t[(t["category"] != "") & (pd.to_datetime(t["month"]).dt.year == latest_week.year)]
        if rid is not None:
            t = t[t["retailer_id"].isin(rid)]
        if filters.categories:
            t = t[t["category"].isin(filters.categories)]
        targets = t.groupby(["category", "month"], as_index=False)["units_target"].sum().rename(
            columns={"units_target": "value"})
    first = pd.to_datetime(sell_out["week"]).min().date()
    return _finish(views, reported, rid, targets, categories, focus, _weeks(first, latest_week), latest_week)
