"""Inventory: weeks of cover and status, availability and lost sales, phantom stock, the reconciliation of one
retailer, forward-buy warnings.

The page's data work is its reads of the data (`kam_dash.metrics.inventory.IbisReads`: small frames out),
finished by pure functions (`inventory.build`). The SQL floor and the pandas baseline here are the same reads in
hand-written DuckDB SQL (values bound) and in pandas, finished by the same `build`, so all three give the same
page. As in the app, each line's listing week and the out-of-stock ledger (lost sales of every out-of-stock week
in the data) do not depend on the filters and are computed once per database, like the dimension tables: the
warm-up run builds them and the timed runs are the per-view work (their one-off cost: see the module's report
in the lead's notes; about 5 s of CPU for Ibis at large scale).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kam_dash import calendar
from kam_dash.filters import Filters
from kam_dash.metrics import inventory as inv
from kam_dash.scope import Scope

from bench.pages.portfolio import ids, sql_in  # the shared baseline helpers

PAGE = "Inventory"
KEYS = inv.KEYS
WEEK = dt.timedelta(weeks=1)
_ONCE: dict = {}  # (kind, id of the connection or tables) -> listing and ledger, as the engine's memo


def ibis_work(engine, filters: Filters):
    return inv.page_data(engine, filters)


def sql_work(con, filters: Filters, latest_week: dt.date):
    reads = SqlReads(con, None)
    reads.ctx = context(reads.retailers(), reads.products(), filters, latest_week)
    return inv.build(reads, reads.ctx)


def pandas_work(tables: dict, filters: Filters, latest_week: dt.date):
    reads = PandasReads(tables, None)
    reads.ctx = context(tables["retailers"], tables["products"], filters, latest_week)
    return inv.build(reads, reads.ctx)


def context(retailers: pd.DataFrame, products: pd.DataFrame, filters: Filters, latest_week: dt.date):
    """The filters resolved as kam_dash.scope.resolve does, without an engine."""
    rid, sku = ids(retailers, products, filters)
    scope = Scope(calendar.resolve_period(filters, None, latest_week), None if rid is None else tuple(rid),
                  None if sku is None else tuple(sku), filters.categories, filters.brands)
    weeks = inv.period_weeks(scope)
    return None if weeks is None else inv.Context(scope, *weeks)


# -- SQL ----------------------------------------------------------------------------------------------------------
class SqlReads:
    """inventory.IbisReads in hand-written DuckDB SQL."""

    def __init__(self, con, ctx) -> None:
        self.con, self.ctx = con, ctx

    def _df(self, query: str, params: list | None = None) -> pd.DataFrame:
        return self.con.execute(query, params or []).df()

    def has(self, name: str) -> bool:
        key = ("has", id(self.con), name)
        if key not in _ONCE:
            exists = self._df("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'main' "
                              "AND table_name = ?", [name])["n"].iloc[0]
            _ONCE[key] = bool(exists) and bool(self._df(f'SELECT count(*) AS n FROM "{name}"')["n"].iloc[0])
        return _ONCE[key]

    def retailers(self) -> pd.DataFrame:
        return self._df("SELECT * FROM retailers ORDER BY retailer_id")

    def products(self) -> pd.DataFrame:
        return self._df("SELECT * FROM products ORDER BY sku_id")

    def _where(self, params: list, lo: dt.date, hi: dt.date | None = None, retailer: str | None = None) -> str:
        """week BETWEEN lo AND hi, the ids in scope and one retailer, with the values bound."""
        params += [lo, self.ctx.last if hi is None else hi]
        sql = "week BETWEEN ? AND ?"
        for col, values in (("retailer_id", self.ctx.scope.retailer_ids), ("sku_id", self.ctx.scope.sku_ids)):
            sql += sql_in(col, values, params)
        if retailer is not None:
            sql += " AND retailer_id = ?"
            params.append(retailer)
        return sql

    def reported_weeks(self) -> pd.DataFrame:
        key = ("reported", id(self.con))
        if key not in _ONCE:
            _ONCE[key] = inv.finish_reported(self._df(REPORTED_SQL) if self.has("sell_out") else pd.DataFrame(
                {"retailer_id": pd.Series(dtype=str), "week": pd.Series(dtype="datetime64[s]")}))
        return _ONCE[key]

    def retailer_latest(self, table: str) -> dict:
        key = ("latest", id(self.con), table)
        if key not in _ONCE:
            frame = self._df(f'SELECT retailer_id, max(week) AS latest FROM "{table}" GROUP BY ALL') if self.has(
                table) else pd.DataFrame({"retailer_id": [], "latest": []})
            _ONCE[key] = {r: pd.Timestamp(w).date() for r, w in zip(frame["retailer_id"], frame["latest"])}
        return _ONCE[key]

    def listing(self) -> pd.DataFrame:
        key = ("listing", id(self.con))
        if key not in _ONCE:
            _ONCE[key] = inv.finish_listing(self._df(LISTING_SQL))
        return _ONCE[key]

    def ledger(self) -> pd.DataFrame:
        key = ("ledger", id(self.con))
        if key not in _ONCE:
            self.listing()
            _ONCE[key] = inv.finish_ledger(self._df(LEDGER_SQL.format(offsets=", ".join(
                f"({k})" for k in range(1, inv.RATE_WEEKS + 1)))))
        return _ONCE[key]

    def counted_weeks(self, keys: list[str]) -> pd.DataFrame:
        cols = ", ".join(k for k in keys if k in KEYS)
        params: list = []
        where = self._where(params, self.ctx.first)
        return self._df(f"SELECT {cols}, count(*) AS counted_weeks FROM inventory WHERE {where} GROUP BY ALL", params)

    def unlisted_zero_weeks(self) -> pd.DataFrame:
        key = ("unlisted", id(self.con))
        if key not in _ONCE:
            _ONCE[key] = inv.finish_weeks(self._df(f"""
                WITH listed AS ({LISTING_SQL})
                SELECT i.retailer_id, i.sku_id, i.week FROM inventory i LEFT JOIN listed l USING (retailer_id, sku_id)
                WHERE i.on_hand_units = 0 AND (l.listed IS NULL OR i.week < l.listed)"""))
        return _ONCE[key]

    def positions(self, window: int, week: dt.date | None = None) -> pd.DataFrame:
        last = self.ctx.last if week is None else week
        previous, lo = last - WEEK, inv.lookback_start(last, window)
        p: list = [last, previous]
        inv_where = self._where(p, previous, last)
        p.append(previous)
        so_where = self._where(p, previous, last)
        p += [lo, last]
        stock_where = self._where(p, lo, last)
        sold_where = self._where(p, lo, last)
        p.append(window)
        return self._df(f"""
            WITH i AS (SELECT retailer_id, sku_id, max(on_hand_units) FILTER (WHERE week = ?) AS on_hand,
                              max(on_hand_units) FILTER (WHERE week = ?) AS on_hand_previous
                       FROM inventory WHERE {inv_where} GROUP BY ALL),
                 o AS (SELECT retailer_id, sku_id, sum(units) FILTER (WHERE week >= ?) AS sold_last_two
                       FROM sell_out WHERE {so_where} GROUP BY ALL),
                 reported AS (SELECT DISTINCT retailer_id, week FROM sell_out WHERE week BETWEEN ? AND ?),
                 good AS (SELECT s.retailer_id, s.sku_id, s.week FROM inventory s
                          JOIN reported USING (retailer_id, week) WHERE {stock_where} AND s.on_hand_units > 0),
                 sold AS (SELECT retailer_id, sku_id, week, sum(units) AS units, sum(sales_value) AS value
                          FROM sell_out WHERE {sold_where} GROUP BY ALL),
                 ranked AS (SELECT g.*, coalesce(sold.units, 0) AS units, coalesce(sold.value, 0) AS value,
                                   row_number() OVER (PARTITION BY g.retailer_id, g.sku_id ORDER BY g.week DESC) AS k
                            FROM good g LEFT JOIN sold USING (retailer_id, sku_id, week)),
                 c AS (SELECT retailer_id, sku_id, count(*) AS cover_weeks, sum(units) AS units_window,
                              sum(value) AS value_window, min(week) AS cover_from
                       FROM ranked WHERE k <= ? GROUP BY ALL)
            SELECT * FROM i FULL JOIN o USING (retailer_id, sku_id) FULL JOIN c USING (retailer_id, sku_id)""", p)

    def recent_stock(self, week: dt.date) -> pd.DataFrame:
        previous = week - WEEK
        p: list = [week, previous]
        inv_where = self._where(p, previous, week)
        so_where = self._where(p, previous, week)
        return self._df(f"""
            WITH i AS (SELECT retailer_id, sku_id, max(on_hand_units) FILTER (WHERE week = ?) AS on_hand,
                              max(on_hand_units) FILTER (WHERE week = ?) AS on_hand_previous
                       FROM inventory WHERE {inv_where} GROUP BY ALL),
                 o AS (SELECT retailer_id, sku_id, sum(units) AS sold_last_two FROM sell_out WHERE {so_where}
                       GROUP BY ALL)
            SELECT * FROM i FULL JOIN o USING (retailer_id, sku_id)""", p)

    def window_flows(self, weeks: pd.DataFrame) -> pd.DataFrame:
        if weeks.empty:
            return pd.DataFrame({"retailer_id": [], "sell_in_units": [], "sell_out_units": []})
        self.con.register("wanted_weeks", weeks)
        try:
            lo, hi = weeks["week"].min().date(), weeks["week"].max().date()
            p: list = []
            si_where = self._where(p, lo, hi)
            so_where = self._where(p, lo, hi)
            return self._df(f"""
                WITH w AS (SELECT retailer_id, CAST(week AS DATE) AS week FROM wanted_weeks),
                     s AS (SELECT retailer_id, sum(units) AS sell_in_units FROM sell_in
                           WHERE {si_where} AND (retailer_id, week) IN (SELECT retailer_id, week FROM w) GROUP BY ALL),
                     o AS (SELECT retailer_id, sum(units) AS sell_out_units FROM sell_out
                           WHERE {so_where} AND (retailer_id, week) IN (SELECT retailer_id, week FROM w) GROUP BY ALL)
                SELECT * FROM s FULL JOIN o USING (retailer_id)""", p)
        finally:
            self.con.unregister("wanted_weeks")

    def selling_history(self, silent: pd.DataFrame, week: dt.date) -> pd.DataFrame:
        end = week - inv.PHANTOM_ZERO_WEEKS * WEEK
        p: list = []
        where = self._where(p, end - (inv.PHANTOM_HISTORY_WEEKS - 1) * WEEK, end)
        where += _lines_in(silent, p)
        return self._df(f"SELECT retailer_id, sku_id, count(DISTINCT week) AS selling_weeks, sum(units) AS units, "
                        f"sum(sales_value) AS value FROM sell_out WHERE {where} AND units > 0 GROUP BY ALL", p)

    def forward_demand(self, stock: pd.DataFrame, week: dt.date) -> pd.DataFrame:
        p: list = []
        where = self._where(p, *inv.forward_window(week))
        where += _lines_in(stock, p)
        return self._df(f"SELECT retailer_id, sku_id, week, sum(units) AS units FROM sell_out WHERE {where} "
                        "GROUP BY ALL", p)

    def retailer_weeks(self, retailer_id: str, window: int) -> pd.DataFrame:
        lo = inv.lookback_start(self.ctx.first, window)
        p: list = []
        wheres = [self._where(p, lo, retailer=retailer_id) for _ in range(3)]
        return self._df(f"""
            WITH u AS (SELECT sku_id, week, on_hand_units AS on_hand, NULL AS units, NULL AS shipped FROM inventory
                       WHERE {wheres[0]}
                       UNION ALL SELECT sku_id, week, NULL, units, NULL FROM sell_out WHERE {wheres[1]}
                       UNION ALL SELECT sku_id, week, NULL, NULL, units FROM sell_in WHERE {wheres[2]})
            SELECT sku_id, week, max(on_hand) AS on_hand, coalesce(sum(units), 0) AS units,
                   coalesce(sum(shipped), 0) AS shipped FROM u GROUP BY sku_id, week""", p)

    def line_flows(self, ends: pd.DataFrame) -> pd.DataFrame:
        opening = self.ctx.first - WEEK
        self.con.register("line_ends", ends[["retailer_id", "end_week"]])
        try:
            p: list = [opening]
            inv_where = self._where(p, opening)
            p.append(opening)
            si_where = self._where(p, self.ctx.first)
            so_where = self._where(p, self.ctx.first)
            return self._df(f"""
                WITH e AS (SELECT retailer_id, CAST(end_week AS DATE) AS end_week FROM line_ends),
                     i AS (SELECT retailer_id, sku_id, max(on_hand_units) FILTER (WHERE week = ?) AS opening,
                                  max(on_hand_units) FILTER (WHERE week = end_week) AS closing
                           FROM inventory JOIN e USING (retailer_id)
                           WHERE {inv_where} AND (week = ? OR week = end_week) GROUP BY ALL),
                     s AS (SELECT retailer_id, sku_id, sum(units) AS sell_in_units FROM sell_in
                           JOIN e USING (retailer_id)
                           WHERE {si_where} AND week <= end_week GROUP BY ALL),
                     o AS (SELECT retailer_id, sku_id, sum(units) AS sell_out_units FROM sell_out
                           JOIN e USING (retailer_id) WHERE {so_where} AND week <= end_week GROUP BY ALL)
                SELECT * FROM i FULL JOIN s USING (retailer_id, sku_id) FULL JOIN o USING (retailer_id, sku_id)""", p)
        finally:
            self.con.unregister("line_ends")


def _lines_in(lines: pd.DataFrame, params: list) -> str:
    """The given lines' retailers and SKUs (a superset of the pairs; the pairs are matched after)."""
    return (sql_in("retailer_id", sorted(set(lines["retailer_id"])), params)
            + sql_in("sku_id", sorted(set(lines["sku_id"])), params))


LISTING_SQL = """
    SELECT retailer_id, sku_id, min(week) AS listed FROM (
        SELECT retailer_id, sku_id, week FROM inventory WHERE on_hand_units > 0
        UNION ALL SELECT retailer_id, sku_id, week FROM sell_out WHERE units > 0) GROUP BY ALL"""

REPORTED_SQL = "SELECT DISTINCT retailer_id, week FROM sell_out"

LEDGER_SQL = """
    WITH listed AS (""" + LISTING_SQL + """),
         reported AS (""" + REPORTED_SQL + """),
         out AS (SELECT i.retailer_id, i.sku_id, i.week FROM inventory i JOIN listed l USING (retailer_id, sku_id)
                 WHERE i.on_hand_units = 0 AND i.week >= l.listed),
         prior AS (SELECT o.*, CAST(o.week - INTERVAL (7 * k) DAY AS DATE) AS earlier
                   FROM out o, (VALUES {offsets}) AS t(k)),
         prior_in AS (SELECT p.* FROM prior p JOIN inventory i ON i.retailer_id = p.retailer_id
                      AND i.sku_id = p.sku_id AND i.week = p.earlier WHERE i.on_hand_units > 0),
         wanted AS (SELECT * FROM prior_in UNION ALL SELECT *, week FROM out),
         sold AS (SELECT retailer_id, sku_id, week AS earlier, sum(units) AS units, sum(sales_value) AS value
                  FROM sell_out WHERE (retailer_id, sku_id, week) IN (SELECT retailer_id, sku_id, earlier FROM wanted)
                  GROUP BY ALL)
    SELECT w.retailer_id, w.sku_id, w.week,
           count(*) FILTER (WHERE w.earlier < w.week AND r.week IS NOT NULL) AS rate_weeks,
           coalesce(sum(s.units) FILTER (WHERE w.earlier < w.week AND r.week IS NOT NULL), 0) AS rate_units,
           coalesce(sum(s.value) FILTER (WHERE w.earlier < w.week AND r.week IS NOT NULL), 0) AS rate_value,
           coalesce(sum(s.units) FILTER (WHERE w.earlier = w.week AND r.week IS NOT NULL), 0) AS sold_units,
           coalesce(max(CASE WHEN w.earlier = w.week AND r.week IS NOT NULL THEN 1 END), 0) AS reported
    FROM wanted w LEFT JOIN sold s USING (retailer_id, sku_id, earlier)
    LEFT JOIN reported r ON r.retailer_id = w.retailer_id AND r.week = w.earlier GROUP BY ALL"""


# -- pandas -------------------------------------------------------------------------------------------------------
class PandasReads:
    """inventory.IbisReads in pandas, over DataFrames of the whole tables."""

    def __init__(self, tables: dict, ctx) -> None:
        self.t, self.ctx = tables, ctx

    def has(self, name: str) -> bool:
        return name in self.t and len(self.t[name]) > 0

    def retailers(self) -> pd.DataFrame:
        return self.t["retailers"]

    def products(self) -> pd.DataFrame:
        return self.t["products"]

    def _rows(self, name: str, lo: dt.date, hi: dt.date | None = None, retailer: str | None = None) -> pd.DataFrame:
        t = self.t[name]
        week = t["week"]
        mask = (week >= pd.Timestamp(lo)) & (week <= pd.Timestamp(self.ctx.last if hi is None else hi))
        for col, values in (("retailer_id", self.ctx.scope.retailer_ids), ("sku_id", self.ctx.scope.sku_ids)):
            if values is not None:
                mask &= t[col].isin(values)
        if retailer is not None:
            mask &= t["retailer_id"] == retailer
        return t[mask]

    def reported_weeks(self) -> pd.DataFrame:
        key = ("preported", id(self.t))
        if key not in _ONCE:
            _ONCE[key] = inv.finish_reported(self.t["sell_out"] if self.has("sell_out") else pd.DataFrame(
                {"retailer_id": pd.Series(dtype=str), "week": pd.Series(dtype="datetime64[s]")}))
        return _ONCE[key]

    def retailer_latest(self, table: str) -> dict:
        if not self.has(table):
            return {}
        latest = self.t[table].groupby("retailer_id")["week"].max()
        return {r: pd.Timestamp(w).date() for r, w in latest.items()}

    def listing(self) -> pd.DataFrame:
        key = ("plisting", id(self.t))
        if key not in _ONCE:
            inv_, so = self.t["inventory"], self.t["sell_out"]
            both = pd.concat([inv_.loc[inv_["on_hand_units"] > 0, [*KEYS, "week"]],
                              so.loc[so["units"] > 0, [*KEYS, "week"]]])
            _ONCE[key] = inv.finish_listing(both.groupby(KEYS, as_index=False)["week"].min().rename(
                columns={"week": "listed"}))
        return _ONCE[key]

    def ledger(self) -> pd.DataFrame:
        key = ("pledger", id(self.t))
        if key not in _ONCE:
            stock, so = self.t["inventory"], self.t["sell_out"]
            out = stock.loc[stock["on_hand_units"] == 0, [*KEYS, "week"]].merge(self.listing(), on=KEYS)
            out = out.loc[out["week"] >= out["listed"], [*KEYS, "week"]]
            prior = pd.concat([out.assign(earlier=out["week"] - k * WEEK) for k in range(1, inv.RATE_WEEKS + 1)])
            stocked = stock.loc[stock["on_hand_units"] > 0, [*KEYS, "week"]].rename(columns={"week": "earlier"})
            wanted = pd.concat([prior.merge(stocked, on=[*KEYS, "earlier"]), out.assign(earlier=out["week"])])
            sold = so.rename(columns={"week": "earlier"}).groupby([*KEYS, "earlier"], as_index=False)[
                ["units", "sales_value"]].sum()
            w = wanted.merge(sold, on=[*KEYS, "earlier"], how="left").fillna({"units": 0.0, "sales_value": 0.0})
            seen = self.reported_weeks().rename(columns={"week": "earlier"}).assign(seen=True)
            w = w.merge(seen, on=["retailer_id", "earlier"], how="left")
            seen = w["seen"].fillna(False).astype(bool)
            before = (w["earlier"] < w["week"]) & seen
            this = (w["earlier"] == w["week"]) & seen
            w = w.assign(rate_weeks=before.astype(int), rate_units=w["units"].where(before, 0.0),
                         rate_value=w["sales_value"].where(before, 0.0), sold_units=w["units"].where(this, 0.0),
                         reported=this.astype(int))
            _ONCE[key] = inv.finish_ledger(w.groupby([*KEYS, "week"], as_index=False).agg(
                rate_weeks=("rate_weeks", "sum"), rate_units=("rate_units", "sum"), rate_value=("rate_value", "sum"),
                sold_units=("sold_units", "sum"), reported=("reported", "max")))
        return _ONCE[key]

    def counted_weeks(self, keys: list[str]) -> pd.DataFrame:
        return self._rows("inventory", self.ctx.first).groupby(keys, as_index=False).size().rename(
            columns={"size": "counted_weeks"})

    def unlisted_zero_weeks(self) -> pd.DataFrame:
        key = ("punlisted", id(self.t))
        if key not in _ONCE:
            stock = self.t["inventory"]
            zero = stock.loc[stock["on_hand_units"] == 0, [*KEYS, "week"]].merge(self.listing(), on=KEYS, how="left")
            _ONCE[key] = inv.finish_weeks(zero[zero["listed"].isna() | (zero["week"] < zero["listed"])])
        return _ONCE[key]

    def positions(self, window: int, week: dt.date | None = None) -> pd.DataFrame:
        last = self.ctx.last if week is None else week
        previous, lo = last - WEEK, inv.lookback_start(last, window)
        stock = self._rows("inventory", lo, last)
        recent = stock[stock["week"] >= pd.Timestamp(previous)]
        parts = [recent.pivot_table(index=KEYS, columns="week", values="on_hand_units", aggfunc="max").reindex(
            columns=[pd.Timestamp(last), pd.Timestamp(previous)]).set_axis(["on_hand", "on_hand_previous"], axis=1)]
        so = self._rows("sell_out", lo, last)
        parts.append(so[so["week"] >= pd.Timestamp(previous)].groupby(KEYS)[["units"]].sum().rename(
            columns={"units": "sold_last_two"}))
        good = stock.loc[stock["on_hand_units"] > 0, [*KEYS, "week"]].merge(self.reported_weeks(),
                                                                           on=["retailer_id", "week"])
        sold = so.groupby([*KEYS, "week"], as_index=False)[["units", "sales_value"]].sum()
        good = good.merge(sold, on=[*KEYS, "week"], how="left").fillna({"units": 0.0, "sales_value": 0.0})
        good = good.sort_values([*KEYS, "week"], ascending=[True, True, False])
        good = good[good.groupby(KEYS).cumcount() < window]
        parts.append(good.groupby(KEYS).agg(cover_weeks=("week", "size"), units_window=("units", "sum"),
                                            value_window=("sales_value", "sum"), cover_from=("week", "min")))
        return pd.concat(parts, axis=1).reset_index()

    def recent_stock(self, week: dt.date) -> pd.DataFrame:
        previous = week - WEEK
        stock = self._rows("inventory", previous, week)
        so = self._rows("sell_out", previous, week)
        return pd.concat([stock.pivot_table(index=KEYS, columns="week", values="on_hand_units", aggfunc="max").reindex(
            columns=[pd.Timestamp(week), pd.Timestamp(previous)]).set_axis(["on_hand", "on_hand_previous"], axis=1),
                          so.groupby(KEYS)[["units"]].sum().rename(columns={"units": "sold_last_two"})],
                         axis=1).reset_index()

    def window_flows(self, weeks: pd.DataFrame) -> pd.DataFrame:
        parts = []
        for name, col in (("sell_in", "sell_in_units"), ("sell_out", "sell_out_units")):
            if self.has(name) and len(weeks):
                rows = self._rows(name, weeks["week"].min().date(), weeks["week"].max().date()).merge(
                    weeks, on=["retailer_id", "week"])
                parts.append(rows.groupby("retailer_id")["units"].sum().rename(col))
        if not parts:
            return pd.DataFrame({"retailer_id": [], "sell_in_units": [], "sell_out_units": []})
        return pd.concat(parts, axis=1).rename_axis("retailer_id").reset_index()

    def selling_history(self, silent: pd.DataFrame, week: dt.date) -> pd.DataFrame:
        end = week - inv.PHANTOM_ZERO_WEEKS * WEEK
        rows = self._rows("sell_out", end - (inv.PHANTOM_HISTORY_WEEKS - 1) * WEEK, end)
        rows = rows[rows["units"] > 0].merge(silent[KEYS], on=KEYS)
        return rows.groupby(KEYS, as_index=False).agg(selling_weeks=("week", "nunique"), units=("units", "sum"),
                                                      value=("sales_value", "sum"))

    def forward_demand(self, stock: pd.DataFrame, week: dt.date) -> pd.DataFrame:
        rows = self._rows("sell_out", *inv.forward_window(week)).merge(stock[KEYS].drop_duplicates(), on=KEYS)
        return rows.groupby([*KEYS, "week"], as_index=False)["units"].sum()

    def retailer_weeks(self, retailer_id: str, window: int) -> pd.DataFrame:
        lo = inv.lookback_start(self.ctx.first, window)
        parts = [self._rows(name, lo, retailer=retailer_id)[["sku_id", "week", src]].rename(columns={src: col})
                 for name, src, col in (("inventory", "on_hand_units", "on_hand"), ("sell_out", "units", "units"),
                                        ("sell_in", "units", "shipped"))]
        return pd.concat(parts).groupby(["sku_id", "week"], as_index=False).agg(
            on_hand=("on_hand", "max"), units=("units", "sum"), shipped=("shipped", "sum"))

    def line_flows(self, ends: pd.DataFrame) -> pd.DataFrame:
        opening = self.ctx.first - WEEK
        e = ends[["retailer_id", "end_week"]]
        stock = self._rows("inventory", opening).merge(e, on="retailer_id")
        closing = stock[stock["week"] == stock["end_week"]].groupby(KEYS)["on_hand_units"].max().rename("closing")
        opened = stock[stock["week"] == pd.Timestamp(opening)].groupby(KEYS)["on_hand_units"].max().rename("opening")
        parts = [opened, closing]
        for name, col in (("sell_in", "sell_in_units"), ("sell_out", "sell_out_units")):
            rows = self._rows(name, self.ctx.first).merge(e, on="retailer_id")
            parts.append(rows[rows["week"] <= rows["end_week"]].groupby(KEYS)["units"].sum().rename(col))
        return pd.concat(parts, axis=1).rename_axis(KEYS).reset_index()
