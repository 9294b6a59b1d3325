"""Revenue share on a hand-built portfolio: every expected number is worked out in the comments."""

from __future__ import annotations

import datetime as dt

import pytest

from kam_dash.filters import Filters
from kam_dash.metrics import share

D = dt.date
RETAILERS = [
    dict(retailer_id="R1", retailer_name="One Market", channel="grocery", region="N", kam="A"),
    dict(retailer_id="R2", retailer_name="Two Mart", channel="mass", region="S", kam="B"),
    dict(retailer_id="R3", retailer_name="Three Online", channel="ecommerce", region="N", kam="A"),
]
PRODUCTS = [
    dict(sku_id="S1", sku_name="Crisps", brand="Crunch", category="Snacks"),
    dict(sku_id="S2", sku_name="Soup", brand="Hearth", category="Soups"),
]


def si(week, r, s, net):
    return dict(week=week, retailer_id=r, sku_id=s, units=net / 10, gross_sales=net * 1.2, net_sales=net)


SELL_IN = [
    si(D(2026, 2, 2), "R1", "S1", 600), si(D(2026, 2, 9), "R1", "S2", 400),
    si(D(2025, 2, 3), "R1", "S1", 800),  # last year, 52 weeks before 2026-02-02
    si(D(2026, 2, 16), "R2", "S1", 300), si(D(2026, 2, 23), "R2", "S1", -50),  # a return
    si(D(2025, 2, 10), "R2", "S1", 250),
    si(D(2026, 2, 2), "R3", "S2", 100),
    si(D(2026, 3, 2), "R1", "S1", 999),  # after February: the latest week loaded
]
SELL_OUT = [
    dict(week=D(2026, 2, 9), retailer_id="R1", sku_id="S1", units=100, sales_value=2000),
    dict(week=D(2026, 2, 9), retailer_id="R2", sku_id="S1", sales_channel="online", units=25, sales_value=500),
]
TARGETS = [
    dict(retailer_id="R1", month=D(2026, 2, 1), category="", net_sales_target=2000),
    dict(retailer_id="R1", month=D(2026, 2, 1), category="Snacks", net_sales_target=1200),
    dict(retailer_id="R1", month=D(2026, 2, 1), category="Soups", net_sales_target=800),
    dict(retailer_id="R1", month=D(2026, 3, 1), category="", net_sales_target=999),
    # R2 has no all-category row: its category rows are summed
    dict(retailer_id="R2", month=D(2026, 2, 1), category="Snacks", net_sales_target=300),
    dict(retailer_id="R2", month=D(2026, 2, 1), category="Soups", net_sales_target=100),
]
FEBRUARY = Filters(period="custom", start=D(2026, 2, 1), end=D(2026, 2, 28))  # Mondays 2, 9, 16, 23


@pytest.fixture()
def engine(hand_db):
    return hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=SELL_IN, sell_out=SELL_OUT, targets=TARGETS)


def rows(frame):
    return {r["retailer_id"]: r for r in frame.to_dict("records")}


def test_revenue_share_by_hand(engine):
    out = share.revenue_share(engine, FEBRUARY)
    assert list(out["retailer_id"]) == ["R1", "R2", "R3"]  # by net sales, largest first
    r = rows(out)
    # net sales: R1 600 + 400 = 1000; R2 300 - 50 = 250; R3 100; total 1350
    assert r["R1"]["net_sales"] == 1000 and r["R2"]["net_sales"] == 250 and r["R3"]["net_sales"] == 100
    assert r["R1"]["share"] == pytest.approx(1000 / 1350)  # 0.7407
    assert r["R2"]["cum_share"] == pytest.approx(1250 / 1350)  # 0.9259
    assert r["R3"]["cum_share"] == pytest.approx(1.0)
    # A while cumulative <= 80%, B up to 95%, C beyond
    assert [r[k]["abc_class"] for k in ("R1", "R2", "R3")] == ["A", "B", "C"]
    # growth: R1 1000 / 800 - 1 = 0.25; R2 250 / 250 - 1 = 0; R3 has no last year
    assert r["R1"]["yoy_growth"] == pytest.approx(0.25)
    assert r["R2"]["yoy_growth"] == pytest.approx(0.0)
    assert r["R3"]["net_sales_ly"] != r["R3"]["net_sales_ly"]  # NaN
    # sell-out: R1 2000, R2 500 (online counts) -> shares 0.8 and 0.2; R3 none
    assert r["R1"]["sell_out_share"] == pytest.approx(0.8) and r["R2"]["sell_out_share"] == pytest.approx(0.2)
    # targets: R1's all-category row 2000 (all four February weeks in the period); R2 sums 300 + 100
    assert r["R1"]["net_sales_target"] == pytest.approx(2000)
    assert r["R2"]["net_sales_target"] == pytest.approx(400)
    assert r["R1"]["attainment"] == pytest.approx(0.5) and r["R2"]["attainment"] == pytest.approx(0.625)
    assert r["R3"]["attainment"] != r["R3"]["attainment"]  # no target -> empty, not zero


def test_category_filter_uses_category_targets(engine):
    r = rows(share.revenue_share(engine, FEBRUARY.with_(categories=("Snacks",))))
    # Snacks only: R1 600 (LY 800), R2 250 (LY 250); R3 sells no Snacks and drops out
    assert set(r) == {"R1", "R2"}
    assert r["R1"]["share"] == pytest.approx(600 / 850)
    assert r["R1"]["yoy_growth"] == pytest.approx(600 / 800 - 1)
    assert r["R1"]["net_sales_target"] == pytest.approx(1200) and r["R2"]["net_sales_target"] == pytest.approx(300)
    assert r["R2"]["abc_class"] == "C"  # 850 / 850 = 100% cumulative


def test_partial_months_take_their_weeks_share_of_the_target(engine):
    # Mondays Feb 16, Feb 23 and Mar 2: 2 of February's 4 weeks, 1 of March's 5 (2, 9, 16, 23, 30)
    f = Filters(period="custom", start=D(2026, 2, 16), end=D(2026, 3, 2))
    r = rows(share.revenue_share(engine, f))
    assert r["R1"]["net_sales_target"] == pytest.approx(2000 * 2 / 4 + 999 * 1 / 5)  # 1199.8
    assert r["R1"]["net_sales"] == pytest.approx(999)
    assert r["R1"]["attainment"] == pytest.approx(999 / 1199.8)


def test_brand_filter_hides_targets_and_channel_filter_narrows(engine):
    r = rows(share.revenue_share(engine, FEBRUARY.with_(brands=("Crunch",))))
    assert all(v["net_sales_target"] != v["net_sales_target"] for v in r.values())  # NaN: plans have no brand
    r = rows(share.revenue_share(engine, FEBRUARY.with_(channels=("mass",))))
    assert list(r) == ["R2"] and r["R2"]["share"] == pytest.approx(1.0)


def test_portfolio_kpis_compare_like_with_like(engine):
    k = share.portfolio_kpis(engine, FEBRUARY)
    assert k["net_sales"] == pytest.approx(1350)
    assert k["sell_out_value"] == pytest.approx(2500)
    # growth over retailers with both years: (1000 + 250) / (800 + 250) - 1
    assert k["yoy_growth"] == pytest.approx(1250 / 1050 - 1)
    # attainment over retailers with a target: (1000 + 250) / (2000 + 400)
    assert k["attainment"] == pytest.approx(1250 / 2400)


def test_abc_largest_is_always_a():
    assert share.abc_classes([0.9, 0.94, 1.0]) == ["A", "B", "C"]  # the first is A although above 80%
    assert share.abc_classes([0.5, 0.8, 0.95, 0.951]) == ["A", "A", "B", "C"]


def test_without_sell_in_shares_are_of_sell_out_value(hand_db):
    targets = [dict(retailer_id="R1", month=D(2026, 2, 1), category="", net_sales_target=9999,
                    sell_out_target=4000)]
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=SELL_OUT, targets=targets)
    out = share.revenue_share(engine, FEBRUARY)
    r = rows(out)
    assert set(out["basis"]) == {"sell_out"} and out["net_sales"].isna().all()
    # sell-out value: R1 2000, R2 500 -> shares 0.8 and 0.2; cumulative 0.8 (A), 1.0 (C)
    assert r["R1"]["value"] == 2000 and r["R1"]["share"] == pytest.approx(0.8)
    assert r["R2"]["cum_share"] == pytest.approx(1.0) and [r["R1"]["abc_class"], r["R2"]["abc_class"]] == ["A", "C"]
    # the only loaded week is 9 Feb, so February clamps to it: the sell-out target (not the net sales target)
    # of 1 of February's 4 weeks is 4000 / 4 = 1000; attainment 2000 / 1000 = 2
    assert r["R1"]["net_sales_target"] == pytest.approx(1000) and r["R1"]["attainment"] == pytest.approx(2.0)
    assert share.portfolio_kpis(engine, FEBRUARY, out)["basis"] == "sell_out"


def test_a_sell_out_only_retailer_has_no_share_where_the_view_has_sell_in(hand_db):
    four = [*RETAILERS, dict(retailer_id="R4", retailer_name="Four POS", channel="grocery", region="N", kam="A")]
    pos_only = [dict(week=D(2026, 2, 9), retailer_id="R4", sku_id="S1", units=10, sales_value=700)]
    engine = hand_db(retailers=four, products=PRODUCTS, sell_in=SELL_IN, sell_out=SELL_OUT + pos_only)
    r = rows(share.revenue_share(engine, FEBRUARY))
    assert {v["basis"] for v in r.values()} == {"sell_in"}  # one basis per view
    # R4 reports sell-out only: no share of net sales, its sell-out still counted in the sell-out share
    assert r["R4"]["share"] != r["R4"]["share"] and r["R4"]["value"] != r["R4"]["value"]
    assert r["R1"]["share"] == pytest.approx(1000 / 1350)
    assert r["R4"]["sell_out_share"] == pytest.approx(700 / (2000 + 500 + 700))
    # filtered to R4 alone the view has no sell-in: sell-out basis, R4 is 100%
    alone = rows(share.revenue_share(engine, FEBRUARY.with_(retailers=("R4",))))
    assert alone["R4"]["basis"] == "sell_out" and alone["R4"]["share"] == pytest.approx(1.0)


# -- periods past the loaded weeks (issue 10, item 1) ------------------------------------------------------------
def weekly(retailer, sku, weeks, net):
    return [si(w, retailer, sku, net) for w in weeks]


def test_full_year_of_the_current_year_is_year_to_date(hand_db):
    from kam_dash import calendar
    from kam_dash.metrics import account

    # R1 ships 80 a week in every week of 2025 and 100 a week from 5 Jan to 23 Feb 2026 (8 weeks: the latest)
    weeks_2026 = calendar.weeks_between(D(2026, 1, 5), D(2026, 2, 23))
    sell_in = weekly("R1", "S1", calendar.weeks_of_year(2025), 80) + weekly("R1", "S1", weeks_2026, 100)
    targets = [dict(retailer_id="R1", month=D(2026, m, 1), category="", net_sales_target=500) for m in range(1, 13)]
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=sell_in, targets=targets)
    ytd, year = Filters(period="ytd"), Filters(period="year", year=2026)
    for f in (ytd, year):
        r = rows(share.revenue_share(engine, f))["R1"]
        # 8 weeks x 100 = 800 vs the same 8 weeks of 2025 (6 Jan to 24 Feb) 8 x 80 = 640: +25%
        assert r["net_sales"] == 800 and r["net_sales_ly"] == 640 and r["yoy_growth"] == pytest.approx(0.25)
        # January's 4 Mondays and February's 4 are all loaded: 500 + 500 = 1000; 800 / 1000 = 80%
        # (before the clamp: the year's 12 x 500 = 6000 and last year's 52 x 80 = 4160 -> 13.3% and -80.8%)
        assert r["net_sales_target"] == pytest.approx(1000) and r["attainment"] == pytest.approx(0.8)
    # the label names the weeks computed
    assert account.period_label(engine, year) == "Full year 2026, 05 Jan 2026 to 23 Feb 2026"


# -- growth compares only weeks that have a last year (53-Monday years) -------------------------------------------
@pytest.fixture()
def three_years(hand_db):
    from kam_dash import calendar

    # 10 a week in 2023; 12 a week in 2024 except its first Monday (1000: nobody's last year) and its 53rd Monday
    # 30 Dec (500: no last year); 15 a week in 2025
    w2024 = calendar.weeks_of_year(2024)
    sell_in = (weekly("R1", "S1", calendar.weeks_of_year(2023), 10) + [si(w2024[0], "R1", "S1", 1000)]
               + weekly("R1", "S1", w2024[1:-1], 12) + [si(w2024[-1], "R1", "S1", 500)]
               + weekly("R1", "S1", calendar.weeks_of_year(2025), 15))
    return hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=sell_in)


def test_growth_2024_vs_2023_leaves_out_the_53rd_monday(three_years):
    r = rows(share.revenue_share(three_years, Filters(period="year", year=2024)))["R1"]
    # net sales: 1000 + 51 x 12 + 500 = 2112 (every week); growth: the 52 weeks with a last year (all but
    # 30 Dec) 1000 + 51 x 12 = 1612 over 2023's 52 x 10 = 520
    assert r["net_sales"] == pytest.approx(2112) and r["net_sales_ly"] == pytest.approx(520)
    assert r["yoy_growth"] == pytest.approx(1612 / 520 - 1)  # 2.1 (2112 / 520 - 1 = 3.06 counted 30 Dec too)


def test_growth_2025_vs_2024_starts_at_2024s_second_monday(three_years):
    r = rows(share.revenue_share(three_years, Filters(period="year", year=2025)))["R1"]
    # 2025: 52 x 15 = 780 vs 8 Jan to 30 Dec 2024: 51 x 12 + 500 = 1112 (never 1 Jan 2024's 1000)
    assert r["net_sales_ly"] == pytest.approx(1112) and r["yoy_growth"] == pytest.approx(780 / 1112 - 1)


def test_growth_across_the_turn_of_a_53_week_year(three_years):
    # Mondays 16, 23, 30 Dec 2024 and 6, 13 Jan 2025; 30 Dec has no last year; the last-year range
    # 18 Dec 2023 .. 13 Jan 2024 holds 1 Jan 2024, which is nobody's last year
    f = Filters(period="custom", start=D(2024, 12, 16), end=D(2025, 1, 13))
    r = rows(share.revenue_share(three_years, f))["R1"]
    assert r["net_sales"] == pytest.approx(12 + 12 + 500 + 15 + 15)  # 554
    # comparable 12 + 12 + 15 + 15 = 54 vs 18 and 25 Dec 2023 (10 + 10) and 8 and 15 Jan 2024 (12 + 12) = 44
    assert r["net_sales_ly"] == pytest.approx(44) and r["yoy_growth"] == pytest.approx(54 / 44 - 1)


# -- sell-out growth: own latest week, reported weeks only, discontinued SKUs kept ---------------------------------
def so(week, r, s, value):
    return dict(week=week, retailer_id=r, sku_id=s, units=value / 10, sales_value=value)


SELL_OUT_GROWTH = [
    # R1's POS lags: its latest week is 16 Feb 2026. S2 is discontinued (sold last year only).
    so(D(2026, 2, 2), "R1", "S1", 100), so(D(2026, 2, 9), "R1", "S1", 110), so(D(2026, 2, 16), "R1", "S1", 120),
    so(D(2025, 2, 3), "R1", "S1", 80), so(D(2025, 2, 3), "R1", "S2", 20), so(D(2025, 2, 10), "R1", "S1", 90),
    so(D(2025, 2, 17), "R1", "S1", 100), so(D(2025, 2, 17), "R1", "S2", 10), so(D(2025, 2, 24), "R1", "S1", 999),
    # R2 did not report 9 Feb 2026
    so(D(2026, 2, 2), "R2", "S1", 50), so(D(2026, 2, 16), "R2", "S1", 70), so(D(2026, 2, 23), "R2", "S1", 80),
    so(D(2025, 2, 3), "R2", "S1", 40), so(D(2025, 2, 10), "R2", "S1", 60), so(D(2025, 2, 17), "R2", "S1", 50),
    so(D(2025, 2, 24), "R2", "S1", 40),
]


def test_sell_out_growth_compares_weeks_reported_both_years(hand_db):
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=[si(D(2026, 3, 2), "R3", "S1", 1)],
                     sell_out=SELL_OUT_GROWTH)
    out = share.revenue_share(engine, FEBRUARY)  # Mondays 2, 9, 16, 23 Feb 2026
    r = rows(out)
    # R1: 2, 9, 16 Feb (23 Feb not arrived): 330 vs 3 Feb (80 + 20: discontinued S2 kept), 10 Feb 90,
    # 17 Feb (100 + 10) = 300 -> +10%; never 24 Feb 2025's 999
    assert r["R1"]["sell_out_value"] == 330 and r["R1"]["sell_out_value_ly"] == 300
    assert r["R1"]["sell_out_growth"] == pytest.approx(0.10)
    # R2: 2, 16, 23 Feb (9 Feb unreported): 200 vs 3, 17, 24 Feb 2025: 40 + 50 + 40 = 130
    assert r["R2"]["sell_out_value"] == 200 and r["R2"]["sell_out_value_ly"] == 130
    assert r["R2"]["sell_out_growth"] == pytest.approx(200 / 130 - 1)
    # one unreported week each: R1's 23 Feb (late), R2's 9 Feb (a gap)
    assert r["R1"]["unreported_weeks"] == 1 and r["R2"]["unreported_weeks"] == 1
    k = share.portfolio_kpis(engine, FEBRUARY, out)
    assert k["sell_out_growth"] == pytest.approx((330 + 200) / (300 + 130) - 1) and k["unreported_weeks"] == 2


def test_empty_database_gives_an_empty_table(empty_db):
    from kam_dash.engine import DuckDBEngine

    out = share.export_revenue_share(DuckDBEngine(empty_db), Filters())
    assert out.empty and list(out.columns) == share.SHARE_COLUMNS
