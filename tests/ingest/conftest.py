"""Fixtures for the importer's tests."""

from __future__ import annotations

import pytest

from tests.ingest.dbcheck import copy_db


@pytest.fixture()
def demo_copy(small_db, tmp_path):
    """A private copy of the small demo database, free to be written to."""
    return copy_db(small_db, tmp_path)
