"""Users, roles and per-KAM access (kam_dash.auth): the rules, the users table, and saves refused in the library."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from kam_dash import auth, cli
from kam_dash.state import plans
from kam_dash.state.store import StateError, Store
from tests.state.test_plans import CONTACT, INITIATIVE, MEETING, OBJECTIVE, REFS, rows

pytestmark = pytest.mark.auth

RETAILERS = pd.DataFrame({"retailer_id": ["R1", "R2", "R3"], "kam": ["Ann Lee", "Bo Park", " ann  lee "]})


@pytest.fixture()
def store(tmp_path):
    return Store(tmp_path / "state.sqlite")


def user(role, retailers=(), restrict=False, name="Ann Lee"):
    return auth.User(f"{role}@x.com", name, role, tuple(retailers), restrict)


def test_a_kam_owns_the_retailers_whose_kam_column_is_their_name_unless_assigned():
    # R1 "Ann Lee" and R3 " ann  lee " match Ann Lee (case and spacing aside); R2 is Bo Park's
    assert auth.own_retailers(user("kam"), RETAILERS) == {"R1", "R3"}
    assert auth.own_retailers(user("kam", ["R2"]), RETAILERS) == {"R2"}  # the assignment wins
    assert auth.own_retailers(user("kam", name="Nobody"), RETAILERS) == frozenset()


@pytest.mark.parametrize(("role", "editable", "readable"), [
    ("admin", None, None), ("kam", {"R1", "R3"}, None), ("leadership", set(), None), ("viewer", set(), None)])
def test_what_each_role_may_edit_and_read(role, editable, readable):
    access = auth.access_for(user(role), RETAILERS)
    assert access.editable == (None if editable is None else frozenset(editable))
    assert access.readable == readable
    assert access.can_edit("R1") is (role in ("admin", "kam"))
    assert access.can_edit("R2") is (role == "admin")


def test_restrict_reads_limits_reads_to_own_retailers_except_for_admins():
    broker = auth.access_for(user("viewer", ["R2"], restrict=True), RETAILERS)
    assert broker.readable == {"R2"} and broker.editable == frozenset()
    assert broker.restrict(()) == ("R2",)  # no selection = all the user may read, never everything
    assert broker.restrict(("R1", "R2")) == ("R2",)
    assert broker.restrict(("R1",)) == ("R2",)  # never () (which a Filters reads as every retailer)
    assert broker.cache_key != auth.access_for(user("viewer"), RETAILERS).cache_key
    assert auth.access_for(user("admin", restrict=True), RETAILERS).readable is None


def test_a_kam_saves_their_own_accounts_records_and_is_refused_elsewhere_with_nothing_written(store):
    kam = auth.access_for(user("kam"), RETAILERS)  # edits R1, R3
    plans.save(store, "objectives", OBJECTIVE, "ann@x.com", refs=REFS, access=kam)
    plans.save(store, "initiatives", INITIATIVE, "ann@x.com", refs=REFS, access=kam)
    plans.save(store, "contacts", CONTACT, "ann@x.com", refs=REFS, access=kam)
    before = {t: rows(store, t) for t in ("objectives", "initiatives", "contacts", "meetings", "history")}
    assert before == {"objectives": 1, "initiatives": 1, "contacts": 1, "meetings": 0, "history": 3}
    with pytest.raises(auth.AccessDenied, match="R2 is not one of your accounts"):
        plans.save(store, "meetings", {**MEETING, "retailer_id": "R2"}, "ann@x.com", refs=REFS, access=kam)
    with pytest.raises(auth.AccessDenied):  # moving an own record to another KAM's account
        plans.save(store, "contacts", {**CONTACT, "retailer_id": "R2"}, "ann@x.com", 1, REFS, access=kam)
    bo = auth.access_for(user("kam", name="Bo Park"), RETAILERS)  # edits R2 only
    with pytest.raises(auth.AccessDenied):  # an initiative belongs to its objective's retailer (R1)
        plans.save(store, "initiatives", {**INITIATIVE, "title": "x"}, "bo@x.com", 1, REFS, access=bo)
    with pytest.raises(auth.AccessDenied):
        plans.delete(store, "contacts", "C1", "bo@x.com", 1, access=bo)
    with pytest.raises(auth.AccessDenied, match="may read"):
        plans.save(store, "contacts", {**CONTACT, "contact_id": "C2"}, "v@x.com", refs=REFS,
                   access=auth.access_for(user("viewer"), RETAILERS))
    assert {t: rows(store, t) for t in before} == before  # nothing written by any refused save
    plans.delete(store, "contacts", "C1", "admin@x.com", 1, access=auth.access_for(user("admin"), RETAILERS))
    assert plans.history(store, "contacts", "C1")["actor"].tolist()[0] in ("admin@x.com", "ann@x.com")


def test_users_are_validated_saved_with_history_and_the_last_admin_kept(store):
    with pytest.raises(StateError, match="email 'not-an-email' is not an email address; role 'boss' is not one of"):
        auth.save_user(store, dict(email="not-an-email", name="X", role="boss"), "t")
    auth.save_user(store, dict(email=" Ann@X.com ", name="Ann Lee", role="admin", retailers="R2; R1"), "t")
    assert auth.get_user(store, "ANN@x.com") == auth.User("ann@x.com", "Ann Lee", "admin", ("R1", "R2"), False)
    with pytest.raises(StateError, match="last admin"):
        auth.save_user(store, dict(email="ann@x.com", name="Ann Lee", role="kam"), "t")
    with pytest.raises(StateError, match="last admin"):
        auth.delete_user(store, "ann@x.com", "t")
    assert auth.get_user(store, "ann@x.com").role == "admin"
    assert rows(store, "history") == 1  # the one insert; the refused changes left no trace


def test_users_import_export_round_trip_and_a_bad_file_imports_nothing(store, tmp_path, capsys):
    good = tmp_path / "users.csv"
    good.write_text("email,name,role,retailers,restrict_reads\nadmin@x.com,Ad Min,admin,,\n"
                    "kam@x.com,Ann Lee,kam,R1;R3,false\nbroker@x.com,Bro Ker,viewer,R2,true\n")
    state = str(store.path)
    assert cli.main(["users", "import", str(good), "--state", state]) == 0
    assert "3 users read, 3 added or changed" in capsys.readouterr().out
    out = tmp_path / "out.csv"
    assert cli.main(["users", "export", str(out), "--state", state]) == 0
    assert out.read_text() == ("email,name,role,retailers,restrict_reads\nadmin@x.com,Ad Min,admin,,false\n"
                               "broker@x.com,Bro Ker,viewer,R2,true\nkam@x.com,Ann Lee,kam,R1;R3,false\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("email,name,role,retailers\nnew@x.com,New,kam,R1\nkam@x.com,Ann Lee,chief,R1\n")
    assert cli.main(["users", "import", str(bad), "--state", state]) == 1
    assert "bad.csv line 3: user kam@x.com not saved: role 'chief' is not one of" in capsys.readouterr().err
    assert auth.get_user(store, "new@x.com") is None  # all or nothing
    assert len(auth.users(store)) == 3


def test_the_documented_users_example_imports(store, tmp_path):
    doc = (Path(__file__).resolve().parents[2] / "docs" / "DATA_MODEL.md").read_text(encoding="utf-8")
    example = re.search(r"^## Users \(sign-in\)\n.*?```csv\n(.*?)```", doc, re.MULTILINE | re.DOTALL).group(1)
    header = example.splitlines()[0].split(",")
    assert header == list(auth.CSV_COLUMNS)
    path = tmp_path / "users.csv"
    path.write_text(example)
    assert auth.import_csv(store, path, "t") == (3, 3)
    assert auth.get_user(store, "broker@agency.example") == auth.User(
        "broker@agency.example", "Agency Broker", "viewer", ("R003", "R004"), True)
