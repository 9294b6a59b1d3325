"""The app shell in a real browser: charts render, a filter changes a KPI, a reload restores the filters."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import metric_values, wait_ready

pytestmark = pytest.mark.e2e


def test_portfolio_renders_charts_and_kpis(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/portfolio")
    wait_ready(page)
    expect(page.get_by_role("heading", name="Portfolio")).to_be_visible()
    # every plotly chart on the page drew its SVG (net sales vs plan and the Pareto at least)
    charts = page.get_by_test_id("stPlotlyChart")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 2
    for i in range(charts.count()):
        charts.nth(i).scroll_into_view_if_needed()
        expect(charts.nth(i).locator("svg.main-svg").first).to_be_visible()
    tiles = metric_values(page)
    assert re.fullmatch(r"\$[\d.,]+[KMB]?", tiles["Net sales"]), tiles
    assert "Data through the week of" in page.get_by_test_id("stCaptionContainer").first.inner_text()


def test_changing_a_filter_changes_a_kpi_and_the_url(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/portfolio")
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
    page.goto(f"{live_app}/portfolio?period=l13w&category=Snacks")
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
    page.goto(f"{live_app}/portfolio?period=custom&start=2026-13-40&end=x&retailer=R001%27%3BDROP%20TABLE%20sell_in")
    wait_ready(page)
    alerts = page.get_by_test_id("stAlert")
    text = " ".join(alerts.all_inner_texts())
    assert "not a date" in text and "Unknown retailer" in text
    assert "Year to date" in page.get_by_test_id("stCaptionContainer").first.inner_text()
    expect(page.get_by_test_id("stMetric").first).to_be_visible()


def test_filters_hold_when_moving_between_pages(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/portfolio?period=l52w&category=Soups")
    wait_ready(page)
    nav = page.get_by_test_id("stSidebarNav")
    links = nav.get_by_role("link")
    names = [t.strip() for t in links.all_inner_texts()]
    other = next(n for n in names if n and n != "Portfolio")
    nav.get_by_role("link", name=other).click()
    wait_ready(page)
    expect(page).to_have_url(re.compile(r"period=l52w"))
    expect(page).to_have_url(re.compile(r"category=Soups"))
    nav.get_by_role("link", name="Portfolio").click()
    wait_ready(page)
    caption = page.get_by_test_id("stCaptionContainer").first.inner_text()
    assert "Last 52 weeks" in caption and "categories: Soups" in caption
