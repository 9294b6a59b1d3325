"""Every page on each real panel (Dominick's as 83 store accounts and as one chain of 83 stores, Walmart as one
chain of 45 stores), under AppTest: it runs, says how fresh the data is, and its figures equal SQL written here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kam_dash import fmt
from tests.app.conftest import app, metrics  # noqa: F401 - the AppTest opener fixture
from tests.ingest.dbcheck import rows

pytestmark = pytest.mark.realdata
ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))


def sql(db, query, *params):
    return rows(db, query, list(params))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_real_data(app, real_db, page):
    at = app(real_db, page=page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title
    (latest,) = sql(real_db, "SELECT max(week) FROM sell_out")[0]
    if page.endswith(("data.py", "users.py")):
        return  # admin pages: no freshness line of their own
    captions = " ".join(c.value for c in at.caption)
    assert f"Data through the week of **{latest:%d %b %Y}**" in captions


def test_dominicks_latest_week_is_the_panels_last(dominicks_db):
    # the panel's last DFF week (160) starts Thursday 1 Oct 1992: the week of Monday 28 Sep 1992
    assert sql(dominicks_db, "SELECT max(week) FROM sell_out")[0][0] == dt.date(1992, 9, 28)


@pytest.mark.parametrize("db_name", ["dominicks_db", "dominicks_chain_db"])
def test_portfolio_sell_out_tile_equals_sql(app, request, db_name):
    db = request.getfixturevalue(db_name)
    at = app(db, page="pages/portfolio.py", query={"period": "year", "year": "1991"})
    # 1991's weeks by Monday: 7 Jan .. 30 Dec 1991; the 83 store accounts and the one chain hold the same sales
    (total,) = sql(db, "SELECT sum(sales_value) FROM sell_out WHERE week BETWEEN ? AND ?",
                   "1991-01-07", "1991-12-30")[0]
    assert metrics(at)["Sell-out value"] == fmt.money(total)


def test_walmart_sell_out_tile_counts_returns(app, walmart_db):
    at = app(walmart_db, page="pages/portfolio.py", query={"period": "year", "year": "2011"})
    # returns are negative sell-out rows kept as delivered: the tile is the net of sales and returns
    (total, negative) = sql(walmart_db, "SELECT sum(sales_value), count(*) FILTER (WHERE sales_value < 0) "
                                        "FROM sell_out_store WHERE week BETWEEN ? AND ?", "2011-01-03", "2011-12-26")[0]
    assert negative > 0
    assert metrics(at)["Sell-out value"] == fmt.money(total)
