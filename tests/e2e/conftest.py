"""Browser tests: the real app under `streamlit run`, driven by Playwright in Debian's Chromium.

Modelled on Streamlit's own e2e suite: start the server headless on a free port, poll
/_stcore/health until it answers ok, and wait for the script to finish before asserting.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.live_app import (  # noqa: F401 - metric_values and the server helpers are re-exported for tests
    CHROMIUM, CHROMIUM_ARGS, drawn_for, metric_values, start_server, stop_server,
)


@pytest.fixture(scope="session")
def live_app(small_db, tmp_path_factory):
    """Base URL of `streamlit run app.py` on the small demo (one server for the session)."""
    proc, url = start_server(small_db, tmp_path_factory.mktemp("server") / "streamlit.log")
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def _browser():
    # Module scope: Playwright's sync API holds an event loop on the main thread while it is open,
    # which other tests' own asyncio (kaleido) and Playwright sessions must not find running.
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium'; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def browser_page(_browser):
    """A fresh page in its own context (no shared cookies or storage between tests)."""
    context = _browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def wait_ready(page, timeout: float = 60_000, hold_ms: int = 400) -> None:
    """Wait until the page is drawn (script idle, nothing stale, every chart and tile drawn) and has stayed so for
    `hold_ms`: the same test of "drawn" as the browser bench's (live_app.DRAWN_FN). The window's state is reset
    first, so a wait after a click never counts time from before it."""
    page.evaluate("() => { window.__kamDrawnSince = null; }")
    page.wait_for_function(drawn_for(hold_ms), polling=50, timeout=timeout)


def charts_drawn(page) -> int:
    """Scroll through every plotly chart on the page, check each drew its SVG, and count them."""
    from playwright.sync_api import expect

    charts = page.get_by_test_id("stPlotlyChart")
    charts.first.wait_for(state="visible")
    for i in range(charts.count()):
        charts.nth(i).scroll_into_view_if_needed()
        expect(charts.nth(i).locator("svg.main-svg").first).to_be_visible()
    return charts.count()


def chart_titles(page) -> list[str]:
    """The titles plotly drew on the page's charts, once every chart has drawn (a script done is not a chart
    drawn: on a loaded machine the titles were read before the first chart mounted)."""
    charts_drawn(page)
    return [t.strip() for t in page.locator("[data-testid='stPlotlyChart'] .gtitle").all_text_contents()]


def x_ticks(page, chart_text: str) -> list[str]:
    """The x-axis tick labels of the first chart on the page that shows `chart_text`."""
    chart = page.get_by_test_id("stPlotlyChart").filter(has_text=chart_text).first
    return [t.strip() for t in chart.locator(".xtick text").all_text_contents()]
