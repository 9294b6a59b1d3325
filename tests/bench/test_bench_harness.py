"""The bench's harness: which pages it times, how its figures merge into records, and one real browser run.

Speed is measured by `make bench`, never asserted here: these tests check that the harness measures and
records what it should.
"""

from __future__ import annotations

import json

import pytest

from bench import browser, run
from kam_dash.filters import Filters


def test_the_pages_timed_are_the_sidebars_in_menu_order_with_the_first_at_the_root(tmp_path):
    (tmp_path / "pages").mkdir()
    for name in ("b.py", "a.py"):
        (tmp_path / "pages" / name).write_text("")
    (tmp_path / "app.py").write_text(
        "import streamlit as st\n"
        "PAGES = {\n"
        "    'One': [('b.py', 'Bee', ':material/x:'), ('missing.py', 'Not yet written', ':material/x:')],\n"
        "    'Two': [('a.py', 'Ay', ':material/x:')],\n"
        "}\n"
        "st.navigation({})\n"  # never run: the bench reads PAGES without importing the app
    )
    pages = browser.sidebar_pages(tmp_path / "app.py")
    # missing.py has no file, so the app does not show it either; b.py is first, so it is the page at /
    assert pages == [browser.Page("b", "Bee", ""), browser.Page("a", "Ay", "a")]
    url = browser.page_url("http://x", pages[1], Filters(period="l13w", categories=("Snacks", "Ice Cream")))
    assert url == "http://x/a?period=l13w&category=Ice+Cream&category=Snacks"


def test_the_real_sidebar_is_read_from_app_py():
    titles = [p.title for p in browser.sidebar_pages()]
    assert titles[0] == "Portfolio" and "Promotions" in titles


def test_data_work_and_browser_figures_merge_into_one_record_per_page_and_view():
    data = [{"page": "Portfolio", "view": "v1", "app_ms": 10.0, "floor_ms": 8.0, "pandas_ms": 200.0},
            {"page": "Bench only", "view": "v1", "app_ms": 1.0, "floor_ms": 1.0, "pandas_ms": 1.0}]
    seen = [{"page": "Portfolio", "view": "v1", "browser_warm_ms": 900.0, "browser_cold_ms": 4000.0,
             "browser_first_view_ms": 1200.0, "browser_warm_script_ms": 300.0, "browser_errors": [], "charts": 3},
            {"page": "New page", "view": "v1", "browser_warm_ms": 700.0, "browser_cold_ms": None,
             "browser_first_view_ms": 800.0, "browser_warm_script_ms": 200.0, "browser_errors": []}]
    records = run.merge("default", data, seen)
    assert [(r["page"], r["view"]) for r in records] == [("Portfolio", "v1"), ("New page", "v1"), ("Bench only", "v1")]
    assert all(tuple(r) == run.RECORD_KEYS and r["scale"] == "default" for r in records)
    assert records[0]["app_ms"] == 10.0 and records[0]["browser_warm_ms"] == 900.0  # both halves in one record
    assert records[1]["app_ms"] is None  # no bench/pages module for it: data work not measured
    assert records[2]["browser_warm_ms"] is None and records[2]["browser_errors"] is None


@pytest.mark.e2e
def test_one_page_timed_in_the_browser_writes_records_with_positive_times(small_db, tmp_path):
    views = [("default (YTD)", Filters())]
    seen, together = browser.measure(small_db, only=["Portfolio"], views=views, runs=1, cold_runs=1, sessions=0,
                                     log_dir=tmp_path, say=lambda line: None)
    assert together is None
    out = tmp_path / "results.json"
    run.write_json(out, {}, [], run.merge("small", [], seen), [])
    [record] = json.loads(out.read_text())["records"]
    assert tuple(record) == run.RECORD_KEYS
    assert (record["scale"], record["page"], record["view"]) == ("small", "Portfolio", "default (YTD)")
    assert record["browser_errors"] == []
    for key in ("browser_warm_ms", "browser_cold_ms", "browser_first_view_ms", "browser_warm_script_ms",
                "browser_nav_ms"):
        assert record[key] > 0, key
    # the default view's first visit is the cold load, which the cold figure extends back to the server's start;
    # the page counts as drawn only once the script is done
    assert record["browser_cold_ms"] > record["browser_first_view_ms"]
    assert record["browser_warm_script_ms"] <= record["browser_warm_ms"]
    # the page was read once drawn: Portfolio's tiles and charts were there
    assert "Net sales" in seen[0]["tiles"] and seen[0]["charts"] >= 2
    assert record["app_ms"] is None  # the data-work half was not run


@pytest.mark.e2e
def test_the_floor_pages_are_timed_and_reported(small_db, tmp_path):
    floor = browser.floor(small_db, runs=2, log_dir=tmp_path, say=lambda line: None, sessions=3)
    assert [r["page"] for r in floor] == list(browser.FLOOR_APPS)
    for record in floor:
        assert record["browser_errors"] == [], record
        assert 0 < record["browser_warm_script_ms"] <= record["browser_warm_ms"] < record["browser_cold_ms"], record
    # what each floor page draws: four tiles, and three charts on the chart page only
    assert [(r["tiles"], r["charts"]) for r in floor] == [(4, 0), (4, 3)]
    # the chart page is also loaded 3 times at once and one after another
    together = {r["page"]: r["concurrency"] for r in floor}
    [charts] = [page for page, app in browser.FLOOR_APPS.items() if app == browser.FLOOR_APPS_AT_ONCE]
    assert together[charts]["sessions"] == 3 and together[charts]["ratio"] > 0
    assert all(c is None for page, c in together.items() if page != charts)
    section = "\n".join(run.floor_section(floor))
    assert all(f"| {r['page']} | {r['browser_cold_ms']:,.0f} |" in section for r in floor)
    assert f"3: {together[charts]['slowest_session_ms']:,.0f} / {together[charts]['sequential_ms']:,.0f}" in section
