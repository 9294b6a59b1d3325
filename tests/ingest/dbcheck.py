"""Fingerprints of a DuckDB file's tables, to prove an import left a database exactly as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb


def checksums(db: Path) -> dict[str, tuple[int, int]]:
    """Every table (contract and truth schemas): (row count, order-free sum of row hashes). The derived schema is
    left out: it follows from the contract tables (and says when it was computed); tests/unit/test_derived.py
    checks it."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema <> 'derived' "
            "ORDER BY 1, 2").fetchall()
        out = {}
        for schema_name, name in tables:
            # Names come from the catalogue just read, not from input.
            query = ('SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM "' + schema_name + '"."' + name
                     + '" AS t')
            out[f"{schema_name}.{name}"] = con.execute(query).fetchone()
        return out
    finally:
        con.close()


def rows(db: Path, query: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


def copy_db(source: Path, folder: Path) -> Path:
    target = folder / "copy.duckdb"
    shutil.copyfile(source, target)
    return target
