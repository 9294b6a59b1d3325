"""The Inventory page in a real browser: charts draw, the window changes the numbers and the URL, a link restores."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import charts_drawn, metric_values, wait_ready

pytestmark = pytest.mark.e2e


def test_inventory_renders_tiles_heatmap_and_trend(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/inventory")
    wait_ready(page)
    expect(page.get_by_role("heading", name="Inventory")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Phantom candidates")).to_be_visible()
    tiles = metric_values(page)
    assert re.fullmatch(r"[\d.]+%", tiles["In-stock rate"]), tiles
    assert re.fullmatch(r"\$[\d.,]+[KMB]?", tiles["Lost sales"]), tiles
    assert charts_drawn(page) >= 3  # heatmap, cover trend, reconciliation waterfall (and pipeline fill)
    expect(page).to_have_url(re.compile(r"inv_window=4"))
    expect(page).to_have_url(re.compile(r"inv_retailer=R\d+"))
    # the small demo's mess, said in words: POS that lags or never came, and an account with sell-out only
    expect(page.get_by_text("Weeks of cover skipped unreported sell-out weeks")).to_be_visible()
    expect(page.get_by_text(re.compile(r"has sell-out only and is not scored"))).to_be_visible()


def test_the_window_changes_a_tile_and_the_url(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/inventory")
    wait_ready(page)
    tile = page.get_by_test_id("stMetric").filter(has_text="Below band now")
    expect(tile).to_be_visible()
    before = metric_values(page)["Below band now"]
    page.get_by_test_id("stRadio").get_by_text("13", exact=True).click()
    expect(page).to_have_url(re.compile(r"inv_window=13"))
    wait_ready(page)
    expect(tile.get_by_test_id("stMetricValue")).not_to_have_text(before)


def test_a_link_restores_the_window_and_the_retailer(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/inventory?inv_window=8&inv_retailer=R002")
    wait_ready(page)
    expect(page.get_by_test_id("stRadio").get_by_role("radio", name="8")).to_be_checked()
    page.reload()
    wait_ready(page)
    expect(page).to_have_url(re.compile(r"inv_window=8"))
    expect(page).to_have_url(re.compile(r"inv_retailer=R002"))
    assert not page.get_by_test_id("stAlert").filter(has_text="in the link").count()
