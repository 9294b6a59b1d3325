"""A Parquet copy of the contract tables, which the Spark engine reads."""

from __future__ import annotations

from pathlib import Path

import duckdb

from kam_dash.schema import LOAD_ORDER, quote_ident


def export_database(db: Path, folder: Path) -> dict[str, int]:
    """Write each loaded contract table to `<folder>/<table>.parquet`; return rows written per table."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db), read_only=True)
    try:
        present = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
        written = {}
        for name in LOAD_ORDER:
            if name not in present:
                continue
            target = folder / f"{name}.parquet"
            table = "main." + quote_ident(name)
            # COPY takes no bound parameter for its target path: it is ours, quoted as a literal here.
            path_literal = "'" + str(target).replace("'", "''") + "'"
            con.execute("COPY " + table + " TO " + path_literal + " (FORMAT PARQUET)")
            written[name] = con.execute("SELECT count(*) FROM " + table).fetchone()[0]
        return written
    finally:
        con.close()
