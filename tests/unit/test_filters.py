"""Filters: the period's dates, and reading a (possibly tampered) URL."""

from __future__ import annotations

import datetime as dt

import pytest

from kam_dash.filters import Filters, Known, Period, monday

LATEST = dt.date(2026, 11, 16)  # a Monday
KNOWN = Known(
    retailers=frozenset({"R001", "R002"}),
    channels=frozenset({"grocery", "mass"}),
    categories=frozenset({"Snacks", "Soups"}),
    brands=frozenset({"Crunch"}),
    first_week=dt.date(2023, 1, 2),
    latest_week=LATEST,
)


def test_monday():
    assert monday(dt.date(2026, 11, 22)) == dt.date(2026, 11, 16)  # Sunday -> that ISO week's Monday
    assert monday(dt.date(2026, 11, 16)) == dt.date(2026, 11, 16)


@pytest.mark.parametrize(("filters", "expected"), [
    (Filters(), (dt.date(2026, 1, 1), LATEST)),
    # 13 weeks ending with the latest: first Monday is 12 weeks before it
    (Filters(period="l13w"), (dt.date(2026, 8, 24), LATEST)),
    (Filters(period="l52w"), (dt.date(2025, 11, 24), LATEST)),
    (Filters(period="year", year=2024), (dt.date(2024, 1, 1), dt.date(2024, 12, 31))),
    (Filters(period="custom", start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31)),
     (dt.date(2025, 3, 1), dt.date(2025, 3, 31))),
])
def test_date_range(filters, expected):
    assert filters.date_range(LATEST) == expected


def test_last_year_is_52_weeks_earlier():
    p = Period(dt.date(2026, 1, 1), LATEST, LATEST)
    assert p.ly_start == dt.date(2025, 1, 2) and p.ly_end == dt.date(2025, 11, 17)
    assert p.ly_end.weekday() == 0  # still a Monday: same ISO week a year earlier


def test_url_round_trip():
    f = Filters(period="custom", start=dt.date(2025, 1, 6), end=dt.date(2025, 6, 30),
                retailers=("R002", "R001"), categories=("Snacks",))
    back, warnings = Filters.from_params(f.to_params(), KNOWN)
    assert back == f and warnings == []
    assert back.retailers == ("R001", "R002")  # order-insensitive: sorted


def test_unknown_values_are_dropped_with_a_warning():
    params = {"period": "l13w", "retailer": ["R001", "R999", "R001'; DROP TABLE sell_in;--"],
              "category": ["Snacks", "<script>alert(1)</script>"], "brand": "Nope"}
    f, warnings = Filters.from_params(params, KNOWN)
    assert f == Filters(period="l13w", retailers=("R001",), categories=("Snacks",))
    assert len(warnings) == 4
    assert any("R999" in w for w in warnings)
    # echoed values are stripped of markup and quotes
    assert not any("<" in w or ";" in w for w in warnings)
    assert any("scriptalert1/script" in w for w in warnings)


@pytest.mark.parametrize(("params", "fragment"), [
    ({"period": "forever"}, "Unknown period"),
    ({"period": "year", "year": "1999"}, "not in the data"),
    ({"period": "year", "year": "20x4"}, "not in the data"),
    ({"period": "year"}, "needs a year"),
    ({"period": "custom", "start": "2026-13-40", "end": "2026-02-01"}, "not a date"),
    ({"period": "custom", "start": "2026-03-01"}, "needs a valid start and end"),
    ({"period": "custom", "start": "2026-03-01", "end": "2026-02-01"}, "after the end date"),
])
def test_bad_periods_fall_back_to_ytd(params, fragment):
    f, warnings = Filters.from_params(params, KNOWN)
    assert f.period == "ytd"
    assert any(fragment in w for w in warnings), warnings


def test_describe_names_period_and_filters():
    text = Filters(period="l13w", categories=("Snacks",)).describe(LATEST)
    assert text.startswith("Last 13 weeks (24 Aug 2026 to 16 Nov 2026")
    assert "categories: Snacks" in text
    assert "all retailers" in Filters().describe(LATEST)
