"""The Account plan page under AppTest: add, edit and delete through the page; bad input stores nothing."""

from __future__ import annotations

import pytest

from kam_dash.state import plans
from kam_dash.state.store import Store

PAGE = "pages/account_plan.py"


@pytest.fixture()
def plan_app(app, small_db, tmp_path, monkeypatch):
    """The page on the small demo for retailer R002, with an empty state database; returns (at, store)."""
    path = tmp_path / "state.sqlite"
    monkeypatch.setenv("KAM_DASH_STATE", str(path))
    at = app(small_db, page=PAGE, query={"account": "R002"})
    return at, Store(path)


def sign(at, name="Tess"):
    at.text_input(key="actor_input").input(name).run()
    assert not at.exception, [e.value for e in at.exception]


def fill(at, prefix: str, **values):
    for name, value in values.items():
        at.text_input(key=f"{prefix}{name}").input(value)


def add_objective(at, **changes):
    values = dict(title="Grow net sales", target_value="4000000", due_date="2026-12-31", owner="Tess")
    values.update(changes)
    at.selectbox(key="objective:__new__:measure").set_value("net_sales")
    fill(at, "objective:__new__:", **values)
    at.button(key="objective_save").click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_saving_needs_a_name(plan_app):
    at, store = plan_app
    assert at.button(key="objective_save").disabled
    assert any("Give your name" in c.value for c in at.caption)
    sign(at)
    assert not at.button(key="objective_save").disabled
    assert any("Editing as **Tess**" in c.value for c in at.caption)


def test_add_edit_and_delete_an_objective(plan_app):
    at, store = plan_app
    sign(at)
    add_objective(at, objective_id="OBJ-T1")
    assert not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == ["Saved objective OBJ-T1."]
    saved = plans.get(store, "objectives", "OBJ-T1")
    assert (saved["retailer_id"], saved["year"], saved["target_value"], saved["updated_by"]) == (
        "R002", 2026, 4_000_000.0, "Tess")
    # its progress is drawn at once: the live net sales of R002 in 2026 against 4,000,000
    assert any(m.value.startswith("**Grow net sales** · Net sales") for m in at.markdown)

    at.selectbox(key="objective_pick").set_value("OBJ-T1").run()
    assert at.text_input(key="objective:OBJ-T1:title").value == "Grow net sales"
    assert at.text_input(key="objective:OBJ-T1:target_value").value == "4000000"  # all digits, no 4e+06
    assert at.text_input(key="objective:OBJ-T1:objective_id").disabled  # an id is not edited
    at.text_input(key="objective:OBJ-T1:title").input("Grow net sales by 6%")
    at.text_input(key="objective:OBJ-T1:target_value").input("4200000")
    at.button(key="objective_save").click().run()
    assert [s.value for s in at.success] == ["Saved objective OBJ-T1."]
    saved = plans.get(store, "objectives", "OBJ-T1")
    assert (saved["title"], saved["target_value"], saved["version"]) == ("Grow net sales by 6%", 4_200_000.0, 2)
    history = plans.history(store, "objectives", "OBJ-T1")
    assert history["changes"].iloc[1] == (
        "title: Grow net sales -> Grow net sales by 6%; target_value: 4,000,000 -> 4,200,000")
    assert any(e.label == "History of objective OBJ-T1" for e in at.expander)

    at.button(key="objective_delete").click().run()
    assert [s.value for s in at.success] == ["Deleted objective OBJ-T1."]
    assert plans.get(store, "objectives", "OBJ-T1") is None
    assert at.selectbox(key="objective_pick").value == "__new__"
    assert plans.history(store, "objectives", "OBJ-T1")["action"].tolist() == ["insert", "update", "delete"]


def test_a_bad_date_gives_a_message_and_stores_nothing(plan_app):
    at, store = plan_app
    sign(at)
    add_objective(at, due_date="31/12/2026")
    assert [e.value for e in at.error] == [
        "objective not saved: due_date '31/12/2026' is not a date (YYYY-MM-DD)"]
    assert plans.records(store, "objectives").empty
    assert not at.success
    # the form keeps what was typed, so the user can fix it
    assert at.text_input(key="objective:__new__:due_date").value == "31/12/2026"
    at.text_input(key="objective:__new__:due_date").input("2026-12-31")
    at.button(key="objective_save").click().run()
    assert not at.error and len(plans.records(store, "objectives")) == 1


def test_someone_elses_save_in_between_is_not_overwritten_but_asked_about(plan_app):
    at, store = plan_app
    sign(at)
    add_objective(at, objective_id="OBJ-T2")
    at.selectbox(key="objective_pick").set_value("OBJ-T2").run()
    saved = plans.get(store, "objectives", "OBJ-T2")
    # a colleague saves the same objective from the CLI meanwhile
    plans.save(store, "objectives", {**saved, "owner": "Colleague"}, "colleague", expected_version=1)
    at.text_input(key="objective:OBJ-T2:title").input("Mine")
    at.button(key="objective_save").click().run()
    assert "was changed by colleague" in at.warning[0].value and "keep theirs, or save yours" in at.warning[0].value
    assert plans.get(store, "objectives", "OBJ-T2")["title"] == "Grow net sales"  # nothing overwritten
    # keeping theirs shows the stored record again
    at.button(key="objective_theirs").click().run()
    assert not at.warning
    assert at.text_input(key="objective:OBJ-T2:owner").value == "Colleague"
    assert at.text_input(key="objective:OBJ-T2:title").value == "Grow net sales"
    # a second try, then saving over theirs, on purpose: their owner is replaced too, and the history says so
    plans.save(store, "objectives", {**plans.get(store, "objectives", "OBJ-T2"), "owner": "Colleague 2"},
               "colleague", expected_version=2)
    at.text_input(key="objective:OBJ-T2:title").input("Mine")
    at.button(key="objective_save").click().run()
    assert "was changed by colleague" in at.warning[0].value
    at.button(key="objective_mine").click().run()
    assert [s.value for s in at.success] == ["Saved objective OBJ-T2."]
    final = plans.get(store, "objectives", "OBJ-T2")
    assert (final["title"], final["owner"], final["version"]) == ("Mine", "Colleague", 4)
    assert plans.history(store, "objectives", "OBJ-T2")["actor"].tolist() == ["Tess", "colleague", "colleague",
                                                                                "Tess"]


def test_initiative_contact_and_meeting_next_step(plan_app):
    at, store = plan_app
    sign(at)
    add_objective(at, objective_id="OBJ-T3")
    at.selectbox(key="initiative:__new__:function").set_value("supply_chain")
    fill(at, "initiative:__new__:", initiative_id="INI-T1", title="DC safety stock", due_date="2026-01-15")
    at.button(key="initiative_save").click().run()
    i = plans.get(store, "initiatives", "INI-T1")
    assert (i["objective_id"], i["function"], i["status"], i["owner"]) == ("OBJ-T3", "supply_chain", "planned", "Tess")
    assert any("1 overdue" in c.value for c in at.caption)  # due 15 Jan 2026, still planned
    at.multiselect(key="ini_function").set_value(["marketing"]).run()
    assert any(c.value == "No initiatives match." for c in at.caption)

    at.selectbox(key="contact:__new__:influence").set_value("decision_maker")
    fill(at, "contact:__new__:", contact_id="CON-T1", name="Dana Ng", role="Head of buying", last_contact="2030-01-01")
    at.button(key="contact_save").click().run()
    assert at.error[0].value.endswith("last_contact 2030-01-01 is in the future")
    assert plans.records(store, "contacts").empty

    fill(at, "meeting:__new__:", meeting_id="MTG-T1", date="2026-11-20", attendees="Tess, Dana Ng")
    at.text_area(key="meeting:__new__:next_steps").input("- Send the revised calendar\n- Book the spring review")
    at.button(key="meeting_save").click().run()
    assert plans.get(store, "meetings", "MTG-T1")["attendees"] == "Tess, Dana Ng"
    at.selectbox(key="next_step_step").set_value(1)
    at.button(key="next_step_make").click().run()
    made = plans.records(store, "initiatives")
    assert made["title"].tolist() == ["DC safety stock", "Book the spring review"]
    assert made["objective_id"].tolist() == ["OBJ-T3", "OBJ-T3"]


@pytest.fixture()
def demo_plan_state(small_db, tmp_path, monkeypatch):
    """The demo's account plan for the small demo, in a state database of its own."""
    from kam_dash.engine import DuckDBEngine
    from kam_dash.state import demo_plan

    path = tmp_path / "demo.state.sqlite"
    engine = DuckDBEngine(small_db)
    demo_plan.write(engine, Store(path))
    engine.close()
    monkeypatch.setenv("KAM_DASH_STATE", str(path))
    return Store(path)


def test_account_review_shows_the_objectives_at_the_top(app, small_db, demo_plan_state):
    at = app(small_db, page="pages/account_review.py", query={"account": "R002"})
    expected = plans.records(demo_plan_state, "objectives", "R002", 2026)["title"].tolist()
    assert len(expected) >= 2
    shown = [m.value.split("**")[1] for m in at.markdown if m.value.startswith("**") and " · " in m.value
             and m.value.split("**")[1] in expected]
    assert sorted(shown) == sorted(expected)  # drawn in two columns
    assert [e.label for e in at.expander][:2] == ["Download review pack", "Account plan 2026: objectives"]


def test_portfolio_lists_plan_and_relationship_reasons(app, small_db, demo_plan_state, monkeypatch):
    import datetime as dt

    flags = plans.relationship_flags(demo_plan_state, dt.date.today())
    at = app(small_db, page="pages/portfolio.py")
    assert len(flags) >= 1
    heading = [m.value for m in at.markdown if m.value.startswith("**Plan and relationship")]
    assert heading == [f"**Plan and relationship ({len(flags)} account{'s' if len(flags) > 1 else ''})** · click "
                       "to open the account plan"]


def test_contacts_show_days_since_and_the_stale_decision_maker(app, small_db, demo_plan_state):
    import datetime as dt

    contacts = plans.records(demo_plan_state, "contacts", "R002")
    boss = contacts[contacts["influence"] == "decision_maker"].iloc[0]
    other = contacts[contacts["influence"] != "decision_maker"].iloc[0]
    plans.save(demo_plan_state, "contacts", {**boss[plans.CONTACTS.columns].to_dict(), "last_contact": None},
               "test", expected_version=1)
    at = app(small_db, page=PAGE, query={"account": "R002"})
    table = next(d.value for d in at.dataframe if "Days since" in d.value.columns).set_index("Name")
    assert table.loc[boss["name"], "Days since"] == "–"  # no date: a dash, not "nan"
    days = (dt.date.today() - dt.date.fromisoformat(other["last_contact"])).days
    assert table.loc[other["name"], "Days since"] == f"{days:,}"
    assert [w.value for w in at.warning] == [f"Decision maker {boss['name']} never contacted"]
