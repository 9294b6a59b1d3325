"""The review pack of a sell-out-only account: one basis (sell-out value), named; on hand-built tables."""

from __future__ import annotations

import pytest

from kam_dash import report
from tests.unit.test_account import FEB, POS, PRODUCTS, RETAILERS


def test_a_sell_out_only_account_pack_is_on_sell_out_value(hand_db):
    targets = [dict(retailer_id="R3", month=FEB.start.replace(day=1), category="", net_sales_target=None,
                    sell_out_target=2000)]
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=POS, targets=targets)
    key = next(s for s in report.collect(engine, FEB, "R3").sections if s.key == "key-figures")
    # R3: 1100 this February vs 1000 (discontinued S2's 100 kept) -> +10%; 1100 of the sell-out target 2000 = 55%
    assert key.lead.startswith("Sell-out value $1.10K, +10.0% vs last year, 55.0% of plan")
    figures = key.tables[0].frame.set_index("measure")
    assert figures.loc["Sell-out value", "plan"] == pytest.approx(2000)
    assert figures.loc["Sell-out value", "share_of_plan"] == pytest.approx(0.55)
    assert figures.loc["Net sales", "plan"] != figures.loc["Net sales", "plan"]  # NaN: the plan is on sell-out
    # share of the portfolio's sell-out: R3 1100 of R1 400 + R3 1100
    assert figures.loc["Share of the portfolio's sell-out value", "value"] == pytest.approx(1100 / 1500)
    revenue = next(t for t in key.tables if t.export == "revenue-share").frame
    assert list(revenue["basis"]) == ["sell_out"]
    assert ("share", "Basis") in key.terms
