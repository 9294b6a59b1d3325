"""Tampered links: every page renders, with a warning and no exception, whatever the query string says.

Two found by hand crashed every page before: `?period=year&year=²⁰²⁵` (superscript digits pass str.isdigit)
and a custom range outside the date picker's bounds. The generator below mixes such values with others of the
same families (Unicode digits, far dates, markdown, SQL, very long text) under a fixed seed, so a failure
reproduces. The filters' reading of the URL is checked on hundreds of query strings per page; each page is then
run under AppTest on a sample of them (a page run takes about a second here, so the sample keeps the suite fast).
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from kam_dash.filters import PERIODS, Filters, Known, custom_bounds
from tests.app.conftest import open_app
from tests.app.test_shell import PAGES

SEED = 20261201
PER_PAGE = 300  # query strings per page through the URL reader
APPTEST_PER_PAGE = 6  # of them, run as a whole page under AppTest (plus the two known crashers)
KNOWN_CRASHERS = ({"period": "year", "year": "²⁰²⁵"},
                  {"period": "custom", "start": "0001-01-01", "end": "9999-12-31"})

NASTY_TEXT = ["²⁰²⁵", "٢٠٢٥", "2025.0", "-1", "0", "99999999999999999999", "1e3", " 2025 ", "", "x" * 500,
              "**bold**", "[link](http://evil.example)", ":red[alarm]", "<script>alert(1)</script>",
              "' OR 1=1 --", "R001", "Snacks", "%00", "\u202e2025", "NaN", "None", "2025-13-01"]
DATES = ["0001-01-01", "9999-12-31", "2025-02-30", "2025-W01-1", "20250101", "1970-01-01", "2026-11-16",
         "2024-12-30", "3000-01-01", "01/02/2025", "2025-1-1"]
PAGE_KEYS = ["account", "method", "event", "grain", "series", "compare", "inv_retailer", "inv_window", "tab"]


def generated(rng: random.Random) -> dict[str, str | list[str]]:
    params: dict[str, str | list[str]] = {}
    params["period"] = rng.choice([*PERIODS, "year", "custom", "custom", rng.choice(NASTY_TEXT)])
    if rng.random() < 0.8:
        params["year"] = rng.choice(NASTY_TEXT + ["2024", "2025", "2026", "1900"])
    for key in ("start", "end"):
        if rng.random() < 0.8:
            params[key] = rng.choice(DATES + NASTY_TEXT)
    for key in ("retailer", "channel", "category", "brand"):
        if rng.random() < 0.4:
            params[key] = [rng.choice(NASTY_TEXT) for _ in range(rng.randint(1, 3))]
    for key in rng.sample(PAGE_KEYS, rng.randint(0, 3)):
        params[key] = rng.choice(NASTY_TEXT + DATES)
    return params


KNOWN = Known(retailers=frozenset({"R001", "R002"}), channels=frozenset({"grocery"}),
              categories=frozenset({"Snacks"}), brands=frozenset({"Acme"}),
              first_week=dt.date(2023, 1, 2), latest_week=dt.date(2026, 11, 16))


@pytest.mark.parametrize("page", PAGES)
def test_the_url_reader_turns_every_generated_query_into_valid_filters(page):
    rng = random.Random(f"{SEED}:{page}")
    low, high = custom_bounds(KNOWN)
    for _ in range(PER_PAGE):
        params = generated(rng)
        filters, warnings = Filters.from_params(params, KNOWN)
        assert isinstance(filters, Filters)
        if filters.period == "custom":  # what the date picker can show
            assert low <= filters.start <= filters.end <= high, params
        if filters.period == "year":
            assert filters.year in KNOWN.years, params
        valid = {"retailer": {"R001"}, "category": {"Snacks"}, "channel": set(), "brand": set()}
        tampered = params["period"] not in PERIODS or any(set(params.get(k, ())) - ok for k, ok in valid.items())
        if tampered:
            assert warnings, params


def test_the_two_known_crashers_are_read_with_a_warning():
    year, warnings = Filters.from_params(KNOWN_CRASHERS[0], KNOWN)
    assert year.period == "ytd" and warnings == ["Year '²⁰²⁵' is not in the data; showing year to date."]
    custom, warnings = Filters.from_params(KNOWN_CRASHERS[1], KNOWN)
    # cut to the picker's bounds: a year (52 weeks) either side of 2023-01-02 .. 2026-11-16
    assert (custom.start, custom.end) == (dt.date(2022, 1, 3), dt.date(2027, 11, 15))
    assert "it was cut to them" in warnings[0]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_a_tampered_link_with_a_warning(monkeypatch, small_db, page):
    rng = random.Random(f"{SEED}:app:{page}")
    for params in [*KNOWN_CRASHERS, *(generated(rng) for _ in range(APPTEST_PER_PAGE))]:
        at = open_app(monkeypatch, small_db, page=page, query=params)  # asserts no exception
        assert not at.exception, (params, [e.value for e in at.exception])
        if params in KNOWN_CRASHERS:
            assert at.warning, params  # the link's problem is said, not swallowed
