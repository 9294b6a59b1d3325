"""Store-level metrics on hand-built stores: every expected number is worked out in the comments."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kam_dash import export
from kam_dash.filters import Filters
from kam_dash.metrics import stores

D = dt.date
RETAILERS = [dict(retailer_id="R1", retailer_name="One Market", channel="grocery", region="N", kam="A")]
PRODUCTS = [
    dict(sku_id="K1", sku_name="Crisps", brand="Crunch", category="Snacks"),
    dict(sku_id="K2", sku_name="Soup", brand="Hearth", category="Soups"),
]
W1, W2 = D(2026, 1, 5), D(2026, 1, 12)


def store(store_id, fmt="supermarket", acv=1.0, close=None, open_=None):
    return dict(store_id=store_id, retailer_id="R1", store_name=f"Store {store_id}", region="N", format=fmt,
                acv_weight=acv, open_date=open_, close_date=close)


def so(week, store_id, sku, units, value=None):
    return dict(week=week, retailer_id="R1", store_id=store_id, sku_id=sku, units=units,
                sales_value=units * 2.0 if value is None else value)


def chain(weeks):
    """The chain rollup the importer keeps: only its weeks matter here (they set the latest week)."""
    return [dict(week=w, retailer_id="R1", sku_id="K1", units=1, sales_value=1) for w in weeks]


@pytest.fixture()
def dist_engine(hand_db):
    # Stores A (acv 2), B, C (express), D (closes Sunday 2026-01-11, so it is not open in week W2).
    rows = [
        so(W1, "A", "K1", 4), so(W1, "A", "K2", 2), so(W1, "B", "K1", 2), so(W1, "B", "K2", 0),
        so(W1, "C", "K2", 3), so(W1, "D", "K1", 1),
        so(W2, "A", "K1", 3), so(W2, "B", "K1", 1), so(W2, "C", "K2", 1),
        so(W2, "D", "K1", 5),  # after its close date: not the store's week, not counted
    ]
    return hand_db(retailers=RETAILERS, products=PRODUCTS,
                   stores=[store("A", acv=2.0), store("B"), store("C", fmt="express"),
                           store("D", close=D(2026, 1, 11))],
                   sell_out_store=rows, sell_out=chain([W1, W2]))


FILTERS_W1_W2 = Filters(period="custom", start=W1, end=W2)


def test_distribution_counts_open_and_selling_stores(dist_engine):
    frame = export.compute("distribution", dist_engine, FILTERS_W1_W2).set_index(["sku_id", "week"])
    w1, w2 = pd.Timestamp(W1), pd.Timestamp(W2)
    # W1: open A, B, C, D (4 stores, acv 2+1+1+1 = 5).
    # K1 sold by A, B, D: 3/4 = 0.75; acv (2+1+1)/5 = 0.8; units 4+2+1 = 7; velocity 7/3.
    k1 = frame.loc[("K1", w1)]
    assert (k1.stores_open, k1.stores_selling, k1.units) == (4, 3, 7)
    assert k1.numeric_distribution == pytest.approx(0.75)
    assert k1.acv_distribution == pytest.approx(0.8)
    assert k1.velocity == pytest.approx(7 / 3)
    # K2 in W1: A and C sell (B's row has 0 units): 2/4 = 0.5; acv (2+1)/5 = 0.6; units 5; velocity 2.5.
    k2 = frame.loc[("K2", w1)]
    assert (k2.stores_selling, k2.numeric_distribution, k2.acv_distribution, k2.velocity) == pytest.approx(
        (2, 0.5, 0.6, 2.5))
    # W2: D is closed, so open A, B, C (acv 4). K1: A, B sell: 2/3; acv 3/4; units 3+1 = 4 (D's 5 not counted).
    k1 = frame.loc[("K1", w2)]
    assert (k1.stores_open, k1.stores_selling, k1.units) == (3, 2, 4)
    assert (k1.numeric_distribution, k1.acv_distribution, k1.velocity) == pytest.approx((2 / 3, 0.75, 2.0))
    # K2 in W2: C only: 1/3; acv 1/4; velocity 1.
    k2 = frame.loc[("K2", w2)]
    assert (k2.numeric_distribution, k2.acv_distribution, k2.velocity) == pytest.approx((1 / 3, 0.25, 1.0))


def test_tdp_and_account_tiles(dist_engine):
    data = stores.page_data(dist_engine, FILTERS_W1_W2, with_voids=False, with_stores=False)
    tdp = data.tdp.set_index(["brand", "week"])["tdp"]
    # TDP in points: Crunch (K1) W1 80, W2 75; Hearth (K2) W1 60, W2 25; the retailer: 140 and 100.
    assert tdp[("Crunch", pd.Timestamp(W1))] == pytest.approx(80)
    assert tdp[("Hearth", pd.Timestamp(W2))] == pytest.approx(25)
    assert data.tdp_retailer.set_index("week")["tdp"].tolist() == pytest.approx([140, 100])
    tiles = stores.account_tiles(dist_engine, FILTERS_W1_W2, "R1")
    # selling store-weeks 3+2 (K1) + 2+1 (K2) = 8 of open 4+3+4+3 = 14; units 7+4+5+1 = 17 over 8 -> 2.125;
    # %ACV per SKU averaged over weeks: K1 (0.8+0.75)/2 = 0.775, K2 (0.6+0.25)/2 = 0.425, mean 0.6;
    # TDP averaged over the 2 weeks: (140+100)/2 = 120.
    assert tiles["numeric_distribution"] == pytest.approx(8 / 14)
    assert tiles["velocity"] == pytest.approx(2.125)
    assert tiles["acv_distribution"] == pytest.approx(0.6)
    assert tiles["tdp"] == pytest.approx(120)


def test_sku_summary_velocity_per_open_store(dist_engine):
    data = stores.page_data(dist_engine, FILTERS_W1_W2, with_voids=False, with_stores=False)
    k1 = data.skus.set_index("sku_id").loc["K1"]
    # K1: selling store-weeks 3+2 = 5 of open 4+3 = 7 -> 5/7; units 11: per selling 11/5, per open 11/7.
    assert (k1.numeric_distribution, k1.velocity, k1.velocity_open) == pytest.approx((5 / 7, 11 / 5, 11 / 7))


WEEKS = [D(2026, 1, 5) + dt.timedelta(weeks=i) for i in range(8)]  # W1..W8: 2026-01-05 .. 2026-02-23


@pytest.fixture()
def void_engine(hand_db):
    rows = []
    for i, w in enumerate(WEEKS):
        for s in ("A", "B", "F"):
            rows.append(so(w, s, "K1", 10))
        rows.append(so(w, "C", "K1", 0 if i in (4, 5) else 10))  # a 2-week gap (W5, W6): a decoy
        rows.append(so(w, "D", "K1", 10) if i < 2 else so(w, "D", "K2", 1))  # D stops K1 after W2: a void
        rows.append(so(w, "E", "K2", 1))  # express store, never sold K1: not a void
        if i < 4:
            rows.append(so(w, "G", "K1", 10))  # closes on 2026-02-01: no rows after, not a void
    stock = [dict(week=w, retailer_id="R1", store_id="D", sku_id="K1", on_hand_units=5) for w in WEEKS]
    return hand_db(retailers=RETAILERS, products=PRODUCTS,
                   stores=[store(s) for s in "ABCDF"] + [store("E", fmt="express"), store("G", close=D(2026, 2, 1))],
                   sell_out_store=rows, sell_out=chain(WEEKS), inventory_store=stock)


FILTERS_8W = Filters(period="custom", start=WEEKS[0], end=WEEKS[-1])


def test_voids_finds_the_store_that_stopped_and_no_decoy(void_engine):
    frame = export.compute("voids", void_engine, FILTERS_8W)
    # D sold K1 in W1, W2 and nothing in W3..W8 (6 weeks, open every week through its K2 rows). Each of those
    # weeks the chain's share of open stores selling K1 is at least 0.5: W3, W4: A B C F G sell of 7 open
    # (5/7); W5, W6: A B F of 6 (C's gap) = 0.5; W7, W8: A B C F of 6 = 4/6.
    # Lost units: velocity per selling supermarket is 10 every week (each seller sells 10) x 6 weeks = 60.
    assert frame.to_dict("records") == [dict(retailer_id="R1", store_id="D", sku_id="K1",
                                             first_week=pd.Timestamp(WEEKS[2]), weeks=6, est_lost_units=60.0)]


def test_void_details_open_chance_and_phantom(void_engine):
    found = stores.page_data(void_engine, FILTERS_8W, with_stores=False).voids
    row = found.iloc[0]
    assert row.last_week == pd.Timestamp(WEEKS[-1]) and bool(row.still_open)
    # Expected units in D (acv 1): supermarket units per acv: W3, W4 50/6 (A B C F G sell 10 each; A B C D F G
    # open); W5, W6 30/5; W7, W8 40/5 -> 2*50/6 + 2*6 + 2*8 = 44.67; chance exp(-44.67).
    assert row.chance == pytest.approx(np.exp(-(2 * 50 / 6 + 12 + 16)))
    assert bool(row.phantom)  # 5 units on hand in every void week


def test_void_rules_min_weeks_and_share(void_engine):
    sales = stores.store_rows(void_engine, stores.resolve(void_engine, FILTERS_8W), WEEKS[0], WEEKS[-1])
    opened = stores.open_store_weeks(void_engine, None, WEEKS[0], WEEKS[-1])
    dist = stores.distribution_from(sales, opened)
    # 7 weeks required: D's run is 6 -> nothing. With N = 2, C's 2-week gap is a run too, but its expected
    # units (2 weeks at 30/5 = 6 per acv -> 12) give chance exp(-12) = 6.1e-6: above the default 1 in a
    # million, so reported only when a chance of 1 in 100,000 is allowed.
    assert stores.find_voids(sales, opened, dist, min_weeks=7).empty
    two = stores.find_voids(sales, opened, dist, min_weeks=2)
    assert sorted(two["store_id"]) == ["D"]
    lenient = stores.find_voids(sales, opened, dist, min_weeks=2, max_chance=1e-5)
    assert sorted(lenient["store_id"]) == ["C", "D"]
    assert lenient.loc[lenient["store_id"] == "C", "chance"].item() == pytest.approx(np.exp(-12))
    # Share 0.6 required: W5, W6 (0.5) are no void weeks and end D's run at 2 weeks (W3, W4).
    strict = stores.find_voids(sales, opened, dist, min_weeks=2, min_share=0.6)
    assert strict[["store_id", "weeks"]].values.tolist() == [["D", 2], ["D", 2]]


def test_store_ranking_like_for_like():
    p1, p2 = pd.Timestamp(2026, 1, 5), pd.Timestamp(2026, 1, 12)
    l1, l2 = pd.Timestamp(2025, 1, 6), pd.Timestamp(2025, 1, 13)  # 364 days earlier
    sales = pd.DataFrame([
        ("A", "K1", p1, 60.0), ("A", "K2", p1, 40.0), ("A", "K1", p2, 120.0), ("A", "K1", l1, 80.0),
        ("A", "K1", l2, 120.0),
        ("B", "K1", p1, 150.0), ("B", "K1", p2, 150.0), ("B", "K1", l2, 50.0),  # B not open in l1
    ], columns=["store_id", "sku_id", "week", "sales_value"]).assign(retailer_id="R1", units=1.0)
    opened = sales[["retailer_id", "store_id", "week"]].drop_duplicates()
    table = stores.ranking(sales, opened, pd.DataFrame([store("A"), store("B")]), [p1, p2], {"R1": p2})
    a, b = table.set_index("store_id").loc["A"], table.set_index("store_id").loc["B"]
    # A: sell-out 60+40+120 = 220, LY 80+120 = 200, open in all four weeks: growth 220/200 - 1 = 0.10; 2 SKUs.
    assert (a.sell_out, a.sell_out_ly, bool(a.like_for_like), a.skus_carried, a["rank"]) == (220, 200, True, 2, 2)
    assert a.lfl_growth == pytest.approx(0.10)
    # B: 300, LY 50 (only l2), not open in l1 -> not like for like, no growth; ranked first on 300.
    assert (b.sell_out, b.sell_out_ly, bool(b.like_for_like), b["rank"]) == (300, 50, False, 1)
    assert np.isnan(b.lfl_growth)
    # the retailer's like-for-like growth adds up its like-for-like stores: A only, 220 / 200 - 1
    assert stores.like_for_like_growth(table) == pytest.approx(0.10)


def test_no_store_data_gives_empty_exports(hand_db):
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=chain([W1]))
    assert stores.page_data(engine, Filters()) is None
    assert stores.account_tiles(engine, Filters(), "R1") is None


def test_review_pack_distribution_section(dist_engine):
    from kam_dash.report import pack as review

    section = {s.key: s for s in review.collect(dist_engine, FILTERS_W1_W2, "R1").sections}["distribution"]
    # 8 selling of 14 open store-weeks = 57.1%; 17 units over 8 = 2.1 a week; no voids in two weeks
    assert section.charts[0].narrative.startswith("One Market sold our SKUs in 57.1% of its open store-weeks, at "
                                                  "2.1 units per store selling per week; 0 voids")
    table = section.tables[0].frame.set_index("sku_id")
    assert table.loc["K1", "numeric_distribution"] == pytest.approx(5 / 7)
    assert [t.sheet for t in section.tables] == ["Distribution"]
