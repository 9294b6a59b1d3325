"""The SQL store chains of the `stores200m` scale, at a tiny size of the same code: two chains of 20 and 16
stores over 24 SKUs and the demo's weeks. The rollup must be the importer's, the planted voids found by the void
metric and nothing else reported (decoy gaps of 2-3 weeks, stores that close or open late)."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pandas as pd
import pytest

from kam_dash import demo, demo_stores, schema, store_summary
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.metrics import stores
from tests.conftest import AS_OF

WHOLE_RANGE = Filters(period="custom", start=dt.date(2020, 1, 6), end=AS_OF)
TINY = demo_stores.StoreChains(stores=(20, 16), voids=4)


def tiny_db(path, seed: int):
    con = duckdb.connect(str(path))
    schema.create_all(con, with_truth=True)
    con.execute("INSERT INTO main.products (sku_id, sku_name, brand, category, list_price) "
                "SELECT 'K' || lpad(i::VARCHAR, 2, '0'), 'Item ' || i, 'B' || (i % 3), 'Cat', 1 + i / 4 "
                "FROM range(1, 25) t(i)")
    added = demo_stores.add_store_chains(con, TINY, demo.calendar(AS_OF), seed)
    con.close()
    return added


@pytest.fixture(scope="module", params=[7, 1, 2])
def db(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("demo-stores") / f"tiny-{request.param}.duckdb"
    added = tiny_db(path, request.param)
    return path, added


def test_the_chains_are_written(db):
    path, added = db
    con = duckdb.connect(str(path), read_only=True)
    per_store = con.execute("SELECT retailer_id, count(*) FROM main.stores GROUP BY 1 ORDER BY 1").fetchall()
    weeks = con.execute("SELECT count(DISTINCT week) FROM main.sell_out_store").fetchone()[0]
    counted = con.execute("SELECT retailer_id, store_count FROM main.retailers ORDER BY 1").fetchall()
    con.close()
    assert per_store == [("R901", 20), ("R902", 16)] == counted
    assert weeks == len(demo.calendar(AS_OF))
    # 36 stores x 24 SKUs x the weeks at most, less the range a store does not carry
    assert 0.5 * 36 * 24 * weeks < added["sell_out_store"] <= 36 * 24 * weeks
    assert added["truth.voids"] == 2 * TINY.voids


def test_the_chain_rows_are_the_sum_of_the_store_rows(db):
    path, _ = db
    con = duckdb.connect(str(path), read_only=True)
    chain = con.execute("SELECT week, retailer_id, sku_id, sales_channel, units, sales_value, stores_selling "
                        "FROM main.sell_out ORDER BY ALL").df()
    stores_sum = con.execute("""
        SELECT week, retailer_id, sku_id, sales_channel, sum(units) AS units,
               round(sum(sales_value), 2) AS sales_value, count(*) AS stores_selling
        FROM main.sell_out_store GROUP BY ALL ORDER BY ALL""").df()
    con.close()
    assert len(chain) == len(stores_sum) > 0
    pd.testing.assert_frame_equal(chain, stores_sum, check_dtype=False)


def test_planted_voids_are_found_and_nothing_else(db):
    path, _ = db
    engine = DuckDBEngine(path)
    try:
        found = stores.page_data(engine, WHOLE_RANGE, with_stores=False).voids
        closing = stores._stores(engine).dropna(subset=["close_date"])
    finally:
        engine.close()
    con = duckdb.connect(str(path), read_only=True)
    truth = con.execute("SELECT * FROM truth.voids").df()
    con.close()
    truth[["first_week", "last_week"]] = truth[["first_week", "last_week"]].apply(pd.to_datetime)
    pairs = found.merge(truth, on=["retailer_id", "store_id", "sku_id"], suffixes=("", "_truth"))
    # every void found is a planted one, starting and ending where it was planted ...
    assert len(found) == len(truth) == len(pairs)
    assert (pairs["first_week"] == pairs["first_week_truth"]).all()
    assert (pairs["last_week"] == pairs["last_week_truth"]).all()
    # ... so neither the 2-3 week gaps nor the weeks after a store closed (it sends no rows) are reported
    assert len(closing) >= 1
    con = duckdb.connect(str(path), read_only=True)
    after_close = con.execute("SELECT count(*) FROM main.sell_out_store JOIN main.stores USING (store_id) "
                              "WHERE week > close_date").fetchone()[0]
    con.close()
    assert after_close == 0


def test_decoy_gaps_are_in_the_data(db):
    """The gaps the void metric must skip are there: store x SKU pairs selling 3+ units a week with no row for
    2 or 3 weeks in which their store sold other SKUs."""
    path, _ = db
    con = duckdb.connect(str(path), read_only=True)
    gaps = con.execute("""
        WITH pair AS (
            SELECT store_id, sku_id, week, units,
                   date_diff('week', lag(week) OVER (PARTITION BY store_id, sku_id ORDER BY week), week) - 1 AS hole
            FROM main.sell_out_store),
        fast AS (SELECT store_id, sku_id FROM pair GROUP BY ALL HAVING min(units) >= 3)
        SELECT count(*) FROM pair JOIN fast USING (store_id, sku_id) WHERE hole IN (2, 3)""").fetchone()[0]
    con.close()
    assert gaps == 2 * TINY.voids  # one hole per planted gap; a fast pair has no other (it never sells 0)


def test_memory_limit_is_checked():
    assert demo_stores.memory_limit({}) == demo_stores.MEMORY_LIMIT_DEFAULT
    assert demo_stores.memory_limit({"KAM_DASH_DUCKDB_MEMORY_LIMIT": "800MB"}) == "800MB"
    with pytest.raises(ValueError, match="KAM_DASH_DUCKDB_MEMORY_LIMIT"):
        demo_stores.memory_limit({"KAM_DASH_DUCKDB_MEMORY_LIMIT": "3GB'; DROP TABLE x; --"})


@pytest.mark.parametrize("filters", [WHOLE_RANGE, Filters(period="l13w"), Filters(period="ytd", retailers=("R902",)),
                                     Filters(period="l52w", categories=("Cat",))], ids=["all", "l13w", "R902", "cat"])
def test_the_store_summaries_give_what_the_store_rows_give(db, tmp_path, filters, monkeypatch):
    """The page reads store_summary_* tables where the database keeps them: the same figures as from the rows."""
    path, _ = db
    with_summaries = tmp_path / "with-summaries.duckdb"
    shutil.copy(path, with_summaries)
    con = duckdb.connect(str(with_summaries))
    monkeypatch.setattr(store_summary, "BATCH_ROWS", 7_000)  # the void gaps in slices of stores, as at 200M rows
    store_summary.build(con)
    con.close()
    results = []
    for p in (path, with_summaries):
        engine = DuckDBEngine(p)
        try:
            assert (engine.summary("store_summary_selling") is not None) == (p == with_summaries)
            results.append(stores.page_data(engine, filters))
        finally:
            engine.close()
    rows, summed = results
    assert len(rows.distribution) and len(rows.stores)
    pd.testing.assert_frame_equal(rows.distribution, summed.distribution)
    pd.testing.assert_frame_equal(rows.voids, summed.voids)
    pd.testing.assert_frame_equal(rows.stores.reset_index(drop=True), summed.stores.reset_index(drop=True),
                                  check_dtype=False)
