"""`kam-dash import` while `streamlit run` serves the app: an open browser session shows the new latest week on
its next rerun, with no restart."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import wait_ready
from tests.e2e.live_app import ROOT, start_server, stop_server
from tests.ingest.dbcheck import copy_db

pytestmark = pytest.mark.e2e
LATEST = dt.date(2026, 11, 16)


@pytest.fixture(scope="module")
def refreshing_app(small_db, tmp_path_factory):
    """A server of its own, on a copy of the small demo that the test imports into."""
    folder = tmp_path_factory.mktemp("refresh")
    db = copy_db(small_db, folder)
    proc, url = start_server(db, folder / "streamlit.log")
    yield url, db, folder
    stop_server(proc)


def test_import_while_the_server_runs_shows_the_new_week_on_the_next_rerun(refreshing_app, browser_page):
    url, db, folder = refreshing_app
    page = browser_page
    page.goto(f"{url}/")
    wait_ready(page)
    header = page.get_by_test_id("stCaptionContainer").filter(has_text="Data through the week of").first
    expect(header).to_contain_text("16 Nov 2026")

    week = LATEST + dt.timedelta(weeks=1)
    path = folder / "sell_in_new.csv"
    path.write_text("week,retailer_id,sku_id,units,gross_sales,net_sales\n"
                    + "".join(f"{week},R001,SKU{s:05d},1,10,10\n" for s in range(1, 4)))
    done = subprocess.run([sys.executable, "-m", "kam_dash.cli", "import", str(path), "--db", str(db)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr  # the running app did not block it

    # the same browser session, no reload: a filter change reruns the script, which finds the new file
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name="Last 13 weeks").click()
    wait_ready(page)
    expect(header).to_contain_text("23 Nov 2026")
    expect(page.get_by_test_id("stException")).to_have_count(0)
