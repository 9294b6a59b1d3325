"""The review pack's "Objectives and next steps": slide and sheet hold the plan's objectives with the progress
the account-plan export computes, and the open initiatives."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from pptx import Presentation

from kam_dash import export
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.report import deck, pack as packs, workbook
from kam_dash.state import plans
from kam_dash.state.store import Store

REFS = plans.Refs(retailers=frozenset({"R002"}))


@pytest.fixture()
def plan_pack(small_db, tmp_path, monkeypatch):
    state = tmp_path / "plan.sqlite"
    monkeypatch.setenv("KAM_DASH_STATE", str(state))
    store = Store(state)
    plans.save(store, "objectives", dict(objective_id="O1", retailer_id="R002", year=2026, title="Grow",
                                         measure="net_sales", target_value=4e6, due_date="2026-12-31", owner="Bo"),
               "bo", refs=REFS)
    plans.save(store, "objectives", dict(objective_id="O2", retailer_id="R002", year=2026, title="Full shelves",
                                         measure="in_stock_rate", target_value=0.99, due_date="2026-12-31",
                                         owner="Bo"), "bo", refs=REFS)
    plans.save(store, "initiatives", dict(initiative_id="I1", objective_id="O1", title="End caps", owner="Bo",
                                          function="sales", status="blocked", due_date="2099-01-01"), "bo")
    plans.save(store, "initiatives", dict(initiative_id="I2", objective_id="O1", title="Done one", owner="Bo",
                                          function="sales", status="done", due_date="2026-01-01"), "bo")
    plans.save(store, "meetings", dict(meeting_id="M1", retailer_id="R002", date="2026-11-02", attendees="Bo",
                                       next_steps="- Call the buyer"), "bo", refs=REFS)
    engine = DuckDBEngine(small_db)
    yield engine, packs.collect(engine, Filters(), "R002"), state
    engine.close()


def test_the_section_holds_the_objectives_and_open_initiatives(plan_pack):
    engine, pack, state = plan_pack
    section = next(s for s in pack.sections if s.key == "objectives")
    exported = export.compute("account-plan", engine, Filters(retailers=("R002",)), state=str(state), year=2026)
    table = section.tables[0].frame
    assert table["objective_id"].tolist() == exported["objective_id"].tolist() == ["O1", "O2"]
    assert table["actual_value"].tolist() == pytest.approx(exported["actual_value"].tolist())
    assert table["status"].tolist() == exported["status"].tolist()
    counts = exported["status"].value_counts()
    assert section.lead == ("2 objectives for 2026: " + ", ".join(
        f"{counts[s]} {s}" for s in ("on track", "at risk", "off track", "no data") if s in counts)
        + ". 1 open initiative, 0 overdue, 1 blocked.")  # the done one is not open
    assert section.points[2] == "Next: End caps (sales, Bo, due 2099-01-01, blocked)"
    assert section.points[3] == "From the meeting of 2026-11-02: Call the buyer"
    assert section.tables[1].frame["initiative_id"].tolist() == ["I1"]


def test_sheet_and_slide(plan_pack):
    engine, pack, state = plan_pack
    book = load_workbook(io.BytesIO(workbook.render(pack)))
    sheet = book["Objectives"]
    header = [c.value for c in sheet[1]]
    # in words: the objective by its title (not its key), the measure by its label
    assert header[:5] == ["Title", "Measure", "Target value", "Actual value", "Progress"]
    assert [sheet.cell(r, 1).value for r in (2, 3)] == ["Grow", "Full shelves"]
    assert [sheet.cell(r, 2).value for r in (2, 3)] == ["Net sales", "In-stock rate"]
    assert sheet.cell(2, 3).value == 4e6 and sheet.cell(3, 3).value == pytest.approx(0.99)
    assert "%" in sheet.cell(3, 3).number_format and "%" not in sheet.cell(2, 3).number_format
    assert "Next steps" in book.sheetnames
    only = packs.Pack(pack.retailer, pack.period, pack.filters, pack.freshness, pack.generated, pack.start,
                      pack.end, sections=[s for s in pack.sections if s.key == "objectives"])
    slides = Presentation(io.BytesIO(deck.render(only, [])))
    slide = next(s for s in slides.slides if s.shapes.title.text == "Objectives and next steps")
    text = " ".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
    assert "Grow: $" in text and "End caps" in text and "Call the buyer" in text


def test_no_state_database_next_steps_from_the_numbers(small_db, tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_DASH_STATE", str(tmp_path / "absent.sqlite"))
    engine = DuckDBEngine(small_db)
    pack = packs.collect(engine, Filters(), "R002")
    engine.close()
    section = pack.sections[-1]
    assert section.key == "objectives" and section.tables == []
    assert section.lead.startswith("No objectives in an account plan for this account")
    assert section.points and ("report", "Gaps and opportunities") in section.terms
    assert not any("Objectives" in m for m in pack.missing)
    assert not (tmp_path / "absent.sqlite").exists()  # reading the plan never creates one
