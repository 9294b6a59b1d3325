"""Plan tracking on the calendar's edge cases (issue 10): 53-week years, the landing's blend with the plan early
in the year and its range, retail 4-5-4 months and quarters, sell-in's own latest week, and sell-out-only
accounts. Every expected number is worked out by hand in the comments next to it."""

from __future__ import annotations

import datetime as dt

import pytest

from kam_dash import calendar
from kam_dash.filters import Filters
from kam_dash.metrics import plan
from tests.unit.test_plan import LATEST, PRODUCTS, RETAILERS, by_id, plan_tables, sell_in_row

D = dt.date
WEEK = dt.timedelta(weeks=1)


def mondays(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + i * WEEK for i in range((last - first).days // 7 + 1)]


# -- 53-week years ------------------------------------------------------------------------------
def three_years() -> dict:
    """R1 ships 100 a week in 2023 (52 Mondays, Jan 2 .. Dec 25), 110 a week in 2024 (53 Mondays, Jan 1 ..
    Dec 30) except 999 in its first week, 2024-01-01, and 120 a week in 2025 (52 Mondays, Jan 6 .. Dec 29)."""
    rows = [sell_in_row(w, "R1", "A", 100) for w in mondays(D(2023, 1, 2), D(2023, 12, 25))]
    rows += [sell_in_row(w, "R1", "A", 999 if w == D(2024, 1, 1) else 110)
             for w in mondays(D(2024, 1, 1), D(2024, 12, 30))]
    rows += [sell_in_row(w, "R1", "A", 120) for w in mondays(D(2025, 1, 6), D(2025, 12, 29))]
    return dict(retailers=RETAILERS[:1], products=PRODUCTS, sell_in=rows)


def test_a_53_week_year_compares_with_the_52_weeks_before_it(hand_db):
    engine = hand_db(**three_years())
    y2024 = plan.page_data(engine, Filters(period="year", year=2024))
    r1 = by_id(y2024.retailers)["R1"]
    # 2024's last year is all of 2023 and never its own first week: 52 x 100 = 5200 (not 5200 + 999).
    assert r1["ly_actual"] == pytest.approx(5200)
    # 2024 is past: its landing is its actual, 999 + 52 x 110 = 6719.
    assert r1["ytd_actual"] == pytest.approx(6719) and r1["landing_estimate"] == pytest.approx(6719)
    weeks = plan.landing_weeks(engine, Filters(), year=2024)
    assert len(weeks) == 53
    last = weeks[weeks["week"].dt.date == D(2024, 12, 30)].iloc[0]
    assert last["ly_actual"] != last["ly_actual"]  # NaN: the 53rd Monday has no last year
    y2025 = by_id(plan.page_data(engine, Filters(period="year", year=2025)).retailers)["R1"]
    # 2025's last year is 2024-01-08 .. 2024-12-30: 52 x 110 = 5720 (2024-01-01's 999 is nobody's last year).
    assert y2025["ly_actual"] == pytest.approx(5720) and y2025["ytd_actual"] == pytest.approx(52 * 120)


def test_the_run_rate_of_a_year_after_a_53_week_year(hand_db):
    tables = three_years()
    # Cut 2025 after its 30th week (2025-07-28): 30 weeks of 120 in.
    tables["sell_in"] = [r for r in tables["sell_in"] if r["week"] <= D(2025, 7, 28)]
    engine = hand_db(**tables)
    r1 = by_id(plan.landing(engine, Filters()))["R1"]
    # YTD 30 x 120 = 3600 against 2024-01-08 .. 2024-07-29, 30 x 110 = 3300: growth 12/11. The 22 remaining weeks'
    # last years (2024-08-05 .. 2024-12-30) are 110 each -> 120 each: 2640. The share in, 3300 / 5720 = 0.577, is
    # past 40%, so the run rate has full weight: landing 3600 + 2640 = 6240.
    assert r1["growth_ratio"] == pytest.approx(12 / 11) and r1["ytd_ly"] == pytest.approx(3300)
    assert r1["share_in"] == pytest.approx(3300 / 5720) and r1["run_rate_weight"] == 1
    assert r1["landing_estimate"] == pytest.approx(6240) and r1["remaining_weeks"] == 22


# -- the blend with the plan early in the year ---------------------------------------------------
WEEKS_2025 = calendar.weeks_of_year(2025)  # Jan 6 .. Dec 29 2025: 52 Mondays
WEEKS_2026 = calendar.weeks_of_year(2026)  # Jan 5 .. Dec 28 2026: 52 Mondays, each one's last year in 2025


def monthly_targets(rid: str, per_week: float, year: int = 2026) -> list[dict]:
    """A target of `per_week` for each Monday of each month of the year (a month's row = per_week x its
    Mondays, so every week's part is exactly per_week)."""
    return [dict(retailer_id=rid, month=D(year, m, 1), category="",
                 net_sales_target=per_week * len(calendar.weeks_of_month(D(year, m, 1))),
                 sell_out_target=per_week * len(calendar.weeks_of_month(D(year, m, 1))))
            for m in range(1, 13)]


def test_early_in_the_year_the_landing_leans_on_the_plan(hand_db):
    rows = [sell_in_row(w, "R1", "A", 100) for w in WEEKS_2025]  # 2025: 100 a week, 5200 in all
    rows += [sell_in_row(w, "R1", "A", 150) for w in WEEKS_2026[:4]]  # 4 weeks of 2026 at 150 (growth 1.5)
    rows += [sell_in_row(w, "R2", "A", 50) for w in WEEKS_2026[:4]]  # R2 is new: 4 weeks at 50
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=rows,
                     targets=monthly_targets("R1", 110) + monthly_targets("R2", 60))
    out = by_id(plan.landing(engine, Filters()))
    r1 = out["R1"]
    # Share in (last year's phasing): 4 x 100 / 5200 = 1/13; run-rate weight (1/13) / 0.4 = 5/26.
    assert r1["share_in"] == pytest.approx(1 / 13) and r1["run_rate_weight"] == pytest.approx(5 / 26)
    # 48 remaining weeks: run rate 100 x 1.5 = 150 each (7200), plan 110 each (5280).
    # Blend 5/26 x 7200 + 21/26 x 5280 = (36000 + 110880) / 26 = 5649.23; landing 600 + 5649.23 = 6249.23.
    assert r1["run_rate_landing"] == pytest.approx(600 + 7200) and r1["plan_landing"] == pytest.approx(600 + 5280)
    assert r1["landing_estimate"] == pytest.approx(600 + 146880 / 26)
    # Range: 10% x (1 - 1/13) x 5649.23 = 521.47 either side.
    spread = 0.1 * (12 / 13) * (146880 / 26)
    assert r1["landing_low"] == pytest.approx(600 + 146880 / 26 - spread)
    assert r1["landing_high"] == pytest.approx(600 + 146880 / 26 + spread)
    # Old columns stay: annual target 52 x 110 = 5720, gap 6249.23 - 5720.
    assert r1["annual_target"] == pytest.approx(5720)
    assert r1["landing_gap"] == pytest.approx(600 + 146880 / 26 - 5720)
    r2 = out["R2"]
    # R2 has no last year: the share in is the target's, 4 x 60 / (52 x 60) = 1/13; both projections are the
    # target (no growth ratio), so the landing is 200 + 48 x 60 = 3080, the range +/- 0.1 x 12/13 x 2880.
    assert r2["share_in"] == pytest.approx(1 / 13) and r2["landing_estimate"] == pytest.approx(3080)
    assert r2["landing_high"] - r2["landing_estimate"] == pytest.approx(0.1 * 12 / 13 * 2880)
    # The page's totals: the landing adds up (6249.23 + 3080); the share in is weighted by plan landing:
    # (1/13 x 5880 + 1/13 x 3080) / 8960 = 1/13, so the spread is 0.1 x 12/13 x (5649.23 + 2880).
    totals = plan.page_data(engine, Filters()).totals
    assert totals["landing_estimate"] == pytest.approx(600 + 146880 / 26 + 3080)
    assert totals["landing_high"] - totals["landing_estimate"] == pytest.approx(0.1 * 12 / 13 * (146880 / 26 + 2880))


def test_the_range_closes_when_the_year_is_in():
    low, high = plan.landing_range(plan.pd.Series([1000.0, 1000.0]), plan.pd.Series([0.0, 400.0]),
                                   plan.pd.Series([1.0, 0.5]))
    # No remaining sales: no range. 400 remaining at half the year in: 0.1 x 0.5 x 400 = 20 either side.
    assert low.tolist() == [1000.0, 980.0] and high.tolist() == [1000.0, 1020.0]


# -- retail 4-5-4 months and quarters --------------------------------------------------------------
def test_month_and_quarter_to_date_follow_the_retail_calendar(hand_db):
    engine = hand_db(**plan_tables())
    data = plan.page_data(engine, Filters(), calendar_name=calendar.RETAIL_454)
    # Retail 2026 starts Monday 2 Feb 2026 (1 Feb is a Sunday). Months of 4, 5, 4 weeks: P10 Nov 2 .. Nov 23,
    # P11 Nov 30 .. Dec 28 (5 weeks). The cutoff, Dec 14, is in P11 of Q4 FY2026 (P10 .. P12, from Nov 2).
    assert data.month_label == "P11 FY2026" and data.quarter_label == "Q4 FY2026"
    r1 = by_id(data.retailers)["R1"]
    # MTD: Nov 30, Dec 7, Dec 14 at 110 = 330; targets are calendar months spread over their Mondays:
    # Nov 30 is November's (600 / 5 Mondays = 120), Dec 7 and 14 December's (600 / 4 = 150): 420.
    assert (r1["mtd_actual"], r1["mtd_target"]) == pytest.approx((330, 420))
    # QTD: Nov 2 .. Dec 14 = 7 weeks, 770; target 5 x 120 + 2 x 150 = 900.
    assert (r1["qtd_actual"], r1["qtd_target"]) == pytest.approx((770, 900))
    # The year to date does not depend on the setting: 5500 vs 6900.
    assert (r1["ytd_actual"], r1["ytd_target"]) == pytest.approx((5500, 6900))
    gregorian = by_id(plan.page_data(engine, Filters(), calendar_name=calendar.GREGORIAN).retailers)["R1"]
    assert (gregorian["mtd_actual"], gregorian["qtd_actual"]) == pytest.approx((220, 1210))


def test_the_calendar_setting_comes_from_the_environment(hand_db, monkeypatch):
    engine = hand_db(**plan_tables())
    monkeypatch.setenv("KAM_DASH_CALENDAR", "retail-454")
    assert plan.page_data(engine, Filters()).month_label == "P11 FY2026"


# -- each table's own latest week, sell-out-only accounts ------------------------------------------------
def sell_out_row(week, rid, value):
    return dict(week=week, retailer_id=rid, sku_id="A", units=1, sales_value=value)


def test_sell_out_arriving_after_sell_in_does_not_make_a_zero_sell_in_week(hand_db):
    tables = plan_tables()
    # R1's POS for Dec 21 is loaded; its sell-in stops at Dec 14, the latest week of sell-in.
    tables["sell_out"] = [sell_out_row(D(2026, 12, 21), "R1", 10)]
    engine = hand_db(**tables)
    data = plan.page_data(engine, Filters(period="year", year=2026))
    r1 = by_id(data.retailers)["R1"]
    # The plan counts sell-in's own weeks: through Dec 14 (not a 0 for Dec 21): landing 5500 + 110 + 0 = 5610.
    assert data.cutoff == LATEST and data.remaining_weeks == 2
    assert r1["landing_estimate"] == pytest.approx(5610) and r1["ytd_target"] == pytest.approx(6900)


def with_sell_out_only_account(per_week_target: float | None) -> dict:
    tables = plan_tables()
    gamma = dict(retailer_id="R3", retailer_name="Gamma", channel="club", region="E", kam="Max")
    tables["retailers"] = RETAILERS + [gamma]
    # Gamma reports POS and no shipments: 40 a week through 2025, 44 a week in 2026 through Dec 7 (a week behind
    # the latest week, Dec 14), and nothing for the week of Jun 1 2026 (unreported).
    so = [sell_out_row(w, "R3", 40) for w in WEEKS_2025]
    so += [sell_out_row(w, "R3", 44) for w in mondays(D(2026, 1, 5), D(2026, 12, 7)) if w != D(2026, 6, 1)]
    tables["sell_out"] = so
    if per_week_target is not None:
        tables["targets"] = tables["targets"] + monthly_targets("R3", per_week_target)
    return tables


def test_a_sell_out_only_account_is_tracked_on_sell_out_value(hand_db):
    engine = hand_db(**with_sell_out_only_account(50))
    data = plan.page_data(engine, Filters())
    # Gamma has a net sales target but no net sales: never a 0% row among the net sales figures.
    assert "R3" not in set(data.retailers["retailer_id"])
    assert any("No sell-in is loaded for Gamma" in n and "sell-out value" in n for n in data.notes)
    gamma = by_id(data.sell_out_accounts)["R3"]
    assert gamma["through_week"] == D(2026, 12, 7)
    # Reported 2026 weeks through Dec 7: 49 Mondays less Jun 1 = 48, at 44: 2112; their target 48 x 50 = 2400.
    assert (gamma["ytd_actual"], gamma["ytd_target"]) == pytest.approx((2112, 2400))
    assert gamma["ytd_attainment"] == pytest.approx(0.88)
    # Growth over weeks with a reported last year: 2112 / (48 x 40) = 1.1. Projected (run rate, the share in
    # 1920 / 2080 being past 40%): Jun 1 (unreported) and Dec 14, 21, 28 at 40 x 1.1 = 44: landing 2112 + 176.
    assert gamma["growth_ratio"] == pytest.approx(1.1) and gamma["landing_estimate"] == pytest.approx(2288)
    assert gamma["annual_target"] == pytest.approx(52 * 50)
    # The net sales totals are R1's and R2's alone: 5610 + 2750.
    assert data.totals["landing_estimate"] == pytest.approx(8360)
    assert "R3" not in set(plan.landing(engine, Filters())["retailer_id"])


def test_a_sell_out_only_account_without_a_sell_out_target(hand_db):
    tables = with_sell_out_only_account(None)
    engine = hand_db(**tables)
    data = plan.page_data(engine, Filters())
    assert any("no sell-out target" in n and "Gamma" in n for n in data.notes)
    gamma = by_id(data.sell_out_accounts)["R3"]
    assert not gamma["has_target"] and gamma["ytd_attainment"] != gamma["ytd_attainment"]  # NaN, not 0
    assert gamma["ytd_actual"] == pytest.approx(2112)


def test_a_retail_quarter_that_began_the_year_before(hand_db):
    rows = [sell_in_row(w, "R1", "A", 100) for w in WEEKS_2025]
    rows += [sell_in_row(w, "R1", "A", 110) for w in (D(2026, 1, 5), D(2026, 1, 12))]
    engine = hand_db(retailers=RETAILERS[:1], products=PRODUCTS, sell_in=rows,
                     targets=monthly_targets("R1", 100, 2025) + monthly_targets("R1", 120, 2026))
    data = plan.page_data(engine, Filters(), calendar_name=calendar.RETAIL_454)
    # Retail 2025 starts Monday 3 Feb 2025 (1 Feb is a Saturday) and runs 52 weeks to 26 Jan 2026. Its Q4 (weeks
    # 40-52) starts 3 Nov 2025; P12 (weeks 49-52) starts 5 Jan 2026. The cutoff is 12 Jan 2026.
    assert data.year == 2026 and data.month_label == "P12 FY2025" and data.quarter_label == "Q4 FY2025"
    r1 = by_id(data.retailers)["R1"]
    # MTD: Jan 5 and 12 at 110 = 220; target 2 x 120 = 240.
    assert (r1["mtd_actual"], r1["mtd_target"]) == pytest.approx((220, 240))
    # QTD: Nov 3 .. Dec 29 2025 (9 weeks at 100, target 100 each) + the 2 weeks of 2026: 1120 vs 1140.
    assert (r1["qtd_actual"], r1["qtd_target"]) == pytest.approx((1120, 1140))
    assert r1["qtd_attainment"] == pytest.approx(1120 / 1140)
    # The year to date is 2026's alone: 220 vs 240.
    assert (r1["ytd_actual"], r1["ytd_target"]) == pytest.approx((220, 240))


def test_the_target_of_a_full_year_still_being_sold_covers_only_the_loaded_weeks(hand_db):
    from kam_dash.scope import resolve

    engine = hand_db(**plan_tables())
    full_year = resolve(engine, Filters(period="year", year=2026))
    # The period is clamped to the loaded weeks (Jan 5 .. Dec 14 2026), so R1's target is Jan..Nov 11 x 600 plus
    # Dec 7 and 14 (2 of December's 4 Mondays, 300): 6900, the same as year to date, not the year's 7200.
    targets = plan.target_by_retailer(engine, full_year).set_index("retailer_id")["target"]
    ytd = plan.target_by_retailer(engine, resolve(engine, Filters())).set_index("retailer_id")["target"]
    assert targets["R1"] == pytest.approx(6900) and ytd["R1"] == pytest.approx(6900)
    # while the plan page's annual target and landing cover the whole plan year: 12 x 600 = 7200.
    assert by_id(plan.page_data(engine, Filters(period="year", year=2026)).retailers)["R1"]["annual_target"] == \
        pytest.approx(7200)
