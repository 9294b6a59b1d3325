"""Store rows: validated like every table, loaded into sell_out_store / inventory_store, and the chain rows
rebuilt as the sum of ALL the retailer's stores for the weeks and channels touched (worked out by hand)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kam_dash import ingest
from tests.ingest.dbcheck import checksums, rows

D = dt.date
RETAILERS = "retailer_id,retailer_name,channel,region,kam\nR1,One,grocery,West,A\nR2,Two,mass,East,B\n"
PRODUCTS = "sku_id,sku_name,brand,category\nK1,Crisps,Crunch,Snacks\nK2,Soup,Hearth,Soups\n"
STORES = ("store_id,retailer_id,store_name,format,acv_weight,open_date,close_date\n"
          "S1,R1,North,super,2,,\nS2,R1,South,super,,2020-01-01,\nS9,R2,Other,,,,\n")


def folder(tmp_path: Path, **files: str) -> Path:
    path = tmp_path / "files"
    path.mkdir(exist_ok=True)
    for name, text in files.items():
        (path / f"{name}.csv").write_text(text)
    return path


@pytest.fixture()
def store_db(tmp_path) -> Path:
    db = tmp_path / "stores.duckdb"
    ingest.import_files([folder(tmp_path, retailers=RETAILERS, products=PRODUCTS, stores=STORES, sell_out=(
        "week,retailer_id,store_id,sku_id,units,sales_value,promo_flag\n"
        "2026-11-02,R1,S1,K1,3,6,no\n2026-11-02,R1,S2,K1,0,0,yes\n2026-11-02,R1,S2,K2,5,10,no\n"))], db)
    return db


def test_store_rows_load_and_the_chain_is_their_sum(store_db):
    assert rows(store_db, "SELECT store_id, acv_weight FROM stores ORDER BY 1") == [("S1", 2.0), ("S2", 1.0),
                                                                                    ("S9", 1.0)]
    assert rows(store_db, "SELECT count(*) FROM sell_out_store")[0][0] == 3
    # K1: units 3 + 0 = 3, value 6 + 0 = 6, one store with a sale, promo true in S2 -> true; K2: S2's 5 and 10.
    assert rows(store_db, "SELECT sku_id, sales_channel, units, sales_value, stores_selling, promo_flag FROM "
                          "sell_out ORDER BY sku_id") == [("K1", "store", 3.0, 6.0, 1, True),
                                                          ("K2", "store", 5.0, 10.0, 1, False)]


def test_restating_one_store_rebuilds_the_chain_from_all_stores(store_db, tmp_path):
    files = tmp_path / "restate"
    files.mkdir()
    (files / "sell_out.csv").write_text("week,retailer_id,store_id,sku_id,units,sales_value\n"
                                        "2026-11-02,R1,S2,K1,4,8\n")
    report = ingest.import_files([files], store_db)
    assert report.tables["sell_out_store"] == ingest.TableCounts(added=0, replaced=1)
    # K1 now S1's 3 + S2's 4 = 7 units, 6 + 8 = 14, two stores selling; K2 untouched by the restatement's key
    # but rebuilt from S2's row all the same (same retailer and week): 5 and 10.
    assert rows(store_db, "SELECT sku_id, units, sales_value, stores_selling FROM sell_out ORDER BY sku_id") == [
        ("K1", 7.0, 14.0, 2), ("K2", 5.0, 10.0, 1)]


def test_a_chain_row_for_a_week_with_store_rows_is_replaced_by_their_sum(store_db, tmp_path):
    files = tmp_path / "chain"
    files.mkdir()
    (files / "sell_out.csv").write_text("week,retailer_id,sku_id,units,sales_value\n2026-11-02,R1,K1,99,99\n"
                                        "2026-11-09,R1,K1,11,22\n")
    ingest.import_files([files], store_db)
    # the chain row of 2026-11-02 replaced the rollup; the next store import puts the stores' sum back
    assert rows(store_db, "SELECT units FROM sell_out WHERE week = DATE '2026-11-02' AND sku_id = 'K1'") == [(99.0,)]
    (files / "sell_out.csv").write_text("week,retailer_id,store_id,sku_id,units,sales_value\n"
                                        "2026-11-02,R1,S1,K1,3,6\n")
    ingest.import_files([files], store_db)
    assert rows(store_db, "SELECT week, units FROM sell_out WHERE sku_id = 'K1' ORDER BY week") == [
        (D(2026, 11, 2), 3.0), (D(2026, 11, 9), 11.0)]  # 3 + S2's 0; the chain-only week untouched


def test_store_inventory_rolls_up(store_db, tmp_path):
    files = tmp_path / "inv"
    files.mkdir()
    (files / "inventory.csv").write_text("week,retailer_id,store_id,sku_id,on_hand_units\n"
                                         "2026-11-02,R1,S1,K1,4\n2026-11-02,R1,S2,K1,6\n")
    ingest.import_files([files], store_db)
    assert rows(store_db, "SELECT on_hand_units FROM inventory") == [(10.0,)]  # 4 + 6
    assert rows(store_db, "SELECT count(*) FROM inventory_store")[0][0] == 2


@pytest.mark.parametrize(("text", "column", "reason"), [
    ("2026-11-02,R1,S7,K1,1,2", "store_id", "'S7' is not a known store id"),
    ("2026-11-02,R1,S9,K1,1,2", "retailer_id", "'R1' is not the retailer of store 'S9', which belongs to 'R2'"),
    ("2026-11-02,R1,,K1,1,2", "store_id", "is empty, but store_id is required"),
])
def test_bad_store_rows_are_refused_and_nothing_changes(store_db, tmp_path, text, column, reason):
    files = tmp_path / "bad"
    files.mkdir()
    (files / "sell_out.csv").write_text("week,retailer_id,store_id,sku_id,units,sales_value\n" + text + "\n")
    before = checksums(store_db)
    with pytest.raises(ingest.ImportFailed) as refused:
        ingest.import_files([files], store_db)
    assert f"row 2, column {column}: {reason}" in refused.value.render()
    assert checksums(store_db) == before


@pytest.mark.parametrize(("line", "column", "reason"), [
    ("S5,R1,Five,super,0,,", "acv_weight", "0 is not a store weight: acv_weight must be above 0"),
    ("S5,R1,Five,super,1,2024-05-01,2024-04-30", "close_date",
     "close_date 2024-04-30 is before open_date 2024-05-01"),
    ("S5,R3,Five,super,1,,", "retailer_id", "'R3' is not a known retailer id"),
])
def test_bad_stores_are_refused(store_db, tmp_path, line, column, reason):
    files = folder(tmp_path, stores="store_id,retailer_id,store_name,format,acv_weight,open_date,close_date\n"
                   + line + "\n")
    with pytest.raises(ingest.ImportFailed) as refused:
        ingest.import_files([files], store_db)
    assert f"row 2, column {column}: {reason}" in refused.value.render()
