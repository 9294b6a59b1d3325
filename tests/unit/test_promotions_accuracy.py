"""Promotion lift against the default demo's planted truth (truth.promo_lift), on the suite's seed and on
seeds 1-5 that nobody tuned the estimator to."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from kam_dash import demo
from kam_dash.engine import DuckDBEngine
from kam_dash.metrics import promotions as promo
from tests.conftest import AS_OF

SEEDS = (1, 2, 3, 4, 5)


@pytest.fixture(scope="module")
def report(default_db, default_engine):
    con = duckdb.connect(str(default_db), read_only=True)
    truth = con.execute("SELECT * FROM truth.promo_lift").df()
    con.close()
    return promo.accuracy_report(default_engine, truth).set_index("method"), len(truth)


def test_default_method_recovers_the_planted_lift(report):
    """The issue's bar: over the events with enough clean weeks, the default method's median absolute lift
    error is under 8 percentage points, and its incremental units sum to within 10% of the planted sum."""
    table, n_events = report
    default = table.loc[promo.DEFAULT_METHOD]
    assert default["events"] >= 0.9 * n_events  # nearly every event has enough clean weeks
    assert default["median_abs_lift_error"] < 0.08
    assert 0.9 <= default["incremental_ratio"] <= 1.1


def test_seasonal_rescaling_does_better_than_the_plain_pre_period(report):
    # The demo plants strong seasons; rescaling by the category's index must remove most of that drift.
    table, _ = report
    assert table.loc["seasonal_pre", "median_abs_lift_error"] < table.loc["pre_period", "median_abs_lift_error"]
    assert table.loc["seasonal_pre", "median_abs_lift_error"] <= 0.07


def test_every_method_is_reported(report):
    table, _ = report
    assert list(table.index) == list(promo.METHODS)
    # last year needs a year of history before the event: the first year's events have no lift by it
    assert table.loc["last_year", "events"] < table.loc["pre_period", "events"]
    assert (table["incremental_ratio"].between(0.8, 1.2)).all()


@pytest.fixture(scope="module")
def seed_reports(tmp_path_factory) -> pd.DataFrame:
    """Every method's accuracy on default-scale demos of seeds 1-5 (each built once, about a second each)."""
    rows = []
    for seed in SEEDS:
        path = tmp_path_factory.mktemp(f"seed{seed}") / "demo.duckdb"
        demo.build(path, scale="default", seed=seed, as_of=AS_OF)
        with duckdb.connect(str(path), read_only=True) as con:
            truth = con.execute("SELECT * FROM truth.promo_lift").df()
        engine = DuckDBEngine(path)
        try:
            rows.append(promo.accuracy_report(engine, truth).assign(seed=seed))
        finally:
            engine.close()
    return pd.concat(rows, ignore_index=True)


def test_the_default_estimate_holds_on_seeds_nobody_tuned_to(seed_reports):
    """On every seed 1-5: total incremental units within 10% of the planted truth and a median absolute lift
    error under 8 points (measured: ratio 0.943-1.000, error 0.045-0.057 before the demo's mess was merged)."""
    default = seed_reports[seed_reports["method"] == promo.DEFAULT_METHOD].set_index("seed")
    assert list(default.index) == list(SEEDS)
    shown = default[["events", "median_abs_lift_error", "incremental_ratio"]].round(3).to_dict("index")
    assert default["incremental_ratio"].between(0.9, 1.1).all(), shown
    assert (default["median_abs_lift_error"] < 0.08).all(), shown


def test_the_demos_unreported_weeks_after_promotions_make_no_dip(default_db, default_engine):
    """The demo plants unreported weeks right after promotions (truth.unreported_weeks): no event reads them as
    zeros. (Its lagging retailers have no event near their latest week, the Christmas freeze sees to that, so the
    lag rule is tested by hand in test_promotions.py.)"""
    with duckdb.connect(str(default_db), read_only=True) as con:
        gaps = con.execute("SELECT retailer_id, week FROM truth.unreported_weeks").df()
    table = promo.promo_lift(default_engine, promo.ALL_TIME)
    weeks = table.assign(d1=pd.to_datetime(table["end_week"]) + pd.Timedelta(weeks=1),
                         d2=pd.to_datetime(table["end_week"]) + pd.Timedelta(weeks=2))
    gaps["week"] = pd.to_datetime(gaps["week"])
    hit = pd.concat([weeks.merge(gaps, left_on=["retailer_id", d], right_on=["retailer_id", "week"])
                     for d in ("d1", "d2")])
    assert len(hit) > 0, "the demo puts unreported weeks right after some promotions"
    assert hit["post_dip_units"].isna().all()
    assert hit["flag"].str.contains("unreported week in the 2 weeks after").all()
    assert (table.set_index("promo_id").loc[hit["promo_id"], "unreported_weeks"] > 0).all()
