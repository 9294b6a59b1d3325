"""Good imports end to end: formats, replace-by-key, daily roll-up, new and partial databases, locks."""

from __future__ import annotations

import codecs
import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kam_dash import cli, derived, ingest, schema
from tests.conftest import make_db
from tests.ingest.dbcheck import checksums, rows

D = dt.date


def write(path: Path, text: str, bom: bool = False, newline: str = "\n") -> Path:
    data = text.replace("\n", newline).encode("utf-8")
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    return path


def changed(before: dict, after: dict) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def test_csv_restating_weeks_replaces_by_key_and_reports_counts(demo_copy, tmp_path, capsys):
    key_rows = ("SELECT week, sales_channel FROM sell_out WHERE retailer_id = 'R001' AND sku_id = 'SKU00001' "
                "AND week >= DATE '2026-11-09' ORDER BY 1, 2")
    # What the demo holds for this retailer x SKU at the end of its calendar (the hand count below relies on it).
    assert rows(demo_copy, key_rows) == [(D(2026, 11, 9), "online"), (D(2026, 11, 9), "store"),
                                         (D(2026, 11, 16), "online"), (D(2026, 11, 16), "store")]
    n_before = rows(demo_copy, "SELECT count(*) FROM sell_out")[0][0]
    before = checksums(demo_copy)
    before_copy = tmp_path / "before.duckdb"  # the demo's derived tables, over the rows now replaced
    shutil.copyfile(demo_copy, before_copy)
    path = write(tmp_path / "sell_out.csv", (
        "week,retailer_id,sku_id,sales_channel,units,sales_value,stores_selling,promo_flag\n"
        "2026-11-09,R001,SKU00001,store,3500,22900.50,896,no\n"    # key present: replaced
        "2026-11-16,R001,SKU00001,store,3400,22260.00,895,no\n"    # key present: replaced
        "2026-11-23,R001,SKU00001,store,3300,21600.00,894,yes\n"   # new week: added
        "2026-11-23,R001,SKU00001,online,700,4580.00,,no\n"))      # new week: added

    assert cli.main(["import", str(path), "--db", str(demo_copy)]) == 0

    out = capsys.readouterr().out
    # 2 replaced (the two store rows), 2 added (both channels of the new week); online rows of 11-09/11-16 untouched.
    assert re.search(r"^\s+sell_out\s+2\s+2$", out, re.MULTILINE), out
    assert rows(demo_copy, "SELECT count(*) FROM sell_out")[0][0] == n_before + 2
    assert rows(demo_copy, "SELECT units, sales_value, stores_selling, promo_flag FROM sell_out WHERE "
                           "retailer_id = 'R001' AND sku_id = 'SKU00001' AND week = DATE '2026-11-16' AND "
                           "sales_channel = 'store'") == [(3400.0, 22260.0, 895, False)]
    assert rows(demo_copy, "SELECT units, stores_selling, promo_flag FROM sell_out WHERE week = DATE '2026-11-23' "
                           "ORDER BY sales_channel") == [(700.0, None, False), (3300.0, 894, True)]
    assert changed(before, checksums(demo_copy)) == {"main.sell_out"}
    # the import derived the view-independent tables again, from the new rows (kam_dash.derived)
    stamps = "SELECT name, stamp FROM derived.meta ORDER BY name"
    assert derived.up_to_date(demo_copy) and rows(demo_copy, stamps) != rows(before_copy, stamps)


def test_european_csv_semicolons_decimal_comma_bom(empty_db, tmp_path):
    folder = tmp_path / "eu"
    folder.mkdir()
    write(folder / "retailers.csv", (
        "retailer_id;retailer_name;channel;region;kam;store_count;strategic_priority;woc_min;woc_max\n"
        'R010;"Müller; Söhne";Grocery;Süd;Avery Chen;1.234;;2,5;\n'
        "R011;Kaufpark;discount;Nord;Blake Morgan;87;2;3;6,75\n"), bom=True, newline="\r\n")
    write(folder / "products.csv", (
        "sku_id;sku_name;brand;category;unit_cost;list_price\n"
        "A1;Apfelsaft 1 l;Saftig;Getränke;0,85;1.299,00\n"), bom=True)
    write(folder / "sell_out.csv", (
        "week;retailer_id;sku_id;units;sales_value;promo_flag\n"
        "2026-11-16;R010;A1;1.200;1.558,80;yes\n"
        "16.11.2026;R011;A1;35;45,47;NO\n"), bom=True, newline="\r\n")

    report = ingest.import_files([folder], empty_db)

    assert {f.form for f in report.files} == {"CSV, semicolon-separated, UTF-8 with BOM, decimal comma"}
    assert rows(empty_db, "SELECT * FROM retailers ORDER BY 1") == [
        # 1.234 = 1234 stores (a thousands point); priority empty -> NULL; woc_max empty -> its default 6.0;
        # 'Grocery' -> the contract's spelling 'grocery'; the quoted name keeps its semicolon.
        ("R010", "Müller; Söhne", "grocery", "Süd", "Avery Chen", 1234, None, 2.5, 6.0),
        ("R011", "Kaufpark", "discount", "Nord", "Blake Morgan", 87, 2, 3.0, 6.75),
    ]
    assert rows(empty_db, "SELECT unit_cost, list_price FROM products") == [(0.85, 1299.0)]
    assert rows(empty_db, "SELECT week, retailer_id, units, sales_value, sales_channel, promo_flag FROM sell_out "
                          "ORDER BY retailer_id") == [
        (D(2026, 11, 16), "R010", 1200.0, 1558.80, "store", True),
        (D(2026, 11, 16), "R011", 35.0, 45.47, "store", False),  # 16.11.2026: day.month.year
    ]
    assert {n: (c.added, c.replaced) for n, c in report.tables.items()} == {
        "retailers": (2, 0), "products": (1, 0), "sell_out": (2, 0)}


def test_parquet_typed_columns(demo_copy, tmp_path):
    table = pa.table({
        "week": pa.array([D(2026, 11, 16), D(2026, 11, 23), D(2026, 11, 23)], pa.date32()),
        "retailer_id": ["R001", "R001", "R001"],
        "sku_id": ["SKU00003", "SKU00003", "SKU00004"],
        "units": pa.array([400, 410, -3], pa.int64()),  # a return: sell-in units may be negative
        "gross_sales": [1000.0, 1025.0, -7.5],
        "net_sales": [900.0, 922.5, -12.5],
    })
    path = tmp_path / "sell_in_w44.parquet"
    pq.write_table(table, path)
    # The demo's sell-in ends with the week of 2026-11-16.
    assert rows(demo_copy, "SELECT week, count(*) FROM sell_in WHERE retailer_id = 'R001' AND sku_id IN "
                           "('SKU00003', 'SKU00004') AND week >= DATE '2026-11-16' GROUP BY 1") == [
        (D(2026, 11, 16), 2)]
    before = checksums(demo_copy)

    report = ingest.import_files([path], demo_copy)

    # 11-16 x SKU00003 existed: replaced; both 11-23 rows are new.
    assert report.tables == {"sell_in": ingest.TableCounts(added=2, replaced=1)}
    assert rows(demo_copy, "SELECT week, sku_id, units, gross_sales, net_sales FROM sell_in WHERE retailer_id = "
                           "'R001' AND week >= DATE '2026-11-16' AND sku_id IN ('SKU00003', 'SKU00004') "
                           "ORDER BY 1, 2") == [
        (D(2026, 11, 16), "SKU00003", 400.0, 1000.0, 900.0),
        (D(2026, 11, 16), "SKU00004", *rows(demo_copy, "SELECT units, gross_sales, net_sales FROM sell_in WHERE "
                                                      "retailer_id = 'R001' AND sku_id = 'SKU00004' AND "
                                                      "week = DATE '2026-11-16'")[0]),
        (D(2026, 11, 23), "SKU00003", 410.0, 1025.0, 922.5),
        (D(2026, 11, 23), "SKU00004", -3.0, -7.5, -12.5),
    ]
    assert changed(before, checksums(demo_copy)) == {"main.sell_in"}


def inventory_workbook(path: Path, third_value) -> Path:
    """A workbook as people make them: a notes sheet first, a title and a blank row above the header."""
    book = openpyxl.Workbook()
    book.active.title = "notes"
    book.active["A1"] = "Stock counts from the retailer portal"
    sheet = book.create_sheet("Inventory")
    sheet["A1"] = "Weekly stock"
    sheet.append([])
    sheet.append(["Week", "Retailer ID", "SKU ID", "On hand units"])                 # row 3
    sheet.append([D(2026, 11, 23), "R003", "SKU00005", 120])                         # row 4
    sheet.append(["2026-11-23", "R003", "SKU00006", "95"])                           # row 5
    sheet.append([dt.datetime(2026, 11, 23), "R003", "SKU00007", third_value])       # row 6
    book.save(path)
    return path


def test_excel_picks_the_sheet_named_after_the_table(demo_copy, tmp_path):
    path = inventory_workbook(tmp_path / "inventory.xlsx", 0)

    report = ingest.import_files([path], demo_copy)

    assert report.files[0].form == "Excel, sheet 'Inventory' of 2"
    assert report.tables == {"inventory": ingest.TableCounts(added=3, replaced=0)}
    assert rows(demo_copy, "SELECT sku_id, on_hand_units FROM inventory WHERE week = DATE '2026-11-23' "
                           "ORDER BY 1") == [("SKU00005", 120.0), ("SKU00006", 95.0), ("SKU00007", 0.0)]


def test_excel_rows_are_numbered_as_the_spreadsheet_shows_them(tmp_path):
    path = inventory_workbook(tmp_path / "inventory.xlsx", -4)

    result = ingest.validate([(path.name, path.read_bytes())], known={"retailers": {"R003"},
                                                                     "products": {"SKU00005", "SKU00006", "SKU00007"}})

    assert [p.render() for p in result.problems] == [
        "inventory.xlsx, row 6, column on_hand_units: -4 is below the minimum 0 (on_hand_units must be 0 or more)"]


def test_daily_rows_roll_up_into_iso_weeks(tmp_path):
    folder = tmp_path / "daily"
    folder.mkdir()
    write(folder / "retailers.csv", "retailer_id,retailer_name,channel,region,kam\nR1,One,grocery,North,Kim\n")
    write(folder / "products.csv", "sku_id,sku_name,brand,category\nS1,Soup,Hearth,Soups\n")
    write(folder / "sell_out_daily.csv", (
        "date,retailer_id,sku_id,sales_channel,units,sales_value,stores_selling,promo_flag\n"
        "2026-11-09,R1,S1,store,10,25.0,4,no\n"      # Monday of week 11-09
        "2026-11-10,R1,S1,store,12,30.0,5,yes\n"
        "2026-11-15,R1,S1,store,8,20.0,,\n"          # Sunday, same week
        "2026-11-11,R1,S1,online,3,7.5,,\n"
        "2026-11-16,R1,S1,store,20,50.0,6,no\n"      # Monday of week 11-16
        "2026-11-22,R1,S1,store,1,2.5,3,\n"))        # Sunday: the file covers two whole weeks
    write(folder / "inventory_daily.csv", (
        "date,retailer_id,sku_id,on_hand_units\n"
        "2026-11-11,R1,S1,100\n"                     # Wednesday: the first week is partial
        "2026-11-13,R1,S1,80\n"                      # Friday: the last day of week 11-09 in the file
        "2026-11-12,R1,S1,90\n"
        "2026-11-17,R1,S1,60\n"))                    # Tuesday of week 11-16: the last week is partial
    write(folder / "sell_in_daily.csv", (
        "date,retailer_id,sku_id,units,gross_sales,net_sales\n"
        "2026-11-09,R1,S1,100,250,200\n"
        "2026-11-15,R1,S1,-10,-25,-20\n"))
    db = tmp_path / "new.duckdb"

    report = ingest.import_files([folder], db)

    assert rows(db, "SELECT week, sales_channel, units, sales_value, stores_selling, promo_flag FROM sell_out "
                    "ORDER BY 1, 2") == [
        # online 11-09: one day (3, 7.5); no store count or flag given -> NULL
        (D(2026, 11, 9), "online", 3.0, 7.5, None, None),
        # store 11-09: 10+12+8 = 30 units, 25+30+20 = 75.0; stores max(4, 5) = 5; flags no, yes, empty -> any = true
        (D(2026, 11, 9), "store", 30.0, 75.0, 5, True),
        # store 11-16: 20+1 = 21 units, 50+2.5 = 52.5; stores max(6, 3) = 6; flags no, empty -> false
        (D(2026, 11, 16), "store", 21.0, 52.5, 6, False),
    ]
    # The last day of each week in the file: Friday 11-13 (80), Tuesday 11-17 (60).
    assert rows(db, "SELECT week, on_hand_units FROM inventory ORDER BY 1") == [
        (D(2026, 11, 9), 80.0), (D(2026, 11, 16), 60.0)]
    # 100 - 10 = 90 units, 250 - 25 = 225 gross, 200 - 20 = 180 net.
    assert rows(db, "SELECT week, units, gross_sales, net_sales FROM sell_in") == [(D(2026, 11, 9), 90.0, 225.0,
                                                                                   180.0)]
    assert {n: c.added for n, c in report.tables.items()} == {
        "retailers": 1, "products": 1, "sell_in": 1, "sell_out": 3, "inventory": 2}
    notes = "\n".join(report.notes)
    assert "inventory_daily.csv: the first week (2026-11-09) starts on Wednesday 2026-11-11, so it covers only 5" \
           in notes
    assert "inventory_daily.csv: the last week (2026-11-16) ends on Tuesday 2026-11-17, so it covers only 2" in notes
    assert "sell_out_daily.csv: the" not in notes  # Monday to Sunday: whole weeks
    assert "sell_in_daily.csv: the" not in notes


def test_subset_of_tables_into_a_database_that_does_not_exist(tmp_path, capsys):
    folder = tmp_path / "files"
    folder.mkdir()
    write(folder / "retailers.csv", "retailer_id,retailer_name,channel,region,kam\nR1,One,grocery,North,Kim\n"
                                    "R2,Two,mass,South,Lee\n")
    write(folder / "products.csv", "sku_id,sku_name,brand,category\nS1,Soup,Hearth,Soups\n")
    write(folder / "sell_out_2026.csv", "week,retailer_id,sku_id,units,sales_value\n"
                                        "2026-11-09,R1,S1,5,10\n2026-11-09,R2,S1,7,14\n")
    (folder / "README.txt").write_text("not data")
    db = tmp_path / "sub" / "kam.duckdb"

    assert cli.main(["import", str(folder), "--db", str(db)]) == 0

    out = capsys.readouterr().out
    assert f"into {db} (a new database)" in out
    assert "skipped files that are not CSV, Parquet or Excel: README.txt" in out
    counts = {name: rows(db, 'SELECT count(*) FROM main."' + name + '"')[0][0] for name in schema.LOAD_ORDER}
    assert counts == {"retailers": 2, "products": 1, "stores": 0, "sell_in": 0, "sell_out": 2, "sell_out_store": 0,
                      "inventory": 0, "inventory_store": 0, "promotions": 0, "targets": 0}


def test_a_refused_import_does_not_leave_a_new_database_behind(tmp_path, capsys):
    path = write(tmp_path / "retailers.csv", "retailer_id,retailer_name,channel,region,kam\nR1,One,shop,N,K\n")
    db = tmp_path / "new.duckdb"

    assert cli.main(["import", str(path), "--db", str(db)]) == 1

    assert "'shop' is not one of" in capsys.readouterr().err
    assert not db.exists()


def test_import_creates_tables_an_older_database_lacks(tmp_path):
    db = make_db(tmp_path / "old.duckdb", retailers=[{"retailer_id": "R1", "retailer_name": "One",
                                                      "channel": "grocery", "region": "N", "kam": "K"}])
    path = write(tmp_path / "targets.csv", "retailer_id,month,category,net_sales_target\n"
                                           "R1,2026-12,,1000\nR1,2027-01-01,Soups,250\n")

    report = ingest.import_files([path], db)

    assert report.tables == {"targets": ingest.TableCounts(added=2, replaced=0)}
    # 2026-12 is the month's first day; an empty category is the all-categories row ('').
    assert rows(db, "SELECT retailer_id, month, category, net_sales_target, units_target FROM targets "
                    "ORDER BY month") == [("R1", D(2026, 12, 1), "", 1000.0, None),
                                          ("R1", D(2027, 1, 1), "Soups", 250.0, None)]


def test_ids_defined_in_the_same_import_count_as_known(demo_copy, tmp_path):
    folder = tmp_path / "new_account"
    folder.mkdir()
    write(folder / "retailers.csv", "retailer_id,retailer_name,channel,region,kam\nR007,Corner Express,"
                                    "convenience,North,Avery Chen\n")
    write(folder / "promotions.csv", "promo_id,retailer_id,sku_id,start_date,end_date,mechanic,discount_pct\n"
                                     "P90001,R007,SKU00001,2026-12-07,2026-12-13,tpr,20\n")

    report = ingest.import_files([folder], demo_copy)

    assert report.tables == {"retailers": ingest.TableCounts(1, 0), "promotions": ingest.TableCounts(1, 0)}


def test_one_key_in_two_files_of_one_import_is_refused(demo_copy, tmp_path, capsys):
    a = write(tmp_path / "sell_out_a.csv", "week,retailer_id,sku_id,units,sales_value\n2026-11-23,R001,SKU00001,1,2\n")
    b = write(tmp_path / "sell_out_b.csv", "week,retailer_id,sku_id,units,sales_value\n2026-11-30,R001,SKU00001,1,2\n"
                                           "2026-11-23,R001,SKU00001,3,4\n")
    before = checksums(demo_copy)

    assert cli.main(["import", str(a), str(b), "--db", str(demo_copy)]) == 1

    err = capsys.readouterr().err
    assert (f"{b}, row 3, columns week, retailer_id, sku_id, sales_channel: the key (week 2026-11-23, retailer_id "
            f"'R001', sku_id 'SKU00001', sales_channel 'store') is also in {a} row 2") in err
    assert checksums(demo_copy) == before


def test_table_option_loads_any_file_name(demo_copy, tmp_path):
    path = write(tmp_path / "pos_export_week48.csv", "week,retailer_id,sku_id,units,sales_value\n"
                                                     "2026-11-23,R004,SKU00002,11,22\n")

    report = ingest.import_files([path], demo_copy, table="sell_out")

    assert report.tables == {"sell_out": ingest.TableCounts(added=1, replaced=0)}


def test_unknown_table_option_is_refused(demo_copy, tmp_path, capsys):
    path = write(tmp_path / "x.csv", "a\n1\n")
    assert cli.main(["import", str(path), "--db", str(demo_copy), "--table", "shops"]) == 1
    assert "there is no table 'shops'; the tables are: retailers, products" in capsys.readouterr().err


def test_the_report_groups_problems_by_reason_with_counts_and_the_first_rows_of_each(demo_copy, tmp_path, capsys):
    # 20 rows dated on a Friday (rows 2..21), then 4 rows with a value no one sells (rows 22..25): before, the 20
    # examples shown were all Friday dates and the huge values were hidden; now each kind has its count and rows.
    fridays = "".join(f"2026-11-27,R001,SKU{s:05d},1,2\n" for s in range(1, 21))
    huge = "".join(f"2026-11-23,R001,SKU{s:05d},1,1e300\n" for s in range(1, 5))
    path = write(tmp_path / "sell_out.csv", "week,retailer_id,sku_id,units,sales_value\n" + fridays + huge)

    assert cli.main(["import", str(path), "--db", str(demo_copy)]) == 1

    err = capsys.readouterr().err
    assert f"{path}: 24 problems in 24 rows, of 2 kinds" in err
    assert "20 x column week: not a Monday (weeks start on Monday) (the first 5 shown)" in err
    assert "4 x column sales_value: a value is larger than 1e+15" in err
    fridays_shown = [line for line in err.splitlines() if "is a Friday, not a Monday" in line]
    assert [line.strip().split(",")[1].strip() for line in fridays_shown] == [f"row {r}" for r in range(2, 7)]
    huge_shown = [line for line in err.splitlines() if "'1e300' is larger than 1e+15" in line]
    assert [line.strip().split(",")[1].strip() for line in huge_shown] == ["row 22", "row 23", "row 24", "row 25"]


def test_checksums_see_a_single_changed_value(demo_copy):
    """The all-or-nothing tests compare checksums; they are only as good as this."""
    before = checksums(demo_copy)
    con = duckdb.connect(str(demo_copy))
    con.execute("UPDATE sell_out SET units = units + 1 WHERE retailer_id = 'R001' AND sku_id = 'SKU00001' "
                "AND week = DATE '2026-11-16' AND sales_channel = 'store'")
    con.close()
    assert changed(before, checksums(demo_copy)) == {"main.sell_out"}


@pytest.mark.parametrize(("name", "table"), [
    ("retailers.csv", "retailers"), ("SELL_IN.XLSX", "sell_in"), ("sell_out_2024.csv", "sell_out"),
    ("sell_out-week12.parquet", "sell_out"), ("sell_out 2024.csv", "sell_out"), ("targets.2027.csv", "targets"),
    ("sell_outlet.csv", None), ("products2.csv", None), ("shops.csv", None), ("sell.csv", None),
    ("stores.csv", "stores"), ("sell_out_store_w12.csv", "sell_out_store"), ("inventory_store.parquet", "inventory_store"),
])
def test_file_names_say_the_table(name, table):
    assert ingest.table_for(name) == table


def test_parquet_copy_of_the_demo_loads_back_identically(small_db, tmp_path):
    """`kam-dash export-parquet` then import into a new database: every contract table comes back row for row
    (NULL store counts online, empty planned uplifts and all)."""
    folder = tmp_path / "parquet"
    assert cli.main(["export-parquet", str(folder), "--db", str(small_db)]) == 0
    db = tmp_path / "roundtrip.duckdb"

    report = ingest.import_files([folder], db)

    original = {k: v for k, v in checksums(small_db).items() if k.startswith("main.")}
    assert checksums(db) == original
    assert all(c.replaced == 0 for c in report.tables.values())


def test_a_refusal_by_the_database_mid_load_rolls_back_every_table(tmp_path, capsys):
    """Files that pass every check, into a database whose sell_out carries a rule of its own (units < 100):
    retailers load first, sell_out then fails, and the retailers written a moment before are gone again."""
    db = tmp_path / "strict.duckdb"
    con = duckdb.connect(str(db))
    for name in schema.LOAD_ORDER:
        if name != "sell_out":
            con.execute(schema.TABLES[name].ddl())
    con.execute('CREATE TABLE sell_out (week DATE, retailer_id VARCHAR, sku_id VARCHAR, sales_channel VARCHAR, '
                'units DOUBLE CHECK (units < 100), sales_value DOUBLE, stores_selling INTEGER, promo_flag BOOLEAN)')
    con.execute("INSERT INTO products VALUES ('S1', 'Soup', 'Hearth', 'Soups', NULL, NULL, NULL)")
    con.close()
    folder = tmp_path / "files"
    folder.mkdir()
    write(folder / "retailers.csv", "retailer_id,retailer_name,channel,region,kam\nR1,One,grocery,North,Kim\n")
    write(folder / "sell_out.csv", "week,retailer_id,sku_id,units,sales_value\n2026-11-09,R1,S1,150,300\n")
    before = checksums(db)

    assert cli.main(["import", str(folder), "--db", str(db)]) == 1

    err = capsys.readouterr().err
    assert err.startswith("Nothing was imported: the database refused the rows (")
    assert "everything was rolled back and the database is unchanged" in err
    assert checksums(db) == before
