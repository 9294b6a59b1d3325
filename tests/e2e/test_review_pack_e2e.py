"""The account review's "Download review pack" hands the KAM a real workbook for the account in view."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import wait_ready

pytestmark = pytest.mark.e2e


def test_download_review_pack_workbook(live_app, browser_page, tmp_path):
    page = browser_page
    page.goto(f"{live_app}/account_review?account=R002")
    wait_ready(page)
    page.get_by_text("Download review pack").click()
    with page.expect_download(timeout=180_000) as info:
        page.get_by_role("button", name="Workbook (Excel)", exact=True).click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name == "review-r002-value-market-2026-01-05-to-2026-11-16.xlsx"
    book = load_workbook(path)
    assert book["About"]["B2"].value == "Value Market (R002)"
