"""The Inventory benchmark's SQL floor and pandas baseline give the page the app shows (on the small demo)."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pandas as pd
import pytest

from bench.pages import inventory as bench
from bench.run import load_tables
from kam_dash import scope
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters

VIEWS = [Filters(), Filters(period="l13w"), Filters(categories=("Snacks",)),
         Filters(period="l52w", retailers=("R001", "R003")), Filters(channels=("grocery",), brands=("Polar",))]
FRAMES = ["retailers", "out_of_stock", "low_cover", "phantom", "overstock", "too_few_weeks", "forward_buy", "heatmap",
          "trend", "reconciliation", "reconciliation_lines"]


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


@pytest.fixture(scope="module")
def messy_db(small_db, tmp_path_factory):
    """The small demo with more real-feed mess: R001's sell-out lags a week, R002 misses a week of POS mid-period,
    R003 has no sell-in at all (sell-out only), R004's stock counts lag a week."""
    path = tmp_path_factory.mktemp("messy") / "messy.duckdb"
    shutil.copy(small_db, path)
    con = duckdb.connect(str(path))
    try:
        latest = con.execute("SELECT max(week) FROM sell_out").fetchone()[0]
        con.execute("DELETE FROM sell_out WHERE retailer_id = 'R001' AND week = ?", [latest])
        con.execute("DELETE FROM sell_out WHERE retailer_id = 'R002' AND week = ?", [latest - dt.timedelta(weeks=3)])
        con.execute("DELETE FROM sell_in WHERE retailer_id = 'R003'")
        con.execute("DELETE FROM inventory WHERE retailer_id = 'R004' AND week = ?", [latest])
    finally:
        con.close()
    return path


def agree(engine, path, tables, filters):
    latest = scope.latest_week(engine)
    # the baselines keep per-database results by the id of a connection or dict of tables, and a closed one's id
    # can come back for another database: start each comparison afresh
    bench._ONCE.clear()
    app = bench.ibis_work(engine, filters)
    con = duckdb.connect(str(path), read_only=True)
    try:
        sql = bench.sql_work(con, filters, latest)
    finally:
        con.close()
    pan = bench.pandas_work(tables, filters, latest)
    return app, sql, pan


def test_the_baselines_agree_on_lagging_missing_and_sell_out_only_data(messy_db):
    engine = DuckDBEngine(messy_db)
    try:
        for filters in (Filters(), Filters(retailers=("R001", "R002", "R003", "R004"))):
            app, sql, pan = agree(engine, messy_db, load_tables(messy_db), filters)
            assert app.sell_out_only and any("unreported" in n for n in app.notes)
            assert any(n.startswith("Positions of") for n in app.notes)
            for other in (sql, pan):
                assert other.kpis == pytest.approx(app.kpis)
                assert (other.notes, other.sell_out_only, other.at, other.forward_buy_notes) == (
                    app.notes, app.sell_out_only, app.at, app.forward_buy_notes)
                for name in FRAMES:
                    same(getattr(app, name), getattr(other, name), name)
    finally:
        engine.close()


@pytest.mark.parametrize("filters", VIEWS, ids=lambda f: f.describe(None))
def test_sql_and_pandas_baselines_give_the_page(small_engine, small_db, tables, filters):
    app, sql, pan = agree(small_engine, small_db, tables, filters)
    assert app.has_inventory and len(app.retailers) > 0 and len(app.trend) > 0
    for other in (sql, pan):
        assert other.kpis == pytest.approx(app.kpis)
        assert (other.retailer, other.band, other.first, other.last, other.at) == (
            app.retailer, app.band, app.first, app.last, app.at)
        assert (other.notes, other.sell_out_only, other.forward_buy_notes) == (
            app.notes, app.sell_out_only, app.forward_buy_notes)
        for name in FRAMES:
            same(getattr(app, name), getattr(other, name), name)
