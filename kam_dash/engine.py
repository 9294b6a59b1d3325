"""Ibis connections: DuckDB by default, Spark on request, safe to use from many threads.

Metric code asks an Engine for Ibis tables and hands expressions back to it to
run; it never sees a connection. Streamlit runs each browser session on its own
thread, and a DuckDB connection serves one call at a time, so every thread gets
its own cursor of one read-only parent connection.
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

import duckdb
import ibis
import pandas as pd

from kam_dash.config import Settings
from kam_dash.schema import TABLES


class DataError(Exception):
    """A problem with the data that the user can act on; the message says what."""


class MissingTableError(DataError):
    pass


def _patch_duckdb_for_ibis() -> None:
    # Ibis 12 calls cursor.fetch_arrow_table()/fetch_record_batch(), which DuckDB 2.0
    # renamed to to_arrow_table()/to_arrow_reader(). Without this, list_tables() and
    # backend.sql() fail. Remove once Ibis follows the rename.
    conn_cls = duckdb.DuckDBPyConnection
    if not hasattr(conn_cls, "fetch_arrow_table"):

        def fetch_arrow_table(self):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return self.to_arrow_table()

        conn_cls.fetch_arrow_table = fetch_arrow_table
    if not hasattr(conn_cls, "fetch_record_batch"):

        def fetch_record_batch(self, rows_per_batch: int = 1_000_000):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return self.to_arrow_reader(rows_per_batch)

        conn_cls.fetch_record_batch = fetch_record_batch


_patch_duckdb_for_ibis()


class Engine:
    """What metric code needs from a database: tables, and a way to run expressions."""

    kind = "base"

    def __init__(self) -> None:
        self._counts: dict[str, int] | None = None
        self._memo: dict[object, object] = {}
        self._memo_lock = threading.Lock()
        self._thread_tables = threading.local()

    # -- to be provided by each engine -------------------------------------------------
    def backend(self):  # pragma: no cover - interface
        raise NotImplementedError

    def _table_names(self) -> set[str]:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def data_version(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def location(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass

    # -- shared -------------------------------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}")
        if name not in self._table_names():
            raise MissingTableError(f"The table '{name}' is not loaded.")
        return self._bound_table(name)

    def _bound_table(self, name: str) -> ibis.Table:
        # Looking a table up asks the database for its schema (tens of ms under load); the Ibis
        # expression is immutable, so each thread keeps the ones it has looked up.
        cache = getattr(self._thread_tables, "tables", None)
        if cache is None:
            cache = self._thread_tables.tables = {}
        if name not in cache:
            cache[name] = self._lookup(name)
        return cache[name]

    def _lookup(self, name: str) -> ibis.Table:
        return self.backend().table(name)

    def row_counts(self) -> dict[str, int]:
        """Rows per contract table (0 for a table that is absent). Computed once per engine."""
        if self._counts is None:
            present = self._table_names()
            counts = {}
            for name in TABLES:
                counts[name] = int(self.execute_scalar(self.table(name).count())) if name in present else 0
            self._counts = counts
        return self._counts

    def memo(self, key, compute):
        """Remember a small result (dimension tables, the latest week) for this engine's life."""
        with self._memo_lock:
            if key in self._memo:
                return self._memo[key]
        value = compute()
        with self._memo_lock:
            self._memo.setdefault(key, value)
        return value

    def has(self, name: str) -> bool:
        """True when the table is loaded and holds at least one row."""
        return self.row_counts().get(name, 0) > 0

    def missing(self, *names: str) -> list[str]:
        return [n for n in names if not self.has(n)]

    def execute(self, expr) -> pd.DataFrame:
        return self.backend().to_pandas(expr)

    def execute_scalar(self, expr):
        return self.backend().execute(expr)


class DuckDBEngine(Engine):
    kind = "duckdb"

    def __init__(self, path: str | Path | None) -> None:
        super().__init__()
        self._path = Path(path) if path is not None else None
        if self._path is not None and self._path.exists():
            try:
                self._parent = duckdb.connect(str(self._path), read_only=True)
            except duckdb.IOException as exc:
                raise DataError(
                    f"Cannot open the database {self._path}: {exc}. Another program may be writing to it."
                ) from exc
        else:
            # No database yet: an empty in-memory one, so pages can say "no data" instead of failing.
            self._parent = duckdb.connect(":memory:")
        self._local = threading.local()
        self._names: set[str] | None = None

    @property
    def location(self) -> str:
        return str(self._path) if self._path else ":memory:"

    @property
    def data_version(self) -> str:
        if self._path is None or not self._path.exists():
            return f"{self.location}:absent"
        st = os.stat(self._path)
        return f"{self.location}:{st.st_mtime_ns}:{st.st_size}"

    def backend(self):
        be = getattr(self._local, "backend", None)
        if be is None:
            be = ibis.duckdb.from_connection(self._parent.cursor())
            self._local.backend = be
        return be

    def _table_names(self) -> set[str]:
        if self._names is None:
            rows = self._parent.cursor().execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
            self._names = {r[0] for r in rows} & set(TABLES)
        return self._names

    def close(self) -> None:
        self._parent.close()


_SPARK_LOCK = threading.Lock()
_SPARK_SESSIONS: dict[str, object] = {}


def spark_session(master: str):
    """One SparkSession per master URL for the process (starting one takes seconds)."""
    from pyspark.sql import SparkSession

    with _SPARK_LOCK:
        session = _SPARK_SESSIONS.get(master)
        if session is None:
            if master.startswith("sc://"):
                session = SparkSession.builder.remote(master).getOrCreate()
            else:
                session = (
                    SparkSession.builder.master(master)
                    .appName("kam-dash")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.session.timeZone", "UTC")
                    .config("spark.sql.shuffle.partitions", "4")
                    .config("spark.executor.memory", "768m")
                    .getOrCreate()
                )
                session.sparkContext.setLogLevel("ERROR")
            _SPARK_SESSIONS[master] = session
        return session


class SparkEngine(Engine):
    """The same metric code over a folder of Parquet files (one `<table>.parquet` each)."""

    kind = "spark"

    def __init__(self, folder: str | Path, master: str = "local[2]") -> None:
        super().__init__()
        self._folder = Path(folder)
        if not self._folder.is_dir():
            raise DataError(
                f"{self._folder} is not a folder of Parquet files; write one with `kam-dash export-parquet`."
            )
        self._master = master
        self._backend = ibis.pyspark.connect(spark_session(master))
        self._names = set()
        for name in TABLES:
            path = self._folder / f"{name}.parquet"
            if path.exists():
                # A unique view name per folder: two engines on one session must not see each other's tables.
                self._backend.read_parquet(str(path), table_name=self._view(name))
                self._names.add(name)

    def _view(self, name: str) -> str:
        return f"kam_{abs(hash(str(self._folder.resolve()))) % 10**8}_{name}"

    def _lookup(self, name: str) -> ibis.Table:
        return self._backend.table(self._view(name))

    def backend(self):
        return self._backend

    def _table_names(self) -> set[str]:
        return self._names

    @property
    def location(self) -> str:
        return str(self._folder)

    @property
    def data_version(self) -> str:
        stamps = [p.stat().st_mtime_ns for p in self._folder.rglob("*") if p.is_file()]
        return f"{self._folder}:{max(stamps, default=0)}:{len(stamps)}"


def open_engine(settings: Settings) -> Engine:
    if settings.engine == "spark":
        return SparkEngine(settings.db, settings.spark_master)
    return DuckDBEngine(settings.db)
