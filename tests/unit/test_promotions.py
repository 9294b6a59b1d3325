"""Promotion lift on hand-built events: every expected number is worked out by hand in the test."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kam_dash import export
from kam_dash.filters import Filters
from kam_dash.metrics import promotions as promo

MONDAY = dt.date(2024, 1, 1)  # week 0; ISO week 1 of 2024
YEAR_2024 = Filters(period="custom", start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31))
RETAILERS = [{"retailer_id": "R1", "retailer_name": "Corner Shop", "channel": "grocery", "region": "North",
              "kam": "Avery Chen"},
             {"retailer_id": "R2", "retailer_name": "Budget Mart", "channel": "discount", "region": "South",
              "kam": "Blake Morgan"}]
PRODUCTS = [{"sku_id": "S1", "sku_name": "Choc Bar", "brand": "Cocoa", "category": "Snacks", "unit_cost": 1.2,
             "list_price": 3.0},
            {"sku_id": "S2", "sku_name": "Crisps", "brand": "Crunch", "category": "Snacks", "unit_cost": 0.5,
             "list_price": 1.5}]
# Retailer R1 x S1, week by week. Pre-weeks 0-7 sum to 800 (mean 100); the event weeks 8-9 sell 150 and 170;
# the dip weeks 10-11 sell 80 and 90; the 8 weeks after them (12-19) sell 120 each.
SERIES = [100, 110, 90, 100, 105, 95, 100, 100, 150, 170, 80, 90] + [120] * 8
SELL_IN = [{"week": MONDAY + dt.timedelta(weeks=i), "retailer_id": "R1", "sku_id": "S1", "units": 100.0,
            "gross_sales": 300.0, "net_sales": 200.0} for i in range(8)]  # net price 1600 / 800 = 2.0


def week(i: int) -> dt.date:
    return MONDAY + dt.timedelta(weeks=i)


def sell_out(units: list[float], sku: str = "S1", retailer: str = "R1", first: int = 0) -> list[dict]:
    rows = []
    for i, u in enumerate(units):
        if u:
            rows.append({"week": week(first + i), "retailer_id": retailer, "sku_id": sku, "units": float(u),
                         "sales_value": 3.0 * u})
    return rows


def promotion(pid: str, start: dt.date, end: dt.date, **kw) -> dict:
    row = {"promo_id": pid, "retailer_id": "R1", "sku_id": "S1", "start_date": start, "end_date": end,
           "mechanic": "tpr", "discount_pct": 20.0, "trade_spend": 50.0, "planned_incremental_units": 100.0}
    row.update(kw)
    return row


P1 = promotion("P1", week(8), week(9) + dt.timedelta(days=6))  # Monday of week 8 to Sunday of week 9


def lift(engine, method="pre_period", filters=YEAR_2024) -> pd.DataFrame:
    return export.compute("promo-lift", engine, filters, method=method).set_index("promo_id")


def base_db(hand_db, series=SERIES, promotions=(P1,), products=PRODUCTS, **extra):
    tables = dict(retailers=RETAILERS, products=products, sell_out=sell_out(series), sell_in=SELL_IN,
                  promotions=list(promotions))
    tables.update(extra)
    return hand_db(**tables)


def test_pre_period_event_by_hand(hand_db):
    # Store and online rows of a week add up: week 8 sells 140 in store and 10 online.
    rows = sell_out(SERIES)
    rows[8]["units"] = 140.0
    rows.append({"week": week(8), "retailer_id": "R1", "sku_id": "S1", "sales_channel": "online", "units": 10.0,
                 "sales_value": 30.0})
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=rows, sell_in=SELL_IN, promotions=[P1])
    r = lift(engine).loc["P1"]
    assert r["clean_weeks"] == 8
    assert r["start_week"] == week(8) and r["end_week"] == week(9)
    assert r["baseline_units"] == pytest.approx(200)  # mean 100 over 2 event weeks
    assert r["actual_units"] == pytest.approx(320)  # 150 + 170
    assert r["incremental_units"] == pytest.approx(120)
    assert r["lift_pct"] == pytest.approx(0.6)  # 120 / 200
    assert r["post_dip_units"] == pytest.approx(30)  # 2 x 100 - (80 + 90)
    assert r["net_incremental_units"] == pytest.approx(90)
    assert r["net_price"] == pytest.approx(2.0)
    assert r["incremental_gross_profit"] == pytest.approx(72)  # 90 x (2.0 - 1.2)
    assert r["roi"] == pytest.approx(0.44)  # (72 - 50) / 50
    assert r["cost_per_incremental_unit"] == pytest.approx(50 / 90)
    assert r["planned_incremental_units"] == 100 and r["method"] == "pre_period"
    assert r["flag"] is None


def test_pre_post_by_hand(hand_db):
    r = lift(base_db(hand_db), "pre_post").loc["P1"]
    # 8 clean weeks before (800) and weeks 12-19 after the 2 dip weeks (8 x 120 = 960): mean 1760 / 16 = 110
    assert r["clean_weeks"] == 16
    assert r["baseline_units"] == pytest.approx(220)
    assert r["incremental_units"] == pytest.approx(100)
    assert r["lift_pct"] == pytest.approx(100 / 220)
    assert r["post_dip_units"] == pytest.approx(50)  # 220 - 170
    assert r["net_incremental_units"] == pytest.approx(50)
    assert r["roi"] == pytest.approx(-0.2)  # (50 x 0.8 - 50) / 50


def test_seasonal_pre_by_hand(hand_db):
    # One complete ISO year (2024: 52 weeks from 1 Jan). S1 is promoted in 2024, so the category index reads the
    # unpromoted line S2 alone (S2 is over a quarter of the category's units): it sells 900 a week, 1080 in the
    # event weeks and 990 in the dip weeks, so the index there is 1.2 and 1.1 times the pre-weeks'.
    s2 = [900.0] * 52
    s2[8] = s2[9] = 1080.0
    s2[10] = s2[11] = 990.0
    s1 = SERIES + [100.0] * 32
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=sell_out(s1) + sell_out(s2, sku="S2"),
                     sell_in=SELL_IN, promotions=[P1])
    r = lift(engine, "seasonal_pre").loc["P1"]
    assert r["clean_weeks"] == 8
    assert r["baseline_units"] == pytest.approx(240)  # 100 x 1.2 in each of 2 weeks
    assert r["lift_pct"] == pytest.approx(80 / 240)  # (320 - 240) / 240
    assert r["post_dip_units"] == pytest.approx(50)  # 100 x 1.1 x 2 - 170
    # the same data without a season: pre_period knows nothing of the category
    assert lift(engine).loc["P1", "baseline_units"] == pytest.approx(200)


def test_the_category_index_leaves_out_the_promoted_line(hand_db):
    # The category is S1 (promoted in 2024: SERIES, then 100 a week) plus S2, 900 every week. With S1 in it the
    # index would rise in the event weeks by S1's own lift: category 900 + 150 = 1050 and 900 + 170 = 1070 against
    # a pre-week mean of 900 + 100 = 1000, and the baseline would swallow part of the lift (100 x 1.05 + 100 x 1.07
    # = 212). Read from S2 alone the category is flat: baseline 2 x 100 = 200, lift (320 - 200) / 200 = 0.6.
    s1 = SERIES + [100.0] * 32
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=sell_out(s1) + sell_out([900.0] * 52, sku="S2"),
                     sell_in=SELL_IN, promotions=[P1])
    r = lift(engine, "seasonal_pre").loc["P1"]
    assert r["baseline_units"] == pytest.approx(200) and r["lift_pct"] == pytest.approx(0.6)
    assert not r["flag"] or "seasonal index" not in r["flag"]


def test_a_category_of_promoted_lines_only_falls_back_to_every_line(hand_db):
    # S1 is the only line of its category with sales (S2 sells nothing) and it is promoted in 2024: the
    # unpromoted lines hold 0% of the units (< 25%), so the index reads every line, P1's own weeks included.
    # The index then follows S1 itself, so baseline of a week = pre-mean 100 x units(week) / mean pre-units 100:
    # 150 + 170 = 320 = the actual units, lift 0 (what a promoted-only category can tell).
    s1 = SERIES + [100.0] * 32
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=sell_out(s1), sell_in=SELL_IN, promotions=[P1])
    r = lift(engine, "seasonal_pre").loc["P1"]
    assert r["baseline_units"] == pytest.approx(320) and r["lift_pct"] == pytest.approx(0)
    assert not r["flag"] or "no seasonal index" not in r["flag"]


def test_seasonal_pre_without_a_complete_year_keeps_the_plain_pre_period_and_says_so(hand_db):
    # 20 weeks of data: no seasonal index. seasonal_pre (the default) then reads the plain pre-period mean:
    # baseline 2 x 100 = 200, lift (320 - 200) / 200 = 0.6, and flags that it did not rescale.
    r = lift(base_db(hand_db), "seasonal_pre").loc["P1"]
    assert r["baseline_units"] == pytest.approx(200) and r["lift_pct"] == pytest.approx(0.6)
    assert "no seasonal index for the category" in r["flag"] and "not rescaled" in r["flag"]


def two_years(ly_promos=()):
    # Weeks from Monday 2 Jan 2023; the event is in week 60 (26 Feb 2024), last year's weeks are 8-11.
    start = dt.date(2023, 1, 2)
    units = [50.0] * 8 + [60.0, 70.0, 55.0, 55.0] + [50.0] * 40  # 2023
    units += [100.0] * 8 + [150.0, 170.0, 80.0, 90.0] + [100.0] * 8  # 2024
    rows = [{"week": start + dt.timedelta(weeks=i), "retailer_id": "R1", "sku_id": "S1", "units": u,
             "sales_value": 3 * u} for i, u in enumerate(units)]
    return dict(retailers=RETAILERS, products=PRODUCTS, sell_out=rows, sell_in=SELL_IN,
                promotions=[P1, *ly_promos])


def test_last_year_by_hand(hand_db):
    r = lift(hand_db(**two_years()), "last_year").loc["P1"]
    # this year's 8 pre-weeks average 100, last year's 50: ratio 2. Last year's event weeks sold 60 and 70.
    assert r["clean_weeks"] == 8 + 8 + 2
    assert r["baseline_units"] == pytest.approx(260)  # (60 + 70) x 2
    assert r["lift_pct"] == pytest.approx(60 / 260)  # (320 - 260) / 260
    assert r["post_dip_units"] == pytest.approx(50)  # (55 + 55) x 2 - (80 + 90)


def test_last_year_week_inside_last_years_promotion(hand_db):
    # A promotion last year in the second event week (week 9 of 2023) and so its dip (weeks 10-11):
    # those weeks take the mean of the clean last-year event weeks (60).
    ly = promotion("P0", dt.date(2023, 3, 6), dt.date(2023, 3, 12))
    r = lift(hand_db(**two_years([ly])), "last_year").loc["P1"]
    assert r["clean_weeks"] == 8 + 8 + 1
    assert r["baseline_units"] == pytest.approx(240)  # (60 + 60) x 2
    assert r["post_dip_units"] == pytest.approx(70)  # (60 + 60) x 2 - 170
    # last year's promotion is outside the period: not in the table
    assert list(lift(hand_db(**two_years([ly])), "last_year").index) == ["P1"]


def test_last_year_without_last_year(hand_db):
    r = lift(base_db(hand_db), "last_year").loc["P1"]
    assert np.isnan(r["lift_pct"])
    assert r["flag"] == ("low baseline coverage: 8 clean weeks before (needs 4), 0 before the same weeks last "
                         "year (needs 4), 0 clean last-year event weeks (needs 1)")


def test_overlapping_promotions(hand_db):
    # P2 (a display) runs in P1's second week. Each counts its own weeks; the flag says the lift is shared.
    p2 = promotion("P2", week(9), week(9) + dt.timedelta(days=6), mechanic="display", discount_pct=0.0)
    t = lift(base_db(hand_db, promotions=(P1, p2)))
    assert t.loc["P1", "baseline_units"] == pytest.approx(200)
    assert t.loc["P1", "incremental_units"] == pytest.approx(120)
    assert "overlaps P2 (lift shared)" in t.loc["P1", "flag"]
    # P2's pre-weeks are 1-8, and week 8 is inside P1: 7 clean weeks, 700 / 7 = 100
    assert t.loc["P2", "clean_weeks"] == 7
    assert t.loc["P2", "baseline_units"] == pytest.approx(100)
    assert t.loc["P2", "lift_pct"] == pytest.approx(0.7)  # (170 - 100) / 100
    assert "overlaps P1 (lift shared)" in t.loc["P2", "flag"]


def test_an_earlier_promotion_and_its_dip_leave_the_baseline(hand_db):
    # P0 in week 2: week 2 is inside it and weeks 3-4 are its dip, so P1 keeps weeks 0, 1, 5, 6, 7.
    p0 = promotion("P0", week(2), week(2) + dt.timedelta(days=6))
    t = lift(base_db(hand_db, promotions=(p0, P1)))
    assert t.loc["P1", "clean_weeks"] == 5
    assert t.loc["P1", "baseline_units"] == pytest.approx(202)  # (100 + 110 + 95 + 100 + 100) / 5 x 2
    assert t.loc["P1", "lift_pct"] == pytest.approx(118 / 202)


def test_event_at_the_very_start_of_the_data(hand_db):
    # The event is in weeks 0-1: no week before it is loaded.
    series = [150, 150, 90, 90] + [100] * 16
    early = promotion("P1", week(0), week(1) + dt.timedelta(days=6))
    t = lift(base_db(hand_db, series=series, promotions=(early,)))
    r = t.loc["P1"]
    assert r["clean_weeks"] == 0 and np.isnan(r["baseline_units"]) and np.isnan(r["lift_pct"])
    assert r["actual_units"] == pytest.approx(300)  # a fact, even without a baseline
    assert r["flag"] == "low baseline coverage: 0 clean weeks before (needs 4)"
    # pre_post still reads weeks 4-11 after the event: mean 100
    r = lift(base_db(hand_db, series=series, promotions=(early,)), "pre_post").loc["P1"]
    assert r["clean_weeks"] == 8
    assert r["lift_pct"] == pytest.approx(0.5)  # (300 - 200) / 200
    assert r["post_dip_units"] == pytest.approx(20)  # 200 - 180


def test_weeks_before_the_lines_first_sale_are_not_clean(hand_db):
    # S1 starts selling in week 5 (S2 has sold since week 0): only weeks 5-7 can stand for normal sales.
    series = [0] * 5 + SERIES[5:]
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS,
                     sell_out=sell_out(series) + sell_out([10] * 20, sku="S2"), sell_in=SELL_IN, promotions=[P1])
    r = lift(engine).loc["P1"]
    assert r["clean_weeks"] == 3 and np.isnan(r["lift_pct"])
    assert r["flag"].startswith("low baseline coverage: 3 clean weeks before (needs 4)")


def inventory(zero_weeks: set[int]) -> list[dict]:
    return [{"week": week(i), "retailer_id": "R1", "sku_id": "S1", "on_hand_units": 0.0 if i in zero_weeks else 500.0}
            for i in range(20)]


def test_stock_out_week_inside_the_baseline(hand_db):
    # Week 3 ran out of stock and sold only 40: it is left out, and the baseline stays 100 a week.
    series = list(SERIES)
    series[3] = 40
    r = lift(base_db(hand_db, series=series, inventory=inventory({3}))).loc["P1"]
    assert r["clean_weeks"] == 7
    assert r["baseline_units"] == pytest.approx(200)  # (800 - 100) / 7 x 2; with week 3 it would be 185
    assert r["flag"] is None


def test_stock_outs_in_and_after_the_event(hand_db):
    r = lift(base_db(hand_db, inventory=inventory({9, 10}))).loc["P1"]
    assert r["lift_pct"] == pytest.approx(0.6)  # measured, but flagged
    assert np.isnan(r["post_dip_units"]) and np.isnan(r["net_incremental_units"]) and np.isnan(r["roi"])
    assert r["flag"] == ("stock-out during the event: lift understated; stock-out in the 2 weeks after: no dip")


def test_one_day_promotion(hand_db):
    # Wednesday 28 February only: it touches week 8 alone. Its dip weeks are 9 and 10 (95 and 80).
    series = list(SERIES)
    series[9] = 95
    one_day = promotion("P1", dt.date(2024, 2, 28), dt.date(2024, 2, 28))
    r = lift(base_db(hand_db, series=series, promotions=(one_day,))).loc["P1"]
    assert r["start_week"] == r["end_week"] == week(8)
    assert r["baseline_units"] == pytest.approx(100)
    assert r["lift_pct"] == pytest.approx(0.5)  # (150 - 100) / 100
    assert r["post_dip_units"] == pytest.approx(25)  # 200 - (95 + 80)
    assert r["net_incremental_units"] == pytest.approx(25)


def test_zero_trade_spend(hand_db):
    free = promotion("P1", week(8), week(9) + dt.timedelta(days=6), trade_spend=0.0)
    r = lift(base_db(hand_db, promotions=(free,))).loc["P1"]
    assert r["incremental_gross_profit"] == pytest.approx(72)  # profit does not need the spend
    assert np.isnan(r["roi"]) and np.isnan(r["cost_per_incremental_unit"])
    assert r["flag"] == "no trade spend recorded: no ROI"
    missing = promotion("P1", week(8), week(9) + dt.timedelta(days=6), trade_spend=None)
    r = lift(base_db(hand_db, promotions=(missing,))).loc["P1"]
    assert np.isnan(r["roi"]) and r["flag"] == "trade spend missing: no ROI"


def test_missing_unit_cost(hand_db):
    products = [dict(PRODUCTS[0], unit_cost=None), PRODUCTS[1]]
    r = lift(base_db(hand_db, products=products)).loc["P1"]
    assert np.isnan(r["unit_cost"]) and np.isnan(r["incremental_gross_profit"]) and np.isnan(r["roi"])
    assert r["cost_per_incremental_unit"] == pytest.approx(50 / 90)  # the spend per unit needs no cost
    assert r["flag"] == "unit cost missing: no profit or ROI"


def test_no_sell_in_before_the_event_means_no_net_price(hand_db):
    late_sell_in = [dict(row, week=week(12 + i)) for i, row in enumerate(SELL_IN)]
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=sell_out(SERIES), sell_in=late_sell_in,
                     promotions=[P1])
    r = lift(engine).loc["P1"]
    assert np.isnan(r["net_price"]) and np.isnan(r["roi"])
    assert r["flag"] == "no sell-in in the 13 weeks before: no net price"


def test_event_not_over_yet(hand_db):
    # The data ends in week 8, during the event.
    r = lift(base_db(hand_db, series=SERIES[:9])).loc["P1"]
    assert np.isnan(r["lift_pct"]) and np.isnan(r["actual_units"])
    assert r["flag"] == "not over in the loaded data"


def test_events_in_view_follow_the_period_and_filters(hand_db):
    engine = base_db(hand_db)
    march = Filters(period="custom", start=dt.date(2024, 3, 4), end=dt.date(2024, 3, 31))  # week 9 is in
    assert list(lift(engine, filters=march).index) == ["P1"]
    april = Filters(period="custom", start=dt.date(2024, 3, 11), end=dt.date(2024, 4, 30))
    assert lift(engine, filters=april).empty
    other = YEAR_2024.with_(retailers=("R2",))  # a retailer without promotions
    assert lift(engine, filters=other).empty
    assert lift(engine, filters=YEAR_2024.with_(categories=("Snacks",))).index.tolist() == ["P1"]


def test_export_contract(hand_db):
    engine = base_db(hand_db)
    for method in promo.METHODS:
        frame = export.compute("promo-lift", engine, YEAR_2024, method=method)
        assert list(frame.columns) == promo.EXPORT_COLUMNS and (frame["method"] == method).all()
    with pytest.raises(ValueError, match="method must be one of"):
        export.compute("promo-lift", engine, YEAR_2024, method="magic")
    examples = export.registry()["promo-lift"].examples
    assert {e.get("method", promo.DEFAULT_METHOD) for e in examples} == set(promo.METHODS)


def test_empty_database(hand_db):
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS)
    assert export.compute("promo-lift", engine, YEAR_2024).empty
    assert promo.page_data(engine, YEAR_2024) is None


# -- the page's helpers -----------------------------------------------------------------------
def test_page_data_carries_every_methods_baseline(hand_db):
    page = promo.page_data(base_db(hand_db, series=SERIES), YEAR_2024, method="pre_post")
    assert page.method == "pre_post" and page.events.loc[0, "lift_pct"] == pytest.approx(100 / 220)
    weeks, methods = promo.event_detail(page, "P1")
    assert list(weeks["week"]) == [pd.Timestamp(week(i)) for i in range(0, 20)]  # weeks 0-19 are loaded
    event = weeks[weeks["role"] == "event"]
    assert event["baseline_pre_period"].tolist() == [100, 100]
    assert event["baseline_pre_post"].tolist() == [110, 110]
    assert weeks.loc[weeks["role"] == "pre", "baseline_pre_period"].isna().all()
    assert set(methods["method"]) == set(promo.METHODS)
    assert page.kpis["events"] == 1 and page.kpis["paid_back_share"] == 0.0  # ROI -0.2 with pre_post


def test_roi_summary_by_hand():
    table = pd.DataFrame({
        "promo_id": ["A", "B", "C", "D"], "mechanic": ["tpr", "tpr", "display", "display"],
        "trade_spend": [100.0, 100.0, 50.0, 80.0], "incremental_gross_profit": [150.0, 70.0, 20.0, np.nan],
        "roi": [0.5, -0.3, -0.6, np.nan]})
    out = promo.roi_summary(table, "mechanic").set_index("group")
    # tpr: (220 - 200) / 200 = 0.1, one of two paid back; display: only C has an ROI: (20 - 50) / 50
    assert out.loc["tpr", "roi"] == pytest.approx(0.1) and out.loc["tpr", "paid_back_share"] == 0.5
    assert out.loc["display", "roi"] == pytest.approx(-0.6) and out.loc["display", "events"] == 2
    assert out.loc["display", "events_with_roi"] == 1
    assert list(out.index) == ["tpr", "display"]  # best ROI first


def test_lift_curves_recover_a_line_and_skip_thin_mechanics():
    # the fifth tpr event stocked out (lift -100%): it stays out of the fit
    table = pd.DataFrame({"mechanic": ["tpr"] * 5 + ["bogo"] * 3, "discount_pct": [10, 20, 30, 40, 20, 50, 50, 50],
                          "lift_pct": [0.25, 0.45, 0.65, 0.85, -1.0, 1.0, 0.9, 1.1],
                          "flag": [None] * 4 + [promo.STOCKOUT_FLAG, None, None, None]})
    curves = promo.lift_curves(table)
    assert set(curves["mechanic"]) == {"tpr"}  # bogo has a single depth
    tpr = curves[curves["mechanic"] == "tpr"]
    np.testing.assert_allclose(tpr["lift_pct"], 0.05 + 0.02 * tpr["discount_pct"])  # lift = 0.05 + 0.02 x depth


def test_pick_event():
    events = pd.DataFrame({"promo_id": ["P1", "P2", "P3"], "lift_pct": [0.1, 0.2, np.nan],
                           "start_date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-05-01"])})
    assert promo.pick_event(events, "P1") == ("P1", None)
    assert promo.pick_event(events, None) == ("P2", None)  # the latest with a lift
    chosen, warning = promo.pick_event(events, "P9'; DROP TABLE x")
    assert chosen == "P2" and "'P9DROPTABLEx'" in warning and "'; DROP" not in warning
    assert promo.pick_event(events.iloc[:0], "P1") == (None, None)


def test_filter_events():
    events = pd.DataFrame({"promo_id": ["A", "B", "C"], "mechanic": ["tpr", "bogo", "tpr"],
                           "roi": [0.2, -0.1, np.nan], "lift_pct": [0.3, 0.1, np.nan],
                           "flag": [None, "x", "y"]})
    assert list(promo.filter_events(events, ["tpr"])["promo_id"]) == ["A", "C"]
    assert list(promo.filter_events(events, show="paid")["promo_id"]) == ["A"]
    assert list(promo.filter_events(events, show="not_paid")["promo_id"]) == ["B"]
    assert list(promo.filter_events(events, show="no_lift")["promo_id"]) == ["C"]
    assert list(promo.filter_events(events, show="flagged")["promo_id"]) == ["B", "C"]


def test_the_biggest_events_first_and_what_a_picker_offers():
    events = pd.DataFrame({"promo_id": ["A", "B", "C", "D", "E"],
                           "retailer_name": ["Tesco", "Aldi", "Tesco", "Tesco", "Aldi"],
                           "sku_name": ["Cola 1l", "Cola 1l", "Chips", "Chips", "Water"],
                           "mechanic": ["tpr", "bogo", "tpr", "display", "tpr"],
                           "trade_spend": [100.0, 500.0, np.nan, 100.0, 300.0],
                           "net_incremental_units": [10.0, 5.0, 99.0, -40.0, np.nan],
                           "lift_pct": [0.1, 0.2, 0.3, np.nan, 0.5], "discount_pct": [10.0, 20.0, 30.0, 40.0, np.nan]})
    # spend 500 (B), 300 (E), then the two of 100 by the size of their net units (D: 40 > A: 10), no spend last
    assert list(promo.biggest_first(events)["promo_id"]) == ["B", "E", "D", "A", "C"]
    offered, matched = promo.event_choices(events, limit=2)
    assert list(offered["promo_id"]) == ["B", "E"] and matched == 5
    offered, matched = promo.event_choices(events, retailer="Tesco")
    assert list(offered["promo_id"]) == ["D", "A", "C"] and matched == 3
    offered, matched = promo.event_choices(events, retailer="Tesco", search="  chIPS ")
    assert list(offered["promo_id"]) == ["D", "C"] and matched == 2
    assert list(promo.event_choices(events, search="WATER")[0]["promo_id"]) == ["E"]  # a SKU
    assert list(promo.event_choices(events, search="bogo")[0]["promo_id"]) == ["B"]  # a mechanic
    assert promo.event_choices(events, search="nothing like it")[1] == 0
    # the chart: events with a lift and a discount (A, B, C); past the limit the biggest of them
    points, measured = promo.scatter_points(events)
    assert sorted(points["promo_id"]) == ["A", "B", "C"] and measured == 3
    points, measured = promo.scatter_points(events, limit=2)
    assert list(points["promo_id"]) == ["B", "A"] and measured == 3


def test_weekly_seasonal_index_by_hand():
    # ISO year 2024 complete (52 weeks): R1 sells 2 in ISO week 10, 1 elsewhere -> mean 53/52.
    weeks = pd.date_range("2024-01-01", periods=52, freq="7D")
    units = pd.DataFrame({"category": "Snacks", "retailer_id": "R1", "week": weeks,
                          "units": [2.0 if i == 9 else 1.0 for i in range(52)]})
    reported = units[["retailer_id", "week"]]
    index = promo.weekly_seasonal_index(units, reported, dt.date(2024, 1, 1), dt.date(2024, 12, 23))
    index = index.set_index("iso_week")
    assert index.loc[10, "index"] == pytest.approx(2 / (53 / 52))
    assert index.loc[11, "index"] == pytest.approx(1 / (53 / 52))
    # without a complete year there is no index
    assert promo.weekly_seasonal_index(units.iloc[:40], reported.iloc[:40], dt.date(2024, 1, 1),
                                       dt.date(2024, 9, 30)).empty
    # R2 sells 10 every week but its POS for ISO week 11 never arrived: 2024 reads R1 alone (the only retailer
    # that reported every week), so the index is unchanged. Read as a zero, R2's missing week would have
    # pulled week 11 down to (1 + 0) / ((53 + 510) / 52) = 0.09.
    r2 = pd.DataFrame({"category": "Snacks", "retailer_id": "R2", "week": weeks.delete(10), "units": 10.0})
    both = pd.concat([units, r2], ignore_index=True)
    index = promo.weekly_seasonal_index(both, both[["retailer_id", "week"]], dt.date(2024, 1, 1),
                                        dt.date(2024, 12, 23)).set_index("iso_week")
    assert index.loc[11, "index"] == pytest.approx(1 / (53 / 52))


# -- unreported weeks, sell-out lag, 53-week years (issue 10) -------------------------------------------------
def test_unreported_weeks_after_a_promotion_are_no_dip(hand_db):
    # R1 reported no sell-out at all (no row for any SKU) in weeks 10 and 11, the 2 weeks after P1. Read as
    # zeros they would be a dip of 2 full weeks of baseline: 2 x 100 - 0 = 200. They are unknown instead: no
    # dip, a flag, and 2 unreported weeks counted. The lift does not depend on them: (320 - 200) / 200 = 0.6.
    series = SERIES[:10] + [0, 0] + SERIES[12:]
    r = lift(base_db(hand_db, series=series)).loc["P1"]
    assert r["lift_pct"] == pytest.approx(0.6)
    assert np.isnan(r["post_dip_units"]) and np.isnan(r["net_incremental_units"])
    assert "unreported week in the 2 weeks after" in r["flag"]
    assert r["unreported_weeks"] == 2


def test_inside_a_reported_week_a_missing_row_still_sold_zero(hand_db):
    # Same weeks 10 and 11 without an S1 row, but R1 reported S2 (5 units) in them: the weeks were reported,
    # so S1 sold 0 there and the dip is a real 2 x 100 - (0 + 0) = 200.
    series = SERIES[:10] + [0, 0] + SERIES[12:]
    engine = base_db(hand_db, series=series, sell_out=sell_out(series) + sell_out([5, 5], sku="S2", first=10))
    r = lift(engine).loc["P1"]
    assert r["post_dip_units"] == pytest.approx(200) and r["unreported_weeks"] == 0


def test_an_unreported_pre_week_is_not_a_clean_week(hand_db):
    # Week 1 (110 units) never arrived. Clean pre-weeks: the other 7, summing 800 - 110 = 690 -> mean 690/7;
    # baseline 2 x 690/7 = 197.14; lift (320 - 1380/7) / (1380/7) = 0.6232. Read as a 0 it would have been a
    # clean week: mean 690/8 = 86.25 and a lift of 0.855.
    series = [SERIES[0], 0] + SERIES[2:]
    r = lift(base_db(hand_db, series=series)).loc["P1"]
    assert r["clean_weeks"] == 7 and r["unreported_weeks"] == 1
    assert r["baseline_units"] == pytest.approx(2 * 690 / 7)
    assert r["lift_pct"] == pytest.approx((320 - 1380 / 7) / (1380 / 7))


def test_an_event_past_its_retailers_latest_sell_out_week_is_unfinished(hand_db):
    # R1's POS lags: its sell-out stops at week 8 while R2's runs to week 19 (the latest week loaded). P1's second
    # week (9) is past R1's latest week: read as 0 it would give a lift of (150 + 0 - 200) / 200 = -0.25.
    # It is not measurable yet: no actual units, no lift, and the flag says why.
    other = sell_out([50] * 20, retailer="R2")
    engine = base_db(hand_db, series=SERIES[:9], sell_out=sell_out(SERIES[:9]) + other)
    r = lift(engine).loc["P1"]
    assert np.isnan(r["actual_units"]) and np.isnan(r["lift_pct"])
    assert "unfinished: this retailer's sell-out runs through 26 Feb 2024" in r["flag"]  # week 8 = 26 Feb 2024
    # With R1 through week 10 the event is over but week 11 of the dip is not reported yet: lift, no dip.
    engine = base_db(hand_db, series=SERIES[:11], sell_out=sell_out(SERIES[:11]) + other)
    r = lift(engine).loc["P1"]
    assert r["lift_pct"] == pytest.approx(0.6) and np.isnan(r["post_dip_units"])
    assert "not reported yet by this retailer" in r["flag"]


def test_last_year_skips_the_53rd_monday(hand_db):
    # R1 x S1 sells 100 every week from 30 Oct 2023 to 24 Feb 2025, except 500 in the week of 1 Jan 2024.
    # P9 runs the week of 6 Jan 2025 and sells 150. Pre-weeks: 11 Nov .. 30 Dec 2024, all 100 -> mean 100.
    # Their last years: 13 Nov .. 25 Dec 2023 (7 weeks of 100); 30 Dec 2024 is the 53rd Monday of 2024 and
    # has none (364 days back is 1 Jan 2024, in its own year). So the last-year pre-mean is 100, the ratio
    # 100 / 100 = 1, the event's last year (8 Jan 2024) sold 100 -> baseline 100, lift (150 - 100) / 100 = 0.5.
    # A plain 52-week offset would read 1 Jan 2024 (500) into the last-year pre-period: mean 1200/8 = 150,
    # baseline 100 x 100/150 = 66.7 and a lift of 1.25.
    start = dt.date(2023, 10, 30)
    weeks = [start + dt.timedelta(weeks=i) for i in range(70)]
    rows = [{"week": w, "retailer_id": "R1", "sku_id": "S1", "units": 500.0 if w == dt.date(2024, 1, 1)
             else 150.0 if w == dt.date(2025, 1, 6) else 100.0, "sales_value": 1.0} for w in weeks]
    p9 = promotion("P9", dt.date(2025, 1, 6), dt.date(2025, 1, 12))
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=rows, promotions=[p9])
    r = lift(engine, "last_year", Filters(period="year", year=2025)).loc["P9"]
    assert r["clean_weeks"] == 8 + 7 + 1
    assert r["baseline_units"] == pytest.approx(100) and r["lift_pct"] == pytest.approx(0.5)


def test_the_page_note_counts_skipped_weeks_and_unfinished_events():
    # Three events: 2 + 0 + 1 = 3 unreported weeks around 2 of them; one is unfinished in its retailer's sell-out.
    table = pd.DataFrame({"lift_pct": [0.2, np.nan, 0.1], "roi": np.nan, "trade_spend": 10.0,
                          "incremental_gross_profit": np.nan, "incremental_units": [5.0, np.nan, 2.0],
                          "net_incremental_units": [4.0, np.nan, 1.0], "unreported_weeks": [2, 0, 1],
                          "flag": [None, "unfinished: this retailer's sell-out runs through 2 Nov 2026", None]})
    k = promo.kpis(table)
    assert (k["unreported_weeks"], k["events_with_unreported_weeks"], k["unfinished"]) == (3, 2, 1)
    assert promo.skipped_note(k) == ("3 unreported weeks (no sell-out from the retailer) skipped, not read as zeros, "
                                     "around 2 events; 1 event unfinished in its retailer's sell-out (it lags): "
                                     "no lift yet.")
    assert promo.skipped_note(promo.kpis(table.assign(unreported_weeks=0, flag=None))) is None
