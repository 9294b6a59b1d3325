"""The Portfolio benchmark's SQL floor and pandas baseline compute the page's numbers (on the small demo)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from bench.pages import portfolio as bench
from bench.run import load_tables
from kam_dash import scope
from kam_dash.filters import Filters

VIEWS = [Filters(), Filters(period="l13w"), Filters(categories=("Snacks",)),
         Filters(period="l52w", retailers=("R001", "R003")), Filters(channels=("grocery",), brands=("Polar",))]
# health also reads availability, which the baselines only approximate (see the module's docstring)
COMPARED = ["retailer_id", "net_sales", "share", "yoy_growth", "margin_pct", "strategic_priority", "score", "tier"]


@pytest.fixture(scope="module")
def tables(small_db):
    return load_tables(small_db)  # every table as DataFrames, exactly as `make bench` feeds pandas


@pytest.mark.parametrize("filters", VIEWS, ids=lambda f: f.describe(None))
def test_sql_and_pandas_baselines_match_the_app(small_engine, small_db, tables, filters):
    latest = scope.latest_week(small_engine)
    app = bench.ibis_work(small_engine, filters)
    con = duckdb.connect(str(small_db), read_only=True)
    sql = bench.sql_work(con, filters, latest)
    con.close()
    pan = bench.pandas_work(tables, filters, latest)
    assert len(app) > 0
    for other in (sql, pan):
        pd.testing.assert_frame_equal(app[COMPARED].reset_index(drop=True), other[COMPARED].reset_index(drop=True),
                                      check_dtype=False, check_exact=False, rtol=1e-9)
