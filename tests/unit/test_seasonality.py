"""The seasonal index, its complete years, peaks, plan phasing and STL, on hand-built tables.

Every expected number is worked out by hand in the comments next to it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kam_dash import export
from kam_dash.filters import Filters
from kam_dash.metrics import plan, seasonality
from tests.unit.test_plan import PRODUCTS, RETAILERS, mondays

D = dt.date


def grid(weeks: list[dt.date], units, reported=lambda w: True, series="S") -> pd.DataFrame:
    """A complete series x week grid: units(week) and reported(week) given as functions."""
    return pd.DataFrame({"series": series, "week": pd.to_datetime(weeks).astype("datetime64[ns]"),
                         "units": [float(units(w)) for w in weeks], "reported": [reported(w) for w in weeks]})


def as_dict(index: pd.DataFrame, series="S") -> dict[int, float]:
    one = index[index["series"] == series]
    return dict(zip(one["period"].astype(int), one["index"]))


# Calendar 2023 and 2024 by Monday: Jan 2 2023 .. Dec 30 2024 (52 + 53 Mondays).
WEEKS_23_24 = mondays(D(2023, 1, 2), D(2024, 12, 30))


# -- the estimator, month grain --------------------------------------------------------------
def test_month_index_averages_each_years_ratios():
    # 2023: January weeks sell 20, the rest 10 -> year mean (20 + 11 x 10) / 12 = 130/12;
    #   ratios Jan 20 / (130/12) = 24/13, other months 12/13.
    # 2024: July weeks sell 30, the rest 10 -> mean 140/12; ratios Jul 36/14 = 18/7, others 12/14 = 6/7.
    # Index = mean of the two years' ratios x 100 (each year's ratios already average 1):
    #   Jan (24/13 + 6/7) / 2 = 135.16; Jul (12/13 + 18/7) / 2 = 174.73; others (12/13 + 6/7) / 2 = 89.01.
    def units(w):
        if w.year == 2023:
            return 20 if w.month == 1 else 10
        return 30 if w.month == 7 else 10

    index, years = seasonality.seasonal_index(grid(WEEKS_23_24, units), "month")
    got = as_dict(index)
    assert got[1] == pytest.approx((24 / 13 + 6 / 7) / 2 * 100)
    assert got[7] == pytest.approx((12 / 13 + 18 / 7) / 2 * 100)
    assert got[3] == pytest.approx((12 / 13 + 6 / 7) / 2 * 100)
    assert np.mean(list(got.values())) == pytest.approx(100)
    assert set(index["years_used"]) == {"2023, 2024"} and set(index["n_years"]) == {2}
    assert years["status"].tolist() == ["complete", "complete"]


def test_month_value_is_mean_weekly_units_so_4_and_5_week_months_compare_fairly():
    # 10 units every week: a 5-Monday month sells more in total, but every month's mean week is 10 -> 100.
    index, _ = seasonality.seasonal_index(grid(WEEKS_23_24, lambda w: 10), "month")
    assert list(index["index"]) == pytest.approx([100.0] * 12)


def test_zero_sales_in_one_month_is_a_real_zero():
    # February sells nothing (weeks reported); the rest 10 -> mean 110/12; Feb 0, others 10 / (110/12) = 12/11.
    index, years = seasonality.seasonal_index(grid(WEEKS_23_24, lambda w: 0 if w.month == 2 else 10), "month")
    got = as_dict(index)
    assert got[2] == 0.0 and got[5] == pytest.approx(1200 / 11)
    assert set(years["status"]) == {"complete"}


def test_a_year_with_an_unreported_week_is_left_out():
    # 2024 misses one week of reporting (Jun 3): only 2023 counts; 2023 is Jan 20 / others 10 -> Jan 2400/13.
    def units(w):
        return 20 if w.month == 1 else 10

    weekly = grid(WEEKS_23_24, lambda w: 50 if w.year == 2024 and w.month == 6 else units(w),
                  reported=lambda w: w != D(2024, 6, 3))
    index, years = seasonality.seasonal_index(weekly, "month")
    assert as_dict(index)[1] == pytest.approx(2400 / 13) and as_dict(index)[6] == pytest.approx(1200 / 13)
    assert set(index["years_used"]) == {"2023"} and set(index["n_years"]) == {1}
    assert dict(zip(years["year"], years["status"])) == {2023: "complete", 2024: "unreported weeks"}


def test_partial_years_and_years_without_sales_are_left_out():
    # Data from Jul 3 2023: 2023 is not fully loaded; 2024 sells nothing; no index at all.
    weeks = mondays(D(2023, 7, 3), D(2024, 12, 30))
    index, years = seasonality.seasonal_index(grid(weeks, lambda w: 5 if w.year == 2023 else 0), "month")
    assert index.empty
    assert dict(zip(years["year"], years["status"])) == {2023: "not fully loaded", 2024: "no sales"}


def test_week_grain_folds_week_53_into_52():
    # ISO 2020 has 53 weeks (Dec 30 2019 .. Dec 28 2020), ISO 2021 has 52 (Jan 4 .. Dec 27 2021).
    # 2020: every week 10, week 53 sells 30 -> period 52 = mean(10, 30) = 20; year mean (51 x 10 + 20) / 52
    #   = 530/52; ratios W52 = 20 / (530/52) = 104/53, others 52/53.   2021: 10 every week -> ratios 1.
    # Index W52 = (104/53 + 1) / 2 = 148.11; others (52/53 + 1) / 2 = 99.06.
    weeks = mondays(D(2019, 12, 30), D(2021, 12, 27))
    assert len(weeks) == 53 + 52
    index, years = seasonality.seasonal_index(grid(weeks, lambda w: 30 if w == D(2020, 12, 28) else 10), "week")
    got = as_dict(index)
    assert sorted(got) == list(range(1, 53))
    assert got[52] == pytest.approx((104 / 53 + 1) / 2 * 100) and got[10] == pytest.approx((52 / 53 + 1) / 2 * 100)
    assert dict(zip(years["year"], years["status"])) == {2020: "complete", 2021: "complete"}


def test_week_grain_2026_has_53_iso_weeks_and_needs_all_of_them():
    # ISO 2026 runs Dec 29 2025 .. Dec 28 2026 (53 weeks); data to Dec 21 2026 leaves it incomplete.
    weeks = mondays(D(2025, 12, 29), D(2026, 12, 21))
    _, years = seasonality.seasonal_index(grid(weeks, lambda w: 1), "week")
    assert years["status"].tolist() == ["not fully loaded"]
    weeks.append(D(2026, 12, 28))
    index, years = seasonality.seasonal_index(grid(weeks, lambda w: 1), "week")
    assert years["status"].tolist() == ["complete"] and len(index) == 52


def test_peaks_and_troughs():
    index = pd.DataFrame({"series": "S", "period": range(1, 13),
                          "index": [50, 60, 70, 80, 90, 100, 150, 140, 130, 110, 105, 115.0]})
    peaks = seasonality.peaks_and_troughs(index, "month")
    top = peaks[peaks["kind"] == "Peak"]
    bottom = peaks[peaks["kind"] == "Trough"]
    assert top["label"].tolist() == ["Jul", "Aug", "Sep"] and top["index"].tolist() == [150, 140, 130]
    assert bottom["label"].tolist() == ["Jan", "Feb", "Mar"] and bottom["rank"].tolist() == [1, 2, 3]


# -- from the database (retailers R1 Alpha, R2 Beta; products A Ice Cream, B Soups) ------------------
# Calendar 2023, 2024, 2025 by Monday: Jan 2 2023 .. Dec 29 2025.
WEEKS_3Y = mondays(D(2023, 1, 2), D(2025, 12, 29))


def sell_out_rows() -> list[dict]:
    rows = []
    for w in WEEKS_3Y:
        # R1 Ice Cream: January weeks 20, the rest 10, every year. R1 Soups: 10, but nothing in February
        # (no row: R1 still reports Ice Cream, so those weeks sold 0 Soups).
        rows.append(dict(week=w, retailer_id="R1", sku_id="A", units=20 if w.month == 1 else 10, sales_value=1))
        if w.month != 2:
            rows.append(dict(week=w, retailer_id="R1", sku_id="B", units=10, sales_value=1))
        # R2 Ice Cream: 2023 January 20 / rest 10; no data at all in 2024 (a missing year);
        # 2025 July 30 / rest 10.
        if w.year == 2023:
            rows.append(dict(week=w, retailer_id="R2", sku_id="A", units=20 if w.month == 1 else 10, sales_value=1))
        elif w.year == 2025:
            rows.append(dict(week=w, retailer_id="R2", sku_id="A", units=30 if w.month == 7 else 10, sales_value=1))
    return rows


def units_targets(year: int) -> list[dict]:
    # R1's Ice Cream plan: 100 units per Monday of the month, 200 per Monday in July -> mean weekly
    # target Jul 200, others 100 -> plan index Jul 200 / (1300/12) = 2400/13, others 1200/13.
    return [dict(retailer_id="R1", month=D(year, m, 1), category="Ice Cream", net_sales_target=1.0,
                 units_target=(200 if m == 7 else 100) * len(plan.weeks_of_month(D(year, m, 1))))
            for m in range(1, 13)]


@pytest.fixture()
def engine(hand_db):
    return hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=sell_out_rows(), targets=units_targets(2025))


def test_export_by_category(engine):
    frame = export.compute("seasonality", engine, Filters(), grain="month")
    assert list(frame.columns) == seasonality.INDEX_COLUMNS
    ice = frame[frame["category"] == "Ice Cream"].set_index("period")["index"]
    soups = frame[frame["category"] == "Soups"].set_index("period")["index"]
    # Portfolio Ice Cream, 2023: R1 + R2 = Jan 40 / rest 20 -> ratios 24/13, 12/13.
    # 2024 (only R1 sells; R1 still reports): Jan 20 / rest 10 -> the same ratios.
    # 2025: R1 Jan 20 + R2 10 = 30, Jul 10 + 30 = 40, rest 20 -> mean (30 + 40 + 200) / 12 = 22.5;
    #   ratios Jan 30/22.5 = 4/3, Jul 40/22.5 = 16/9, others 20/22.5 = 8/9.
    # Index Jan (24/13 x 2 + 4/3) / 3 = 167.52, Jul (12/13 x 2 + 16/9) / 3 = 120.80, Mar (12/13 x 2 + 8/9) / 3.
    assert ice[1] == pytest.approx((2 * 24 / 13 + 4 / 3) / 3 * 100)
    assert ice[7] == pytest.approx((2 * 12 / 13 + 16 / 9) / 3 * 100)
    assert ice[3] == pytest.approx((2 * 12 / 13 + 8 / 9) / 3 * 100)
    # Soups: February 0, the rest 10 / (110/12) = 12/11 in every year.
    assert soups[2] == 0 and soups[4] == pytest.approx(1200 / 11)
    assert set(frame["years_used"]) == {"2023, 2024, 2025"}


def test_a_retailer_with_a_missing_year(engine):
    # R2 reported nothing in 2024, so only 2023 and 2025 count: Jan (24/13 + 6/7) / 2, Jul (12/13 + 18/7) / 2.
    frame = export.compute("seasonality", engine, Filters(retailers=("R2",)), grain="month")
    ice = frame[frame["category"] == "Ice Cream"].set_index("period")
    assert ice.loc[1, "index"] == pytest.approx((24 / 13 + 6 / 7) / 2 * 100)
    assert ice.loc[7, "index"] == pytest.approx((12 / 13 + 18 / 7) / 2 * 100)
    assert set(ice["years_used"]) == {"2023, 2025"}
    # R2 never sold Soups: every reported year has no sales -> no Soups rows.
    assert "Soups" not in set(frame["category"])


def test_export_week_grain_and_category_filter(engine):
    frame = export.compute("seasonality", engine, Filters(categories=("Soups",)), grain="week")
    assert set(frame["category"]) == {"Soups"} and sorted(frame["period"]) == list(range(1, 53))
    assert frame["index"].mean() == pytest.approx(100)


def test_page_data_compares_the_retailer_with_the_portfolio_and_the_plan(engine):
    data = seasonality.page_data(engine, Filters(), "month", category="Ice Cream", retailer="R2")
    assert data.category == "Ice Cream" and data.retailer == "R2"
    comparison = data.comparison.pivot(index="period", columns="series", values="index")
    assert comparison.loc[1, "Beta"] == pytest.approx((24 / 13 + 6 / 7) / 2 * 100)
    assert comparison.loc[1, "Portfolio"] == pytest.approx((2 * 24 / 13 + 4 / 3) / 3 * 100)
    # The plan year is 2025 (the latest week's): plan Jul 2400/13 = 184.6 vs the season's 120.8.
    phasing = data.phasing.set_index("period")
    assert data.phasing_measure == "units target" and data.plan_year == 2025
    assert phasing.loc[7, "plan_index"] == pytest.approx(2400 / 13)
    assert phasing.loc[7, "seasonal_index"] == pytest.approx((2 * 12 / 13 + 16 / 9) / 3 * 100)
    # YoY lines: R2 reported nothing in the 53 Mondays of 2024 (Jan 1 .. Dec 30 2024), a gap between its
    # reported weeks of 25 Dec 2023 (10 units) and 6 Jan 2025 (10): each of them is R2's straight line, 10, never
    # 0. So all 157 weeks are drawn, ISO 2023 to the first week of ISO 2026; a 2024 week outside January sells
    # R1 10 + R2 10 = 20, and the page says 53 retailer-weeks were interpolated.
    assert sorted(data.yoy["year"].unique()) == [2023, 2024, 2025, 2026] and len(data.yoy) == len(WEEKS_3Y)
    june_2024 = data.yoy[(data.yoy["year"] == 2024) & (data.yoy["week_of_year"] == 23)]["units"]
    assert june_2024.tolist() == [20.0]
    assert any("53 unreported retailer-weeks" in n for n in data.notes)
    # 157 weeks: enough for STL; the 53 weeks holding an interpolated retailer-week are marked; trend +
    # seasonal + remainder rebuild the weekly units.
    rebuilt = data.stl["trend"] + data.stl["seasonal"] + data.stl["remainder"]
    assert np.allclose(rebuilt, data.stl["observed"]) and len(data.stl) == len(WEEKS_3Y)
    assert int(data.stl["interpolated"].sum()) == 53 and data.stl["observed"].min() >= 20
    assert not data.warnings


def test_page_data_warns_with_one_complete_year(hand_db):
    rows = [r for r in sell_out_rows() if r["week"].year == 2025]
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=rows)
    data = seasonality.page_data(engine, Filters(), "month")
    assert len(data.index) == 24  # both categories, 12 months each, from 2025 alone
    assert any("Only one complete year" in w and "Ice Cream" in w for w in data.warnings)
    assert data.stl is None and any("needs at least 104" in n for n in data.notes)
    assert any("No category targets" in n for n in data.notes)


def test_page_data_with_no_complete_year(hand_db):
    rows = [r for r in sell_out_rows() if r["week"] >= D(2025, 3, 3)]
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=rows)
    data = seasonality.page_data(engine, Filters(), "week", category="Nonsense", retailer="R9")
    assert data.index.empty and data.category == "Ice Cream" and data.retailer == "R1"
    assert any("No seasonal index for Ice Cream" in w for w in data.warnings)


def test_page_data_on_an_empty_database(empty_db):
    from kam_dash.engine import DuckDBEngine

    data = seasonality.page_data(DuckDBEngine(empty_db), Filters())
    assert data.index.empty and data.notes
    assert export.compute("seasonality", DuckDBEngine(empty_db), Filters()).empty


def test_decompose_needs_two_cycles():
    weeks = pd.date_range("2023-01-02", periods=103, freq="7D")
    assert seasonality.decompose(pd.DataFrame({"week": weeks, "units": 1.0})) is None


# -- unreported weeks (issue 10, item 5) ------------------------------------------------------------
def test_a_year_uses_only_the_retailers_that_reported_every_week(hand_db):
    # R1 and R2 sell 10 Ice Cream units every week of 2023 and 2024 (flat: every index 100). R2's POS for the
    # week of 3 Jun 2024 never arrived (no row for any SKU). Reading that week as 0 would make June 2024
    # (Mondays 3, 10, 17, 24) average (10 + 20 + 20 + 20) / 4 = 17.5 against a year mean near 20, an index
    # below 100. The rule: 2024 reads only R1, which reported every week -> June 10 / 10 = 100, like every
    # month; 2023 reads both retailers.
    weeks = mondays(D(2023, 1, 2), D(2024, 12, 30))
    rows = [dict(week=w, retailer_id=r, sku_id="A", units=10, sales_value=1) for w in weeks for r in ("R1", "R2")
            if not (r == "R2" and w == D(2024, 6, 3))]
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=rows)
    frame = export.compute("seasonality", engine, Filters(), grain="month")
    ice = frame[frame["category"] == "Ice Cream"].set_index("period")["index"]
    assert ice[6] == pytest.approx(100) and list(ice) == pytest.approx([100.0] * 12)
    assert set(frame["years_used"]) == {"2023, 2024"}
    data = seasonality.page_data(engine, Filters(), "month", category="Ice Cream")
    years = data.years[data.years["series"] == "Ice Cream"].set_index("year")["retailers"]
    assert years[2023] == 2 and years[2024] == 1
    assert any("2024: 1 of 2" in n for n in data.notes)
    # The year-over-year lines draw R2's missing week as its straight line (10, between 10 and 10): R1 10 + 10
    # = 20 in ISO week 23 of 2024 (3 Jun), not the 10 a zero would give.
    week_23 = data.yoy[(data.yoy["year"] == 2024) & (data.yoy["week_of_year"] == 23)]["units"]
    assert len(data.yoy) == len(weeks) and week_23.tolist() == [20.0]
    assert any("1 unreported retailer-week" in n for n in data.notes)


def test_stl_interpolates_a_chain_wide_unreported_week_instead_of_reading_zero(hand_db):
    # The sell-out of the week of 2 Jun 2025 never arrived from anyone. Its neighbours (26 May and 9 Jun 2025)
    # sold R1 10 + R2 10 = 20 Ice Cream units each (outside January and July), so STL reads a straight line
    # between them: 20, not 0.
    gap = D(2025, 6, 2)
    rows = [r for r in sell_out_rows() if r["week"] != gap]
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=rows)
    data = seasonality.page_data(engine, Filters(), "month", category="Ice Cream")
    stl = data.stl.set_index("week")
    assert stl.loc[pd.Timestamp(gap), "observed"] == pytest.approx(20)
    assert bool(stl.loc[pd.Timestamp(gap), "interpolated"])
    assert stl.loc[pd.Timestamp(D(2025, 6, 9)), "observed"] == pytest.approx(20)


def test_detail_series_interpolates_each_retailers_own_gap_and_stops_where_a_retailer_lags():
    # Weeks 0-5. A reports 10, 12, -, 16, 18, 20 (week 2 unreported); B reports 5 in weeks 0-3 and then lags.
    # Week 2: A's line between 12 and 16 -> 14, plus B's 5 = 19 (1 interpolated retailer-week). Weeks 4-5: B has
    # not reported them yet -> late, left out. STL reads 15, 17, 19, 21.
    weeks = pd.date_range("2025-01-06", periods=6, freq="7D").astype("datetime64[ns]")
    a_weeks = [w for i, w in enumerate(weeks) if i != 2]
    units = pd.DataFrame({"category": "C", "retailer_id": ["A"] * 5 + ["B"] * 4,
                          "week": a_weeks + list(weeks[:4]), "units": [10, 12, 16, 18, 20, 5, 5, 5, 5.0]})
    reported = units[["retailer_id", "week"]]
    detail = seasonality.detail_series(units, reported, "C", pd.DatetimeIndex(weeks))
    assert detail["interpolated"].tolist() == [0, 0, 1, 0, 0, 0]
    assert detail["late"].tolist() == [False] * 4 + [True] * 2
    got, interpolated = seasonality.stl_input(detail)
    assert list(got["units"]) == [15, 17, 19, 21] and interpolated == 1
    assert list(got["interpolated"]) == [False, False, True, False]
