"""Real point-of-sale data, read in place from ../shared/real-data (never copied here), converted into contract
files in tmp_path and imported; loaded totals are checked against figures computed from the raw files."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kam_dash import ingest
from tests.conftest import real_data
from tests.realdata import sources
from tests.ingest.dbcheck import rows

pytestmark = pytest.mark.realdata


def test_dominicks_orange_juice(tmp_path):
    oj = pd.read_csv(real_data("dominicks-oj", "oj.csv"))
    weeks = pd.read_csv(real_data("dominicks-lookups", "weeks.csv"), header=None,
                        names=["week", "start", "end", "event"])
    stores = pd.read_csv(real_data("dominicks-lookups", "stores.csv"), header=None,
                         names=["store", "city", "tier", "zone", "zip", "address"])

    # DFF weeks run Thursday to Wednesday; each maps to the ISO week (Monday) holding its Thursday.
    thursday = pd.to_datetime(weeks["start"], format="%m/%d/%y")
    assert (thursday.dt.day_of_week == 3).all()
    # SOURCE.md: exp(logmove) is ounces, an exact multiple of the 64 oz carton (logmove has 10 decimals, so
    # whole cartons come back to a relative 1e-10).
    cartons = np.exp(oj["logmove"]) / 64
    assert (np.abs(cartons / cartons.round() - 1)).max() < 1e-9
    assert len(stores[stores["store"].isin(oj["store"].unique())]) == 83

    # the contract files the real-data suite uses too: 83 store accounts, 3 brands, sell-out, feature-ad events
    folder = sources.dominicks_folder(tmp_path / "dominicks")
    events = len(pd.read_csv(folder / "promotions.csv"))
    db = tmp_path / "dominicks.duckdb"

    report = ingest.import_files([folder], db)

    assert {n: (c.added, c.replaced) for n, c in report.tables.items()} == {
        "retailers": (83, 0), "products": (3, 0), "sell_out": (28_947, 0), "promotions": (events, 0)}
    assert events > 0
    loaded = pd.DataFrame(rows(db, "SELECT sku_id, count(*), sum(units), sum(sales_value), avg(promo_flag::INT), "
                                   "avg(sales_value / units) FROM sell_out GROUP BY 1"),
                          columns=["brand", "rows", "units", "sales", "feature_rate", "mean_price"]).set_index("brand")
    raw_units = (np.exp(oj["logmove"]) / 64).round()
    expected = pd.DataFrame({
        "rows": oj.groupby("brand").size(),
        "units": raw_units.groupby(oj["brand"]).sum(),
        "sales": (raw_units * oj["price"]).round(2).groupby(oj["brand"]).sum(),
    })
    assert loaded.loc[expected.index, "rows"].tolist() == expected["rows"].tolist()
    assert loaded.loc[expected.index, "units"].tolist() == expected["units"].tolist()
    assert loaded.loc[expected.index, "sales"].to_numpy() == pytest.approx(expected["sales"].to_numpy(), rel=1e-12)
    # Published figures (SOURCE.md): feature rates 25.7%, 28.9%, 16.6%; mean prices $1.74, $2.24, $2.87.
    assert loaded.loc[["dominicks", "minute.maid", "tropicana"], "feature_rate"].round(3).tolist() == [
        0.257, 0.289, 0.166]
    assert loaded.loc[["dominicks", "minute.maid", "tropicana"], "mean_price"].round(2).tolist() == [
        1.74, 2.24, 2.87]
    # Week 40 starts Thursday 1990-06-14 (Monday 06-11); week 160 starts Thursday 1992-10-01 (Monday 09-28).
    assert rows(db, "SELECT min(week), max(week), count(DISTINCT week) FROM sell_out") == [
        (dt.date(1990, 6, 11), dt.date(1992, 9, 28), oj["week"].nunique())]


def test_walmart_returns_load_as_value_only_rows_and_a_units_zero_file_is_refused_by_reason(tmp_path):
    train = pd.read_csv(real_data("walmart-store-sales", "train.csv"))
    negative = train["Weekly_Sales"] < 0
    assert int(negative.sum()) == 1285  # SOURCE.md: returns make 1,285 department-weeks negative

    friday = pd.to_datetime(train["Date"])
    assert (friday.dt.day_of_week == 4).all()  # Walmart dates are Fridays ending each week

    folder = tmp_path / "walmart"
    folder.mkdir()
    retailers, products, delivered = sources.walmart_frames()  # the real-data suite's converter: 45 store accounts
    retailers.to_csv(folder / "retailers.csv", index=False)
    products.to_csv(folder / "products.csv", index=False)
    sell_out = delivered.assign(
        week=(friday - pd.Timedelta(days=4)).dt.strftime("%Y-%m-%d"),  # the Monday of the same ISO week
        units=0,  # a file that fills units with 0 because it has none: a return cannot have 0 units
    )[["week", "retailer_id", "sku_id", "units", "sales_value"]]
    path = folder / "sell_out.csv"
    sell_out.to_csv(path, index=False)
    db = tmp_path / "walmart.duckdb"

    with pytest.raises(ingest.ImportFailed) as refused:
        ingest.import_files([folder], db)
    message = refused.value.render()
    assert f"{path}: 1,285 problems in 1,285 rows" in message
    assert "1,285 x columns units, sales_value: a negative sales_value with units 0 (the first 5 shown)" in message
    first = int(np.flatnonzero(negative.to_numpy())[0])  # 0-based data row; + 2 for the header and 1-based rows
    value = float(sell_out["sales_value"].iloc[first])
    assert f"{path}, row {first + 2}, columns units, sales_value: units 0 with sales_value {value!r}" in message
    assert not db.exists()

    # Friday dates as they come are refused, not moved, without --week-ending: shown on a sample to keep it quick.
    sample = sell_out.head(30).assign(week=friday.head(30).dt.strftime("%Y-%m-%d"))
    checked = ingest.validate([("sell_out.csv", sample.to_csv(index=False).encode())],
                              known={"retailers": set(sample["retailer_id"]), "products": set(sample["sku_id"])})
    assert checked.problem_counts == {"sell_out.csv": (30, 30)}
    assert checked.problems[0].reason.startswith("2010-02-05 is a Friday, not a Monday")

    # The same file in value only (no units column, as Walmart publishes it): every row loads, returns included.
    sell_out.drop(columns="units").to_csv(path, index=False)
    report = ingest.import_files([folder], db)
    assert report.tables["sell_out"] == ingest.TableCounts(added=len(train), replaced=0)
    assert "1,285 sell-out rows accepted as negative (returns)" in report.notes
    by_store = dict(rows(db, "SELECT retailer_id, sum(sales_value) FROM sell_out GROUP BY 1"))
    expected = train.groupby("Store")["Weekly_Sales"].sum()
    assert len(by_store) == 45
    for store, total in expected.items():
        assert by_store[f"WM{store:02d}"] == pytest.approx(total, rel=1e-12)
    # SOURCE.md: all 421,570 rows sum to 6,737,218,987.11
    assert rows(db, "SELECT sum(sales_value) FROM sell_out")[0][0] == pytest.approx(6_737_218_987.11, abs=0.01)
