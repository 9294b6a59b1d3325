"""The Seasonality page in a real browser: the charts draw, the grain changes the heatmap and the URL,
and a link restores the selectors."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import chart_titles, charts_drawn, wait_ready, x_ticks

pytestmark = pytest.mark.e2e


def heatmap_ticks(page) -> list[str]:
    return x_ticks(page, "Seasonal index by category")


def test_grain_change_redraws_the_heatmap_and_lands_in_the_url(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/seasonality")
    wait_ready(page)
    expect(page.get_by_role("heading", name="Seasonality")).to_be_visible()
    assert charts_drawn(page) >= 4
    assert "Seasonal index by category and month" in chart_titles(page)
    assert heatmap_ticks(page)[:3] == ["Jan", "Feb", "Mar"]

    page.get_by_test_id("stRadio").get_by_text("ISO week").click()
    wait_ready(page)
    expect(page).to_have_url(re.compile(r"grain=week"))
    expect(page.locator(".gtitle", has_text="Seasonal index by category and ISO week")).to_be_visible()
    assert heatmap_ticks(page) == ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                   "Dec"]  # month ticks on the week axis, not 52 week labels


def test_a_link_restores_grain_and_series(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/seasonality?grain=week&series=Sun%20Care&compare=R002")
    wait_ready(page)
    titles = chart_titles(page)
    assert "Seasonal index by category and ISO week" in titles
    assert "Sun Care: weekly sell-out, year over year" in titles
    page.reload()
    wait_ready(page)
    assert "Sun Care: retailer vs portfolio seasonality" in chart_titles(page)
    expect(page).to_have_url(re.compile(r"series=Sun(\+|%20)Care"))
