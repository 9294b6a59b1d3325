"""The Promotions page under AppTest: events, one event against every baseline, method and filter changes,
links, and the empty cases."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from kam_dash import export, fmt
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.metrics import promotions as promo
from tests.app.conftest import metrics
from tests.conftest import make_db

PAGE = "pages/promotions.py"


def events_table(at) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "Retailer" in d.value.columns).rename(
        columns={"Promotion": "promo_id", "Retailer": "retailer_name", "Mechanic": "mechanic", "Lift": "lift_pct"})


def methods_table(at) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "Method" in d.value.columns)


def chart_traces(at, title_part: str) -> list[str]:
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        title = (spec.get("layout", {}).get("title") or {}).get("text", "")
        if title_part in title:
            return [t.get("name", "") for t in spec["data"]]
    raise AssertionError(f"no chart titled {title_part!r}")


def shown_text(at) -> list[str]:
    out = [m.value for m in at.metric]
    for frame in at.dataframe:
        out += [str(v) for v in frame.value.to_numpy().ravel()]
    for kind in (at.markdown, at.caption, at.info, at.warning):
        out += [e.value for e in kind]
    return out


def expected(db, method=promo.DEFAULT_METHOD, filters=Filters()) -> pd.DataFrame:
    engine = DuckDBEngine(db)
    frame = export.compute("promo-lift", engine, filters, method=method)
    engine.close()
    return frame


def test_page_shows_the_events_in_view(app, small_db):
    at = app(small_db, page=PAGE)
    lifts = expected(small_db)
    assert len(lifts) > 0
    m = metrics(at)
    assert m["Promotions"] == fmt.number(len(lifts))
    assert m["With a lift"] == fmt.number(lifts["lift_pct"].notna().sum())
    assert m["Net incremental units"] == fmt.number(lifts["net_incremental_units"].sum())
    shown = events_table(at)
    assert sorted(shown["promo_id"]) == sorted(lifts["promo_id"])
    lift_of = dict(zip(lifts["promo_id"], lifts["lift_pct"]))
    assert all(v == fmt.pct(lift_of[p], 0, signed=True) for p, v in zip(shown["promo_id"], shown["lift_pct"]))
    assert not [s for s in shown_text(at) if any(w in s.split() for w in ("nan", "NaN", "None", "<NA>"))]
    assert "Promotion calendar" in json.dumps([json.loads(c.proto.spec)["layout"].get("title")
                                               for c in at.get("plotly_chart")])


def test_pick_an_event_and_see_every_baseline(app, small_db):
    at = app(small_db, page=PAGE)
    lifts = expected(small_db)
    measured = lifts.dropna(subset=["lift_pct"])
    pid = measured["promo_id"].iloc[0]
    at.selectbox(key="promo_event").set_value(pid).run()
    assert not at.exception
    assert at.query_params["event"] == pid
    traces = chart_traces(at, pid)
    assert traces[0] == "Actual sell-out"
    # one baseline line per method that measured the event, its lift in the legend
    all_methods = {m: expected(small_db, m).set_index("promo_id").loc[pid, "lift_pct"] for m in promo.METHODS}
    for method, lift in all_methods.items():
        name = promo.METHODS[method]
        if pd.notna(lift):
            assert f"{name} ({lift * 100:+.0f}%)" in traces
        else:
            assert not any(t.startswith(name + " (") for t in traces)
    shown = methods_table(at)
    assert list(shown["Method"]) == list(promo.METHODS.values())


def test_event_in_the_link_is_kept_and_checked(app, small_db):
    lifts = expected(small_db)
    pid = lifts["promo_id"].iloc[-1]
    at = app(small_db, page=PAGE, query={"event": pid})
    assert at.selectbox(key="promo_event").value == pid and not at.warning
    at = app(small_db, page=PAGE, query={"event": "P99999<script>"})
    assert not at.exception
    assert any("'P99999script' in the link is not among the promotions in view" in w.value for w in at.warning)
    assert at.selectbox(key="promo_event").value in set(lifts["promo_id"])


def test_changing_the_method_changes_the_lifts(app, small_db):
    at = app(small_db, page=PAGE)
    before = events_table(at).set_index("promo_id")["lift_pct"]
    at.segmented_control(key="promo_method").set_value("pre_post").run()
    assert not at.exception
    assert at.query_params["method"] == "pre_post"
    after = events_table(at).set_index("promo_id")["lift_pct"]
    wanted = expected(small_db, "pre_post").set_index("promo_id")["lift_pct"]
    assert all(after[p] == fmt.pct(wanted[p], 0, signed=True) for p in after.index)
    assert (after != before.reindex(after.index)).any()
    assert any("baseline: Pre and post" in c.value for c in at.caption)
    at = app(small_db, page=PAGE, query={"method": "guesswork"})
    assert any("baseline method in the link" in w.value for w in at.warning)
    assert at.segmented_control(key="promo_method").value == promo.DEFAULT_METHOD


def test_filters_change_the_table(app, small_db):
    at = app(small_db, page=PAGE)
    everything = events_table(at)
    at.multiselect(key="promo_mechanics").set_value(["tpr"]).run()
    tpr = events_table(at)
    assert set(tpr["mechanic"]) == {"Price cut"}
    assert len(tpr) == (everything["mechanic"] == "Price cut").sum() < len(everything)
    at.multiselect(key="promo_mechanics").set_value([]).run()
    at.multiselect(key="f_retailer").set_value(["R001"]).run()
    r001 = events_table(at)
    wanted = expected(small_db, filters=Filters(retailers=("R001",)))
    assert sorted(r001["promo_id"]) == sorted(wanted["promo_id"]) and len(r001) < len(everything)
    assert set(r001["retailer_name"]) == {everything.set_index("promo_id").loc[wanted["promo_id"].iloc[0],
                                                                             "retailer_name"]}


def test_empty_database(app, empty_db):
    at = app(empty_db, page=PAGE)
    assert not at.exception
    assert any("No sales data is loaded yet" in i.value for i in at.info)


def test_retailer_without_promotions(app, small_db):
    lifts = expected(small_db)
    engine = DuckDBEngine(small_db)
    retailers = list(engine.execute(engine.table("retailers"))["retailer_id"])
    engine.close()
    without = sorted(set(retailers) - set(lifts["retailer_id"]))[0]
    at = app(small_db, page=PAGE, query={"retailer": without})
    assert not at.exception
    assert any("No promotion of the retailers and products in view touches this period" in i.value for i in at.info)


def test_without_a_promotions_table(app, tmp_path):
    db = make_db(tmp_path / "no_promos.duckdb",
                 retailers=[{"retailer_id": "R1", "retailer_name": "Shop", "channel": "grocery", "region": "N",
                             "kam": "A"}],
                 products=[{"sku_id": "S1", "sku_name": "Bar", "brand": "B", "category": "Snacks"}],
                 sell_out=[{"week": dt.date(2026, 1, 5), "retailer_id": "R1", "sku_id": "S1", "units": 5.0,
                            "sales_value": 10.0}])
    at = app(db, page=PAGE)
    assert not at.exception
    assert any("needs the promotions table" in i.value for i in at.info)


def test_the_page_says_what_it_skipped_and_shows_no_dip_from_unreported_weeks(app, tmp_path):
    # R1's POS for the 2 weeks after P1 never arrived (no row for any SKU): the page counts the 2 unreported
    # weeks, shows no dip (a dash), and the lift (320 - 200) / 200 = +60% (no seasonal index: plain pre-period).
    from tests.unit.test_promotions import P1, PRODUCTS, RETAILERS, SELL_IN, SERIES, sell_out

    series = SERIES[:10] + [0, 0] + SERIES[12:]
    db = make_db(tmp_path / "gaps.duckdb", retailers=RETAILERS, products=PRODUCTS, sell_out=sell_out(series),
                 sell_in=SELL_IN, promotions=[P1])
    at = app(db, page=PAGE, query={"period": "custom", "start": "2024-01-01", "end": "2024-12-31"})
    assert not at.exception
    assert any("2 unreported weeks (no sell-out from the retailer) skipped" in c.value for c in at.caption)
    row = events_table(at).set_index("promo_id").loc["P1"]
    assert row["lift_pct"] == "+60%"
    # the dip weeks were not reported: no dip (the event detail's table per method), never read as 0
    methods = next(d.value for d in at.dataframe if "Method" in d.value.columns)
    assert (methods["Dip units"] == fmt.DASH).all()


def test_many_events_offer_the_biggest_a_way_to_narrow_and_say_what_is_left_out(app, small_db, monkeypatch):
    monkeypatch.setattr(promo, "PICK_LIMIT", 5)  # the small demo's view holds fewer events than the real limit
    monkeypatch.setattr(promo, "SCATTER_LIMIT", 4)
    lifts = expected(small_db)
    assert len(lifts) > 5
    engine = DuckDBEngine(small_db)
    names = engine.execute(engine.table("retailers")).set_index("retailer_id")["retailer_name"]
    engine.close()
    lifts = lifts.assign(retailer_name=lifts["retailer_id"].map(names))
    at = app(small_db, page=PAGE)
    assert not at.exception
    chosen = at.selectbox(key="promo_event").value
    biggest = list(promo.biggest_first(lifts)["promo_id"].head(5))
    offered = [o.split(" · ")[0] for o in at.selectbox(key="promo_event").options]
    assert offered == (biggest if chosen in biggest else [chosen] + biggest)  # the one picked stays on offer
    assert any(f"The list offers 5 of the {len(lifts)} promotions in view, largest trade spend first; narrow" in c.value
               for c in at.caption)
    # narrowed to one retailer: its events only (and the one picked)
    retailer = lifts["retailer_name"].value_counts().index[0]
    at.selectbox(key="promo_pick_retailer").set_value(retailer).run()
    theirs = set(lifts.loc[lifts["retailer_name"] == retailer, "promo_id"])
    offered = {o.split(" · ")[0] for o in at.selectbox(key="promo_event").options}
    assert offered - {chosen} <= theirs and len(offered - {chosen}) == min(5, len(theirs))
    # the chart draws the 4 biggest of the events with a lift and says so
    measured = lifts.dropna(subset=["lift_pct", "discount_pct"])
    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if "Lift vs discount" in json.dumps(json.loads(c.proto.spec)["layout"].get("title")))
    drawn = [p[0] for t in spec["data"] if t.get("mode") == "markers" for p in t["customdata"]]
    assert sorted(drawn) == sorted(promo.biggest_first(measured)["promo_id"].head(4))
    assert any(f"Drawn: the 4 events with the largest trade spend of the {len(measured)} with a lift" in c.value
               for c in at.caption)
