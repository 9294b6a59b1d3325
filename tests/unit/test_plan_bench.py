"""The benchmark's SQL floor and pandas baseline for Plan tracking compute the page's numbers."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from bench.pages import plan as bench
from bench.run import load_tables
from kam_dash import scope
from kam_dash.filters import Filters

CASES = [Filters(), Filters(period="l13w"), Filters(categories=("Snacks",)),
         Filters(period="l52w", retailers=("R001",)), Filters(brands=("Polar",)), Filters(channels=("grocery",))]


def three_ways(module, db, engine, filters):
    """A bench module's (app, SQL floor, pandas) results for one filter set on a demo database."""
    latest = scope.latest_week(engine)
    with duckdb.connect(str(db), read_only=True) as con:
        by_sql = module.sql_work(con, filters, latest)
    return module.ibis_work(engine, filters), by_sql, module.pandas_work(load_tables(db), filters, latest)


@pytest.mark.parametrize("filters", CASES, ids=lambda f: str(f.cache_key()))
def test_sql_and_pandas_match_the_app(small_db, small_engine, filters):
    app, by_sql, by_pandas = three_ways(bench, small_db, small_engine, filters)
    expected_r = app.retailers.sort_values("retailer_id").reset_index(drop=True)
    expected_c = app.categories.sort_values("category").reset_index(drop=True)
    assert len(expected_r) > 0
    for retailers_, categories_, steps in (by_sql, by_pandas):
        got_r = retailers_.sort_values("retailer_id").reset_index(drop=True)[expected_r.columns]
        pd.testing.assert_frame_equal(got_r, expected_r, check_dtype=False)
        got_c = categories_.sort_values("category").reset_index(drop=True)[expected_c.columns]
        pd.testing.assert_frame_equal(got_c, expected_c, check_dtype=False)
        assert list(steps["step"]) == list(app.waterfall["step"])
        assert steps["value"].to_numpy() == pytest.approx(app.waterfall["value"].to_numpy())
