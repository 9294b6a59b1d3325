"""The current weekly run rate shown beside the run rate needed: YTD actual over the plan year's weeks done."""

from __future__ import annotations

import datetime as dt

import pytest

from kam_dash.metrics import plan


def test_current_run_rate_is_ytd_actual_over_the_weeks_done():
    # 2026's Mondays start 5 Jan; up to Monday 2 Feb: 5, 12, 19, 26 Jan and 2 Feb = 5 weeks done
    page = plan.PlanPage(year=2026, cutoff=dt.date(2026, 2, 2), totals={"ytd_actual": 1000.0})
    assert page.weeks_done == 5
    assert page.current_run_rate == pytest.approx(1000 / 5)


def test_no_current_run_rate_before_a_week_is_done_or_without_actuals():
    assert plan.PlanPage(year=2026, cutoff=dt.date(2026, 1, 4), totals={"ytd_actual": 10.0}).current_run_rate is None
    assert plan.PlanPage(year=2026, cutoff=dt.date(2026, 2, 2), totals={}).current_run_rate is None
