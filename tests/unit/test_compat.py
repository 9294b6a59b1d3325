"""The two adapters of kam_dash.compat hold at the pinned versions, and this test fails when a pin moves, so the
adapter is re-checked (and deleted once upstream no longer needs it) by whoever moves it."""

from __future__ import annotations

import inspect
from importlib.metadata import version

import duckdb
import pytest

from kam_dash import compat
from tests.conftest import ROOT


@pytest.mark.parametrize("package", sorted(compat.PINNED))
def test_the_adapters_were_written_for_the_installed_and_pinned_versions(package):
    pins = dict(line.strip().split("==") for line in (ROOT / "requirements.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert version(package) == compat.PINNED[package] == pins[package], (
        f"{package} moved: re-check kam_dash.compat against it, then update compat.PINNED")


def test_duckdb_still_lacks_the_names_ibis_calls_so_the_alias_is_needed():
    import ibis.backends.duckdb as ibis_duckdb

    source = inspect.getsource(ibis_duckdb)
    assert "fetch_arrow_table()" in source  # Ibis still calls the old name
    assert hasattr(duckdb.DuckDBPyConnection, "to_arrow_table")  # DuckDB's new name, which the alias calls
    compat.duckdb_arrow_names_for_ibis()
    con = duckdb.connect()
    assert con.execute("SELECT 42 AS x").fetch_arrow_table().to_pylist() == [{"x": 42}]
    assert [b.num_rows for b in con.execute("SELECT 1 AS x").fetch_record_batch(10)] == [1]


def test_kaleido_still_has_the_private_coroutine_the_adapter_replaces():
    import kaleido

    original = kaleido.Kaleido._return_kaleido_tab
    assert inspect.iscoroutinefunction(original)
    assert list(inspect.signature(original).parameters) == ["self", "tab"]
    assert "tabs_ready" in inspect.getsource(kaleido.Kaleido)  # the queue the adapter puts the tab back on
    assert compat.kaleido_keep_tab_class()._return_kaleido_tab is not original
