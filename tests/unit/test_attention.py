"""Needs attention and A/B/C on hand-built tables: the few accounts that matter, by money at stake, and classes
of the whole portfolio whatever the retailer filter. Every expected value is worked out in the comments."""

from __future__ import annotations

import pandas as pd
import pytest

from kam_dash.metrics import account, share
from tests.unit.test_share import FEBRUARY, PRODUCTS, RETAILERS, SELL_IN, SELL_OUT, TARGETS, rows


def accounts(**columns) -> pd.DataFrame:
    n = len(columns["retailer_id"])
    base = {"health_reason": ["Why."] * n, "plan_shortfall": [None] * n, "ytd_drop": [None] * n,
            "lost_value": [None] * n}
    return pd.DataFrame({**base, **columns})


def test_money_at_stake_is_the_largest_positive_part():
    table = accounts(retailer_id=["A", "B", "C"], plan_shortfall=[400.0, -10.0, None],
                     ytd_drop=[100.0, 20.0, None], lost_value=[0.0, 35.0, None])
    # A: max(400, 100, 0) = 400; B: the shortfall is negative (ahead of plan): max(20, 35) = 35; C: nothing = 0
    assert account.money_at_stake(table).tolist() == [400.0, 35.0, 0.0]


def test_only_red_or_amber_accounts_with_material_share_and_stake_are_listed():
    # YTD sales total 5000 + 3000 + 10 + 1990 = 10000; 0.2% of it is 20
    table = accounts(retailer_id=["A", "B", "C", "D"], ytd_value=[5000.0, 3000.0, 10.0, 1990.0],
                     health=["red", "amber", "red", "green"],
                     plan_shortfall=[400.0, -10.0, 5.0, 300.0], ytd_drop=[100.0, 20.0, 0.0, 0.0],
                     lost_value=[0.0, 25.0, 0.0, 0.0])
    listed = account.needing_attention(table)
    # A: share 50%, stake 400 >= 1% of 5000 (50): listed.
    # B: share 30% but stake max(20, 25) = 25 < 1% of 3000 (30): not material.
    # C: stake 5 is 50% of its sales, but its share 10 / 10000 = 0.1% < 0.2%: too small to matter.
    # D: 300 short of plan, but green.
    assert listed["retailer_id"].tolist() == ["A"]
    assert listed.loc[0, "money_at_stake"] == 400.0
    # the reason: the parts of at least 1% of A's sales (50), largest first, then the health reason
    assert listed.loc[0, "attention_reason"] == "$400 short of plan; $100 below last year YTD. Why."


def test_at_most_five_by_money_at_stake():
    # seven equal accounts, each 1000 of YTD sales (1/7 of the total), stakes 100 .. 700 (all >= 1% = 10)
    ids = list("ABCDEFG")
    table = accounts(retailer_id=ids, ytd_value=[1000.0] * 7, health=["amber"] * 7,
                     ytd_drop=[100.0, 700.0, 300.0, 200.0, 600.0, 500.0, 400.0])
    listed = account.needing_attention(table)
    assert listed["retailer_id"].tolist() == ["B", "E", "F", "G", "C"]  # 700, 600, 500, 400, 300
    assert account.needing_attention(table, most=2)["retailer_id"].tolist() == ["B", "E"]
    # a stricter share threshold: 1000 / 7000 = 14.3% < 20% leaves none
    assert account.needing_attention(table, min_share=0.2).empty


@pytest.fixture()
def engine(hand_db):
    return hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=SELL_IN, sell_out=SELL_OUT, targets=TARGETS)


def test_abc_class_is_of_the_whole_portfolio_under_a_retailer_filter(engine):
    # February net sales: R1 1000, R2 250, R3 100 of 1350: cumulative 74.1% (A), 92.6% (B), 100% (C)
    whole = rows(share.revenue_share(engine, FEBRUARY))
    assert [whole[r]["abc_class"] for r in ("R1", "R2", "R3")] == ["A", "B", "C"]
    # R2 and R3 alone: in view R2 is 250 / 350 = 71% and would be the largest (A); R3 100 / 350 -> cumulative
    # 100% (C). The classes stay those of the whole portfolio: B and C.
    picked = rows(share.revenue_share(engine, FEBRUARY.with_(retailers=("R2", "R3"))))
    assert set(picked) == {"R2", "R3"}
    assert picked["R2"]["share"] == pytest.approx(250 / 350)  # shares stay those of the view
    assert [picked["R2"]["abc_class"], picked["R3"]["abc_class"]] == ["B", "C"]
    # a KAM filter (R1 and R3 are KAM A's) and a channel filter do not re-class either
    by_kam = rows(share.revenue_share(engine, FEBRUARY.with_(kams=("A",))))
    assert {r: v["abc_class"] for r, v in by_kam.items()} == {"R1": "A", "R3": "C"}
    by_channel = rows(share.revenue_share(engine, FEBRUARY.with_(channels=("ecommerce",))))
    assert by_channel["R3"]["abc_class"] == "C"  # alone in view, and still C
    # a category filter changes what is sold, so it does re-rank: Snacks R1 600, R2 250 -> A, C
    snacks = rows(share.revenue_share(engine, FEBRUARY.with_(categories=("Snacks",), retailers=("R2",))))
    assert snacks["R2"]["abc_class"] == "C"
