"""The app shell in a real browser: charts render, a filter changes a KPI, a reload restores the filters."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import charts_drawn, metric_values, wait_ready

pytestmark = pytest.mark.e2e


def test_portfolio_renders_charts_and_kpis(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/")
    wait_ready(page)
    expect(page.get_by_role("heading", name="Portfolio")).to_be_visible()
    # every plotly chart on the page drew its SVG (net sales vs plan and the Pareto at least)
    assert charts_drawn(page) >= 2
    tiles = metric_values(page)
    assert re.fullmatch(r"\$[\d.,]+[KMB]?", tiles["Net sales"]), tiles
    assert "Data through the week of" in page.get_by_test_id("stCaptionContainer").first.inner_text()


def test_changing_a_filter_changes_a_kpi_and_the_url(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/")
    wait_ready(page)
    before = metric_values(page)["Net sales"]
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name="Last 13 weeks").click()
    wait_ready(page)
    expect(page).to_have_url(re.compile(r"period=l13w"))
    after = metric_values(page)["Net sales"]
    assert after != before


def test_reloading_the_url_restores_the_filters(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/?period=l13w&category=Snacks")
    wait_ready(page)
    snacks_13w = metric_values(page)["Net sales"]
    caption = page.get_by_test_id("stCaptionContainer").first.inner_text()
    assert "Last 13 weeks" in caption and "categories: Snacks" in caption
    page.reload()
    wait_ready(page)
    assert metric_values(page)["Net sales"] == snacks_13w
    expect(page).to_have_url(re.compile(r"category=Snacks"))
    # the sidebar widgets show the restored values
    expect(page.get_by_test_id("stSidebar").get_by_text("Snacks")).to_be_visible()


def test_tampered_url_warns_and_keeps_running(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/?period=custom&start=2026-13-40&end=x&retailer=R001%27%3BDROP%20TABLE%20sell_in")
    wait_ready(page)
    alerts = page.get_by_test_id("stAlert")
    text = " ".join(alerts.all_inner_texts())
    assert "not a date" in text and "Unknown retailer" in text
    assert "Year to date" in page.get_by_test_id("stCaptionContainer").first.inner_text()
    expect(page.get_by_test_id("stMetric").first).to_be_visible()


def test_filters_hold_when_moving_between_pages(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/?period=l52w&category=Soups")
    wait_ready(page)
    nav = page.get_by_test_id("stSidebarNav")
    links = nav.get_by_role("link")
    names = [t.split("\n")[-1].strip() for t in links.all_inner_texts()]  # after the icon's ligature text
    assert names[0] == "Portfolio", names
    other = names[1]
    links.filter(has_text=other).click()
    wait_ready(page)
    expect(page).to_have_url(re.compile(r"period=l52w"))
    expect(page).to_have_url(re.compile(r"category=Soups"))
    links.filter(has_text="Portfolio").click()
    wait_ready(page)
    caption = page.get_by_test_id("stCaptionContainer").first.inner_text()
    assert "Last 52 weeks" in caption and "categories: Soups" in caption


def test_a_shared_page_link_opens_in_the_app_shell(small_db, tmp_path, browser_page):
    """The first request after start is a page's URL: the app still runs through its router (its own
    navigation and wide layout, not Streamlit's pages-folder menu) with the link's filters."""
    from tests.e2e.conftest import start_server, stop_server

    proc, url = start_server(small_db, tmp_path / "fresh.log")
    try:
        page = browser_page
        page.goto(f"{url}/account_review?account=R002&period=l13w")
        wait_ready(page)
        nav = [t.split("\n")[-1].strip() for t in page.get_by_test_id("stSidebarNav").get_by_role("link").all_inner_texts()]
        assert nav[0] == "Portfolio" and "app" not in nav, nav
        expect(page.get_by_role("heading", name="Account review")).to_be_visible()
        assert "Last 13 weeks" in page.get_by_test_id("stCaptionContainer").first.inner_text()
    finally:
        stop_server(proc)
