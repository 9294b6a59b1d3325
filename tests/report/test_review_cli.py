"""`kam-dash review`: one retailer, a tier, or every retailer, in the formats asked for."""

from __future__ import annotations

from openpyxl import load_workbook

from kam_dash import cli, export
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters


def test_review_one_retailer_writes_each_format(small_db, tmp_path):
    rc = cli.main(["review", "--db", str(small_db), "--retailer", "R002", "--format", "xlsx,html", "--out",
                   str(tmp_path)])
    assert rc == cli.EXIT_OK
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["review-r002-value-market-2026-01-05-to-2026-11-16.html",
                     "review-r002-value-market-2026-01-05-to-2026-11-16.xlsx"]
    about = load_workbook(tmp_path / names[1])["About"]
    assert about["B2"].value == "Value Market"  # by name, not id
    assert about["B5"].value == "Year to date, 05 Jan 2026 to 16 Nov 2026"


def test_review_custom_period_is_the_packs_period(small_db, tmp_path):
    rc = cli.main(["review", "--db", str(small_db), "--retailer", "R001", "--start", "2026-03-02", "--end",
                   "2026-05-31", "--format", "xlsx", "--out", str(tmp_path)])
    assert rc == cli.EXIT_OK
    (path,) = tmp_path.iterdir()
    # the period's weeks run by Monday: 2 Mar .. 25 May 2026 (31 May is a Sunday, in the week of 25 May)
    assert path.name == "review-r001-fresh-market-2026-03-02-to-2026-05-25.xlsx"
    book = load_workbook(path)
    assert book["About"]["B5"].value == "Custom range, 02 Mar 2026 to 25 May 2026"
    weeks = [row[1] for row in book["Sell-in vs sell-out"].iter_rows(min_row=2, values_only=True)]
    assert weeks[0].date().isoformat() == "2026-03-02" and weeks[-1].date().isoformat() == "2026-05-25"


def test_review_a_tier_writes_a_pack_per_retailer_of_it(small_db, tmp_path, capsys):
    engine = DuckDBEngine(small_db)
    scores = export.compute("account-scores", engine, Filters())
    engine.close()
    strategic = sorted(scores.loc[scores["tier"] == "Strategic", "retailer_id"])
    assert strategic  # the small demo has a strategic account
    rc = cli.main(["review", "--db", str(small_db), "--tier", "strategic", "--format", "xlsx", "--out",
                   str(tmp_path)])
    assert rc == cli.EXIT_OK
    written = sorted(p.name.split("-")[1] for p in tmp_path.iterdir())
    assert written == [r.lower() for r in strategic]
    out = capsys.readouterr()
    assert out.out.count("Wrote ") == len(strategic)
    assert "Review packs: 100%" in out.err and f"{len(strategic)}/{len(strategic)}" in out.err  # the progress bar


def test_review_all_writes_every_retailer_in_view(small_db, tmp_path, capsys):
    # --all covers the retailers the filters leave in view: the small demo's one e-commerce retailer here
    rc = cli.main(["review", "--db", str(small_db), "--all", "--channel", "ecommerce", "--format", "xlsx", "--out",
                   str(tmp_path)])
    assert rc == cli.EXIT_OK
    assert [p.name.split("-")[1] for p in tmp_path.iterdir()] == ["r003"]
    assert "Review packs: 100%" in capsys.readouterr().err


def test_review_refuses_bad_input_with_a_message(small_db, tmp_path, capsys):
    base = ["review", "--db", str(small_db), "--out", str(tmp_path)]
    assert cli.main([*base, "--tier", "gold"]) == cli.EXIT_BAD_INPUT
    assert "no retailer is in tier 'gold'; tiers in view: Key, Maintain, Strategic" in capsys.readouterr().err
    assert cli.main([*base, "--retailer", "R999"]) == cli.EXIT_BAD_INPUT
    assert "unknown retailer 'R999'" in capsys.readouterr().err
    assert cli.main([*base, "--retailer", "R001", "--format", "pdf"]) == cli.EXIT_BAD_INPUT
    assert "formats must be among html, xlsx, pptx, not pdf" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
