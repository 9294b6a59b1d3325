"""A session open on a page sees an import on its next run: no restart, the new latest week in the header."""

from __future__ import annotations

import datetime as dt

from kam_dash import cli
from tests.app.conftest import open_app
from tests.ingest.dbcheck import copy_db

LATEST = dt.date(2026, 11, 16)


def header(at) -> str:
    return next(c.value for c in at.caption if "Data through the week of" in c.value)


def test_an_open_session_shows_the_imported_week_on_its_next_run(monkeypatch, small_db, tmp_path):
    db = copy_db(small_db, tmp_path)
    at = open_app(monkeypatch, db, page="pages/portfolio.py")
    assert "Data through the week of **16 Nov 2026**" in header(at)
    week = LATEST + dt.timedelta(weeks=1)
    path = tmp_path / "sell_in_new.csv"
    path.write_text("week,retailer_id,sku_id,units,gross_sales,net_sales\n"
                    + "".join(f"{week},R001,SKU{s:05d},1,10,10\n" for s in range(1, 4)))
    assert cli.main(["import", str(path), "--db", str(db)]) == 0  # while the session holds its engine
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Data through the week of **23 Nov 2026**" in header(at)


def test_a_page_says_when_sell_out_units_are_missing(monkeypatch, small_db, tmp_path):
    db = copy_db(small_db, tmp_path)
    path = tmp_path / "sell_out_value_only.csv"
    # two rows of value only (no units column) for R001 in a new week
    week = LATEST + dt.timedelta(weeks=1)
    path.write_text(f"week,retailer_id,sku_id,sales_value\n{week},R001,SKU00001,12\n{week},R001,SKU00002,3\n")
    assert cli.main(["import", str(path), "--db", str(db)]) == 0
    at = open_app(monkeypatch, db, page="pages/inventory.py")
    notes = [c.value for c in at.caption if "without units" in c.value]
    assert len(notes) == 1 and notes[0].startswith("2 sell-out rows (Fresh Market)")
