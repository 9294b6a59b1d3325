"""Shared fixtures: demo databases (built once per run), hand-built databases, engines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from kam_dash import demo, schema
from kam_dash.engine import DuckDBEngine

AS_OF = dt.date(2026, 11, 26)  # fixed, so every run sees the same calendar
SEED = 7
ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = ROOT.parent / "shared" / "real-data"


@pytest.fixture(autouse=True)
def own_state_database(tmp_path, monkeypatch):
    """Each test keeps account plans in a state file of its own (tests that need another set KAM_DASH_STATE
    themselves): a page opened on a shared demo database must not leave a plan beside it for the next test."""
    monkeypatch.setenv("KAM_DASH_STATE", str(tmp_path / "own.state.sqlite"))


@pytest.fixture(scope="session")
def small_db(tmp_path_factory) -> Path:
    """The small demo (seconds to build)."""
    path = tmp_path_factory.mktemp("demo") / "small.duckdb"
    demo.build(path, scale="small", seed=SEED, as_of=AS_OF)
    return path


@pytest.fixture(scope="session")
def default_db(tmp_path_factory) -> Path:
    """The default demo: what estimator accuracy is measured on."""
    path = tmp_path_factory.mktemp("demo") / "default.duckdb"
    demo.build(path, scale="default", seed=SEED, as_of=AS_OF)
    return path


@pytest.fixture()
def small_engine(small_db):
    engine = DuckDBEngine(small_db)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def default_engine(default_db):
    engine = DuckDBEngine(default_db)
    yield engine
    engine.close()


@pytest.fixture()
def empty_db(tmp_path) -> Path:
    """A database with every contract table and no rows."""
    path = tmp_path / "empty.duckdb"
    con = duckdb.connect(str(path))
    schema.create_all(con)
    con.close()
    return path


def make_db(path: Path, **tables: pd.DataFrame | list[dict]) -> Path:
    """A database holding exactly the given tables (rows as DataFrames or lists of dicts).

    Columns left out of a row take the contract's default (or NULL); only the tables given are created,
    so a test can also stand for a user who loaded only some tables.
    """
    con = duckdb.connect(str(path))
    try:
        for name, rows in tables.items():
            spec = schema.TABLES[name]
            frame = pd.DataFrame(rows)
            for col in spec.columns:
                if col.name not in frame:
                    frame[col.name] = col.default
                elif col.default is not None:
                    frame[col.name] = frame[col.name].where(frame[col.name].notna(), col.default)
            con.execute(spec.ddl())
            cols = ", ".join(f'"{c}"' for c in spec.column_names)
            con.register("rows_to_load", frame[list(spec.column_names)])
            con.execute(f'INSERT INTO main."{name}" ({cols}) SELECT {cols} FROM rows_to_load')
            con.unregister("rows_to_load")
    finally:
        con.close()
    return path


@pytest.fixture()
def hand_db(tmp_path):
    """Build a hand-made database and open an engine on it: hand_db(retailers=[...], sell_in=[...])."""
    engines = []

    def build(**tables):
        path = make_db(tmp_path / f"hand{len(engines)}.duckdb", **tables)
        engine = DuckDBEngine(path)
        engines.append(engine)
        return engine

    yield build
    for e in engines:
        e.close()


def real_data(*parts: str) -> Path:
    """A file under ../shared/real-data, or a skip saying why it is absent."""
    path = REAL_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available here ({path} is absent); it is read in place, never copied")
    return path
