"""Store-level POS on real panels: Dominick's orange juice as ONE retailer with its 83 stores, and Walmart's
store x department file as one retailer "Walmart" with 45 stores. Distribution and velocity are checked
against SQL written here, and the chain rows against the sum of the stores."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from kam_dash import export
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.metrics import stores

DFF_WEEKS = Filters(period="custom", start=dt.date(1990, 6, 11), end=dt.date(1992, 9, 28))
WALMART_WEEKS = Filters(period="custom", start=dt.date(2010, 2, 1), end=dt.date(2012, 10, 22))

# Per SKU and week: stores that sent any row (open) and stores with units (or value) above 0 (selling).
DISTRIBUTION_SQL = """
WITH open_stores AS (SELECT retailer_id, week, count(DISTINCT store_id) AS stores_open
                     FROM sell_out_store GROUP BY retailer_id, week),
     selling AS (SELECT retailer_id, sku_id, week, count(*) AS stores_selling, sum(units) AS units
                 FROM sell_out_store WHERE coalesce(units, sales_value) > 0 GROUP BY retailer_id, sku_id, week)
SELECT s.retailer_id, s.sku_id, s.week, o.stores_open, s.stores_selling,
       s.stores_selling / o.stores_open AS numeric_distribution, s.units / s.stores_selling AS velocity
FROM selling s JOIN open_stores o USING (retailer_id, week) ORDER BY s.sku_id, s.week
"""


def by_sql(db) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        frame = con.execute(DISTRIBUTION_SQL).df()
    finally:
        con.close()
    frame["week"] = pd.to_datetime(frame["week"])
    return frame


@pytest.fixture()
def dff_db(dominicks_chain_db):
    return dominicks_chain_db  # built once per run (tests/realdata/conftest.py)


def test_dominicks_is_one_retailer_with_83_stores(dff_db):
    con = duckdb.connect(str(dff_db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM retailers").fetchone()[0] == 1
        assert con.execute("SELECT count(*), count(DISTINCT retailer_id) FROM stores").fetchone() == (83, 1)
        # the chain rows are the stores' sum, week by week and brand by brand
        diff = con.execute("""
            SELECT count(*) FROM sell_out c FULL JOIN (
                SELECT week, sku_id, sum(units) AS units, sum(sales_value) AS value,
                       count(*) FILTER (WHERE units > 0) AS selling
                FROM sell_out_store GROUP BY week, sku_id) s USING (week, sku_id)
            WHERE c.units IS DISTINCT FROM s.units OR abs(c.sales_value - s.value) > 0.005
               OR c.stores_selling IS DISTINCT FROM s.selling""").fetchone()[0]
        assert diff == 0
    finally:
        con.close()


def test_dominicks_distribution_and_velocity_match_sql(dff_db):
    engine = DuckDBEngine(dff_db)
    try:
        ours = export.compute("distribution", engine, DFF_WEEKS)
    finally:
        engine.close()
    ours = ours[ours["stores_selling"] > 0].sort_values(["sku_id", "week"]).reset_index(drop=True)
    sql = by_sql(dff_db)
    assert len(ours) == len(sql) > 3 * 100  # 3 brands x about 115 weeks
    assert ours["stores_open"].tolist() == sql["stores_open"].tolist()
    assert ours["stores_selling"].tolist() == sql["stores_selling"].tolist()
    np.testing.assert_allclose(ours["numeric_distribution"], sql["numeric_distribution"], rtol=1e-12)
    np.testing.assert_allclose(ours["velocity"], sql["velocity"], rtol=1e-12)
    # no store has open or close dates here, so %ACV with every weight 1 is numeric distribution
    np.testing.assert_allclose(ours["acv_distribution"], ours["numeric_distribution"], rtol=1e-12)
    assert ours["stores_open"].max() <= 83


def test_dominicks_store_table_and_voids_run(dff_db):
    engine = DuckDBEngine(dff_db)
    try:
        table = export.compute("stores", engine, Filters(period="year", year=1992))
        voids = export.compute("voids", engine, DFF_WEEKS)
        period = stores.resolve(engine, Filters(period="year", year=1992)).period  # the weeks with a 1992 Monday
    finally:
        engine.close()
    con = duckdb.connect(str(dff_db), read_only=True)
    try:
        value = dict(con.execute("SELECT store_id, sum(sales_value) FROM sell_out_store WHERE week BETWEEN ? AND ? "
                                 "GROUP BY store_id", [period.start, period.end]).fetchall())
    finally:
        con.close()
    assert len(table) == len(value)
    np.testing.assert_allclose(table.set_index("store_id")["sell_out"].sort_index(),
                               pd.Series(value).sort_index(), rtol=1e-9)
    # Orange juice sells in nearly every store every week: whatever voids are found are store x brand runs of
    # at least 4 weeks in which the store sold none while most stores did.
    assert (voids["weeks"] >= stores.VOID_WEEKS).all()


def test_walmart_stores_as_one_retailer(walmart_db):
    db = walmart_db
    engine = DuckDBEngine(db)
    try:
        ours = export.compute("distribution", engine, WALMART_WEEKS)
        ranked = export.compute("stores", engine, Filters(period="year", year=2011))
    finally:
        engine.close()
    ours = ours[ours["stores_selling"] > 0].sort_values(["sku_id", "week"]).reset_index(drop=True)
    sql = by_sql(db)
    assert sql["stores_open"].max() == 45
    assert ours["stores_selling"].tolist() == sql["stores_selling"].tolist()
    np.testing.assert_allclose(ours["numeric_distribution"], sql["numeric_distribution"], rtol=1e-12)
    assert ours["velocity"].isna().all()  # value only: no units, so no units per store
    assert len(ranked) == 45 and ranked["rank"].min() == 1
