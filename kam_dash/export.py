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

# Tables without which an export can only be empty ("a|b": either will do). An export asked of a database that
# lacks them is refused with the table named, instead of writing a header-only file.
NEEDS: dict[str, tuple[str, ...]] = {
    "coverage": ("inventory",),
    "availability": ("inventory",),
    "reconciliation": ("inventory",),
    "promo-lift": ("promotions", "sell_out"),
    "seasonality": ("sell_out",),
    "revenue-share": ("sell_in|sell_out",),
    "account-scores": ("sell_in|sell_out",),
    "white-space": ("sell_in|sell_out", "products"),
    "distribution": ("sell_out_store",),
    "voids": ("sell_out_store",),
    "stores": ("sell_out_store",),
}


def lacking(name: str, engine) -> str | None:
    """Why `name` cannot be exported from this engine's data ("the inventory table is not loaded"), or None."""
    missing = [need for need in NEEDS.get(name, ()) if not any(engine.has(t) for t in need.split("|"))]
    if not missing:
        return None
    words = [" or ".join(need.split("|")) for need in missing]
    tables = " and the ".join(words)
    verb = "tables are" if len(words) > 1 else ("table is" if "|" not in missing[0] else "tables are")
    return f"the {tables} {verb} not loaded in {engine.location}; {name} needs {'them' if len(words) > 1 else 'it'}"


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


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas: text starting with =, +, -, @, a tab or a
    carriage return gets a leading apostrophe (OWASP's advice for CSV injection). Numbers stay numbers, so a
    negative amount is untouched; only text is changed. For every CSV written and every download button."""
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            text = values.map(lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v)
            out[col] = text.astype(values.dtype) if isinstance(values.dtype, pd.StringDtype) else text
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as CSV bytes for a download button, made spreadsheet-safe."""
    return spreadsheet_safe(frame).to_csv(index=False).encode("utf-8")


def write(frame: pd.DataFrame, path: str | Path, fmt: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        spreadsheet_safe(frame).to_csv(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "json":
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        path.write_text(json.dumps(records, indent=1))
    else:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    return path
