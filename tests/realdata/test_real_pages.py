"""Every page on the real Dominick's panel (83 store accounts, sell-out and promotions only), under AppTest."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from kam_dash import fmt
from tests.app.conftest import app, metrics  # noqa: F401 - the AppTest opener fixture

pytestmark = pytest.mark.realdata
ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))


def sql(db, query, *params):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_real_data(app, dominicks_db, page):
    at = app(dominicks_db, page=page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title
    captions = " ".join(c.value for c in at.caption)
    # the panel's last DFF week (160) starts Thursday 1 Oct 1992: the week of Monday 28 Sep 1992
    assert "Data through the week of **28 Sep 1992**" in captions


def test_portfolio_sell_out_tile_equals_sql(app, dominicks_db):
    at = app(dominicks_db, page="pages/portfolio.py", query={"period": "year", "year": "1991"})
    # 1991's weeks by Monday: 7 Jan .. 30 Dec 1991
    (total,) = sql(dominicks_db, "SELECT sum(sales_value) FROM sell_out WHERE week BETWEEN ? AND ?",
                   "1991-01-07", "1991-12-30")[0]
    assert metrics(at)["Sell-out value"] == fmt.money(total)
