"""Key-account score, tiers, health, margin, white space, pipeline and the account review, on hand-built tables.

Every expected number is worked out by hand in the comments next to it.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from kam_dash import export
from kam_dash.filters import Filters
from kam_dash.metrics import account

D = dt.date
# Three weeks of 2026 (Mondays) and the same ISO weeks 52 weeks earlier.
W1, W2, W3 = D(2026, 1, 5), D(2026, 1, 12), D(2026, 1, 19)
LY1 = W1 - dt.timedelta(weeks=52)  # 2025-01-06

RETAILERS = [
    dict(retailer_id="R1", retailer_name="Alpha", channel="grocery", region="N", kam="Kim", strategic_priority=5),
    dict(retailer_id="R2", retailer_name="Beta", channel="ecommerce", region="S", kam="Lee", strategic_priority=1),
    dict(retailer_id="R3", retailer_name="Gamma", channel="grocery", region="E", kam="Max"),
]
PRODUCTS = [
    dict(sku_id="S1", sku_name="One", brand="X", category="A", unit_cost=2.0),
    dict(sku_id="S2", sku_name="Two", brand="X", category="B"),  # no unit cost
    dict(sku_id="S3", sku_name="Three", brand="Y", category="A", unit_cost=1.0),
]
SELL_IN = [
    # R1 this year: S1 10 + 10 units for 50 + 50, S2 5 units for 40 -> net 140
    dict(week=W1, retailer_id="R1", sku_id="S1", units=10, gross_sales=60, net_sales=50),
    dict(week=W2, retailer_id="R1", sku_id="S1", units=10, gross_sales=60, net_sales=50),
    dict(week=W1, retailer_id="R1", sku_id="S2", units=5, gross_sales=45, net_sales=40),
    # R2 this year: S3 20 units for 60
    dict(week=W1, retailer_id="R2", sku_id="S3", units=20, gross_sales=70, net_sales=60),
    # R3 this year: S2 10 units for 100, no last year
    dict(week=W3, retailer_id="R3", sku_id="S2", units=10, gross_sales=110, net_sales=100),
    # last year: R1 100 (S1), R2 80 (S3)
    dict(week=LY1, retailer_id="R1", sku_id="S1", units=20, gross_sales=120, net_sales=100),
    dict(week=LY1, retailer_id="R2", sku_id="S3", units=25, gross_sales=90, net_sales=80),
]
SELL_OUT = [
    # R1 only: week 2 has no row (sold 0)
    dict(week=W1, retailer_id="R1", sku_id="S1", sales_channel="store", units=8, sales_value=80),
    dict(week=W1, retailer_id="R1", sku_id="S1", sales_channel="online", units=2, sales_value=30),
    dict(week=W3, retailer_id="R1", sku_id="S1", sales_channel="store", units=6, sales_value=60),
]
TARGETS = [
    # January 2026 has four Mondays (5, 12, 19, 26); YTD to the 19th holds three of them.
    dict(retailer_id="R1", month=D(2026, 1, 1), category="", net_sales_target=160),  # YTD 120
    dict(retailer_id="R2", month=D(2026, 1, 1), category="", net_sales_target=100),  # YTD 75
]


@pytest.fixture()
def engine(hand_db):
    return hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=SELL_IN, sell_out=SELL_OUT, targets=TARGETS)


def by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("retailer_id")


# -- normalisation and tiers ------------------------------------------------------------------------------------
def test_normalise_min_max_missing_as_lowest_and_all_equal_as_one():
    out = account.normalise(pd.Series([10.0, 20.0, 30.0, np.nan]))
    assert list(out) == [0.0, 0.5, 1.0, 0.0]  # (20-10)/(30-10) = 0.5; missing counts as the lowest
    assert list(account.normalise(pd.Series([3.0, 3.0, np.nan]))) == [1.0, 1.0, 0.0]
    assert list(account.normalise(pd.Series([np.nan, np.nan]))) == [0.0, 0.0]


@pytest.mark.parametrize("n, pcts, expected", [
    (10, (10, 20), (1, 3)),  # ceil(1.0) = 1, ceil(3.0) = 3 (not 4: 0.3 * 10 is 3.0000000000000004 in floats)
    (24, (10, 20), (3, 8)),  # ceil(2.4) = 3, ceil(7.2) = 8 -> 3 Strategic, 5 Key
    (6, (10, 20), (1, 2)),   # ceil(0.6) = 1, ceil(1.8) = 2
    (3, (10, 20), (1, 1)),   # ceil(0.3) = 1, ceil(0.9) = 1 -> no Key at all
    (1, (10, 20), (1, 1)),
    (0, (10, 20), (0, 0)),
    (10, (0, 20), (0, 2)),   # a 0% Strategic tier is empty
])
def test_tier_counts_use_ceil_of_whole_percents(n, pcts, expected):
    assert account.tier_counts(n, pcts) == expected


def test_tier_cut_offs_above_100_percent_are_refused():
    with pytest.raises(ValueError):
        account.tier_counts(10, (60, 50))


def table(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"retailer_id": [f"R{i}" for i in range(1, n + 1)], "net_sales": [100.0] * n}
    return pd.DataFrame({**base, **cols})


def test_score_is_the_weighted_sum_of_normalised_components():
    t = table(share=[0.5, 0.3, 0.2], yoy_growth=[0.0, 0.1, -0.1], margin_pct=[0.2, 0.4, 0.3],
              strategic_priority=[1, 5, 3])
    s = by_id(account.score_accounts(t))
    # normalised: share   R1 1,   R2 (0.3-0.2)/0.3 = 1/3, R3 0
    #             growth  R1 0.5, R2 1,                   R3 0
    #             margin  R1 0,   R2 1,                   R3 0.5
    #             prio    R1 0,   R2 1,                   R3 0.5
    # R1 = 0.4*1 + 0.3*0.5 = 0.55; R2 = 0.4/3 + 0.3 + 0.2 + 0.1 = 0.7333; R3 = 0.2*0.5 + 0.1*0.5 = 0.15
    assert s.loc["R1", "score"] == pytest.approx(0.55)
    assert s.loc["R2", "score"] == pytest.approx(0.4 / 3 + 0.6)
    assert s.loc["R3", "score"] == pytest.approx(0.15)
    # n = 3: Strategic rank <= ceil(0.3) = 1, Key rank <= ceil(0.9) = 1 -> R2 Strategic, others Maintain
    assert s["tier"].to_dict() == {"R2": "Strategic", "R1": "Maintain", "R3": "Maintain"}
    assert list(account.score_accounts(t)["retailer_id"]) == ["R2", "R1", "R3"]  # sorted by score


def test_weights_are_divided_by_their_sum_and_moving_them_moves_the_tiers():
    t = table(share=[0.5, 0.3, 0.2], yoy_growth=[0.0, 0.1, -0.1], margin_pct=[0.2, 0.4, 0.3],
              strategic_priority=[1, 5, 3])
    only_share = by_id(account.score_accounts(t, {"share": 2.0, "yoy_growth": 0, "margin_pct": 0,
                                                  "strategic_priority": 0}))
    # 2 / 2 = all weight on share: R1 1, R2 1/3, R3 0
    assert only_share.loc["R1", "score"] == pytest.approx(1.0)
    assert only_share.loc["R2", "score"] == pytest.approx(1 / 3)
    assert only_share.loc["R1", "tier"] == "Strategic" and only_share.loc["R2", "tier"] == "Maintain"


def test_bad_weights_are_refused():
    t = table(share=[0.5], yoy_growth=[0.1], margin_pct=[0.2], strategic_priority=[3])
    with pytest.raises(ValueError):
        account.score_accounts(t, {"share": 0, "yoy_growth": 0, "margin_pct": 0, "strategic_priority": 0})
    with pytest.raises(ValueError):
        account.score_accounts(t, {"share": -1.0})


def test_ties_share_the_better_rank_and_its_tier():
    # Ten accounts: R1 best, R2 and R3 tied second, the rest lower. Strategic = rank <= ceil(10% of 10) = 1,
    # Key = rank <= ceil(30% of 10) = 3.
    shares = [1.0, 0.5, 0.5, 0.4, 0.3, 0.3, 0.2, 0.1, 0.05, 0.0]
    t = table(share=shares, yoy_growth=[np.nan] * 10, margin_pct=[np.nan] * 10, strategic_priority=[np.nan] * 10)
    s = by_id(account.score_accounts(t, tier_pcts=(10, 10)))
    # Key now ends at rank ceil(20% of 10) = 2: R2 and R3 share rank 2, so both are Key (3 accounts in the top 20%).
    assert s.loc["R2", "rank"] == s.loc["R3", "rank"] == 2
    assert s.loc["R2", "tier"] == s.loc["R3", "tier"] == "Key"
    assert s.loc["R4", "rank"] == 4 and s.loc["R4", "tier"] == "Maintain"
    # R5 and R6 tie at rank 5 with equal scores: a tie never splits across tiers
    assert s.loc["R5", "tier"] == s.loc["R6", "tier"]


def test_an_all_missing_component_gives_no_one_an_edge():
    t = table(share=[0.6, 0.4], yoy_growth=[np.nan, np.nan], margin_pct=[np.nan, np.nan],
              strategic_priority=[np.nan, np.nan])
    s = by_id(account.score_accounts(t))
    assert s.loc["R1", "score"] == pytest.approx(0.4) and s.loc["R2", "score"] == pytest.approx(0.0)


# -- health -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("attainment, growth, in_stock, loaded, status", [
    (1.00, 0.00, None, False, "green"),     # exactly on plan, flat: green (red/amber are strictly below)
    (0.9994, 0.02, None, False, "amber"),   # shown 99.9%: below 100%
    (0.9999, 0.02, None, False, "green"),   # shown 100.0%: judged on the value shown
    (0.95, 0.02, None, False, "amber"),     # 95% is not below 95%
    (0.9499, 0.02, None, False, "amber"),   # shown 95.0%
    (0.9494, 0.02, None, False, "red"),     # shown 94.9%
    (1.10, -0.05, None, False, "amber"),    # -5% is not worse than -5%
    (1.10, -0.0504, None, False, "amber"),  # shown -5.0%
    (1.10, -0.0506, None, False, "red"),    # shown -5.1%
    (1.10, 0.10, 0.95, True, "green"),
    (1.10, 0.10, 0.9494, True, "amber"),
    (1.10, 0.10, 0.90, True, "amber"),
    (1.10, 0.10, 0.8994, True, "red"),
    (None, None, None, False, "unknown"),
    (None, -0.2, None, False, "red"),       # judged on what there is
])
def test_health_thresholds(attainment, growth, in_stock, loaded, status):
    assert account.health(attainment, growth, in_stock, loaded)[0] == status


def test_health_compares_the_value_it_shows():
    # 94.96% is shown as 95.0%: the old comparison on the raw value said "95.0% of plan (below 95%)"
    status, reason = account.health(0.9496, 0.02)
    assert status == "amber" and reason == "YTD net sales at 95.0% of plan (below 100%)."
    assert account.health(1.0, -0.04996)[1] == "YTD net sales down 5.0% on last year."  # amber, not "worse"


def test_health_reason_names_failing_criteria_worst_first_and_what_is_missing():
    status, reason = account.health(0.97, -0.08, None, availability_loaded=True)
    assert status == "red"
    assert reason == ("YTD net sales down 8.0% on last year (worse than -5%); YTD net sales at 97.0% of plan "
                      "(below 100%); no availability data.")
    assert account.health(None, None) == ("unknown", "Not rated: no target for the year so far, no last-year "
                                                     "sales to compare.")
    assert account.health(1.02, 0.03, 0.97, True) == (
        "green", "YTD net sales at 102.0% of plan; YTD net sales up 3.0% on last year; in-stock rate 97.0% YTD.")


# -- the account table on a hand-built database -----------------------------------------------------------------
def test_accounts_margin_health_and_scores(engine):
    s = by_id(export.compute("account-scores", engine, Filters()))
    assert list(export.compute("account-scores", engine, Filters()).columns) == account.ACCOUNT_SCORE_COLUMNS
    # net sales: R1 50 + 50 + 40 = 140, R2 60, R3 100; total 300
    assert s["net_sales"].to_dict() == {"R1": 140, "R3": 100, "R2": 60}
    assert s.loc["R1", "share"] == pytest.approx(140 / 300)
    # growth: R1 140/100 - 1 = 0.4; R2 60/80 - 1 = -0.25; R3 has no last year
    assert s.loc["R1", "yoy_growth"] == pytest.approx(0.4)
    assert s.loc["R2", "yoy_growth"] == pytest.approx(-0.25)
    assert math.isnan(s.loc["R3", "yoy_growth"])
    # margin over costed SKUs: R1 S1 net 100, cost 20 units x 2.0 = 40 -> 0.6 (S2 has no cost);
    # R2 S3 net 60, cost 20 x 1.0 = 20 -> 40/60; R3 sells only S2 (no cost) -> empty
    assert s.loc["R1", "margin_pct"] == pytest.approx(0.6)
    assert s.loc["R2", "margin_pct"] == pytest.approx(40 / 60)
    assert math.isnan(s.loc["R3", "margin_pct"])
    # normalised: share R1 1, R3 (1/3 - 1/5)/(7/15 - 1/5) = 0.5, R2 0; growth R1 1, R2 0, R3 0 (missing);
    # margin R2 1, R1 0, R3 0 (missing); priority R1 1 (5), R2 0 (1), R3 0 (missing)
    # R1 = 0.4 + 0.3 + 0.1 = 0.8; R2 = 0.2 x 1 = 0.2; R3 = 0.4 x 0.5 = 0.2 (a tie with R2)
    assert s.loc["R1", "score"] == pytest.approx(0.8)
    assert s.loc["R2", "score"] == pytest.approx(0.2) and s.loc["R3", "score"] == pytest.approx(0.2)
    assert s["tier"].to_dict() == {"R1": "Strategic", "R2": "Maintain", "R3": "Maintain"}
    # Health's plan criterion is the year's landing (plan.landing) over the annual target. R1: YTD 140; the
    # remaining weeks project from last year's same weeks, which shipped 0 after 6 Jan 2025 -> landing 140;
    # the annual target is January's 160 -> 87.5%, red (its YTD attainment 140 / 120 = 116.7% would be green).
    # Growth +40% green. R2: landing 60 of 100 = 60% red; growth -25% red (plan first among equals).
    assert s.loc["R1", "health"] == "red"
    assert s.loc["R1", "health_reason"] == "Landing 2026 at 87.5% of plan (below 95%)."
    assert s.loc["R2", "health"] == "red"
    assert s.loc["R2", "health_reason"] == ("Landing 2026 at 60.0% of plan (below 95%); YTD net sales down 25.0% "
                                           "on last year (worse than -5%).")
    assert s.loc["R3", "health"] == "unknown"


def test_tied_accounts_move_up_together_when_the_key_tier_widens(engine):
    table_ = account.accounts(engine, Filters())
    s = by_id(account.score_accounts(table_, tier_pcts=(10, 40)))
    # Key now ends at rank ceil(50% of 3) = 2; R2 and R3 tie at rank 2 -> both Key
    assert s["tier"].to_dict() == {"R1": "Strategic", "R2": "Key", "R3": "Key"}
    by_margin = by_id(account.score_accounts(table_, {"share": 0, "yoy_growth": 0, "margin_pct": 1,
                                                      "strategic_priority": 0}))
    assert by_margin.loc["R2", "tier"] == "Strategic"  # the best margin (0.667) wins when only margin counts


def test_health_is_judged_on_the_year_to_date_whatever_the_period(engine):
    # Only week 3: R1 and R2 have no sell-in that week, but their YTD status is unchanged.
    week3 = Filters(period="custom", start=W3, end=W3)
    s = by_id(account.accounts(engine, week3))
    ytd = by_id(account.accounts(engine, Filters()))
    assert s["health_reason"].to_dict() == ytd["health_reason"].to_dict()
    assert s.loc["R2", "health_reason"].startswith("Landing 2026 at 60.0% of plan")
    assert math.isnan(s.loc["R1", "net_sales"])
    # the page names the weeks health is judged on when its period differs
    assert account.ytd_dates(engine, week3) == "05 Jan 2026 to 19 Jan 2026"
    assert account.ytd_dates(engine, Filters()) is None


def test_portfolio_kpis_margin_coverage_and_accounts_off_plan(engine):
    data = account.portfolio_page_data(engine, Filters())
    # costed net sales 100 (R1 S1) + 60 (R2 S3) = 160, cost 40 + 20 = 60 -> margin 100/160; covers 160 of 300
    assert data.kpis["gross_margin"] == pytest.approx(100 / 160)
    assert data.kpis["cost_coverage"] == pytest.approx(160 / 300)
    # R1 at 116.7% and R2 at 80% have targets; R2 is off plan
    assert (data.kpis["accounts_off_plan"], data.kpis["accounts_with_target"]) == (1, 2)
    # plan share: 120 / (120 + 75)
    assert by_id(data.accounts).loc["R1", "plan_share"] == pytest.approx(120 / 195)
    assert not data.availability_judged


def test_availability_joins_health_when_the_inventory_module_provides_it(engine, monkeypatch):
    import sys
    import types

    fake = types.ModuleType("kam_dash.metrics.inventory")
    fake.availability_by_retailer = lambda eng, f: pd.DataFrame(
        {"retailer_id": ["R1"], "in_stock_rate": [0.85], "oos_weeks": [3], "lost_units": [1.0], "lost_value": [2.0]})
    monkeypatch.setitem(sys.modules, "kam_dash.metrics.inventory", fake)
    account.accounts(engine, Filters())  # freshness is read (and kept) while the engine says what it has
    monkeypatch.setattr(engine, "has", lambda name: True)
    s = by_id(account.accounts(engine, Filters()))
    # 85% in stock is below 90% -> red, named in the reason (after the landing, also red)
    assert s.loc["R1", "health"] == "red"
    assert "in-stock rate 85.0% YTD (below 90%)" in s.loc["R1", "health_reason"]
    assert "no availability data" in s.loc["R2", "health_reason"]


# -- white space ------------------------------------------------------------------------------------------------
def test_white_space_for_one_retailer(engine):
    ws = export.compute("white-space", engine, Filters(retailers=("R1",))).set_index("category")
    # R1: A 100, B 40 (total 140); portfolio: A 100 + 60 = 160, B 40 + 100 = 140 (total 300)
    assert ws.loc["A", "retailer_share"] == pytest.approx(100 / 140)
    assert ws.loc["B", "portfolio_share"] == pytest.approx(140 / 300)
    # B: (140/300 - 40/140) x 140 = 65.333 - 40 = 25.333; A is over-indexed -> 0
    assert ws.loc["B", "opportunity"] == pytest.approx(140 * 140 / 300 - 40)
    assert ws.loc["A", "opportunity"] == 0.0
    assert list(ws.index) == ["B", "A"]  # ranked by opportunity


def test_white_space_of_a_category_the_retailer_does_not_sell(engine):
    ws = account.white_space(engine, Filters(retailers=("R2",))).set_index("category")
    # R2 sells only A (60): B share 0 -> opportunity 140/300 x 60 = 28
    assert ws.loc["B", "retailer_sales"] == 0.0
    assert ws.loc["B", "opportunity"] == pytest.approx(28.0)


@pytest.mark.parametrize("retailers", [(), ("R1", "R2"), ("NOPE",)])
def test_account_exports_need_exactly_one_known_retailer(engine, retailers):
    for name in ("white-space", "pipeline"):
        with pytest.raises(ValueError):
            export.compute(name, engine, Filters(retailers=retailers))


# -- pipeline ---------------------------------------------------------------------------------------------------
def test_pipeline_skips_unreported_weeks_and_accumulates(engine):
    p = export.compute("pipeline", engine, Filters(retailers=("R1",)))
    assert list(p["week"].dt.date) == [W1, W2, W3]
    # sell-in: W1 10 + 5 = 15, W2 10, W3 none -> 0; sell-out: W1 8 store + 2 online = 10, W3 6; R1 reported no
    # sell-out at all in W2: unreported, not 0 (the old pipeline read 0 and built up 10 units of phantom stock)
    assert list(p["sell_in_units"]) == [15, 10, 0]
    assert p["sell_out_units"].iloc[0] == 10 and math.isnan(p["sell_out_units"].iloc[1])
    # cumulative over reported weeks: 15 - 10 = 5; W2 skipped (its sell-in too); 5 + 0 - 6 = -1
    assert p["cum_pipeline_units"].iloc[0] == 5 and math.isnan(p["cum_pipeline_units"].iloc[1])
    assert p["cum_pipeline_units"].iloc[2] == -1


def test_a_reported_week_without_a_row_for_a_sku_sold_zero(hand_db):
    rows = [*SELL_OUT, dict(week=W2, retailer_id="R1", sku_id="S3", sales_channel="store", units=0, sales_value=0)]
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=SELL_IN, sell_out=rows)
    # W2 is now reported (a row for S3); under a filter on category B (S2 only) R1 sold 0 of it that week
    p = account.pipeline(engine, Filters(retailers=("R1",), categories=("B",)))
    # sell-in of S2: W1 5, W2 0, W3 0; sell-out of S2: none in any reported week -> 0, 0, 0
    assert list(p["sell_out_units"]) == [0, 0, 0] and list(p["cum_pipeline_units"]) == [5, 5, 5]


def test_pipeline_of_a_retailer_without_sell_out_has_no_fill(engine):
    p = account.pipeline(engine, Filters(retailers=("R2",)))
    assert list(p["sell_in_units"]) == [20, 0, 0]
    assert p["sell_out_units"].isna().all() and p["cum_pipeline_units"].isna().all()


# -- the account review -----------------------------------------------------------------------------------------
def test_sku_table_growth_contribution_and_channel_split(engine):
    data = account.account_page_data(engine, Filters(), "R1")
    skus = data.skus.set_index("sku_id")
    # S1: 100 vs 100 -> growth 0, change 0; S2: 40 vs nothing -> growth empty, change +40
    assert skus.loc["S1", "growth"] == pytest.approx(0.0)
    assert math.isnan(skus.loc["S2", "growth"])
    # contribution = change / R1's last-year total 100: S2 +0.4, adding up to R1's growth of +40%
    assert skus.loc["S2", "contribution"] == pytest.approx(0.4)
    assert skus["contribution"].sum() == pytest.approx(data.kpis["yoy_growth"])
    # S1 sell-out: store 80 + 60 = 140, online 30
    assert (skus.loc["S1", "store_value"], skus.loc["S1", "online_value"]) == (140, 30)
    assert data.kpis["online_share"] == pytest.approx(30 / 170)
    # attainment 140 / 120; margin as in the account table
    assert data.kpis["attainment"] == pytest.approx(140 / 120)
    assert data.kpis["margin_pct"] == pytest.approx(0.6)
    assert data.missing == []


def test_top_and_bottom_do_not_overlap():
    skus = pd.DataFrame({"sku_id": list("abcde"), "growth": [0.5, 0.1, np.nan, -0.2, 0.0]})
    top, bottom = account.top_bottom(skus, "growth", n=2)
    assert list(top["sku_id"]) == ["a", "b"]
    assert list(bottom["sku_id"]) == ["d", "e"]  # worst first; c has no growth
    # four SKUs with a growth and n = 3: the better half on top, the rest at the bottom
    top, bottom = account.top_bottom(skus, "growth", n=3)
    assert list(top["sku_id"]) == ["a", "b"] and list(bottom["sku_id"]) == ["d", "e"]
    top, bottom = account.top_bottom(skus.head(3), "growth", n=10)  # a, b (c has none): a on top, b below
    assert list(top["sku_id"]) == ["a"] and list(bottom["sku_id"]) == ["b"]


def test_a_retailer_without_sell_out_targets_or_last_year_says_so(engine):
    data = account.account_page_data(engine, Filters(), "R3")
    assert data.kpis["net_sales"] == 100 and data.kpis["yoy_growth"] is None
    assert data.kpis["attainment"] is None and data.kpis["sell_out_value"] is None
    assert data.missing == ["no sales last year to compare with", "no target for this period",
                            "no sell-out reported in this period"]
    assert account.account_page_data(engine, Filters(), "NOPE") is None


def test_monthly_plan_rolls_landing_weeks_up_to_months():
    weeks = pd.DataFrame({
        "week": pd.to_datetime(["2026-11-23", "2026-11-30", "2026-12-07"]),
        "actual": [10.0, np.nan, np.nan], "ly_actual": [8.0, 9.0, np.nan],
        "projected": [np.nan, 12.0, 7.0], "basis": ["actual", "last_year", "target"],
        "target": [11.0, 11.0, 7.0],
    })
    m = account.monthly_plan(weeks).set_index("month")
    nov, dec = pd.Timestamp("2026-11-01"), pd.Timestamp("2026-12-01")
    # November: actual 10 (the done week); landing 10 + 12 = 22 (it still has a remaining week)
    assert m.loc[nov, "actual"] == 10 and m.loc[nov, "landing"] == 22 and m.loc[nov, "last_year"] == 17
    # December: nothing done yet -> actual empty; landing = its projection 7
    assert math.isnan(m.loc[dec, "actual"]) and m.loc[dec, "landing"] == 7


def test_pick_account_falls_back_with_a_warning():
    choices = pd.DataFrame({"retailer_id": ["R2", "R1"], "retailer_name": ["Alpha", "Beta"]})
    assert account.pick_account(choices, ["R1", "R2", "R3"], "R1") == ("R1", None)
    assert account.pick_account(choices, ["R1", "R2", "R3"], None) == ("R2", None)
    rid, warning = account.pick_account(choices, ["R1", "R2", "R3"], "<script>")
    assert rid == "R2" and "not a known retailer" in warning and "script" not in warning
    rid, warning = account.pick_account(choices, ["R1", "R2", "R3"], "R3")
    assert rid == "R2" and "outside the sidebar filters" in warning


def test_a_sku_shipped_last_year_only_has_fallen_100_percent(hand_db):
    engine = hand_db(retailers=RETAILERS[:1], products=PRODUCTS[:2], sell_in=[
        dict(week=W1, retailer_id="R1", sku_id="S1", units=1, gross_sales=10, net_sales=10),
        dict(week=LY1, retailer_id="R1", sku_id="S2", units=1, gross_sales=30, net_sales=25),
    ])
    skus = account.account_page_data(engine, Filters(), "R1").skus.set_index("sku_id")
    # S2: nothing this year vs 25 -> -100%, change -25, contribution -25 / 25 = -1
    assert skus.loc["S2", "growth"] == pytest.approx(-1.0)
    assert skus.loc["S2", "contribution"] == pytest.approx(-1.0)
    assert math.isnan(skus.loc["S2", "net_sales"])


def test_ytd_plan_and_growth_under_another_period_equal_the_ytd_revenue_share(engine):
    from kam_dash.metrics import share

    week3 = Filters(period="custom", start=W3, end=W3)
    got = by_id(account.ytd_plan_and_growth(engine, week3, share.revenue_share(engine, week3),
                                            account.margin_and_ytd(engine, week3)))
    ytd = by_id(share.revenue_share(engine, Filters()))
    # R1: 140 / 120, R2: 60 / 75 (see test_accounts_margin_health_and_scores); R3: no target, no last year
    assert got.loc["R1", "ytd_attainment"] == pytest.approx(140 / 120) == ytd.loc["R1", "attainment"]
    assert got.loc["R2", "ytd_growth"] == pytest.approx(-0.25)
    assert math.isnan(got.loc["R3", "ytd_attainment"]) and math.isnan(got.loc["R3", "ytd_growth"])


def test_the_period_target_is_the_same_inside_and_across_the_plan_year(engine):
    # YTD (inside 2026): 3 of January's 4 weeks of 160 = 120
    assert account.account_page_data(engine, Filters(), "R1").kpis["net_sales_target"] == pytest.approx(120)
    # a range reaching back into 2025 (no target there) reads the period directly: still 120
    across = Filters(period="custom", start=D(2025, 12, 1), end=W3)
    assert account.account_page_data(engine, across, "R1").kpis["net_sales_target"] == pytest.approx(120)
    # one week: 160 / 4
    week2 = Filters(period="custom", start=W2, end=W2)
    assert account.account_page_data(engine, week2, "R1").kpis["net_sales_target"] == pytest.approx(40)


def test_full_year_of_the_current_year_is_the_year_to_date(engine):
    year, ytd = Filters(period="year", year=2026), Filters()
    a, b = by_id(account.accounts(engine, year)), by_id(account.accounts(engine, ytd))
    # Full year 2026 is clamped to the loaded weeks 5-19 Jan: the same 140 / 120 and +40% as the year to date
    cols = ["net_sales", "yoy_growth", "attainment", "ytd_attainment", "ytd_growth", "health_reason"]
    pd.testing.assert_frame_equal(a[cols].sort_index(), b[cols].sort_index())
    assert a.loc["R1", "ytd_attainment"] == pytest.approx(140 / 120) and a.loc["R1", "ytd_growth"] == pytest.approx(0.4)
    assert account.period_label(engine, year) == "Full year 2026, 05 Jan 2026 to 19 Jan 2026"


# -- sell-out: each retailer's own weeks, discontinued SKUs, sell-out-only accounts --------------------------------
FEB = Filters(period="custom", start=D(2026, 2, 1), end=D(2026, 2, 28))  # Mondays 2, 9, 16, 23


def so(week, r, s, value, channel="store"):
    return dict(week=week, retailer_id=r, sku_id=s, sales_channel=channel, units=value / 10, sales_value=value)


POS = [
    # R1 (sell-in and sell-out): its POS lags, latest 16 Feb 2026
    so(D(2026, 2, 2), "R1", "S1", 100), so(D(2026, 2, 9), "R1", "S1", 110), so(D(2026, 2, 9), "R1", "S2", 70),
    so(D(2026, 2, 16), "R1", "S1", 120),
    so(D(2025, 2, 3), "R1", "S1", 80), so(D(2025, 2, 3), "R1", "S2", 20), so(D(2025, 2, 10), "R1", "S1", 90),
    so(D(2025, 2, 17), "R1", "S1", 100), so(D(2025, 2, 17), "R1", "S2", 10), so(D(2025, 2, 24), "R1", "S1", 999),
    # R3 reports sell-out only; S2 sold last year only (discontinued)
    so(D(2026, 2, 2), "R3", "S1", 300), so(D(2026, 2, 9), "R3", "S3", 100), so(D(2026, 2, 16), "R3", "S1", 200),
    so(D(2026, 2, 23), "R3", "S1", 500),
    so(D(2025, 2, 3), "R3", "S1", 250), so(D(2025, 2, 10), "R3", "S3", 150), so(D(2025, 2, 10), "R3", "S2", 100),
    so(D(2025, 2, 17), "R3", "S1", 200), so(D(2025, 2, 24), "R3", "S1", 300),
]


@pytest.fixture()
def pos_engine(hand_db):
    sell_in = [dict(week=D(2026, 2, 2), retailer_id="R1", sku_id="S1", units=10, gross_sales=120, net_sales=100),
               dict(week=D(2026, 3, 2), retailer_id="R1", sku_id="S1", units=1, gross_sales=1, net_sales=1)]
    targets = [dict(retailer_id="R3", month=D(2026, 2, 1), category="", net_sales_target=None, sell_out_target=2000)]
    return hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=sell_in, sell_out=POS, targets=targets)


def test_account_sell_out_growth_keeps_last_years_discontinued_skus(pos_engine):
    k = account.account_page_data(pos_engine, FEB, "R3").kpis
    # R3 reported all four weeks both years: 300 + 100 + 200 + 500 = 1100 vs 250 + (150 + 100) + 200 + 300 = 1000
    # -> +10%. The old review left out S2's 100 (no sales this year): 1100 / 900 - 1 = +22.2%.
    assert k["sell_out_value"] == 1100 and k["sell_out_value_ly"] == 1000
    assert k["sell_out_growth"] == pytest.approx(0.10)
    # R1: 2, 9, 16 Feb (23 Feb not arrived): 100 + 180 + 120 = 400 vs (80 + 20) + 90 + (100 + 10) = 300,
    # never 24 Feb 2025's 999; one unreported week
    r1 = account.account_page_data(pos_engine, FEB, "R1").kpis
    assert r1["sell_out_growth"] == pytest.approx(400 / 300 - 1) and r1["unreported_weeks"] == 1


def test_a_sell_out_only_account_is_reviewed_on_sell_out_value(pos_engine):
    data = account.account_page_data(pos_engine, FEB, "R3")
    k, skus = data.kpis, data.skus.set_index("sku_id")
    assert k["basis"] == "sell_out" and k["net_sales"] is None
    # attainment against the sell-out target: 1100 / 2000
    assert k["net_sales_target"] == pytest.approx(2000) and k["attainment"] == pytest.approx(0.55)
    # SKUs on sell-out: S1 1000 vs 750 -> +1/3; S3 100 vs 150 -> -1/3; S2 0 vs 100 -> -100%
    assert skus.loc["S1", "growth"] == pytest.approx(1000 / 750 - 1) and skus.loc["S2", "growth"] == pytest.approx(-1)
    # contribution = change / last year's 1000: S1 +0.25, S3 -0.05, S2 -0.10, adding up to +10%
    assert skus["contribution"].sum() == pytest.approx(k["sell_out_growth"]) == pytest.approx(0.10)
    assert skus.loc["S1", "contribution"] == pytest.approx(0.25)
    assert "no sell-in (net sales) in this period, so its figures are of sell-out value" in data.missing
    # white space on sell-out too: portfolio A = R1 330 + R3 1100 = 1430, B = R1 70, of 1500; R3 sells no B:
    # (70 / 1500 - 0) x 1100 = 51.33
    ws = data.white_space.set_index("category")
    assert set(ws["basis"]) == {"sell_out"} and ws.loc["B", "opportunity"] == pytest.approx(70 / 1500 * 1100)


def test_sell_out_only_accounts_in_the_portfolio(pos_engine):
    mixed = by_id(account.accounts(pos_engine, FEB))
    # the view has sell-in (R1): R3 has no share and is not rated on sell-in
    assert set(mixed["basis"]) == {"sell_in"} and math.isnan(mixed.loc["R3", "share"])
    assert mixed.loc["R3", "health_reason"] == account.SELL_OUT_ONLY_REASON
    alone = by_id(account.accounts(pos_engine, FEB.with_(retailers=("R3",))))
    # only R3 in view: sell-out basis. Health on the year to date (5 Jan to 2 Mar 2026): YTD sell-out 1100 of the
    # sell-out target 2000 (February's; no other month has one) = 55% red; growth +10% green
    assert alone.loc["R3", "basis"] == "sell_out" and alone.loc["R3", "share"] == pytest.approx(1.0)
    assert alone.loc["R3", "health"] == "red"
    assert alone.loc["R3", "health_reason"] == "YTD sell-out value at 55.0% of plan (below 95%)."
    scores = export.compute("account-scores", pos_engine, FEB.with_(retailers=("R3",)))
    assert list(scores["basis"]) == ["sell_out"] and list(scores["value"]) == [1100]


def test_charts_of_a_sell_out_only_account_have_no_empty_axes(pos_engine):
    from kam_dash.charts import account as charts
    from kam_dash.charts import share as share_charts

    data = account.account_page_data(pos_engine, FEB, "R3")
    fig = charts.pipeline(data.pipeline)
    # sell-out only: one trace (sell-out units), no pipeline-fill axis
    assert [t.name for t in fig.data] == ["Sell-out units"] and "yaxis2" not in fig.layout.to_plotly_json()
    assert charts.category_mix(data.white_space, "Gamma").layout.xaxis.title.text == "Share of sell-out value"
    shares = account.share.revenue_share(pos_engine, FEB.with_(retailers=("R3",)))
    assert share_charts.pareto(shares).layout.yaxis.title.text == "Sell-out value"


def test_health_follows_the_plan_modules_landing(engine, monkeypatch):
    # Health reads plan.landing (which leans on the plan early in the year) through its public columns only.
    # A landing of 990 against an annual target of 1000 is 99.0%: amber, whatever the YTD attainment (R1's is
    # 140 / 120 = 116.7%).
    from kam_dash.metrics import plan

    calls = []

    def landing(eng, filters, year=None, by_category=False):
        calls.append(filters.period)
        return pd.DataFrame({"retailer_id": ["R1"], "landing_estimate": [990.0], "annual_target": [1000.0]})

    monkeypatch.setattr(plan, "landing", landing)
    s = by_id(account.accounts(engine, Filters(period="l13w")))
    assert calls == ["ytd"]  # judged on the year to date whatever the period
    assert s.loc["R1", "landing_vs_plan"] == pytest.approx(0.99) and s.loc["R1", "health"] == "amber"
    assert s.loc["R1", "health_reason"] == "Landing 2026 at 99.0% of plan (below 100%)."
    assert s.loc["R1", "ytd_attainment"] == pytest.approx(140 / 120)
