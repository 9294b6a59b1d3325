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

LY = dt.timedelta(days=364)  # calendar.last_year of every week used below (none is a 53rd Monday)


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
    # R1 x A: 50 on hand, refilled after two weeks out of stock (10, 11). The 4 latest weeks that ended in stock
    # are 12, 9, 8, 7, 10 units each -> 10 a week -> 5 weeks, within 2-6 -> ok. (Averaging weeks 9-12 as they
    # came, 10 + 4 + 0 + 10 = 24 -> 6 a week, would read the empty shelf as low demand: 8.33 weeks, a false
    # 'high'.)
    a = rows[("R1", "A")]
    assert a["avg_weekly_units"] == pytest.approx(10) and a["weeks_of_cover"] == pytest.approx(5)
    assert a["status"] == "ok" and a["cover_weeks"] == 4 and a["unreported_weeks"] == 0
    # R1 x B: 30 on hand; week 10 out of stock and week 8 uncounted are skipped: weeks 12, 11, 9, 7 sold 10 each
    # (6 store + 4 online) -> 10 a week -> 3 weeks -> ok.
    assert rows[("R1", "B")]["weeks_of_cover"] == pytest.approx(3) and rows[("R1", "B")]["status"] == "ok"
    # R2 x A: stock and no sales in four reported in-stock weeks -> no_sales, cover undefined (not 0, not infinite).
    assert rows[("R2", "A")]["status"] == "no_sales" and np.isnan(rows[("R2", "A")]["weeks_of_cover"])
    # R2 x B: 0 on hand -> oos. Its only in-stock weeks, 1-3, lie before the 2 x 4 = 8 weeks searched (5-12): no
    # average, so its cover is undefined as well.
    assert rows[("R2", "B")]["status"] == "oos" and np.isnan(rows[("R2", "B")]["weeks_of_cover"])
    assert rows[("R2", "B")]["cover_weeks"] == 0
    # With a 13-week window (26 searched) weeks 1-3 count: 5 a week -> 0 / 5 = 0 weeks of cover.
    b13 = rows_by_line(export.compute("coverage", cases, ALL_WEEKS, window=13))[("R2", "B")]
    assert b13["avg_weekly_units"] == pytest.approx(5) and b13["weeks_of_cover"] == 0 and b13["cover_weeks"] == 3
    # R1 x A at week 10: 0 on hand; weeks 9, 8, 7, 6 in stock at 10 a week -> oos with 0 weeks of cover.
    a10 = rows_by_line(export.compute("coverage", cases, ALL_WEEKS, week=W[10]))[("R1", "A")]
    assert a10["status"] == "oos" and a10["weeks_of_cover"] == 0 and a10["avg_weekly_units"] == pytest.approx(10)


def test_the_window_changes_the_average_and_the_status(hand_db):
    # One line, 30 on hand and in stock every week; 2 units a week in weeks 1-8, 10 in weeks 9-12.
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, inventory=[inv("R1", "A", w, 30) for w in range(1, 13)],
                     sell_out=[so("R1", "A", w, 2 if w <= 8 else 10, 1) for w in range(1, 13)])
    by_window = {n: rows_by_line(export.compute("coverage", engine, ALL_WEEKS, window=n))[("R1", "A")]
                 for n in (4, 8, 13)}
    # 4 weeks (9-12): 40 / 4 = 10 a week -> 3 weeks -> ok.
    assert by_window[4]["avg_weekly_units"] == pytest.approx(10) and by_window[4]["status"] == "ok"
    # 8 weeks (5-12): 4 x 2 + 4 x 10 = 48 -> 6 a week -> 5 weeks -> ok.
    assert by_window[8]["avg_weekly_units"] == pytest.approx(6) and by_window[8]["weeks_of_cover"] == pytest.approx(5)
    # 13 weeks (of the 26 searched) reach back before the data: the 12 there count: 8 x 2 + 4 x 10 = 56 -> 4.67 a
    # week -> 30 / 4.67 = 6.43 weeks -> high.
    assert by_window[13]["avg_weekly_units"] == pytest.approx(56 / 12) and by_window[13]["cover_weeks"] == 12
    assert by_window[13]["status"] == "high"
    with pytest.raises(ValueError):
        inventory.coverage(engine, ALL_WEEKS, window=5)


def test_a_line_listed_mid_window_averages_over_its_weeks_since_listing(cases):
    rows = rows_by_line(export.compute("coverage", cases, ALL_WEEKS, week=W[7]))
    # R1 x C came into stock in week 6: at week 7 two weeks ended in stock, 10 units each -> 10 a week, 40 on hand
    # -> 4 weeks, ok (over all 4 weeks it would be 5 a week and a false 'high').
    c = rows[("R1", "C")]
    assert c["avg_weekly_units"] == pytest.approx(10) and c["weeks_of_cover"] == pytest.approx(4)
    assert c["status"] == "ok"
    # Before its listing it is not a position at all, not an out-of-stock one.
    assert ("R1", "C") not in rows_by_line(export.compute("coverage", cases, ALL_WEEKS, week=W[5]))


def test_a_missing_inventory_week_has_no_status(cases):
    # R1 x B has no count in week 8: no row for it that week, and (its stock unknown) the week is not averaged later.
    assert ("R1", "B") not in rows_by_line(export.compute("coverage", cases, ALL_WEEKS, week=W[8]))
    b = rows_by_line(export.compute("coverage", cases, ALL_WEEKS, week=W[9]))[("R1", "B")]
    # At week 9 the 4 latest counted in-stock weeks are 9, 7, 6, 5 (week 8's 30 units left out): 10 a week; 30
    # on hand -> 3 weeks.
    assert b["avg_weekly_units"] == pytest.approx(10) and b["weeks_of_cover"] == pytest.approx(3)


@pytest.fixture()
def bands_db(hand_db):
    # Lines in stock and selling 10 a week in weeks 9-12, with the stock set to land on and next to each band edge.
    stock = {("R1", "A"): 20, ("R1", "B"): 19, ("R1", "C"): 60, ("R1", "D"): 61,
             ("R2", "A"): 15, ("R2", "B"): 14, ("R2", "C"): 50, ("R2", "D"): 51}
    products = PRODUCTS + [dict(sku_id="D", sku_name="Dip", brand="Crunch", category="Snacks")]
    return hand_db(retailers=RETAILERS, products=products,
                   inventory=[inv(r, s, w, units) for (r, s), units in stock.items() for w in range(9, 13)],
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
    on_hand = pd.Series([np.nan, 0.0, 5.0, 5.0, 5.0])
    avg = pd.Series([10.0, 10.0, 0.0, 1.0, np.nan])  # the last: too few weeks to average
    status = inventory.classify(on_hand, avg, pd.Series([2.0] * 5), pd.Series([6.0] * 5))
    assert status.tolist() == [None, "oos", "no_sales", "ok", "too_few_weeks"]


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


def forward_cover_db(hand_db, week_14_reported: bool):
    # Weeks of 2025 (364 days before W[i]) sold 10 a week; 2026 so far sells 12 a week -> growth 1.2. Last year's
    # week 14 (the second coming week) has no row for A; with week_14_reported R1 sold another SKU that week.
    rows_so, rows_inv = [], []
    for i in range(1, 40):
        day = W[1] + (i - 1) * dt.timedelta(weeks=1) - LY
        if i != 14:
            rows_so.append(dict(week=day, retailer_id="R1", sku_id="A", units=10, sales_value=10))
        elif week_14_reported:
            rows_so.append(dict(week=day, retailer_id="R1", sku_id="B", units=1, sales_value=1))
    for i in range(1, 13):
        rows_so.append(so("R1", "A", i, 12, 12))
        rows_inv.append(inv("R1", "A", i, 30))
    return hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=rows_so, inventory=rows_inv)


def test_forward_cover_scales_last_year_by_the_ytd_growth(hand_db):
    frame = inventory.coverage(forward_cover_db(hand_db, week_14_reported=True), ALL_WEEKS)
    # Demand from week 13: 10 x 1.2 = 12, then 0 (R1 reported that week, A had no row: it sold 0), then 12, 12 ...
    # 30 on hand: 12 + 0 + 12 = 24 after three weeks, 6 of the fourth week's 12 -> 3.5 weeks.
    assert frame.loc[0, "forward_cover"] == pytest.approx(3.5)


def test_forward_cover_skips_a_last_year_week_that_was_not_reported(hand_db):
    frame = inventory.coverage(forward_cover_db(hand_db, week_14_reported=False), ALL_WEEKS)
    # Last year's week 14 has no sell-out row at all: unreported, so it takes the mean of the reported coming
    # weeks (10) instead of 0: demand 12, 12, 12 ... 30 on hand -> 12 + 12, then 6 of 12 -> 2.5 weeks (reading the
    # unreported week as 0 gives 3.5).
    assert frame.loc[0, "forward_cover"] == pytest.approx(2.5)


# -- phantom inventory --------------------------------------------------------------------------------------------
def phantom_db(hand_db, reported_through: int):
    rows_inv, rows_so = [], []
    for sku, sold_weeks in (("A", range(1, 11)), ("B", range(5, 11)), ("C", range(6, 11)), ("D", range(1, 11))):
        for w in range(1, 13):
            if not (sku == "D" and w == 11):  # D: no count in week 11 -> unknown, not a candidate
                rows_inv.append(inv("R1", sku, w, 40))
        rows_so += [so("R1", sku, w, 10, 30) for w in sold_weeks]
    # E sells every week up to reported_through with no stock counts: it shows R1 reported sell-out those weeks
    rows_so += [so("R1", "E", w, 1, 1) for w in range(1, reported_through + 1)]
    rows_so += [so("R2", "A", w, 5, 5) for w in range(1, 13)]  # sales through week 12 make it the latest week
    products = PRODUCTS + [dict(sku_id="D", sku_name="Dip", brand="Crunch", category="Snacks"),
                           dict(sku_id="E", sku_name="Egg", brand="Crunch", category="Snacks")]
    return hand_db(retailers=RETAILERS, products=products, inventory=rows_inv, sell_out=rows_so)


def test_phantom_candidates_by_hand(hand_db):
    engine = phantom_db(hand_db, reported_through=12)
    found = inventory.phantom_candidates(engine, inventory.context(engine, ALL_WEEKS).scope, W[12])
    # Weeks 11 and 12 in stock with no sales. The 12 weeks before them (weeks -1..10, of which 1-10 exist): A sold
    # in 10, B in 6 (the minimum), C in 5 (too few). Price 30 / 10 = 3.
    assert list(found["sku_id"]) == ["A", "B"]
    assert list(found["selling_weeks"]) == [10, 6]
    assert found["price"].tolist() == pytest.approx([3, 3])
    flags = inventory.availability(engine, ALL_WEEKS).set_index("sku_id")["phantom_candidate"]  # R1 only
    assert flags.loc[["A", "B", "C", "D"]].tolist() == [True, True, False, False]


def test_silent_weeks_the_retailer_did_not_report_are_not_phantom_stock(hand_db):
    # R1's sell-out stops after week 10 (its POS for weeks 11 and 12 has not arrived): the "silent" weeks 11-12 are
    # unreported, not weeks that sold nothing, so at week 12 no line is a candidate.
    engine = phantom_db(hand_db, reported_through=10)
    found = inventory.phantom_candidates(engine, inventory.context(engine, ALL_WEEKS).scope, W[12])
    assert found.empty
    # The page checks R1 at its own latest sell-out week, 10: weeks 9-10 sold (A, B, C, D all sold through week
    # 10), so nothing is flagged there either.
    assert inventory.page_data(engine, ALL_WEEKS).phantom.empty


def test_a_lagging_retailer_is_checked_for_phantom_stock_at_its_own_latest_week(hand_db):
    # R1 reports through week 10 (E sells weeks 1-10); A, 40 on hand every week, sold 10 a week in weeks 1-8 only.
    rows_inv = [inv("R1", "A", w, 40) for w in range(1, 13)]
    rows_so = [so("R1", "A", w, 10, 30) for w in range(1, 9)] + [so("R1", "C", w, 1, 1) for w in range(1, 11)]
    rows_so += [so("R2", "A", w, 5, 5) for w in range(1, 13)]  # week 12 is the latest week
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, inventory=rows_inv, sell_out=rows_so)
    page = inventory.page_data(engine, ALL_WEEKS)
    # At week 10: stock in weeks 9 and 10, both reported, no sale of A; the 12 weeks before (-3..8) hold 8 weeks of
    # sales (at least 6) -> a candidate, checked at week 10, 40 units at 30 / 10 = 3 -> 120 of stock value.
    row = page.phantom.set_index(["retailer_id", "sku_id"]).loc[("R1", "A")]
    assert row["checked_week"] == pd.Timestamp(W[10]) and row["selling_weeks"] == 8
    assert row["on_hand_value"] == pytest.approx(120)
    assert any(n.startswith("Phantom stock of Alpha is checked at its own latest sell-out week") for n in page.notes)
    assert inventory.availability(engine, ALL_WEEKS).set_index("sku_id").loc["A", "phantom_candidate"]


# -- reconciliation -----------------------------------------------------------------------------------------------
def reconciliation_db(hand_db, r1_reports: set, counts_at: int = 12):
    rows_inv = [inv("R1", "A", 1, 100), inv("R1", "A", counts_at, 125)]
    rows_inv += [inv("R1", "B", counts_at, 40)]  # listed in the period: no count before it
    rows_inv += [inv("R1", "C", 1, 70)]  # no closing count: left out
    sell_in = [dict(week=W[3], retailer_id="R1", sku_id="A", units=100, gross_sales=100, net_sales=90),
               dict(week=W[5], retailer_id="R1", sku_id="A", units=-20, gross_sales=-20, net_sales=-18),  # return
               dict(week=W[4], retailer_id="R1", sku_id="B", units=60, gross_sales=60, net_sales=54),
               dict(week=W[4], retailer_id="R1", sku_id="C", units=30, gross_sales=30, net_sales=27)]
    sold = {(6, "A"): (30, 60), (7, "A"): (20, 40), (8, "B"): (20, 20), (8, "C"): (10, 10)}
    # R1 reports the weeks in r1_reports: rows of 0 units for A mark the weeks with nothing else sold
    sell_out = [so("R1", sku, w, *sold[(w, sku)]) for (w, sku) in sold if w in r1_reports]
    sell_out += [so("R1", "A", w, 0, 0) for w in r1_reports if w not in (6, 7, 8)]
    sell_out += [so("R2", "A", 12, 1, 1)]  # R2's sale makes week 12 the latest
    return hand_db(retailers=RETAILERS, products=PRODUCTS, inventory=rows_inv, sell_in=sell_in, sell_out=sell_out)


def test_reconciliation_with_returns_new_listings_and_missing_counts(hand_db):
    engine = reconciliation_db(hand_db, set(range(1, 13)))
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


def test_reconciliation_of_a_retailer_whose_sell_out_lags_stops_at_its_own_latest_week(hand_db):
    # R1's sell-out arrives through week 10 only, its stock counts are at week 10 too, and week 12 is the latest
    # week of the data (R2). Run to week 12, weeks 11-12 would read as 0 sold.
    engine = reconciliation_db(hand_db, set(range(1, 11)), counts_at=10)
    period = Filters(period="custom", start=W[2], end=W[12])
    r = inventory.reconciliation(engine, period).set_index("retailer_id").loc["R1"]
    # Through week 10: the same flows as above (nothing moved in weeks 11-12) -> sell-in 140, sell-out 70, change
    # in on-hand 25 + 40 = 65, unexplained 5.
    assert r["through_week"] == pd.Timestamp(W[10])
    assert (r["sell_in_units"], r["sell_out_units"], r["on_hand_change"], r["unexplained_units"]) == (140, 70, 65, 5)


def test_a_retailer_with_an_unreported_week_is_not_reconciled(hand_db):
    # R1 reports every week but week 9: its sell-out of the period is incomplete, so the flow cannot be closed
    # (reading week 9 as 0 sold would call its units "unexplained").
    engine = reconciliation_db(hand_db, set(range(1, 13)) - {9})
    period = Filters(period="custom", start=W[2], end=W[12])
    assert "R1" not in set(inventory.reconciliation(engine, period)["retailer_id"])
    page = inventory.page_data(engine, period, retailer="R1")
    row = page.reconciliation.set_index("retailer_id").loc["R1"]
    assert row["unreported_weeks"] == 1 and row["lines_left_out"] == 3 and page.waterfall is None


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


# -- unreported weeks and lagging sell-out ---------------------------------------------------------------------------
def lagging_db(hand_db, r1_weeks: list[int]):
    """R1 x A in stock (40) every week 1-12, selling 10 a week in the weeks R1 reported (r1_weeks); R2 x A sells
    through week 12, so week 12 is the latest week of the data."""
    return hand_db(retailers=RETAILERS, products=PRODUCTS,
                   inventory=[inv(r, "A", w, 40) for r in ("R1", "R2") for w in range(1, 13)],
                   sell_out=[so("R1", "A", w, 10, 20) for w in r1_weeks]
                   + [so("R2", "A", w, 10, 20) for w in range(1, 13)])


def test_cover_of_a_retailer_whose_sell_out_lags_stops_at_its_own_latest_week(hand_db):
    engine = lagging_db(hand_db, list(range(1, 12)))  # R1's POS for week 12 has not arrived
    a = rows_by_line(inventory.coverage(engine, ALL_WEEKS))[("R1", "A")]
    # The 4 latest weeks R1 reported, all in stock: 11, 10, 9, 8 at 10 a week -> 40 / 10 = 4 weeks; week 12 is
    # skipped and counted. (Reading week 12 as 0 sold: 30 / 4 = 7.5 a week -> 5.33 weeks.)
    assert a["avg_weekly_units"] == pytest.approx(10) and a["weeks_of_cover"] == pytest.approx(4)
    assert a["unreported_weeks"] == 1
    page = inventory.page_data(engine, ALL_WEEKS)
    assert any("Weeks of cover skipped unreported sell-out weeks" in n and "Alpha" in n for n in page.notes)


def test_cover_skips_a_week_the_retailer_did_not_report(hand_db):
    engine = lagging_db(hand_db, [w for w in range(1, 13) if w != 10])  # a gap: R1's POS for week 10 never came
    a = rows_by_line(inventory.coverage(engine, ALL_WEEKS))[("R1", "A")]
    # Weeks 12, 11, 9, 8 -> 10 a week -> 4 weeks (reading week 10 as 0: 30 / 4 = 7.5 -> 5.33 weeks).
    assert a["weeks_of_cover"] == pytest.approx(4) and a["unreported_weeks"] == 1


def test_fewer_than_two_weeks_to_average_is_no_cover_said_in_words(hand_db):
    # R1 x B is new: stock (30) in week 12 only, 5 sold. One in-stock week cannot make an average.
    rows_inv = [inv(r, "A", w, 40) for r in ("R1", "R2") for w in range(1, 13)] + [inv("R1", "B", 12, 30)]
    rows_so = [so(r, "A", w, 10, 20) for r in ("R1", "R2") for w in range(1, 13)] + [so("R1", "B", 12, 5, 5)]
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, inventory=rows_inv, sell_out=rows_so)
    b = rows_by_line(inventory.coverage(engine, ALL_WEEKS))[("R1", "B")]
    assert b["status"] == "too_few_weeks" and b["cover_weeks"] == 1 and np.isnan(b["weeks_of_cover"])
    page = inventory.page_data(engine, ALL_WEEKS)
    assert page.kpis["now_too_few_weeks"] == 1 and page.too_few_weeks["sku_id"].tolist() == ["B"]
    assert any(n.startswith("1 line with stock has no weeks of cover") for n in page.notes)


# -- forward buying without sell-in ----------------------------------------------------------------------------------
def test_forward_buying_needs_sell_in(hand_db):
    # R1 has sell-in and sell-out; R2 has sell-out only (a POS-only account). Both sell 10 a week in weeks 5-12.
    sell_out = [so(r, "A", w, 10, 10) for r in ("R1", "R2") for w in range(5, 13)]
    sell_in = [dict(week=W[6], retailer_id="R1", sku_id="A", units=100, gross_sales=1, net_sales=1)]
    page = inventory.page_data(hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=sell_in, sell_out=sell_out),
                               ALL_WEEKS)
    # R1: 100 shipped - 80 sold = 20 -> 2 weeks of its 10 a week (not above 2: no warning). R2 is not scored:
    # without sell-in its fill would read 0 - 80 = -80 -> -8 weeks.
    assert page.forward_buy["retailer_id"].tolist() == ["R1"]
    assert page.forward_buy.loc[0, "fill_weeks"] == pytest.approx(2) and not page.forward_buy.loc[0, "warning"]
    assert page.sell_out_only == ["Beta"]
    # Without a sell-in table at all, no retailer is scored and both are named.
    page = inventory.page_data(hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=sell_out), ALL_WEEKS)
    assert page.forward_buy.empty and page.sell_out_only == ["Alpha", "Beta"]


def test_forward_buying_of_a_lagging_retailer_ends_at_its_own_latest_week(hand_db):
    # R1 ships 10 a week in weeks 1-12 and sells 10 a week, but its POS arrives through week 11 only, with week 8
    # missing. R2's sales make week 12 the latest week.
    sell_in = [dict(week=W[w], retailer_id="R1", sku_id="A", units=10, gross_sales=1, net_sales=1)
               for w in range(1, 13)]
    sell_out = [so("R1", "A", w, 10, 10) for w in range(1, 12) if w != 8] + [so("R2", "A", 12, 1, 1)]
    page = inventory.page_data(hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=sell_in, sell_out=sell_out),
                               ALL_WEEKS)
    fb = page.forward_buy.set_index("retailer_id").loc["R1"]
    # The 8 weeks ending with week 11 (4-11) less unreported week 8 -> 7 weeks: 70 shipped - 70 sold = 0 fill.
    # (Weeks 5-12 read as they came: 80 shipped - 60 sold = 20 -> 20 / 7.5 = 2.67 weeks, a false warning.)
    assert fb["through_week"] == pd.Timestamp(W[11]) and fb["weeks"] == 7 and fb["unreported_weeks"] == 1
    assert fb["fill_units"] == 0 and fb["fill_weeks"] == 0 and not fb["warning"]
    assert page.forward_buy_notes == [
        "Forward buying of Alpha ends at its own latest sell-out week (its POS lags).",
        "Forward buying skipped 1 unreported week of Alpha: sell-in and sell-out are compared over the weeks the "
        "retailer reported."]


def test_stock_counts_without_any_sell_out(hand_db):
    tables = case_tables()
    del tables["sell_out"]
    engine = hand_db(**tables)
    page = inventory.page_data(engine, ALL_WEEKS)
    # No retailer reported any sell-out: the 12 out-of-stock weeks (R1 x A 2, R1 x B 1, R2 x B 9) get no lost-sales
    # estimate, and the 4 lines with stock at week 12 (R1 x A, B, C, R2 x A) have no weeks of cover.
    assert page.kpis["oos_weeks"] == 12 and page.kpis["oos_weeks_unreported"] == 12 and page.kpis["lost_units"] == 0
    assert page.kpis["now_too_few_weeks"] == 4 and page.kpis["now_oos"] == 1
    assert page.notes[0] == ("Lost sales skipped 12 out-of-stock weeks whose sell-out was not reported: no estimate "
                             "is made for them.")
    assert inventory.reconciliation(engine, ALL_WEEKS).empty  # no flow closes without sell-out


def test_a_retailer_whose_stock_counts_lag_is_positioned_at_its_own_latest_count(hand_db):
    # R1's inventory feed arrives through week 11, R2's through 12; both sell 10 a week in weeks 1-12, 40 on hand.
    rows_inv = [inv("R1", "A", w, 40) for w in range(1, 12)] + [inv("R2", "A", w, 40) for w in range(1, 13)]
    rows_so = [so(r, "A", w, 10, 20) for r in ("R1", "R2") for w in range(1, 13)]
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, inventory=rows_inv, sell_out=rows_so)
    rows = rows_by_line(inventory.coverage(engine, ALL_WEEKS))
    # R1 x A at week 11: 40 on hand over weeks 11, 10, 9, 8 at 10 a week -> 4 weeks. (Positioned at week 12 it has
    # no count and would vanish from the page.) R2 x A at week 12: 40 / 10 = 4 weeks too.
    assert rows[("R1", "A")]["week"] == pd.Timestamp(W[11]) and rows[("R1", "A")]["weeks_of_cover"] == pytest.approx(4)
    assert rows[("R2", "A")]["week"] == pd.Timestamp(W[12]) and rows[("R2", "A")]["status"] == "ok"
    page = inventory.page_data(engine, ALL_WEEKS)
    assert page.at == W[12] and page.kpis["positions"] == 2
    assert f"Positions of Alpha are at its own latest stock count, the week of {W[11]:%d %b %Y} (its inventory " \
           "feed lags)." in page.notes
