"""The demo's account plan: plausible, valid, varied, and rewritten in place by `kam-dash demo`."""

from __future__ import annotations

import datetime as dt

from kam_dash import cli, export
from kam_dash.filters import Filters
from kam_dash.metrics import share
from kam_dash.state import demo_plan, plans
from kam_dash.state.store import Store
from tests.conftest import AS_OF


def test_the_demo_plan_covers_the_top_accounts(small_engine, tmp_path):
    store = Store(tmp_path / "plan.sqlite")
    counts = demo_plan.write(small_engine, store)
    top = share.revenue_share(small_engine, Filters())["retailer_id"].head(demo_plan.TOP_ACCOUNTS).tolist()
    objectives = plans.records(store, "objectives")
    assert sorted(set(objectives["retailer_id"])) == sorted(top)
    assert counts == {name: len(plans.records(store, name)) for name in plans.RECORD_TYPES}
    refs = plans.refs_from_engine(small_engine, today=AS_OF)
    for name in plans.RECORD_TYPES:  # every record passes the page's own checks
        for record in plans.records(store, name)[plans.RECORD_TYPES[name].columns].to_dict("records"):
            assert plans.validate(name, record, refs)[1] == [], (name, record)
    progress = export.compute("account-plan", small_engine, Filters(), state=str(tmp_path / "plan.sqlite"))
    assert progress["actual_value"].notna().all()
    assert progress["status"].nunique() >= 2  # not all on track, not all off
    assert len(plans.relationship_flags(store, AS_OF)) >= 1  # a stale decision maker, an overdue initiative
    assert set(plans.records(store, "initiatives")["status"]) >= {"done", "blocked", "in_progress"}
    assert plans.records(store, "initiatives")["promo_id"].notna().any()  # a promotion linked to an initiative


def test_writing_again_replaces_the_demo_records_and_keeps_the_users(small_engine, tmp_path):
    store = Store(tmp_path / "plan.sqlite")
    demo_plan.write(small_engine, store)
    first = plans.records(store, "objectives")
    mine = dict(objective_id="MINE", retailer_id=first["retailer_id"].iloc[0], year=2026, title="Mine",
                measure="net_sales", target_value=1.0, due_date="2026-12-31", owner="Me")
    plans.save(store, "objectives", mine, "me")
    demo_plan.write(small_engine, store)
    again = plans.records(store, "objectives")
    assert len(again) == len(first) + 1 and "MINE" in set(again["objective_id"])
    assert (again.set_index("objective_id").loc[first["objective_id"], "version"] == 1).all()  # same values


def test_cli_demo_writes_the_plan_beside_the_database(tmp_path, capsys):
    db = tmp_path / "demo.duckdb"
    assert cli.main(["demo", "--scale", "small", "--db", str(db), "--as-of", AS_OF.isoformat()]) == 0
    assert "Wrote the demo account plan to" in capsys.readouterr().out
    store = Store(tmp_path / "demo.state.sqlite", create=False)
    assert len(plans.records(store, "objectives")) > 0
    other = tmp_path / "elsewhere.sqlite"
    assert cli.main(["demo", "--scale", "small", "--db", str(db), "--force", "--state", str(other),
                     "--as-of", AS_OF.isoformat()]) == 0
    assert len(plans.records(Store(other), "meetings")) > 0
    assert dt.date.fromisoformat(plans.records(store, "meetings")["date"].max()) < AS_OF
