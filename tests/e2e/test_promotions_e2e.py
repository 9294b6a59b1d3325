"""The Promotions page in a real browser: the charts draw, picking an event redraws its baselines and lands
in the URL, a link restores the event, and the method toggle changes the table."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kam_dash import export
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.metrics import promotions as promo
from tests.e2e.conftest import chart_titles, charts_drawn, wait_ready

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def events(small_db):
    engine = DuckDBEngine(small_db)
    frame = export.compute("promo-lift", engine, Filters())
    engine.close()
    measured = frame.dropna(subset=["lift_pct"])
    assert len(measured) >= 2, "the small demo needs two measured promotions this year"
    return measured


def event_chart(page, promo_id: str):
    return page.get_by_test_id("stPlotlyChart").filter(has_text=f"{promo_id} ·").first


def test_pick_an_event_and_see_its_baselines(live_app, browser_page, events):
    page = browser_page
    page.goto(f"{live_app}/promotions")
    wait_ready(page)
    expect(page.get_by_role("heading", name="Promotions")).to_be_visible()
    assert charts_drawn(page) >= 4
    titles = chart_titles(page)
    assert "Promotion calendar" in titles and "Lift vs discount depth" in titles

    target = events.iloc[0]
    pid = target["promo_id"]
    box = page.get_by_test_id("stSelectbox").filter(has_text="Promotion").first
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option", name=re.compile(rf"^{pid} ·")).click()
    wait_ready(page)
    expect(page).to_have_url(re.compile(rf"event={pid}"))
    chart = event_chart(page, pid)
    chart.scroll_into_view_if_needed()
    legend = [t.strip() for t in chart.locator(".legendtext").all_text_contents()]
    assert "Actual sell-out" in legend
    assert f"{promo.METHODS[promo.DEFAULT_METHOD]} ({target['lift_pct'] * 100:+.0f}%)" in legend
    assert sum(name.startswith(tuple(promo.METHODS.values())) for name in legend) >= 2


def test_a_link_restores_the_event_and_the_method(live_app, browser_page, events):
    page = browser_page
    pid = events.iloc[-1]["promo_id"]
    page.goto(f"{live_app}/promotions?event={pid}&method=pre_post")
    wait_ready(page)
    expect(event_chart(page, pid)).to_be_visible(timeout=30_000)  # plotly draws after the script ends
    expect(page.get_by_text("baseline: Pre and post")).to_be_visible()
    page.reload()
    wait_ready(page)
    expect(event_chart(page, pid)).to_be_visible(timeout=30_000)
    expect(page).to_have_url(re.compile(rf"event={pid}"))

    page.get_by_test_id("stButtonGroup").get_by_text("Pre-period", exact=True).click()
    wait_ready(page)
    expect(page).to_have_url(re.compile(r"method=pre_period"))
    expect(page.get_by_text("baseline: Pre-period")).to_be_visible()


def test_an_unknown_event_in_the_link_is_dropped_with_a_warning(live_app, browser_page):
    page = browser_page
    page.goto(f"{live_app}/promotions?event=NOPE123")
    wait_ready(page)
    expect(page.get_by_text("The promotion 'NOPE123' in the link is not among the promotions in view")
           ).to_be_visible()
    expect(page).not_to_have_url(re.compile(r"event=NOPE123"))
