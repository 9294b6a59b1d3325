"""Spark in local-cluster mode (two executor processes) over a Parquet copy of the small demo."""

from __future__ import annotations

import os
import shutil

import pytest

from kam_dash import parquet
from kam_dash.engine import SparkEngine

MASTER = os.environ.get("KAM_DASH_TEST_SPARK_MASTER", "local-cluster[2,1,1024]")


@pytest.fixture(scope="session")
def spark_engine(small_db, tmp_path_factory):
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.fail("Java is not installed: the Spark parity tests need a JDK (.ci/run installs one)")
    folder = tmp_path_factory.mktemp("parquet")
    parquet.export_database(small_db, folder)
    engine = SparkEngine(folder, MASTER)
    yield engine
    engine.close()
