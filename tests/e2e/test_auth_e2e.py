"""Sign-in end to end: the real app under `streamlit run` against the mock OpenID Connect provider on loopback
(kam_dash.mock_auth, the registry's oidc-provider-mock), with the three demo users in the state database."""

from __future__ import annotations

import base64
import zlib

import pytest
from playwright.sync_api import expect

from kam_dash import mock_auth
from kam_dash.state.store import Store
from tests.e2e.conftest import wait_ready
from tests.e2e.live_app import _free_port, start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.auth]


@pytest.fixture(scope="module")
def signin_app(small_db, tmp_path_factory):
    """(app url, state store): the app behind sign-in; the demo KAM owns R001-R003 (seed_demo_users)."""
    folder = tmp_path_factory.mktemp("auth_server")
    state = folder / "state.sqlite"
    mock_auth.seed(small_db, state)
    port = _free_port()
    url = f"http://localhost:{port}"  # the redirect URI's host: the session cookie is set for it
    with mock_auth.provider(0) as provider_url:
        secrets = mock_auth.write_secrets(folder / "secrets.toml", url, provider_url)
        proc, _ = start_server(small_db, folder / "streamlit.log", {"KAM_DASH_STATE": str(state)},
                               ["--secrets.files", str(secrets)], port=port)
        yield url, Store(state)
        stop_server(proc)


def history_rows(store: Store) -> int:
    with store.read() as con:
        return con.execute("SELECT count(*) FROM history WHERE table_name != 'users'").fetchone()[0]


def expect_sign_in_screen(page) -> None:
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.get_by_test_id("stMetric").count() == 0
    assert page.get_by_test_id("stPlotlyChart").count() == 0
    assert page.get_by_test_id("stSidebarNav").count() == 0


def sign_in(page, url: str, email: str) -> None:
    page.goto(url)
    wait_ready(page)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=email).click()  # the mock provider's one-click demo user
    page.wait_for_url(f"{url}/**")
    wait_ready(page)
    expect(page.get_by_test_id("stSidebar").get_by_text(f"({email})", exact=False)).to_be_visible()


def open_page(page, url: str, path: str) -> None:
    page.goto(f"{url}/{path}")
    wait_ready(page)


def test_before_sign_in_only_the_sign_in_screen(signin_app, browser_page):
    url, _ = signin_app
    for path in ("", "portfolio", "account_plan?account=R001", "data"):
        open_page(browser_page, url, path)
        expect_sign_in_screen(browser_page)


def test_the_kam_edits_own_accounts_only_and_a_direct_url_to_another_is_refused(signin_app, browser_page):
    url, store = signin_app
    page = browser_page
    sign_in(page, url, "kam@example.com")
    expect(page.get_by_test_id("stMetric").first).to_be_visible()  # the portfolio's figures after sign-in
    before = history_rows(store)
    open_page(page, url, "account_plan?account=R001")
    expect(page.get_by_text("Editing as kam@example.com")).to_be_visible()
    assert page.get_by_role("button", name="Save").count() >= 1
    open_page(page, url, "account_plan?account=R004")  # Green Market: another KAM's account
    expect(page.get_by_text("Green Market is not one of your accounts (kam@example.com)")).to_be_visible()
    assert page.get_by_role("button", name="Save").count() == 0
    assert page.get_by_role("button", name="Delete").count() == 0
    open_page(page, url, "users")
    expect(page.get_by_text("The Users page is for admins")).to_be_visible()
    assert history_rows(store) == before  # nothing written


def test_the_viewer_reads_and_edits_nothing_and_signs_out(signin_app, browser_page):
    url, _ = signin_app
    page = browser_page
    sign_in(page, url, "viewer@example.com")
    open_page(page, url, "account_plan?account=R001")
    expect(page.get_by_text("you may read Fresh Market's plan but not edit it")).to_be_visible()
    assert page.get_by_role("button", name="Save").count() == 0
    open_page(page, url, "data")
    expect(page.get_by_text("The Data page is for admins")).to_be_visible()
    assert page.get_by_text("Load files").count() == 0
    page.get_by_role("button", name="Sign out").click()  # the app drops its cookie, then asks the provider
    page.get_by_role("button", name="End session").click()  # to end its session, which returns to the app
    page.wait_for_url(f"{url}/**")
    wait_ready(page)
    expect_sign_in_screen(page)
    open_page(page, url, "portfolio")  # the session is over, not only the screen
    expect_sign_in_screen(page)


def test_the_admin_manages_users_and_data(signin_app, browser_page):
    url, _ = signin_app
    page = browser_page
    sign_in(page, url, "admin@example.com")
    open_page(page, url, "users")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    expect(page.get_by_text("Add or edit a user")).to_be_visible()
    open_page(page, url, "data")
    expect(page.get_by_text("Load files")).to_be_visible()


def _forge(value: str, old: str, new: str) -> str:
    """The cookie's payload (zlib-compressed JSON, base64url) with `old` replaced, its signature kept."""
    payload, rest = value[1:].split(".", 1)
    raw = zlib.decompress(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).decode()
    assert old in raw, raw
    forged = base64.urlsafe_b64encode(zlib.compress(raw.replace(old, new).encode())).decode().rstrip("=")
    return f".{forged}.{rest}"


@pytest.mark.parametrize("change", ["tampered signature", "another user's identity"])
def test_a_tampered_or_forged_session_cookie_is_refused(signin_app, browser_page, change):
    url, store = signin_app
    page = browser_page
    sign_in(page, url, "viewer@example.com")
    cookie = next(c for c in page.context.cookies() if c["name"] == "_streamlit_user")
    if change == "tampered signature":
        value = cookie["value"][:-4] + ("AAAA" if not cookie["value"].endswith("AAAA") else "BBBB")
    else:
        value = _forge(cookie["value"], "viewer@example.com", "admin@example.com")
    page.context.clear_cookies()
    page.context.add_cookies([cookie])  # control: the genuine cookie, moved into place the same way, is honoured
    open_page(page, url, "data")
    expect(page.get_by_text("The Data page is for admins; you are signed in as viewer@example.com")).to_be_visible()
    page.context.clear_cookies()
    page.context.add_cookies([{**cookie, "value": value}])
    before = history_rows(store)
    for path in ("data", "account_plan?account=R001"):
        open_page(page, url, path)
        expect_sign_in_screen(page)
    assert history_rows(store) == before
