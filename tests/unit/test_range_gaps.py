"""Range gaps on hand-built tables: products a retailer does not list that comparable accounts sell, with the
estimated values worked out by hand in each test."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kam_dash.filters import Filters
from kam_dash.metrics import account
from kam_dash.metrics.account.range_gaps import RANGE_GAP_COLUMNS, comparable_accounts, range_gaps_of

RETAILERS = pd.DataFrame({"retailer_id": ["R", "A", "B", "C"],
                          "retailer_name": ["Ours", "Alpha", "Beta", "Cash"],
                          "channel": ["grocery", "grocery", "grocery", "mass"]})
PRODUCTS = pd.DataFrame({"sku_id": ["P1", "P2", "P3", "P4", "P5"],
                         "sku_name": ["Apple juice", "Berry juice", "Cherry juice", "Date juice", "Elder juice"],
                         "brand": ["Orchard"] * 5, "category": ["Juice"] * 5})
# R sells P1 60 + P2 40 = 100 (and P4 at 0: not listed); A: P1 50, P3 30, P4 20 = 100; B: P1 150, P3 50 = 200;
# C (the only mass account): P5 100.
SALES = pd.DataFrame([
    ("R", "P1", 60.0), ("R", "P2", 40.0), ("R", "P4", 0.0),
    ("A", "P1", 50.0), ("A", "P3", 30.0), ("A", "P4", 20.0),
    ("B", "P1", 150.0), ("B", "P3", 50.0),
    ("C", "P5", 100.0)], columns=["retailer_id", "sku_id", "value"])


def test_gaps_against_the_same_channel():
    gaps = range_gaps_of(SALES, RETAILERS, PRODUCTS, "R")
    assert list(gaps.columns) == RANGE_GAP_COLUMNS
    # comparable: A and B (grocery, 2 >= MIN_PEERS); C is mass and P5 is not a gap for R.
    # P3: listed by A (30/100 = 0.30) and B (50/200 = 0.25): listing 2/2, mean share 0.275, est 1 x 0.275 x 100
    # P4: listed by A only (20/100 = 0.20): listing 1/2, est 0.5 x 0.20 x 100 = 10; R's 0 sales do not list it
    assert list(gaps["sku_name"]) == ["Cherry juice", "Date juice"]
    assert list(gaps["accounts_listing"]) == [2, 1]
    assert list(gaps["comparable_accounts"]) == [2, 2]
    assert gaps["listing_share"].tolist() == pytest.approx([1.0, 0.5])
    assert gaps["mean_share_where_listed"].tolist() == pytest.approx([0.275, 0.20])
    assert gaps["est_value"].tolist() == pytest.approx([27.5, 10.0])


def test_a_channel_of_one_is_compared_with_every_other_account():
    assert comparable_accounts(RETAILERS, {"R", "A", "B", "C"}, "C") == (["A", "B", "R"], "all accounts")
    gaps = range_gaps_of(SALES, RETAILERS, PRODUCTS, "C")
    # C's own sales 100. P1: R 0.6, A 0.5, B 0.75 -> 3/3 listing, mean 0.61667, est 61.667
    # P3: A 0.3, B 0.25 -> 2/3, mean 0.275, est 18.333; P2: R 0.4 -> 1/3, est 13.333; P4: A 0.2 -> 1/3, est 6.667
    assert list(gaps["sku_id"]) == ["P1", "P3", "P2", "P4"]
    assert gaps["est_value"].tolist() == pytest.approx([185 / 3, 55 / 3, 40 / 3, 20 / 3])
    assert (gaps["comparable_accounts"] == 3).all()


def test_nothing_to_compare():
    # a retailer without sales has no range; one whose peers sell only what it lists has no gap
    assert range_gaps_of(SALES[SALES["retailer_id"] != "R"], RETAILERS, PRODUCTS, "R").empty
    only_p1 = SALES[SALES["sku_id"] == "P1"]
    assert range_gaps_of(only_p1, RETAILERS, PRODUCTS, "R").empty


def test_read_from_the_database(hand_db):
    # the same accounts as sell-in of one week: the engine's read gives the same ranking and values
    week = dt.date(2026, 1, 5)
    sell_in = [{"week": week, "retailer_id": r, "sku_id": s, "units": 1, "gross_sales": v, "net_sales": v}
               for r, s, v in SALES.itertuples(index=False)]
    retailers = [dict(r, region="", kam="", strategic_priority=1) for r in RETAILERS.to_dict("records")]
    engine = hand_db(retailers=retailers, products=PRODUCTS.to_dict("records"), sell_in=sell_in)
    gaps = account.retailer_range_gaps(engine, Filters(), "R")
    assert list(gaps["sku_name"]) == ["Cherry juice", "Date juice"]
    assert gaps["est_value"].tolist() == pytest.approx([27.5, 10.0])
    assert "Range gaps" in account.DEFINITIONS and "Key-account score" in account.DEFINITIONS
