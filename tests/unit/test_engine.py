"""Engines: per-thread safety, missing data, and the settings that pick them."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kam_dash.config import Settings, settings_from_env
from kam_dash.engine import DataError, DuckDBEngine, MissingTableError, SparkEngine, open_engine
from kam_dash.filters import Filters
from kam_dash.metrics import share


def test_sixteen_threads_at_once_get_correct_answers(small_db):
    engine = DuckDBEngine(small_db)
    filters = [Filters(), Filters(period="l13w"), Filters(period="l52w"), Filters(categories=("Snacks",))]
    expected = {f: share.revenue_share(engine, f) for f in filters}  # serial answers first
    barrier = threading.Barrier(16)

    def work(i: int):
        f = filters[i % len(filters)]
        barrier.wait()  # start all sixteen together
        return f, share.revenue_share(engine, f)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(work, range(16)))
    assert len(results) == 16
    for f, frame in results:
        assert frame.equals(expected[f]), f
    engine.close()


def test_each_thread_has_its_own_backend(small_db):
    engine = DuckDBEngine(small_db)
    seen = []
    t = threading.Thread(target=lambda: seen.append(engine.backend()))
    t.start(); t.join()
    assert seen[0] is not engine.backend()
    assert engine.backend() is engine.backend()  # reused within a thread


def test_absent_database_is_empty_not_an_error(tmp_path):
    engine = DuckDBEngine(tmp_path / "nothing.duckdb")
    assert engine.row_counts() == {name: 0 for name in engine.row_counts()}
    assert not engine.has("sell_out")
    with pytest.raises(MissingTableError, match="sell_out"):
        engine.table("sell_out")


def test_loaded_but_empty_tables_count_as_missing(empty_db):
    engine = DuckDBEngine(empty_db)
    assert engine.missing("sell_in", "targets") == ["sell_in", "targets"]


def test_spark_engine_needs_a_parquet_folder(tmp_path):
    with pytest.raises(DataError, match="export-parquet"):
        SparkEngine(tmp_path / "missing")


def test_settings_from_environment():
    s = settings_from_env({"KAM_DASH_DB": "x.duckdb", "KAM_DASH_ENGINE": "Spark",
                           "KAM_DASH_SPARK_MASTER": "local-cluster[2,1,1024]"})
    assert s == Settings(db=Path("x.duckdb"), engine="spark", spark_master="local-cluster[2,1,1024]")
    assert settings_from_env({}).engine == "duckdb"
    with pytest.raises(ValueError, match="KAM_DASH_ENGINE"):
        settings_from_env({"KAM_DASH_ENGINE": "oracle"})
    assert isinstance(open_engine(Settings(db=Path("/nonexistent/x.duckdb"))), DuckDBEngine)


def test_sixteen_sessions_asking_the_same_thing_share_one_computation(small_db):
    """Engine.memo is single-flight: the first asker computes, the other fifteen wait for its value."""
    engine = DuckDBEngine(small_db)
    computed = []
    barrier = threading.Barrier(16)

    def slow_rows():
        computed.append(threading.get_ident())
        time.sleep(0.3)  # long enough for all sixteen to arrive while it runs
        return engine.execute(engine.table("sell_out").count().as_table())

    def ask(i: int):
        barrier.wait()
        return engine.memo("rows of sell_out", slow_rows)

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(ask, range(16)))
    assert len(computed) == 1
    assert all(a is answers[0] for a in answers)  # one value, shared
    assert int(answers[0].iloc[0, 0]) == engine.row_counts()["sell_out"] > 0
    assert engine.memo("rows of sell_out", slow_rows) is answers[0] and len(computed) == 1  # then remembered
    engine.close()


def test_a_failed_computation_reaches_every_waiter_and_is_not_remembered(small_db):
    engine = DuckDBEngine(small_db)
    calls = []
    barrier = threading.Barrier(8)

    def failing():
        calls.append(1)
        time.sleep(0.3)
        raise DataError("the file went away")

    def ask(i: int):
        barrier.wait()
        try:
            engine.memo("doomed", failing)
        except DataError as exc:
            return str(exc)
        return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        errors = list(pool.map(ask, range(8)))
    assert errors == ["the file went away"] * 8 and len(calls) == 1
    assert engine.memo("doomed", lambda: "computed again") == "computed again"  # an error is not kept
    engine.close()
