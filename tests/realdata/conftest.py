"""Databases built from the real panels once per test run (shared by the xdist workers through a file lock)."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest

from kam_dash import ingest
from tests.realdata import sources


def _built_once(tmp_path_factory, name: str, build) -> Path:
    """Build a database once for the whole run: the first worker builds it, the others wait on the lock."""
    root = tmp_path_factory.getbasetemp()
    if root.name.startswith("popen-gw"):  # an xdist worker: share its parent with the other workers
        root = root.parent
    path = root / "realdata" / f"{name}.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            staging = path.parent / f"{name}-files"
            build(staging, path)
    return path


@pytest.fixture(scope="session")
def dominicks_db(tmp_path_factory) -> Path:
    """Dominick's orange juice: 83 store accounts, sell-out and feature-ad promotions only."""

    def build(folder, path):
        ingest.import_files([sources.dominicks_folder(folder)], path)

    return _built_once(tmp_path_factory, "dominicks", build)


@pytest.fixture(scope="session")
def dominicks_chain_db(tmp_path_factory) -> Path:
    """Dominick's orange juice as it really is: one retailer with 83 stores (store rows and their chain rollup)."""

    def build(folder, path):
        ingest.import_files([sources.dominicks_store_folder(folder)], path)

    return _built_once(tmp_path_factory, "dominicks-chain", build)


@pytest.fixture(scope="session")
def walmart_db(tmp_path_factory) -> Path:
    """Walmart's store x department file as delivered (Friday week endings, value only, returns negative): one
    retailer with 45 stores, departments as SKUs."""

    def build(folder, path):
        ingest.import_files([sources.walmart_store_folder(folder)], path, layout=ingest.Layout(week_ending="fri"))

    return _built_once(tmp_path_factory, "walmart", build)


@pytest.fixture(params=["dominicks", "dominicks_chain", "walmart"])
def real_db(request) -> Path:
    """Each real panel in turn: Dominick's as 83 store accounts, as one chain of 83 stores, and Walmart."""
    return request.getfixturevalue(f"{request.param}_db")
