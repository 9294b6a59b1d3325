"""Settings read from the environment, in one place."""

from __future__ import annotations

import os
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


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    return Settings(
        db=Path(env.get("KAM_DASH_DB", DEFAULT_DB)),
        engine=env.get("KAM_DASH_ENGINE", "duckdb").strip().lower() or "duckdb",
        spark_master=env.get("KAM_DASH_SPARK_MASTER", "local[2]"),
        calendar=env.get("KAM_DASH_CALENDAR", "gregorian").strip().lower() or "gregorian",
    )
