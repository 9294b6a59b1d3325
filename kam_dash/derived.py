"""Tables computed once per data version, when data is loaded, and stored beside the base tables.

Some work does not depend on the view: the lift of every promotion event by every baseline method (an event's
lift reads only its own retailer x SKU, the database's loaded weeks and the category seasonal index), and that
seasonal index. It is computed when data is loaded (`kam-dash import`, the data page's import, the demo, and
`kam-dash derive`) into the schema `derived` of the database file, and the pages read it.

Never stale: each derived table records the fingerprint of the base tables it came from (per table its row
count and an XOR of a hash of every row, so a row edited, deleted or added with SQL, or another file copied in,
changes it) and the code version of the derivation (a hash of the modules that compute it). An engine checks
both once, when it opens a file (tenths of a second at the `shape` scale); a table that does not match is not
read: the pages compute live instead, until `kam-dash derive` (or the next import) stores it again. The app
opens the file read-only and never writes it: writing derived tables goes through the import's lock and
copy-and-rename (kam_dash.ingest), so a reader never blocks it nor sees half of it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb
import pandas as pd

from kam_dash import schema, stamps, store_summary
from kam_dash.engine import DuckDBEngine, Engine

SCHEMA = "derived"
META_TABLE = "meta"  # name -> the stamp each derived table was computed for, its rows, when
# Identifiers cannot be bound parameters: the schema and table names are this module's constants, always written
# into SQL quoted (below); every value (a name, a stamp, a row count) is bound.
_SCHEMA_SQL = schema.quote_ident(SCHEMA)
_META_SQL = f"{_SCHEMA_SQL}.{schema.quote_ident(META_TABLE)}"


def _table_sql(name: str) -> str:
    """The quoted, schema-qualified name of a derived table."""
    return f"{_SCHEMA_SQL}.{schema.quote_ident(name)}"
# The base tables every derivation reads (the loaded weeks come from the three weekly tables).
BASES = ("promotions", "sell_out", "sell_in", "inventory", "products")
# The modules whose code decides the derived values: a change to any of them is a new code version.
_CODE = ("derived.py", "metrics/promotions.py", "metrics/seasonality.py", "calendar.py", "freshness.py", "scope.py")


def code_version() -> str:
    """A hash of the source of the modules that compute the derived tables."""
    return stamps.code_version(_CODE)


def fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Per base table "rows:checksum" (stamps.row_fingerprint)."""
    return stamps.row_fingerprint(con, BASES)


def _stamp(con: duckdb.DuckDBPyConnection) -> str:
    return json.dumps({"code": code_version(), "bases": fingerprint(con)}, sort_keys=True)


def _stored_stamps(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """name -> the stamp each derived table was computed for (empty when nothing was derived)."""
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ? "
                         "AND table_catalog = current_database()", [SCHEMA, META_TABLE]).fetchone()[0]
    if not exists:
        return {}
    return dict(con.execute(f"SELECT name, stamp FROM {_META_SQL}").fetchall())


# -- computing: what each derived table holds -------------------------------------------------------------------
def _promo_seasonal_index(engine: Engine) -> pd.DataFrame:
    from kam_dash.metrics import promotions

    return promotions.seasonal_index(engine, stored=False)


def _promo_lift(engine: Engine) -> pd.DataFrame:
    from kam_dash.metrics import promotions

    return promotions.lift_of_every_event(engine)


DERIVATIONS = {  # name -> how to compute it from an engine on the base tables
    "promo_seasonal_index": _promo_seasonal_index,
    "promo_lift": _promo_lift,
}


def derive_file(path: str | Path) -> dict[str, int]:
    """Compute every derived table from the base tables of the DuckDB file at `path` and store them in it.

    The caller owns the file (a new demo, or the import's copy before it is renamed into place): it is read
    through a read-only engine, closed, then written. Returns the rows of each derived table."""
    path = Path(path)
    engine = DuckDBEngine(path, require_file=True)
    try:
        with engine.cursor() as con:
            stamp = _stamp(con)
        frames = {name: compute(engine) for name, compute in DERIVATIONS.items()}
    finally:
        engine.close()
    con = duckdb.connect(str(path))
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_SCHEMA_SQL}")
        con.execute(f"CREATE TABLE IF NOT EXISTS {_META_SQL} (name VARCHAR PRIMARY KEY, stamp VARCHAR, rows BIGINT, "
                    "derived_at TIMESTAMP)")
        for name, frame in frames.items():
            con.register("derived_frame", frame)
            con.execute(f"CREATE OR REPLACE TABLE {_table_sql(name)} AS SELECT * FROM derived_frame")
            con.unregister("derived_frame")
            con.execute(f"INSERT OR REPLACE INTO {_META_SQL} VALUES (?, ?, ?, current_localtimestamp())",
                        [name, stamp, len(frame)])
        if not store_summary.current(con):  # store rows changed outside kam-dash, or the summaries' code
            store_summary.build(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return {name: len(frame) for name, frame in frames.items()}


def _read_only(path: Path) -> duckdb.DuckDBPyConnection:
    # Attached, not connected: DuckDB caches one instance per path in a process, which would outlive a rename.
    from kam_dash import ingest

    return ingest._attach_read_only(Path(path))


def up_to_date(path: str | Path) -> bool:
    """True when every derived table of the file matches its base tables and this code."""
    con = _read_only(Path(path))
    try:
        stored = _stored_stamps(con)
        if set(stored) != set(DERIVATIONS):
            return False
        stamp = _stamp(con)
        return all(s == stamp for s in stored.values()) and store_summary.current(con)
    finally:
        con.close()


def derive(db: str | Path, force: bool = False, wait: float | None = None) -> dict[str, int] | None:
    """`kam-dash derive`: store the derived tables of the database at `db` again (None when they were already up to
    date and not forced). Like an import it takes the import lock and writes a copy that replaces the file, so
    the app's readers keep reading while it works and then move to the new file."""
    from kam_dash import ingest

    db = Path(db)
    if not force and up_to_date(db):
        return None
    with ingest.import_lock(db, ingest.LOCK_WAIT_SECONDS if wait is None else wait):
        ingest._swap_in(db, ingest._attach_read_only(db), lambda con: {})  # derives into the copy (see _swap_in)
    con = _read_only(db)
    try:
        return dict(con.execute(f"SELECT name, rows FROM {_META_SQL}").fetchall())
    finally:
        con.close()


# -- reading: what the pages get ---------------------------------------------------------------------------------
def fresh(engine: Engine) -> frozenset[str]:
    """The derived tables of the engine's file that match its base tables and this code (checked once per engine:
    an engine reads one version of the file)."""

    def check() -> frozenset[str]:
        if engine.kind != "duckdb" or not getattr(engine, "exists", False):
            return frozenset()
        with engine.cursor() as con:
            stored = _stored_stamps(con)
            if not stored:
                return frozenset()
            stamp = _stamp(con)
        return frozenset(name for name, s in stored.items() if s == stamp and name in DERIVATIONS)

    return engine.memo("derived.fresh", check)


def read(engine: Engine, name: str) -> pd.DataFrame | None:
    """A derived table, or None when it is not fresh: the caller computes live."""
    if name not in DERIVATIONS:
        raise KeyError(f"unknown derived table {name!r}")
    if name not in fresh(engine):
        return None
    with engine.cursor() as con:
        return con.execute(f"SELECT * FROM {_table_sql(name)}").df()
