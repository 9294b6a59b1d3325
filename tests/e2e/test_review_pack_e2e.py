"""The account review's "Download review pack" hands the KAM a real workbook for the account in view."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.e2e.conftest import start_server, stop_server, wait_ready

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pack_app(small_db, tmp_path_factory):
    """A server of its own: the download runs in the server's worker threads, which the other modules' sessions on
    the shared server must not be holding when it is clicked."""
    log = tmp_path_factory.mktemp("pack_server") / "streamlit.log"
    proc, url = start_server(small_db, log)
    yield url, log
    stop_server(proc)


def test_download_review_pack_workbook(pack_app, browser_page, tmp_path):
    url, log = pack_app
    page = browser_page
    page.goto(f"{url}/account_review?account=R002")
    wait_ready(page)
    page.get_by_text("Download review pack").click()
    button = page.get_by_role("button", name="Workbook (Excel)", exact=True)
    expect(button).to_be_enabled()
    downloads = []
    page.on("download", lambda download: downloads.append(download))
    button.click()
    # The file is built on the server when clicked; a failure shows under the button for 5 s, so look for it while
    # waiting rather than after.
    error = page.get_by_test_id("stDownloadButtonError")
    for _ in range(240):
        if downloads:
            break
        if error.count():
            pytest.fail(f"the download failed: {error.first.inner_text()}\nServer log ends with:\n"
                        f"{log.read_text()[-3000:]}")
        page.wait_for_timeout(500)
    else:
        pytest.fail(f"no download within 120 s.\nServer log ends with:\n{log.read_text()[-3000:]}")
    download = downloads[0]
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.name == "review-r002-value-market-2026-01-05-to-2026-11-16.xlsx"
    book = load_workbook(path)
    assert book["About"]["B2"].value == "Value Market"  # names, not ids (issue 13)
