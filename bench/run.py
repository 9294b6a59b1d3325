"""`make bench`: each page's data work at default and large scale, beside the SQL floor and pandas.

Every module in bench/pages/ names a page and gives three ways to compute the page's numbers:
`ibis_work(engine, filters)` (what the app runs), `sql_work(con, filters, latest_week)` (hand-written
DuckDB SQL with bound parameters: the engine's floor) and `pandas_work(tables, filters, latest_week)`.
Each runs for the default view and three filter changes; the medians go to bench/results.md.

Goals at large scale: each page's data work under 1 s median, within 1.5x of the SQL floor, and at
least 10x faster than pandas.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import pkgutil
import statistics
import sys
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from kam_dash import demo, scope  # noqa: E402
from kam_dash.engine import DuckDBEngine  # noqa: E402
from kam_dash.filters import Filters  # noqa: E402
from kam_dash.schema import LOAD_ORDER  # noqa: E402

AS_OF = dt.date(2026, 11, 26)
SEED = 7
WORK = HERE / "work"


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


def timed(fn, repeat: int) -> float:
    """Median wall time in seconds over `repeat` runs, after one warm-up run."""
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def page_modules(only: list[str] | None):
    import bench.pages as pages

    mods = []
    for m in sorted(pkgutil.iter_modules(pages.__path__), key=lambda m: m.name):
        if only and m.name not in only:
            continue
        mods.append(importlib.import_module(f"bench.pages.{m.name}"))
    return mods


def ensure_db(scale: str) -> tuple[Path, float | None]:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"{scale}.duckdb"
    if path.exists():
        return path, None
    t0 = time.perf_counter()
    demo.build(path, scale=scale, seed=SEED, as_of=AS_OF)
    return path, time.perf_counter() - t0


def load_tables(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {name: con.execute(f'SELECT * FROM main."{name}"').df() for name in LOAD_ORDER}
    finally:
        con.close()


def run(scales: list[str], repeat: int, pandas_repeat: int, only: list[str] | None, out: Path) -> int:
    lines = [
        "# Benchmark results",
        "",
        f"Run {dt.datetime.now():%Y-%m-%d %H:%M}; demo seed {SEED}, as of {AS_OF}; medians of {repeat} runs "
        f"(pandas: {pandas_repeat}) after a warm-up, warm engine (dimension tables cached as in the app).",
        "Goals at large scale: Ibis < 1000 ms, Ibis / SQL floor <= 1.5, pandas / Ibis >= 10.",
        "",
    ]
    failures = 0
    for scale in scales:
        path, build_s = ensure_db(scale)
        engine = DuckDBEngine(path)
        counts = engine.row_counts()
        lines.append(f"## {scale} scale")
        lines.append("")
        build = f"built in {build_s:.1f} s" if build_s is not None else "reused from bench/work"
        lines.append(f"Database {build}; rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        lines.append("")
        lines.append("| page | view | Ibis (ms) | SQL floor (ms) | pandas (ms) | Ibis / SQL | pandas / Ibis | goals |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---|")
        print(f"[{scale}] loading tables into pandas for the pandas baseline...", flush=True)
        tables = load_tables(path)
        con = duckdb.connect(str(path), read_only=True)
        latest = scope.latest_week(engine)
        for mod in page_modules(only):
            for label, filters in variants(engine):
                ibis_s = timed(lambda: mod.ibis_work(engine, filters), repeat)
                sql_s = timed(lambda: mod.sql_work(con, filters, latest), repeat)
                pandas_s = timed(lambda: mod.pandas_work(tables, filters, latest), pandas_repeat)
                ratio, speedup = ibis_s / sql_s, pandas_s / ibis_s
                ok = ibis_s < 1.0 and ratio <= 1.5 and speedup >= 10
                verdict = "met" if ok else "NOT met"
                if scale == "large" and not ok:
                    failures += 1
                lines.append(f"| {mod.PAGE} | {label} | {ibis_s * 1000:,.0f} | {sql_s * 1000:,.0f} | "
                             f"{pandas_s * 1000:,.0f} | {ratio:.2f} | {speedup:.1f} | {verdict} |")
                print(lines[-1], flush=True)
        con.close()
        engine.close()
        lines.append("")
    out.write_text("\n".join(lines) + "\n")
    print(f"Wrote {out}")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["default", "large"], choices=["small", "default", "large"])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--pandas-repeat", type=int, default=3)
    parser.add_argument("--pages", nargs="*", help="bench/pages module names to run (default: all)")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    args = parser.parse_args(argv)
    failures = run(args.scales, args.repeat, args.pandas_repeat, args.pages, args.out)
    if failures:
        print(f"{failures} large-scale page views missed a goal (see {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
