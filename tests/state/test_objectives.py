"""Objective progress and status for every measure, on hand-built tables; every number worked out by hand.

The data: retailer R1 x SKU S1 from Monday 1 January 2024 (week 0) to week 19 (6 May 2024), the latest loaded
week. 2024 has 53 Mondays, so the share of the plan year elapsed is 20 / 53.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kam_dash import export
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.metrics import objectives
from kam_dash.state import plans
from kam_dash.state.store import Store
from tests.conftest import make_db

MONDAY = dt.date(2024, 1, 1)
ELAPSED = 20 / 53


def week(i: int) -> dt.date:
    return MONDAY + dt.timedelta(weeks=i)


RETAILERS = [dict(retailer_id="R1", retailer_name="Corner Shop", channel="grocery", region="N", kam="Avery"),
             dict(retailer_id="R2", retailer_name="Budget Mart", channel="discount", region="S", kam="Blake")]
PRODUCTS = [dict(sku_id="S1", sku_name="Choc Bar", brand="Cocoa", category="Snacks", unit_cost=1.2, list_price=3.0)]
# Sell-out units by week: pre-weeks 0-7 (mean 100), the promotion's weeks 8-9, its dip weeks 10-11, then 120 a
# week except week 15 (out of stock) which sold 20. Price 3 a unit throughout.
SERIES = [100, 110, 90, 100, 105, 95, 100, 100, 150, 170, 80, 90, 120, 120, 120, 20, 120, 120, 120, 120]
TABLES = dict(
    retailers=RETAILERS, products=PRODUCTS,
    sell_out=[dict(week=week(i), retailer_id="R1", sku_id="S1", units=float(u), sales_value=3.0 * u)
              for i, u in enumerate(SERIES)],
    # net sales 200 a week in weeks 1-8 (100 units each) = 1600; last year's week 0 (2 January 2023) had 1000.
    # Week 0 of 2024 has none: with a full 53-week year, last year's weeks run to 1 January 2024.
    sell_in=[dict(week=week(i), retailer_id="R1", sku_id="S1", units=100.0, gross_sales=300.0, net_sales=200.0)
             for i in range(1, 9)]
    + [dict(week=week(-52), retailer_id="R1", sku_id="S1", units=500.0, gross_sales=1500.0, net_sales=1000.0)],
    # 50 on hand every week but week 15
    inventory=[dict(week=week(i), retailer_id="R1", sku_id="S1", on_hand_units=0.0 if i == 15 else 50.0)
               for i in range(20)],
    promotions=[dict(promo_id="P1", retailer_id="R1", sku_id="S1", start_date=week(8),
                     end_date=week(9) + dt.timedelta(days=6), mechanic="tpr", discount_pct=20.0, trade_spend=50.0)],
    targets=[dict(retailer_id="R1", month=dt.date(2024, 1, 1), category="", net_sales_target=2000.0)],
)

# The actual values for R1 in 2024, by hand:
ACTUAL = {
    "net_sales": 1600.0,  # 8 weeks x 200
    "sell_out_value": 6450.0,  # (sum of SERIES = 2150 units) x 3
    "yoy_growth": 0.6,  # 1600 / 1000 - 1
    "plan_attainment": 0.8,  # 1600 / the January target 2000 (the only target month in the year)
    "gross_margin": 0.4,  # (1600 - 800 units x unit cost 1.2) / 1600
    "in_stock_rate": 0.95,  # 19 of 20 counted weeks with stock
    # week 15: trailing rate = mean of weeks 7-14, all in stock: (100+150+170+80+90+120+120+120) / 8 = 118.75;
    # sold 20, so 98.75 units lost at the average in-stock price 3
    "lost_sales": 296.25,
    # P1, pre_period baseline 100 a week: 320 sold vs 200 -> +120, dip 200 - 170 = 30, net 90 units; net price
    # (weeks 1-7: 1400 / 700) = 2, profit 90 x (2 - 1.2) = 72; ROI (72 - 50) / 50
    "promo_roi": 0.44,
}

# (measure, target, expected status); the arithmetic beside each.
CASES = [
    ("net_sales", 4000, "on track"),  # due 4000 x 20/53 = 1509.4 <= 1600
    ("net_sales", 4400, "at risk"),  # due 1660.4; 90% of it 1494.3 <= 1600 < 1660.4
    ("net_sales", 5000, "off track"),  # due 1886.8; 90% 1698.1 > 1600
    ("sell_out_value", 17000, "on track"),  # due 6415.1 <= 6450
    ("sell_out_value", 18000, "at risk"),  # due 6792.5; 90% 6113.2 <= 6450
    ("sell_out_value", 20000, "off track"),  # due 7547.2; 90% 6792.5 > 6450
    ("lost_sales", 800, "on track"),  # allowance 800 x 20/53 = 301.9 >= 296.25
    ("lost_sales", 750, "at risk"),  # allowance 283.0 < 296.25 <= 110% of it 311.3, and <= 750
    ("lost_sales", 600, "off track"),  # allowance 226.4; 110% 249.1 < 296.25
    ("yoy_growth", 0.5, "on track"),  # 0.6 >= 0.5
    ("yoy_growth", 0.61, "at risk"),  # short by 0.01 <= 0.02
    ("yoy_growth", 0.65, "off track"),  # short by 0.05 > 0.02
    ("plan_attainment", 0.8, "on track"),  # 0.8 >= 0.8
    ("plan_attainment", 0.85, "at risk"),  # short by 0.05 <= 0.05
    ("plan_attainment", 0.9, "off track"),  # short by 0.10 > 0.05
    ("gross_margin", 0.35, "on track"),
    ("gross_margin", 0.41, "at risk"),  # short by 0.01 <= 0.02
    ("gross_margin", 0.45, "off track"),  # short by 0.05
    ("in_stock_rate", 0.9, "on track"),
    ("in_stock_rate", 0.96, "at risk"),  # short by 0.01
    ("in_stock_rate", 0.99, "off track"),  # short by 0.04
    ("promo_roi", 0.3, "on track"),
    ("promo_roi", 0.5, "at risk"),  # short by 0.06 <= 0.10
    ("promo_roi", 0.6, "off track"),  # short by 0.16 > 0.10
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    # built once for the module: every test only reads it
    engine = DuckDBEngine(make_db(tmp_path_factory.mktemp("objectives") / "hand.duckdb", **TABLES))
    yield engine
    engine.close()


def objective_rows(cases, retailer="R1", year=2024) -> pd.DataFrame:
    return pd.DataFrame([dict(objective_id=f"O{i}", retailer_id=retailer, year=year, title=f"{m} {t}", measure=m,
                              target_value=float(t), due_date=f"{year}-12-31", owner="Avery")
                         for i, (m, t, _) in enumerate(cases)])


def test_each_measure_reads_the_live_metric(engine):
    values = objectives.actuals(engine, objectives.year_filters(2024, ["R1"]))
    got = dict(zip(values["measure"], values["actual_value"]))
    assert set(got) == set(plans.MEASURES)
    for measure, expected in ACTUAL.items():
        assert got[measure] == pytest.approx(expected), measure


def test_share_of_the_year_elapsed():
    assert objectives.elapsed_share(2024, week(19)) == pytest.approx(20 / 53)  # 2024 has 53 Mondays
    assert objectives.elapsed_share(2023, week(19)) == 1.0  # a past year
    assert objectives.elapsed_share(2025, week(19)) == 0.0  # not started
    assert objectives.elapsed_share(2025, dt.date(2025, 1, 6)) == pytest.approx(1 / 52)  # 2025: first Monday 6 Jan


@pytest.mark.parametrize(("measure", "target", "status"), CASES, ids=[f"{m}-{t}" for m, t, _ in CASES])
def test_progress_and_status_by_hand(engine, measure, target, status):
    out = objectives.plan_progress(engine, objective_rows([(measure, target, status)])).iloc[0]
    assert out["actual_value"] == pytest.approx(ACTUAL[measure])
    assert out["progress"] == pytest.approx(ACTUAL[measure] / target)
    kind = objectives.MEASURE_INFO[measure].kind
    assert out["expected_progress"] == pytest.approx(ELAPSED if kind == "total" else 1.0)
    assert out["status"] == status, out["status_reason"]


def test_no_data_and_non_positive_targets(engine):
    out = objectives.plan_progress(engine, pd.concat([
        objective_rows([("net_sales", 100, "")], retailer="R2"),  # R2 has no sales at all
        objective_rows([("in_stock_rate", 0.9, "")], year=2026),  # a year with no data
        objective_rows([("yoy_growth", -0.1, "")]),  # a negative target: progress is not defined
    ], ignore_index=True))
    assert out["status"].tolist() == ["no data", "no data", "on track"]  # 0.6 >= -0.1
    assert out["status_reason"].iloc[0] == "no net sales for this retailer and year yet"
    assert np.isnan(out["progress"]).all()


def test_account_plan_export(engine, tmp_path):
    store = Store(tmp_path / "s.sqlite")
    for i, (m, t, _) in enumerate(CASES[:3]):
        plans.save(store, "objectives", dict(objective_id=f"O{i}", retailer_id="R1", year=2024, title="t",
                                              measure=m, target_value=t, due_date="2024-12-31", owner="A"), "me")
    plans.save(store, "objectives", dict(objective_id="O9", retailer_id="R2", year=2024, title="t",
                                          measure="net_sales", target_value=1, due_date="2024-12-31", owner="B"), "me")
    frame = export.compute("account-plan", engine, Filters(retailers=("R1",)), state=str(tmp_path / "s.sqlite"))
    assert list(frame.columns) == objectives.EXPORT_COLUMNS
    assert frame["objective_id"].tolist() == ["O0", "O1", "O2"]
    assert frame["status"].tolist() == ["on track", "at risk", "off track"]
    assert frame["progress"].tolist() == pytest.approx([1600 / 4000, 1600 / 4400, 1600 / 5000])
    everyone = export.compute("account-plan", engine, Filters(), state=str(tmp_path / "s.sqlite"), year=2024)
    assert len(everyone) == 4
    assert export.compute("account-plan", engine, Filters(), state=str(tmp_path / "s.sqlite"), year=2023).empty


def test_export_refuses_a_missing_state(engine, tmp_path):
    with pytest.raises(ValueError, match="no state database"):
        export.compute("account-plan", engine, Filters(), state=str(tmp_path / "absent.sqlite"))
    assert not (tmp_path / "absent.sqlite").exists()
