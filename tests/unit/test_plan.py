"""Targets spread to weeks, the landing estimate, the plan-tracking page and the `plan` export, on hand-built
tables. Every expected number is worked out by hand in the comments next to it."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from kam_dash import export
from kam_dash.filters import Filters
from kam_dash.metrics import plan

D = dt.date
WEEK = dt.timedelta(weeks=1)
LATEST = D(2026, 12, 14)  # the latest loaded week: Dec 21 and Dec 28 2026 remain


def mondays(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + i * WEEK for i in range((last - first).days // 7 + 1)]


WEEKS_2025 = plan.year_weeks(2025)  # Jan 6 .. Dec 29 2025, 52 Mondays
WEEKS_2026_DONE = mondays(D(2026, 1, 5), LATEST)  # 50 Mondays

RETAILERS = [
    dict(retailer_id="R1", retailer_name="Alpha", channel="grocery", region="N", kam="Kim"),
    dict(retailer_id="R2", retailer_name="Beta", channel="mass", region="S", kam="Lee"),
]
PRODUCTS = [
    dict(sku_id="A", sku_name="Cone", brand="Polar", category="Ice Cream"),
    dict(sku_id="B", sku_name="Broth", brand="Hearth", category="Soups"),
]


def sell_in_row(week, rid, sku, net):
    return dict(week=week, retailer_id=rid, sku_id=sku, units=1, gross_sales=net, net_sales=net)


def plan_tables() -> dict:
    rows = []
    # R1 in 2025: A 60 + B 40 = 100 a week, except Dec 29 2025 with no row (it shipped nothing that week).
    for w in WEEKS_2025[:-1]:
        rows += [sell_in_row(w, "R1", "A", 60), sell_in_row(w, "R1", "B", 40)]
    # R1 in 2026 up to the latest week: A 66 + B 44 = 110 a week (10% up).
    for w in WEEKS_2026_DONE:
        rows += [sell_in_row(w, "R1", "A", 66), sell_in_row(w, "R1", "B", 44)]
    # R2 is new in 2026: A 50 a week, no last year at all.
    rows += [sell_in_row(w, "R2", "A", 50) for w in WEEKS_2026_DONE]
    targets = []
    for m in range(1, 13):
        month = D(2026, m, 1)
        # R1: 600 a month in all, split 360 Ice Cream + 240 Soups.
        targets += [dict(retailer_id="R1", month=month, category="", net_sales_target=600),
                    dict(retailer_id="R1", month=month, category="Ice Cream", net_sales_target=360),
                    dict(retailer_id="R1", month=month, category="Soups", net_sales_target=240)]
        # R2: 200 a month, 500 in December; no category rows.
        targets.append(dict(retailer_id="R2", month=month, category="", net_sales_target=500 if m == 12 else 200))
    return dict(retailers=RETAILERS, products=PRODUCTS, sell_in=rows, targets=targets)


@pytest.fixture()
def engine(hand_db):
    return hand_db(**plan_tables())


@pytest.fixture()
def engine_no_targets(hand_db):
    tables = plan_tables()
    del tables["targets"]
    return hand_db(**tables)


def by_id(frame: pd.DataFrame, key: str = "retailer_id") -> dict:
    return {r[key]: r for r in frame.to_dict("records")}


# -- targets spread to weeks -------------------------------------------------------------
def test_weeks_of_month_and_year():
    # December 2026 has Mondays 7, 14, 21, 28; 2024 has 53 Mondays (Jan 1 .. Dec 30).
    assert plan.weeks_of_month(D(2026, 12, 1)) == [D(2026, 12, 7), D(2026, 12, 14), D(2026, 12, 21), D(2026, 12, 28)]
    assert len(plan.year_weeks(2024)) == 53 and plan.year_weeks(2024)[-1] == D(2024, 12, 30)
    assert len(plan.year_weeks(2026)) == 52 and plan.year_weeks(2026)[0] == D(2026, 1, 5)


def test_weekly_targets_spread_evenly_over_the_mondays_of_the_month(engine):
    from kam_dash.scope import resolve

    scope = resolve(engine, Filters())
    weekly = plan.weekly_targets(engine, scope, D(2026, 12, 14), D(2026, 12, 31))
    r2 = weekly[weekly["retailer_id"] == "R2"]
    # R2 December 500 over 4 Mondays = 125 each; Dec 14, 21 and 28 are in range.
    assert list(r2["week"].dt.date) == [D(2026, 12, 14), D(2026, 12, 21), D(2026, 12, 28)]
    assert r2["target"].tolist() == [125.0, 125.0, 125.0]
    by_cat = plan.weekly_targets(engine, scope, D(2026, 12, 7), D(2026, 12, 7), by_category=True)
    # Only R1 has category rows: Ice Cream 360 / 4 = 90, Soups 240 / 4 = 60.
    assert sorted(zip(by_cat["category"], by_cat["target"])) == [("Ice Cream", 90.0), ("Soups", 60.0)]
    assert plan.weekly_targets(engine, scope.with_period(scope.period), D(2026, 1, 5), D(2026, 1, 5),
                               measure="net_sales_target").shape[0] == 2


# -- the landing estimate -------------------------------------------------------------------
def test_landing_grows_last_year_and_uses_the_target_without_a_last_year(engine):
    out = by_id(plan.landing(engine, Filters()))
    r1, r2 = out["R1"], out["R2"]
    # R1: YTD 50 weeks x 110 = 5500; the same weeks last year 50 x 100 = 5000 -> growth 1.1.
    assert r1["ytd_actual"] == pytest.approx(5500) and r1["ytd_ly"] == pytest.approx(5000)
    assert r1["growth_ratio"] == pytest.approx(1.1)
    # Remaining: Dec 21 (last year Dec 22 2025: 100 -> 110) and Dec 28 (last year Dec 29 2025 had no row
    # inside R1's data span: it shipped 0 -> 0). Landing 5500 + 110 + 0 = 5610.
    assert r1["remaining_weeks"] == 2 and r1["landing_estimate"] == pytest.approx(5610)
    # Annual target 12 x 600 = 7200; gap 5610 - 7200 = -1590; run rate (7200 - 5500) / 2 = 850.
    assert r1["annual_target"] == pytest.approx(7200) and r1["landing_gap"] == pytest.approx(-1590)
    assert r1["required_weekly_run_rate"] == pytest.approx(850)
    # YTD target: Jan..Nov 11 x 600 = 6600 plus Dec 7 and 14 (2 of 4 Mondays) 300 -> 6900.
    assert r1["ytd_target"] == pytest.approx(6900)
    # R2 has no last year: growth undefined, so each remaining week counts its part of the December
    # target (500 / 4 = 125): landing 50 x 50 + 2 x 125 = 2750; annual 11 x 200 + 500 = 2700.
    assert math.isnan(r2["growth_ratio"]) and r2["landing_estimate"] == pytest.approx(2750)
    assert r2["landing_gap"] == pytest.approx(50) and r2["required_weekly_run_rate"] == pytest.approx(100)


def test_landing_weeks_say_where_each_projection_comes_from(engine):
    weeks = plan.landing_weeks(engine, Filters())
    r1 = weeks[weeks["retailer_id"] == "R1"].set_index(weeks.loc[weeks["retailer_id"] == "R1", "week"].dt.date)
    assert r1.loc[D(2026, 12, 21), "basis"] == "last_year"
    assert r1.loc[D(2026, 12, 21), "projected"] == pytest.approx(110)
    assert r1.loc[D(2026, 12, 28), "ly_actual"] == 0 and r1.loc[D(2026, 12, 28), "projected"] == 0
    assert r1.loc[LATEST, "basis"] == "actual" and math.isnan(r1.loc[D(2026, 12, 21), "actual"])
    r2 = weeks[weeks["retailer_id"] == "R2"]
    assert set(r2.loc[r2["week"].dt.date > LATEST, "basis"]) == {"target"}
    assert r2["ly_actual"].isna().all()  # before R2's first week: no last year


def test_landing_by_category_uses_category_targets_or_nothing(engine):
    out = plan.landing(engine, Filters(), by_category=True).set_index(["retailer_id", "category"])
    # R1 Ice Cream: YTD 50 x 66 = 3300 vs 50 x 60 = 3000 -> 1.1; Dec 21: 60 x 1.1 = 66, Dec 28: 0 -> 3366.
    assert out.loc[("R1", "Ice Cream"), "landing_estimate"] == pytest.approx(3366)
    assert out.loc[("R1", "Soups"), "landing_estimate"] == pytest.approx(2200 + 44)
    # R2 Ice Cream: no last year and no category target -> the remaining weeks add nothing: 2500.
    assert out.loc[("R2", "Ice Cream"), "landing_estimate"] == pytest.approx(2500)
    assert math.isnan(out.loc[("R2", "Ice Cream"), "annual_target"])


def test_landing_of_a_past_year_is_its_actual_and_has_no_run_rate(engine):
    out = by_id(plan.landing(engine, Filters(), year=2025))
    # 2025: 51 weeks x 100 (Dec 29 shipped nothing) = 5100; nothing remains, so no run rate.
    assert out["R1"]["landing_estimate"] == pytest.approx(5100) and out["R1"]["remaining_weeks"] == 0
    assert math.isnan(out["R1"]["required_weekly_run_rate"])
    assert "R2" not in out  # no sales and no target in 2025


def test_run_rate_is_empty_with_no_remaining_week():
    rate = plan.run_rate(pd.Series([1000.0, 1000.0]), pd.Series([400.0, 400.0]), pd.Series([3, 0]))
    assert rate.iloc[0] == pytest.approx(200) and math.isnan(rate.iloc[1])


def test_landing_on_an_empty_database(hand_db):
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS)
    assert plan.landing(engine, Filters()).empty and plan.landing_weeks(engine, Filters()).empty


# -- the page ----------------------------------------------------------------------------------
def test_page_data_month_quarter_and_ytd(engine):
    data = plan.page_data(engine, Filters())
    assert data.year == 2026 and data.cutoff == LATEST and data.remaining_weeks == 2
    assert data.month_label == "December 2026" and data.quarter_label == "Q4 2026"
    r1 = by_id(data.retailers)["R1"]
    # Month to date: Dec 7 and 14 -> actual 220, target 2 x 150 = 300, attainment 0.7333, gap -80.
    assert (r1["mtd_actual"], r1["mtd_target"], r1["mtd_gap"]) == pytest.approx((220, 300, -80))
    assert r1["mtd_attainment"] == pytest.approx(220 / 300)
    # Quarter to date: Oct (4 Mondays) + Nov (5) + 2 Dec weeks = 11 x 110 = 1210; target 600 + 600 + 300 = 1500.
    assert (r1["qtd_actual"], r1["qtd_target"]) == pytest.approx((1210, 1500))
    assert r1["qtd_attainment"] == pytest.approx(1210 / 1500)
    # Year to date 5500 vs 6900; last year's whole year over the same ISO weeks: 51 x 100 (+ 0) = 5100.
    assert (r1["ytd_actual"], r1["ytd_target"], r1["ytd_gap"]) == pytest.approx((5500, 6900, -1400))
    assert r1["ly_actual"] == pytest.approx(5100)
    # Sorted by landing gap: R1 (-1590) before R2 (+50).
    assert list(data.retailers["retailer_id"]) == ["R1", "R2"]
    cats = by_id(data.categories, "category")
    # Ice Cream = R1 3366 + R2 2500 = 5866 landing; annual 12 x 360 = 4320 (R2 has no category target).
    assert cats["Ice Cream"]["landing_estimate"] == pytest.approx(5866)
    assert cats["Ice Cream"]["annual_target"] == pytest.approx(4320)
    assert cats["Soups"]["ytd_actual"] == pytest.approx(50 * 44)
    # Totals: landing 5610 + 2750 = 8360, annual 7200 + 2700 = 9900, run rate (9900 - 8000) / 2 = 950.
    assert data.totals["landing_estimate"] == pytest.approx(8360)
    assert data.totals["required_weekly_run_rate"] == pytest.approx(950)


def test_waterfall_walks_from_last_year_to_the_landing(engine):
    steps = plan.page_data(engine, Filters()).waterfall
    # Last year 5100 (R1) + 0 (R2); R2 +2750 (new), R1 +510 (5610 - 5100); landing 8360.
    assert steps["step"].tolist() == ["Last year", "Beta", "Alpha", "Landing"]
    assert steps["value"].tolist() == pytest.approx([5100, 2750, 510, 8360])
    assert steps["measure"].tolist() == ["absolute", "relative", "relative", "total"]
    lumped = plan.waterfall(plan.page_data(engine, Filters()).retailers, max_steps=1)
    assert lumped["step"].tolist() == ["Last year", "Beta", "Other 1 retailers", "Landing"]


def test_page_data_without_targets_shows_actuals_with_a_note(engine_no_targets):
    data = plan.page_data(engine_no_targets, Filters())
    assert any("No targets are loaded" in n for n in data.notes)
    r1 = by_id(data.retailers)["R1"]
    assert r1["ytd_actual"] == pytest.approx(5500) and math.isnan(r1["annual_target"])
    # Without a target the remaining weeks still grow last year: 5500 + 110 + 0.
    assert r1["landing_estimate"] == pytest.approx(5610)


def test_page_data_for_a_past_year_and_a_brand_filter(engine):
    past = plan.page_data(engine, Filters(period="year", year=2025))
    assert past.year == 2025 and past.cutoff == D(2025, 12, 29) and past.remaining_weeks == 0
    assert by_id(past.retailers)["R1"]["landing_estimate"] == pytest.approx(5100)
    branded = plan.page_data(engine, Filters(brands=("Polar",)))
    assert any("brand filter" in n for n in branded.notes)
    # Under a brand filter only sku A counts: R1 YTD 50 x 66 = 3300, and no target.
    r1 = by_id(branded.retailers)["R1"]
    assert r1["ytd_actual"] == pytest.approx(3300) and math.isnan(r1["ytd_target"])


def test_page_data_on_an_empty_database(empty_db):
    from kam_dash.engine import DuckDBEngine

    engine = DuckDBEngine(empty_db)
    data = plan.page_data(engine, Filters())
    assert data.retailers.empty and data.notes


# -- the export --------------------------------------------------------------------------------
def test_plan_export_rows(engine):
    frame = export.compute("plan", engine, Filters())
    assert list(frame.columns) == plan.PLAN_COLUMNS
    # R1: all-category + Ice Cream + Soups; R2: all-category + Ice Cream (sales, no category target).
    keys = frame[["retailer_id", "category"]].drop_duplicates().apply(tuple, axis=1).tolist()
    assert keys == [("R1", ""), ("R1", "Ice Cream"), ("R1", "Soups"), ("R2", ""), ("R2", "Ice Cream")]
    assert (frame.groupby(["retailer_id", "category"]).size() == 12).all()
    rows = frame.set_index(["retailer_id", "category", "month"])
    nov = rows.loc[("R1", "", D(2026, 11, 1))]
    # November: 5 Mondays x 110 = 550 vs 600 -> 0.9167.
    assert (nov["target"], nov["actual"]) == pytest.approx((600, 550)) and nov["attainment"] == pytest.approx(550 / 600)
    dec = rows.loc[("R1", "", D(2026, 12, 1))]
    # December in progress: the whole month's target (600), 2 weeks' actual 220, attainment vs those weeks' 300.
    assert (dec["target"], dec["actual"], dec["attainment"]) == pytest.approx((600, 220, 220 / 300))
    # The year's columns repeat on every row: YTD 6900 / 5500, landing 5610, annual 7200, gap -1590, rate 850.
    r1_all = frame[(frame["retailer_id"] == "R1") & (frame["category"] == "")]
    # R1's share in is 5000 / 5100 (its YTD weeks' last year over the year's): the range is
    # 0.1 x (1 - 50/51) x 110 = 0.2157 either side of the landing.
    for col, value in (("ytd_target", 6900), ("ytd_actual", 5500), ("landing_estimate", 5610),
                       ("landing_low", 5610 - 11 / 51), ("landing_high", 5610 + 11 / 51),
                       ("annual_target", 7200), ("landing_gap", -1590), ("required_weekly_run_rate", 850)):
        assert r1_all[col].tolist() == pytest.approx([value] * 12), col
    ice = rows.loc[("R1", "Ice Cream", D(2026, 11, 1))]
    # Ice Cream November: 5 x 66 = 330 vs 360; landing 3366 - annual 4320 = -954.
    assert (ice["target"], ice["actual"], ice["landing_gap"]) == pytest.approx((360, 330, -954))


def test_plan_export_for_a_past_year(engine):
    frame = export.compute("plan", engine, Filters(), year=2025)
    r1 = frame[(frame["retailer_id"] == "R1") & (frame["category"] == "")].set_index("month")
    # December 2025: Dec 1, 8, 15, 22 at 100 and Dec 29 at 0 -> 400; no 2025 targets.
    assert r1.loc[D(2025, 12, 1), "actual"] == pytest.approx(400) and math.isnan(r1.loc[D(2025, 12, 1), "target"])
    assert r1["landing_estimate"].tolist() == pytest.approx([5100] * 12)
    assert r1["required_weekly_run_rate"].isna().all()
