"""Ibis connections: DuckDB by default, Spark on request, safe to use from many threads.

Metric code asks an Engine for Ibis tables and hands expressions back to it to
run; it never sees a connection. Streamlit runs each browser session on its own
thread, and a DuckDB connection serves one call at a time, so every thread gets
its own cursor of one read-only parent connection.

A DuckDB engine reads one version of the database file: `kam-dash import` never
writes the file the app reads, it renames a complete new file onto the path.
LiveDatabase is the app's view of the path: it opens an engine on each new
version and closes an old one once no session holds it.
"""

from __future__ import annotations

import os
import threading
import weakref
from pathlib import Path

import duckdb
import ibis
import pandas as pd

from kam_dash.compat import duckdb_arrow_names_for_ibis
from kam_dash.config import Settings, duckdb_memory_limit
from kam_dash.schema import TABLES


class DataError(Exception):
    """A problem with the data that the user can act on; the message says what."""


class MissingTableError(DataError):
    pass


duckdb_arrow_names_for_ibis()  # Ibis 12 on DuckDB 2.0: see kam_dash.compat


class SingleFlight:
    """Concurrent asks for one key share one computation: the first caller computes, the others wait for its
    result (or its error) instead of computing the same thing again. Sixteen sessions opening the same page
    on a new data version then cost one computation, not sixteen fighting over two cores."""

    class _Call:
        def __init__(self) -> None:
            self.done = threading.Event()
            self.value = None
            self.error: BaseException | None = None

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[object, SingleFlight._Call] = {}

    def do(self, key, compute, on_value=None):
        """compute() once for all the callers asking for `key` meanwhile; on_value(value) runs in the computing
        caller before the waiters are released (to store the value where the next caller finds it)."""
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if leader:
                call = self._calls[key] = SingleFlight._Call()
        if not leader:
            call.done.wait()
            if call.error is not None:
                raise call.error
            return call.value
        try:
            call.value = compute()
            if on_value is not None:
                on_value(call.value)
        except BaseException as exc:
            call.error = exc
            raise
        finally:
            with self._lock:
                self._calls.pop(key, None)
            call.done.set()
        return call.value


class Engine:
    """What metric code needs from a database: tables, and a way to run expressions."""

    kind = "base"

    def __init__(self) -> None:
        self._counts: dict[str, int] | None = None
        self._memo: dict[object, object] = {}
        self._memo_lock = threading.Lock()
        self._flight = SingleFlight()
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

    def summary(self, name: str) -> ibis.Table | None:
        """A table the database keeps beside the contract (kam_dash.store_summary), or None where it has none."""
        return None

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
        """Remember a result that does not depend on the view (dimension tables, the latest week, derived tables)
        for this engine's life, computed once even when many sessions ask at the same time (SingleFlight).
        Callers share the value: they must not change it."""
        with self._memo_lock:
            if key in self._memo:
                return self._memo[key]

        def keep(value) -> None:
            with self._memo_lock:
                self._memo.setdefault(key, value)

        def compute_unless_kept():  # a caller that missed the memo just before another stored it
            with self._memo_lock:
                if key in self._memo:
                    return self._memo[key]
            return compute()

        return self._flight.do(key, compute_unless_kept, keep)

    def has(self, name: str) -> bool:
        """True when the table is loaded and holds at least one row."""
        return self.row_counts().get(name, 0) > 0

    def missing(self, *names: str) -> list[str]:
        return [n for n in names if not self.has(n)]

    def execute(self, expr) -> pd.DataFrame:
        return self.backend().to_pandas(expr)

    def execute_scalar(self, expr):
        return self.backend().execute(expr)


def file_version(path: Path | None) -> str:
    """Which file sits at `path` now: (device, inode, mtime_ns, size), or "absent".

    The importer replaces the database file by a new one (a new inode), and other tools may rewrite it in
    place (a new time or size): either way the version changes and the app opens the new data."""
    if path is None:
        return "absent"
    try:
        st = os.stat(path)
    except OSError:
        return "absent"
    return f"{st.st_dev}:{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"


def folder_version(folder: Path) -> str:
    """Which Parquet files a folder holds now: the newest time and the count of its files."""
    stamps = [p.stat().st_mtime_ns for p in Path(folder).rglob("*") if p.is_file()] if Path(folder).is_dir() else []
    return f"{max(stamps, default=0)}:{len(stamps)}"


class DuckDBEngine(Engine):
    """One DuckDB file, read-only, as it was when the engine opened it.

    The file is ATTACHed read-only to a private in-memory database instead of opened with
    `duckdb.connect(path)`: DuckDB hands every `connect` of one path in a process the same cached
    instance, which keeps reading a file that has since been replaced. An attachment opens the path
    afresh, so an engine opened after `kam-dash import` reads the new file while older engines finish
    their queries on the old one (see LiveDatabase).
    """

    kind = "duckdb"
    CATALOG = "kam"

    def __init__(self, path: str | Path | None, require_file: bool = False) -> None:
        super().__init__()
        self._path = Path(path) if path is not None else None
        self._parent = duckdb.connect(":memory:")
        limit = duckdb_memory_limit()
        if limit:  # a shared machine: keep big scans (200M store rows) inside a budget; DuckDB spills past it
            self._parent.execute(f"SET memory_limit = '{limit}'")
        self._attached = False
        self._version = file_version(self._path)
        if self._path is not None and self._path.exists():
            if not self._path.is_file():
                self._parent.close()
                raise DataError(f"{self._path} is a folder, not a DuckDB database file.")
            try:
                self._parent.execute(f"ATTACH ? AS {self.CATALOG} (READ_ONLY)", [str(self._path)])
            except duckdb.Error as exc:
                self._parent.close()
                raise DataError(
                    f"Cannot open the database {self._path}: {exc}. Another program may be writing to it."
                ) from exc
            self._parent.execute(f"USE {self.CATALOG}")
            self._attached = True
        elif require_file:
            self._parent.close()
            raise DataError(f"{self._path} does not exist. Check the path (--db or KAM_DASH_DB); build the demo "
                            "with `kam-dash demo` or load files with `kam-dash import`.")
        # else no database yet: an empty in-memory one, so pages can say "no data" instead of failing.
        self._local = threading.local()
        self._names: set[str] | None = None

    @property
    def location(self) -> str:
        return str(self._path) if self._path else ":memory:"

    @property
    def exists(self) -> bool:
        """False when the engine stands in for a database file that is not there."""
        return self._attached

    @property
    def data_version(self) -> str:
        # The version of the file this engine reads, fixed when it opened: a file replaced since is another
        # version, read by another engine.
        return f"{self.location}:{self._version}"

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new connection to this engine's database (a cursor does not inherit the parent's USE)."""
        cur = self._parent.cursor()
        if self._attached:
            cur.execute(f"USE {self.CATALOG}")
        return cur

    def backend(self):
        be = getattr(self._local, "backend", None)
        if be is None:
            be = ibis.duckdb.from_connection(self.cursor())
            self._local.backend = be
        return be

    def summary(self, name: str) -> ibis.Table | None:
        from kam_dash import store_summary

        def usable() -> bool:
            # once per engine (one version of the file): summaries built from other store rows are never read
            with self.cursor() as con:
                return store_summary.usable(con)

        if not self.memo("store_summary.usable", usable):
            return None
        return self._bound_table(name) if name.removeprefix(store_summary.PREFIX) in store_summary.NAMES else None

    def _table_names(self) -> set[str]:
        if self._names is None:
            rows = self.cursor().execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                "AND table_catalog = current_database()"
            ).fetchall()
            self._names = {r[0] for r in rows} & set(TABLES)
        return self._names

    def close(self) -> None:
        self._parent.close()


class Lease:
    """A session's hold on one engine; the engine closes once it is released by every holder and replaced."""

    def __init__(self, live: LiveDatabase, engine: Engine, version: str) -> None:
        self.engine = engine
        self.version = version
        self.live = live
        self._released = False
        self._finalizer = weakref.finalize(self, live._release, engine)

    def current(self) -> bool:
        """True while the file at the path is still the one this lease's engine reads."""
        return self.live.version() == self.version

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._finalizer()


class LiveDatabase:
    """The app's view of one database path while files are replaced under it.

    Each session holds a Lease on the engine of the version it started a run on. On its next run it asks
    again: when the file at the path has changed (by stat: inode, time, size), it gets a lease on a new
    engine over the new file and gives up the old one. An engine no session holds and that is no longer
    current is closed, which releases the old file (already unlinked by the importer's rename). A lease
    whose session ended without releasing it is released when it is garbage-collected.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._current: tuple[str, Engine] | None = None
        self._holders: dict[int, int] = {}  # id(engine) -> leases held
        self._engines: dict[int, Engine] = {}

    def version(self) -> str:
        if self.settings.engine == "duckdb":
            return file_version(self.settings.db)
        return folder_version(self.settings.db)

    def acquire(self) -> Lease:
        version = self.version()
        with self._lock:
            if self._current is None or self._current[0] != version:
                engine = open_engine(self.settings)  # DataError propagates: the caller says why
                old = self._current
                self._current = (version, engine)
                self._engines[id(engine)] = engine
                self._holders.setdefault(id(engine), 0)
                if old is not None and self._holders.get(id(old[1]), 0) == 0:
                    self._close(old[1])
            engine = self._current[1]
            self._holders[id(engine)] += 1
        return Lease(self, engine, version)

    def _release(self, engine: Engine) -> None:
        with self._lock:
            left = self._holders.get(id(engine), 0) - 1
            self._holders[id(engine)] = max(left, 0)
            if left <= 0 and (self._current is None or self._current[1] is not engine):
                self._close(engine)

    def _close(self, engine: Engine) -> None:
        # called with the lock held
        self._holders.pop(id(engine), None)
        self._engines.pop(id(engine), None)
        engine.close()

    def open_engines(self) -> int:
        """Engines open now (the current one and any still held by a session on an older file)."""
        with self._lock:
            return len(self._engines)


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
        return f"{self._folder}:{folder_version(self._folder)}"


def open_engine(settings: Settings, require_file: bool = False) -> Engine:
    """The engine the settings name. `require_file`: a DuckDB path that does not exist is a DataError
    ("PATH does not exist") instead of an empty database (the CLI's exports; the app shows the message)."""
    if settings.engine == "spark":
        return SparkEngine(settings.db, settings.spark_master)
    return DuckDBEngine(settings.db, require_file=require_file)
