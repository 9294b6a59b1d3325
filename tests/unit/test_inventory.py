"""Inventory measures on hand-built tables: listing, out-of-stock weeks, lost sales, the in-stock rate.

Each series stands for one case of the issue; the expected numbers are worked out by hand beside them.
Weeks W[1]..W[12] are the Mondays from 5 January 2026; the latest loaded week is W[12].
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kam_dash.filters import Filters
from kam_dash.metrics import inventory

W = {i: dt.date(2026, 1, 5) + dt.timedelta(weeks=i - 1) for i in range(1, 14)}
ALL_WEEKS = Filters(period="custom", start=W[1], end=W[12])

RETAILERS = [
    dict(retailer_id="R1", retailer_name="Alpha", channel="grocery", region="N", kam="Kim"),  # band 2..6
    dict(retailer_id="R2", retailer_name="Beta", channel="mass", region="S", kam="Lee", woc_min=1.5, woc_max=5.0),
    dict(retailer_id="R3", retailer_name="Gamma", channel="drug", region="E", kam="Kim"),  # no inventory at all
]
PRODUCTS = [
    dict(sku_id="A", sku_name="Cone", brand="Polar", category="Ice Cream"),
    dict(sku_id="B", sku_name="Broth", brand="Hearth", category="Soups"),
    dict(sku_id="C", sku_name="Chowder", brand="Hearth", category="Soups"),
]


def inv(rid, sku, week, units):
    return dict(week=W[week], retailer_id=rid, sku_id=sku, on_hand_units=units)


def so(rid, sku, week, units, value, channel="store"):
    return dict(week=W[week], retailer_id=rid, sku_id=sku, sales_channel=channel, units=units, sales_value=value)


def case_tables() -> dict:
    inventory_rows, sell_out = [], []
    # R1 x A, zero stock with sales history: 50 on hand except weeks 10 and 11 (0); 10 units a week at price 2,
    # 4 units in week 10, nothing in week 11, 10 again in week 12.
    for w in range(1, 13):
        inventory_rows.append(inv("R1", "A", w, 0 if w in (10, 11) else 50))
    for w in [*range(1, 10), 12]:
        sell_out.append(so("R1", "A", w, 10, 20))
    sell_out.append(so("R1", "A", 10, 4, 8))
    # R1 x B, a missing inventory week: 30 on hand, no count in week 8, 0 in week 10. 10 units a week at
    # price 3 (sold as 6 in store + 4 online, which add up), 30 units in the uncounted week 8, 3 in week 10.
    for w in range(1, 13):
        if w != 8:
            inventory_rows.append(inv("R1", "B", w, 0 if w == 10 else 30))
    for w in range(1, 13):
        if w == 8:
            sell_out.append(so("R1", "B", w, 30, 90))
        elif w == 10:
            sell_out.append(so("R1", "B", w, 3, 9))
        else:
            sell_out += [so("R1", "B", w, 6, 18), so("R1", "B", w, 4, 12, "online")]
    # R1 x C, listed mid-window: reported with 0 on hand in weeks 1-5, listed in week 6 with 40 on hand, then
    # 10 units a week at price 1.
    for w in range(1, 13):
        inventory_rows.append(inv("R1", "C", w, 0 if w <= 5 else 40))
    for w in range(6, 13):
        sell_out.append(so("R1", "C", w, 10, 10))
    # R2 x A, zero sales with stock: 25 on hand every week, never a sale.
    for w in range(1, 13):
        inventory_rows.append(inv("R2", "A", w, 25))
    # R2 x B, out of stock for good: 20 on hand in weeks 1-3, then 0; 5 units a week at price 1 in weeks 1-4.
    for w in range(1, 13):
        inventory_rows.append(inv("R2", "B", w, 20 if w <= 3 else 0))
    for w in range(1, 5):
        sell_out.append(so("R2", "B", w, 5, 5))
    # R2 x C sells 1 unit a week and has no stock counts: R2 reports sell-out every week (a week in which a
    # retailer reports no sell-out row at all is unreported, not a week that sold 0).
    for w in range(1, 13):
        sell_out.append(so("R2", "C", w, 1, 1))
    # R3 has sales and no inventory.
    for w in range(1, 13):
        sell_out.append(so("R3", "A", w, 8, 16))
    return dict(retailers=RETAILERS, products=PRODUCTS, inventory=inventory_rows, sell_out=sell_out)


@pytest.fixture()
def engine(hand_db):
    return hand_db(**case_tables())


def by_key(frame: pd.DataFrame, keys=("retailer_id", "sku_id", "week")) -> dict:
    return {tuple(r[k] for k in keys): r for r in frame.to_dict("records")}


# -- listing and the ledger ---------------------------------------------------------------------------------------
def test_listing_is_the_first_week_with_stock_or_sales(engine):
    listed = {(r.retailer_id, r.sku_id): r.listed.date() for r in inventory.listing(engine).itertuples()}
    assert listed[("R1", "C")] == W[6]  # 0 on hand and no sales in weeks 1-5
    assert listed[("R2", "A")] == W[1]  # stock, though it never sold
    assert listed[("R3", "A")] == W[1]  # sales alone are evidence too


def test_ledger_lost_sales_by_hand(engine):
    rows = by_key(inventory.ledger(engine).assign(week=lambda f: f["week"].dt.date))
    # R1 x A week 10: the 8 weeks before (2-9) were all in stock at 10 a week -> rate 10; sold 4 -> lost 6;
    # price = 160 value / 80 units = 2 -> 12.
    r = rows[("R1", "A", W[10])]
    assert (r["rate_weeks"], r["expected_units"], r["sold_units"]) == (8, 10, 4)
    assert r["lost_units"] == pytest.approx(6) and r["lost_value"] == pytest.approx(12)
    # Week 11: weeks 3-10 before it, week 10 out of stock -> 7 in-stock weeks of 10 -> lost 10, value 20.
    r = rows[("R1", "A", W[11])]
    assert r["rate_weeks"] == 7 and r["lost_units"] == pytest.approx(10) and r["lost_value"] == pytest.approx(20)
    # R1 x B week 10: weeks 2-9, week 8 has no count (its 30 units must not count) -> weeks 2-7 and 9 = 7 weeks of
    # 10 (store 6 + online 4) -> rate 10; sold 3 -> lost 7 at price 3 -> 21.
    r = rows[("R1", "B", W[10])]
    assert r["rate_weeks"] == 7 and r["expected_units"] == pytest.approx(10)
    assert r["lost_units"] == pytest.approx(7) and r["lost_value"] == pytest.approx(21)
    # R2 x B: out of stock from week 4. Week 4 sold its 5 (= the rate of weeks 1-3) -> lost 0. Weeks 5-11 still
    # have week 3 (or more) in stock within their 8 weeks -> rate 5, nothing sold -> lost 5 each at price 1.
    # Week 12 looks back at weeks 4-11, none in stock -> no rate -> 0, not a guess.
    assert rows[("R2", "B", W[4])]["lost_units"] == 0
    for w in range(5, 12):
        assert rows[("R2", "B", W[w])]["lost_units"] == pytest.approx(5), w
    r = rows[("R2", "B", W[12])]
    assert r["rate_weeks"] == 0 and r["lost_units"] == 0 and r["lost_value"] == 0
    # R1 x C weeks 1-5 were before its listing; R2 x A never ran out: neither appears.
    assert not any(k[:2] in {("R1", "C"), ("R2", "A")} for k in rows)
    assert len(rows) == 2 + 1 + 9


# -- availability by retailer -------------------------------------------------------------------------------------
def test_availability_by_retailer_over_all_weeks(engine):
    frame = inventory.availability_by_retailer(engine, ALL_WEEKS)
    assert list(frame.columns) == ["retailer_id", "in_stock_rate", "oos_weeks", "lost_units", "lost_value"]
    rows = frame.set_index("retailer_id")
    # R3 has no inventory: no row. R1: in stock A 10 weeks (1-9, 12) + B 10 (11 counts minus week 10) + C 7
    # (weeks 6-12; weeks 1-5 were before listing) = 27; out 2 + 1 = 3 -> 27 / 30 = 0.9. Lost 16 + 7 = 23 units,
    # 32 + 21 = 53 in value.
    assert list(rows.index) == ["R1", "R2"]
    assert rows.loc["R1", "in_stock_rate"] == pytest.approx(0.9)
    assert rows.loc["R1", "oos_weeks"] == 3
    assert rows.loc["R1", "lost_units"] == pytest.approx(23) and rows.loc["R1", "lost_value"] == pytest.approx(53)
    # R2: in stock A 12 + B 3 = 15, out 9 (B weeks 4-12) -> 15 / 24 = 0.625; lost 7 weeks x 5 = 35, value 35.
    assert rows.loc["R2", "in_stock_rate"] == pytest.approx(0.625)
    assert rows.loc["R2", "oos_weeks"] == 9
    assert rows.loc["R2", "lost_units"] == pytest.approx(35) and rows.loc["R2", "lost_value"] == pytest.approx(35)


def test_availability_by_retailer_follows_the_period_and_the_filters(engine):
    last3 = Filters(period="custom", start=W[10], end=W[12])
    rows = inventory.availability_by_retailer(engine, last3).set_index("retailer_id")
    # Weeks 10-12. R1 in stock: A week 12, B weeks 11-12, C 3 weeks = 6; out: A 10, 11 and B 10 = 3 -> 6 / 9.
    # Lost: A 6 + 10, B 7 = 23 units; 12 + 20 + 21 = 53 in value.
    assert rows.loc["R1", "in_stock_rate"] == pytest.approx(6 / 9)
    assert rows.loc["R1", "lost_units"] == pytest.approx(23) and rows.loc["R1", "lost_value"] == pytest.approx(53)
    # R2: A in stock 3 weeks, B out 3 weeks -> 0.5; lost in weeks 10 and 11 only -> 10.
    assert rows.loc["R2", "in_stock_rate"] == pytest.approx(0.5)
    assert rows.loc["R2", "oos_weeks"] == 3 and rows.loc["R2", "lost_units"] == pytest.approx(10)

    ice_cream = ALL_WEEKS.with_(categories=("Ice Cream",))
    rows = inventory.availability_by_retailer(engine, ice_cream).set_index("retailer_id")
    # SKU A only. R1: 10 of 12 weeks in stock, lost 16; R2: 12 of 12, nothing lost.
    assert rows.loc["R1", "in_stock_rate"] == pytest.approx(10 / 12) and rows.loc["R1", "lost_units"] == 16
    assert rows.loc["R2", "in_stock_rate"] == 1.0 and rows.loc["R2", "lost_units"] == 0

    only_r3 = ALL_WEEKS.with_(retailers=("R3",))
    assert inventory.availability_by_retailer(engine, only_r3).empty


def test_availability_by_retailer_without_inventory(hand_db):
    tables = case_tables()
    del tables["inventory"]
    engine = hand_db(**tables)
    frame = inventory.availability_by_retailer(engine, ALL_WEEKS)
    assert frame.empty and list(frame.columns) == inventory.AVAILABILITY_BY_RETAILER_COLUMNS


def test_lost_sales_skip_weeks_the_retailer_did_not_report(hand_db):
    # R1 x A: 50 on hand, 0 in weeks 10 and 12; 10 units a week at price 2 whenever R1 reported, 2 in week 12.
    # R1 reported no sell-out at all in weeks 5 and 10 (its POS did not arrive).
    rows_inv = [inv("R1", "A", w, 0 if w in (10, 12) else 50) for w in range(1, 13)]
    rows_so = [so("R1", "A", w, 10, 20) for w in range(1, 12) if w not in (5, 10)] + [so("R1", "A", 12, 2, 4)]
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, inventory=rows_inv, sell_out=rows_so)
    rows = by_key(inventory.ledger(engine).assign(week=lambda f: f["week"].dt.date))
    # Week 10: out of stock but unreported: what it sold is unknown, so no estimate (reading it as 0 sold would
    # lose the whole 8.75-a-week rate).
    r = rows[("R1", "A", W[10])]
    assert not r["reported"] and np.isnan(r["lost_units"]) and np.isnan(r["lost_value"])
    # Week 12: the 8 weeks before are 4-11; week 10 was out of stock and week 5 unreported, leaving 4, 6, 7, 8, 9
    # and 11 at 10 a week -> rate 10; sold 2 -> 8 lost at price 2 -> 16. (Week 5 read as 0 sold: 60 / 7 = 8.57.)
    r = rows[("R1", "A", W[12])]
    assert r["reported"] and r["rate_weeks"] == 6 and r["expected_units"] == pytest.approx(10)
    assert r["lost_units"] == pytest.approx(8) and r["lost_value"] == pytest.approx(16)
    frame = inventory.availability(engine, ALL_WEEKS).set_index("sku_id")
    assert frame.loc["A", "oos_weeks"] == 2 and frame.loc["A", "oos_weeks_unreported"] == 1
    assert frame.loc["A", "lost_units"] == pytest.approx(8)
