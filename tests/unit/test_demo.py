"""The demo generator: deterministic, complete, realistic, and honest about what it planted."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

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


# -- the real-world mess: every planted thing is in the tables exactly as truth.* records it ------------------


@dataclass
class Messy:
    """One scale's demo: its connection, scale name, latest week and every week of the calendar."""
    con: duckdb.DuckDBPyConnection
    scale: str
    latest: dt.date
    weeks: list[dt.date]

    def df(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()


@pytest.fixture(scope="module", params=["small_db", "default_db"])
def messy(request):
    """Each scale's demo (the mess is planted at every scale)."""
    c = duckdb.connect(str(request.getfixturevalue(request.param)), read_only=True)
    weeks = [w for (w,) in c.execute("SELECT DISTINCT week FROM inventory ORDER BY 1").fetchall()]
    yield Messy(c, request.param.removesuffix("_db"), c.execute("SELECT max(week) FROM sell_in").fetchone()[0], weeks)
    c.close()


def test_late_pos_ends_lag_weeks_before_the_latest_week(messy):
    lags = messy.df("SELECT * FROM truth.sell_out_lag ORDER BY retailer_id")
    assert len(lags) == (2 if messy.scale == "small" else 3) and set(lags["lag_weeks"]) == {1, 2}
    latest = messy.df("""SELECT retailer_id, t.name AS tbl, max(week) AS latest FROM (
                               SELECT 'sell_in' AS name, retailer_id, week FROM sell_in UNION ALL
                               SELECT 'sell_out', retailer_id, week FROM sell_out UNION ALL
                               SELECT 'inventory', retailer_id, week FROM inventory) t GROUP BY ALL""")
    latest = latest.pivot(index="retailer_id", columns="tbl", values="latest")
    for row in lags.itertuples():
        assert latest.loc[row.retailer_id, "sell_out"].date() == messy.latest - dt.timedelta(weeks=row.lag_weeks)
        assert latest.loc[row.retailer_id, "inventory"].date() == messy.latest
        assert latest.loc[row.retailer_id, "sell_in"].date() == messy.latest
    on_time = latest.drop(index=lags["retailer_id"])
    assert (on_time["sell_out"].dt.date == messy.latest).all()


def test_every_missing_sell_out_week_is_a_planted_one(messy):
    """A retailer's weeks without any sell-out row are exactly its unreported weeks plus its late weeks."""
    have = messy.df("SELECT DISTINCT retailer_id, week FROM sell_out")
    have = set(zip(have["retailer_id"], have["week"].dt.date, strict=True))
    missing = {(r, w) for r in messy.df("SELECT retailer_id FROM retailers")["retailer_id"]
               for w in messy.weeks if (r, w) not in have}
    planted = {(r, w.date()) for r, w in messy.df("SELECT retailer_id, week FROM truth.unreported_weeks")
               .itertuples(index=False)}
    for r, lag in messy.df("SELECT * FROM truth.sell_out_lag").itertuples(index=False):
        planted |= {(r, messy.latest - dt.timedelta(weeks=k)) for k in range(lag)}
    assert missing == planted


def test_unreported_weeks_are_gaps_inside_history_some_right_after_a_promotion(messy):
    gaps = messy.df("SELECT * FROM truth.unreported_weeks ORDER BY retailer_id, week")
    gaps["week"] = gaps["week"].dt.date
    scattered, chain = gaps[gaps["kind"] == "scattered"], gaps[gaps["kind"] == "chain_wide"]
    assert scattered["retailer_id"].nunique() == 1 and 3 <= len(scattered) <= 4
    assert len(chain) == 1 and chain["retailer_id"].iloc[0] not in set(scattered["retailer_id"])
    # inside the history, never at its ends; the retailer's stock still came in for those weeks
    assert gaps["week"].min() > messy.weeks[0] and gaps["week"].max() < messy.latest - dt.timedelta(weeks=8)
    stock = messy.df("SELECT count(*) n FROM inventory JOIN truth.unreported_weeks USING (retailer_id, week)")
    assert stock["n"].iloc[0] > 0
    # the chain-wide week: a December peak week of last year, of a chain that sells in store and online
    week = chain["week"].iloc[0]
    assert week.month == 12 and week.year == messy.latest.year - 1
    around = messy.df("""SELECT DISTINCT sales_channel FROM sell_out WHERE retailer_id = ?
                             AND week IN (?, ?)""", [chain["retailer_id"].iloc[0], week - dt.timedelta(weeks=1),
                                                     week + dt.timedelta(weeks=1)])
    assert set(around["sales_channel"]) == {"store", "online"}
    # no missing week is a promotion week of its retailer; `after_promotion` is the week after one's last week
    promos = messy.df("SELECT retailer_id, start_date, end_date FROM promotions")
    for g in gaps.itertuples():
        own = promos[promos["retailer_id"] == g.retailer_id]
        first = own["start_date"].dt.date.map(demo.monday)
        last = own["end_date"].dt.date.map(demo.monday)
        assert not ((first <= g.week) & (g.week <= last)).any(), g
        assert g.after_promotion == (last == g.week - dt.timedelta(weeks=1)).any(), g
    assert scattered["after_promotion"].sum() >= 2


def test_other_retailers_keep_two_complete_years_for_seasonality(messy):
    """Every retailer without unreported weeks reports every week of the three complete years (2023-2025)."""
    weeks_of = messy.df("SELECT year(week) y, count(DISTINCT week) n FROM inventory GROUP BY 1").set_index("y")["n"]
    reported = messy.df("""SELECT retailer_id, year(week) y, count(DISTINCT week) n FROM sell_out
                           WHERE retailer_id NOT IN (SELECT retailer_id FROM truth.unreported_weeks)
                           GROUP BY ALL""")
    reported = reported[reported["y"] < messy.latest.year]
    assert reported["retailer_id"].nunique() >= messy.df("SELECT count(*) n FROM retailers")["n"].iloc[0] - 2
    assert len(reported) == 3 * reported["retailer_id"].nunique()
    assert (reported["n"].to_numpy() == weeks_of.loc[reported["y"]].to_numpy()).all()


def test_the_sell_out_only_account_has_sell_out_and_stock_and_no_sell_in(messy):
    only = messy.df("SELECT * FROM truth.sell_out_only")
    assert len(only) == 1
    rid = only["retailer_id"].iloc[0]
    counts = {t: messy.con.execute(f"SELECT count(*) FROM {t} WHERE retailer_id = ?", [rid]).fetchone()[0]
              for t in ("sell_in", "sell_out", "inventory", "targets")}
    assert counts["sell_in"] == 0 and counts["sell_out"] > 0
    assert (counts["inventory"] > 0) == only["has_inventory"].iloc[0]
    assert (counts["targets"] > 0) == only["has_targets"].iloc[0]
    assert messy.df("SELECT count(DISTINCT retailer_id) n FROM sell_in")["n"].iloc[0] == messy.df(
        "SELECT count(*) n FROM retailers")["n"].iloc[0] - 1


def test_sku_life_discontinued_last_year_and_new_this_year(messy):
    life = messy.df("SELECT * FROM truth.sku_life")
    this_year = messy.latest.year
    for t in ("sell_in", "sell_out", "inventory"):
        outside = messy.df(f"""SELECT count(*) n FROM {t} JOIN truth.sku_life USING (sku_id)
                                   WHERE week < first_week OR week > last_week""")["n"].iloc[0]
        assert outside == 0, t
    sales = messy.df("""SELECT sku_id, year(week) y, sum(units) u FROM sell_out GROUP BY ALL""")
    sales = sales.pivot(index="sku_id", columns="y", values="u").fillna(0)
    gone = life[(life["last_week"].dt.year == this_year - 1) & (life["last_week"].dt.month.between(3, 9))]
    assert len(gone) >= 2
    assert (sales.loc[gone["sku_id"], this_year - 1] > 0).all() and (sales.loc[gone["sku_id"], this_year] == 0).all()
    new = life[(life["first_week"].dt.year == this_year)]
    assert len(new) >= 2
    assert (sales.reindex(new["sku_id"]).fillna(0)[this_year - 1] == 0).all()
    assert (sales.reindex(new["sku_id"]).fillna(0)[this_year] > 0).any()
    # every SKU that is not in truth.sku_life sells from the first week of the data to the last
    steady = messy.df("""SELECT sku_id, min(week) first, max(week) last FROM inventory
                             WHERE sku_id NOT IN (SELECT sku_id FROM truth.sku_life) GROUP BY 1""")
    assert (steady["first"].dt.date == messy.weeks[0]).all() and (steady["last"].dt.date == messy.latest).all()


def test_2024_has_its_53_mondays_in_every_weekly_table(messy):
    expected = [dt.date(2024, 1, 1) + dt.timedelta(weeks=k) for k in range(53)]
    assert expected[-1] == dt.date(2024, 12, 30)
    for t in ("sell_in", "sell_out", "inventory"):
        weeks = [w for (w,) in messy.con.execute(
            f"SELECT DISTINCT week FROM {t} WHERE year(week) = 2024 ORDER BY 1").fetchall()]
        assert weeks == expected, t
    # the plan runs over the whole of 2024 too: every month of it has a target per retailer with sell-in
    months = messy.df("""SELECT retailer_id, count(DISTINCT month) n FROM targets
                         WHERE category = '' AND year(month) = 2024 GROUP BY 1""")
    assert (months["n"] == 12).all() and len(months) == messy.df(
        "SELECT count(DISTINCT retailer_id) n FROM sell_in")["n"].iloc[0]


def test_truth_of_estimators_stays_where_the_data_can_show_it(messy):
    for t in ("lost_sales", "phantom"):
        n = messy.df(f"""SELECT count(*) n FROM truth.{t} x LEFT JOIN (SELECT DISTINCT retailer_id, week
                                FROM sell_out) s USING (retailer_id, week) WHERE s.week IS NULL""")["n"].iloc[0]
        assert n == 0, t
    # a promotion's weeks are always reported, so its planted lift is all in the data
    promo_in_gap = messy.df("""SELECT count(*) n FROM promotions p JOIN truth.unreported_weeks u USING (retailer_id)
                               WHERE u.week BETWEEN date_trunc('week', p.start_date) AND p.end_date""")
    assert promo_in_gap["n"].iloc[0] == 0
    promo_late = messy.df("""SELECT count(*) n FROM promotions p JOIN truth.sell_out_lag l USING (retailer_id)
                             WHERE p.end_date >= ?::DATE - 7 * (l.lag_weeks - 1)""", [messy.latest])
    assert promo_late["n"].iloc[0] == 0


def test_promotion_truth_is_unchanged_by_the_mess_but_for_dips_in_unreported_weeks(monkeypatch):
    """The same demo with every feed complete plants the same events: identical lift truth, and the same dip
    truth except where a dip week went unreported, whose dip then counts only the week that was reported."""
    messy_tables = demo.generate("small", SEED, AS_OF)
    plant = demo._plant_reporting_mess

    def complete_feeds(*args, **kwargs):
        planned = plant(*args, **kwargs)  # same draws, so everything else stays the same
        return demo.ReportingMess(np.zeros_like(planned.unreported), planned.lags, planned.gaps,
                                  planned.sell_out_only)

    monkeypatch.setattr(demo, "_plant_reporting_mess", complete_feeds)
    clean_tables = demo.generate("small", SEED, AS_OF)
    pd.testing.assert_frame_equal(messy_tables["promotions"], clean_tables["promotions"])
    both = messy_tables["truth.promo_lift"].merge(clean_tables["truth.promo_lift"], on="promo_id",
                                                  suffixes=("", "_complete"))
    assert (both["true_incremental_units"] == both["true_incremental_units_complete"]).all()
    assert (both["true_lift_pct"] == both["true_lift_pct_complete"]).all()
    # the weeks each retailer did not report: its unreported weeks and its late weeks at the end
    missing = set(zip(messy_tables["truth.unreported_weeks"]["retailer_id"],
                      messy_tables["truth.unreported_weeks"]["week"].dt.date, strict=True))
    latest = max(messy_tables["inventory"]["week"]).date()
    lags = messy_tables["truth.sell_out_lag"]
    for r, lag in zip(lags["retailer_id"], lags["lag_weeks"], strict=True):
        missing |= {(r, latest - dt.timedelta(weeks=k)) for k in range(lag)}
    promos = messy_tables["promotions"]
    dip_weeks = {p.promo_id: [(p.retailer_id, demo.monday(p.end_date) + dt.timedelta(weeks=k)) for k in (1, 2)]
                 for p in promos.itertuples()}
    hidden = {pid for pid, weeks in dip_weeks.items() if any(w in missing for w in weeks)}
    assert len(hidden) >= 2
    changed = both[both["true_post_dip_units"] != both["true_post_dip_units_complete"]]["promo_id"]
    assert set(changed) == hidden
    shrunk = both.set_index("promo_id").loc[sorted(hidden)]
    assert (shrunk["true_post_dip_units"] < shrunk["true_post_dip_units_complete"]).all()
    half_seen = [pid for pid in hidden if not all(w in missing for w in dip_weeks[pid])]
    assert (shrunk.loc[half_seen, "true_post_dip_units"] > 0).all()  # the dip of the week that was reported
