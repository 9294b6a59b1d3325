"""The demo generator: deterministic, complete, realistic, and honest about what it planted."""

from __future__ import annotations

import datetime as dt
import hashlib

import duckdb
import numpy as np
import pandas as pd
import pytest

from kam_dash import demo, schema
from tests.conftest import AS_OF, SEED

TABLES = list(schema.LOAD_ORDER) + [f"truth.{t}" for t in schema.TRUTH_DDL]


def checksums(path) -> dict[str, str]:
    con = duckdb.connect(str(path), read_only=True)
    out = {}
    for name in TABLES:
        frame = con.execute(f"SELECT * FROM {name} ORDER BY ALL").df()
        out[name] = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values.tobytes()).hexdigest()
    con.close()
    return out


def test_same_seed_gives_identical_tables(small_db, tmp_path):
    again = tmp_path / "again.duckdb"
    demo.build(again, scale="small", seed=SEED, as_of=AS_OF)
    assert checksums(again) == checksums(small_db)
    other = tmp_path / "other.duckdb"
    demo.build(other, scale="small", seed=SEED + 1, as_of=AS_OF)
    assert checksums(other)["sell_out"] != checksums(small_db)["sell_out"]


@pytest.fixture(scope="module")
def con(default_db):
    c = duckdb.connect(str(default_db), read_only=True)
    yield c
    c.close()


def q(con, sql, params=None):
    return con.execute(sql, params or []).df()


def test_calendar_three_full_years_and_the_year_to_date(con):
    weeks = q(con, "SELECT min(week) first, max(week) last, count(DISTINCT week) n FROM sell_out").iloc[0]
    assert weeks["first"].date() == dt.date(2023, 1, 2)  # first Monday of 2023
    assert weeks["last"].date() == dt.date(2026, 11, 16)  # the last complete week before 26 Nov 2026
    assert (q(con, "SELECT count(*) n FROM sell_out WHERE dayofweek(week) <> 1")["n"] == 0).all()


def test_portfolio_shape(con):
    r = q(con, "SELECT * FROM retailers")
    assert 20 <= len(r) <= 30 and r["channel"].nunique() >= 6
    p = q(con, "SELECT * FROM products")
    assert 120 <= len(p) <= 180 and p["category"].nunique() == 8
    # Pareto sizes: the top fifth of accounts holds at least half of net sales
    sales = q(con, "SELECT retailer_id, sum(net_sales) v FROM sell_in GROUP BY 1 ORDER BY 2 DESC")["v"]
    assert sales.head(len(sales) // 5).sum() >= 0.5 * sales.sum()
    # one pure e-commerce retailer; several store retailers with a growing online share
    online = q(con, """SELECT r.channel, s.retailer_id, year(week) y,
                          sum(units) FILTER (WHERE sales_channel = 'online') / sum(units) share
                       FROM sell_out s JOIN retailers r USING (retailer_id) GROUP BY ALL""")
    assert (online[online["channel"] == "ecommerce"]["share"] == 1).all()
    growing = online[online["channel"] != "ecommerce"].pivot(index="retailer_id", columns="y", values="share")
    growing = growing.dropna()
    assert (growing[2026] > growing[2023]).sum() >= 2


def test_retailers_differ_in_trend(con):
    trend = q(con, "SELECT annual_growth FROM truth.retailer_trend")["annual_growth"]
    assert (trend > 0.03).sum() >= 3 and (trend < -0.03).sum() >= 3


def test_weekly_noise_is_realistic(con):
    """Outside promotions (and the 2 weeks after) and stock-outs, retailer x SKU weekly units vary with a
    coefficient of variation of at least 15% (median over series)."""
    frame = q(con, """
        WITH u AS (SELECT retailer_id, sku_id, week, sum(units) u, bool_or(promo_flag) pf FROM sell_out GROUP BY ALL)
        SELECT i.retailer_id, i.sku_id, i.week, coalesce(u.u, 0) u, coalesce(u.pf, false) pf, i.on_hand_units oh
        FROM inventory i LEFT JOIN u USING (retailer_id, sku_id, week) ORDER BY 1, 2, 3""")
    g = frame.groupby(["retailer_id", "sku_id"])["pf"]
    near_promo = frame["pf"] | g.shift(1, fill_value=False) | g.shift(2, fill_value=False)
    clean = frame[~near_promo & (frame["oh"] > 0)]
    cv = clean.groupby(["retailer_id", "sku_id"])["u"].agg(lambda x: x.std() / x.mean() if x.mean() > 0 else np.nan)
    assert cv.median() >= 0.15


def test_seasonality_differs_plainly_by_category(con):
    idx = q(con, "SELECT category, period, index FROM truth.seasonality WHERE grain = 'month'")
    peaks = idx.loc[idx.groupby("category")["index"].idxmax()].set_index("category")["period"]
    assert peaks["Ice Cream"] in (6, 7, 8) and peaks["Sun Care"] in (6, 7)
    assert peaks["Soups"] in (12, 1, 2) and peaks["Confectionery"] == 12
    # every index averages 100 over the year's periods
    for grain, n in (("month", 12), ("week", 52)):
        g = idx if grain == "month" else q(con, "SELECT category, index FROM truth.seasonality WHERE grain='week'")
        means = g.groupby("category")["index"].mean()
        assert np.allclose(means, 100)
    spread = idx.groupby("category")["index"].agg(lambda x: x.max() - x.min())
    assert spread["Sun Care"] > 100 and spread["Household"] < spread["Ice Cream"]


def test_promotions_mechanics_dip_and_forward_buying(con):
    p = q(con, "SELECT * FROM promotions")
    assert 300 <= len(p) <= 500 and set(p["mechanic"]) == set(schema.MECHANICS)
    assert (p["end_date"] >= p["start_date"]).all()
    assert ((p["end_date"] - p["start_date"]).dt.days == 0).any()  # some one-day promotions
    truth = q(con, "SELECT * FROM truth.promo_lift")
    assert len(truth) == len(p) and (truth["true_post_dip_units"] > 0).all()
    # forward buying: sell-in in the two weeks before an event exceeds the retailer x SKU's typical week
    ahead = q(con, """
        WITH ev AS (SELECT retailer_id, sku_id, date_trunc('week', start_date)::DATE w0 FROM promotions),
        typical AS (SELECT retailer_id, sku_id, median(units) m FROM sell_in GROUP BY ALL)
        SELECT avg(s.units / t.m) ratio FROM ev JOIN sell_in s USING (retailer_id, sku_id)
        JOIN typical t USING (retailer_id, sku_id)
        WHERE s.week BETWEEN ev.w0 - INTERVAL 14 DAY AND ev.w0 - INTERVAL 7 DAY""")["ratio"].iloc[0]
    assert ahead > 1.5


def test_stock_outs_censor_sell_out_and_some_accounts_overstock(con):
    lost = q(con, "SELECT count(*) n, sum(lost_units) u FROM truth.lost_sales").iloc[0]
    assert lost["n"] > 100 and lost["u"] > 0
    # every planted lost week ends with no stock
    bad = q(con, """SELECT count(*) n FROM truth.lost_sales l JOIN inventory i USING (retailer_id, sku_id, week)
                    WHERE i.on_hand_units > 0""")["n"].iloc[0]
    assert bad == 0
    cover = q(con, """
        WITH so AS (SELECT retailer_id, sum(units) u FROM sell_out WHERE year(week) = 2025 GROUP BY 1),
        oh AS (SELECT retailer_id, avg(total) oh FROM (SELECT retailer_id, week, sum(on_hand_units) total
               FROM inventory WHERE year(week) = 2025 GROUP BY ALL) GROUP BY 1)
        SELECT retailer_id, oh / (u / 52) AS cover_weeks FROM so JOIN oh USING (retailer_id)""")
    assert (cover["cover_weeks"] > 6).any() and (cover["cover_weeks"] < 6).any()


def test_targets_cover_every_month_of_every_year(con):
    t = q(con, "SELECT retailer_id, count(DISTINCT month) n FROM targets WHERE category = '' GROUP BY 1")
    assert (t["n"] == 48).all()  # Jan 2023 .. Dec 2026
    # all-category rows are the sum of the category rows
    diff = q(con, """SELECT max(abs(a.net_sales_target - c.s)) d FROM targets a JOIN
                     (SELECT retailer_id, month, sum(net_sales_target) s FROM targets WHERE category <> ''
                      GROUP BY ALL) c USING (retailer_id, month) WHERE a.category = ''""")["d"].iloc[0]
    assert diff <= 10 * 9  # each row rounded to tens


def test_small_scale_builds_every_table(small_db):
    con = duckdb.connect(str(small_db), read_only=True)
    for name in TABLES:
        assert con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] > 0, name
    con.close()
