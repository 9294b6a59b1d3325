"""Saving plan records: validation, the optimistic version check, the history, deletes and health flags."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from kam_dash.state import plans
from kam_dash.state.store import MIGRATIONS, StaleEdit, StateError, Store, default_state_path, state_path_from_env

REFS = plans.Refs(retailers=frozenset({"R1", "R2"}), promo_ids=frozenset({"P1"}), today=dt.date(2026, 6, 1))
OBJECTIVE = dict(objective_id="O1", retailer_id="R1", year=2026, title="Grow", measure="net_sales",
                 target_value=1000, due_date="2026-12-31", owner="Ann")
INITIATIVE = dict(initiative_id="I1", objective_id="O1", title="End caps", owner="Bo", function="sales",
                  status="in_progress", due_date="2026-05-01", promo_id="P1")
CONTACT = dict(contact_id="C1", retailer_id="R1", name="Dana", role="Head of buying", influence="decision_maker",
               relationship_owner="Ann", last_contact="2026-03-01")
MEETING = dict(meeting_id="M1", retailer_id="R1", date="2026-05-20", attendees="Ann, Dana", notes="n",
               decisions="d", next_steps="- Send the calendar\n\n* Share the OOS report\n")


@pytest.fixture()
def store(tmp_path):
    return Store(tmp_path / "state.sqlite")


def rows(store, table):
    with store.read() as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_state_path_defaults_beside_the_database():
    assert default_state_path("data/kam.duckdb").as_posix() == "data/kam.state.sqlite"
    assert state_path_from_env({"KAM_DASH_DB": "/x/y.duckdb"}).as_posix() == "/x/y.state.sqlite"
    assert state_path_from_env({"KAM_DASH_STATE": "/s.sqlite", "KAM_DASH_DB": "/x/y.duckdb"}).as_posix() == "/s.sqlite"
    assert state_path_from_env({}).as_posix() == "data/kam.state.sqlite"


def test_the_file_is_sqlite_in_wal_mode_with_the_schema_version(store):
    assert store.schema_version() == len(MIGRATIONS)
    with store.read() as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    Store(store.path)  # opening again migrates nothing and keeps the rows
    assert store.schema_version() == len(MIGRATIONS)


def test_a_newer_schema_is_refused(store):
    with store.transaction() as con:
        con.execute("PRAGMA user_version = 99")
    with pytest.raises(StateError, match="newer kam-dash"):
        Store(store.path)


@pytest.mark.parametrize(("kind", "change", "message"), [
    ("objectives", dict(due_date="2026-02-30"), "due_date '2026-02-30' is not a date (YYYY-MM-DD)"),
    ("objectives", dict(due_date="31/12/2026"), "due_date '31/12/2026' is not a date"),
    ("objectives", dict(due_date="2025-12-31"), "due_date 2025-12-31 is before the plan year 2026 starts"),
    ("objectives", dict(measure="numeric_distribution"), "measure 'numeric_distribution' is not one of: net_sales"),
    ("objectives", dict(retailer_id="R9"), "retailer_id 'R9' is not a retailer of the analytics database"),
    ("objectives", dict(target_value="lots"), "target_value 'lots' is not a number"),
    ("objectives", dict(target_value=0), "target_value 0 is out of range for net_sales: above 0"),
    ("objectives", dict(measure="in_stock_rate", target_value=98), "at most 1"),
    ("objectives", dict(year=1999), "year 1999 is outside 2000 to 2100"),
    ("objectives", dict(year="2026.5"), "year '2026.5' is not a whole number"),
    ("objectives", dict(title="  "), "title is required"),
    ("objectives", dict(objective_id="has space"), "objective_id 'has space' is not a valid id"),
    ("objectives", dict(owner="x" * 201), "owner is 201 characters long; at most 200"),
    ("initiatives", dict(function="legal"), "function 'legal' is not one of: sales, marketing"),
    ("initiatives", dict(status="paused"), "status 'paused' is not one of: planned, in_progress"),
    ("initiatives", dict(promo_id="P7"), "promo_id 'P7' is not a promotion of the analytics database"),
    ("contacts", dict(influence="boss"), "influence 'boss' is not one of: decision_maker"),
    ("contacts", dict(last_contact="2026-06-02"), "last_contact 2026-06-02 is in the future"),
    ("meetings", dict(date=""), "date is required"),
])
def test_bad_values_are_refused_with_a_message_and_nothing_is_stored(store, kind, change, message):
    base = {"objectives": OBJECTIVE, "initiatives": INITIATIVE, "contacts": CONTACT, "meetings": MEETING}[kind]
    if kind == "initiatives":
        plans.save(store, "objectives", OBJECTIVE, "ann", refs=REFS)
    before = rows(store, kind), rows(store, "history")
    with pytest.raises(StateError) as err:
        plans.save(store, kind, {**base, **change}, "ann", refs=REFS)
    assert message in str(err.value)
    assert (rows(store, kind), rows(store, "history")) == before


def test_an_initiative_needs_a_stored_objective(store):
    with pytest.raises(StateError, match="objective_id 'O1' is not an objective of the account plan"):
        plans.save(store, "initiatives", INITIATIVE, "ann", refs=REFS)


def test_optional_fields_may_be_empty(store):
    plans.save(store, "objectives", OBJECTIVE, "ann", refs=REFS)
    saved = plans.save(store, "initiatives", {**INITIATIVE, "promo_id": ""}, "ann", refs=REFS)
    assert saved["promo_id"] is None
    assert plans.save(store, "contacts", {**CONTACT, "last_contact": None}, "ann", refs=REFS)["last_contact"] is None


def test_a_save_needs_an_author(store):
    with pytest.raises(StateError, match="say who is making the change"):
        plans.save(store, "objectives", OBJECTIVE, "  ", refs=REFS)
    assert rows(store, "objectives") == 0


def test_versions_and_the_optimistic_check(store):
    first = plans.save(store, "objectives", OBJECTIVE, "ann", refs=REFS)
    assert first["version"] == 1
    with pytest.raises(StateError, match="objective O1 already exists"):
        plans.save(store, "objectives", OBJECTIVE, "bo", refs=REFS)  # adding again is not editing
    # Ann and Bo both opened version 1; Bo saves first, so Ann's save must not overwrite his
    plans.save(store, "objectives", {**OBJECTIVE, "title": "Bo's title"}, "bo", expected_version=1, refs=REFS)
    with pytest.raises(StaleEdit, match="objective O1 was changed by bo .* after you opened it"):
        plans.save(store, "objectives", {**OBJECTIVE, "title": "Ann's title"}, "ann", expected_version=1, refs=REFS)
    assert plans.get(store, "objectives", "O1")["title"] == "Bo's title"
    assert plans.get(store, "objectives", "O1")["version"] == 2
    # saving the same values again writes no new version
    assert plans.save(store, "objectives", {**OBJECTIVE, "title": "Bo's title"}, "bo", 2, REFS)["version"] == 2
    plans.delete(store, "objectives", "O1", "bo", expected_version=2)
    with pytest.raises(StaleEdit, match="was deleted by someone else"):
        plans.save(store, "objectives", OBJECTIVE, "ann", expected_version=2, refs=REFS)


def test_history_keeps_who_when_before_and_after(store):
    plans.save(store, "objectives", OBJECTIVE, "ann", refs=REFS)
    plans.save(store, "objectives", {**OBJECTIVE, "target_value": 1200}, "bo", expected_version=1, refs=REFS)
    plans.delete(store, "objectives", "O1", "cy", expected_version=2)
    h = plans.history(store, "objectives", "O1")
    assert h["actor"].tolist() == ["ann", "bo", "cy"]
    assert h["action"].tolist() == ["insert", "update", "delete"]
    assert h["changes"].iloc[1] == "target_value: 1,000 -> 1,200"
    assert h["changes"].iloc[2].startswith("objective_id: O1 -> (empty)")
    assert h["at"].str.match(r"\d{4}-\d{2}-\d{2}T").all()
    with store.read() as con, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("DELETE FROM history")


def test_an_objective_with_initiatives_cannot_be_deleted(store):
    plans.save(store, "objectives", OBJECTIVE, "ann", refs=REFS)
    plans.save(store, "initiatives", INITIATIVE, "ann", refs=REFS)
    with pytest.raises(StateError, match="still has 1 initiative: delete them or move them"):
        plans.delete(store, "objectives", "O1", "ann", expected_version=1)
    plans.delete(store, "initiatives", "I1", "ann", expected_version=1)
    plans.delete(store, "objectives", "O1", "ann", expected_version=1)
    assert rows(store, "objectives") == 0


def test_records_by_retailer_and_year(store):
    plans.save(store, "objectives", OBJECTIVE, "ann", refs=REFS)
    plans.save(store, "objectives", {**OBJECTIVE, "objective_id": "O2", "retailer_id": "R2"}, "ann", refs=REFS)
    plans.save(store, "objectives", {**OBJECTIVE, "objective_id": "O3", "year": 2027, "due_date": "2027-06-30"},
               "ann", refs=REFS)
    plans.save(store, "initiatives", INITIATIVE, "ann", refs=REFS)
    assert plans.records(store, "objectives", "R1")["objective_id"].tolist() == ["O1", "O3"]
    assert plans.records(store, "objectives", "R1", 2027)["objective_id"].tolist() == ["O3"]
    i = plans.records(store, "initiatives", "R1").iloc[0]
    assert (i["retailer_id"], i["objective_title"], i["year"]) == ("R1", "Grow", 2026)
    assert plans.records(store, "initiatives", "R2").empty


def test_next_steps_are_one_per_line():
    assert plans.next_steps(MEETING) == ["Send the calendar", "Share the OOS report"]
    assert plans.next_steps({"next_steps": None}) == []


def test_relationship_flags(store):
    today = dt.date(2026, 6, 1)
    plans.save(store, "objectives", OBJECTIVE, "ann", refs=REFS)
    plans.save(store, "objectives", {**OBJECTIVE, "objective_id": "O2", "retailer_id": "R2"}, "ann", refs=REFS)
    for iid, status, due in [("I1", "in_progress", "2026-05-01"),  # overdue
                             ("I2", "blocked", "2026-07-01"),  # blocked, not overdue
                             ("I3", "planned", "2026-05-31"),  # overdue
                             ("I4", "done", "2026-01-01"),  # done: never overdue
                             ("I5", "dropped", "2026-01-01"),  # dropped: never overdue
                             ("I6", "planned", "2026-06-01")]:  # due today: not yet overdue
        plans.save(store, "initiatives", {**INITIATIVE, "initiative_id": iid, "status": status, "due_date": due},
                   "ann", refs=REFS)
    plans.save(store, "contacts", {**CONTACT, "last_contact": "2026-04-02"}, "ann", refs=REFS)  # 60 days: fresh
    plans.save(store, "contacts", {**CONTACT, "contact_id": "C2", "name": "Eli", "last_contact": "2026-04-01"},
               "ann", refs=REFS)  # 61 days: stale
    plans.save(store, "contacts", {**CONTACT, "contact_id": "C3", "name": "Flo", "influence": "influencer",
                                   "last_contact": "2025-01-01"}, "ann", refs=REFS)  # not a decision maker
    plans.save(store, "contacts", {**CONTACT, "contact_id": "C4", "retailer_id": "R2", "name": "Gil",
                                   "last_contact": None}, "ann", refs=REFS)
    flags = plans.relationship_flags(store, today, stale_days=60)
    assert flags.to_dict("records") == [
        {"retailer_id": "R1", "reason": "2 initiatives overdue; 1 initiative blocked; "
                                        "decision maker Eli not contacted for 61 days"},
        {"retailer_id": "R2", "reason": "decision maker Gil never contacted"},
    ]
    assert plans.relationship_flags(store, today, stale_days=30)["reason"].iloc[0].endswith(
        "decision maker Dana not contacted for 60 days; decision maker Eli not contacted for 61 days")


def test_stale_contact_days_setting():
    assert plans.stale_contact_days({}) == 60
    assert plans.stale_contact_days({"KAM_DASH_STALE_CONTACT_DAYS": "90"}) == 90
    with pytest.raises(StateError, match="must be a whole number of days above 0, not 'soon'"):
        plans.stale_contact_days({"KAM_DASH_STALE_CONTACT_DAYS": "soon"})


def test_a_held_meeting_updates_the_last_contact_of_its_attendees(store):
    plans.save(store, "contacts", CONTACT, "ann", refs=REFS)  # Dana, last contact 2026-03-01
    plans.save(store, "contacts", {**CONTACT, "contact_id": "C2", "name": "Eli", "last_contact": "2026-05-25"},
               "ann", refs=REFS)
    plans.save(store, "contacts", {**CONTACT, "contact_id": "C3", "retailer_id": "R2"}, "ann", refs=REFS)
    # Dana (any case) and Eli attended on 20 May; Eli's later contact stays; R2's Dana is another person
    plans.save(store, "meetings", {**MEETING, "attendees": "Ann,  dana , Eli"}, "bo", refs=REFS)
    assert plans.get(store, "contacts", "C1")["last_contact"] == "2026-05-20"
    assert plans.history(store, "contacts", "C1")["actor"].tolist() == ["ann", "bo"]
    assert plans.get(store, "contacts", "C2")["last_contact"] == "2026-05-25"
    assert plans.get(store, "contacts", "C3")["last_contact"] == "2026-03-01"
    # a meeting planned for later is not contact yet
    plans.save(store, "meetings", {**MEETING, "meeting_id": "M2", "date": "2026-07-01", "attendees": "Dana"},
               "bo", refs=REFS)
    assert plans.get(store, "contacts", "C1")["last_contact"] == "2026-05-20"
