"""The review pack's contents on hand-built tables: sections, narratives and tables, worked out by hand.

Two retailers, latest week 12 Jan 2026, so the year to date is the weeks of 5 and 12 Jan 2026 and last year
the weeks of 6 and 13 Jan 2025:
- R1 has everything: sell-in this year and last, sell-out (store and online) and a January target.
- R2 is thin: sell-in this year only (no last year, no sell-out, no target).
Neither inventory nor promotions is loaded.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kam_dash import fmt, report
from kam_dash.filters import Filters
from kam_dash.report import pack as packs
from kam_dash.report.workbook import sheet_name

W1, W2 = dt.date(2026, 1, 5), dt.date(2026, 1, 12)
LY1, LY2 = dt.date(2025, 1, 6), dt.date(2025, 1, 13)

RETAILERS = [
    {"retailer_id": "R1", "retailer_name": "Full Foods", "channel": "grocery", "region": "North", "kam": "Ann",
     "strategic_priority": 4},
    {"retailer_id": "R2", "retailer_name": "Thin Mart", "channel": "discount", "region": "South", "kam": "Bo",
     "strategic_priority": 2},
]
PRODUCTS = [
    {"sku_id": "A", "sku_name": "Crisps", "brand": "Crunch", "category": "Snacks"},
    {"sku_id": "B", "sku_name": "Cola", "brand": "Fizz", "category": "Drinks"},
]
SELL_IN = [
    # R1 this year: A 100 + 120, B 50 -> 270 net sales, 10 + 12 + 5 = 27 units
    {"week": W1, "retailer_id": "R1", "sku_id": "A", "units": 10, "gross_sales": 110, "net_sales": 100},
    {"week": W2, "retailer_id": "R1", "sku_id": "A", "units": 12, "gross_sales": 130, "net_sales": 120},
    {"week": W1, "retailer_id": "R1", "sku_id": "B", "units": 5, "gross_sales": 55, "net_sales": 50},
    # R1 last year: 90 + 110 + 50 = 250
    {"week": LY1, "retailer_id": "R1", "sku_id": "A", "units": 9, "gross_sales": 99, "net_sales": 90},
    {"week": LY2, "retailer_id": "R1", "sku_id": "A", "units": 11, "gross_sales": 120, "net_sales": 110},
    {"week": LY1, "retailer_id": "R1", "sku_id": "B", "units": 5, "gross_sales": 55, "net_sales": 50},
    # R2 this year only: B 200 + 200 = 400, 40 units
    {"week": W1, "retailer_id": "R2", "sku_id": "B", "units": 20, "gross_sales": 220, "net_sales": 200},
    {"week": W2, "retailer_id": "R2", "sku_id": "B", "units": 20, "gross_sales": 220, "net_sales": 200},
]
SELL_OUT = [
    # R1: 8 + 9 store units (value 80 + 90) and 3 online units (value 30) -> 20 units, value 200
    {"week": W1, "retailer_id": "R1", "sku_id": "A", "sales_channel": "store", "units": 8, "sales_value": 80},
    {"week": W2, "retailer_id": "R1", "sku_id": "A", "sales_channel": "store", "units": 9, "sales_value": 90},
    {"week": W2, "retailer_id": "R1", "sku_id": "A", "sales_channel": "online", "units": 3, "sales_value": 30},
]
# R1's January target: 1,000 over the 4 Mondays of January 2026 (5, 12, 19, 26) = 250 a week
TARGETS = [{"retailer_id": "R1", "month": dt.date(2026, 1, 1), "category": "", "net_sales_target": 1000.0}]


@pytest.fixture()
def engine(hand_db):
    return hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=SELL_IN, sell_out=SELL_OUT, targets=TARGETS)


def sections(pack):
    return {s.key: s for s in pack.sections}


def test_full_retailer_key_figures_by_hand(engine):
    pack = report.collect(engine, Filters(), "R1")
    assert pack.title == "Full Foods: account review"
    assert pack.period == "Year to date, 05 Jan 2026 to 12 Jan 2026"  # weeks by Monday: 2026 starts 5 Jan
    assert pack.freshness == "Data to the week of 12 Jan 2026 (the latest week loaded)"
    key = sections(pack)["key-figures"]
    # growth 270 / 250 - 1 = +8.0%; attainment 270 / (2 weeks x 250) = 54.0%.
    # Landing: the YTD 270 plus, for each remaining week of 2026, last year's week x 1.08; last year's weeks
    # after 13 Jan 2025 shipped nothing (0), so the landing is 270, against the annual target of 1,000 (only
    # January has one): 730 short.
    assert key.lead.startswith("Net sales $270, +8.0% vs last year, 54.0% of plan; landing $730 short of the "
                               "annual target.")
    figures = key.tables[0].frame.set_index("measure")
    assert figures.loc["Net sales", "value"] == pytest.approx(270.0)
    assert figures.loc["Net sales", "last_year"] == pytest.approx(250.0)
    assert figures.loc["Net sales", "plan"] == pytest.approx(500.0)
    assert figures.loc["Net sales", "share_of_plan"] == pytest.approx(0.54)
    assert figures.loc["Sell-out value", "value"] == pytest.approx(200.0)
    assert figures.loc["Landing estimate 2026", "value"] == pytest.approx(270.0)
    assert figures.loc["Landing estimate 2026", "plan"] == pytest.approx(1000.0)
    # share of the portfolio's net sales: 270 / (270 + 400)
    assert figures.loc["Share of the portfolio's net sales", "value"] == pytest.approx(270 / 670)
    # online 30 of 200 sell-out value
    assert figures.loc["Online share of sell-out", "value"] == pytest.approx(0.15)
    assert pd.isna(figures.loc["Gross margin", "value"])  # no unit costs


def test_full_retailer_charts_and_narratives_by_hand(engine):
    pack = report.collect(engine, Filters(), "R1")
    by_key = {c.key: c for c in pack.charts}
    assert list(by_key) == ["monthly", "pipeline", "store-online", "category-mix"]  # the story's order
    # (1,000 - 270) / 50 remaining weeks = 14.6 a week
    assert by_key["monthly"].narrative == ("Landing estimate for 2026: $270 against a $1.00K annual target ($730 "
                                           "short); $15 a week needed from here to reach it.")
    # sell-in 27 units, sell-out 20 units: the stock built up by 7
    assert by_key["pipeline"].narrative == ("Sell-in 27 units vs sell-out 20 units over the period: retailer stock "
                                            "built up by 7 units (pipeline fill).")
    assert by_key["store-online"].narrative == "Online 15.0% of sell-out value ($30 of $200)."
    # portfolio: Snacks 220, Drinks 50 + 400 = 450 of 670; R1: Drinks 50 of 270.
    # opportunity Drinks = (450/670 - 50/270) x 270 = 131.34
    assert by_key["category-mix"].narrative == ("Largest white space: Drinks, $131 (portfolio share 67.2% vs 18.5% "
                                                "here).")
    white = sections(pack)["white-space"]
    ws = white.tables[-1].frame.set_index("category")
    assert ws.loc["Drinks", "opportunity"] == pytest.approx((450 / 670 - 50 / 270) * 270)
    assert ws.loc["Snacks", "opportunity"] == 0.0
    # R1 lists both products: no range gap, said in words
    assert [t.sheet for t in white.tables] == ["White space"]
    assert white.lead == "Full Foods lists every product its 1 comparable account sold in the period: no range gap."


def test_a_lone_account_has_no_range_to_compare(hand_db):
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, targets=TARGETS,
                     sell_in=[r for r in SELL_IN if r["retailer_id"] == "R1"])
    white = sections(report.collect(engine, Filters(), "R1"))["white-space"]
    assert white.lead == "No other account with sales in the period to compare the range of Full Foods with."


def test_products_top_and_bottom_by_hand(engine):
    skus = sections(report.collect(engine, Filters(), "R1"))["skus"]
    # Crisps 220 vs 90 + 110 = 200 last year: +20 (+10.0%); Cola 50 vs 50: 0. Two products: one on each side.
    top, bottom, every = skus.tables
    assert list(top.frame["sku_name"]) == ["Crisps"] and list(bottom.frame["sku_name"]) == ["Cola"]
    assert top.frame["change"].tolist() == pytest.approx([20.0])
    assert every.detail and not top.detail and list(every.frame["sku_name"]) == ["Crisps", "Cola"]
    assert skus.lead == ("Net sales vs last year: largest gain Crisps, +$20 (+10.0%); no product below last "
                         "year.")


def test_next_steps_without_an_account_plan_are_the_largest_gaps(engine):
    r1 = sections(report.collect(engine, Filters(), "R1"))["objectives"]
    assert r1.title == "Objectives and next steps"
    assert r1.lead.startswith("No objectives in an account plan for this account")
    # landing gap 1,000 - 270 = 730 (run rate 14.6 a week), then the Drinks white space 131.34
    assert r1.points == [
        "Close the $730 gap between the landing estimate and the 2026 annual target: $15 a week needed from here",
        "Grow Drinks: $131 more if its share here matched the portfolio's (18.5% here vs 67.2%)"]
    r2 = sections(report.collect(engine, Filters(), "R2"))["objectives"]
    # R2 (discount, alone in its channel) is compared with R1: Crisps is 220 of R1's 270, R2 sells 400:
    # 1/1 listing x 220/270 x 400 = 325.93; then the Snacks white space (220/670 - 0) x 400 = 131.34
    assert r2.points == [
        "Propose listing Crisps: an estimated $326 over a period like this one, at the rate of comparable accounts",
        "Grow Snacks: $131 more if its share here matched the portfolio's (0.0% here vs 32.8%)"]


def test_sheets_for_people_show_names_and_words(engine):
    pack = report.collect(engine, Filters(), "R2")
    gaps = next(t for t in pack.tables if t.sheet == "Range gaps")
    people = pack.people(gaps)
    assert people.headings[:2] == ["Product", "Brand"] and "sku_id" not in people.columns
    assert all("_" not in h for t in pack.tables for h in pack.people(t).headings)
    plan = pack.people(next(t for t in pack.tables if t.sheet == "Plan by month"))
    assert plan.headings[0] == "Retailer" and set(plan.frame["retailer_id"]) == {"Thin Mart"}
    # on the page the column that only repeats the retailer goes
    assert "retailer_id" not in pack.people(next(t for t in pack.tables if t.sheet == "Plan by month"),
                                            on_page=True).columns


def test_missing_tables_are_named_not_errors(engine):
    pack = report.collect(engine, Filters(), "R1")
    assert [s.key for s in pack.sections] == ["key-figures", "plan", "sell-in-sell-out", "skus", "white-space",
                                              "objectives"]
    assert pack.missing == ["Promotions: the promotions table is not loaded.",
                            "Inventory coverage and availability: the inventory table is not loaded."]


def test_thin_retailer_gets_a_shorter_pack_that_says_what_is_missing(engine):
    pack = report.collect(engine, Filters(), "R2")
    assert [c.key for c in pack.charts] == ["monthly", "pipeline", "category-mix"]  # no store vs online
    key = sections(pack)["key-figures"]
    assert key.lead.startswith("Net sales $400, no last year to compare, no target for the period.")
    assert "landing" not in key.lead.split(".")[0]
    gaps = pack.gaps
    assert "Key figures vs plan and last year: No sales last year to compare with." in gaps
    assert "Key figures vs plan and last year: No target for this period." in gaps
    assert "Key figures vs plan and last year: No sell-out reported in this period." in gaps
    assert "Sell-in vs sell-out: No sell-out reported, so no pipeline fill." in gaps
    assert any(g.startswith("Promotions:") for g in gaps) and any(g.startswith("Inventory") for g in gaps)
    by_key = {c.key: c for c in pack.charts}
    assert by_key["pipeline"].narrative == \
        "Sell-in 40 units over the period; no sell-out reported, so no pipeline fill."
    assert by_key["monthly"].narrative == "Landing estimate for 2026: $400 (no annual target loaded)."
    # R2 sells no Snacks: (220/670 - 0) x 400 = 131.34
    assert by_key["category-mix"].narrative == ("Largest white space: Snacks, $131 (portfolio share 32.8% vs 0.0% "
                                                "here).")
    # nothing on any page reads nan or None
    words = " ".join([s.lead for s in pack.sections] + [c.narrative for c in pack.charts] + gaps
                     + [p for s in pack.sections for p in s.points]).lower()
    assert "nan" not in words.split() and "none" not in words


def test_the_pack_files_of_a_thin_retailer_are_written(engine):
    files = report.build_pack(engine, Filters(), "R2", ["html", "xlsx"])
    assert list(files) == ["html", "xlsx"]
    page = files["html"].decode()
    assert "Not in this pack" in page and "No target for this period." in page
    assert page.count('class="plotly-graph-div"') == 3


def test_definitions_cover_every_metric_shown(engine):
    pack = report.collect(engine, Filters(), "R1")
    terms = [t for s in pack.sections for t in s.terms]
    shown = {key for _, key in terms}
    assert {term for term, _ in pack.definitions} == shown  # every term named exists in its module
    assert ("Pipeline fill", pytest.importorskip("kam_dash.metrics.account").DEFINITIONS["Pipeline fill"]) \
        in pack.definitions


def test_unknown_retailer_and_format_are_refused(engine):
    with pytest.raises(ValueError, match="unknown retailer"):
        report.collect(engine, Filters(), "R9")
    with pytest.raises(ValueError, match="formats must be among"):
        report.build_pack(engine, Filters(), "R1", ["pdf"])


def test_empty_database_pack_says_there_is_no_data(hand_db):
    engine = hand_db(retailers=RETAILERS[:1], products=PRODUCTS)
    pack = report.collect(engine, Filters(), "R1")
    assert pack.sections == [] and pack.missing == ["Everything: no sales data is loaded."]
    assert b"no sales data is loaded" in report.build_pack(engine, Filters(), "R1", ["html"])["html"]


def test_file_names_are_safe():
    assert packs.file_name("R1", "Fresh & Co. / Süd", dt.date(2026, 1, 1), dt.date(2026, 1, 12), "xlsx") == \
        "review-r1-fresh-co-süd-2026-01-01-to-2026-01-12.xlsx"
    assert packs.file_name("R1", "", None, None, "html") == "review-r1.html"


def test_sheet_names_are_valid_and_unique():
    taken: set[str] = set()
    assert sheet_name("Plan by month", taken) == "Plan by month"
    assert sheet_name("plan by month", taken) == "plan by month (2)"
    long = sheet_name("A very long sheet name: with / bad [chars]", taken)
    assert long == "A very long sheet name- with - " and len(long) <= 31


@pytest.mark.parametrize("name,values,kind", [
    ("net_sales", [1.0], "money"), ("share", [0.5], "pct"), ("sell_in_units", [1.0], "units"),
    ("week", pd.to_datetime(["2026-01-05"]), "date"), ("category", ["x"], "text"), ("score", [0.3], "decimal"),
    ("phantom_candidate", [True], "flag"), ("discount_pct", [20.0], "decimal"), ("lift_pct", [0.2], "change"),
    ("yoy_growth", [0.1], "change"),
])
def test_column_kinds(name, values, kind):
    assert packs.column_kind(name, pd.Series(values)) == kind


def test_cells_for_people():
    assert packs.show(1234567.0, "money") == "$1,234,567"
    assert packs.show(0.0421, "pct") == "4.2%"
    assert packs.show(float("nan"), "money") == fmt.DASH
    assert packs.show(None, "text") == fmt.DASH
    assert packs.show(pd.Timestamp("2026-01-05"), "date") == "05 Jan 2026"


def test_recent_packs_are_reused_for_the_same_view_only(engine):
    first = report.collect_recent(engine, Filters(), "R1")
    assert report.collect_recent(engine, Filters(), "R1") is first  # the workbook after the deck: no recompute
    assert report.collect_recent(engine, Filters(), "R2") is not first
    other = report.collect_recent(engine, Filters(period="l13w"), "R1")
    assert other is not first and other.period.startswith("Last 13 weeks")
