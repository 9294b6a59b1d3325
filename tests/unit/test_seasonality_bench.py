"""The benchmark's SQL floor and pandas baseline for Seasonality compute the page's numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.pages import seasonality as bench
from kam_dash.filters import Filters
from tests.unit.test_plan_bench import three_ways

CASES = [Filters(), Filters(categories=("Snacks", "Soups")), Filters(period="l52w", retailers=("R002",)),
         Filters(brands=("Polar",)), Filters(channels=("grocery",))]


@pytest.mark.parametrize("filters", CASES, ids=lambda f: str(f.cache_key()))
def test_sql_and_pandas_match_the_app(small_db, small_engine, filters):
    app, by_sql, by_pandas = three_ways(bench, small_db, small_engine, filters)
    assert len(app.index) > 0
    portfolio = app.comparison[app.comparison["series"] == "Portfolio"].reset_index(drop=True)
    focus = app.comparison[app.comparison["series"] != "Portfolio"].reset_index(drop=True)
    for index, peaks, portfolio_, focus_, phasing, stl in (by_sql, by_pandas):
        pd.testing.assert_frame_equal(index.reset_index(drop=True), app.index.reset_index(drop=True),
                                      check_dtype=False)
        pd.testing.assert_frame_equal(peaks, app.peaks, check_dtype=False)
        assert portfolio_["index"].to_numpy() == pytest.approx(portfolio["index"].to_numpy())
        assert focus_["index"].to_numpy() == pytest.approx(focus["index"].to_numpy())
        if app.phasing_measure:
            assert np.asarray(phasing) == pytest.approx(app.phasing["plan_index"].to_numpy())
        assert stl["trend"].to_numpy() == pytest.approx(app.stl["trend"].to_numpy())
