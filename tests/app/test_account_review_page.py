"""The Account review page under AppTest: the account in the URL, its numbers, and retailers with gaps."""

from __future__ import annotations

from kam_dash import fmt
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.metrics import share
from tests.app.conftest import metrics
from tests.app.test_portfolio_page import assert_nothing_missing_shown
from tests.conftest import make_db
from tests.unit.test_account import PRODUCTS, RETAILERS, SELL_IN, SELL_OUT, TARGETS

PAGE = "pages/account_review.py"


def url(at, key: str) -> list[str]:
    """A URL parameter's values (AppTest keeps a value set by the page as a plain string)."""
    value = at.query_params[key]
    return [value] if isinstance(value, str) else list(value)


def test_the_account_comes_from_the_url(app, small_db):
    at = app(small_db, page=PAGE, query={"account": "R002"})
    assert not at.warning
    assert at.subheader[0].value == "Value Market"
    assert at.selectbox(key="account").value == "R002"
    header = next(c.value for c in at.caption if c.value.startswith("R002"))
    assert "grocery" in header and "Blake Morgan" in header and "Year to date" in header
    engine = DuckDBEngine(small_db)
    row = share.revenue_share(engine, Filters(retailers=("R002",))).iloc[0]
    engine.close()
    m = metrics(at)
    assert m["Net sales"] == fmt.money(row["net_sales"])
    assert m["Plan attainment"] == fmt.pct(row["attainment"])
    assert [x.delta for x in at.metric if x.label == "Net sales"] == [fmt.pct(row["yoy_growth"], signed=True)
                                                                     + " vs last year"]
    assert_nothing_missing_shown(at)


def test_choosing_another_account_updates_the_url(app, small_db):
    at = app(small_db, page=PAGE, query={"account": "R002"})
    at.selectbox(key="account").set_value("R005").run()
    assert url(at, "account") == ["R005"]
    assert at.subheader[0].value == "Sun Market"
    # Sun Market reports online sales alongside stores: the SKU table splits them and the trend is drawn
    assert any("Store vs online" == s.value for s in at.subheader)
    # the SKU tables lead with sell-out beside net sales; the store / online split is in the CSV, not on screen
    sku_tables = [d.value for d in at.dataframe if "Product" in d.value.columns]
    assert len(sku_tables) == 2
    assert all(list(t.columns)[:2] == ["Product", "Net sales"] and "Sell-out" in t.columns
               and "Online" not in t.columns for t in sku_tables)


def test_opens_on_the_biggest_account_then_on_the_last_viewed(app, small_db):
    from kam_dash.engine import DuckDBEngine
    from kam_dash.filters import Filters
    from kam_dash.metrics import share

    engine = DuckDBEngine(small_db)
    ytd = share.revenue_share(engine, Filters())
    engine.close()
    biggest = ytd.dropna(subset=["value"]).iloc[0]
    at = app(small_db, page=PAGE)
    # no account in the link and none viewed yet: the biggest by YTD sales, not the first by name
    assert at.subheader[0].value == biggest["retailer_name"] != "Family Market"
    other = next(r for r in ytd["retailer_id"] if r != biggest["retailer_id"])
    at.selectbox(key="account").set_value(other).run()
    # away to another page and back without an account in the link: the one last viewed
    at.switch_page("pages/plan.py").run()
    at.query_params.pop("account", None)
    at.switch_page(PAGE).run()
    assert url(at, "account") == [other]


def test_an_unknown_account_warns_and_shows_the_first(app, small_db):
    at = app(small_db, page=PAGE, query={"account": "R999'; DROP TABLE retailers"})
    assert not at.exception
    assert any("not a known retailer" in w.value and "Family Market" in w.value for w in at.warning)
    assert at.subheader[0].value == "Family Market"  # the first retailer by name
    assert url(at, "account") == ["R006"]


def test_the_period_follows_the_sidebar(app, small_db):
    at = app(small_db, page=PAGE, query={"account": "R001"})
    ytd = metrics(at)["Net sales"]
    at.selectbox(key="f_period").set_value("l13w").run()
    assert metrics(at)["Net sales"] != ytd
    assert any(c.value.startswith("R001") and "Last 13 weeks" in c.value for c in at.caption)
    assert url(at, "account") == ["R001"]


def test_empty_database(app, empty_db):
    at = app(empty_db, page=PAGE, query={"account": "R001"})
    assert not at.exception
    assert any("No sales data is loaded" in i.value for i in at.info)


def test_a_retailer_without_sell_out_targets_or_last_year(app, tmp_path):
    db = make_db(tmp_path / "hand.duckdb", retailers=RETAILERS, products=PRODUCTS, sell_in=SELL_IN,
                 sell_out=SELL_OUT, targets=TARGETS)
    at = app(db, page=PAGE, query={"account": "R3"})
    assert not at.exception
    assert at.subheader[0].value == "Gamma"
    notes = " ".join(i.value for i in at.info)
    assert "no sales last year" in notes and "no target" in notes and "no sell-out" in notes
    m = metrics(at)
    assert m["Net sales"] == "$100" and m["Plan attainment"] == fmt.DASH and m["Sell-out value"] == fmt.DASH
    assert m["Gross margin"] == fmt.DASH  # Gamma sells only a SKU without a unit cost
    assert_nothing_missing_shown(at)


def test_a_full_retailer_on_the_hand_database(app, tmp_path):
    db = make_db(tmp_path / "hand.duckdb", retailers=RETAILERS, products=PRODUCTS, sell_in=SELL_IN,
                 sell_out=SELL_OUT, targets=TARGETS)
    at = app(db, page=PAGE, query={"account": "R1"})
    m = metrics(at)
    # 140 net sales vs 120 target (3 of January's 4 weeks of 160) and vs 100 last year
    assert m["Net sales"] == "$140" and m["Plan attainment"] == "116.7%"
    assert [x.delta for x in at.metric if x.label == "Net sales"] == ["+40.0% vs last year"]
    ws = next(d.value for d in at.dataframe if "Opportunity" in d.value.columns)
    # white space of B: (140/300 - 40/140) x 140 = 25.33
    assert ws.iloc[0]["Category"] == "B" and ws.iloc[0]["Opportunity"] == "$25"
    assert_nothing_missing_shown(at)


def test_a_sell_out_only_account_is_reviewed_on_sell_out_value(app, tmp_path):
    from tests.unit.test_account import POS

    db = make_db(tmp_path / "pos.duckdb", retailers=RETAILERS, products=PRODUCTS, sell_out=POS)
    at = app(db, page=PAGE, query={"account": "R1", "period": "custom", "start": "2026-02-01",
                                   "end": "2026-02-28"})
    m = metrics(at)
    # R1: 2, 9, 16 Feb reported (400) vs (80 + 20) + 90 + (100 + 10) = 300 -> +33.3%; 23 Feb not reported
    assert m["Sell-out value"] == fmt.money(400) and m["Net sales"] == fmt.DASH
    assert [x.delta for x in at.metric if x.label == "Sell-out value"] == ["+33.3% vs last year"]
    assert any("are of sell-out value" in c.value for c in at.caption)
    assert any("skip 1 week of this period that Alpha did not report" in c.value for c in at.caption)
    assert any(s.value == "SKUs: top and bottom (sell-out value)" for s in at.subheader)
    assert_nothing_missing_shown(at)
