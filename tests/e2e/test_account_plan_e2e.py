"""The Account plan page in a real browser: edit an objective, reload, and the change is still there."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kam_dash.engine import DuckDBEngine
from kam_dash.state import demo_plan, plans
from kam_dash.state.store import Store
from tests.e2e.conftest import start_server, stop_server, wait_ready

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def plan_app(small_db, tmp_path_factory):
    """A server on the small demo with the demo's account plan in a state database of its own."""
    folder = tmp_path_factory.mktemp("plan_server")
    state = folder / "state.sqlite"
    engine = DuckDBEngine(small_db)
    demo_plan.write(engine, Store(state))
    engine.close()
    proc, url = start_server(small_db, folder / "streamlit.log", {"KAM_DASH_STATE": str(state)})
    yield url, Store(state)
    stop_server(proc)


def test_edit_an_objective_and_see_it_after_a_reload(plan_app, browser_page):
    url, store = plan_app
    objective = plans.records(store, "objectives", "R002", 2026).iloc[0]
    page = browser_page
    page.goto(f"{url}/account_plan?account=R002")
    wait_ready(page)
    expect(page.get_by_role("heading", name="Account plan")).to_be_visible()
    expect(page.get_by_text(objective["title"], exact=True).first).to_be_visible()

    page.get_by_role("textbox", name="Your name").fill("Browser Tester")
    page.get_by_role("textbox", name="Your name").press("Enter")
    wait_ready(page)
    expect(page.get_by_text("Editing as")).to_be_visible()

    picker = page.get_by_role("combobox", name="Add or edit objectives")
    picker.focus()  # a click on the already-focused box does not open it; the arrow key does
    picker.press("ArrowDown")
    page.get_by_role("option", name=objective["title"]).click()
    wait_ready(page)
    form = page.get_by_test_id("stForm").first
    title = form.get_by_role("textbox", name="Title")
    expect(title).to_have_value(objective["title"])
    title.fill("Win the spring reset")
    form.get_by_role("button", name="Save").click()
    wait_ready(page)
    expect(page.get_by_text(f"Saved objective {objective['objective_id']}.")).to_be_visible()

    page.reload()
    wait_ready(page)
    expect(page.get_by_text("Win the spring reset", exact=True).first).to_be_visible()
    expect(page).to_have_url(re.compile(r"account=R002"))
    saved = plans.get(store, "objectives", objective["objective_id"])
    assert (saved["title"], saved["updated_by"], saved["version"]) == ("Win the spring reset", "Browser Tester", 2)
