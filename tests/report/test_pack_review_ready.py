"""The pack a KAM takes into the room (issue 13), checked on the written files of the small demo: the deck tells
the story in order and ends on at most two definition slides; every sheet has headings in words, products,
retailers and stores by name, and a native chart on the main sheets; the HTML tells the same story without the
weekly tables."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from pptx import Presentation

from kam_dash import report
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.metrics import account
from kam_dash.report import deck

from .review_ready import charts_by_sheet, deck_titles, html_headings, html_sections, ids_with_names, \
    workbook_problems

STORY = ["key-figures", "plan", "sell-in-sell-out", "promotions", "inventory", "skus", "white-space", "objectives"]
# sheet -> (chart type, first value cells, category cells): what each main sheet draws from its own cells
MAIN_SHEET_CHARTS = {
    "Plan by month": ("col", "'Plan by month'!$E$2:$E$13", "'Plan by month'!$C$2:$C$13"),  # all categories only
    "Sell-in vs sell-out": ("line", None, None),
    "Store vs online": ("line", None, None),
    "Promotions": ("col", None, None),
    "Coverage": ("bar", None, None),
    "Availability": ("bar", None, None),
    "Top products": ("bar", "'Top products'!$E$2:$E$6", "'Top products'!$A$2:$A$6"),  # five products by name
    "Bottom products": ("bar", None, None),
    "White space": ("col", None, None),
}


@pytest.fixture(scope="module")
def ids(small_pack) -> set[str]:
    engine = DuckDBEngine(small_pack.db)
    try:
        return ids_with_names(engine)
    finally:
        engine.close()


@pytest.fixture(scope="module")
def store_pack(small_db, tmp_path_factory):
    """R002 reports by store: its pack keeps the distribution slide and the top voids. Written without chart
    images (the slide list is what is checked), with no account plan beside the database."""
    engine = DuckDBEngine(small_db)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("KAM_DASH_STATE", str(tmp_path_factory.mktemp("no-plan") / "absent.sqlite"))
            pack = report.collect(engine, Filters(), "R002")
        return pack, deck.render(pack, None, "no images in this test"), report.render(pack, ["xlsx"])["xlsx"]
    finally:
        engine.close()


def test_deck_tells_the_story_in_order(small_pack):
    titles = deck_titles(small_pack.files["pptx"])
    assert titles == [
        "Fresh Market: account review", "Key figures vs plan and last year",
        "Monthly net sales vs target, 2026",  # plan
        "Sell-in vs sell-out by week, and pipeline fill", "Store vs online sell-out",  # pipeline
        "Promotion calendar", "ROI by mechanic",  # promotions
        "Weeks of cover against the agreed band", "Cover status by SKU and week", "Stock reconciliation",  # stock
        "Products: biggest gains and losses vs last year", "White space: products and categories to add",
        "Category mix vs the portfolio", "Objectives and next steps", "Definitions (1 of 2)", "Definitions (2 of 2)"]


def test_definitions_fit_on_two_slides_at_the_end(small_pack, store_pack):
    for titles in (deck_titles(small_pack.files["pptx"]), deck_titles(store_pack[1])):
        defs = [i for i, t in enumerate(titles) if t.startswith("Definitions")]
        assert 1 <= len(defs) <= 2
        assert defs == list(range(len(titles) - len(defs), len(titles)))  # the last slides
    # even forty long definitions are cut to two slides, none dropped
    many = [(f"Term {i}", "A long definition that goes on. " * 30) for i in range(40)]
    columns = deck.definition_columns(many)
    assert len(columns) <= deck.DEFINITION_SLIDES * deck.DEFINITION_COLUMNS
    assert [t for c in columns for t, _ in c] == [t for t, _ in many]


def test_store_account_keeps_distribution_and_top_voids(store_pack):
    pack, pptx, _ = store_pack
    titles = deck_titles(pptx)
    story = titles.index("Cover status by SKU and week")
    assert titles[story + 1:story + 5] == ["Distribution x velocity per SKU",
                                           "Top voids: stores that stopped selling a product",
                                           "Products: biggest gains and losses vs last year",
                                           "White space: products and categories to add"]
    slide = Presentation(io.BytesIO(pptx)).slides[titles.index("Top voids: stores that stopped selling a product")]
    grid = next(s.table for s in slide.shapes if s.has_table)
    assert [grid.cell(0, c).text for c in range(len(grid.columns))] == [
        "Store", "Product", "First week", "Weeks", "Estimated lost units"]  # the retailer is the deck's own
    voids = next(t for t in pack.tables if t.sheet == "Top voids").frame
    assert grid.cell(1, 0).text == pack.names["store_id"][voids["store_id"].iloc[0]]
    assert grid.cell(1, 1).text == pack.names["sku_id"][voids["sku_id"].iloc[0]]


def test_products_slide_names_the_top_and_bottom_five(small_pack):
    pack = small_pack.pack
    slide = Presentation(str(small_pack.files["pptx"])).slides[10]
    assert slide.shapes.title.text == "Products: biggest gains and losses vs last year"
    grids = [s.table for s in slide.shapes if s.has_table]
    top, bottom = (next(t for t in pack.tables if t.sheet == s).frame for s in ("Top products", "Bottom products"))
    assert len(top) == len(bottom) == 5
    assert top["change"].is_monotonic_decreasing and bottom["change"].is_monotonic_increasing
    assert (top["change"] > 0).all() and (bottom["change"] < 0).all()  # the demo account has both
    # the five largest sell-out gains and losses of the account's SKU table (weeks reported both years vs last year)
    engine = DuckDBEngine(small_pack.db)
    try:
        skus = account.account_page_data(engine, Filters(), "R001").skus
    finally:
        engine.close()
    # a product new this year gains all it sells (last year counts 0), as in the SKU table
    change = skus["sell_out_comparable"].fillna(0) - skus["sell_out_value_ly"].fillna(0)
    skus = skus.assign(sell_out_change=change).sort_values(["sell_out_change", "sku_id"], ascending=[False, True])
    assert list(top["sku_name"]) == list(skus["sku_name"].head(5))
    assert list(bottom["sku_name"]) == list(skus["sku_name"].tail(5))[::-1]
    assert top["change"].tolist() == pytest.approx(skus["sell_out_change"].head(5).tolist())
    for grid, frame in zip(grids, (top, bottom)):
        # ranked on sell-out, what the buyer sees (the demo account reports it both years)
        assert [grid.cell(0, c).text for c in range(4)] == ["Product", "Sell-out value", "Change vs last year",
                                                            "Growth vs last year"]
        assert [grid.cell(r, 0).text for r in range(1, 6)] == list(frame["sku_name"])


def test_every_sheet_has_headings_in_words_and_names_not_ids(small_pack, store_pack, ids):
    assert "R001" in ids and "SKU00001" in ids  # the check knows the ids it looks for
    assert workbook_problems(small_pack.files["xlsx"], ids) == []
    assert workbook_problems(store_pack[2], ids) == []
    book = load_workbook(small_pack.files["xlsx"])
    assert [c.value for c in book["Coverage"][1]][:3] == ["Retailer", "Product", "Week"]
    assert {r[0] for r in book["Coverage"].iter_rows(min_row=2, values_only=True)} == {"Fresh Market"}
    mechanics = {r[3] for r in book["Promotions"].iter_rows(min_row=2, values_only=True)}
    assert mechanics and mechanics <= {"Price cut", "Multi-buy", "Buy one get one", "Display", "Feature ad", "Other"}


def test_the_checks_catch_ids_and_underscores(small_pack, ids, tmp_path):
    # a sheet written the old way (machine headings, SKU ids) fails both rules
    import pandas as pd

    bad = tmp_path / "bad.xlsx"
    pd.DataFrame({"sku_id": ["SKU00001"], "net_sales": [1.0]}).rename(columns={"sku_id": "Product"}).to_excel(
        bad, index=False)
    assert workbook_problems(bad, ids) == ["Sheet1: heading 'net_sales'", "Sheet1: Product 'SKU00001'"]


def test_main_sheets_carry_a_native_chart(small_pack, store_pack):
    charts = charts_by_sheet(small_pack.files["xlsx"])
    for sheet, (kind, values, categories) in MAIN_SHEET_CHARTS.items():
        assert len(charts[sheet]) == 1, sheet
        chart = charts[sheet][0]
        assert chart.tagname == ("lineChart" if kind == "line" else "barChart"), sheet
        if kind != "line":
            assert chart.barDir == kind, sheet
        series = chart.series[0]
        if values:
            assert series.val.numRef.f == values
            cats = series.cat.numRef or series.cat.strRef
            assert cats.f == categories
    assert charts["About"] == charts["Definitions"] == charts["Products"] == []  # not where it does not help
    store_charts = charts_by_sheet(store_pack[2])
    assert len(store_charts["Distribution"]) == 1 and len(store_charts["Range gaps"]) <= 1


def test_html_tells_the_same_story_without_weekly_tables(small_pack):
    page = small_pack.files["html"].read_text()
    assert html_sections(page) == [*STORY, "definitions"]
    headings = html_headings(page)
    assert headings and not [h for h in headings if "_" in h]
    assert "Week" not in headings  # the weekly rows are in the workbook only
    assert "Sell-in vs sell-out units by week" not in page and "Sell-out value by week, store and online" not in page
    assert "in the workbook only: Sell-in vs sell-out and Store vs online sheets." in page
    # the deck's story, in the same order: each chart of the pack, then the next steps
    positions = [page.index(f'id="chart-{c.key}"') for c in small_pack.pack.charts]
    assert positions == sorted(positions)
    assert page.index('id="objectives"') > positions[-1]


def test_page_tables_are_cut_to_what_a_kam_reads_first(small_pack):
    """The page shows each table's first columns (ROI and flag before the detail); the workbook keeps them all."""
    import re

    page = small_pack.files["html"].read_text()
    block = page[page.index("<h3>Promotion lift and ROI (seasonal pre-period baseline)</h3>"):]
    block = block[:block.index("</thead>")]
    assert re.findall(r"<th[^>]*>([^<]*)</th>", block) == [
        "Product", "Mechanic", "First week", "Last week", "ROI", "Flag", "Lift", "Incremental units", "Trade spend",
        "Incremental gross profit"]
    sheet = [c.value for c in load_workbook(small_pack.files["xlsx"])["Promotions"][1]]
    assert len(sheet) == 24 and sheet[:3] == ["Promotion", "Retailer", "Product"]  # every column of the export


def test_the_best_mechanic_is_named_in_words(small_pack):
    from kam_dash.labels import MECHANIC_WORDS

    roi = next(c for c in small_pack.pack.charts if c.key == "promotion-roi").narrative
    best = roi.split("best mechanic: ")[1].split(" (")[0]
    assert best in MECHANIC_WORDS.values() and best not in MECHANIC_WORDS
