"""The Inventory page in Streamlit's AppTest: values shown, the window and retailer kept in the URL, missing data."""

from __future__ import annotations

import pytest

from kam_dash import fmt
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.metrics import inventory
from tests.app.conftest import metrics
from tests.conftest import make_db
from tests.unit.test_inventory import case_tables

PAGE = "pages/inventory.py"


def table(at, header: str):
    """The first table on the page with this column header."""
    return next(d.value for d in at.dataframe if header in d.value.columns)


@pytest.fixture(scope="module")
def expected(small_db):
    """The page's numbers straight from the library, per window (default filters: year to date)."""
    engine = DuckDBEngine(small_db)
    try:
        yield {w: inventory.page_data(engine, Filters(), window=w) for w in (4, 13)}
    finally:
        engine.close()


def test_the_page_shows_the_library_numbers(app, small_db, expected):
    at = app(small_db, page=PAGE)
    k = expected[4].kpis
    shown = metrics(at)
    assert shown["In-stock rate"] == fmt.pct(k["in_stock_rate"])
    assert shown["Lost sales"] == fmt.money(k["lost_value"])
    assert shown["Out of stock now"] == fmt.number(k["now_oos"])
    assert shown["Below band now"] == fmt.number(k["now_low"])
    assert at.query_params["inv_window"] == "4"
    assert at.query_params["inv_retailer"] == expected[4].retailer
    assert at.selectbox(key="inv_retailer").value == expected[4].retailer
    by_retailer = table(at, "In-stock rate")
    assert by_retailer["Retailer"].tolist() == expected[4].retailers["retailer_name"].tolist()
    assert by_retailer["In-stock rate"].tolist() == [fmt.pct(v) for v in expected[4].retailers["in_stock_rate"]]
    low = table(at, "Units short of band")
    assert low["Product"].tolist() == expected[4].low_cover["sku_name"].tolist()
    assert not any("nan" in str(v).lower() for v in low.to_numpy().ravel())
    oos = expected[4].out_of_stock
    if oos.empty:
        assert any(i.value == "Out of stock: none in view." for i in at.info)
    else:  # the first table with these headers is the out-of-stock tab's
        assert table(at, "Weeks out")["Product"].tolist() == oos["sku_name"].tolist()


def test_the_window_changes_the_values_shown_and_the_url(app, small_db, expected):
    at = app(small_db, page=PAGE)
    at.radio(key="inv_window").set_value("13").run()
    assert not at.exception
    assert at.query_params["inv_window"] == "13"
    assert metrics(at)["Below band now"] == fmt.number(expected[13].kpis["now_low"])
    # the window moves the cover of the low-cover lines (a different average), so the table changes too
    assert expected[4].low_cover["weeks_of_cover"].tolist() != expected[13].low_cover["weeks_of_cover"].tolist()
    low = table(at, "Units short of band")
    assert low["Weeks of cover"].tolist() == [fmt.weeks(v) for v in expected[13].low_cover["weeks_of_cover"]]


def test_a_link_sets_the_window_and_the_retailer(app, small_db, expected):
    other = [r for r in expected[4].retailer_choices if r != expected[4].retailer][0]
    at = app(small_db, page=PAGE, query={"inv_window": "13", "inv_retailer": other})
    assert at.radio(key="inv_window").value == "13"
    assert at.selectbox(key="inv_retailer").value == other
    assert metrics(at)["Below band now"] == fmt.number(expected[13].kpis["now_low"])


def test_a_tampered_link_is_dropped_with_a_warning(app, small_db):
    at = app(small_db, page=PAGE, query={"inv_window": "5; DROP TABLE x", "inv_retailer": "NOPE"})
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "cover window in the link" in warnings and "retailer in the link" in warnings
    assert at.radio(key="inv_window").value == "4"


def test_empty_database(app, empty_db):
    at = app(empty_db, page=PAGE)
    assert not at.exception
    assert any("No sales data is loaded" in i.value for i in at.info)
    assert not at.metric


def test_a_retailer_without_inventory(app, tmp_path):
    db = make_db(tmp_path / "cases.duckdb", **case_tables())  # R3 sells but reports no stock
    at = app(db, page=PAGE, query={"retailer": "R3"})
    assert not at.exception
    assert any("No stock counts for the retailers, products and weeks in view" in i.value for i in at.info)
    assert not at.metric  # no cover tiles to show
    assert any(s.value == "Forward buying" for s in at.subheader)


def test_a_database_without_the_inventory_table(app, tmp_path):
    tables = case_tables()
    del tables["inventory"]
    at = app(make_db(tmp_path / "no_stock.duckdb", **tables), page=PAGE)
    assert not at.exception
    assert any("needs the inventory table, which is not loaded" in i.value for i in at.info)


def test_lagging_and_sell_out_only_retailers_are_named_in_words(app, tmp_path):
    # R1 (Alpha) in stock every week, its POS through week 11 only; R2 (Beta) has sell-out through week 12 and no
    # sell-in at all; R1 ships. A new line R1 x B has stock in week 12 only, which R1 has not reported: no week to
    # average.
    from tests.unit.test_inventory import PRODUCTS, RETAILERS, W, inv, so

    rows_inv = [inv(r, "A", w, 40) for r in ("R1", "R2") for w in range(1, 13)] + [inv("R1", "B", 12, 30)]
    rows_so = [so("R1", "A", w, 10, 20) for w in range(1, 12)] + [so("R2", "A", w, 10, 20) for w in range(1, 13)]
    sell_in = [dict(week=W[w], retailer_id="R1", sku_id="A", units=10, gross_sales=1, net_sales=1)
               for w in range(1, 13)]
    db = make_db(tmp_path / "lag.duckdb", retailers=RETAILERS, products=PRODUCTS, inventory=rows_inv,
                 sell_out=rows_so, sell_in=sell_in)
    at = app(db, page=PAGE, query={"period": "l13w"})
    captions = " ".join(c.value for c in at.caption)
    assert "Weeks of cover skipped unreported sell-out weeks" in captions and "Alpha" in captions
    assert "1 line with stock has no weeks of cover" in captions
    assert "Sell-out behind for 1 retailer: Alpha" in captions  # the page header's freshness, for the tables read
    infos = " ".join(i.value for i in at.info)
    assert "it needs sell-in: Beta has sell-out only and is not scored" in infos
    assert metrics(at)["Below band now"] == "0"
    no_cover = table(at, "Weeks averaged")
    assert no_cover["Product"].tolist() == ["Broth"] and no_cover["Weeks averaged"].tolist() == ["0"]
    expander = " ".join(m.value for m in at.expander[-1].markdown)
    assert "**Unreported weeks.**" in expander and "**Weeks of cover.**" in expander
