"""The Inventory benchmark's SQL floor and pandas baseline give the page the app shows (on the small demo)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from bench.pages import inventory as bench
from bench.run import load_tables
from kam_dash import scope
from kam_dash.filters import Filters

VIEWS = [Filters(), Filters(period="l13w"), Filters(categories=("Snacks",)),
         Filters(period="l52w", retailers=("R001", "R003")), Filters(channels=("grocery",), brands=("Polar",))]
FRAMES = ["retailers", "out_of_stock", "low_cover", "phantom", "overstock", "forward_buy", "heatmap", "trend",
          "reconciliation", "reconciliation_lines"]


@pytest.fixture(scope="module")
def tables(small_db):
    return load_tables(small_db)  # every table as DataFrames, exactly as `make bench` feeds pandas


def same(a: pd.DataFrame, b: pd.DataFrame, name: str) -> None:
    assert list(a.columns) == list(b.columns), name
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    for col in a.columns:
        if pd.api.types.is_numeric_dtype(a[col]) or pd.api.types.is_bool_dtype(a[col]):
            pd.testing.assert_series_equal(a[col].astype(float), b[col].astype(float), check_exact=False, rtol=1e-9,
                                           obj=f"{name}.{col}")
        else:
            assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), f"{name}.{col}"


@pytest.mark.parametrize("filters", VIEWS, ids=lambda f: f.describe(None))
def test_sql_and_pandas_baselines_give_the_page(small_engine, small_db, tables, filters):
    latest = scope.latest_week(small_engine)
    app = bench.ibis_work(small_engine, filters)
    con = duckdb.connect(str(small_db), read_only=True)
    try:
        sql = bench.sql_work(con, filters, latest)
    finally:
        con.close()
    pan = bench.pandas_work(tables, filters, latest)
    assert app.has_inventory and len(app.retailers) > 0 and len(app.trend) > 0
    for other in (sql, pan):
        assert other.kpis == pytest.approx(app.kpis)
        assert (other.retailer, other.band, other.first, other.last) == (app.retailer, app.band, app.first, app.last)
        for name in FRAMES:
            same(getattr(app, name), getattr(other, name), name)
