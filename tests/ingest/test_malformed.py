"""Each file in tests/ingest/malformed/ has exactly one problem. The real CLI must refuse it with exit status 1,
name the file, row, column and reason, and leave every table of the database exactly as it was."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from kam_dash import cli
from tests.conftest import ROOT
from tests.ingest.dbcheck import checksums

MALFORMED = Path(__file__).parent / "malformed"

# file: (spreadsheet row or None for the whole file, column or None, words the reason must contain)
EXPECTED = {
    "retailers_missing_column.csv": (None, "kam", "the required column 'kam' is missing"),
    "retailers_bad_channel.csv": (2, "channel", "'hypermarket' is not one of: grocery, mass"),
    "retailers_priority_out_of_range.csv": (2, "strategic_priority", "'7' is above the maximum 5"),
    "retailers_latin1.csv": (None, None, "is not UTF-8 text (byte 0xFC on line 2"),
    "products_empty.csv": (None, None, "is empty: there is no header row"),
    "products_not_parquet.parquet": (None, None, "cannot be read as Parquet"),
    "sell_out_bad_type.csv": (3, "units", "'twelve' is not a number"),
    "sell_out_negative_units.csv": (2, "units, sales_value", "units -5 and sales_value 0 have opposite signs"),
    "sell_out_unknown_sku.csv": (3, "sku_id", "'SKU99999' is not a known product id"),
    "sell_out_ambiguous_date.csv": (2, "week", "'02/11/2026' is ambiguous"),
    "sell_out_two_digit_year.csv": (2, "week", "'16/11/26' has a two-digit year"),
    "sell_out_bad_sales_channel.csv": (3, "sales_channel", "'shop' is not one of: store, online"),
    "sell_out_ragged_row.csv": (3, None, "has 6 fields but the header has 5"),
    "sell_out_bad_flag.csv": (3, "promo_flag", "'maybe' is not yes/no"),
    "sell_out_fractional_stores.csv": (2, "stores_selling", "'3.5' is not a whole number"),
    "sell_out_empty_required.csv": (2, "sales_value", "is empty, but sales_value is required"),
    "sell_out_week_and_date.csv": (None, None, "has both a 'week' and a 'date' column"),
    "sell_out_bad_quotes.csv": (None, None, "cannot be parsed as CSV near line 2"),
    "sell_out_duplicate_column.csv": (None, "units", "the column 'units' appears twice"),
    "sell_in_unknown_retailer.csv": (3, "retailer_id", "'R999' is not a known retailer id"),
    "sell_in_unparseable_date.csv": (2, "week", "'next monday' is not a date we can read"),
    "sell_in_impossible_date.csv": (2, "week", "'2026-02-30' is not a real calendar date"),
    "sell_in_broken.xlsx": (None, None, "cannot be read as an Excel workbook"),
    "sell_in_bad_cell.xlsx": (3, "units", "'lots' is not a number"),
    "inventory_duplicate_key.csv": (4, "week, retailer_id, sku_id", "duplicate key (week 2026-11-16, "
                                    "retailer_id 'R001', sku_id 'SKU00001'): the same as row 2"),
    "inventory_week_not_monday.csv": (2, "week", "2026-11-18 is a Wednesday, not a Monday"),
    "promotions_end_before_start.csv": (2, "end_date", "end_date 2026-12-07 is before start_date 2026-12-14"),
    "targets_month_not_first.csv": (2, "month", "2026-12-15 is not the first day of a month"),
    "shops.csv": (None, None, "is not named after a table"),
}


def test_every_malformed_file_has_an_expectation():
    assert sorted(p.name for p in MALFORMED.iterdir()) == sorted(EXPECTED)


def problem_line(output: str, file: Path, reason: str) -> str:
    lines = [line for line in output.splitlines() if reason in line and line.strip().startswith(str(file))]
    assert len(lines) == 1, output
    return lines[0]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_file_is_refused_and_nothing_changes(name, demo_copy, capsys):
    before = checksums(demo_copy)
    path = MALFORMED / name

    status = cli.main(["import", str(path), "--db", str(demo_copy)])

    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    assert err.startswith("Nothing was imported: 1 problem in 1 file. The database is unchanged.")
    assert "the header is row 1, so the first data row is row 2" in err
    row, column, reason = EXPECTED[name]
    assert re.search(rf"^{re.escape(str(path))}: 1 problem\b", err, re.MULTILINE), err
    line = problem_line(err, path, reason)
    if row is None:
        assert " row " not in line
    else:
        assert f", row {row}," in line or f", row {row}:" in line
    if column is not None:
        assert f"column {column}:" in line or f"columns {column}:" in line
    assert checksums(demo_copy) == before


def test_whole_folder_through_the_installed_command(demo_copy):
    """Every malformed file at once, in a separate process: each is reported, and nothing is written."""
    before = checksums(demo_copy)
    done = subprocess.run([sys.executable, "-m", "kam_dash.cli", "import", str(MALFORMED), "--db", str(demo_copy)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    n = len(EXPECTED)
    assert done.stderr.startswith(f"Nothing was imported: {n} problems in {n} files.")
    for name, (_, _, reason) in EXPECTED.items():
        problem_line(done.stderr, MALFORMED / name, reason)
    assert checksums(demo_copy) == before
