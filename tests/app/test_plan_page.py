"""The Plan tracking page under AppTest: tiles, tables, charts, links to the account review, thin data."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

from kam_dash import fmt
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.metrics import plan
from tests.app.conftest import metrics
from tests.app.test_portfolio_page import assert_nothing_missing_shown
from tests.app.test_seasonality_page import figures, values
from tests.conftest import make_db
from tests.unit.test_plan import PRODUCTS, RETAILERS, plan_tables

PAGE = "pages/plan.py"


def retailer_table(at):
    return next(d.value for d in at.dataframe if "Retailer" in d.value.columns)


def waterfall(at) -> dict:
    return next(s["data"][0] for t, s in figures(at).items() if t.startswith("Last year to the"))


def test_tiles_and_tables_match_the_page_data(app, small_db):
    at = app(small_db, page=PAGE)
    assert not at.exception
    engine = DuckDBEngine(small_db)
    data = plan.page_data(engine, Filters())
    engine.close()
    m = metrics(at)
    assert m["Landing estimate"] == fmt.money(data.totals["landing_estimate"])
    assert m["Landing gap"] == fmt.money(data.totals["landing_gap"])
    assert m["Run rate needed per week"] == fmt.money(data.totals["required_weekly_run_rate"])
    # beside it, the current run rate: YTD actual over the weeks done
    run_rate = next(x for x in at.metric if x.label == "Run rate needed per week")
    assert run_rate.delta == f"now {fmt.money(data.current_run_rate)} per week"
    assert data.current_run_rate == data.totals["ytd_actual"] / data.weeks_done
    table = retailer_table(at)
    # sorted by landing gap, furthest behind first, with the page data's numbers
    assert list(table["Retailer"]) == list(data.retailers["retailer_name"])
    assert list(table["Landing gap"]) == [fmt.money(v, compact=False) for v in data.retailers["landing_gap"]]
    assert list(table["YTD attainment"]) == [fmt.pct(v) for v in data.retailers["ytd_attainment"]]
    categories = next(d.value for d in at.dataframe if "Category" in d.value.columns)
    assert len(categories) == len(data.categories) == 8
    steps = waterfall(at)
    assert steps["x"][0] == "Last year" and steps["x"][-1] == "Landing"
    assert abs(values(steps["y"])[-1] - data.totals["landing_estimate"]) < 1e-6
    assert_nothing_missing_shown(at)


def test_each_account_links_to_its_review_with_the_filters(app, small_db):
    at = app(small_db, page=PAGE, query={"period": "l52w"})
    table = retailer_table(at)
    link = urlparse(table["Account review"].iloc[0])
    assert link.path == "account_review"
    params = parse_qs(link.query)
    assert params["period"] == ["l52w"] and params["account"][0].startswith("R")
    links = at.get("page_link")
    assert len(links) == 5 and links[0].proto.page == "account_review"
    assert "account=" in links[0].proto.query_string and "period=l52w" in links[0].proto.query_string
    assert [link.proto.label for link in links] == list(table["Retailer"].iloc[:5])


def test_sorting_by_name_reorders_the_table_and_the_bullets(app, small_db):
    at = app(small_db, page=PAGE)
    at.selectbox(key="plan_sort").set_value("retailer_name").run()
    names = list(retailer_table(at)["Retailer"])
    assert names == sorted(names)
    bullets = next(s for t, s in figures(at).items() if t.startswith("Actual, landing"))
    assert list(bullets["data"][0]["y"]) == names[::-1]  # plotly draws the first row at the bottom


def test_a_channel_filter_changes_the_waterfall(app, small_db):
    at = app(small_db, page=PAGE)
    before = waterfall(at)["x"]
    at.multiselect(key="f_channel").set_value(["grocery"]).run()
    after = waterfall(at)["x"]
    assert after != before and len(after) < len(before)
    engine = DuckDBEngine(small_db)
    data = plan.page_data(engine, Filters(channels=("grocery",)))
    engine.close()
    assert after == list(data.waterfall["step"])


def test_no_targets_shows_actuals_with_a_note(app, tmp_path):
    tables = plan_tables()
    del tables["targets"]
    db = make_db(tmp_path / "no_targets.duckdb", **tables)
    at = app(db, page=PAGE)
    assert not at.exception
    assert any("No targets are loaded" in i.value for i in at.info)
    assert metrics(at)["Landing estimate"] == fmt.money(5610 + 2500)  # R1 5610, R2 2500 (no projection)
    assert_nothing_missing_shown(at)


def test_a_retailer_with_no_data_and_an_empty_database(app, tmp_path, empty_db):
    retailers = RETAILERS + [dict(retailer_id="R3", retailer_name="Gamma", channel="club", region="E", kam="Max")]
    db = make_db(tmp_path / "r3.duckdb", **{**plan_tables(), "retailers": retailers, "products": PRODUCTS})
    at = app(db, page=PAGE, query={"retailer": "R3"})
    assert not at.exception
    assert any("No retailer in view has sales or targets" in i.value for i in at.info)
    at = app(empty_db, page=PAGE)
    assert not at.exception
    assert any("No sales data is loaded" in i.value for i in at.info)


def test_the_range_tile_and_a_sell_out_only_account(app, tmp_path):
    from tests.unit.test_plan_calendar import with_sell_out_only_account

    db = make_db(tmp_path / "gamma.duckdb", **with_sell_out_only_account(50))
    at = app(db, page=PAGE)
    assert not at.exception
    engine = DuckDBEngine(db)
    data = plan.page_data(engine, Filters())
    engine.close()
    t = data.totals
    assert metrics(at)["Landing range"] == f"{fmt.money(t['landing_low'])} – {fmt.money(t['landing_high'])}"
    # Gamma (sell-out only) is not a 0% row of the net sales table; it has its own table on sell-out value.
    assert "Gamma" not in list(retailer_table(at)["Retailer"])
    sell_out = next(d.value for d in at.dataframe if "Sell-out through" in d.value.columns)
    assert list(sell_out["Retailer"]) == ["Gamma"]
    assert list(sell_out["YTD attainment"]) == [fmt.pct(0.88)]  # 2112 / 2400, worked in the unit test
    assert any("No sell-in is loaded for Gamma" in i.value for i in at.info)
    # The header names the sell-out that is behind; the definitions include the calendar's rules.
    assert any("Gamma (1 week behind" in c.value for c in at.caption)
    shown = " ".join(m.value for m in at.expander[0].markdown)
    assert "**Week.**" in shown and "**Last year.**" in shown and "**Landing range.**" in shown


def test_a_database_with_sell_out_only(app, tmp_path):
    from tests.unit.test_plan_calendar import WEEKS_2025, sell_out_row

    # POS only, no shipments and no targets (the shape of public POS panels): every account is tracked on
    # sell-out value, and the page shows that table alone, with no net sales tiles at 0.
    rows = [sell_out_row(w, rid, 10) for w in WEEKS_2025 for rid in ("R1", "R2")]
    db = make_db(tmp_path / "pos.duckdb", retailers=RETAILERS, products=PRODUCTS, sell_out=rows)
    at = app(db, page=PAGE)
    assert not at.exception
    assert any("No sell-in is loaded: each retailer's plan is tracked on sell-out value" in i.value for i in at.info)
    assert "Landing estimate" not in metrics(at)
    table = next(d.value for d in at.dataframe if "Sell-out through" in d.value.columns)
    # 52 weeks of 10 in 2025, the year loaded: YTD 520 each, no target.
    assert list(table["Retailer"]) == ["Alpha", "Beta"]
    assert list(table["YTD actual"]) == [fmt.money(520, compact=False)] * 2
    assert list(table["YTD attainment"]) == [fmt.DASH] * 2
