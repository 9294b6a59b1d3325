"""The review pack written on each real panel (Dominick's as store accounts and as one chain, Walmart): the deck
tells the story in order and ends on at most two definition slides, and every workbook sheet has headings in
words with products, retailers and stores by name. Chart images are left out (the slide list is what is checked;
the demo tests draw them)."""

from __future__ import annotations

import pytest

from kam_dash import report
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.report import deck
from tests.report.review_ready import deck_titles, ids_with_names, workbook_problems

pytestmark = pytest.mark.realdata

# The deck's story, in order: a section's slides come after those of every section listed before it.
ORDER = ["Key figures vs plan and last year", "Monthly net sales vs target", "Sell-in vs sell-out by week",
         "Promotion calendar", "Weeks of cover", "Distribution x velocity per SKU", "Top voids",
         "Products: biggest gains and losses vs last year", "White space: products and categories to add",
         "Objectives and next steps", "Definitions"]


def biggest_retailer(engine) -> str:
    t = engine.table("sell_out")
    sales = engine.execute(t.group_by("retailer_id").aggregate(value=t.sales_value.sum()))
    return sales.sort_values(["value", "retailer_id"], ascending=[False, True])["retailer_id"].iloc[0]


def test_real_pack_is_review_ready(real_db, tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_DASH_STATE", str(tmp_path / "no-plan.sqlite"))
    engine = DuckDBEngine(real_db)
    try:
        rid = biggest_retailer(engine)
        pack = report.collect(engine, Filters(period="l52w"), rid)
        files = report.render(pack, ["xlsx", "html"])
        pptx = deck.render(pack, None, "chart images left out in this test")
        ids = ids_with_names(engine)
        accounts = len(engine.execute(engine.table("retailers").select("retailer_id")))
    finally:
        engine.close()
    assert ids  # the panel has ids with names: the check below has something to find

    titles = deck_titles(pptx)
    assert titles[0] == pack.title and titles[1] == "Key figures vs plan and last year"
    ranks = [next(i for i, start in enumerate(ORDER) if t.startswith(start)) for t in titles
             if any(t.startswith(start) for start in ORDER)]
    assert ranks == sorted(ranks), titles
    assert "Products: biggest gains and losses vs last year" in titles and "Objectives and next steps" in titles
    defs = [t for t in titles if t.startswith("Definitions")]
    assert 1 <= len(defs) <= 2 and titles[-len(defs):] == defs

    white = next(s for s in pack.sections if s.key == "white-space")
    if accounts == 1:  # one chain: nothing to compare its range with, and the pack says so
        assert white.lead.startswith("No other account with sales in the period to compare")

    assert workbook_problems(files["xlsx"], ids) == []
    page = files["html"].decode()
    assert ">Week</th>" not in page  # weekly rows stay in the workbook
    assert rid not in page.split("<footer>")[0].split("</header>")[1]  # the retailer by name in the story
