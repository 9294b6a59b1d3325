"""Every export on each real panel: what can be computed holds its invariants and equals SQL written here; what
needs a table the panel lacks says which, in words."""

from __future__ import annotations

import numpy as np
import pytest

from kam_dash import export
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from tests.ingest.dbcheck import rows

pytestmark = pytest.mark.realdata

EXPORTS = sorted(n for n in export.registry() if n != "account-plan")  # that one reads the plan database
VIEWS = {"ytd": Filters(), "l13w": Filters(period="l13w"), "l52w": Filters(period="l52w")}


@pytest.fixture()
def engine(real_db):
    eng = DuckDBEngine(real_db)
    yield eng
    eng.close()


def sql(db, query, *params):
    return rows(db, query, list(params))


def one_retailer(engine) -> str:
    return sorted(engine.execute(engine.table("retailers").select("retailer_id"))["retailer_id"])[0]


@pytest.mark.parametrize("name", EXPORTS)
@pytest.mark.parametrize("view", list(VIEWS))
def test_every_export_runs_or_names_what_is_missing(engine, name, view):
    reason = export.lacking(name, engine)
    if reason is not None:
        assert "not loaded" in reason and name in reason
        return
    filters = VIEWS[view]
    if name in ("pipeline", "white-space"):  # about one retailer
        filters = filters.with_(retailers=(one_retailer(engine),))
    frame = export.compute(name, engine, filters)
    assert list(frame.columns) == list(export.registry()[name].columns)
    numbers = frame.select_dtypes("number").to_numpy(dtype=float)
    assert not np.isinf(numbers).any(), f"{name} has infinite values"


def test_revenue_share_is_on_sell_out_and_sums_to_one(engine, real_db):
    frame = export.compute("revenue-share", engine, Filters(period="l52w"))
    assert len(frame) > 0
    assert set(frame["basis"]) == {"sell_out"}  # no sell-in in any real panel: one basis, named
    assert frame["share"].sum() == pytest.approx(1.0, abs=1e-9)
    # shares are of sell-out value: SQL over the 52 weeks up to the latest week
    (latest,) = sql(real_db, "SELECT max(week) FROM sell_out")[0]
    rows = dict(sql(real_db, "SELECT retailer_id, sum(sales_value) FROM sell_out "
                             "WHERE week BETWEEN ? - INTERVAL 357 DAY AND ? GROUP BY 1", latest, latest))
    total = sum(rows.values())
    got = dict(zip(frame["retailer_id"], frame["share"]))
    for rid, value in rows.items():
        assert got[rid] == pytest.approx(value / total, rel=1e-9)


def test_no_growth_against_weeks_that_are_not_there(dominicks_db):
    """1991 vs 1990: the panel starts 11 Jun 1990 and stores skip weeks, so sell-out growth may use only weeks both
    years reported: never -100% (a missing week read as zero) and, for one store, exactly the SQL pairs."""
    eng = DuckDBEngine(dominicks_db)
    try:
        frame = export.compute("revenue-share", eng, Filters(period="year", year=1991)).set_index("retailer_id")
    finally:
        eng.close()
    growth = frame["yoy_growth"].dropna()
    assert len(growth) > 0 and (growth > -1.0).all()
    # SQL worked here for store DFF002: the 1991 weeks it reported whose week 364 days earlier it also reported
    this, last = sql(dominicks_db, """
        WITH w AS (SELECT week, sum(sales_value) AS v FROM sell_out WHERE retailer_id = 'DFF002' GROUP BY week)
        SELECT sum(a.v), sum(b.v) FROM w a JOIN w b ON b.week = a.week - INTERVAL 364 DAY
        WHERE a.week BETWEEN '1991-01-07' AND '1991-12-30'""")[0]
    assert frame.loc["DFF002", "yoy_growth"] == pytest.approx(this / last - 1, rel=1e-9)
