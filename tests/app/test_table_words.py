"""Tables in words on every page (issue 13): headings without machine names, names instead of ids, the run rate
said per week beside the current one, a short needs-attention list, and A/B/C of the whole portfolio."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from kam_dash import scope
from kam_dash.engine import DuckDBEngine
from tests.app.conftest import metrics

PAGES = ["pages/portfolio.py", "pages/account_review.py", "pages/account_plan.py", "pages/plan.py",
         "pages/promotions.py", "pages/inventory.py", "pages/stores.py", "pages/seasonality.py", "pages/data.py",
         "pages/users.py"]
ID_LIKE = re.compile(r"^(SKU|R|ST)\d{3,}$")  # the demo's SKU00001, R001 and store ids
NAME_HEADINGS = ("Retailer", "Product", "SKU", "Store")


def dataframes(at) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


@pytest.mark.parametrize("page", PAGES)
def test_every_table_has_headings_in_words_and_names_not_ids(app, small_db, page):
    at = app(small_db, page=page)
    frames = dataframes(at)
    if page not in ("pages/users.py", "pages/account_plan.py"):  # no users or plan records on a fresh demo
        assert frames, f"{page} shows no table"
    engine = DuckDBEngine(small_db)
    ids = set(scope.retailers(engine)["retailer_id"]) | set(scope.products(engine)["sku_id"])
    engine.close()
    for frame in frames:
        bad = [c for c in frame.columns if "_" in str(c) or str(c) != str(c).strip()]
        assert not bad, f"{page}: headings in code {bad}"
        for col in (c for c in frame.columns if c in NAME_HEADINGS):
            values = set(frame[col].astype(str))
            assert not values & ids, f"{page}: ids in {col}: {sorted(values & ids)[:5]}"
            assert not any(ID_LIKE.match(v) for v in values), f"{page}: id-like values in {col}"
        for col in (c for c in frame.columns if c == "Mechanic"):
            assert not set(frame[col]) & {"tpr", "bogo", "multibuy"}, f"{page}: mechanic codes"
