"""Voids against the demo's planted truth: precision >= 0.9 and recall >= 0.8 (issue 12), on the default demo
and on the small demo under two more seeds. Decoys (2-3 week gaps, closing and late-opening stores) are in
the data and must not be reported."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from kam_dash import demo
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.metrics import stores
from tests.conftest import AS_OF

WHOLE_RANGE = Filters(period="custom", start=dt.date(2020, 1, 6), end=AS_OF)


def score(db) -> tuple[float, float, int, int]:
    """(precision, recall, found, planted): a found void is right when it overlaps a planted one of its store
    and SKU; a planted void is found when some found void overlaps it."""
    engine = DuckDBEngine(db)
    try:
        found = stores.page_data(engine, WHOLE_RANGE, with_stores=False).voids
    finally:
        engine.close()
    con = duckdb.connect(str(db), read_only=True)
    truth = con.execute("SELECT * FROM truth.voids").df()
    con.close()
    truth[["first_week", "last_week"]] = truth[["first_week", "last_week"]].apply(pd.to_datetime)
    pairs = found.reset_index().merge(truth.reset_index(), on=["retailer_id", "store_id", "sku_id"],
                                      suffixes=("", "_truth"))
    hit = pairs[(pairs["first_week"] <= pairs["last_week_truth"]) & (pairs["last_week"] >= pairs["first_week_truth"])]
    precision = hit["index"].nunique() / len(found)
    recall = hit["index_truth"].nunique() / len(truth)
    return precision, recall, len(found), len(truth)


def test_voids_meet_precision_and_recall_on_the_default_demo(default_db):
    precision, recall, found, planted = score(default_db)
    con = duckdb.connect(str(default_db), read_only=True)
    chains = con.execute("SELECT count(DISTINCT retailer_id) FROM truth.voids").fetchone()[0]
    open_at_end = con.execute("SELECT count(*) FROM truth.voids v WHERE last_week = (SELECT max(week) FROM "
                              "sell_out_store s WHERE s.retailer_id = v.retailer_id)").fetchone()[0]
    con.close()
    assert planted >= 40 and chains >= 3 and 0 < open_at_end < planted  # open voids and ended ones
    assert precision >= 0.9, (precision, found, planted)
    assert recall >= 0.8, (recall, found, planted)


def test_decoys_are_not_reported(default_db):
    engine = DuckDBEngine(default_db)
    try:
        found = stores.page_data(engine, WHOLE_RANGE, with_stores=False).voids
        closing = stores._stores(engine).dropna(subset=["close_date"])
    finally:
        engine.close()
    assert len(closing) >= 3
    # a store that closed has no void past its close (its weeks after it are not open weeks) ...
    late = found.merge(closing[["store_id", "close_date"]], on="store_id")
    assert (late["last_week"] <= late["close_date"]).all()
    # ... and no reported run is shorter than N weeks (the planted 2-3 week gaps)
    assert (found["weeks"] >= stores.VOID_WEEKS).all()


@pytest.mark.parametrize(("scale", "seed"), [("small", 11), ("small", 23)] + [("default", s) for s in range(1, 6)])
def test_voids_meet_precision_and_recall_under_other_seeds(tmp_path, scale, seed):
    """Seeds nobody tuned to. Default seeds 1 and 4 once gave precision 0.74 and 0.83: slow lines in small stores
    went 12-19 weeks without a sale by drift alone, which Poisson odds of 1 in 1,000 did not rule out."""
    db = tmp_path / f"{scale}-{seed}.duckdb"
    demo.build(db, scale=scale, seed=seed, as_of=AS_OF)
    precision, recall, found, planted = score(db)
    assert precision >= 0.9, (precision, found, planted)
    assert recall >= 0.8, (recall, found, planted)
