"""Metric export: every exported table is exactly what the app computes.

Metric modules register their exports with @export_metric; the CLI and the
review pack find them here. An export function takes (engine, filters, **options)
and returns a DataFrame with the declared columns, in order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

FORMATS = ("csv", "parquet", "json")


@dataclass(frozen=True)
class MetricExport:
    name: str
    columns: tuple[str, ...]
    compute: Callable[..., pd.DataFrame]
    options: tuple[str, ...]  # extra CLI options it accepts (method, grain, year, window, week)
    # option sets the Spark parity test and the benchmark run it with, e.g. ({}, {"grain": "week"});
    # the key "filters" holds Filters fields for that case, e.g. {"filters": {"retailers": ("R001",)}}
    examples: tuple[dict, ...] = ({},)


_REGISTRY: dict[str, MetricExport] = {}


def export_metric(name: str, columns: list[str], options: tuple[str, ...] = (),
                  examples: tuple[dict, ...] = ({},)):
    def register(fn):
        _REGISTRY[name] = MetricExport(name, tuple(columns), fn, tuple(options), tuple(examples))
        return fn

    return register


def registry() -> dict[str, MetricExport]:
    from kam_dash.metrics import domain_modules

    import kam_dash.freshness  # noqa: F401 - registers `freshness`

    domain_modules()  # importing the modules registers their exports
    return dict(sorted(_REGISTRY.items()))


def compute(name: str, engine, filters, **options) -> pd.DataFrame:
    exports = registry()
    if name not in exports:
        raise KeyError(f"unknown metric {name!r}; choose from {', '.join(exports)}")
    spec = exports[name]
    unknown = set(options) - set(spec.options)
    if unknown:
        raise ValueError(f"{name} does not take {', '.join(sorted(unknown))}")
    frame = spec.compute(engine, filters, **options)
    missing = [c for c in spec.columns if c not in frame.columns]
    if missing:  # a contract breach is a bug, not a data problem
        raise AssertionError(f"{name} lacks columns {missing}")
    return frame[list(spec.columns)]


def write(frame: pd.DataFrame, path: str | Path, fmt: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "json":
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        path.write_text(json.dumps(records, indent=1))
    else:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    return path
