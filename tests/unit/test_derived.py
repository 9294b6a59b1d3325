"""Derived tables: computed once per data version, equal to the live computation, never served stale."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pandas as pd
import pytest

from kam_dash import cli, derived
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.metrics import promotions as promo

VIEWS = [Filters(), Filters(period="l52w", retailers=("R001",)), Filters(categories=("Snacks",)),
         Filters(period="custom", start=dt.date(2023, 1, 1), end=dt.date(2026, 12, 31))]
PAGE_COLUMNS = ["promo_id", "retailer_name", "sku_name", "mechanic", "start_date", "end_date", "clean_weeks",
                "baseline_units", "actual_units", "incremental_units", "lift_pct", "post_dip_units",
                "net_incremental_units", "net_price", "incremental_gross_profit", "roi", "cost_per_incremental_unit",
                "vs_plan", "unreported_weeks", "flag"]


@pytest.fixture()
def copy_of_small(small_db, tmp_path):
    """A copy of the small demo (its derived tables included) that a test may change."""
    path = tmp_path / "small-copy.duckdb"
    shutil.copyfile(small_db, path)
    return path


def without_derived(path):
    con = duckdb.connect(str(path))
    con.execute(f"DROP SCHEMA {derived.SCHEMA} CASCADE")
    con.close()
    return path


def write_sql(path, sql: str, params=()):
    con = duckdb.connect(str(path))
    con.execute(sql, list(params))
    con.close()


def test_the_demo_stores_fresh_derived_tables(small_engine):
    assert derived.fresh(small_engine) == frozenset(derived.DERIVATIONS)
    assert promo.stored_lift(small_engine) is not None


def test_stored_values_equal_the_live_computation(small_engine, copy_of_small):
    live = DuckDBEngine(without_derived(copy_of_small))
    try:
        assert derived.fresh(live) == frozenset() and promo.stored_lift(live) is None
        pd.testing.assert_frame_equal(promo.seasonal_index(small_engine).reset_index(drop=True),
                                      promo.seasonal_index(live).reset_index(drop=True), check_dtype=False)
        stored = promo.stored_lift(small_engine)
        every = promo.lift_of_every_event(live, chunk=7)  # in slices of 7 events, as a large panel is
        assert len(every) == sum(len(t) for t in stored.values()) == 4 * 60  # the small demo: 60 events
        for method in promo.METHODS:
            mine = every[every["method"] == method].set_index("promo_id", drop=False)
            theirs = stored[method].loc[mine.index]
            pd.testing.assert_frame_equal(theirs[promo.EXPORT_COLUMNS].reset_index(drop=True),
                                          mine[promo.EXPORT_COLUMNS].reset_index(drop=True), check_dtype=False)
        # The page read from the derived table equals the page computed live on the events in view.
        for filters in VIEWS:
            for method in ("seasonal_pre", "last_year"):
                fast, slow = promo.page_data(small_engine, filters, method), promo.page_data(live, filters, method)
                assert fast.weeks is None and slow.weeks is not None  # the fast page read the derived table
                assert len(fast.events) > 0
                pd.testing.assert_frame_equal(fast.events[PAGE_COLUMNS].reset_index(drop=True),
                                              slow.events[PAGE_COLUMNS].reset_index(drop=True), check_dtype=False)
                pd.testing.assert_frame_equal(fast.methods, slow.methods, check_dtype=False)
                pd.testing.assert_frame_equal(fast.by_mechanic, slow.by_mechanic, check_dtype=False)
                pd.testing.assert_frame_equal(fast.curves, slow.curves, check_dtype=False)
                assert fast.kpis == pytest.approx(slow.kpis, nan_ok=True)
        # The export (and the plan's promotion objectives) read it too.
        for filters, method in ((VIEWS[0], "pre_post"), (VIEWS[1], "seasonal_pre")):
            pd.testing.assert_frame_equal(promo.promo_lift(small_engine, filters, method),
                                          promo.promo_lift(live, filters, method), check_dtype=False)
        # One event's weeks, computed alone, are that event's rows of the live grid of a whole view.
        slow = promo.page_data(live, VIEWS[3])
        for promo_id in slow.events["promo_id"].iloc[[0, len(slow.events) // 2, -1]]:
            alone = promo.event_weeks(small_engine, VIEWS[3], promo_id)
            assert len(alone) > 10
            pd.testing.assert_frame_equal(alone.reset_index(drop=True),
                                          slow.weeks[slow.weeks["promo_id"] == promo_id].reset_index(drop=True))
    finally:
        live.close()


def test_a_base_row_edited_with_sql_makes_them_stale_until_derived_again(copy_of_small):
    con = duckdb.connect(str(copy_of_small), read_only=True)
    # a sell-out week inside an event of the default view: its lift must change
    event = con.execute("SELECT promo_id, retailer_id, sku_id, start_date FROM promotions WHERE start_date >= "
                        "DATE '2026-03-01' ORDER BY promo_id LIMIT 1").fetchone()
    con.close()
    promo_id, retailer, sku, start = event
    monday = start - dt.timedelta(days=start.weekday())
    before = DuckDBEngine(copy_of_small)
    old = promo.stored_lift(before)["seasonal_pre"].loc[promo_id, "actual_units"]
    before.close()

    write_sql(copy_of_small, "UPDATE sell_out SET units = units + 1000 WHERE rowid = (SELECT min(rowid) FROM "
              "sell_out WHERE retailer_id = ? AND sku_id = ? AND week = ?)", (retailer, sku, monday))  # one row
    stale = DuckDBEngine(copy_of_small)
    try:
        assert derived.fresh(stale) == frozenset()  # detected at open: never served
        assert promo.stored_lift(stale) is None
        page = promo.page_data(stale, Filters(period="custom", start=dt.date(2026, 1, 5), end=dt.date(2026, 11, 16)))
        live_actual = page.events.set_index("promo_id").loc[promo_id, "actual_units"]
        assert live_actual == pytest.approx(old + 1000)  # computed live, on the edited row
    finally:
        stale.close()

    assert cli.main(["derive", "--db", str(copy_of_small)]) == 0
    again = DuckDBEngine(copy_of_small)
    try:
        assert derived.fresh(again) == frozenset(derived.DERIVATIONS)
        assert promo.stored_lift(again)["seasonal_pre"].loc[promo_id, "actual_units"] == pytest.approx(old + 1000)
    finally:
        again.close()
    assert derived.derive(copy_of_small) is None  # up to date: nothing to do


def test_the_fingerprint_changes_on_update_delete_and_insert_only(copy_of_small):
    def stamp():
        con = duckdb.connect(str(copy_of_small), read_only=True)
        try:
            return derived.fingerprint(con)
        finally:
            con.close()

    first = stamp()
    assert set(first) == set(derived.BASES) and stamp() == first  # the same data, the same fingerprint
    write_sql(copy_of_small, "UPDATE promotions SET mechanic = 'Other' WHERE promo_id = (SELECT min(promo_id) FROM "
              "promotions)")  # a text column, row count unchanged
    updated = stamp()
    assert updated["promotions"] != first["promotions"]
    assert {k: v for k, v in updated.items() if k != "promotions"} == {k: v for k, v in first.items()
                                                                     if k != "promotions"}
    write_sql(copy_of_small, "DELETE FROM sell_in WHERE rowid = (SELECT min(rowid) FROM sell_in)")
    deleted = stamp()
    assert deleted["sell_in"] != updated["sell_in"]
    assert int(deleted["sell_in"].split(":")[0]) == int(updated["sell_in"].split(":")[0]) - 1
    # a row deleted and another inserted in its place: the same count, other rows
    con = duckdb.connect(str(copy_of_small))
    con.execute("CREATE TEMP TABLE one AS SELECT * FROM sell_out WHERE rowid = (SELECT min(rowid) FROM sell_out)")
    con.execute("DELETE FROM sell_out WHERE rowid = (SELECT min(rowid) FROM sell_out)")
    con.execute("INSERT INTO sell_out SELECT * REPLACE (units + 1 AS units) FROM one")
    con.close()
    swapped = stamp()
    assert swapped["sell_out"].split(":")[0] == deleted["sell_out"].split(":")[0]
    assert swapped["sell_out"] != deleted["sell_out"]


def test_another_file_copied_in_is_detected(small_db, tmp_path):
    """A file whose derived tables came with it from other base rows: a changed base table is caught at open."""
    path = tmp_path / "copied.duckdb"
    shutil.copyfile(small_db, path)
    write_sql(path, "DELETE FROM promotions WHERE promo_id = (SELECT max(promo_id) FROM promotions)")
    engine = DuckDBEngine(path)
    try:
        assert derived.fresh(engine) == frozenset()
    finally:
        engine.close()


def test_derived_by_other_code_is_stale(copy_of_small, monkeypatch):
    monkeypatch.setattr(derived, "code_version", lambda: "another-version")
    engine = DuckDBEngine(copy_of_small)
    try:
        assert derived.fresh(engine) == frozenset()
    finally:
        engine.close()


def test_derive_says_when_the_file_is_missing_or_up_to_date(small_db, tmp_path, capsys):
    assert cli.main(["derive", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert "none.duckdb does not exist" in capsys.readouterr().err
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(small_db, copy)
    assert cli.main(["derive", "--db", str(copy)]) == 0
    assert "are up to date" in capsys.readouterr().out
    assert cli.main(["derive", "--db", str(copy), "--force"]) == 0
    out = capsys.readouterr().out
    assert "derived.promo_lift" in out and f"{4 * 60:>12,} rows" in out  # 60 events x 4 methods


def test_store_summaries_of_other_store_rows_are_not_read_and_derive_builds_them_again(copy_of_small, tmp_path):
    """The store summaries carry a stamp like the derived tables: a store row edited with SQL is caught at open, the
    page computes from the store rows (one store fewer selling), and `kam-dash derive` stores them again."""
    from kam_dash import export, store_summary

    selling = store_summary.table_name("selling")
    con = duckdb.connect(str(copy_of_small))
    retailer, store, sku, week = con.execute(
        "SELECT retailer_id, store_id, sku_id, week FROM sell_out_store WHERE units > 0 "
        "ORDER BY week DESC, retailer_id, store_id, sku_id LIMIT 1").fetchone()
    con.close()
    view = Filters(retailers=(retailer,), period="custom", start=week, end=week)

    def stores_selling(path):
        engine = DuckDBEngine(path)
        try:
            uses_summaries = engine.summary(selling) is not None
            dist = export.compute("distribution", engine, view)
        finally:
            engine.close()
        row = dist[(dist["sku_id"] == sku) & (pd.to_datetime(dist["week"]) == pd.Timestamp(week))]
        return uses_summaries, int(row["stores_selling"].iloc[0])

    used, before = stores_selling(copy_of_small)
    assert used and before >= 1
    write_sql(copy_of_small, "UPDATE sell_out_store SET units = 0, sales_value = 0 WHERE store_id = ? AND sku_id = ? "
              "AND week = ?", [store, sku, week])
    used, after_edit = stores_selling(copy_of_small)
    assert not used and after_edit == before - 1  # read from the store rows, never the stale summary
    assert derived.derive(copy_of_small) is not None  # not up to date: stored again
    used, rebuilt = stores_selling(copy_of_small)
    assert used and rebuilt == before - 1
    assert derived.derive(copy_of_small) is None
