"""The Seasonality page under AppTest: the figures' data, selectors kept in the URL, thin and missing data."""

from __future__ import annotations

import base64
import json

import numpy as np

from kam_dash import scope
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.metrics import seasonality
from tests.app.test_portfolio_page import assert_nothing_missing_shown
from tests.conftest import make_db
from tests.unit.test_seasonality import PRODUCTS, RETAILERS, sell_out_rows

PAGE = "pages/seasonality.py"


def figures(at) -> dict[str, dict]:
    """Each plotly figure on the page as its JSON spec, by title."""
    out = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        out[spec["layout"].get("title", {}).get("text", "")] = spec
    return out


def values(data):
    """A trace's values: plotly writes numpy arrays as {"dtype", "bdata", "shape"}."""
    if isinstance(data, dict) and "bdata" in data:
        array = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
        shape = [int(n) for n in str(data.get("shape", len(array))).split(",")]
        return array.reshape(shape)
    return np.asarray(data)


def heatmap(at) -> dict:
    return next(s["data"][0] for t, s in figures(at).items() if t.startswith("Seasonal index by category"))


def test_default_view_draws_the_index_of_every_category(app, small_db):
    at = app(small_db, page=PAGE)
    assert not at.exception
    cells = heatmap(at)
    assert cells["x"] == ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    engine = DuckDBEngine(small_db)
    expected = seasonality.seasonal_indices(engine, Filters(), "month")
    engine.close()
    assert sorted(cells["y"]) == sorted(expected["category"].unique())
    # the heatmap shows the export's numbers: Sun Care in July
    row = cells["y"].index("Sun Care")
    july = expected[(expected["category"] == "Sun Care") & (expected["period"] == 7)]["index"].iloc[0]
    assert abs(values(cells["z"])[row][6] - july) < 1e-9
    titles = list(figures(at))
    assert any("year over year" in t for t in titles) and any("retailer vs portfolio" in t for t in titles)
    assert any("plan phasing vs seasonality" in t for t in titles) and any("STL" in t for t in titles)
    peaks = next(d.value for d in at.dataframe if "Period" in d.value.columns)
    assert len(peaks) == 6 * len(cells["y"])
    assert any("2026: not fully loaded" in i.value for i in at.info)  # the partial year is named
    assert not at.warning
    assert_nothing_missing_shown(at)


def test_changing_the_grain_redraws_by_iso_week_and_keeps_it_in_the_url(app, small_db):
    at = app(small_db, page=PAGE)
    at.radio(key="grain").set_value("week").run()
    assert not at.exception
    cells = heatmap(at)
    # ISO weeks 1..52 across, ticked by month (52 week labels cannot be read)
    assert cells["x"] == list(range(1, 53))
    assert figures(at)["Seasonal index by category and ISO week"]["layout"]["xaxis"]["ticktext"][:2] == ["Jan", "Feb"]
    assert at.query_params["grain"] == "week"


def test_a_category_filter_and_a_detail_series_change_the_charts(app, small_db):
    at = app(small_db, page=PAGE)
    at.multiselect(key="f_category").set_value(["Sun Care", "Soups"]).run()
    assert sorted(heatmap(at)["y"]) == ["Soups", "Sun Care"]
    at.selectbox(key="series").set_value("Sun Care").run()
    titles = list(figures(at))
    assert "Sun Care: weekly sell-out, year over year" in titles
    assert at.query_params["series"] == "Sun Care"


def test_the_retailer_compared_with_the_portfolio(app, small_db):
    at = app(small_db, page=PAGE)
    at.selectbox(key="compare").set_value("R003").run()
    vs = next(s for t, s in figures(at).items() if "retailer vs portfolio" in t)
    engine = DuckDBEngine(small_db)
    name = scope.retailers(engine).set_index("retailer_id").loc["R003", "retailer_name"]
    engine.close()
    assert [trace["name"] for trace in vs["data"]] == ["Portfolio", name]
    assert at.query_params["compare"] == "R003"


def test_a_link_sets_the_selectors_and_unknown_values_are_dropped_with_a_warning(app, small_db):
    at = app(small_db, page=PAGE, query={"grain": "week", "series": "Soups", "compare": "R999"})
    assert at.radio(key="grain").value == "week" and at.selectbox(key="series").value == "Soups"
    assert at.selectbox(key="compare").value == "R001"
    assert any("retailer in the link is not in the data" in w.value for w in at.warning)
    assert not at.exception


def test_one_complete_year_warns_and_no_complete_year_says_so(app, tmp_path):
    one_year = make_db(tmp_path / "one.duckdb", retailers=RETAILERS, products=PRODUCTS,
                       sell_out=[r for r in sell_out_rows() if r["week"].year == 2025])
    at = app(one_year, page=PAGE)
    assert not at.exception
    assert any("Only one complete year" in w.value for w in at.warning)
    assert len(heatmap(at)["y"]) == 2
    assert_nothing_missing_shown(at)

    partial = make_db(tmp_path / "partial.duckdb", retailers=RETAILERS, products=PRODUCTS,
                      sell_out=[r for r in sell_out_rows() if r["week"].month > 3 and r["week"].year == 2025])
    at = app(partial, page=PAGE)
    assert not at.exception
    assert any("no complete year" in i.value for i in at.info)
    assert not [t for t in figures(at) if t.startswith("Seasonal index by category")]
    assert_nothing_missing_shown(at)


def test_a_retailer_without_sell_out(app, tmp_path):
    retailers = RETAILERS + [dict(retailer_id="R3", retailer_name="Gamma", channel="club", region="E", kam="Max")]
    db = make_db(tmp_path / "r3.duckdb", retailers=retailers, products=PRODUCTS, sell_out=sell_out_rows())
    at = app(db, page=PAGE, query={"retailer": "R3"})
    assert not at.exception
    assert any("No seasonal index for Ice Cream" in w.value for w in at.warning)
    assert_nothing_missing_shown(at)


def test_an_empty_database(app, empty_db):
    at = app(empty_db, page=PAGE)
    assert not at.exception
    assert any("No sales data is loaded" in i.value for i in at.info)


def test_an_unreported_week_is_no_zero_in_the_stl_chart_and_the_page_says_so(app, tmp_path):
    # Nobody reported the week of 2 Jun 2025. Each retailer sold 10 Ice Cream units in the weeks around it, so
    # each is interpolated to 10 and the STL chart draws 20 there (marked), not 0. The page counts the
    # interpolated retailer-weeks: those 2, and R2's 53 Mondays of 2024 in which it reported nothing: 55.
    import datetime as dt

    gap = dt.date(2025, 6, 2)
    db = make_db(tmp_path / "gap.duckdb", retailers=RETAILERS, products=PRODUCTS,
                 sell_out=[r for r in sell_out_rows() if r["week"] != gap])
    at = app(db, page=PAGE, query={"series": "Ice Cream"})
    assert not at.exception
    stl = next(s for t, s in figures(at).items() if "(STL)" in t)
    observed = stl["data"][0]
    at_gap = [y for x, y in zip(observed["x"], values(observed["y"])) if str(x).startswith("2025-06-02")]
    assert at_gap == [20.0]
    marked = next(tr for tr in stl["data"] if tr.get("name") == "Interpolated (unreported)")
    marked_weeks = [str(x)[:10] for x in marked["x"]]
    assert len(marked_weeks) == 54 and "2025-06-02" in marked_weeks and "2024-12-30" in marked_weeks
    assert any("55 unreported retailer-weeks" in i.value for i in at.info)
