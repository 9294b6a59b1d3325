"""One review pack of the small demo (retailer R001, year to date), written once for the tests that open it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from kam_dash import report
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters

RETAILER = "R001"


@dataclass
class WrittenPack:
    pack: report.Pack
    files: dict[str, Path]
    db: Path


@pytest.fixture(scope="session")
def chart_images():
    """One kaleido browser for every deck the tests render."""
    with report.ChartImages() as images:
        yield images


@pytest.fixture(scope="session")
def small_pack(small_db, tmp_path_factory, chart_images) -> WrittenPack:
    engine = DuckDBEngine(small_db)
    try:
        pack = report.collect(engine, Filters(), RETAILER)
        folder = tmp_path_factory.mktemp("pack")
        files = {}
        for fmt, data in report.render(pack, report.FORMATS, chart_images).items():
            files[fmt] = folder / report.file_name(engine, Filters(), RETAILER, fmt)
            files[fmt].write_bytes(data)
    finally:
        engine.close()
    return WrittenPack(pack, files, small_db)
