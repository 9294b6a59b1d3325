"""The review pack's HTML opened in headless Chromium: every chart renders, and opening it asks the network for
nothing (every request stays on file:, about:, data: or blob:)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kam_dash import report
from kam_dash.filters import Filters

CHROMIUM = os.environ.get("KAM_DASH_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOCAL = ("file:", "about:", "data:", "blob:")

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium')")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def open_offline(browser, path: Path):
    """The page and every URL it requested."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []
    context.on("request", lambda req: requests.append(req.url))
    page = context.new_page()
    page.goto(path.resolve().as_uri(), wait_until="load")
    return context, page, requests


DRAWN = """() => [...document.querySelectorAll('.js-plotly-plot')].filter(
    gd => gd._fullLayout && gd.querySelector('svg.main-svg') && gd.data.length > 0).length"""


def test_html_renders_every_chart_without_network(browser, small_pack):
    expected = len(small_pack.pack.charts)
    assert expected == 9
    context, page, requests = open_offline(browser, small_pack.files["html"])
    try:
        page.wait_for_function(f"() => ({DRAWN})() === {expected}", timeout=60_000)
        assert page.evaluate("() => document.querySelectorAll('.js-plotly-plot').length") == expected
        # each chart drew its traces into its SVG: bars, lines, heatmap image or waterfall
        drawn = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].map(gd =>
            gd.querySelectorAll('g.trace, g.hm, image').length)""")
        assert all(n > 0 for n in drawn), drawn
        assert page.title() == "Fresh Market: account review"
        text = page.inner_text("body")
        for chart in small_pack.pack.charts:
            assert chart.narrative in text
        for term, _ in small_pack.pack.definitions:
            assert term in text
        # printable: the print stylesheet hides the contents list and Chromium lays the pack out on pages
        page.emulate_media(media="print")
        assert page.evaluate("() => getComputedStyle(document.querySelector('nav')).display") == "none"
        pdf = page.pdf(format="A4", landscape=True)
        assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + \
            pdf.count(b"/Type/Page") >= len(small_pack.pack.sections)
    finally:
        context.close()
    assert requests, "the page itself is a request"
    outside = [u for u in requests if not u.startswith(LOCAL)]
    assert outside == []


def test_thin_pack_html_renders_and_says_what_is_missing(browser, hand_db, tmp_path):
    from tests.unit.test_report_pack import PRODUCTS, RETAILERS, SELL_IN, SELL_OUT, TARGETS

    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=SELL_IN, sell_out=SELL_OUT, targets=TARGETS)
    path = tmp_path / "thin.html"
    path.write_bytes(report.build_pack(engine, Filters(), "R2", ["html"])["html"])
    context, page, requests = open_offline(browser, path)
    try:
        page.wait_for_function(f"() => ({DRAWN})() === 3", timeout=60_000)
        gaps = page.inner_text(".gaps")
        assert "No target for this period." in gaps and "No sales last year to compare with." in gaps
        assert "Promotions: the promotions table is not loaded." in gaps
        body = page.inner_text("body")
        assert "nan" not in body.split() and "None" not in body.split()
    finally:
        context.close()
    assert [u for u in requests if not u.startswith(LOCAL)] == []
