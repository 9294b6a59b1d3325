"""Files as retailers deliver them: weeks dated by their last day, value without units, net returns, values no
one sells, files too large to read whole, and Walmart's store file loaded at chain level."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest

from kam_dash import cli, ingest
from tests.conftest import real_data
from tests.ingest.dbcheck import rows

KNOWN = {"retailers": {"R1"}, "products": {"S1", "S2", "S3"}}
D = dt.date


def sell_out(text: str, layout: ingest.Layout | None = None) -> ingest.Validation:
    return ingest.validate([("sell_out.csv", text.encode())], known=KNOWN, layout=layout)


@pytest.mark.parametrize(("ending", "dated", "monday"), [
    # Sat 30 Dec .. Fri 5 Jan: 5 of its 7 days are in the ISO week of Mon 1 Jan; 5 Jan - 3 days = Tue 2 Jan
    ("fri", D(2024, 1, 5), D(2024, 1, 1)),
    # Sun 31 Dec .. Sat 6 Jan: 6 days in the week of 1 Jan; 6 Jan - 3 = Wed 3 Jan
    ("sat", D(2024, 1, 6), D(2024, 1, 1)),
    # Mon 1 .. Sun 7 Jan: the ISO week itself; 7 Jan - 3 = Thu 4 Jan
    ("sun", D(2024, 1, 7), D(2024, 1, 1)),
    # Tue 2 .. Mon 8 Jan: 6 days in the week of 1 Jan; 8 Jan - 3 = Fri 5 Jan
    ("mon", D(2024, 1, 8), D(2024, 1, 1)),
    # Thu 4 .. Wed 10 Jan: 4 days (Mon 8 .. Wed 10 is 3) in the week of 1 Jan; 10 Jan - 3 = Sun 7 Jan
    ("wed", D(2024, 1, 10), D(2024, 1, 1)),
    # Fri 5 .. Thu 11 Jan: 4 days (Mon 8 .. Thu 11) in the week of 8 Jan; 11 Jan - 3 = Mon 8 Jan
    ("thu", D(2024, 1, 11), D(2024, 1, 8)),
])
def test_a_week_dated_by_its_last_day_moves_to_the_monday_of_most_of_its_days(ending, dated, monday):
    result = sell_out(f"week,retailer_id,sku_id,units,sales_value\n{dated},R1,S1,1,2\n",
                      ingest.Layout(week_ending=ending))
    assert result.ok, result.render()
    assert result.frames["sell_out"]["week"].dt.date.tolist() == [monday]


def test_a_date_that_is_not_the_given_week_end_is_refused():
    result = sell_out("week,retailer_id,sku_id,units,sales_value\n2024-01-04,R1,S1,1,2\n",
                      ingest.Layout(week_ending="fri"))
    assert [p.reason for p in result.problems] == [
        "2024-01-04 is a Thursday, not a Friday: with --week-ending fri every week is dated by its last day"]


def test_sell_out_with_value_and_no_units_column_is_accepted_and_counted():
    result = sell_out("week,retailer_id,sku_id,sales_value\n2026-11-16,R1,S1,12.5\n2026-11-16,R1,S2,3\n")
    assert result.ok, result.render()
    assert result.frames["sell_out"]["units"].isna().all()
    assert result.counted == {"value without units": 2}


def test_net_returns_are_kept_and_opposite_signs_refused():
    ok = sell_out("week,retailer_id,sku_id,units,sales_value\n"
                  "2026-11-16,R1,S1,-2,-7.5\n"   # a return: both negative
                  "2026-11-16,R1,S2,,-3\n"       # a return in value only
                  "2026-11-16,R1,S3,4,10\n")
    assert ok.ok, ok.render()
    assert ok.counted == {"negative (returns)": 2, "value without units": 1}
    assert "2 sell-out rows accepted as negative (returns)" in ok.notes
    bad = sell_out("week,retailer_id,sku_id,units,sales_value\n2026-11-16,R1,S1,2,-7.5\n2026-11-16,R1,S2,-1,0\n")
    assert [(p.row, p.column) for p in bad.problems] == [(2, "units, sales_value"), (3, "units, sales_value")]


def test_values_no_one_sells_are_refused_with_the_row_named():
    result = sell_out("week,retailer_id,sku_id,units,sales_value\n2026-11-16,R1,S1,1,1e308\n")
    assert [p.render() for p in result.problems] == [
        "sell_out.csv, row 2, column sales_value: '1e308' is larger than 1e+15: no one sells or stocks that much "
        "(a unit or decimal mark mix-up?), and sums of it overflow"]


def test_a_sum_of_days_above_the_limit_is_refused_naming_the_first_day():
    # two days of 6e14 each: each is allowed, their week (1.2e15) is not
    result = sell_out("date,retailer_id,sku_id,units,sales_value\n2026-11-16,R1,S1,1,6e14\n2026-11-17,R1,S1,1,6e14\n")
    assert [(p.row, p.column) for p in result.problems] == [(2, "sales_value")]
    assert "add up to 1.2e+15, above 1e+15" in result.problems[0].reason


def test_a_file_above_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch, capsys):
    path = tmp_path / "sell_out.csv"
    line = "2026-11-16,R1,S1,1,2\n"
    path.write_text("week,retailer_id,sku_id,units,sales_value\n" + line * 100_000)  # 42 + 21 x 100,000 bytes
    monkeypatch.setattr(ingest, "MAX_FILE_BYTES", 2**20)  # 1 MB for the test, 2 GB by default
    opened = []
    monkeypatch.setattr(ingest, "read_stream", lambda *a, **k: opened.append(a) or b"")
    assert cli.main(["import", str(path), "--db", str(tmp_path / "x.duckdb")]) == 1
    err = capsys.readouterr().err
    assert f"{path} is 2.0 MB (2,100,042 bytes), more than the 1.0 MB one file may be" in err
    assert opened == []  # refused on its size, not read
    assert not (tmp_path / "x.duckdb").exists()


def test_a_stream_is_read_in_chunks_and_stopped_once_past_the_limit(monkeypatch):
    monkeypatch.setattr(ingest, "READ_CHUNK", 1000)
    reads = []

    class Counting(io.BytesIO):
        def read(self, n=-1):
            reads.append(n)
            return super().read(n)

    with pytest.raises(ingest.ImportFailed, match="upload.csv is"):
        ingest.read_stream("upload.csv", Counting(b"x" * 10_000), limit=2500)
    assert reads == [1000, 1000, 1000]  # stopped at the third chunk: never the whole 10,000 bytes
    assert ingest.read_stream("ok.csv", Counting(b"y" * 2500), limit=2500) == b"y" * 2500


@pytest.mark.realdata
def test_walmart_store_file_loads_as_delivered_at_chain_level(tmp_path, capsys):
    train = real_data("walmart-store-sales", "train.csv")
    depts = sorted(pd.read_csv(train, usecols=["Dept"])["Dept"].unique())
    (tmp_path / "retailers.csv").write_text("retailer_id,retailer_name,channel,region,kam\nWMT,Walmart,mass,US,K\n")
    (tmp_path / "products.csv").write_text("sku_id,sku_name,brand,category\n"
                                           + "".join(f"{d},Dept {d},Walmart,Dept\n" for d in depts))
    db = tmp_path / "walmart.duckdb"
    assert cli.main(["import", str(tmp_path / "retailers.csv"), str(tmp_path / "products.csv"), "--db", str(db)]) == 0
    status = cli.main(["import", str(train), "--table", "sell_out", "--db", str(db), "--week-ending", "fri",
                       "--column", "Date=week", "--column", "Weekly_Sales=sales_value", "--column", "Dept=sku_id",
                       "--retailer-id", "WMT", "--sum-over", "Store"])
    out = capsys.readouterr()
    assert status == 0, out.err
    # SOURCE.md: 421,570 rows whose Weekly_Sales sum to 6,737,218,987.11; 143 Friday weeks from 2010-02-05,
    # the first moved to Monday 2010-02-01 (5 Feb - 3 days = Tue 2 Feb)
    (n, total, first, weeks), = rows(db, "SELECT count(*), sum(sales_value), min(week), count(DISTINCT week) "
                                         "FROM sell_out")
    assert total == pytest.approx(6_737_218_987.11, abs=0.01)
    assert (first, weeks) == (D(2010, 2, 1), 143)
    assert n == len(pd.read_csv(train, usecols=["Dept", "Date"]).drop_duplicates())  # one row per dept x week
    assert rows(db, "SELECT count(*) FROM sell_out WHERE units IS NOT NULL") == [(0,)]
    assert rows(db, "SELECT max(stores_selling) FROM sell_out") == [(45,)]


def test_a_column_mapping_to_a_column_the_table_lacks_or_from_one_the_file_lacks_is_refused():
    text = "Date,retailer_id,sku_id,sales_value\n2026-11-16,R1,S1,2\n"
    wrong_target = sell_out(text, ingest.Layout(columns={"Date": "wek"}))
    assert "cannot take --column Date=wek: sell_out has no column 'wek'" in wrong_target.problems[0].reason
    wrong_source = sell_out(text, ingest.Layout(columns={"Day": "week"}))
    assert wrong_source.problems[0].reason.startswith("has no column 'Day' to read as week")
    right = sell_out(text, ingest.Layout(columns={"Date": "week"}))
    assert right.ok, right.render()
