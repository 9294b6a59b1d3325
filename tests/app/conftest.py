"""Driving the real app with Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def open_app(monkeypatch, db: Path, page: str | None = None, query: dict | None = None,
             timeout: float = 120) -> AppTest:
    """Run app.py on a database, optionally with URL query params and on a given page.

    AppTest reruns a page of a `pages/` folder without its router after the first run, so widget
    ids change between the first and second run; a second run up front makes later widget changes
    land (streamlit run itself always runs the router).
    """
    monkeypatch.setenv("KAM_DASH_DB", str(db))
    monkeypatch.setenv("KAM_DASH_ENGINE", "duckdb")
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture()
def app(monkeypatch):
    def opener(db, page=None, query=None):
        return open_app(monkeypatch, db, page, query)

    return opener
