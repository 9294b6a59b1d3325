"""The Account review benchmark's SQL floor and pandas baseline compute the page's numbers (small demo)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from bench.pages import account_review as bench
from kam_dash import scope
from kam_dash.filters import Filters
from tests.unit.test_portfolio_bench import tables  # noqa: F401 - the demo tables as DataFrames

VIEWS = [Filters(), Filters(period="l13w", retailers=("R005",)), Filters(categories=("Snacks", "Soups")),
         Filters(period="l52w", retailers=("R003",)), Filters(period="year", year=2025, retailers=("R002",))]


def close(a, b) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("filters", VIEWS, ids=lambda f: f.describe(None))
def test_sql_and_pandas_baselines_match_the_app(small_engine, small_db, tables, filters):
    latest = scope.latest_week(small_engine)
    app = bench.ibis_work(small_engine, filters)
    con = duckdb.connect(str(small_db), read_only=True)
    sql = bench.sql_work(con, filters, latest)
    con.close()
    pan = bench.pandas_work(tables, filters, latest)
    skus = app.skus.set_index("sku_id").sort_index()
    for base in (sql, pan):
        si = base["sell_in_by_sku"].set_index("sku_id").sort_index()
        si.loc[~si["has_cy"].astype(bool), "net_sales"] = np.nan
        si.loc[~si["has_ly"].astype(bool), "net_sales_ly"] = np.nan
        shipped = skus.dropna(subset=["net_sales", "net_sales_ly"], how="all")
        assert list(shipped.index) == list(si.index)
        close(shipped["net_sales"], si["net_sales"])
        close(shipped["net_sales_ly"], si["net_sales_ly"])
        so = base["sell_out_by_sku"].groupby("sku_id")["value"].sum()
        close(skus["sell_out_value"].dropna().sort_index(), so[so.index.isin(skus["sell_out_value"].dropna().index)])
        close([app.kpis["net_sales_target"] or 0.0], [base["target"]["target"].sum()])
        weeks = base["sell_in_weeks"].assign(week=pd.to_datetime(base["sell_in_weeks"]["week"])).set_index("week")
        pipe = app.pipeline.set_index("week")
        close(pipe.loc[weeks.index, "sell_in_units"], weeks["units"])
        out_units = base["sell_out_weeks"].assign(week=pd.to_datetime(base["sell_out_weeks"]["week"])) \
            .groupby("week")["units"].sum()
        close(pipe.loc[out_units.index, "sell_out_units"], out_units)
        cats = base["categories"].set_index("category").sort_index()
        ws = app.white_space.set_index("category").sort_index()
        close(ws["retailer_sales"], cats["retailer_sales"])
        close(ws["portfolio_share"], cats["portfolio_sales"] / cats["portfolio_sales"].sum())
        monthly = base["monthly"].set_index("month")
        mine = app.monthly.set_index("month")
        done = mine["actual"].dropna().index
        close(mine.loc[done, "actual"], monthly["actual"].reindex(done).fillna(0.0))
        close(mine["last_year"].fillna(0.0), monthly["last_year"].reindex(mine.index).fillna(0.0))
        close(mine["target"].fillna(0.0), monthly["target"].reindex(mine.index).fillna(0.0))
