"""What every part of the bench shares: the demo databases per scale and the views a user opens.

The data-work bench (bench/run.py) and the browser bench (bench/browser.py) time the same views of the same
databases, so their figures merge into one record per (scale, page, view).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from kam_dash import demo, derived, scope
from kam_dash.filters import Filters

HERE = Path(__file__).resolve().parent
AS_OF = dt.date(2026, 11, 26)
SEED = 7
WORK = HERE / "work"


def ensure_db(scale: str) -> tuple[Path, float | None]:
    """The demo database of a scale under bench/work, built on first use; returns (path, build seconds or None)."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"{scale}.duckdb"
    if path.exists():
        # A database built by older code carries derived tables of that code: the app would compute live and the
        # bench time the slow path. Derive them again (nothing to do when they are up to date).
        derived.derive(path)
        return path, None
    t0 = time.perf_counter()
    demo.build(path, scale=scale, seed=SEED, as_of=AS_OF)
    return path, time.perf_counter() - t0


def variants(engine) -> list[tuple[str, Filters]]:
    """The default view and three filter changes a user makes."""
    cats = sorted(scope.products(engine)["category"].unique())
    top = scope.retailers(engine)["retailer_id"].iloc[0]
    return [
        ("default (YTD)", Filters()),
        ("last 13 weeks", Filters(period="l13w")),
        (f"category {cats[0]}", Filters(categories=(cats[0],))),
        (f"retailer {top}, last 52 weeks", Filters(period="l52w", retailers=(top,))),
    ]
