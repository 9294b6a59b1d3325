"""The benchmark's SQL floor and pandas baseline compute the same Promotions page as the app."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from bench.pages import promotions as bench_page
from bench.run import load_tables
from kam_dash import scope
from kam_dash.filters import Filters
from kam_dash.metrics import promotions as promo

VIEWS = [Filters(), Filters(period="l52w", retailers=("R001",)), Filters(categories=("Snacks",)),
         Filters(period="custom", start=dt.date(2023, 1, 1), end=dt.date(2026, 12, 31))]
COLUMNS = ["promo_id", "clean_weeks", "baseline_units", "actual_units", "lift_pct", "post_dip_units",
           "net_price", "roi", "flag"]


@pytest.fixture(scope="module")
def sources(small_db):
    con = duckdb.connect(str(small_db), read_only=True)
    yield con, load_tables(small_db)
    con.close()


@pytest.mark.parametrize("filters", VIEWS, ids=["ytd", "retailer-l52w", "category", "all"])
def test_sql_and_pandas_baselines_match_the_app(small_engine, sources, filters):
    con, tables = sources
    latest = scope.latest_week(small_engine)
    app = bench_page.ibis_work(small_engine, filters)
    assert len(app.events) > 0
    for other in (bench_page.sql_work(con, filters, latest), bench_page.pandas_work(tables, filters, latest)):
        pd.testing.assert_frame_equal(other.events[COLUMNS].reset_index(drop=True),
                                      app.events[COLUMNS].reset_index(drop=True), check_dtype=False)
        # The app reads each event's lift from the derived table and its weeks one event at a time.
        for promo_id in app.events["promo_id"].iloc[[0, -1]]:
            pd.testing.assert_frame_equal(other.weeks[other.weeks["promo_id"] == promo_id].reset_index(drop=True),
                                          promo.event_weeks(small_engine, filters, promo_id), check_dtype=False)
        assert other.kpis == pytest.approx(app.kpis, nan_ok=True)
