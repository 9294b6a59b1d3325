"""Store-row summaries computed once per data version (at import and when the demo is written), so the
Distribution & stores page does not read hundreds of millions of store rows per view.

Each summary is what a view would compute from the store rows and does not depend on the view: filters pick its
rows (retailers, SKUs, weeks) and never change a row's value.
- store_summary_open: the open store-weeks (retailer_id, store_id, week, acv_weight, format), the stores table's
  open and close dates applied;
- store_summary_selling: per retailer x SKU x week, stores selling, their acv, units and rows with units
  (store rows with a sale, in open store-weeks);
- store_summary_comparable: per retailer x comparable format (each store's own and "all formats") x SKU x week,
  units and stores selling;
- store_summary_void_rows: the sale rows of the store x SKU pairs that may hold a void (`VOID_WEEKS`,
  `VOID_CHANCE`): a gap after a sale long enough in open weeks, and in expected units at the SKU's best week,
  over all weeks loaded. A view's void gaps lie inside these (a view reads fewer weeks: its gaps are no longer
  and its best week no better), so `find_voids` on these rows finds every void of any view;
- store_summary_value: sell-out value per store x week (all its sale rows, open week or not, as the store
  table sums them), for the store table of views without a SKU filter.
Only DuckDB holds them; without them (Spark, an older file) the metrics compute the same from the store rows.

Never stale: `store_summary_stamp` records the fingerprint of the store rows and stores they came from and the
code version of this module and the void rule (as kam_dash.derived does for its tables). An engine reads the
summaries only when the stamp matches the file it opened (checked once per engine); a file whose store rows
were changed outside kam-dash is read from its store rows until `kam-dash derive` or the next import.
"""

from __future__ import annotations

import json
import math

import duckdb

from kam_dash import stamps

PREFIX = "store_summary_"
NAMES = ("open", "selling", "comparable", "void_rows", "value")
BATCH_ROWS = 20_000_000  # store rows per slice of the void gaps (a window sorts them)
ALL_FORMATS = "(all formats)"  # kam_dash.metrics.stores.ALL_FORMATS (that module imports Ibis; this one SQL only)


def _exact_sum(column: str) -> str:
    """A sum that does not depend on the order rows arrive in (a double's does, in its last bits): the same
    file from the same rows, whichever thread summed what."""
    return f"sum({column}::DECIMAL(38, 10))::DOUBLE"


STAMP = PREFIX + "stamp"
SOURCES = ("sell_out_store", "stores")  # the base tables the summaries read
_CODE = ("store_summary.py", "metrics/stores.py")  # the summaries' SQL and the void rule's constants


def table_name(name: str) -> str:
    return PREFIX + name


def code_version() -> str:
    """A hash of the source of the modules that decide the summaries' values."""
    return stamps.code_version(_CODE)


def stamp(con: duckdb.DuckDBPyConnection) -> str:
    return json.dumps({"code": code_version(), "bases": stamps.row_fingerprint(con, SOURCES)}, sort_keys=True)


def _present(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                      "'main' AND table_catalog = current_database()").fetchall()}


def _has_store_rows(con: duckdb.DuckDBPyConnection, present: set[str]) -> bool:
    return set(SOURCES) <= present and con.execute("SELECT count(*) FROM main.sell_out_store").fetchone()[0] > 0


def usable(con: duckdb.DuckDBPyConnection) -> bool:
    """The file holds every summary and they were built from its store rows by this code."""
    present = _present(con)
    if not ({table_name(n) for n in NAMES} | {STAMP}) <= present:
        return False
    row = con.execute(f"SELECT stamp FROM main.{STAMP}").fetchone()
    return row is not None and row[0] == stamp(con)


def current(con: duckdb.DuckDBPyConnection) -> bool:
    """Nothing to rebuild: the summaries are usable, or there are no store rows to summarise."""
    return not _has_store_rows(con, _present(con)) or usable(con)


def build(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)write the summaries from sell_out_store and stores in `con`; drop them when there are no store rows."""
    from kam_dash.metrics.stores import VOID_CHANCE, VOID_WEEKS  # the void rule's one definition

    void_weeks, void_chance = VOID_WEEKS, VOID_CHANCE
    for name in (*NAMES, "stamp"):
        con.execute(f"DROP TABLE IF EXISTS main.{table_name(name)}")
    if not _has_store_rows(con, _present(con)):
        return
    con.execute(f"""
        CREATE TABLE main.{table_name('open')} AS
        SELECT w.retailer_id, w.store_id, w.week, coalesce(st.acv_weight, 1.0)::DOUBLE AS acv_weight, st.format
        FROM (SELECT DISTINCT retailer_id, store_id, week FROM main.sell_out_store) w
        LEFT JOIN main.stores st USING (store_id)
        WHERE (st.open_date IS NULL OR st.open_date <= w.week + 6)
          AND (st.close_date IS NULL OR st.close_date >= w.week)
        ORDER BY w.week, w.retailer_id""")
    sales = ("(SELECT s.week, s.retailer_id, s.store_id, s.sku_id, s.units, s.sales_value, o.acv_weight, o.format "
             f"FROM main.sell_out_store s JOIN main.{table_name('open')} o USING (store_id, week) "
             "WHERE coalesce(s.units, s.sales_value) > 0)")
    con.execute(f"""
        CREATE TABLE main.{table_name('selling')} AS
        SELECT retailer_id, sku_id, week, count(*) AS stores_selling, {_exact_sum('acv_weight')} AS acv_selling,
               {_exact_sum('units')} AS units, count(units) AS with_units
        FROM {sales} GROUP BY ALL ORDER BY week, retailer_id, sku_id""")
    con.execute(f"""
        CREATE TABLE main.{table_name('comparable')} AS
        SELECT retailer_id, fmt, sku_id, week, {_exact_sum('units')} AS units, count(*) AS n_selling
        FROM (SELECT retailer_id, format AS fmt, sku_id, week, units FROM {sales} WHERE format IS NOT NULL
              UNION ALL SELECT retailer_id, $all AS fmt, sku_id, week, units FROM {sales})
        GROUP BY ALL ORDER BY week, retailer_id, sku_id""", {"all": ALL_FORMATS})
    con.execute(f"""
        CREATE TABLE main.{table_name('value')} AS
        SELECT retailer_id, store_id, week, {_exact_sum('sales_value')} AS sales_value FROM main.sell_out_store
        WHERE coalesce(units, sales_value) > 0 GROUP BY ALL ORDER BY week""")
    # The gaps need each store x SKU's sales in week order (a window over every sale row): done a slice of stores
    # at a time (about BATCH_ROWS rows each), so the sort fits in memory instead of spilling the whole table.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE kam_ordinal AS
        SELECT store_id, week, row_number() OVER (PARTITION BY store_id ORDER BY week) AS ord,
               count(*) OVER (PARTITION BY store_id) AS last_ord
        FROM main.{table_name('open')}""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE kam_reach AS
        WITH store_of AS (SELECT store_id, retailer_id, max(acv_weight) AS acv, coalesce(max(format), $all) AS fmt
                          FROM main.{table_name('open')} GROUP BY ALL),
        comp_open AS (SELECT retailer_id, fmt, week, sum(acv_weight) AS acv_open
                      FROM (SELECT retailer_id, format AS fmt, week, acv_weight FROM main.{table_name('open')}
                            WHERE format IS NOT NULL
                            UNION ALL SELECT retailer_id, $all, week, acv_weight FROM main.{table_name('open')})
                      GROUP BY ALL),
        best AS (SELECT retailer_id, fmt, sku_id, max(coalesce(units, 0) / acv_open) AS best
                 FROM main.{table_name('comparable')} JOIN comp_open USING (retailer_id, fmt, week) GROUP BY ALL)
        -- per store x SKU: the open weeks a gap needs to expect -ln(void_chance) units at the SKU's best week
        SELECT s.store_id, b.sku_id, greatest($weeks, $expected / nullif(b.best * s.acv, 0)) AS needed
        FROM store_of s JOIN best b USING (retailer_id, fmt)""", {"all": ALL_FORMATS, "weeks": void_weeks,
                                                               "expected": -math.log(void_chance)})
    con.execute(f"""
        CREATE TABLE main.{table_name('void_rows')} (week DATE, retailer_id VARCHAR, store_id VARCHAR,
                                                     sku_id VARCHAR, units DOUBLE, sales_value DOUBLE)""")
    rows = con.execute("SELECT count(*) FROM main.sell_out_store").fetchone()[0]
    slices = max(1, math.ceil(rows / BATCH_ROWS))
    for i in range(slices):
        con.execute(f"""
            INSERT INTO main.{table_name('void_rows')}
            WITH slice AS (SELECT * FROM main.sell_out_store WHERE hash(store_id) % $n = $i
                           AND coalesce(units, sales_value) > 0),
            gaps AS (
                SELECT s.store_id, s.sku_id,
                       coalesce(lead(o.ord) OVER (PARTITION BY s.store_id, s.sku_id ORDER BY s.week), o.last_ord + 1)
                       - o.ord - 1 AS gap
                FROM (SELECT DISTINCT store_id, sku_id, week FROM slice) s JOIN kam_ordinal o USING (store_id, week)),
            pairs AS (SELECT DISTINCT g.store_id, g.sku_id FROM gaps g JOIN kam_reach r USING (store_id, sku_id)
                      WHERE r.needed IS NOT NULL AND g.gap >= r.needed)
            SELECT s.week, s.retailer_id, s.store_id, s.sku_id, s.units, s.sales_value
            FROM slice s SEMI JOIN pairs USING (store_id, sku_id)""", {"n": slices, "i": i})
    con.execute("DROP TABLE kam_ordinal")
    con.execute("DROP TABLE kam_reach")
    con.execute(f"CREATE TABLE main.{STAMP} AS SELECT $stamp::VARCHAR AS stamp", {"stamp": stamp(con)})
