"""Safe output: CSV cells a spreadsheet would run are neutralised; the workbook keeps such text as text; names
from the data are shown as text in markdown."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import xlsxwriter

from kam_dash import cli, export, fmt
from kam_dash.report.workbook import _Writer
from tests.conftest import make_db

EVIL = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_csv_export_neutralises_every_formula_start_and_leaves_numbers_alone(tmp_path):
    frame = pd.DataFrame({"retailer_name": [*EVIL, "Fine Foods", "a=b"], "net_sales": [-5.0] * 6 + [1.0, 2.0]})
    path = export.write(frame, tmp_path / "x.csv", "csv")
    back = pd.read_csv(path, keep_default_na=False, nrows=5)  # row 6 holds a bare CR, which pandas reads as a line end
    assert list(back["retailer_name"]) == ["'" + v for v in EVIL[:4]] + ["'\tx"]
    assert list(back["net_sales"]) == [-5.0] * 5  # a negative number is a number, not text
    text = path.read_bytes().decode()
    assert "'\rx" in text and "\n\rx" not in text
    assert text.endswith("Fine Foods,1.0\na=b,2.0\n")  # only a leading character counts


def test_download_bytes_are_the_same_safe_csv():
    frame = pd.DataFrame({"name": ["=1+1", "ok"]})
    assert export.to_csv_bytes(frame) == b"name\n'=1+1\nok\n"


def test_the_cli_export_of_a_retailer_named_like_a_formula_is_safe(tmp_path):
    db = make_db(tmp_path / "evil.duckdb",
                 retailers=[{"retailer_id": "R1", "retailer_name": "=HYPERLINK(\"http://x\")", "channel": "grocery",
                             "region": "N", "kam": "@me"}],
                 products=[{"sku_id": "S1", "sku_name": "s", "brand": "b", "category": "c"}],
                 sell_in=[{"week": pd.Timestamp("2026-11-16"), "retailer_id": "R1", "sku_id": "S1", "units": 1,
                           "gross_sales": 10, "net_sales": 10}])
    out = tmp_path / "share.csv"
    assert cli.main(["export", "revenue-share", "--db", str(db), "--out", str(out)]) == 0
    text = out.read_text()
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


def test_the_workbook_stores_formula_looking_text_as_text():
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    _Writer(book).frame("Accounts", pd.DataFrame({"name": EVIL[:4]}), ["text"])
    book.close()
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    cells = [sheet.cell(row=r, column=1) for r in range(2, 6)]
    assert [c.value for c in cells] == EVIL[:4]  # as typed, not neutralised: a workbook cell is typed
    assert [c.data_type for c in cells] == ["s"] * 4  # strings, never formulas ("f")


def test_markdown_in_names_is_escaped():
    assert fmt.md_text("**Big** [deal](http://x)") == "\\*\\*Big\\*\\* \\[deal\\]\\(http\\:\\/\\/x\\)".replace(
        "\\/", "/")
    assert fmt.md_text(":red[alarm] :material/home:") == "\\:red\\[alarm\\] \\:material/home\\:"
    assert fmt.md_text("<b>x</b>\nnext") == "\\<b\\>x\\</b\\> next"
    assert fmt.md_text(None) == ""
