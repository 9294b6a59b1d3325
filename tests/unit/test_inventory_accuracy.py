"""Lost sales and phantom stock against the default demo's planted truth (truth.lost_sales, truth.phantom)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from kam_dash import scope
from kam_dash.filters import Filters
from kam_dash.metrics import inventory

KEYS = ["retailer_id", "sku_id", "week"]


@pytest.fixture(scope="module")
def truth(default_db):
    con = duckdb.connect(str(default_db), read_only=True)
    out = {name: con.execute(f"SELECT * FROM truth.{name}").df() for name in ("lost_sales", "phantom")}
    con.close()
    for frame in out.values():
        frame["week"] = pd.to_datetime(frame["week"])
    return out


def test_lost_sales_total_is_within_20_percent_of_the_planted_censored_demand(default_engine, truth):
    first, latest = scope.first_week(default_engine), scope.latest_week(default_engine)
    everything = Filters(period="custom", start=first, end=latest)
    estimated = inventory.availability(default_engine, everything)["lost_units"].sum()
    planted = truth["lost_sales"]["lost_units"].sum()
    print(f"lost sales, all weeks: estimated {estimated:,.0f} vs planted {planted:,.0f} "
          f"= {estimated / planted:.3f}")
    assert 0.8 <= estimated / planted <= 1.2
    # The year to date alone, and retailer by retailer: the estimate follows where the demand was lost.
    ctx = inventory.context(default_engine, Filters())
    ytd_truth = truth["lost_sales"][truth["lost_sales"]["week"].between(pd.Timestamp(ctx.first),
                                                                        pd.Timestamp(ctx.last))]
    ytd = inventory.availability_by_retailer(default_engine, Filters()).set_index("retailer_id")["lost_units"]
    print(f"lost sales, year to date: {ytd.sum():,.0f} vs {ytd_truth['lost_units'].sum():,.0f}")
    assert 0.8 <= ytd.sum() / ytd_truth["lost_units"].sum() <= 1.2
    by_retailer = ytd_truth.groupby("retailer_id")["lost_units"].sum().reindex(ytd.index).fillna(0)
    assert ytd.corr(by_retailer) > 0.9


def test_phantom_candidates_against_the_planted_phantom_stock(default_engine, truth):
    latest = scope.latest_week(default_engine)
    everything = scope.resolve(default_engine, Filters(period="custom", start=scope.first_week(default_engine),
                                                       end=latest))
    # every week of the last year: the rule as the page applies it at its last week
    weeks = [latest - dt.timedelta(weeks=k) for k in range(52)]
    flagged = pd.concat([inventory.phantom_candidates(default_engine, everything, w).assign(week=pd.Timestamp(w))
                         for w in weeks])[KEYS]
    planted = truth["phantom"][truth["phantom"]["week"] >= pd.Timestamp(weeks[-1])]
    assert len(planted) > 0, "the demo planted no phantom stock in the last year: nothing to measure"
    hits = flagged.merge(planted, on=KEYS)
    precision = len(hits) / len(flagged) if len(flagged) else float("nan")
    recall = len(hits) / len(planted)
    # A planted episode is found when any of its weeks is flagged (the rule needs two silent weeks, so the first
    # week of an episode is never flagged itself).
    episodes = planted.sort_values(KEYS).assign(
        episode=lambda f: (f.groupby(["retailer_id", "sku_id"])["week"].diff() != pd.Timedelta(weeks=1)).cumsum())
    found = episodes.merge(flagged.assign(hit=True), on=KEYS, how="left").groupby("episode")["hit"].any()
    print(f"phantom, last 52 weeks: {len(flagged)} flagged, {len(planted)} planted weeks; precision "
          f"{precision:.2f}, week recall {recall:.2f}, episodes found {found.sum()} of {len(found)}")
    # No target is set for these; the floors guard against a rule that stops working.
    assert precision >= 0.5 and found.mean() >= 0.5
