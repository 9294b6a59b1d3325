"""Distribution & stores: distribution and velocity per SKU, TDP, the void list and the store table.

The SQL floor sums the store rows in DuckDB as the app's engine path does (selling and open counts per retailer x
SKU x week, comparable stores' counts, store x week sell-out, the rows of store x SKU pairs whose gap between sales
can hold a void) and finishes with the same pure functions (`distribution_from_counts`, `find_voids`,
`ranking_from`). The pandas baseline reads the store rows into pandas and runs the pandas reference functions
(`distribution_from`, `find_voids`, `ranking`); at `stores200m` the bench skips it (the rows do not fit).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from bench.pages.portfolio import ids, sql_in
from kam_dash import calendar
from kam_dash.filters import Filters
from kam_dash.metrics import stores

PAGE = "Distribution & stores"


def ibis_work(engine, filters: Filters):
    return stores.page_data(engine, filters)


def _weeks(filters: Filters, latest_week: dt.date):
    p = calendar.resolve_period(filters, None, latest_week)
    read_from = p.start - dt.timedelta(weeks=stores.LOOKBACK_WEEKS)
    return p, read_from, min(read_from, p.ly_start)


def _finish(p, read_from, dist_all, opened, void_sales, comp, per_store, value, store_table, products, latest):
    ts = pd.Timestamp
    window = opened[opened["week"] >= ts(read_from)]
    dist = dist_all[dist_all["week"] >= ts(p.start)].reset_index(drop=True)
    skus = stores.sku_summary(dist).merge(products[["sku_id", "sku_name", "brand"]], on="sku_id", how="left")
    brand_tdp = stores.tdp(dist, products)
    voids = stores.find_voids(void_sales, window, dist_all, comp=comp)
    voids = voids[voids["last_week"] >= ts(p.start)] if len(voids) else voids
    table = stores.ranking_from(per_store, value, opened, store_table, [ts(w) for w in p.weeks], latest)
    return dist, skus, brand_tdp, voids, table


def _dates(frame: pd.DataFrame) -> pd.DataFrame:
    for col in ("week", "open_date", "close_date"):
        if col in frame.columns:
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    return frame


# -- the SQL floor ------------------------------------------------------------------------------------------------
def sql_work(con, filters: Filters, latest_week: dt.date):
    has_summaries = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = "
                                "'store_summary_selling'").fetchone()[0]
    return (_sql_from_summaries if has_summaries else _sql_from_rows)(con, filters, latest_week)


def _sql_from_summaries(con, filters: Filters, latest_week: dt.date):
    """As the app on DuckDB: the store_summary_* tables, the store rows only for SKUs carried."""
    retailers = con.execute("SELECT * FROM retailers").df()
    products = con.execute("SELECT * FROM products").df()
    rid, sku = ids(retailers, products, filters)
    p, read_from, start = _weeks(filters, latest_week)

    def rows(table: str, first: dt.date, by_sku: bool = True) -> pd.DataFrame:
        params: list = [first, p.end]
        where = sql_in("retailer_id", rid, params) + (sql_in("sku_id", sku, params) if by_sku else "")
        return _dates(con.execute(f"SELECT * FROM {table} WHERE week BETWEEN ? AND ?{where}", params).df())

    opened = rows("store_summary_open", start, by_sku=False)
    window = opened[opened["week"] >= pd.Timestamp(read_from)]
    counts = window.groupby(["retailer_id", "week"], as_index=False).agg(
        stores_open=("store_id", "size"), acv_open=("acv_weight", "sum"))
    dist_all = stores.distribution_from_counts(rows("store_summary_selling", read_from), counts)
    both = pd.concat([window[window["format"].notna()].assign(fmt=window["format"]),
                      window.assign(fmt=stores.ALL_FORMATS)])
    comp_open = both.groupby(["retailer_id", "fmt", "week"], as_index=False).agg(acv_open=("acv_weight", "sum"))
    comp = stores._comparable_from_counts(rows("store_summary_comparable", read_from), comp_open)
    void_sales = rows("store_summary_void_rows", read_from)
    params: list = [*p.weeks]
    where = sql_in("retailer_id", rid, params) + sql_in("sku_id", sku, params)
    carried = con.execute(f"""SELECT store_id, sum(sales_value) AS sell_out, count(DISTINCT sku_id) AS skus_carried
        FROM sell_out_store WHERE week IN ({', '.join('?' * len(p.weeks))}){where}
        AND coalesce(units, sales_value) > 0 GROUP BY store_id""", params).df().set_index("store_id")
    if sku is None:
        value = rows("store_summary_value", start)[["store_id", "week", "sales_value"]]
    else:
        params = [start, p.end]
        where = sql_in("retailer_id", rid, params) + sql_in("sku_id", sku, params)
        value = _dates(con.execute(f"""SELECT store_id, week, sum(sales_value) AS sales_value FROM sell_out_store
            WHERE week BETWEEN ? AND ?{where} AND coalesce(units, sales_value) > 0 GROUP BY ALL""", params).df())
    store_table = _dates(con.execute("SELECT * FROM stores").df())
    store_table["acv_weight"] = store_table["acv_weight"].fillna(1.0)
    latest = {r: pd.Timestamp(w) for r, w in con.execute(
        "SELECT retailer_id, max(week) FROM store_summary_open GROUP BY ALL").fetchall()}
    return _finish(p, read_from, dist_all, opened, void_sales, comp, carried, value, store_table, products, latest)


def _sql_from_rows(con, filters: Filters, latest_week: dt.date):
    retailers = con.execute("SELECT * FROM retailers").df()
    products = con.execute("SELECT * FROM products").df()
    rid, sku = ids(retailers, products, filters)
    p, read_from, start = _weeks(filters, latest_week)
    o_params: list = [start, p.end]
    o_where = sql_in("s.retailer_id", rid, o_params)
    opened_sql = f"""
        SELECT w.retailer_id, w.store_id, w.week, coalesce(st.acv_weight, 1.0) AS acv_weight, st.format
        FROM (SELECT DISTINCT retailer_id, store_id, week FROM sell_out_store s
              WHERE s.week BETWEEN ? AND ?{o_where}) w
        LEFT JOIN stores st USING (store_id)
        WHERE (st.open_date IS NULL OR st.open_date <= w.week + 6)
          AND (st.close_date IS NULL OR st.close_date >= w.week)"""
    s_params: list = [start, p.end]
    s_where = sql_in("s.retailer_id", rid, s_params) + sql_in("s.sku_id", sku, s_params)
    sales_sql = f"""SELECT week, retailer_id, store_id, sku_id, units, sales_value FROM sell_out_store s
                    WHERE s.week BETWEEN ? AND ?{s_where} AND coalesce(units, sales_value) > 0"""
    ctes = f"WITH opened AS ({opened_sql}), sales AS ({sales_sql}), " \
           "win_open AS (SELECT * FROM opened WHERE week >= ?), win_sales AS (SELECT * FROM sales WHERE week >= ?) "
    params = [*o_params, *s_params, read_from, read_from]
    selling = _dates(con.execute(ctes + """
        SELECT retailer_id, sku_id, week, count(*) AS stores_selling, sum(o.acv_weight) AS acv_selling,
               sum(units) AS units, count(units) AS with_units
        FROM win_sales JOIN (SELECT store_id, week, acv_weight FROM win_open) o USING (store_id, week)
        GROUP BY ALL""", params).df())
    counts = _dates(con.execute(ctes + """SELECT retailer_id, week, count(*) AS stores_open,
        sum(acv_weight) AS acv_open FROM win_open GROUP BY ALL""", params).df())
    dist_all = stores.distribution_from_counts(selling, counts)
    opened = _dates(con.execute(ctes + "SELECT * FROM opened", params).df())
    both = f"""both_fmt AS (SELECT retailer_id, store_id, week, acv_weight, format AS fmt FROM win_open
                            WHERE format IS NOT NULL
                            UNION ALL
                            SELECT retailer_id, store_id, week, acv_weight, '{stores.ALL_FORMATS}' FROM win_open),
               comp_sold AS (SELECT s.retailer_id, b.fmt, s.sku_id, s.week, sum(s.units) AS units, count(*) AS n_selling
                             FROM win_sales s JOIN both_fmt b USING (store_id, week) GROUP BY ALL),
               comp_open AS (SELECT retailer_id, fmt, week, sum(acv_weight) AS acv_open FROM both_fmt GROUP BY ALL)"""
    comp = stores._comparable_from_counts(
        _dates(con.execute(ctes + ", " + both + " SELECT * FROM comp_sold", params).df()),
        _dates(con.execute(ctes + ", " + both + " SELECT * FROM comp_open", params).df()))
    void_sales = _dates(con.execute(ctes + ", " + both + f"""
        , ordinal AS (SELECT store_id, week, row_number() OVER (PARTITION BY store_id ORDER BY week) AS ord
                      FROM win_open),
          last_open AS (SELECT store_id, max(ord) AS last_ord FROM ordinal GROUP BY store_id),
          store_of AS (SELECT store_id, max(acv_weight) AS acv, coalesce(max(format), '{stores.ALL_FORMATS}') AS fmt
                       FROM win_open GROUP BY store_id),
          best AS (SELECT retailer_id, fmt, sku_id, max(units / acv_open) AS best
                   FROM comp_sold JOIN comp_open USING (retailer_id, fmt, week) GROUP BY ALL),
          gaps AS (SELECT s.retailer_id, s.store_id, s.sku_id,
                          coalesce(lead(o.ord) OVER (PARTITION BY s.store_id, s.sku_id ORDER BY s.week),
                                   l.last_ord + 1) - o.ord - 1 AS gap
                   FROM win_sales s JOIN ordinal o USING (store_id, week) JOIN last_open l USING (store_id)),
          pairs AS (SELECT DISTINCT g.store_id, g.sku_id FROM gaps g JOIN store_of USING (store_id)
                    JOIN best b ON b.retailer_id = g.retailer_id AND b.fmt = store_of.fmt AND b.sku_id = g.sku_id
                    WHERE g.gap >= ? AND g.gap * b.best * store_of.acv >= ?)
        SELECT * FROM win_sales SEMI JOIN pairs USING (store_id, sku_id)""",
        [*params, stores.VOID_WEEKS, float(-np.log(stores.VOID_CHANCE))]).df())
    w_params = [*params, *p.weeks]
    per_store = con.execute(ctes + f"""SELECT store_id, sum(sales_value) AS sell_out,
        count(DISTINCT sku_id) AS skus_carried FROM sales WHERE week IN ({', '.join('?' * len(p.weeks))})
        GROUP BY store_id""", w_params).df().set_index("store_id")
    value = _dates(con.execute(ctes + "SELECT store_id, week, sum(sales_value) AS sales_value FROM sales GROUP BY ALL",
                               params).df())
    store_table = _dates(con.execute("SELECT * FROM stores").df())
    store_table["acv_weight"] = store_table["acv_weight"].fillna(1.0)
    latest = {r: pd.Timestamp(w) for r, w in con.execute(
        "SELECT retailer_id, max(week) FROM sell_out_store GROUP BY ALL").fetchall()}
    return _finish(p, read_from, dist_all, opened, void_sales, comp, per_store, value, store_table, products, latest)


# -- pandas ----------------------------------------------------------------------------------------------------------
def pandas_work(tables: dict, filters: Filters, latest_week: dt.date):
    rows = _dates(tables["sell_out_store"].copy())
    rid, sku = ids(tables["retailers"], tables["products"], filters)
    p, read_from, start = _weeks(filters, latest_week)
    ts = pd.Timestamp
    rows = rows[(rows["week"] >= ts(start)) & (rows["week"] <= ts(p.end))]
    if rid is not None:
        rows = rows[rows["retailer_id"].isin(rid)]
    opened = rows[["retailer_id", "store_id", "week"]].drop_duplicates()
    store_table = _dates(tables["stores"].copy())
    store_table["acv_weight"] = store_table["acv_weight"].fillna(1.0)
    opened = opened.merge(store_table[["store_id", "acv_weight", "format", "open_date", "close_date"]], on="store_id",
                          how="left")
    opened = opened[(opened["open_date"].isna() | (opened["open_date"] <= opened["week"] + pd.Timedelta(days=6)))
                    & (opened["close_date"].isna() | (opened["close_date"] >= opened["week"]))]
    opened = opened[["retailer_id", "store_id", "week", "acv_weight", "format"]]
    if sku is not None:
        rows = rows[rows["sku_id"].isin(sku)]
    sales = rows[rows["units"].fillna(rows["sales_value"]) > 0]
    window, win_sales = opened[opened["week"] >= ts(read_from)], sales[sales["week"] >= ts(read_from)]
    dist_all = stores.distribution_from(win_sales, window)
    dist = dist_all[dist_all["week"] >= ts(p.start)].reset_index(drop=True)
    products = tables["products"]
    skus = stores.sku_summary(dist).merge(products[["sku_id", "sku_name", "brand"]], on="sku_id", how="left")
    brand_tdp = stores.tdp(dist, products)
    voids = stores.find_voids(win_sales, window, dist_all)
    voids = voids[voids["last_week"] >= ts(p.start)] if len(voids) else voids
    latest = tables["sell_out_store"].groupby("retailer_id")["week"].max().map(pd.Timestamp).to_dict()
    table = stores.ranking(sales, opened, store_table, [ts(w) for w in p.weeks], latest)
    return dist, skus, brand_tdp, voids, table
