"""The in-memory API a later upload page uses: `validate` (names + bytes -> problems or typed frames), `load`."""

from __future__ import annotations

import codecs
import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from kam_dash import ingest
from kam_dash.engine import DuckDBEngine
from tests.ingest.dbcheck import checksums, rows

KNOWN = {"retailers": {"R1"}, "products": {"S1", "S2", "S3", "S4"}}
HEADER = "week,retailer_id,sku_id,units,sales_value\n"


def sell_out(text: str, name: str = "sell_out.csv", header: str = HEADER) -> ingest.Validation:
    return ingest.validate([(name, (header + text).encode("utf-8"))], known=KNOWN)


def reasons(result: ingest.Validation) -> list[str]:
    return [p.render() for p in result.problems]


def test_clean_file_gives_typed_contract_frames():
    result = sell_out("2026-11-16,R1,S1,3,7.5\n")
    assert result.ok and result.problems == []
    frame = result.frames["sell_out"]
    assert list(frame.columns) == ["week", "retailer_id", "sku_id", "sales_channel", "units", "sales_value",
                                   "stores_selling", "promo_flag"]
    assert frame.iloc[0]["week"] == pd.Timestamp("2026-11-16")
    assert frame.iloc[0]["sales_channel"] == "store"  # the contract's default for an absent optional column
    assert frame.iloc[0]["units"] == 3.0


@pytest.mark.parametrize(("text", "expected"), [
    ('"1,234.50"', 1234.5),   # quoted, thousands comma, decimal point
    ("1234.5", 1234.5),
    ("1e3", 1000.0),
    ("0.25", 0.25),
    ('"1 234.50"', 1234.5),   # a space between digit groups
])
def test_numbers_in_a_comma_separated_file(text, expected):
    result = sell_out(f"2026-11-16,R1,S1,1,{text}\n")
    assert result.ok, reasons(result)
    assert result.frames["sell_out"].iloc[0]["sales_value"] == expected


@pytest.mark.parametrize(("values", "expected"), [
    (["1.234,56", "7"], [1234.56, 7.0]),    # decimal comma, thousands point
    (["12,5", "1.234"], [12.5, 1234.0]),    # 12,5 settles it: 1.234 is one thousand two hundred thirty-four
    (["1.234", "7"], [1234.0, 7.0]),        # nothing settles it: a semicolon file uses the decimal comma
    (["12.5", "1.234"], [12.5, 1.234]),     # 12.5 settles it the other way
    (["1 234,5", "0,75"], [1234.5, 0.75]),  # a space groups thousands
])
def test_decimal_mark_of_a_semicolon_file(values, expected):
    body = "".join(f"2026-11-16;R1;S{i + 1};1;{v}\n" for i, v in enumerate(values))
    result = sell_out(body, header=HEADER.replace(",", ";"))
    assert result.ok, reasons(result)
    assert result.frames["sell_out"]["sales_value"].tolist() == expected


def test_a_number_against_the_files_decimal_mark_is_refused():
    # Two values say decimal comma, one says decimal point: the odd one out is named, not misread.
    result = sell_out("2026-11-16;R1;S1;1;2,5\n2026-11-16;R1;S2;1;3,5\n2026-11-16;R1;S3;1;4.25\n",
                      header=HEADER.replace(",", ";"))
    assert reasons(result) == ["sell_out.csv, row 4, column sales_value: '4.25' is not a number "
                               "(this file writes numbers like 1.234,56)"]


def test_tab_separated_file():
    result = sell_out("2026-11-16\tR1\tS1\t2\t4.5\n", name="sell_out.tsv", header=HEADER.replace(",", "\t"))
    assert result.ok, reasons(result)
    assert result.files[0].form == "CSV, tab-separated, UTF-8, decimal point"


@pytest.mark.parametrize(("weeks", "expected"), [
    (["2026-11-16", "2026-11-23"], ["2026-11-16", "2026-11-23"]),
    (["2026/11/16", "2026-11-23T00:00:00"], ["2026-11-16", "2026-11-23"]),
    (["16.11.2026", "2.11.2026"], ["2026-11-16", "2026-11-02"]),      # dots: day first
    (["30/11/2026", "02/11/2026"], ["2026-11-30", "2026-11-02"]),     # 30 can only be a day: day first
    (["11/30/2026", "11/02/2026"], ["2026-11-30", "2026-11-02"]),     # 30 can only be a day: month first
])
def test_date_forms(weeks, expected):
    body = "".join(f"{w},R1,S{i + 1},1,1\n" for i, w in enumerate(weeks))
    result = sell_out(body)
    assert result.ok, reasons(result)
    assert result.frames["sell_out"]["week"].dt.strftime("%Y-%m-%d").tolist() == expected


def test_dates_mixing_day_first_and_month_first_are_refused():
    result = sell_out("30/11/2026,R1,S1,1,1\n11/30/2026,R1,S2,1,1\n")
    assert [p.row for p in result.problems] == [2, 3]
    assert "mixes day-first and month-first dates" in result.problems[0].reason


@pytest.mark.parametrize(("word", "flag"), [
    ("true", True), ("FALSE", False), ("1", True), ("0", False), ("yes", True), ("No", False), ("y", True),
    ("n", False), ("", None),
])
def test_yes_no_words(word, flag):
    result = sell_out(f"2026-11-16,R1,S1,1,1,{word}\n", header=HEADER.replace("\n", ",promo_flag\n"))
    assert result.ok, reasons(result)
    value = result.frames["sell_out"].iloc[0]["promo_flag"]
    assert (value is pd.NA) if flag is None else (value == flag)


def test_na_means_missing_in_a_number_column_but_not_in_a_text_column():
    result = ingest.validate([("retailers.csv", b"retailer_id,retailer_name,channel,region,kam,store_count\n"
                                                b"R1,One,grocery,NA,Kim,N/A\n")])
    assert result.ok, reasons(result)
    frame = result.frames["retailers"]
    assert frame.iloc[0]["region"] == "NA"  # North America is a region
    assert frame.iloc[0]["store_count"] is pd.NA


def test_headers_are_matched_loosely_and_unknown_columns_noted():
    result = ingest.validate([("products.csv", b"SKU ID,Sku-Name, Brand ,CATEGORY,colour\nS9,Nine,B,C,red\n")])
    assert result.ok, reasons(result)
    assert result.frames["products"].iloc[0][["sku_id", "sku_name", "brand", "category"]].tolist() == [
        "S9", "Nine", "B", "C"]
    assert result.notes == ["products.csv: ignored columns that are not in the products contract: colour"]


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])  # the fast reader and the careful one
@pytest.mark.parametrize(("text", "row"), [
    (HEADER + "2026-11-16,R1,S1,1,1\n\n2026-11-16,R1,S2,-1,1\n", 4),        # a blank line keeps its number
    ("\n\n" + HEADER + "2026-11-16,R1,S2,-1,1\n", 4),                        # so do blank lines above the header
    (HEADER + "2026-11-16,R1,S1,1,1\n,,,,\n2026-11-16,R1,S2,-1,1", 4),       # a row of delimiters only
    ((HEADER + "2026-11-16,R1,S1,1,1\n\n2026-11-16,R1,S2,-1,1\n").replace("\n", "\r\n"), 4),  # Windows lines
])
def test_rows_are_numbered_as_a_spreadsheet_shows_them(text, row, quoted):
    if quoted:
        text = text.replace("R1", '"R1"')
    result = ingest.validate([("sell_out.csv", text.encode())], known=KNOWN)
    assert reasons(result) == [f"sell_out.csv, row {row}, columns units, sales_value: units -1 and sales_value 1 "
                               "have opposite signs (a return has both negative, or a negative value and no units)"]
    assert result.files[0].rows == text.count("2026-11-16")  # data rows read


def test_unsupported_extension_is_a_problem_not_a_crash():
    result = ingest.validate([("sell_out.json", b"[]")])
    assert reasons(result) == ["sell_out.json is not a CSV, Parquet or Excel file "
                               "(accepted: .csv, .tsv, .parquet, .xlsx, .xlsm, .xls)"]


def test_validate_then_load_as_an_upload_page_would(demo_copy):
    data = b"week,retailer_id,sku_id,units,sales_value\n2026-11-23,R002,SKU00002,9,18\n"
    before = checksums(demo_copy)
    result = ingest.validate([("sell_out.csv", data)], known=ingest.known_ids_of(demo_copy))
    assert checksums(demo_copy) == before  # validating writes nothing

    report = ingest.load(result, demo_copy)

    assert report.tables == {"sell_out": ingest.TableCounts(added=1, replaced=0)}
    assert rows(demo_copy, "SELECT units FROM sell_out WHERE week = ? AND retailer_id = 'R002' AND "
                           "sku_id = 'SKU00002'", [dt.date(2026, 11, 23)]) == [(9.0,)]


def test_load_refuses_a_validation_with_problems(demo_copy):
    result = ingest.validate([("sell_out.csv", b"week,retailer_id,sku_id,units,sales_value\n2026-11-23,R9,S,1,1\n")],
                             known=ingest.known_ids_of(demo_copy))
    assert not result.ok
    with pytest.raises(ingest.ImportFailed):
        ingest.load(result, demo_copy)


def test_loading_while_this_process_reads_the_database_swaps_the_file_under_it(demo_copy):
    """The upload page runs inside the app, which reads the database through its engines: the load writes a
    new file and renames it onto the path; the open engine finishes on the old file, a new one reads the new."""
    sql = "SELECT units FROM sell_out WHERE week = DATE '2026-11-23' AND retailer_id = 'R002' AND sku_id = 'SKU00002'"
    engine = DuckDBEngine(demo_copy)
    try:
        old_units = engine.cursor().execute(sql).fetchall()
        result = ingest.validate([("sell_out.csv", b"week,retailer_id,sku_id,units,sales_value\n"
                                                   b"2026-11-23,R002,SKU00002,9,18\n")],
                                 known=ingest.known_ids_of(demo_copy))  # reading alongside the engine is fine
        assert result.ok
        report = ingest.load(result, demo_copy)
        assert report.tables["sell_out"].replaced + report.tables["sell_out"].added == 1
        assert engine.cursor().execute(sql).fetchall() == old_units  # the old engine: the old file, whole
        fresh = DuckDBEngine(demo_copy)
        assert fresh.cursor().execute(sql).fetchall() == [(9.0,)]
        assert fresh.data_version != engine.data_version
        fresh.close()
    finally:
        engine.close()


def test_utf16_tab_separated_text_as_excel_saves_unicode_text():
    text = "retailer_id\tretailer_name\tchannel\tregion\tkam\nR1\tMüller\tgrocery\tSüd\tKim\n"
    result = ingest.validate([("retailers.tsv", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))])
    assert result.ok, reasons(result)
    assert result.frames["retailers"].iloc[0]["retailer_name"] == "Müller"
    assert result.files[0].form == "CSV, tab-separated, UTF-16"


def test_numbers_typed_into_excel_id_columns_read_as_their_digits():
    book = openpyxl.Workbook()
    book.active.append(["retailer_id", "retailer_name", "channel", "region", "kam", "store_count"])
    book.active.append([101, "One", "grocery", 7, "Kim", 12.0])  # Excel keeps every number as a float
    buffer = io.BytesIO()
    book.save(buffer)
    result = ingest.validate([("retailers.xlsx", buffer.getvalue())])
    assert result.ok, reasons(result)
    row = result.frames["retailers"].iloc[0]
    assert (row["retailer_id"], row["region"], row["store_count"]) == ("101", "7", 12)
