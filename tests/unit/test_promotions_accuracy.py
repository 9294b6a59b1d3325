"""Promotion lift against the default demo's planted truth (truth.promo_lift)."""

from __future__ import annotations

import duckdb
import pytest

from kam_dash.metrics import promotions as promo


@pytest.fixture(scope="module")
def report(default_db, default_engine):
    con = duckdb.connect(str(default_db), read_only=True)
    truth = con.execute("SELECT * FROM truth.promo_lift").df()
    con.close()
    return promo.accuracy_report(default_engine, truth).set_index("method"), len(truth)


def test_default_method_recovers_the_planted_lift(report):
    """The issue's bar: over the events with enough clean weeks, the default method's median absolute lift
    error is at most 10 percentage points, and its incremental units sum to within 10% of the planted sum."""
    table, n_events = report
    default = table.loc[promo.DEFAULT_METHOD]
    assert default["events"] >= 0.9 * n_events  # nearly every event has enough clean weeks
    assert default["median_abs_lift_error"] <= 0.10
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
