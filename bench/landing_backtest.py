"""`make bench` companion: the landing estimate's backtest (issue 10, "a landing estimate that is honest early
in the year").

For each demo seed, each complete year of the demo that has a complete year before it (so a run rate has a last
year to grow), and each cut at weeks 1, 4, 8, 13 and 26 of that year, the landing is computed from only the weeks
up to the cut (plan.landing_grid with the cut as the latest week) and compared with the year's actual net sales:

- old: the run-rate projection alone (the remaining weeks' last year times the YTD growth ratio), which is what
  the app showed before the blend (with the 53-week calendar already fixed);
- new: the app's landing (the run rate blended with the plan until FULL_TRUST_SHARE of the year's expected sales
  is in), with its low-high range.

Errors are landing / actual - 1: for the portfolio (all retailers summed) and per retailer (median and worst of the
absolute errors). Range coverage is the share of retailer-years whose actual fell inside [low, high].
The section is written into bench/results.md (replacing an earlier one). Run:
`python -m bench.landing_backtest [--seeds 7 1 2 3] [--scale default]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.run import AS_OF, WORK  # noqa: E402
from kam_dash import calendar, demo  # noqa: E402
from kam_dash.engine import DuckDBEngine  # noqa: E402
from kam_dash.filters import Filters  # noqa: E402
from kam_dash.metrics import plan  # noqa: E402
from kam_dash.scope import resolve  # noqa: E402

CUTS = (1, 4, 8, 13, 26)
SEEDS = (7, 1, 2, 3)
SECTION = "## Landing estimate backtest"
KEYS = ["retailer_id"]


def demo_db(seed: int, scale: str) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"landing-{scale}-seed{seed}.duckdb"
    if not path.exists():
        demo.build(path, scale=scale, seed=seed, as_of=AS_OF)
    return path


def complete_years(engine) -> list[int]:
    """Years whose weeks are all loaded in sell-in, and whose year before is too."""
    scope = resolve(engine, Filters())
    t = engine.table("sell_in")
    first = pd.Timestamp(engine.execute_scalar(t.week.min())).date()
    latest = plan.sell_in_latest(engine, scope.period.latest_week)
    full = [y for y in range(first.year, latest.year + 1)
            if calendar.weeks_of_year(y)[0] >= first and calendar.weeks_of_year(y)[-1] <= latest]
    return [y for y in full if y - 1 in full]


def year_inputs(engine, year: int):
    scope = resolve(engine, Filters())
    first_ly, last = plan.ly_window(year)
    weekly, first = plan.weekly_net_sales(engine, scope, first_ly, last)
    weeks = calendar.weeks_of_year(year)
    targets = plan.weekly_targets(engine, scope, weeks[0], weeks[-1])
    return weekly, first, targets


def errors(summary: pd.DataFrame, actual: pd.Series, column: str) -> dict:
    """Portfolio and per-retailer relative errors of one landing column against the year's actual."""
    frame = summary.set_index("retailer_id").join(actual.rename("year_actual"), how="inner")
    frame = frame[frame["year_actual"] > 0]
    rel = frame[column] / frame["year_actual"] - 1
    return {"portfolio": frame[column].sum() / frame["year_actual"].sum() - 1,
            "median": float(rel.abs().median()), "worst": float(rel.abs().max())}


def run_seed(seed: int, scale: str, full_trust_share: float = plan.FULL_TRUST_SHARE,
             range_error: float = plan.RANGE_ERROR) -> list[dict]:
    engine = DuckDBEngine(demo_db(seed, scale))
    rows = []
    try:
        for year in complete_years(engine):
            weekly, first, targets = year_inputs(engine, year)
            weeks = calendar.weeks_of_year(year)
            whole = plan.landing_summary(plan.landing_grid(weekly, first, targets, year, weeks[-1], KEYS), KEYS)
            actual = whole.set_index("retailer_id")["ytd_actual"]
            for cut in CUTS:
                latest = weeks[cut - 1]
                old = plan.landing_summary(plan.landing_grid(weekly, first, targets, year, latest, KEYS,
                                                             full_trust_share=0.0), KEYS)
                new = plan.landing_summary(plan.landing_grid(weekly, first, targets, year, latest, KEYS,
                                                             full_trust_share=full_trust_share), KEYS,
                                           range_error=range_error)
                joined = new.set_index("retailer_id").join(actual.rename("year_actual"), how="inner")
                joined = joined[joined["year_actual"] > 0]
                inside = (joined["landing_low"] <= joined["year_actual"]) & (
                    joined["year_actual"] <= joined["landing_high"])
                width = ((joined["landing_high"] - joined["landing_low"]) / joined["year_actual"]).median()
                o, n = errors(old, actual, "landing_estimate"), errors(new, actual, "landing_estimate")
                rows.append({"seed": seed, "year": year, "cut": cut,
                             **{f"old_{k}": v for k, v in o.items()}, **{f"new_{k}": v for k, v in n.items()},
                             "coverage": float(inside.mean()), "width": float(width)})
    finally:
        engine.close()
    return rows


def table(rows: list[dict]) -> list[str]:
    frame = pd.DataFrame(rows)
    lines = ["| weeks of data | portfolio error, old (mean abs / worst) | portfolio error, new (mean abs / worst) | "
             "median retailer error, old / new | worst retailer error, old / new | range holds the actual | "
             "median range width |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for cut, g in frame.groupby("cut"):
        lines.append(
            f"| {cut} | {g['old_portfolio'].abs().mean():.1%} / {g['old_portfolio'].abs().max():.1%} | "
            f"{g['new_portfolio'].abs().mean():.1%} / {g['new_portfolio'].abs().max():.1%} | "
            f"{g['old_median'].mean():.1%} / {g['new_median'].mean():.1%} | "
            f"{g['old_worst'].max():.1%} / {g['new_worst'].max():.1%} | {g['coverage'].mean():.0%} | "
            f"{g['width'].median():.1%} |")
    return lines


def per_run(rows: list[dict]) -> list[str]:
    lines = ["| seed | year | weeks | portfolio old | portfolio new | median retailer old / new | "
             "worst retailer old / new | range holds |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['seed']} | {r['year']} | {r['cut']} | {r['old_portfolio']:+.1%} | "
                     f"{r['new_portfolio']:+.1%} | {r['old_median']:.1%} / {r['new_median']:.1%} | "
                     f"{r['old_worst']:.1%} / {r['new_worst']:.1%} | {r['coverage']:.0%} |")
    return lines


def section(rows: list[dict], seeds, scale: str) -> list[str]:
    years = sorted({(r["seed"], r["year"]) for r in rows})
    return [
        SECTION, "",
        f"Run {dt.datetime.now():%Y-%m-%d %H:%M}; demo at {scale} scale, seeds {', '.join(map(str, seeds))}, as of "
        f"{AS_OF}; complete years with a complete year before them: "
        + ", ".join(sorted({str(y) for _, y in years})) + f" ({len(years)} seed-years). Each year is cut after "
        f"its week {', '.join(map(str, CUTS))}; the landing uses only the weeks up to the cut. Error = landing / the "
        "year's actual net sales - 1. Old = the run-rate projection alone (before issue 10, calendar fixed); new = "
        f"the app's blend (full trust in the run rate once {plan.FULL_TRUST_SHARE:.0%} of the year's expected "
        f"sales is in) and its range (range error {plan.RANGE_ERROR:.0%}).", "",
        *table(rows), "",
        "<details><summary>Per seed and year</summary>", "", *per_run(rows), "", "</details>", "",
    ]


def write_section(lines: list[str], out: Path) -> None:
    """Replace the backtest section of results.md (bench/run.py rewrites the rest), or append it."""
    text = out.read_text() if out.exists() else "# Benchmark results\n"
    if SECTION in text:
        before, after = text.split(SECTION, 1)
        rest = after.split("\n## ", 1)
        text = before + ("## " + rest[1] if len(rest) > 1 else "")
    out.write_text(text.rstrip("\n") + "\n\n" + "\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--scale", choices=["small", "default"], default="default")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    args = parser.parse_args(argv)
    rows = [r for seed in args.seeds for r in run_seed(seed, args.scale)]
    lines = section(rows, args.seeds, args.scale)
    write_section(lines, args.out)
    print("\n".join(lines))
    print(f"Wrote the backtest section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
