"""The Plan tracking page in a real browser: tiles and charts, a filter that changes them, and a link to an
account's review that keeps the filters."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import metric_values, wait_ready, x_ticks

pytestmark = pytest.mark.e2e


def waterfall_steps(page) -> list[str]:
    return x_ticks(page, "Last year to the")


def test_tiles_charts_and_a_filter_change(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/plan")
    wait_ready(page)
    expect(page.get_by_role("heading", name="Plan tracking")).to_be_visible()
    tiles = metric_values(page)
    assert re.fullmatch(r"-?\$[\d.,]+[KMB]?", tiles["Landing estimate"]), tiles
    low, high = tiles["Landing range"].split(" – ")  # the landing's low and high, both money
    assert re.fullmatch(r"-?\$[\d.,]+[KMB]?", low) and re.fullmatch(r"-?\$[\d.,]+[KMB]?", high), tiles
    steps = waterfall_steps(page)
    assert steps[0] == "Last year" and steps[-1] == "Landing"

    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stMultiSelect").filter(has_text="Channels").click()
    page.get_by_role("option", name="grocery").click()
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(r"channel=grocery"))
    landing = page.get_by_test_id("stMetric").filter(has_text="Landing estimate").get_by_test_id("stMetricValue")
    expect(landing).not_to_have_text(tiles["Landing estimate"])  # retried until the rerun has drawn
    wait_ready(page)
    assert len(waterfall_steps(page)) < len(steps)


def test_an_account_link_opens_its_review_with_the_filters(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/plan?period=l52w")
    wait_ready(page)
    link = page.get_by_test_id("stPageLink").first
    name = link.inner_text().strip().splitlines()[-1].strip()  # the text after the icon
    link.click()
    wait_ready(page)
    expect(page).to_have_url(re.compile(r"/account_review\?.*account=R\d{3}"))
    expect(page).to_have_url(re.compile(r"period=l52w"))
    expect(page.get_by_role("heading", name=name)).to_be_visible()
