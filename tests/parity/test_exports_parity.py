"""Every registered export, with each of its examples, gives the same values on DuckDB and on Spark."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kam_dash import export
from kam_dash.filters import Filters

pytestmark = pytest.mark.spark

CASES = [
    pytest.param(name, i, id=f"{name}[{i}]")
    for name, spec in export.registry().items()
    for i in range(len(spec.examples))
]


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Values, not dtypes: PySpark and DuckDB hand pandas different dtypes for the same numbers."""
    out = pd.DataFrame(index=range(len(frame)))
    for col in frame.columns:
        s = frame[col].reset_index(drop=True)
        if s.map(lambda v: isinstance(v, (dt.date, dt.datetime, pd.Timestamp))).any():
            out[col] = pd.to_datetime(s).dt.strftime("%Y-%m-%d").astype(object)  # pandas 3 gives str dtype
        elif pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            out[col] = pd.to_numeric(s, errors="coerce").astype(float)
        else:
            out[col] = s.astype(object).where(s.notna(), None)
    text_cols = [c for c in out.columns if out[c].dtype == object]
    return out.sort_values(text_cols + [c for c in out.columns if c not in text_cols]).reset_index(drop=True)


def assert_same_values(left: pd.DataFrame, right: pd.DataFrame) -> None:
    assert list(left.columns) == list(right.columns)
    assert len(left) == len(right), f"{len(left)} rows on DuckDB, {len(right)} on Spark"
    a, b = _normalise(left), _normalise(right)
    for col in a.columns:
        if a[col].dtype == object:
            assert a[col].tolist() == b[col].tolist(), col
        else:
            np.testing.assert_allclose(a[col].to_numpy(), b[col].to_numpy(), rtol=1e-9, atol=1e-6,
                                       equal_nan=True, err_msg=col)


def example_call(name: str, index: int) -> tuple[Filters, dict]:
    """An example's options; the key `filters` (if any) holds Filters fields for that case."""
    options = dict(export.registry()[name].examples[index])
    filters = Filters(**options.pop("filters", {}))
    return filters, options


@pytest.mark.parametrize(("name", "index"), CASES)
def test_export_matches_on_spark(name, index, small_engine, spark_engine):
    filters, options = example_call(name, index)
    on_duckdb = export.compute(name, small_engine, filters, **options)
    on_spark = export.compute(name, spark_engine, filters, **options)
    assert len(on_duckdb) > 0, f"{name} returned no rows on the small demo: the comparison would prove nothing"
    assert_same_values(on_duckdb, on_spark)


def test_filtered_revenue_share_matches_on_spark(small_engine, spark_engine):
    filters = Filters(period="l52w", categories=("Snacks", "Soups"), channels=("grocery", "mass", "ecommerce"))
    assert_same_values(export.compute("revenue-share", small_engine, filters),
                       export.compute("revenue-share", spark_engine, filters))


def test_spark_engine_sees_the_same_data(small_engine, spark_engine):
    assert spark_engine.row_counts() == small_engine.row_counts()
    from kam_dash import scope

    assert scope.latest_week(spark_engine) == scope.latest_week(small_engine)
