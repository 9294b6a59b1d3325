"""Revenue share on a hand-built portfolio: every expected number is worked out in the comments."""

from __future__ import annotations

import datetime as dt

import pytest

from kam_dash.filters import Filters
from kam_dash.metrics import share

D = dt.date
RETAILERS = [
    dict(retailer_id="R1", retailer_name="One Market", channel="grocery", region="N", kam="A"),
    dict(retailer_id="R2", retailer_name="Two Mart", channel="mass", region="S", kam="B"),
    dict(retailer_id="R3", retailer_name="Three Online", channel="ecommerce", region="N", kam="A"),
]
PRODUCTS = [
    dict(sku_id="S1", sku_name="Crisps", brand="Crunch", category="Snacks"),
    dict(sku_id="S2", sku_name="Soup", brand="Hearth", category="Soups"),
]


def si(week, r, s, net):
    return dict(week=week, retailer_id=r, sku_id=s, units=net / 10, gross_sales=net * 1.2, net_sales=net)


SELL_IN = [
    si(D(2026, 2, 2), "R1", "S1", 600), si(D(2026, 2, 9), "R1", "S2", 400),
    si(D(2025, 2, 3), "R1", "S1", 800),  # last year, 52 weeks before 2026-02-02
    si(D(2026, 2, 16), "R2", "S1", 300), si(D(2026, 2, 23), "R2", "S1", -50),  # a return
    si(D(2025, 2, 10), "R2", "S1", 250),
    si(D(2026, 2, 2), "R3", "S2", 100),
    si(D(2026, 3, 2), "R1", "S1", 999),  # after February: the latest week loaded
]
SELL_OUT = [
    dict(week=D(2026, 2, 9), retailer_id="R1", sku_id="S1", units=100, sales_value=2000),
    dict(week=D(2026, 2, 9), retailer_id="R2", sku_id="S1", sales_channel="online", units=25, sales_value=500),
]
TARGETS = [
    dict(retailer_id="R1", month=D(2026, 2, 1), category="", net_sales_target=2000),
    dict(retailer_id="R1", month=D(2026, 2, 1), category="Snacks", net_sales_target=1200),
    dict(retailer_id="R1", month=D(2026, 2, 1), category="Soups", net_sales_target=800),
    dict(retailer_id="R1", month=D(2026, 3, 1), category="", net_sales_target=999),
    # R2 has no all-category row: its category rows are summed
    dict(retailer_id="R2", month=D(2026, 2, 1), category="Snacks", net_sales_target=300),
    dict(retailer_id="R2", month=D(2026, 2, 1), category="Soups", net_sales_target=100),
]
FEBRUARY = Filters(period="custom", start=D(2026, 2, 1), end=D(2026, 2, 28))  # Mondays 2, 9, 16, 23


@pytest.fixture()
def engine(hand_db):
    return hand_db(retailers=RETAILERS, products=PRODUCTS, sell_in=SELL_IN, sell_out=SELL_OUT, targets=TARGETS)


def rows(frame):
    return {r["retailer_id"]: r for r in frame.to_dict("records")}


def test_revenue_share_by_hand(engine):
    out = share.revenue_share(engine, FEBRUARY)
    assert list(out["retailer_id"]) == ["R1", "R2", "R3"]  # by net sales, largest first
    r = rows(out)
    # net sales: R1 600 + 400 = 1000; R2 300 - 50 = 250; R3 100; total 1350
    assert r["R1"]["net_sales"] == 1000 and r["R2"]["net_sales"] == 250 and r["R3"]["net_sales"] == 100
    assert r["R1"]["share"] == pytest.approx(1000 / 1350)  # 0.7407
    assert r["R2"]["cum_share"] == pytest.approx(1250 / 1350)  # 0.9259
    assert r["R3"]["cum_share"] == pytest.approx(1.0)
    # A while cumulative <= 80%, B up to 95%, C beyond
    assert [r[k]["abc_class"] for k in ("R1", "R2", "R3")] == ["A", "B", "C"]
    # growth: R1 1000 / 800 - 1 = 0.25; R2 250 / 250 - 1 = 0; R3 has no last year
    assert r["R1"]["yoy_growth"] == pytest.approx(0.25)
    assert r["R2"]["yoy_growth"] == pytest.approx(0.0)
    assert r["R3"]["net_sales_ly"] != r["R3"]["net_sales_ly"]  # NaN
    # sell-out: R1 2000, R2 500 (online counts) -> shares 0.8 and 0.2; R3 none
    assert r["R1"]["sell_out_share"] == pytest.approx(0.8) and r["R2"]["sell_out_share"] == pytest.approx(0.2)
    # targets: R1's all-category row 2000 (all four February weeks in the period); R2 sums 300 + 100
    assert r["R1"]["net_sales_target"] == pytest.approx(2000)
    assert r["R2"]["net_sales_target"] == pytest.approx(400)
    assert r["R1"]["attainment"] == pytest.approx(0.5) and r["R2"]["attainment"] == pytest.approx(0.625)
    assert r["R3"]["attainment"] != r["R3"]["attainment"]  # no target -> empty, not zero


def test_category_filter_uses_category_targets(engine):
    r = rows(share.revenue_share(engine, FEBRUARY.with_(categories=("Snacks",))))
    # Snacks only: R1 600 (LY 800), R2 250 (LY 250); R3 sells no Snacks and drops out
    assert set(r) == {"R1", "R2"}
    assert r["R1"]["share"] == pytest.approx(600 / 850)
    assert r["R1"]["yoy_growth"] == pytest.approx(600 / 800 - 1)
    assert r["R1"]["net_sales_target"] == pytest.approx(1200) and r["R2"]["net_sales_target"] == pytest.approx(300)
    assert r["R2"]["abc_class"] == "C"  # 850 / 850 = 100% cumulative


def test_partial_months_take_their_weeks_share_of_the_target(engine):
    # Mondays Feb 16, Feb 23 and Mar 2: 2 of February's 4 weeks, 1 of March's 5 (2, 9, 16, 23, 30)
    f = Filters(period="custom", start=D(2026, 2, 16), end=D(2026, 3, 2))
    r = rows(share.revenue_share(engine, f))
    assert r["R1"]["net_sales_target"] == pytest.approx(2000 * 2 / 4 + 999 * 1 / 5)  # 1199.8
    assert r["R1"]["net_sales"] == pytest.approx(999)
    assert r["R1"]["attainment"] == pytest.approx(999 / 1199.8)


def test_brand_filter_hides_targets_and_channel_filter_narrows(engine):
    r = rows(share.revenue_share(engine, FEBRUARY.with_(brands=("Crunch",))))
    assert all(v["net_sales_target"] != v["net_sales_target"] for v in r.values())  # NaN: plans have no brand
    r = rows(share.revenue_share(engine, FEBRUARY.with_(channels=("mass",))))
    assert list(r) == ["R2"] and r["R2"]["share"] == pytest.approx(1.0)


def test_portfolio_kpis_compare_like_with_like(engine):
    k = share.portfolio_kpis(engine, FEBRUARY)
    assert k["net_sales"] == pytest.approx(1350)
    assert k["sell_out_value"] == pytest.approx(2500)
    # growth over retailers with both years: (1000 + 250) / (800 + 250) - 1
    assert k["yoy_growth"] == pytest.approx(1250 / 1050 - 1)
    # attainment over retailers with a target: (1000 + 250) / (2000 + 400)
    assert k["attainment"] == pytest.approx(1250 / 2400)


def test_abc_largest_is_always_a():
    assert share.abc_classes([0.9, 0.94, 1.0]) == ["A", "B", "C"]  # the first is A although above 80%
    assert share.abc_classes([0.5, 0.8, 0.95, 0.951]) == ["A", "A", "B", "C"]


def test_without_sell_in_only_sell_out_is_shown(hand_db):
    engine = hand_db(retailers=RETAILERS, products=PRODUCTS, sell_out=SELL_OUT)
    out = share.revenue_share(engine, FEBRUARY)
    assert out["net_sales"].isna().all() and out["share"].isna().all()
    assert rows(out)["R1"]["sell_out_value"] == 2000


def test_empty_database_gives_an_empty_table(empty_db):
    from kam_dash.engine import DuckDBEngine

    out = share.revenue_share(DuckDBEngine(empty_db), Filters())
    assert out.empty and list(out.columns) == share.SHARE_COLUMNS
