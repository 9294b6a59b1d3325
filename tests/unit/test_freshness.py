"""Per-table freshness, sell-out per retailer, unreported weeks and growth's comparable weeks, on hand-built
tables whose answers are counted by hand in the comments."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kam_dash import freshness, scope
from kam_dash.calendar import resolve_period
from kam_dash.export import compute
from kam_dash.filters import Filters

D = dt.date
W = dt.timedelta(weeks=1)
RETAILERS = [{"retailer_id": r, "retailer_name": f"Name {r}", "channel": "grocery", "region": "North", "kam": "K"}
             for r in ("R1", "R2", "R3")]
PRODUCTS = [{"sku_id": "S1", "sku_name": "One", "brand": "B", "category": "C"}]
LAST = D(2026, 3, 30)  # the latest week of any table (sell-in)


def weekly(rid, weeks, **values):
    return [{"week": w, "retailer_id": rid, "sku_id": "S1", **values} for w in weeks]


def build(hand_db):
    weeks = [LAST - k * W for k in range(60)][::-1]  # 60 Mondays ending 30 Mar 2026
    sell_in = weekly("R1", weeks, units=1, gross_sales=1, net_sales=1) + weekly("R2", weeks, units=1,
                                                                               gross_sales=1, net_sales=1)
    # R1 reports every week; R2's POS runs two weeks late and missed 10 Mar 2025 and 2 Mar 2026; R3 (sell-out
    # only) ends 23 Mar 2026
    r2_weeks = [w for w in weeks[:-2] if w not in (D(2025, 3, 10), D(2026, 3, 2))]
    sell_out = (weekly("R1", weeks, units=2, sales_value=4) + weekly("R2", r2_weeks, units=2, sales_value=4)
                + weekly("R3", weeks[:-1], units=2, sales_value=4))
    inventory = weekly("R1", weeks[:-3], on_hand_units=5)  # inventory ends 9 Mar 2026
    return hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=sell_in, sell_out=sell_out, inventory=inventory)


def test_latest_week_is_the_latest_of_any_table(hand_db):
    eng = build(hand_db)
    fresh = freshness.freshness(eng)
    assert fresh.latest_week == LAST == scope.latest_week(eng)
    assert fresh.table_latest == {"sell_in": LAST, "sell_out": LAST, "inventory": D(2026, 3, 9)}
    assert freshness.first_week(eng) == LAST - 59 * W


def test_sell_out_behind_per_retailer(hand_db):
    eng = build(hand_db)
    behind = freshness.freshness(eng).behind("sell_out")
    # R2's latest sell-out is 16 Mar (2 weeks behind 30 Mar), R3's 23 Mar (1 week); R1 is current
    assert list(behind["retailer_id"]) == ["R2", "R3"]
    assert list(behind["weeks_behind"]) == [2, 1]
    lines = freshness.describe(eng, ("sell_in", "sell_out"), names={"R2": "Second", "R3": "Third"})
    assert lines[0] == "Sell-in through 30 Mar 2026 · Sell-out through 30 Mar 2026"
    assert lines[1].startswith("Sell-out behind for 2 retailers: Second (2 weeks behind, through 16 Mar 2026), "
                               "Third (1 week behind, through 23 Mar 2026)")


def test_freshness_export(hand_db):
    eng = build(hand_db)
    frame = compute("freshness", eng, Filters())
    assert list(frame.columns) == ["retailer_id", "table", "latest_week", "weeks_behind"]
    got = {(r.retailer_id, r.table): (r.latest_week, r.weeks_behind) for r in frame.itertuples()}
    assert got[("R1", "inventory")] == (D(2026, 3, 9), 3)  # 9 Mar -> 30 Mar = 3 weeks
    assert got[("R2", "sell_out")] == (D(2026, 3, 16), 2)
    assert got[("R3", "sell_out")] == (D(2026, 3, 23), 1)
    assert ("R3", "sell_in") not in got  # a sell-out-only account has no sell-in row, not a zero one
    assert len(frame) == 6  # R1: 3 tables, R2: sell-in and sell-out, R3: sell-out
    only_r2 = compute("freshness", eng, Filters(retailers=("R2",)))
    assert set(only_r2["retailer_id"]) == {"R2"} and len(only_r2) == 2


def test_unreported_weeks_are_gaps_and_late_weeks(hand_db):
    eng = build(hand_db)
    frame = freshness.unreported_weeks(eng)
    got = sorted((r.retailer_id, r.week, r.kind) for r in frame.itertuples())
    assert got == [("R2", D(2025, 3, 10), "gap"), ("R2", D(2026, 3, 2), "gap"), ("R2", D(2026, 3, 23), "late"),
                   ("R2", D(2026, 3, 30), "late"), ("R3", D(2026, 3, 30), "late")]
    assert len(freshness.unreported_weeks(eng, start=D(2026, 3, 1), retailer_ids={"R2"})) == 3


def test_comparable_weeks_need_both_years_reported(hand_db):
    eng = build(hand_db)
    period = resolve_period(Filters(), freshness.first_week(eng), LAST)  # YTD: 5 Jan .. 30 Mar 2026, 13 weeks
    pairs = freshness.comparable_weeks(eng, period)
    counts = pairs.groupby("retailer_id").size().to_dict()
    # the data starts 10 Feb 2025 (59 weeks before 30 Mar 2026), the last year of 9 Feb 2026: YTD weeks with a
    # reported last year are 9 Feb .. 30 Mar 2026 = 8 weeks for R1; R2 has 9 Feb .. 16 Mar (6 weeks; 23 and 30 Mar
    # are late) less 2 Mar 2026 (unreported) and 9 Mar 2026 (its last year, 10 Mar 2025, unreported) = 4;
    # R3 loses 30 Mar: 7
    assert counts == {"R1": 8, "R2": 4, "R3": 7}
    assert set(pairs["ly_week"] - pd.to_timedelta(0, "D")) <= set(pairs["week"] - dt.timedelta(days=364))
