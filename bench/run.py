"""`make bench`: each page's data work beside the SQL floor and pandas, and each page in the browser.

Data work: every module in bench/pages/ names a page and gives three ways to compute the page's numbers:
`ibis_work(engine, filters)` (what the app runs), `sql_work(con, filters, latest_week)` (hand-written DuckDB SQL
with bound parameters: the engine's floor) and `pandas_work(tables, filters, latest_week)`. Each runs for the
default view and three filter changes (bench/scales.py); medians after a warm-up.

In the browser (bench/browser.py): every page of the sidebar, for the same views, in headless Chromium against
`streamlit run app.py`: cold (first page after the server starts), first visit of a view and warm (new sessions on
a warm server), the default view reached from the sidebar menu, and 16 sessions at once against one warm server;
once per run, the stack's floor (bench/floor/: Streamlit and plotly pages with no data work).

Both go to bench/results.md and bench/results.json, one record per (scale, page, view).

Goals. Data work at large scale: under 1 s median, within 1.5x of the SQL floor, at least 10x faster than pandas.
Browser (issue 16): warm page <= 1.5 s at every scale, at `shape` within 2x of the same page at default scale;
first page after `streamlit run` <= 5 s; 16 sessions at once: the slowest done within 0.6x of the same pages one
after another.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import pkgutil
import statistics
import sys
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench import browser  # noqa: E402
from bench.scales import AS_OF, SEED, WORK, ensure_db, variants  # noqa: E402, F401 - re-exported for review_pack
from kam_dash import scope  # noqa: E402
from kam_dash.engine import DuckDBEngine  # noqa: E402
from kam_dash.schema import LOAD_ORDER  # noqa: E402

SCALES = ("small", "default", "shape", "large", "stores200m")
# scales whose store rows do not fit in pandas: no pandas baseline (bench/pages/*.py `pandas_work`)
NO_PANDAS = ("stores200m",)
RECORD_KEYS = ("scale", "page", "view", "app_ms", "floor_ms", "pandas_ms", "browser_warm_ms", "browser_cold_ms",
               "browser_first_view_ms", "browser_warm_script_ms", "browser_nav_ms", "browser_errors")
WARM_GOAL_MS = 1500
COLD_GOAL_MS = 5000
SHAPE_VS_DEFAULT_GOAL = 2.0
CONCURRENCY_GOAL = 0.6


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


def load_tables(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {name: con.execute(f'SELECT * FROM main."{name}"').df() for name in LOAD_ORDER}
    finally:
        con.close()


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


# -- data work ----------------------------------------------------------------------------------------------------
def data_work(path: Path, scale: str, repeat: int, pandas_repeat: int, only: list[str] | None) -> list[dict]:
    """Ibis, SQL floor and pandas medians (ms) per page module and view."""
    engine = DuckDBEngine(path)
    with_pandas = scale not in NO_PANDAS
    if with_pandas:
        print(f"[{scale}] loading tables into pandas for the pandas baseline...", flush=True)
    tables = load_tables(path) if with_pandas else None
    con = duckdb.connect(str(path), read_only=True)
    latest = scope.latest_week(engine)
    rows = []
    try:
        for mod in page_modules(only):
            for label, filters in variants(engine):
                ibis_s = timed(lambda: mod.ibis_work(engine, filters), repeat)
                sql_s = timed(lambda: mod.sql_work(con, filters, latest), repeat)
                pandas_s = timed(lambda: mod.pandas_work(tables, filters, latest), pandas_repeat) if with_pandas \
                    else None
                rows.append({"page": mod.PAGE, "view": label, "app_ms": round(ibis_s * 1000, 1),
                             "floor_ms": round(sql_s * 1000, 1),
                             "pandas_ms": None if pandas_s is None else round(pandas_s * 1000, 1)})
                print(f"[{scale}] data work {mod.PAGE} · {label}: Ibis {ibis_s * 1000:,.0f} ms, "
                      f"SQL {sql_s * 1000:,.0f} ms, pandas {_ms(pandas_s and pandas_s * 1000)} ms", flush=True)
    finally:
        con.close()
        engine.close()
    return rows


def data_work_met(row: dict) -> bool:
    """The goals (under 1 s, within 1.5x of the floor, 10x pandas where pandas ran)."""
    return (row["app_ms"] < 1000 and row["app_ms"] / row["floor_ms"] <= 1.5
            and (row["pandas_ms"] is None or row["pandas_ms"] / row["app_ms"] >= 10))


# -- records --------------------------------------------------------------------------------------------------------
def merge(scale: str, data_rows: list[dict], browser_rows: list[dict]) -> list[dict]:
    """One record per (page, view): the sidebar's pages in menu order, then pages only the data-work bench has."""
    records: dict[tuple[str, str], dict] = {}
    for row in [*browser_rows, *data_rows]:
        record = records.setdefault((row["page"], row["view"]), {key: None for key in RECORD_KEYS})
        record.update({key: value for key, value in row.items() if key in RECORD_KEYS})
        record["scale"] = scale
    return list(records.values())


def write_json(path: Path, run_info: dict, databases: list[dict], records: list[dict],
               concurrency: list[dict], floor: list[dict] | None = None) -> None:
    path.write_text(json.dumps({"run": run_info, "databases": databases, "records": records,
                                "concurrency": concurrency, "floor": floor or []}, indent=1) + "\n")


def floor_section(floor: list[dict]) -> list[str]:
    lines = ["## The stack's floor", "",
             "Pages with no data work (bench/floor/), in the same browser, timed the same way as the app's pages: "
             "what Streamlit and plotly cost by themselves on this machine. A page of the app cannot be drawn "
             "faster than the floor row that looks like it.", "",
             "| page | cold | warm | script done (warm) | sessions at once: slowest / one after another | errors |",
             "|---|---:|---:|---:|---:|---|"]
    for r in floor:
        c = r.get("concurrency")
        together = "–" if not c else (f"{c['sessions']}: {_ms(c['slowest_session_ms'])} / {_ms(c['sequential_ms'])}"
                                      f" = {'–' if c['ratio'] is None else format(c['ratio'], '.2f')}x")
        lines.append(f"| {r['page']} | {_ms(r['browser_cold_ms'])} | {_ms(r['browser_warm_ms'])} | "
                     f"{_ms(r['browser_warm_script_ms'])} | {together} | {'; '.join(r['browser_errors']) or 'none'} |")
    return lines + [""]


# -- the report -------------------------------------------------------------------------------------------------------
def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def browser_goals(record: dict, default_warm: float | None) -> list[str]:
    """The browser goals a record misses (empty: all met or not measured)."""
    missed = []
    if record["browser_errors"]:
        missed.append("errors: " + "; ".join(record["browser_errors"]))
    if record["browser_warm_ms"] is not None and record["browser_warm_ms"] > WARM_GOAL_MS:
        missed.append(f"warm > {WARM_GOAL_MS / 1000:g} s")
    if record["browser_cold_ms"] is not None and record["browser_cold_ms"] > COLD_GOAL_MS:
        missed.append(f"cold > {COLD_GOAL_MS / 1000:g} s")
    if (record["scale"] == "shape" and default_warm and record["browser_warm_ms"] is not None
            and record["browser_warm_ms"] > SHAPE_VS_DEFAULT_GOAL * default_warm):
        missed.append(f"warm > {SHAPE_VS_DEFAULT_GOAL:g}x default scale")
    return missed


def scale_section(scale: str, database: dict, records: list[dict], concurrency: dict | None,
                  default_warm: dict) -> list[str]:
    build = f"built in {database['build_s']:.1f} s" if database["build_s"] is not None else "reused from bench/work"
    lines = [f"## {scale} scale", "",
             f"Database {build}, {database.get('size_mb', 0):,} MB on disk; rows: "
             + ", ".join(f"{k} {v:,}" for k, v in database["rows"].items())
             + f"; promotions starting in the latest 52 weeks: {database['recent_promotions']:,}.", "",
             f"{database['load_start']} at the start of this scale, {database['load_end']} at its end.", ""]
    data = [r for r in records if r["app_ms"] is not None]
    if data:
        lines += ["### Data work", "",
                  "| page | view | Ibis (ms) | SQL floor (ms) | pandas (ms) | Ibis / SQL | pandas / Ibis | goals |",
                  "|---|---|---:|---:|---:|---:|---:|---|"]
        for r in data:
            lines.append(f"| {r['page']} | {r['view']} | {_ms(r['app_ms'])} | {_ms(r['floor_ms'])} | "
                         f"{_ms(r['pandas_ms'])} | {r['app_ms'] / r['floor_ms']:.2f} | "
                         f"{'–' if r['pandas_ms'] is None else format(r['pandas_ms'] / r['app_ms'], '.1f')} | "
                         f"{'met' if data_work_met(r) else 'NOT met'} |")
        lines.append("")
    shown = [r for r in records if r["browser_warm_ms"] is not None or r["browser_first_view_ms"] is not None
             or r["browser_errors"]]
    if shown:
        lines += ["### In the browser", "",
                  "Navigation to drawn (script idle, no spinner, every chart and tile drawn), in ms. Cold: the page "
                  "as the first after `streamlit run` (server start to drawn). First view: the view's first visit on "
                  "a warm server. Warm: median of new sessions after that; script done: when the server finished "
                  "the warm page's script (the rest is the browser drawing). From the menu: the default view "
                  "reached by a click in the sidebar from another page (click to drawn), as every page after the "
                  "first is reached.", "",
                  "| page | view | cold | first view | warm | script done (warm) | from the menu | "
                  "warm vs default scale | goals |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---|"]
        for r in shown:
            base = default_warm.get((r["page"], r["view"]))
            versus = (f"{r['browser_warm_ms'] / base:.2f}x" if scale != "default" and base
                      and r["browser_warm_ms"] is not None else "")
            missed = browser_goals(r, base)
            lines.append(f"| {r['page']} | {r['view']} | {_ms(r['browser_cold_ms'])} | "
                         f"{_ms(r['browser_first_view_ms'])} | {_ms(r['browser_warm_ms'])} | "
                         f"{_ms(r['browser_warm_script_ms'])} | {_ms(r['browser_nav_ms'])} | {versus} | "
                         f"{'NOT met: ' + ', '.join(missed) if missed else 'met'} |")
        lines.append("")
    if concurrency:
        c = concurrency
        ratio = "–" if c["ratio"] is None else f"{c['ratio']:.2f}x"
        met = c["ratio"] is not None and c["ratio"] <= CONCURRENCY_GOAL and not c["errors"]
        lines += [f"### {c['sessions']} sessions at once", "",
                  f"Slowest session done {_ms(c['slowest_session_ms'])} ms after the first navigation (median session "
                  f"{_ms(c['median_session_ms'])} ms); the same {c['sessions']} pages one after another: "
                  f"{_ms(c['sequential_ms'])} ms. Ratio {ratio} (goal <= {CONCURRENCY_GOAL}x): "
                  f"{'met' if met else 'NOT met'}; sessions with an error or figures unlike the page alone: "
                  f"{c['errors']}.", "",
                  "| page | view | alone (ms) | at once (ms) | problems |", "|---|---|---:|---:|---|"]
        for s in c["sessions_detail"]:
            lines.append(f"| {s['page']} | {s['view']} | {_ms(s['alone_ms'])} | {_ms(s['concurrent_ms'])} | "
                         f"{'; '.join(s['errors']) or 'none'} |")
        lines.append("")
    return lines


def recent_promotions(path: Path) -> int:
    """Promotions starting in the latest 52 weeks of sell-in (the `shape` scale promises at least 20K)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM main.promotions WHERE start_date > "
                           "(SELECT max(week) FROM main.sell_in) - INTERVAL 52 WEEK").fetchone()[0]
    finally:
        con.close()


def run(scales: list[str], repeat: int, pandas_repeat: int, only: list[str] | None, out: Path, json_out: Path,
        browser_runs: int = 2, cold_runs: int = 1, sessions: int = 16, in_browser: bool = True) -> int:
    started = time.perf_counter()
    run_info = {"started": dt.datetime.now().isoformat(timespec="seconds"), "seed": SEED, "as_of": AS_OF.isoformat(),
                "repeat": repeat, "pandas_repeat": pandas_repeat, "browser_runs": browser_runs,
                "cold_runs": cold_runs, "sessions": sessions, "cpu_count": os.cpu_count(),
                "load_average_start": os.getloadavg()[:2]}
    databases, records, concurrency = [], [], []
    sections: list[list[str]] = []
    default_warm: dict[tuple[str, str], float] = {}
    failures = 0
    for scale in scales:
        load_start = load_average()
        path, build_s = ensure_db(scale)
        engine = DuckDBEngine(path)
        counts = engine.row_counts()
        views = variants(engine)
        engine.close()
        if build_s is not None:
            print(f"[{scale}] demo built in {build_s:.1f} s", flush=True)
        data_rows = data_work(path, scale, repeat, pandas_repeat, only)
        failures += sum(1 for r in data_rows if scale == "large" and not data_work_met(r))
        browser_rows, together = [], None
        if in_browser:
            print(f"[{scale}] in the browser...", flush=True)
            browser_rows, together = browser.measure(
                path, only=[p.title for p in browser.sidebar_pages() if p.name in only] if only else None,
                views=views, runs=browser_runs, cold_runs=cold_runs, sessions=sessions,
                say=lambda line: print(f"[{scale}] {line}", flush=True))
        scale_records = merge(scale, data_rows, browser_rows)
        if scale == "default":
            default_warm = {(r["page"], r["view"]): r["browser_warm_ms"] for r in scale_records
                            if r["browser_warm_ms"] is not None}
        database = {"scale": scale, "build_s": None if build_s is None else round(build_s, 1), "rows": counts,
                    "size_mb": round(path.stat().st_size / 2**20),
                    "recent_promotions": recent_promotions(path), "load_start": load_start,
                    "load_end": load_average()}
        databases.append(database)
        records += scale_records
        if together:
            concurrency.append({"scale": scale, **together})
        sections.append(scale_section(scale, database, scale_records, together, default_warm))
    floor = []
    if in_browser and scales:
        print("[floor] in the browser...", flush=True)
        floor = browser.floor(path, browser_runs, say=lambda line: print(f"[floor] {line}", flush=True),
                              sessions=sessions)
        sections.append(floor_section(floor))
    run_info["seconds"] = round(time.perf_counter() - started, 1)
    run_info["load_average_end"] = os.getloadavg()[:2]
    lines = [
        "# Benchmark results", "",
        f"Run {run_info['started']} for {run_info['seconds'] / 60:.1f} minutes; demo seed {SEED}, as of {AS_OF}; "
        f"load average {run_info['load_average_start'][0]:.1f} at the start and "
        f"{run_info['load_average_end'][0]:.1f} at the end on {os.cpu_count()} cores (a shared machine reads slow "
        f"under load).",
        f"Data work: medians of {repeat} runs (pandas: {pandas_repeat}) after a warm-up, warm engine (dimension "
        f"tables cached as in the app). Goals at large scale: Ibis < 1000 ms, Ibis / SQL floor <= 1.5, "
        f"pandas / Ibis >= 10.",
        f"Browser: Chromium headless, {browser_runs} warm sessions per view (median), cold from {cold_runs} fresh "
        f"server(s) per page. Goals: warm <= {WARM_GOAL_MS / 1000:g} s at every scale, at shape within "
        f"{SHAPE_VS_DEFAULT_GOAL:g}x of default; cold <= {COLD_GOAL_MS / 1000:g} s; {sessions} sessions at once "
        f"<= {CONCURRENCY_GOAL}x of one after another.", "",
    ]
    for section in sections:
        lines += section
    out.write_text("\n".join(lines) + "\n")
    write_json(json_out, run_info, databases, records, concurrency, floor)
    print(f"Wrote {out} and {json_out}")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["default", "shape"], choices=SCALES)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--pandas-repeat", type=int, default=3)
    parser.add_argument("--pages", nargs="*", help="page file names, as bench/pages/<name>.py (default: all)")
    parser.add_argument("--browser-runs", type=int, default=2, help="warm sessions per page and view (median)")
    parser.add_argument("--cold-runs", type=int, default=1, help="fresh servers per page for the cold figure")
    parser.add_argument("--sessions", type=int, default=16, help="concurrent sessions (0: skip)")
    parser.add_argument("--no-browser", dest="in_browser", action="store_false", help="data work only")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    args = parser.parse_args(argv)
    failures = run(args.scales, args.repeat, args.pandas_repeat, args.pages, args.out, args.json,
                   args.browser_runs, args.cold_runs, args.sessions, args.in_browser)
    if failures:
        print(f"{failures} large-scale page views missed a data-work goal (see {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
