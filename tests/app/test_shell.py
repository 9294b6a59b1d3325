"""The app shell under AppTest: every page runs on the demo, on an empty database and on no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from kam_dash import fmt

from tests.app.conftest import metrics

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_the_small_demo(app, small_db, page):
    at = app(small_db, page=page)
    assert not at.exception
    assert at.title, "every page has a title"
    assert any("Data through the week of" in c.value for c in at.caption), "freshness is shown"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_says_no_data_on_an_empty_database(app, empty_db, page):
    at = app(empty_db, page=page)
    assert not at.exception
    assert any("No sales data is loaded" in i.value for i in at.info)


def test_absent_database_file_is_named_not_a_crash(app, tmp_path):
    # a mistyped KAM_DASH_DB says so, in the words the CLI uses, instead of showing an empty database
    path = tmp_path / "not-there.duckdb"
    at = app(path, page="pages/portfolio.py")
    assert any(f"The database {fmt.md_text(path)} does not exist" in i.value for i in at.info)
    assert not path.exists()  # looking did not create it


def test_filters_hold_across_pages(app, small_db):
    at = app(small_db, page="pages/portfolio.py")
    at.selectbox(key="f_period").set_value("l52w").run()
    at.multiselect(key="f_category").set_value(["Snacks"]).run()
    before = metrics(at)["Net sales"]
    others = [p for p in PAGES if p != "pages/portfolio.py"]
    if others:
        at.switch_page(others[0]).run()
        assert not at.exception
        assert at.selectbox(key="f_period").value == "l52w"
        assert at.multiselect(key="f_category").value == ["Snacks"]
    at.switch_page("pages/portfolio.py").run()
    assert metrics(at)["Net sales"] == before
    as_lists = {k: v if isinstance(v, list) else [v] for k, v in at.query_params.items()}
    assert as_lists["period"] == ["l52w"] and as_lists["category"] == ["Snacks"]


def test_url_filters_apply_and_bad_values_warn(app, small_db):
    plain = metrics(app(small_db, page="pages/portfolio.py"))["Net sales"]
    at = app(small_db, page="pages/portfolio.py",
             query={"period": "l13w", "retailer": ["R001", "R001' OR 1=1 --"], "channel": "spaceship"})
    warnings = [w.value for w in at.warning]
    assert any("Unknown retailer" in w for w in warnings) and any("Unknown channel" in w for w in warnings)
    assert at.multiselect(key="f_retailer").value == ["R001"]
    assert metrics(at)["Net sales"] != plain
    assert any("Last 13 weeks" in c.value for c in at.caption)


def test_chart_pages_start_the_browser_on_the_chart_code_and_other_pages_do_not(app, small_db):
    import streamlit

    def chart_code(at) -> list[str]:
        return [h.proto.body for h in at.get("html") if "PlotlyChart" in h.proto.body]

    [script] = chart_code(app(small_db, page="pages/portfolio.py"))
    url = script.split('import("', 1)[1].split('")', 1)[0]
    # the URL names a file Streamlit serves (its build's plotly chunk), at the server's root
    assert url.startswith("/static/js/PlotlyChart.")
    assert (Path(streamlit.__file__).parent / "static" / url.lstrip("/")).is_file()
    assert chart_code(app(small_db, page="pages/users.py")) == []
