"""The Data page: upload, grouped report, preview, load all or nothing, data health."""

from __future__ import annotations

import datetime as dt

from kam_dash.fmt import md_text as md
from tests.app.conftest import open_app
from tests.ingest.dbcheck import checksums, copy_db, rows

PAGE = "pages/data.py"
LATEST = dt.date(2026, 11, 16)
HEADER = "week,retailer_id,sku_id,units,gross_sales,net_sales\n"


def upload(at, files):
    uploader = at.file_uploader[0]
    uploader.set_value([(name, text.encode(), "text/csv") for name, text in files]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_clean_file_is_previewed_then_loaded_and_the_health_shows_the_new_week(monkeypatch, small_db, tmp_path):
    db = copy_db(small_db, tmp_path)
    at = open_app(monkeypatch, db, page=PAGE)
    assert at.title[0].value == "Data"
    health = at.dataframe[0].value
    assert health.set_index("Table").loc["sell_in", "Latest week"] == "16 Nov 2026"

    # one new week (5 rows) and one restated row of the latest week: 5 new + 1 replaced
    new_week = "".join(f"{LATEST + dt.timedelta(weeks=1)},R001,SKU{s:05d},1,10,10\n" for s in range(1, 6))
    restated = f"{LATEST},R001,SKU00001,1,10,10\n"
    upload(at, [("sell_in_new.csv", HEADER + new_week + restated)])
    preview = at.dataframe[0].value.set_index("Table")
    assert preview.loc["sell_in", ["Rows", "New rows", "Replaced rows"]].tolist() == ["6", "5", "1"]

    at.button(key="data_load").click().run()
    assert not at.exception
    assert any("Imported 1 file" in s.value for s in at.success), ([s.value for s in at.success], [e.value for e in at.error])
    assert rows(db, "SELECT max(week) FROM sell_in") == [(LATEST + dt.timedelta(weeks=1),)]
    health = at.dataframe[0].value.set_index("Table")
    assert health.loc["sell_in", "Latest week"] == "23 Nov 2026"  # the same session sees the new file on its rerun
    assert at.file_uploader[0].value in (None, [])  # the loaded files are cleared


def test_a_file_with_problems_is_reported_by_reason_and_nothing_is_written(monkeypatch, small_db, tmp_path):
    db = copy_db(small_db, tmp_path)
    before = checksums(db)
    at = open_app(monkeypatch, db, page=PAGE)
    fridays = "".join(f"2026-11-20,R001,SKU{s:05d},1,10,10\n" for s in range(1, 8))  # 7 Fridays, rows 2..8
    huge = "2026-11-16,R001,SKU00001,1,10,1e300\n"  # row 9
    upload(at, [("sell_in.csv", HEADER + fridays + huge)])
    assert "Nothing can be loaded: 8 problems in 1 file(s)" in at.error[0].value
    labels = [e.label for e in at.expander]
    # labels are markdown with the data's text escaped (fmt.md_text), so compare in that form
    assert any(label.startswith(md("sell_in.csv") + ": 7 x " + md("column week: not a Monday")) for label in labels)
    assert any(label.startswith(md("sell_in.csv") + ": 1 x " + md("column net_sales: a value is larger than 1e+15"))
               for label in labels)
    assert not [b for b in at.button if b.key == "data_load"]
    assert checksums(db) == before


def test_week_ending_friday_on_the_page_moves_rows_to_their_monday(monkeypatch, small_db, tmp_path):
    db = copy_db(small_db, tmp_path)
    at = open_app(monkeypatch, db, page=PAGE)
    at.selectbox(key="data_week_ending").set_value("fri").run()
    # week ending Fri 2026-11-27 (Sat 21 .. Fri 27): the Monday of (27 - 3 days = Tue 24) is 2026-11-23
    upload(at, [("sell_in.csv", HEADER + "2026-11-27,R001,SKU00001,1,10,10\n")])
    preview = at.dataframe[0].value.set_index("Table")
    assert preview.loc["sell_in", "First week"] == dt.date(2026, 11, 23)
