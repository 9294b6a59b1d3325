"""Portfolio: revenue share, plan, margin, year-to-date health and the key-account score.

The SQL floor and the pandas baseline compute the page's per-retailer numbers (net sales this period and last
year, sell-out value, the period's target, costed net sales and cost, year-to-date net sales, last year and
target, in-stock weeks) and finish them with the same pure functions as the app (shares, growth, health,
score). Availability: the app reads the inventory module, whose out-of-stock ledger is built once per engine
(independent of the filters, like the dimension tables); the per-view work is the in-stock count over the
year to date, which is what these baselines time (their in-stock rate counts every counted week as listed).

The helpers here (`period`, `ids`, `sql_in`, `sql_targets`, `pandas_targets`) also serve bench/pages/account_review.py.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from kam_dash import calendar
from kam_dash.filters import Filters
from kam_dash.metrics import account, share

PAGE = "Portfolio"


def ibis_work(engine, filters: Filters):
    data = account.portfolio_page_data(engine, filters)
    return account.score_accounts(data.accounts)


# -- shared by both baselines ---------------------------------------------------------------------------------
def period(filters: Filters, latest_week: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    p = calendar.resolve_period(filters, None, latest_week)
    return p.start, p.end, p.ly_start, p.ly_end


def ids(retailers: pd.DataFrame, products: pd.DataFrame, filters: Filters):
    """Retailer and SKU ids in scope (None = not filtered), as scope.resolve does."""
    return (_pick(retailers, "retailer_id", {"retailer_id": filters.retailers, "channel": filters.channels}),
            _pick(products, "sku_id", {"category": filters.categories, "brand": filters.brands}))


def _pick(frame: pd.DataFrame, key: str, wanted: dict) -> list | None:
    wanted = {col: values for col, values in wanted.items() if values}
    if not wanted:
        return None
    mask = pd.Series(True, index=frame.index)
    for col, values in wanted.items():
        mask &= frame[col].isin(values)
    return list(frame.loc[mask, key])


def sql_in(column: str, values: list | None, params: list) -> str:
    """' AND column IN (?, ?, ...)' with the values bound (nothing when unfiltered; FALSE when empty)."""
    if values is None:
        return ""
    if not values:
        return " AND FALSE"
    params.extend(values)
    return f" AND {column} IN ({', '.join('?' * len(values))})"


def finish(frame: pd.DataFrame, retailers: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Per-retailer sums -> the scored account table (the same arithmetic as the app)."""
    frame = retailers[["retailer_id", "retailer_name", "channel", "strategic_priority"]].merge(
        frame, on="retailer_id", how="inner")
    cols = ["net_sales", "net_sales_ly", "sell_out_value", "target"]
    frame = frame[frame[cols].notna().any(axis=1)].copy()
    total = frame["net_sales"].sum(min_count=1)
    frame["share"] = frame["net_sales"] / total if pd.notna(total) and total > 0 else np.nan
    frame["yoy_growth"] = share.growth(frame["net_sales"], frame["net_sales_ly"])
    frame["margin_pct"] = account.margin(frame["costed"], frame["cost"])
    frame["ytd_attainment"] = frame["ytd_net_sales"] / frame["ytd_target"].where(frame["ytd_target"] > 0)
    frame["ytd_growth"] = share.growth(frame["ytd_net_sales"], frame["ytd_net_sales_ly"])
    loaded = frame["in_stock_rate"].notna().any()
    graded = [account.health(_f(r.ytd_attainment), _f(r.ytd_growth), _f(r.in_stock_rate), loaded)
              for r in frame.itertuples()]
    frame["health"] = [g[0] for g in graded]
    frame["health_reason"] = [g[1] for g in graded]
    frame["strategic_priority"] = pd.to_numeric(frame["strategic_priority"], errors="coerce")
    return account.score_accounts(frame)


def _f(value):
    return None if pd.isna(value) else float(value)


# -- targets spread to weeks ------------------------------------------------------------------------------------
def sql_targets(con, start: dt.date, end: dt.date, rid, filters: Filters, by: str = "retailer_id") -> pd.DataFrame:
    """The target of the weeks whose Monday is in start..end, per `by` (retailer_id or week): each month's
    target spread evenly over its Mondays; the all-category row, else the sum of category rows; under a
    category filter those categories' rows; none under a brand filter."""
    if filters.brands:
        return pd.DataFrame(columns=[by, "target"])
    params: list = [start.replace(day=1), end]
    where = sql_in("retailer_id", rid, params)
    if filters.categories:
        where += sql_in("coalesce(category, '')", list(filters.categories), params)
        chosen = "SELECT * FROM t"
    else:
        chosen = ("SELECT * FROM t WHERE category = '' OR NOT EXISTS (SELECT 1 FROM t AS a WHERE "
                  "a.retailer_id = t.retailer_id AND a.month = t.month AND a.category = '')")
    params += [start, end]
    query = f"""
        WITH t AS (SELECT retailer_id, month, coalesce(category, '') AS category, net_sales_target AS value
                   FROM targets WHERE month >= ? AND month <= ?{where}),
             chosen AS ({chosen}),
             mondays AS (SELECT m.month, CAST(d AS DATE) AS week
                         FROM (SELECT DISTINCT month FROM chosen) AS m,
                              generate_series(CAST(m.month AS TIMESTAMP),
                                              CAST(m.month AS TIMESTAMP) + INTERVAL 1 MONTH - INTERVAL 1 DAY,
                                              INTERVAL 1 DAY) AS g(d)
                         WHERE isodow(d) = 1),
             weeks AS (SELECT month, week, count(*) OVER (PARTITION BY month) AS n FROM mondays)
        SELECT {by}, sum(value / n) AS target
        FROM chosen JOIN weeks USING (month) WHERE week BETWEEN ? AND ? GROUP BY {by}"""
    return con.execute(query, params).df()


def pandas_targets(targets: pd.DataFrame, start: dt.date, end: dt.date, rid, filters: Filters,
                   by: str = "retailer_id") -> pd.DataFrame:
    if filters.brands or targets.empty:
        return pd.DataFrame(columns=[by, "target"])
    t = targets.assign(category=targets["category"].fillna(""), month=pd.to_datetime(targets["month"]))
    t = t[(t["month"] >= pd.Timestamp(start.replace(day=1))) & (t["month"] <= pd.Timestamp(end))]
    if rid is not None:
        t = t[t["retailer_id"].isin(rid)]
    if filters.categories:
        t = t[t["category"].isin(filters.categories)]
    else:
        totals = t.loc[t["category"] == "", ["retailer_id", "month"]].assign(_total=True)
        t = t.merge(totals, on=["retailer_id", "month"], how="left")
        t = t[(t["_total"].eq(True) & (t["category"] == "")) | t["_total"].isna()]
    days = pd.DataFrame({"month": t["month"].drop_duplicates()})
    days["day"] = days["month"].map(lambda m: pd.date_range(m, m + pd.offsets.MonthEnd(0)))
    days = days.explode("day")
    weeks = days[pd.to_datetime(days["day"]).dt.day_of_week == 0].rename(columns={"day": "week"})
    weeks["week"] = pd.to_datetime(weeks["week"])
    weeks["n"] = weeks.groupby("month")["week"].transform("size")
    rows = t.merge(weeks, on="month")
    rows = rows[(rows["week"] >= pd.Timestamp(start)) & (rows["week"] <= pd.Timestamp(end))]
    rows = rows.assign(target=rows["net_sales_target"] / rows["n"])
    return rows.groupby(by, as_index=False)["target"].sum()


# -- the SQL floor ----------------------------------------------------------------------------------------------
def _sql_sell_in(con, s, e, ls, le, rid, sku, with_cost: bool) -> pd.DataFrame:
    params: list = [s, e, s, e, ls, le, ls, le]
    cost = ""
    if with_cost:
        cost = (", sum(CASE WHEN week BETWEEN ? AND ? AND p.unit_cost IS NOT NULL THEN net_sales END) AS costed"
                ", sum(CASE WHEN week BETWEEN ? AND ? THEN units * p.unit_cost END) AS cost")
        params += [s, e, s, e]
    params += [ls, e]
    where = sql_in("s.retailer_id", rid, params) + sql_in("s.sku_id", sku, params)
    join = " LEFT JOIN products AS p ON p.sku_id = s.sku_id" if with_cost else ""
    return con.execute(f"""
        SELECT s.retailer_id,
               CASE WHEN count(*) FILTER (WHERE week BETWEEN ? AND ?) > 0
                    THEN sum(CASE WHEN week BETWEEN ? AND ? THEN net_sales ELSE 0 END) END AS net_sales,
               CASE WHEN count(*) FILTER (WHERE week BETWEEN ? AND ?) > 0
                    THEN sum(CASE WHEN week BETWEEN ? AND ? THEN net_sales ELSE 0 END) END AS net_sales_ly{cost}
        FROM sell_in AS s{join} WHERE week BETWEEN ? AND ?{where} GROUP BY s.retailer_id""", params).df()


def sql_work(con, filters: Filters, latest_week: dt.date):
    retailers = con.execute("SELECT * FROM retailers").df()
    products = con.execute("SELECT * FROM products").df()
    rid, sku = ids(retailers, products, filters)
    s, e, ls, le = period(filters, latest_week)
    frame = _sql_sell_in(con, s, e, ls, le, rid, sku, with_cost=True)
    params: list = [s, e]
    where = sql_in("retailer_id", rid, params) + sql_in("sku_id", sku, params)
    sell_out = con.execute(f"SELECT retailer_id, sum(sales_value) AS sell_out_value FROM sell_out "
                           f"WHERE week BETWEEN ? AND ?{where} GROUP BY retailer_id", params).df()
    frame = frame.merge(sell_out, on="retailer_id", how="outer")
    frame = frame.merge(sql_targets(con, s, e, rid, filters), on="retailer_id", how="outer")
    ytd = filters.with_(period="ytd", year=None, start=None, end=None)
    ys, ye, yls, yle = period(ytd, latest_week)
    if (ys, ye) == (s, e):
        y = frame[["retailer_id", "net_sales", "net_sales_ly", "target"]]
    else:
        y = _sql_sell_in(con, ys, ye, yls, yle, rid, sku, with_cost=False).merge(
            sql_targets(con, ys, ye, rid, filters), on="retailer_id", how="outer")
    frame = frame.merge(y.rename(columns={"net_sales": "ytd_net_sales", "net_sales_ly": "ytd_net_sales_ly",
                                          "target": "ytd_target"}), on="retailer_id", how="left")
    params = [ys, ye]
    where = sql_in("retailer_id", rid, params) + sql_in("sku_id", sku, params)
    stock = con.execute(f"SELECT retailer_id, avg(CASE WHEN on_hand_units > 0 THEN 1.0 ELSE 0.0 END) "
                        f"AS in_stock_rate FROM inventory WHERE week BETWEEN ? AND ?{where} GROUP BY retailer_id",
                        params).df()
    frame = frame.merge(stock, on="retailer_id", how="left")
    return finish(frame, retailers, filters)


# -- pandas ---------------------------------------------------------------------------------------------------
def _pandas_sell_in(sell_in, products, s, e, ls, le, rid, sku, with_cost: bool) -> pd.DataFrame:
    t = sell_in[(sell_in["week"] >= pd.Timestamp(ls)) & (sell_in["week"] <= pd.Timestamp(e))]
    if rid is not None:
        t = t[t["retailer_id"].isin(rid)]
    if sku is not None:
        t = t[t["sku_id"].isin(sku)]
    cy = (t["week"] >= pd.Timestamp(s)) & (t["week"] <= pd.Timestamp(e))
    ly = (t["week"] >= pd.Timestamp(ls)) & (t["week"] <= pd.Timestamp(le))
    cols = {"ns": t["net_sales"].where(cy, 0.0), "ly": t["net_sales"].where(ly, 0.0), "has_cy": cy, "has_ly": ly}
    if with_cost:
        cost = t["sku_id"].map(products.set_index("sku_id")["unit_cost"])
        cols["costed"] = t["net_sales"].where(cy & cost.notna())
        cols["cost"] = (t["units"] * cost).where(cy)
    g = pd.DataFrame({"retailer_id": t["retailer_id"], **cols}).groupby("retailer_id")
    out = pd.DataFrame({"net_sales": g["ns"].sum().where(g["has_cy"].any()),
                        "net_sales_ly": g["ly"].sum().where(g["has_ly"].any())})
    if with_cost:
        out["costed"] = g["costed"].sum(min_count=1)
        out["cost"] = g["cost"].sum(min_count=1)
    return out.reset_index()


def pandas_work(tables: dict, filters: Filters, latest_week: dt.date):
    retailers, products = tables["retailers"], tables["products"]
    rid, sku = ids(retailers, products, filters)
    s, e, ls, le = period(filters, latest_week)
    sell_in = tables["sell_in"].assign(week=pd.to_datetime(tables["sell_in"]["week"]))
    frame = _pandas_sell_in(sell_in, products, s, e, ls, le, rid, sku, with_cost=True)
    so = tables["sell_out"]
    weeks = pd.to_datetime(so["week"])
    mask = (weeks >= pd.Timestamp(s)) & (weeks <= pd.Timestamp(e))
    if rid is not None:
        mask &= so["retailer_id"].isin(rid)
    if sku is not None:
        mask &= so["sku_id"].isin(sku)
    sell_out = so[mask].groupby("retailer_id", as_index=False)["sales_value"].sum().rename(
        columns={"sales_value": "sell_out_value"})
    frame = frame.merge(sell_out, on="retailer_id", how="outer")
    frame = frame.merge(pandas_targets(tables["targets"], s, e, rid, filters), on="retailer_id", how="outer")
    ytd = filters.with_(period="ytd", year=None, start=None, end=None)
    ys, ye, yls, yle = period(ytd, latest_week)
    if (ys, ye) == (s, e):
        y = frame[["retailer_id", "net_sales", "net_sales_ly", "target"]]
    else:
        y = _pandas_sell_in(sell_in, products, ys, ye, yls, yle, rid, sku, with_cost=False).merge(
            pandas_targets(tables["targets"], ys, ye, rid, filters), on="retailer_id", how="outer")
    frame = frame.merge(y.rename(columns={"net_sales": "ytd_net_sales", "net_sales_ly": "ytd_net_sales_ly",
                                          "target": "ytd_target"}), on="retailer_id", how="left")
    inv = tables["inventory"]
    weeks = pd.to_datetime(inv["week"])
    mask = (weeks >= pd.Timestamp(ys)) & (weeks <= pd.Timestamp(ye))
    if rid is not None:
        mask &= inv["retailer_id"].isin(rid)
    if sku is not None:
        mask &= inv["sku_id"].isin(sku)
    stock = (inv.loc[mask, "on_hand_units"] > 0).astype(float).groupby(inv.loc[mask, "retailer_id"]).mean()
    frame = frame.merge(stock.rename("in_stock_rate").reset_index(), on="retailer_id", how="left")
    return finish(frame, retailers, filters)
