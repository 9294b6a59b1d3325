"""Promotions: every event in view measured by every baseline method, with the page's tables and summaries.

The SQL floor and the pandas baseline fetch what the app's engine queries fetch (the promotions of the
retailers and SKUs in view; sell-out units and the sell-in price in each event's weeks)
and finish with the same pure function as the app (`promotions.page_from`: clean weeks, baselines, lift,
money, summaries). The category seasonal index that seasonal_pre reads and the stock-out weeks are read
once per database in the app (like the dimension tables: they ignore the filters), so each baseline reads
them once per connection or set of tables too, and the per-view work is what is timed.

Since issue 16 the app reads each event's lift from the derived table computed when the data was loaded
(kam_dash.derived) when it is fresh, so its figure is that read plus the page's summaries, while the floor and
pandas still estimate the events in view: their ratio to the app says what the derived table saves, not how
close the app's own SQL comes to the floor (a database without fresh derived tables times the live path).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from bench.pages.portfolio import ids, sql_in
from kam_dash import calendar
from kam_dash.filters import Filters
from kam_dash.metrics import promotions as promo

PAGE = "Promotions"
_ONCE: dict[int, tuple] = {}  # per connection / tables: (first week, seasonal index, stock-out weeks, reported weeks)


def ibis_work(engine, filters: Filters):
    return promo.page_data(engine, filters)


def _finish(events, promos, units, prices, once, products, retailers, latest_week, period):
    first, index, stockouts, reported = once
    inputs = promo.Inputs(
        events=events,
        promos=promos[promos["retailer_id"].isin(events["retailer_id"]) & promos["sku_id"].isin(events["sku_id"])],
        units=units.astype({"week": "datetime64[ns]", "units": float}),
        stockouts=stockouts.astype({"week": "datetime64[ns]"}),
        prices=prices.astype({"si_net_sales": float, "si_units": float}),
        index=index, products=products, first_week=first, latest_week=latest_week, start=period[0], end=period[1],
        reported=reported)
    return promo.page_from(inputs, retailers, promo.DEFAULT_METHOD, [])


def _no_rows(events):
    return (pd.DataFrame({"promo_id": pd.Series(dtype=str), "week": pd.Series(dtype="datetime64[ns]"),
                          "units": pd.Series(dtype=float)}),
            pd.DataFrame({"promo_id": pd.Series(dtype=str), "si_net_sales": pd.Series(dtype=float),
                          "si_units": pd.Series(dtype=float)}))


# -- the SQL floor ------------------------------------------------------------------------------------------
def _sql_once(con, latest_week):
    if id(con) not in _ONCE:
        first = con.execute("SELECT least((SELECT min(week) FROM sell_out), (SELECT min(week) FROM sell_in))"
                            ).fetchone()[0]
        every = promo.with_weeks(con.execute(f"SELECT {', '.join(promo.PROMO_COLUMNS)} FROM promotions").df())
        con.register("promoted_years", promo.promoted_series_years(every))
        try:
            weekly = con.execute("""
                SELECT p.category, s.retailer_id, s.week, sum(s.units) AS units,
                       sum(CASE WHEN m.year IS NULL THEN s.units ELSE 0 END) AS units_unpromoted
                FROM sell_out AS s JOIN products AS p USING (sku_id)
                LEFT JOIN promoted_years AS m
                  ON m.retailer_id = s.retailer_id AND m.sku_id = s.sku_id AND m.year = year(s.week)
                GROUP BY p.category, s.retailer_id, s.week""").df()
        finally:
            con.unregister("promoted_years")
        weekly["week"] = pd.to_datetime(weekly["week"])
        reported = con.execute("SELECT DISTINCT retailer_id, week FROM sell_out").df()
        reported["week"] = pd.to_datetime(reported["week"]).astype("datetime64[ns]")
        stockouts = con.execute("SELECT retailer_id, sku_id, week FROM inventory WHERE on_hand_units <= 0").df()
        _ONCE[id(con)] = (first, promo.weekly_seasonal_index(weekly, reported, first, latest_week), stockouts,
                          reported)
    return _ONCE[id(con)]


def sql_work(con, filters: Filters, latest_week: dt.date):
    retailers = con.execute("SELECT * FROM retailers").df()
    products = con.execute("SELECT * FROM products").df()
    once = _sql_once(con, latest_week)
    rid, sku = ids(retailers, products, filters)
    params: list = []
    where = sql_in("retailer_id", rid, params) + sql_in("sku_id", sku, params)
    promos = promo.with_weeks(con.execute(
        f"SELECT {', '.join(promo.PROMO_COLUMNS)} FROM promotions WHERE TRUE{where}", params).df())
    period = calendar.resolve_period(filters, None, latest_week)
    start, end = period.start, period.end
    events = promo.in_period(promos, start, end)
    if events.empty:
        return _finish(events, promos, *_no_rows(events), once, products, retailers, latest_week, (start, end))
    con.register("promo_windows", promo.windows(events))
    try:  # the events are those in view, so the joins apply the filters
        join = ("s.retailer_id = w.e_retailer AND s.sku_id = w.e_sku AND s.week BETWEEN w.ly_lo AND w.hi")
        windows = "(s.week BETWEEN w.lo AND w.hi OR s.week BETWEEN w.ly_lo AND w.ly_hi)"
        units = con.execute(f"""
            SELECT w.e_promo AS promo_id, s.week, sum(s.units) AS units
            FROM sell_out AS s JOIN promo_windows AS w ON {join}
            WHERE {windows} GROUP BY w.e_promo, s.week""").df()
        prices = con.execute("""
            SELECT w.e_promo AS promo_id, sum(s.net_sales) AS si_net_sales, sum(s.units) AS si_units
            FROM sell_in AS s JOIN promo_windows AS w
              ON s.retailer_id = w.e_retailer AND s.sku_id = w.e_sku AND s.week BETWEEN w.p_lo AND w.p_hi
            GROUP BY w.e_promo""").df()
    finally:
        con.unregister("promo_windows")
    return _finish(events, promos, units, prices, once, products, retailers, latest_week, (start, end))


# -- pandas -------------------------------------------------------------------------------------------------
def _pandas_once(tables, latest_week):
    if id(tables) not in _ONCE:
        so, si = tables["sell_out"], tables["sell_in"]
        first = min(pd.Timestamp(so["week"].min()), pd.Timestamp(si["week"].min())).date()
        every = promo.with_weeks(tables["promotions"][promo.PROMO_COLUMNS])
        promoted = promo.promoted_series_years(every).assign(promoted=True)
        rows = so[["retailer_id", "sku_id", "week", "units"]].assign(
            week=pd.to_datetime(so["week"]), retailer_id=so["retailer_id"].astype(str), sku_id=so["sku_id"].astype(str))
        rows["year"] = rows["week"].dt.year
        rows = rows.merge(promoted, on=["retailer_id", "sku_id", "year"], how="left")
        rows["units_unpromoted"] = rows["units"].where(rows["promoted"].isna(), 0.0)
        weekly = rows.merge(tables["products"][["sku_id", "category"]], on="sku_id").groupby(
            ["category", "retailer_id", "week"], as_index=False, observed=True)[["units", "units_unpromoted"]].sum()
        reported = rows[["retailer_id", "week"]].drop_duplicates().astype({"week": "datetime64[ns]"})
        inv = tables["inventory"]
        stockouts = inv.loc[inv["on_hand_units"] <= 0, ["retailer_id", "sku_id", "week"]]
        _ONCE[id(tables)] = (first, promo.weekly_seasonal_index(weekly, reported, first, latest_week), stockouts,
                             reported)
    return _ONCE[id(tables)]


def _in_ids(frame: pd.DataFrame, rid, sku) -> pd.DataFrame:
    if rid is not None:
        frame = frame[frame["retailer_id"].isin(rid)]
    if sku is not None:
        frame = frame[frame["sku_id"].isin(sku)]
    return frame


def _around(frame: pd.DataFrame, w: pd.DataFrame, lo: str, hi: str) -> pd.DataFrame:
    j = frame.merge(w, left_on=["retailer_id", "sku_id"], right_on=["e_retailer", "e_sku"])
    week = pd.to_datetime(j["week"])
    return j[(week >= j[lo]) & (week <= j[hi])].assign(week=week)


def pandas_work(tables, filters: Filters, latest_week: dt.date):
    retailers, products = tables["retailers"], tables["products"]
    once = _pandas_once(tables, latest_week)
    rid, sku = ids(retailers, products, filters)
    promos = promo.with_weeks(_in_ids(tables["promotions"], rid, sku)[promo.PROMO_COLUMNS])
    period = calendar.resolve_period(filters, None, latest_week)
    start, end = period.start, period.end
    events = promo.in_period(promos, start, end)
    if events.empty:
        return _finish(events, promos, *_no_rows(events), once, products, retailers, latest_week, (start, end))
    w = promo.windows(events)
    for col in ("lo", "hi", "ly_lo", "ly_hi", "p_lo", "p_hi"):
        w[col] = pd.to_datetime(w[col])

    def in_windows(j):
        return j[j["week"].between(j["lo"], j["hi"]) | j["week"].between(j["ly_lo"], j["ly_hi"])]

    so = in_windows(_around(tables["sell_out"], w, "ly_lo", "hi"))
    units = so.groupby(["e_promo", "week"], as_index=False)["units"].sum().rename(columns={"e_promo": "promo_id"})
    si = _around(tables["sell_in"], w, "p_lo", "p_hi")
    prices = si.groupby("e_promo", as_index=False).agg(si_net_sales=("net_sales", "sum"), si_units=("units", "sum"))
    prices = prices.rename(columns={"e_promo": "promo_id"})
    return _finish(events, promos, units, prices, once, products, retailers, latest_week, (start, end))
