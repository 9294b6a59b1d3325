"""The account plan on Spark: the plan lives in its own SQLite database under either engine, and the
account-plan export (each objective's live actual, progress and status) gives the same values on both."""

from __future__ import annotations

import pytest

from kam_dash import export
from kam_dash.filters import Filters
from kam_dash.state import demo_plan, plans
from kam_dash.state.store import Store, state_path_for
from tests.parity.test_exports_parity import assert_same_values

pytestmark = pytest.mark.spark


def test_account_plan_export_matches_on_spark(small_engine, spark_engine, tmp_path):
    state = tmp_path / "plan.sqlite"
    counts = demo_plan.write(small_engine, Store(state))
    assert counts["objectives"] > 0
    measures = set(plans.records(Store(state), "objectives")["measure"])
    assert {"net_sales", "in_stock_rate", "promo_roi", "gross_margin"} <= measures  # several metric modules
    on_duckdb = export.compute("account-plan", small_engine, Filters(), state=str(state))
    on_spark = export.compute("account-plan", spark_engine, Filters(), state=str(state))
    assert on_duckdb["actual_value"].notna().all()
    assert_same_values(on_duckdb, on_spark)


def test_the_state_goes_beside_the_parquet_folder(spark_engine, monkeypatch):
    monkeypatch.delenv("KAM_DASH_STATE", raising=False)
    folder = spark_engine.location
    assert state_path_for(folder).name == f"{folder.rstrip('/').rsplit('/', 1)[-1]}.state.sqlite"
    assert str(state_path_for(folder).parent) == folder.rstrip("/").rsplit("/", 1)[0]
