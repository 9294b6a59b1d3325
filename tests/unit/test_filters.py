"""Filters: the period's dates, and reading a (possibly tampered) URL."""

from __future__ import annotations

import datetime as dt

import pytest

from kam_dash.calendar import resolve_period
from kam_dash.filters import Filters, Known, monday

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
    f = Filters(period="l13w", categories=("Snacks",))
    text = f.describe(resolve_period(f, KNOWN.first_week, LATEST))
    assert text.startswith("Last 13 weeks (24 Aug 2026 to 16 Nov 2026")
    assert "categories: Snacks" in text
    assert "all retailers" in Filters().describe(resolve_period(Filters(), KNOWN.first_week, LATEST))


def test_describe_says_a_full_year_is_clamped_to_the_data():
    f = Filters(period="year", year=2026)
    text = f.describe(resolve_period(f, KNOWN.first_week, LATEST))
    # 2026's first Monday is 5 Jan; the data ends with the week of 16 Nov, so that is where the period ends
    assert text.startswith("Full year 2026 (05 Jan 2026 to 16 Nov 2026, weeks by Monday); data loaded only to")


def test_describe_a_period_outside_the_data():
    f = Filters(period="custom", start=dt.date(2010, 1, 1), end=dt.date(2010, 12, 31))
    assert "no loaded weeks" in f.describe(resolve_period(f, KNOWN.first_week, LATEST))
