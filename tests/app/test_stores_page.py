"""The Distribution & stores page under AppTest: its tiles and tables are what the metrics compute, it follows
the shared filters from the URL, and says plainly when no store data is loaded."""

from __future__ import annotations

from kam_dash import fmt
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.metrics import stores
from tests.app.conftest import metrics
from tests.app.test_portfolio_page import assert_nothing_missing_shown
from tests.conftest import make_db
from tests.unit.test_stores import PRODUCTS, RETAILERS, chain, W1

PAGE = "pages/stores.py"


def table_with(at, heading):
    return next(d.value for d in at.dataframe if heading in d.value.columns)


def test_tiles_voids_and_stores_are_the_metrics(app, small_db):
    at = app(small_db, page=PAGE, query={"period": "l52w"})
    engine = DuckDBEngine(small_db)
    try:
        data = stores.page_data(engine, Filters(period="l52w"))
    finally:
        engine.close()
    d = data.distribution
    shown = metrics(at)
    assert shown["Numeric distribution"] == fmt.pct(d["stores_selling"].sum() / d["stores_open"].sum())
    assert shown["Voids"] == fmt.number(len(data.voids)) and len(data.voids) > 0
    assert shown["Stores reporting"] == fmt.number(len(data.stores))
    voids = table_with(at, "Estimated lost units")
    assert len(voids) == len(data.voids)
    lost = voids["Estimated lost units"].map(lambda s: float(s.replace(",", ""))).tolist()
    assert lost == sorted(lost, reverse=True)  # sorted by estimated lost sales
    assert len(table_with(at, "Like-for-like growth")) == len(data.stores)
    assert {b.label for b in at.get("download_button")} >= {"Download the voids (CSV)",
                                                              "Download the store table (CSV)"}
    assert_nothing_missing_shown(at)


def test_the_retailer_filter_in_the_url_narrows_the_page(app, small_db):
    engine = DuckDBEngine(small_db)
    try:
        rid = sorted(stores._stores(engine)["retailer_id"])[-1]  # a store-level chain of the demo
        data = stores.page_data(engine, Filters(period="l52w", retailers=(rid,)))
    finally:
        engine.close()
    at = app(small_db, page=PAGE, query={"period": "l52w", "retailer": rid})
    table = table_with(at, "Like-for-like growth")
    assert table["Retailer"].nunique() == 1
    assert len(table) == len(data.stores) == (data.stores["retailer_id"] == rid).sum() > 0
    assert metrics(at)["Voids"] == fmt.number(len(data.voids))


def test_without_store_rows_the_page_says_so(app, tmp_path):
    db = make_db(tmp_path / "chain.duckdb", retailers=RETAILERS, products=PRODUCTS, sell_out=chain([W1]))
    at = app(db, page=PAGE)
    assert any("sell_out_store" in i.value for i in at.info)
    assert not at.dataframe


def test_account_review_shows_store_tiles_only_for_store_level_accounts(app, small_db):
    engine = DuckDBEngine(small_db)
    try:
        store_level = sorted(set(stores._stores(engine)["retailer_id"]))
        tiles = stores.account_tiles(engine, Filters(period="l52w"), store_level[0])
    finally:
        engine.close()
    at = app(small_db, page="pages/account_review.py", query={"account": store_level[0], "period": "l52w"})
    shown = metrics(at)
    assert shown["Numeric distribution"] == fmt.pct(tiles["numeric_distribution"])
    assert shown["Velocity (units per store selling per week)"] == fmt.number(tiles["velocity"], 1)
    at = app(small_db, page="pages/account_review.py", query={"account": "R001", "period": "l52w"})
    assert "Numeric distribution" not in metrics(at)  # R001 reports by chain only
