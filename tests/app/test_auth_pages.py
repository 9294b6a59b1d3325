"""Sign-in and roles under AppTest with a fake signed-in user (AppTest.user) and an [auth] secrets section:
the sign-in screen first, the admin pages for admins, plan edits for the account's KAM, restricted reads."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from kam_dash import auth
from kam_dash.state import plans
from kam_dash.state.store import Store
from tests.app.conftest import APP

pytestmark = pytest.mark.auth

AUTH_SECRETS = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                         "client_id": "kam-dash", "client_secret": "s",
                         "server_metadata_url": "http://localhost:9/.well-known/openid-configuration"}}
# small demo: R001 Fresh Market (KAM Avery Chen), R002 Value Market, R003 Metro Online, ... R006 Family Market
NAMES = {"R001": "Fresh Market", "R002": "Value Market", "R003": "Metro Online", "R004": "Green Market",
         "R005": "Sun Market", "R006": "Family Market"}
USERS = [dict(email="admin@example.com", name="Ad Min", role="admin"),
         dict(email="avery@example.com", name="Avery Chen", role="kam"),  # R001 by the kam column
         dict(email="viewer@example.com", name="Vi Ewer", role="viewer"),
         dict(email="lead@example.com", name="Lea Der", role="leadership"),
         dict(email="broker@example.com", name="Bro Ker", role="viewer", retailers="R003", restrict_reads="true")]
PAGES = ["portfolio", "account_review", "account_plan", "plan", "promotions", "inventory", "stores", "seasonality"]


@pytest.fixture()
def signed_in(small_db, tmp_path, monkeypatch):
    """open(email, page, query) -> AppTest of the app signed in as `email` (None: signed out); and the store."""
    path = tmp_path / "state.sqlite"
    monkeypatch.setenv("KAM_DASH_STATE", str(path))
    monkeypatch.setenv("KAM_DASH_DB", str(small_db))
    monkeypatch.setenv("KAM_DASH_ENGINE", "duckdb")
    store = Store(path)
    for u in USERS:
        auth.save_user(store, u, "test")

    def open_(email, page=None, query=None):
        at = AppTest.from_file(APP, default_timeout=120)
        at.secrets.update(AUTH_SECRETS)
        at.user = {"is_logged_in": False} if email is None else {"is_logged_in": True, "email": email,
                                                                 "name": email.split("@")[0]}
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
        if page:
            at.switch_page(f"pages/{page}.py")
            at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    open_.store = store
    return open_


def plain(markdown: str) -> str:
    """Shown text without the backslashes that escape names and emails (fmt.md_text)."""
    return markdown.replace("\\", "")


def shown_text(at) -> str:
    parts = [m.value for m in (*at.markdown, *at.caption, *at.title, *at.info, *at.warning, *at.error, *at.success)]
    parts += [df.value.to_string() for df in at.dataframe]
    parts += [str(o) for ms in at.multiselect for o in ms.options]
    parts += [str(o) for sb in at.selectbox for o in sb.options]
    return "\n".join(parts)


def test_before_sign_in_only_the_sign_in_screen_is_shown(signed_in):
    at = signed_in(None)
    assert at.button(key="sign_in").label == "Sign in"
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")
    assert [t.value for t in at.title] == ["kam-dash"]
    assert "f_period" not in at.session_state  # the filters (and every page) never ran


def test_a_signed_in_email_without_an_account_is_told_and_shown_nothing(signed_in):
    at = signed_in("stranger@example.com")
    assert "stranger@example.com, who has no kam-dash account" in plain(at.error[0].value)
    assert not at.metric and not at.dataframe


def test_an_unverified_email_is_refused_even_when_it_is_a_users(signed_in, monkeypatch):
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets.update(AUTH_SECRETS)
    at.user = {"is_logged_in": True, "email": "admin@example.com", "email_verified": False}
    at.run()
    assert "admin@example.com, whose email the sign-in provider has not verified" in plain(at.error[0].value)
    assert not at.metric and not at.dataframe


@pytest.mark.parametrize("page", ["data", "users"])
@pytest.mark.parametrize(("email", "allowed"), [("admin@example.com", True), ("avery@example.com", False),
                                                ("viewer@example.com", False), ("lead@example.com", False)])
def test_admin_pages_are_for_admins(signed_in, page, email, allowed):
    at = signed_in(email, page)
    refused = [w.value for w in at.warning if "is for admins" in plain(w.value)]
    assert bool(refused) is not allowed
    assert bool(at.dataframe) is allowed  # the data health / users table only for the admin


def test_a_kam_edits_own_accounts_and_reads_others_and_the_history_records_the_email(signed_in):
    at = signed_in("avery@example.com", "account_plan", {"account": "R001"})
    assert any("Editing as **avery@example.com**" in c.value for c in at.caption)
    assert not at.get("text_input") or all(t.key != "actor_input" for t in at.text_input)  # never asks a name
    at.selectbox(key="objective:__new__:measure").set_value("net_sales")
    for name, value in dict(objective_id="OBJ-A", title="Grow", target_value="100", due_date="2026-12-31",
                            owner="Avery").items():
        at.text_input(key=f"objective:__new__:{name}").input(value)
    at.button(key="objective_save").click().run()
    assert [s.value for s in at.success] == ["Saved objective OBJ-A."]
    assert plans.history(signed_in.store, "objectives", "OBJ-A")["actor"].tolist() == ["avery@example.com"]

    other = signed_in("avery@example.com", "account_plan", {"account": "R002"})
    assert "Value Market is not one of your accounts (avery@example.com)" in plain(other.info[0].value)
    assert all(b.key not in ("objective_save", "contact_save", "meeting_save") for b in other.button)


@pytest.mark.parametrize("email", ["viewer@example.com", "lead@example.com", "broker@example.com"])
def test_readers_edit_nothing(signed_in, email):
    at = signed_in(email, "account_plan", {"account": "R003"})
    assert "you may read Metro Online's plan but not edit it" in plain(at.info[0].value)
    assert not [b for b in at.button if b.key and b.key.endswith(("_save", "_delete", "_make"))]


@pytest.mark.parametrize("page", PAGES)
def test_restricted_reads_show_only_the_users_retailers_on_every_page(signed_in, page):
    at = signed_in("broker@example.com", page)
    assert at.session_state["kam_filters"].retailers == ("R003",)
    text = shown_text(at)
    assert [n for r, n in NAMES.items() if r != "R003" and n in text] == []


def test_an_unrestricted_viewer_reads_every_retailer(signed_in):
    at = signed_in("viewer@example.com", "portfolio")
    assert at.session_state["kam_filters"].retailers == ()
    assert set(at.multiselect(key="f_retailer").options) == set(NAMES.values())


def test_an_admin_adds_a_user_on_the_users_page(signed_in):
    at = signed_in("admin@example.com", "users")
    at.text_input(key="user_email").input("new.kam@example.com")
    at.text_input(key="user_name").input("New Kam")
    at.selectbox(key="user_role").set_value("kam")
    at.multiselect(key="user_retailers").set_value(["R004"])
    at.button(key="user_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert auth.get_user(signed_in.store, "new.kam@example.com") == auth.User(
        "new.kam@example.com", "New Kam", "kam", ("R004",), False)
    assert [s.value for s in at.success] == ["Saved user new.kam@example.com (kam)."]


@pytest.mark.parametrize(("page", "query", "key"), [("account_review", {"account": "R001"}, "account"),
                                                    ("account_plan", {"account": "R001"}, "account"),
                                                    ("inventory", {"inv_retailer": "R001"}, None),
                                                    ("portfolio", {"retailer": "R001"}, None)])
def test_a_direct_url_to_an_account_outside_restricted_reads_shows_none_of_it(signed_in, page, query, key):
    at = signed_in("broker@example.com", page, query)
    if key:
        assert at.session_state[key] == "R003"  # the user's own account instead
    assert at.session_state["kam_filters"].retailers == ("R003",)
    assert "Fresh Market" not in shown_text(at)
