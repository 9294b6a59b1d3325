"""Where one page's server time goes: a profile of its script, and how much it sends to the browser.

The browser bench says how long a person waits; this says what the server does meanwhile. The page runs under
Streamlit's AppTest on a bench database, twice after a warm-up of the process (imports, engine, the default page):
first with the data caches cleared (a view's first visit), then again (a warm visit: the caches hit). Each run is
profiled with cProfile in the script's thread. The elements the page sent are summed up too: each plotly figure's
JSON size and points, and each table's rows, since the browser's time grows with them.

Run: `python -m bench.profile_page --scale shape --page promotions [--top 25] [--query period=l13w]`.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import json
import os
import pstats
import sys
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def _profiled(fn) -> tuple[float, pstats.Stats | None]:
    """Wall seconds of fn() and a profile of the threads it starts (AppTest runs the script in its own thread)."""
    profiles: list[cProfile.Profile] = []

    def start_profiling(frame, event, arg):  # runs once in each new thread, then cProfile takes over
        profile = cProfile.Profile()
        profiles.append(profile)
        profile.enable()

    threading.setprofile(start_profiling)
    try:
        t0 = time.perf_counter()
        fn()
        seconds = time.perf_counter() - t0
    finally:
        threading.setprofile(None)
    stats = None
    for profile in profiles:
        profile.create_stats()
        stats = pstats.Stats(profile) if stats is None else stats.add(profile)
    return seconds, stats


def _length(values) -> int:
    """Points in a plotly data array: a list, or plotly's base64 typed array {"dtype", "bdata"[, "shape"]}."""
    if isinstance(values, dict) and "bdata" in values:
        if values.get("shape"):
            return int(str(values["shape"]).split(",")[0])
        return len(base64.b64decode(values["bdata"])) // np.dtype(values["dtype"]).itemsize
    return len(values)


def _elements(at) -> list[str]:
    """What the page sent: plotly figures (JSON size, points) and tables (rows x columns)."""
    lines = []
    for chart in at.get("plotly_chart"):
        spec = chart.proto.spec
        figure = json.loads(spec)
        points = sum(_length(trace.get("x") or trace.get("values") or trace.get("y") or [])
                     for trace in figure.get("data", []))
        shapes = len(figure.get("layout", {}).get("shapes", []))
        title = figure.get("layout", {}).get("title", {})
        title = title.get("text", "") if isinstance(title, dict) else str(title)
        lines.append(f"plotly {title[:60]!r}: {len(spec) / 1e3:,.0f} kB JSON, {len(figure.get('data', []))} traces, "
                     f"{points:,} points, {shapes} shapes")
    for frame in at.dataframe:
        value = frame.value
        lines.append(f"table: {value.shape[0]:,} rows x {value.shape[1]} columns")
    lines.append(f"tiles: {len(at.metric)}")
    return lines


def profile(db: Path, page: str, query: dict[str, str], top: int) -> str:
    os.environ["KAM_DASH_DB"] = str(db)
    os.environ["KAM_DASH_ENGINE"] = "duckdb"
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()  # the process's first run: imports, engine, the default page
    st.cache_data.clear()
    at.switch_page(f"pages/{page}.py")
    out = io.StringIO()
    for label in ("first visit (data caches cleared)", "warm visit (caches hit)"):
        seconds, stats = _profiled(at.run)
        if at.exception:
            raise RuntimeError(f"{page} raised: {[e.value for e in at.exception]}")
        print(f"## {page}, {label}: {seconds * 1000:,.0f} ms in the script", file=out)
        if stats is not None:
            stats.stream = out
            for title, order, where in (("kam-dash's own functions by cumulative time", "cumulative", r"kam_dash/|pages/"),
                                        ("everything by time spent in the function itself", "tottime", "")):
                print(f"\n### {title} (top {top})", file=out)
                stats.sort_stats(order).print_stats(where, top)
    print("## what the page sent", file=out)
    print("\n".join(_elements(at)), file=out)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    from bench.scales import ensure_db

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="default")
    parser.add_argument("--page", required=True, help="the page's file name in pages/, without .py")
    parser.add_argument("--query", nargs="*", default=[], help="URL filters as key=value (e.g. period=l13w)")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    db, _ = ensure_db(args.scale)
    print(profile(db, args.page, dict(q.split("=", 1) for q in args.query), args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
