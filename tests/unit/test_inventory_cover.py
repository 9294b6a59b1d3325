"""Weeks of cover and its status, forward cover, phantom stock, the reconciliation and forward buying, on
hand-built tables. Expected numbers are worked out by hand beside each assertion."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kam_dash import export
from kam_dash.filters import Filters
from kam_dash.metrics import inventory
from tests.unit.test_inventory import ALL_WEEKS, PRODUCTS, RETAILERS, W, case_tables, inv, so

LY = dt.timedelta(weeks=52)


def rows_by_line(frame: pd.DataFrame) -> dict:
    return {(r["retailer_id"], r["sku_id"]): r for r in frame.to_dict("records")}


# -- weeks of cover and status ----------------------------------------------------------------------------------
@pytest.fixture()
def cases(hand_db):
    return hand_db(**case_tables())


def test_coverage_at_the_last_week(cases):
    frame = export.compute("coverage", cases, ALL_WEEKS)
    assert list(frame.columns) == inventory.COVERAGE_COLUMNS
    rows = rows_by_line(frame)
    # R3 has no inventory; every other line has a count at week 12 and is listed.
    assert set(rows) == {("R1", "A"), ("R1", "B"), ("R1", "C"), ("R2", "A"), ("R2", "B")}
    assert all(pd.Timestamp(r["week"]) == pd.Timestamp(W[12]) for r in rows.values())
    # R1 x A: 50 on hand; weeks 9-12 sold 10 + 4 + 0 + 10 = 24 -> 6 a week -> 8.33 weeks, above R1's 6 -> high.
    a = rows[("R1", "A")]
    assert a["avg_weekly_units"] == pytest.approx(6) and a["weeks_of_cover"] == pytest.approx(50 / 6)
    assert a["status"] == "high"
    # R1 x B: 30 on hand; 10 + 3 + 10 + 10 = 33 -> 8.25 a week -> 3.64 weeks, within 2-6 -> ok.
    assert rows[("R1", "B")]["weeks_of_cover"] == pytest.approx(30 / 8.25) and rows[("R1", "B")]["status"] == "ok"
    # R2 x A: stock and no sales -> no_sales, cover undefined (not 0, not infinite).
    assert rows[("R2", "A")]["status"] == "no_sales" and np.isnan(rows[("R2", "A")]["weeks_of_cover"])
    # R2 x B: 0 on hand -> oos; nothing sold in weeks 9-12 either, so its cover is undefined as well.
    assert rows[("R2", "B")]["status"] == "oos" and np.isnan(rows[("R2", "B")]["weeks_of_cover"])
    # R1 x A at week 10: 0 on hand against 10 + 10 + 10 + 4 = 34 sold in weeks 7-10 -> oos with 0 weeks of cover.
    a10 = rows_by_line(export.compute("coverage", cases, ALL_WEEKS, week=W[10]))[("R1", "A")]
    assert a10["status"] == "oos" and a10["weeks_of_cover"] == 0 and a10["avg_weekly_units"] == pytest.approx(8.5)


def test_the_window_changes_the_average_and_the_status(cases):
    by_window = {n: rows_by_line(export.compute("coverage", cases, ALL_WEEKS, window=n))[("R1", "A")]
                 for n in (4, 8, 13)}
    # 8 weeks (5-12): 10 x 5 + 4 + 0 + 10 = 64 -> 8 a week -> 6.25 weeks -> high.
    assert by_window[8]["avg_weekly_units"] == pytest.approx(8) and by_window[8]["status"] == "high"
    # 13 weeks reach back before the data: listed in week 1, so 12 weeks count: 90 + 4 + 0 + 10 = 104 -> 8.67 a
    # week -> 50 / 8.67 = 5.77 weeks -> ok.
    assert by_window[13]["avg_weekly_units"] == pytest.approx(104 / 12)
    assert by_window[13]["status"] == "ok"
    with pytest.raises(ValueError):
        inventory.coverage(cases, ALL_WEEKS, window=5)


def test_a_line_listed_mid_window_averages_over_its_weeks_since_listing(cases):
    rows = rows_by_line(export.compute("coverage", cases, ALL_WEEKS, week=W[7]))
    # R1 x C was listed in week 6: at week 7 the 4-week window holds 2 listed weeks of 10 -> 10 a week, 40 on hand
    # -> 4 weeks, ok (over all 4 weeks it would be 5 a week and a false 'high').
    c = rows[("R1", "C")]
    assert c["avg_weekly_units"] == pytest.approx(10) and c["weeks_of_cover"] == pytest.approx(4)
    assert c["status"] == "ok"
    # Before its listing it is not a position at all, not an out-of-stock one.
    assert ("R1", "C") not in rows_by_line(export.compute("coverage", cases, ALL_WEEKS, week=W[5]))


def test_a_missing_inventory_week_has_no_status(cases):
    # R1 x B has no count in week 8: no row for it that week; its sales still count in later windows.
    assert ("R1", "B") not in rows_by_line(export.compute("coverage", cases, ALL_WEEKS, week=W[8]))
    b = rows_by_line(export.compute("coverage", cases, ALL_WEEKS, week=W[9]))[("R1", "B")]
    # Week 9 window = weeks 6-9: 10 + 10 + 30 (the uncounted week's sales) + 10 = 60 -> 15 a week; 30 on hand.
    assert b["avg_weekly_units"] == pytest.approx(15) and b["weeks_of_cover"] == pytest.approx(2)


@pytest.fixture()
def bands_db(hand_db):
    # Lines selling 10 a week in weeks 9-12, with week-12 stock set to land on and next to each band edge.
    stock = {("R1", "A"): 20, ("R1", "B"): 19, ("R1", "C"): 60, ("R1", "D"): 61,
             ("R2", "A"): 15, ("R2", "B"): 14, ("R2", "C"): 50, ("R2", "D"): 51}
    products = PRODUCTS + [dict(sku_id="D", sku_name="Dip", brand="Crunch", category="Snacks")]
    return hand_db(retailers=RETAILERS, products=products,
                   inventory=[inv(r, s, 12, units) for (r, s), units in stock.items()],
                   sell_out=[so(r, s, w, 10, 10) for (r, s) in stock for w in range(9, 13)])


def test_each_status_boundary(bands_db):
    rows = rows_by_line(inventory.coverage(bands_db, ALL_WEEKS))
    status = {k: r["status"] for k, r in rows.items()}
    # R1's band is 2-6 weeks, 10 a week: 20 -> 2.0 ok (the minimum is in band), 19 -> 1.9 low, 60 -> 6.0 ok, 61 ->
    # 6.1 high. R2's band is 1.5-5: 15 ok, 14 low, 50 ok, 51 high.
    assert status == {("R1", "A"): "ok", ("R1", "B"): "low", ("R1", "C"): "ok", ("R1", "D"): "high",
                      ("R2", "A"): "ok", ("R2", "B"): "low", ("R2", "C"): "ok", ("R2", "D"): "high"}
    assert rows[("R1", "A")]["weeks_of_cover"] == pytest.approx(2.0)


def test_classify_reads_a_missing_count_as_no_status():
    on_hand = pd.Series([np.nan, 0.0, 5.0, 5.0])
    avg = pd.Series([10.0, 10.0, 0.0, 1.0])
    status = inventory.classify(on_hand, avg, pd.Series([2.0] * 4), pd.Series([6.0] * 4))
    assert status.tolist() == [None, "oos", "no_sales", "ok"]


# -- forward cover ----------------------------------------------------------------------------------------------
def test_walk_forward_by_hand():
    demand = np.array([[12.0, 0.0, 12.0, 12.0] + [12.0] * 22,
                       [12.0] * 26,
                       [0.0] * 26,
                       [12.0] * 26])
    weeks = inventory.walk_forward(np.array([30.0, 1000.0, 5.0, 0.0]), demand)
    # 30 units on 12, 0, 12, 12: 24 used in three weeks, the last 6 cover half of week 4 -> 3.5.
    assert weeks[0] == pytest.approx(3.5)
    # 1000 units outlast 26 weeks of 12 (312): the other 688 at 12 a week -> 26 + 57.33.
    assert weeks[1] == pytest.approx(26 + 688 / 12)
    assert np.isnan(weeks[2])  # nothing to project from
    assert weeks[3] == 0  # nothing on hand


def test_forward_cover_scales_last_year_by_the_ytd_growth(hand_db):
    # Weeks of 2025 (52 weeks before W[i]) sold 10 a week; 2026 so far sells 12 a week -> growth 1.2. Last year's
    # week 14 (the second coming week) has no row: it sold 0.
    rows_so, rows_inv = [], []
    for i in range(1, 40):
        day = W[1] + (i - 1) * dt.timedelta(weeks=1) - LY
        if i != 14:
            rows_so.append(dict(week=day, retailer_id="R1", sku_id="A", units=10, sales_value=10))
    for i in range(1, 13):
        rows_so.append(so("R1", "A", i, 12, 12))
        rows_inv.append(inv("R1", "A", i, 30))
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=rows_so, inventory=rows_inv)
    frame = inventory.coverage(engine, ALL_WEEKS)
    # Demand from week 13: 10 x 1.2 = 12, then 0 (no row last year), then 12, 12 ... 30 on hand: 12 + 0 + 12 = 24
    # after three weeks, 6 of the fourth week's 12 -> 3.5 weeks.
    assert frame.loc[0, "forward_cover"] == pytest.approx(3.5)


# -- phantom inventory --------------------------------------------------------------------------------------------
def test_phantom_candidates_by_hand(hand_db):
    rows_inv, rows_so = [], []
    for sku, sold_weeks in (("A", range(1, 11)), ("B", range(5, 11)), ("C", range(6, 11)), ("D", range(1, 11))):
        for w in range(1, 13):
            if not (sku == "D" and w == 11):  # D: no count in week 11 -> unknown, not a candidate
                rows_inv.append(inv("R1", sku, w, 40))
        rows_so += [so("R1", sku, w, 10, 30) for w in sold_weeks]
    rows_so += [so("R2", "A", w, 5, 5) for w in range(1, 13)]  # sales through week 12 make it the latest week
    products = PRODUCTS + [dict(sku_id="D", sku_name="Dip", brand="Crunch", category="Snacks")]
    engine = hand_db(retailers=RETAILERS, products=products, inventory=rows_inv, sell_out=rows_so)
    found = inventory.phantom_candidates(engine, inventory.context(engine, ALL_WEEKS).scope, W[12])
    # Weeks 11 and 12 in stock with no sales. The 12 weeks before them (weeks -1..10, of which 1-10 exist): A sold
    # in 10, B in 6 (the minimum), C in 5 (too few). Price 30 / 10 = 3.
    assert list(found["sku_id"]) == ["A", "B"]
    assert list(found["selling_weeks"]) == [10, 6]
    assert found["price"].tolist() == pytest.approx([3, 3])
    flags = inventory.availability(engine, ALL_WEEKS).set_index("sku_id")["phantom_candidate"]  # R1 only
    assert flags.loc[["A", "B", "C", "D"]].tolist() == [True, True, False, False]


# -- reconciliation -----------------------------------------------------------------------------------------------
def test_reconciliation_with_returns_new_listings_and_missing_counts(hand_db):
    rows_inv = [inv("R1", "A", 1, 100), inv("R1", "A", 12, 125)]
    rows_inv += [inv("R1", "B", 12, 40)]  # listed in the period: no count before it
    rows_inv += [inv("R1", "C", 1, 70)]  # no closing count: left out
    sell_in = [dict(week=W[3], retailer_id="R1", sku_id="A", units=100, gross_sales=100, net_sales=90),
               dict(week=W[5], retailer_id="R1", sku_id="A", units=-20, gross_sales=-20, net_sales=-18),  # return
               dict(week=W[4], retailer_id="R1", sku_id="B", units=60, gross_sales=60, net_sales=54),
               dict(week=W[4], retailer_id="R1", sku_id="C", units=30, gross_sales=30, net_sales=27)]
    sell_out = [so("R1", "A", 6, 30, 60), so("R1", "A", 7, 20, 40), so("R1", "B", 8, 20, 20),
                so("R1", "C", 8, 10, 10), so("R2", "A", 12, 1, 1)]  # R2's sale makes week 12 the latest
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, inventory=rows_inv, sell_in=sell_in, sell_out=sell_out)
    period = Filters(period="custom", start=W[2], end=W[12])  # opening stock = the week-1 count
    frame = export.compute("reconciliation", engine, period)
    assert list(frame.columns) == inventory.RECONCILIATION_COLUMNS
    r = frame.set_index("retailer_id").loc["R1"]
    # A: 100 + (100 - 20) - (30 + 20) = 130 expected, 125 counted -> 5 unexplained. B: 0 + 60 - 20 = 40, counted
    # 40 -> 0. C has no closing count: left out. Totals: sell-in 80 + 60 = 140, sell-out 50 + 20 = 70, on-hand
    # change 25 + 40 = 65, unexplained 140 - 70 - 65 = 5.
    assert (r["sell_in_units"], r["sell_out_units"], r["on_hand_change"], r["unexplained_units"]) == (140, 70, 65, 5)

    page = inventory.page_data(engine, period, retailer="R1")
    assert page.waterfall["opening_units"] == 100 and page.waterfall["closing_units"] == 165
    assert page.waterfall["unexplained_units"] == 5 and page.reconciliation.loc[0, "lines_left_out"] == 1
    assert page.reconciliation_lines.loc[0, "sku_id"] == "A"  # the largest unexplained first


# -- forward buying -------------------------------------------------------------------------------------------------
def test_forward_buy_warning(hand_db):
    sell_in, sell_out = [], []
    for w in range(5, 13):  # the last 8 weeks
        sell_out += [so("R1", "A", w, 10, 10), so("R2", "A", w, 10, 10)]
    sell_in += [dict(week=W[6], retailer_id="R1", sku_id="A", units=120, gross_sales=1, net_sales=1),
                dict(week=W[9], retailer_id="R1", sku_id="A", units=90, gross_sales=1, net_sales=1),
                dict(week=W[7], retailer_id="R2", sku_id="A", units=95, gross_sales=1, net_sales=1),
                dict(week=W[2], retailer_id="R2", sku_id="A", units=500, gross_sales=1, net_sales=1)]  # too early
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=sell_in, sell_out=sell_out)
    fb = inventory.page_data(engine, ALL_WEEKS).forward_buy.set_index("retailer_id")
    # R1: 210 shipped, 80 sold -> 130 filled = 13 weeks of its 10 a week -> warning, a 13-week order trough.
    assert fb.loc["R1", "fill_units"] == 130 and fb.loc["R1", "fill_weeks"] == pytest.approx(13)
    assert fb.loc["R1", "warning"]
    # R2: 95 - 80 = 15 -> 1.5 weeks, under 2 -> no warning (week 2's 500 is outside the 8 weeks).
    assert fb.loc["R2", "fill_weeks"] == pytest.approx(1.5) and not fb.loc["R2", "warning"]


def test_the_page_and_the_export_reconcile_a_retailer_alike(small_engine):
    # The page reads one retailer week by week, the export every line at once: the same numbers either way.
    page = inventory.page_data(small_engine, Filters())
    export_row = inventory.reconciliation(small_engine, Filters()).set_index("retailer_id").loc[page.retailer]
    for col in ("sell_in_units", "sell_out_units", "on_hand_change", "unexplained_units"):
        assert page.waterfall[col] == pytest.approx(export_row[col]), col
    # and the heatmap's last week is the coverage export's status for those lines
    last = page.heatmap[page.heatmap["week"] == pd.Timestamp(page.last)].set_index("sku_id")["status"]
    cover = inventory.coverage(small_engine, Filters()).set_index(["retailer_id", "sku_id"]).loc[page.retailer]
    assert len(last) > 0 and last.to_dict() == cover.loc[last.index, "status"].to_dict()
