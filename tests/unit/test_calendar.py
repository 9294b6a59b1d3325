"""The one calendar: weeks, last year, periods clamped to the data, ISO week numbers, retail 4-5-4 months.

Every expected date is worked out by hand in the comments (2024 has 53 Mondays: 1 Jan 2024 is a Monday).
"""

from __future__ import annotations

import datetime as dt

import pytest

from kam_dash import calendar as cal
from kam_dash.filters import Filters

D = dt.date
LATEST = D(2026, 11, 16)  # a Monday
FIRST = D(2023, 1, 2)  # the first Monday of 2023


def test_weeks_of_a_year_by_monday():
    assert len(cal.weeks_of_year(2024)) == 53  # Mondays 1 Jan .. 30 Dec 2024
    assert cal.weeks_of_year(2024)[0] == D(2024, 1, 1) and cal.weeks_of_year(2024)[-1] == D(2024, 12, 30)
    assert len(cal.weeks_of_year(2025)) == 52  # 6 Jan .. 29 Dec 2025
    assert cal.weeks_of_year(2025)[0] == D(2025, 1, 6)
    assert cal.first_monday(2026) == D(2026, 1, 5)
    assert cal.week_year(D(2024, 12, 30)) == 2024  # its Monday is in 2024 although most of its days are in 2025


def test_last_year_is_364_days_earlier_except_the_53rd_monday():
    assert cal.last_year(D(2025, 1, 6)) == D(2024, 1, 8)  # 2025's first week -> 2024's second
    assert cal.last_year(D(2025, 12, 29)) == D(2024, 12, 30)  # 2025's last week -> 2024's 53rd
    assert cal.last_year(D(2024, 1, 1)) == D(2023, 1, 2)  # 2024's first week -> 2023's first
    assert cal.last_year(D(2024, 12, 23)) == D(2023, 12, 25)
    assert cal.last_year(D(2024, 12, 30)) is None  # 364 days earlier is 1 Jan 2024: inside its own year
    assert cal.next_year(D(2024, 1, 1)) is None  # 2024-01-01 is nobody's last year
    assert cal.next_year(D(2024, 1, 8)) == D(2025, 1, 6)


def test_full_year_2024_compares_with_all_of_2023():
    p = cal.resolve_period(Filters(period="year", year=2024), FIRST, LATEST)
    assert len(p.weeks) == 53 and p.without_last_year == (D(2024, 12, 30),)
    assert len(p.comparable) == 52
    assert (p.ly_start, p.ly_end) == (D(2023, 1, 2), D(2023, 12, 25))  # all 52 weeks of 2023
    assert p.ly_gaps == ()


def test_full_year_2025_compares_with_2024_less_its_first_week():
    p = cal.resolve_period(Filters(period="year", year=2025), FIRST, LATEST)
    assert len(p.weeks) == 52 and p.without_last_year == ()
    assert (p.ly_start, p.ly_end) == (D(2024, 1, 8), D(2024, 12, 30))


def test_a_range_across_the_53rd_week_skips_the_first_monday_of_2024_in_last_year():
    # 4 Dec 2024 .. 3 Feb 2025: weeks 2 Dec 2024 is before start, so 9 Dec 2024 .. 3 Feb 2025 = 9 weeks
    f = Filters(period="custom", start=D(2024, 12, 4), end=D(2025, 2, 3))
    p = cal.resolve_period(f, FIRST, LATEST)
    assert p.weeks[0] == D(2024, 12, 9) and p.weeks[-1] == D(2025, 2, 3) and len(p.weeks) == 9
    assert p.without_last_year == (D(2024, 12, 30),)
    # last years: 11 Dec 2023 .. 25 Dec 2023 (3 weeks), then 8 Jan 2024 .. 3 Feb 2025-364d = 5 Feb 2024 (5 weeks)
    assert (p.ly_start, p.ly_end) == (D(2023, 12, 11), D(2024, 2, 5))
    assert p.ly_gaps == (D(2024, 1, 1),)  # inside the range, nobody's last year
    assert len(p.ly_weeks) == 8


@pytest.mark.parametrize(("filters", "weeks", "start", "end"), [
    (Filters(), 46, D(2026, 1, 5), LATEST),  # YTD: 5 Jan .. 16 Nov 2026 = 46 Mondays
    (Filters(period="l13w"), 13, D(2026, 8, 24), LATEST),  # 16 Nov - 12 weeks = 24 Aug
    (Filters(period="l52w"), 52, D(2025, 11, 24), LATEST),
    # the current year is clamped to the latest week: the same weeks as YTD, so the same numbers
    (Filters(period="year", year=2026), 46, D(2026, 1, 5), LATEST),
    # custom days: Mondays 3 .. 31 Mar 2025
    (Filters(period="custom", start=D(2025, 3, 1), end=D(2025, 3, 31)), 5, D(2025, 3, 3), D(2025, 3, 31)),
    # a range running past both ends of the data keeps only the loaded weeks
    (Filters(period="custom", start=D(2000, 1, 1), end=D(2099, 1, 1)), None, FIRST, LATEST),
])
def test_periods_are_clamped_to_the_loaded_weeks(filters, weeks, start, end):
    p = cal.resolve_period(filters, FIRST, LATEST)
    assert (p.start, p.end) == (start, end)
    if weeks is not None:
        assert len(p.weeks) == weeks
    assert p.weeks[0] == start and p.weeks[-1] == end


def test_full_year_of_the_current_year_equals_ytd():
    ytd = cal.resolve_period(Filters(), FIRST, LATEST)
    year = cal.resolve_period(Filters(period="year", year=2026), FIRST, LATEST)
    assert (year.weeks, year.ly_start, year.ly_end) == (ytd.weeks, ytd.ly_start, ytd.ly_end)
    assert year.clamped and not ytd.clamped


def test_a_period_outside_the_data_is_empty():
    p = cal.resolve_period(Filters(period="custom", start=D(2010, 1, 1), end=D(2010, 6, 30)), FIRST, LATEST)
    assert p.empty and p.weeks == () and p.comparable == ()
    assert p.ly_of(LATEST) is None


def test_ly_of_a_table_that_ends_earlier():
    # YTD to 16 Nov 2026; sell-out of one retailer ends 2 Nov 2026 -> its last year ends 3 Nov 2025
    p = cal.resolve_period(Filters(), FIRST, LATEST)
    assert p.ly_of(D(2026, 11, 2)) == (D(2025, 1, 6), D(2025, 11, 3))


def test_week_number_folds_53_into_52():
    assert cal.week_number(D(2026, 1, 5)) == 2  # ISO: 2026-W02 (1 Jan 2026 is a Thursday, so W01 starts 29 Dec)
    assert cal.week_number(D(2020, 12, 28)) == 52  # ISO 2020-W53 folded
    assert cal.week_number(D(2024, 12, 30)) == 1  # ISO 2025-W01


def test_retail_454_year_starts_on_the_monday_nearest_1_february():
    assert cal.retail_year_start(2024) == D(2024, 1, 29)  # Thu 1 Feb 2024: Mon 29 Jan is 3 days back, 5 Feb 4 ahead
    assert cal.retail_year_start(2025) == D(2025, 2, 3)  # Sat 1 Feb 2025: Mon 3 Feb is 2 days ahead
    assert cal.retail_year_start(2026) == D(2026, 2, 2)  # Sun 1 Feb 2026: Mon 2 Feb is 1 day ahead
    assert cal.retail_weeks_of_year(2024) == 53  # 29 Jan 2024 .. 3 Feb 2025 = 371 days
    assert cal.retail_weeks_of_year(2025) == 52


def test_retail_454_months():
    start = cal.retail_year_start(2025)  # 3 Feb 2025
    assert cal.retail_month(start) == (2025, 1)
    assert cal.retail_month(start + 3 * cal.WEEK) == (2025, 1)  # 4 weeks in month 1
    assert cal.retail_month(start + 4 * cal.WEEK) == (2025, 2)  # month 2 has 5 weeks: weeks 5..9
    assert cal.retail_month(start + 8 * cal.WEEK) == (2025, 2)
    assert cal.retail_month(start + 9 * cal.WEEK) == (2025, 3)
    assert cal.retail_month(D(2025, 1, 27)) == (2024, 12)  # before 3 Feb 2025: retail 2024's last month
    # 2024 is a 53-week retail year: its 53rd week (27 Jan 2025) joins month 12, which so has 5 weeks
    weeks_in_dec = [w for w in cal.weeks_between(D(2024, 12, 1), D(2025, 2, 2)) if cal.retail_month(w) == (2024, 12)]
    assert weeks_in_dec == [D(2024, 12, 30), D(2025, 1, 6), D(2025, 1, 13), D(2025, 1, 20), D(2025, 1, 27)]
    assert cal.quarter_of(start + 13 * cal.WEEK, cal.RETAIL_454) == (2025, 2)  # 4+5+4 = 13 weeks in Q1


def test_gregorian_months_by_monday():
    assert cal.month_of(D(2025, 3, 31)) == (2025, 3)  # a week starting 31 Mar counts in March
    assert cal.weeks_of_month(D(2025, 3, 1)) == [D(2025, 3, 3), D(2025, 3, 10), D(2025, 3, 17), D(2025, 3, 24),
                                                 D(2025, 3, 31)]
