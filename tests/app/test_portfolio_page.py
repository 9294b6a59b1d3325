"""The Portfolio page under AppTest: tiles, key-account tiers that follow the weights, health, missing data."""

from __future__ import annotations

import pandas as pd

from kam_dash import export, fmt
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from tests.app.conftest import metrics
from tests.conftest import make_db
from tests.unit.test_account import PRODUCTS, RETAILERS, SELL_IN, SELL_OUT, TARGETS

PAGE = "pages/portfolio.py"


def shown_text(at) -> list[str]:
    """Every string the page shows: tiles, tables, text."""
    out = [m.value for m in at.metric] + [m.delta or "" for m in at.metric]
    for frame in at.dataframe:
        out += [str(v) for v in frame.value.to_numpy().ravel()] + [str(c) for c in frame.value.columns]
    for kind in (at.markdown, at.caption, at.info, at.warning, at.subheader):
        out += [e.value for e in kind]
    out += [link.label for link in at.get("page_link")]
    return out


def assert_nothing_missing_shown(at) -> None:
    bad = [s for s in shown_text(at) if any(w in s.split() or s == w for w in ("nan", "NaN", "None", "<NA>"))]
    assert not bad, bad


def accounts_table(at) -> pd.DataFrame:
    """The key-account table, with the export's column names."""
    table = next(d.value for d in at.dataframe if "Tier" in d.value.columns)
    names = {"Retailer": "retailer_name", "Tier": "tier", "Health": "health", "Growth vs last year": "yoy_growth",
             "Margin %": "margin_pct", "Score": "score"}
    return table.rename(columns=names)


def test_tiles_match_the_exports(app, small_db):
    at = app(small_db, page=PAGE)
    engine = DuckDBEngine(small_db)
    scores = export.compute("account-scores", engine, Filters())
    shares = export.compute("revenue-share", engine, Filters())
    engine.close()
    m = metrics(at)
    assert m["Net sales"] == fmt.money(shares["net_sales"].sum())
    off = int((shares["attainment"] < 1).sum())
    assert m["Accounts off plan"] == f"{off} of {shares['attainment'].notna().sum()}"
    assert m["Gross margin"].endswith("%")  # the small demo costs every SKU
    assert [x.delta for x in at.metric if x.label == "Gross margin"] == ["on 100% of net sales"]
    table = accounts_table(at)
    # the page's default scoring is the export's
    assert list(table["retailer_name"]) == list(scores["retailer_name"])
    assert list(table["tier"]) == list(scores["tier"])
    assert_nothing_missing_shown(at)


def test_changing_the_weights_moves_the_tiers(app, small_db):
    at = app(small_db, page=PAGE)
    before = dict(zip(accounts_table(at)["retailer_name"], accounts_table(at)["tier"]))
    # Only the strategic priority counts: the small demo's priority-5 retailers (Value, Sun and Family Market)
    # all score 1 and share rank 1, so all three are Strategic; the rest score 0 and are Maintain.
    for key in ("w_share", "w_yoy_growth", "w_margin_pct"):
        at.number_input(key=key).set_value(0.0)
    at.number_input(key="w_strategic_priority").set_value(1.0).run()
    after = dict(zip(accounts_table(at)["retailer_name"], accounts_table(at)["tier"]))
    assert after != before
    assert {n for n, t in after.items() if t == "Strategic"} == {"Value Market", "Sun Market", "Family Market"}
    assert after["Fresh Market"] == "Maintain"
    # With no Strategic tier, the three tied at rank 1 fall into Key (rank <= ceil((0% + 20%) x 6) = 2)
    at.number_input(key="tier_strategic").set_value(0).run()
    tiers = dict(zip(accounts_table(at)["retailer_name"], accounts_table(at)["tier"]))
    assert {n for n, t in tiers.items() if t == "Key"} == {"Value Market", "Sun Market", "Family Market"}


def test_all_zero_weights_warn_and_fall_back(app, small_db):
    at = app(small_db, page=PAGE)
    for key in ("w_share", "w_yoy_growth", "w_margin_pct", "w_strategic_priority"):
        at.number_input(key=key).set_value(0.0)
    at.run()
    assert not at.exception
    assert any("at least one score weight" in w.value for w in at.warning)


def test_accounts_needing_attention_link_to_their_review_with_the_filters(app, small_db):
    at = app(small_db, page=PAGE, query={"period": "l13w", "channel": "grocery"})
    links = at.get("page_link")
    engine = DuckDBEngine(small_db)
    from kam_dash.metrics import account

    flagged = account.needing_attention(account.portfolio_page_data(engine, Filters(period="l13w",
                                                                                    channels=("grocery",))).accounts)
    engine.close()
    assert len(links) == len(flagged) > 0 and len(flagged) <= 5
    # the most money at stake first, its reason in words (money, then the failing criteria)
    first = flagged.iloc[0]
    assert first["retailer_name"] in links[0].proto.label
    assert fmt.md_text(first["attention_reason"]) in links[0].proto.label
    assert first["attention_reason"].startswith("$")
    assert links[0].proto.page == "account_review"
    assert links[0].proto.query_string == f"period=l13w&channel=grocery&account={first['retailer_id']}"


def test_empty_database(app, empty_db):
    at = app(empty_db, page=PAGE)
    assert not at.exception
    assert any("No sales data is loaded" in i.value for i in at.info)


def test_a_retailer_without_sell_out_targets_or_last_year(app, tmp_path):
    db = make_db(tmp_path / "hand.duckdb", retailers=RETAILERS, products=PRODUCTS, sell_in=SELL_IN,
                 sell_out=SELL_OUT, targets=TARGETS)
    at = app(db, page=PAGE)
    table = accounts_table(at).set_index("retailer_name")
    # Gamma (R3) has no target and no last year: not rated, growth and margin shown as a dash
    assert table.loc["Gamma", "health"] == "Not rated"
    assert table.loc["Gamma", "yoy_growth"] == fmt.DASH and table.loc["Gamma", "margin_pct"] == fmt.DASH
    # Beta: 80% of plan, -25% -> red and listed first
    assert table.loc["Beta", "health"] == "Red"
    assert metrics(at)["Accounts off plan"] == "1 of 2"
    assert any("Health does not judge availability" in c.value for c in at.caption)
    assert_nothing_missing_shown(at)


def test_a_sell_out_only_database_is_shown_on_sell_out_value(app, tmp_path):
    from tests.unit.test_account import POS

    db = make_db(tmp_path / "pos.duckdb", retailers=RETAILERS, products=PRODUCTS, sell_out=POS)
    at = app(db, page=PAGE, query={"period": "custom", "start": "2026-02-01", "end": "2026-02-28"})
    m = metrics(at)
    # no sell-in table: the first tile is the sell-out value of the view, R1 400 + R3 1100 = 1,500
    assert m["Sell-out value"] == fmt.money(1500) and m["Net sales"] == fmt.DASH
    assert any("are of sell-out value" in c.value for c in at.caption)
    # R1 did not report 23 Feb: one unreported week, said so
    assert any("skip 1 unreported retailer-week" in c.value for c in at.caption)
    table = accounts_table(at).set_index("retailer_name")
    assert "Sell-out value" in table.columns and set(table.index) == {"Alpha", "Gamma"}
    # the page says health is judged on the year to date, not February
    assert any("Health is judged on the year to date" in c.value for c in at.caption)
    assert_nothing_missing_shown(at)
