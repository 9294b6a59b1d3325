"""Every export on the real panels: what can be computed is right by invariant and by SQL written here; what
needs a table the data lacks says so in words."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from kam_dash import export
from kam_dash.engine import DataError, DuckDBEngine
from kam_dash.filters import Filters

pytestmark = pytest.mark.realdata

EXPORTS = sorted(export.registry())
# Full year 1991: the only complete calendar year of the Dominick's panel (weeks 1990-06-11 .. 1992-09-28).
YEAR_1991 = Filters(period="year", year=1991)


@pytest.fixture(scope="module")
def engine(dominicks_db):
    eng = DuckDBEngine(dominicks_db)
    yield eng
    eng.close()


def sql(db, query, *params):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("name", EXPORTS)
@pytest.mark.parametrize("filters", [Filters(), YEAR_1991, Filters(period="l13w", retailers=("DFF002",))],
                         ids=["ytd", "year-1991", "one-store-l13w"])
def test_every_export_runs_or_names_what_is_missing(engine, name, filters):
    try:
        frame = export.compute(name, engine, filters)
    except (DataError, ValueError) as exc:
        # a clear reason in words, naming the table or the option needed
        assert any(word in str(exc) for word in ("not loaded", "needs", "retailer", "no ")), str(exc)
        return
    assert list(frame.columns) == list(export.registry()[name].columns)
    numbers = frame.select_dtypes("number")
    assert not np.isinf(numbers.to_numpy(dtype=float)).any(), f"{name} has infinite values"


def test_revenue_share_sums_to_one_on_sell_out(engine, dominicks_db):
    frame = export.compute("revenue-share", engine, YEAR_1991)
    assert len(frame) > 0
    shares = [c for c in frame.columns if c.endswith("share") and not c.startswith("cum")]
    for col in shares:
        total = frame[col].sum(skipna=True)
        if total:
            assert total == pytest.approx(1.0, abs=1e-9), col


def test_no_growth_against_weeks_that_are_not_there(engine, dominicks_db):
    """1991 vs 1990: the panel starts 11 Jun 1990, so a store's 1991 weeks before June have no last year to be
    compared with; sell-out growth must use only weeks both years reported (never a -100% or a jump)."""
    frame = export.compute("revenue-share", engine, YEAR_1991)
    growth_cols = [c for c in frame.columns if "growth" in c]
    for col in growth_cols:
        values = frame[col].dropna()
        assert (values > -1.0).all(), f"{col}: a -100% growth means a missing week read as zero"
    # SQL worked here: for store DFF002, the weeks of 1991 it reported whose week 364 days earlier it also reported
    pairs = sql(dominicks_db, """
        WITH w AS (SELECT DISTINCT week FROM sell_out WHERE retailer_id = 'DFF002')
        SELECT count(*) FROM w a JOIN w b ON b.week = a.week - INTERVAL 364 DAY
        WHERE year(a.week) = 1991""")[0][0]
    assert 0 < pairs < 52
