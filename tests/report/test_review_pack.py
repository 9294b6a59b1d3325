"""Open what the review pack wrote (small demo, R001, year to date): the workbook read back with openpyxl equals
the exports, and the deck read back with python-pptx has the expected slides, titles and the exports' numbers."""

from __future__ import annotations

import asyncio
import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from PIL import Image, ImageChops
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from kam_dash import export, fmt
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.report import images as report_images
from kam_dash.report.pack import ID_NAMES

from .conftest import RETAILER

MINE = Filters(retailers=(RETAILER,))
# sheet -> (export, filters); exports over the whole portfolio keep the retailer's rows
EXPORT_SHEETS = {
    "Account score": ("account-scores", Filters()),
    "Revenue share": ("revenue-share", Filters()),
    "Plan by month": ("plan", MINE),
    "Sell-in vs sell-out": ("pipeline", MINE),
    "White space": ("white-space", MINE),
    "Promotions": ("promo-lift", MINE),
    "Coverage": ("coverage", MINE),
    "Availability": ("availability", MINE),
    "Stock reconciliation": ("reconciliation", MINE),
}
# the story's order (the small demo reports no stores: no distribution section)
ALL_SECTIONS = ["key-figures", "plan", "sell-in-sell-out", "promotions", "inventory", "skus", "white-space",
                "objectives"]


@pytest.fixture(scope="module")
def exports(small_pack):
    engine = DuckDBEngine(small_pack.db)
    out = {}
    for sheet, (name, filters) in EXPORT_SHEETS.items():
        frame = export.compute(name, engine, filters)
        out[sheet] = frame[frame["retailer_id"] == RETAILER].reset_index(drop=True)
    engine.close()
    return out


def excel_value(value):
    """What a workbook cell holds for an export value: numbers as floats, dates as datetimes, blanks as None."""
    if value is None or (not isinstance(value, (str, bool, np.bool_)) and pd.isna(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return pd.Timestamp(value).to_pydatetime().replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, (int, float, np.number)):
        return float(value)
    return str(value)


def test_every_section_that_can_exist_does(small_pack):
    # the small demo has every table and every metric module has landed: nothing is left out
    assert [s.key for s in small_pack.pack.sections] == ALL_SECTIONS
    assert small_pack.pack.missing == []
    assert [c.key for c in small_pack.pack.charts] == [
        "monthly", "pipeline", "store-online", "promotion-calendar", "promotion-roi", "cover-trend", "cover-heatmap",
        "reconciliation", "category-mix"]


def test_workbook_sheets_equal_the_exports(small_pack, exports):
    """Each export's sheet holds the export's rows as people read them: the id columns by name (or left out where
    the export has the name beside them), every number as the export has it."""
    book = load_workbook(small_pack.files["xlsx"])
    assert book.sheetnames == ["About", "Key figures", "Account score", "Revenue share", "Plan by month",
                               "Sell-in vs sell-out", "Store vs online", "Promotions", "Coverage", "Availability",
                               "Stock reconciliation", "Top products", "Bottom products", "Products", "White space",
                               "Definitions"]
    engine = DuckDBEngine(small_pack.db)
    names = {"retailer_id": dict(engine.execute(engine.table("retailers").select("retailer_id", "retailer_name"))
                                 .itertuples(index=False)),
             "sku_id": dict(engine.execute(engine.table("products").select("sku_id", "sku_name"))
                            .itertuples(index=False))}
    engine.close()
    for sheet, frame in exports.items():
        ws = book[sheet]
        assert len(frame) > 0, sheet
        kept = [c for c in frame.columns if not (c in ID_NAMES and ID_NAMES[c] in frame.columns)]
        rows = list(ws.iter_rows(values_only=True))
        assert len(rows[0]) == len(kept), sheet
        assert len(rows) == len(frame) + 1, sheet
        for r, (got_row, (_, want_row)) in enumerate(zip(rows[1:], frame[kept].iterrows())):
            for col, got in zip(kept, got_row):
                want = want_row[col]
                if col in names:  # by name, never the id
                    assert got == names[col][want], (sheet, r, col)
                    continue
                want = excel_value(want)
                if isinstance(want, float):
                    assert got == pytest.approx(want, rel=1e-12, abs=1e-9), (sheet, r, col)
                elif col not in ("mechanic", "basis", "method", "status"):  # those are in words
                    assert got == want, (sheet, r, col)
        # a frozen header row and a filter over the whole table
        assert ws.freeze_panes == "A2", sheet
        assert ws.auto_filter.ref == f"A1:{get_column_letter(len(kept))}{len(frame) + 1}", sheet


def test_workbook_numbers_carry_number_formats(small_pack):
    book = load_workbook(small_pack.files["xlsx"])

    def fmt_of(sheet, column):
        ws = book[sheet]
        header = [c.value for c in ws[1]]
        return ws.cell(2, header.index(column) + 1).number_format

    assert fmt_of("Revenue share", "Net sales") == "#,##0"
    assert fmt_of("Revenue share", "Share") == "0.0%"
    assert fmt_of("Plan by month", "Month") == "yyyy-mm-dd"
    assert fmt_of("Sell-in vs sell-out", "Sell-in units") == "#,##0"
    assert fmt_of("Coverage", "Weeks of cover") == "#,##0.00"
    # the key figures: money rows in money, percent rows in percent
    ws = book["Key figures"]
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    assert ws.cell(rows["Net sales"], 2).number_format == "#,##0"
    assert ws.cell(rows["Gross margin"], 2).number_format == "0.0%"
    assert ws.cell(rows["Net sales"], 4).number_format == "+0.0%;-0.0%;0.0%"  # change vs last year, signed


def test_workbook_key_figures_match_the_revenue_share_export(small_pack, exports):
    ws = load_workbook(small_pack.files["xlsx"])["Key figures"]
    rows = {ws.cell(r, 1).value: [c.value for c in ws[r]] for r in range(2, ws.max_row + 1)}
    share = exports["Revenue share"].iloc[0]
    # measure, value, last_year, change_vs_last_year, plan, share_of_plan
    assert rows["Net sales"][1] == pytest.approx(share["net_sales"])
    assert rows["Net sales"][2] == pytest.approx(share["net_sales_ly"])
    assert rows["Net sales"][3] == pytest.approx(share["yoy_growth"])
    assert rows["Net sales"][4] == pytest.approx(share["net_sales_target"])
    assert rows["Net sales"][5] == pytest.approx(share["attainment"])
    assert rows["Share of the portfolio's net sales"][1] == pytest.approx(share["share"])


def slides(small_pack):
    deck = Presentation(small_pack.files["pptx"])
    out = []
    for slide in deck.slides:
        title = slide.shapes.title.text if slide.shapes.title is not None else ""
        texts = [s.text_frame.text for s in slide.shapes if s.has_text_frame and s != slide.shapes.title]
        pictures = [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
        tables = [s.table for s in slide.shapes if s.has_table]
        out.append({"title": title, "texts": texts, "pictures": pictures, "tables": tables})
    return out


def by_title(small_pack) -> dict:
    return {s["title"]: s for s in slides(small_pack)}


def test_deck_has_a_slide_per_chart_with_its_title_and_narrative(small_pack):
    pack = small_pack.pack
    deck = slides(small_pack)
    titles = [s["title"] for s in deck]
    assert titles == [pack.title, "Key figures vs plan and last year", "Monthly net sales vs target, 2026",
                      "Sell-in vs sell-out by week, and pipeline fill", "Store vs online sell-out",
                      "Promotion calendar", "ROI by mechanic", "Weeks of cover against the agreed band",
                      "Cover status by SKU and week", "Stock reconciliation",
                      "Products: biggest gains and losses vs last year", "White space: products and categories to add",
                      "Category mix vs the portfolio", "Objectives and next steps", "Definitions (1 of 2)",
                      "Definitions (2 of 2)"]
    assert pack.title == "Fresh Market: account review"
    charts = {c.title: c for c in pack.charts}
    for slide in deck:
        if slide["title"] in charts:
            assert slide["texts"] == [charts[slide["title"]].narrative]
            assert len(slide["pictures"]) == 1
            with Image.open(io.BytesIO(slide["pictures"][0].image.blob)) as img:
                assert img.format == "PNG" and img.width == 1920  # 1280 px at scale 1.5
    assert sum(s["title"] in charts for s in deck) == len(pack.charts)
    # every definition shown in the pack is on the two definition slides, by its term and its first words
    defs = " ".join(t for s in deck if s["title"].startswith("Definitions") for t in s["texts"])
    for term, text in pack.definitions:
        assert f"{term}: {' '.join(text.split()[:4])}" in defs


def test_deck_numbers_equal_the_exports(small_pack, exports):
    deck = by_title(small_pack)
    share = exports["Revenue share"].iloc[0]
    # the key figures table: net sales as in the revenue-share export, formatted for people
    table = deck["Key figures vs plan and last year"]["tables"][0]
    cells = {table.cell(r, 0).text: [table.cell(r, c).text for c in range(6)] for r in range(1, len(table.rows))}
    assert cells["Net sales"][1] == fmt.money(share["net_sales"], compact=False)
    assert cells["Net sales"][3] == fmt.pct(share["yoy_growth"], signed=True)
    assert cells["Net sales"][5] == fmt.pct(share["attainment"])
    lead = deck["Key figures vs plan and last year"]["texts"][0]
    growth = fmt.pct(share["yoy_growth"], signed=True)
    assert f"Net sales {fmt.money(share['net_sales'])}, {growth} vs last year" in lead
    score = exports["Account score"].iloc[0]
    assert f"{score['tier']} account (key-account score {fmt.number(score['score'], 2)})" in lead

    plan = exports["Plan by month"]
    overall = plan[plan["category"] == ""].iloc[0]
    text = deck["Monthly net sales vs target, 2026"]["texts"][0]
    assert f"Landing estimate for 2026: {fmt.money(overall['landing_estimate'])} against a " \
           f"{fmt.money(overall['annual_target'])} annual target" in text

    pipe = exports["Sell-in vs sell-out"]
    text = deck["Sell-in vs sell-out by week, and pipeline fill"]["texts"][0]
    assert f"Sell-in {fmt.number(pipe['sell_in_units'].sum())} units vs sell-out " \
           f"{fmt.number(pipe['sell_out_units'].sum())} units" in text
    fill = pipe["cum_pipeline_units"].iloc[-1]
    assert fmt.number(abs(fill)) in text

    promos = exports["Promotions"]
    text = deck["Promotion calendar"]["texts"][0]
    assert text.startswith(f"{len(promos)} promotions in the period, {promos['lift_pct'].notna().sum()} with a "
                           f"measured lift: median lift {fmt.pct(promos['lift_pct'].median(), signed=True)}, "
                           f"{fmt.number(promos['incremental_units'].sum())} incremental units")
    paid = promos.dropna(subset=["roi"])
    roi = (paid["incremental_gross_profit"].sum() - paid["trade_spend"].sum()) / paid["trade_spend"].sum()
    assert deck["ROI by mechanic"]["texts"][0].startswith(
        f"ROI {fmt.pct(roi, signed=True)} on {fmt.money(paid['trade_spend'].sum())} of trade spend; "
        f"{fmt.pct((paid['roi'] >= 0).mean())} of {len(paid)} events paid back")

    avail = exports["Availability"]
    text = deck["Cover status by SKU and week"]["texts"][0]
    oos = int(avail["oos_weeks"].sum())
    if oos:
        assert f"{oos} out-of-stock week{'s' if oos > 1 else ''} lost an estimated " \
               f"{fmt.number(avail['lost_units'].sum())} units ({fmt.money(avail['lost_value'].sum())})" in text
    else:
        assert "no out-of-stock weeks in the period" in text
    cov = exports["Coverage"]
    text = deck["Weeks of cover against the agreed band"]["texts"][0]
    cover_weeks = cov["on_hand_units"].sum() / cov["avg_weekly_units"].sum()
    assert text.startswith(f"Stock covers {fmt.number(cover_weeks, 1)} weeks of sell-out at the week of "
                           f"{pd.Timestamp(cov['week'].iloc[0]):%d %b %Y}")
    recon = exports["Stock reconciliation"].iloc[0]
    assert deck["Stock reconciliation"]["texts"][0].startswith(
        f"Sell-in {fmt.number(recon['sell_in_units'])} units minus sell-out {fmt.number(recon['sell_out_units'])} "
        f"units against a stock change of {fmt.number(recon['on_hand_change'])} units")


def test_html_holds_one_chart_per_figure_and_every_narrative(small_pack):
    page = small_pack.files["html"].read_text()
    assert page.count('class="plotly-graph-div"') == len(small_pack.pack.charts)
    for chart in small_pack.pack.charts:
        assert chart.narrative.replace("'", "&#x27;") in page
    assert "<script src=" not in page and "<link " not in page  # plotly.js is inline; nothing is fetched
    assert "@media print" in page


def _pixels(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def test_chart_images_from_one_browser_match_stock_kaleido(small_pack, chart_images):
    """The pack's browser keeps its tab between images (see images.py); the images must be what stock
    kaleido, which reloads the page after each image, draws."""
    import kaleido

    first, second = small_pack.pack.charts[0].figure, small_pack.pack.charts[1].figure
    ours = [chart_images.png(f, 800, 420) for f in (first, second, first)]

    async def stock():
        async with kaleido.Kaleido(n=1, mathjax=False) as k:
            opts = {"format": "png", "width": 800, "height": 420, "scale": report_images.SCALE}
            return [await k.calc_fig(f, opts=opts) for f in (first, second)]

    theirs = asyncio.run(stock())
    assert ImageChops.difference(_pixels(ours[0]), _pixels(theirs[0])).getbbox() is None
    assert ImageChops.difference(_pixels(ours[1]), _pixels(theirs[1])).getbbox() is None
    assert ImageChops.difference(_pixels(ours[2]), _pixels(ours[0])).getbbox() is None  # no state carried over
    assert ImageChops.difference(_pixels(ours[0]), _pixels(ours[1])).getbbox() is not None


def test_thin_retailer_deck_is_shorter_and_says_what_is_missing(hand_db, chart_images):
    from kam_dash import report
    from tests.unit.test_report_pack import PRODUCTS, RETAILERS, SELL_IN, SELL_OUT, TARGETS

    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=SELL_IN, sell_out=SELL_OUT, targets=TARGETS)
    files = report.build_pack(engine, Filters(), "R2", ["pptx", "xlsx"], chart_images)
    deck = Presentation(io.BytesIO(files["pptx"]))
    titles = [s.shapes.title.text for s in deck.slides]
    assert titles[:9] == ["Thin Mart: account review", "Key figures vs plan and last year",
                          "Monthly net sales vs target, 2026", "Sell-in vs sell-out by week, and pipeline fill",
                          "Products: biggest gains and losses vs last year",
                          "White space: products and categories to add", "Category mix vs the portfolio",
                          "Objectives and next steps", "Not in this pack"]
    assert titles[9:] in (["Definitions"], ["Definitions (1 of 2)", "Definitions (2 of 2)"])
    missing = next(s for s in deck.slides if s.shapes.title.text == "Not in this pack")
    text = " ".join(sh.text_frame.text for sh in missing.shapes if sh.has_text_frame)
    for gap in ("Promotions: the promotions table is not loaded.", "No target for this period.",
                "No sales last year to compare with.", "No sell-out reported, so no pipeline fill."):
        assert gap in text
    # key figures: net sales 400 (200 + 200), and dashes where there is no last year or plan
    table = next(sh.table for sh in deck.slides[1].shapes if sh.has_table)
    net = [table.cell(1, c).text for c in range(6)]
    assert net == ["Net sales", "$400", fmt.DASH, fmt.DASH, fmt.DASH, fmt.DASH]
    book = load_workbook(io.BytesIO(files["xlsx"]))
    assert book.sheetnames == ["About", "Key figures", "Account score", "Revenue share", "Plan by month",
                               "Sell-in vs sell-out", "Top products", "Products", "Range gaps", "White space",
                               "Definitions"]
    # no sell-out: its column is empty, not zero
    assert {row[3] for row in book["Sell-in vs sell-out"].iter_rows(min_row=2, values_only=True)} == {None}
