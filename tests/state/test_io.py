"""`kam-dash plans import / export`: validated, all-or-nothing, replaced by id, and a round trip keeps the rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from kam_dash import cli
from kam_dash.state import io, plans
from kam_dash.state.store import Store

REFS = plans.Refs(retailers=frozenset({"R001", "R002"}), promo_ids=None, today=dt.date(2026, 11, 26))
FILES = {
    "objectives.csv": "objective_id,retailer_id,year,title,measure,target_value,due_date,owner\n"
                      "O1,R001,2026,\"Grow net sales, 5%\",net_sales,1500000,2026-12-31,Ann\n"
                      "O2,R002,2026,Full shelves,in_stock_rate,0.975,2026-09-30,Bo\n",
    "initiatives.csv": "initiative_id,objective_id,title,owner,function,status,due_date,promo_id\n"
                       "I1,O1,End caps,Ann,sales,planned,2026-12-01,\n"
                       "I2,O2,DC safety stock,Cy,supply_chain,blocked,2026-08-01,P42\n",
    "contacts.csv": "contact_id,retailer_id,name,role,influence,relationship_owner,last_contact\n"
                    "C1,R001,Dana Ng,Head of buying,decision_maker,Ann,2026-10-01\n"
                    "C2,R002,Eli Ortiz,Planner,user,Bo,\n",
    "meetings.csv": "meeting_id,retailer_id,date,attendees,notes,decisions,next_steps\n"
                    "M1,R001,2026-11-02,\"Ann, Dana Ng\",\"Notes, with a comma\",Keep the calendar,"
                    "\"- Send the calendar\n- Share the OOS report\"\n",
}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def table(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


def test_round_trip_gives_the_same_rows(tmp_path):
    store = Store(tmp_path / "a.sqlite")
    report = io.import_dir(store, write(tmp_path / "in", FILES), REFS, "ann")
    assert report.counts["objectives"] == {"added": 2, "replaced": 0, "unchanged": 0}
    io.export_dir(store, tmp_path / "out")
    for name in plans.RECORD_TYPES:  # the same rows as imported, cell for cell
        assert table(tmp_path / "out", name).equals(table(tmp_path / "in", name)), name
    # ... and importing the export into a fresh store, then exporting again, changes nothing
    again = Store(tmp_path / "b.sqlite")
    io.import_dir(again, tmp_path / "out", REFS, "bo")
    io.export_dir(again, tmp_path / "out2")
    for name in plans.RECORD_TYPES:
        assert (tmp_path / "out2" / f"{name}.csv").read_text() == (tmp_path / "out" / f"{name}.csv").read_text()
    # re-importing the same files into the first store: all unchanged, no new history
    before = len(plans.history(store, "objectives", "O1"))
    assert io.import_dir(store, tmp_path / "out", REFS, "ann").counts["contacts"]["unchanged"] == 2
    assert len(plans.history(store, "objectives", "O1")) == before


def test_rows_are_replaced_by_id_and_others_kept(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    io.import_dir(store, write(tmp_path / "in", FILES), REFS, "ann")
    changed = FILES["objectives.csv"].replace("Full shelves", "Fuller shelves").splitlines()
    write(tmp_path / "in2", {"objectives.csv": "\n".join([changed[0], changed[2]]) + "\n"})
    report = io.import_dir(store, tmp_path / "in2", REFS, "bo")
    assert report.counts == {"objectives": {"added": 0, "replaced": 1, "unchanged": 0}}
    assert plans.records(store, "objectives")["title"].tolist() == ["Grow net sales, 5%", "Fuller shelves"]
    assert plans.history(store, "objectives", "O2")["actor"].tolist() == ["ann", "bo"]


def test_a_bad_row_imports_nothing_and_names_every_problem(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    bad = dict(FILES)
    bad["objectives.csv"] += "O3,R999,2026,Bad,net_sales,10,2026-13-01,Ann\nO1,R001,2026,Dup,net_sales,1,2026-12-31,A\n"
    bad["initiatives.csv"] += "I3,O9,Orphan,Ann,sales,started,2026-12-01,\n"
    with pytest.raises(io.PlanImportFailed) as err:
        io.import_dir(store, write(tmp_path / "in", bad), REFS, "ann")
    assert err.value.problems == [
        "objectives.csv line 4: due_date '2026-13-01' is not a date (YYYY-MM-DD)",
        "objectives.csv line 4: retailer_id 'R999' is not a retailer of the analytics database",
        "objectives.csv line 5: objective_id O1 repeats line 2",
        "initiatives.csv line 4: status 'started' is not one of: planned, in_progress, done, blocked, dropped",
    ]
    assert all(plans.records(store, name).empty for name in plans.RECORD_TYPES)


def test_an_initiative_of_an_unknown_objective_is_refused(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    with pytest.raises(io.PlanImportFailed, match="objective_id 'O1' is neither stored nor in objectives.csv"):
        io.import_dir(store, write(tmp_path / "in", {"initiatives.csv": FILES["initiatives.csv"]}), REFS, "ann")
    io.import_dir(store, write(tmp_path / "o", {"objectives.csv": FILES["objectives.csv"]}), REFS, "ann")
    io.import_dir(store, tmp_path / "in", REFS, "ann")  # the objectives are stored now
    assert len(plans.records(store, "initiatives")) == 2


def test_wrong_columns_and_empty_folders(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    write(tmp_path / "in", {"contacts.csv": "contact_id,retailer_id,name,phone\nC1,R001,Dana,123\n"})
    with pytest.raises(io.PlanImportFailed) as err:
        io.import_dir(store, tmp_path / "in", REFS, "ann")
    assert err.value.problems == [
        "contacts.csv: missing columns role, influence, relationship_owner",
        "contacts.csv: unknown column phone (expected contact_id, retailer_id, name, role, influence, "
        "relationship_owner, last_contact)"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(io.PlanImportFailed, match="holds none of objectives.csv"):
        io.import_dir(store, tmp_path / "empty", REFS, "ann")


def test_cli_import_and_export(small_db, tmp_path, capsys):
    folder = write(tmp_path / "in", FILES)
    state = tmp_path / "plans.sqlite"
    assert cli.main(["plans", "import", str(folder), "--state", str(state), "--db", str(small_db)]) == 1
    assert "promo_id 'P42' is not a promotion of the analytics database" in capsys.readouterr().err
    assert plans.records(Store(state), "initiatives").empty
    (folder / "initiatives.csv").write_text(FILES["initiatives.csv"].replace("P42", "P00001"))  # a demo promotion
    assert cli.main(["plans", "import", str(folder), "--state", str(state), "--db", str(small_db),
                     "--actor", "script"]) == 0
    assert "2 added" in capsys.readouterr().out
    assert plans.history(Store(state), "contacts", "C1")["actor"].tolist() == ["script"]
    assert cli.main(["plans", "export", str(tmp_path / "out"), "--state", str(state)]) == 0
    assert table(tmp_path / "out", "objectives")["objective_id"].tolist() == ["O1", "O2"]
    assert cli.main(["plans", "export", str(tmp_path / "out"), "--state", str(tmp_path / "none.sqlite")]) == 1
    assert "there is no state database" in capsys.readouterr().err


def test_cli_export_account_plan(small_db, tmp_path):
    state = tmp_path / "plans.sqlite"
    io.import_dir(Store(state), write(tmp_path / "in", {"objectives.csv": FILES["objectives.csv"]}), REFS, "ann")
    out = tmp_path / "ap.csv"
    assert cli.main(["export", "account-plan", "--db", str(small_db), "--state", str(state), "--retailer", "R002",
                     "--year", "2026", "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert frame["objective_id"].tolist() == ["O2"]
    assert list(frame.columns) == ["objective_id", "retailer_id", "year", "title", "measure", "target_value",
                                   "actual_value", "progress", "due_date", "status"]
    assert frame["progress"].iloc[0] == pytest.approx(frame["actual_value"].iloc[0] / 0.975)
