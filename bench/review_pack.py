"""`make bench` companion: one retailer review pack in all three formats (issue 7: under 10 s at default scale).

A pack is not one page's data work, so it is not a bench/pages module: there is no SQL floor or pandas
version of a deck. This times `kam_dash.report.build_pack` end to end (numbers, HTML, workbook and deck)
and its parts, on the demo database bench/run.py builds. The first pack of a process also starts the
process's headless Chromium (kaleido) for the deck's images; later packs reuse it, as the app's downloads
and a CLI batch do. Run: `python -m bench.review_pack [--scale default] [--repeat 5]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.run import AS_OF, SEED, ensure_db  # noqa: E402
from kam_dash import export, report  # noqa: E402
from kam_dash.engine import DuckDBEngine  # noqa: E402
from kam_dash.filters import Filters  # noqa: E402

GOAL_S = 10.0


def _seconds(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def run(scale: str, repeat: int, retailer: str | None) -> tuple[list[str], bool]:
    path, _ = ensure_db(scale)
    engine = DuckDBEngine(path)
    filters = Filters()
    rid = retailer or export.compute("revenue-share", engine, filters)["retailer_id"].iloc[0]
    lines = [f"## Review pack, {scale} scale", "",
             f"Retailer {rid}, year to date; demo seed {SEED}, as of {AS_OF}; run {dt.datetime.now():%Y-%m-%d %H:%M}, "
             f"{_load()} at the start.", ""]
    # The first pack of a process pays for starting Chromium, first queries, plotly's templates and imports;
    # the app pays them once per server, the CLI once per batch.
    cold, files = _seconds(lambda: report.build_pack(engine, filters, rid, report.FORMATS))
    # build_pack without its short-lived cache of collected numbers (a second download of the same view)
    warm = [_seconds(lambda: report.render(report.collect(engine, filters, rid), report.FORMATS))[0]
            for _ in range(repeat)]
    collect = [_seconds(lambda: report.collect(engine, filters, rid))[0] for _ in range(repeat)]
    pack = report.collect(engine, filters, rid)
    parts = {fmt: statistics.median(_seconds(lambda f=fmt: report.render(pack, [f]))[0] for _ in range(repeat))
             for fmt in report.FORMATS}
    median = statistics.median(warm)
    met = median < GOAL_S
    lines += [
        "| step | seconds |", "|---|---:|",
        f"| first pack of the process, all three formats (starts Chromium) | {cold:.2f} |",
        f"| one pack, all three formats (median of {repeat}; Chromium running) | {median:.2f} |",
        f"| numbers only (collect; median) | {statistics.median(collect):.2f} |",
        *(f"| write {fmt} from collected numbers (median) | {s:.2f} |" for fmt, s in parts.items()),
        "",
        f"{len(pack.charts)} charts, {len(pack.tables)} tables; files: "
        + ", ".join(f"{fmt} {len(data) / 1e6:.1f} MB" for fmt, data in files.items()) + ".",
        f"Goal (one pack in all three formats < {GOAL_S:g} s): {'met' if met else 'NOT met'}; {_load()} at the end.",
        "",
    ]
    engine.close()
    return lines, met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["small", "default", "large"], default="default")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--retailer", help="default: the retailer with the largest net sales")
    parser.add_argument("--out", type=Path, default=HERE / "review_pack.md")
    args = parser.parse_args(argv)
    lines, _ = run(args.scale, args.repeat, args.retailer)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
