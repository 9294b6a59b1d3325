"""The Distribution & stores page in a real browser: it is in the menu, its charts draw, the void list and
store table show, and a retailer in the link narrows it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import chart_titles, charts_drawn, metric_values, wait_ready

pytestmark = pytest.mark.e2e


def test_the_page_draws_and_follows_the_link(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/stores?period=l52w")
    wait_ready(page)
    expect(page.get_by_role("heading", name="Distribution & stores")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav").get_by_text("Distribution & stores")).to_be_visible()
    assert charts_drawn(page) >= 2
    titles = chart_titles(page)
    assert "Distribution x velocity per SKU (lines: medians)" in titles
    assert "Distribution points and velocity by week" in titles
    everyone = metric_values(page)
    assert int(everyone["Voids"].replace(",", "")) > 0
    expect(page.get_by_role("heading", name="Voids, by estimated lost sales")).to_be_visible()
    expect(page.get_by_test_id("stDownloadButton").filter(has_text="Download the voids (CSV)")).to_be_visible()

    page.goto(f"{live_app}/stores?period=l52w&retailer=R002")
    wait_ready(page)
    expect(page).to_have_url(re.compile(r"retailer=R002"))
    one = metric_values(page)
    assert int(one["Stores reporting"].replace(",", "")) < int(everyone["Stores reporting"].replace(",", ""))
