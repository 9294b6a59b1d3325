"""Settings read from the environment, in one place."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DB = "data/kam.duckdb"
ENGINES = ("duckdb", "spark")
CALENDARS = ("gregorian", "retail-454")  # kam_dash.calendar.CALENDARS; kept here so config imports nothing


@dataclass(frozen=True)
class Settings:
    """Where the data lives and which engine reads it.

    db: a DuckDB file (engine duckdb) or a folder of Parquet files written by
        `kam-dash export-parquet` (engine spark).
    spark_master: a Spark master URL (`local[2]`, `local-cluster[2,1,1024]`,
        `spark://...`) or a Spark Connect URL (`sc://...`).
    """

    db: Path
    engine: str = "duckdb"
    spark_master: str = "local[2]"
    calendar: str = "gregorian"  # months and quarters: "gregorian" or "retail-454" (kam_dash.calendar)

    def __post_init__(self) -> None:
        if self.calendar not in CALENDARS:
            raise ValueError(f"KAM_DASH_CALENDAR must be one of {', '.join(CALENDARS)}, not {self.calendar!r}")
        if self.engine not in ENGINES:
            raise ValueError(
                f"KAM_DASH_ENGINE must be one of {', '.join(ENGINES)}, not {self.engine!r}"
            )


def duckdb_memory_limit(environ: dict[str, str] | None = None) -> str | None:
    """KAM_DASH_DUCKDB_MEMORY_LIMIT (e.g. 3GB, 800MB) or None when unset (DuckDB's own: 80% of the memory).
    Checked, since it goes into a SET statement (SET takes no bound parameters)."""
    value = (os.environ if environ is None else environ).get("KAM_DASH_DUCKDB_MEMORY_LIMIT", "").strip()
    if not value:
        return None
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value, re.IGNORECASE):
        raise ValueError(f"KAM_DASH_DUCKDB_MEMORY_LIMIT must look like 3GB or 800MB, not {value!r}")
    return value


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    return Settings(
        db=Path(env.get("KAM_DASH_DB", DEFAULT_DB)),
        engine=env.get("KAM_DASH_ENGINE", "duckdb").strip().lower() or "duckdb",
        spark_master=env.get("KAM_DASH_SPARK_MASTER", "local[2]"),
        calendar=env.get("KAM_DASH_CALENDAR", "gregorian").strip().lower() or "gregorian",
    )
