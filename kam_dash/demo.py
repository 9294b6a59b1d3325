"""The demo generator: a realistic key-account dataset with known ground truth.

What it plants, and where the truth is recorded (schema `truth`):
- seasonality per category (summer and winter peaks, Christmas and Easter spikes):
  `truth.seasonality(category, grain, period, index)`, mean 100 over a year's periods;
- promotion lift per event, with a post-promotion dip: `truth.promo_lift`;
- demand lost to stock-outs (sell-out censored at the stock available):
  `truth.lost_sales(retailer_id, sku_id, week, lost_units)`;
- phantom inventory (stock on the books, nothing sold): `truth.phantom`;
- each retailer's underlying annual growth: `truth.retailer_trend`.

And the mess of real retailer feeds, at every scale (the largest account, R001, is always left clean):
- late POS: two retailers (three from the default scale up) whose sell-out lags sell-in by 1 or 2 weeks; their
  latest sell-out weeks are simply absent while sell-in and inventory run to the latest week:
  `truth.sell_out_lag(retailer_id, lag_weeks)`;
- unreported weeks inside history, in which a retailer has no sell-out row for any SKU in either channel
  (`truth.unreported_weeks(retailer_id, week, kind, after_promotion)`): one retailer misses four scattered
  weeks between two years ago and two months before the end, two of them the first week after one of its
  promotions (kind `scattered`); a store chain that also sells online sends nothing for the week of
  15 December last year (kind `chain_wide`). No missing week is a promotion week of its retailer, and the
  other retailers report every week, so at least two complete years of seasonality stay clean;
- a sell-out-only account (buys through a distributor): POS and stock, no sell-in rows and no targets:
  `truth.sell_out_only(retailer_id, has_targets, has_inventory)`;
- range churn: besides launches and delistings at the January range reset, a few tail SKUs are discontinued
  at every retailer partway through last year and a few new SKUs are listed this year, so last year holds
  sales of SKUs that sell nothing this year: `truth.sku_life(sku_id, first_week, last_week)` (listed weeks,
  for every SKU not listed for the whole range);
- store-level POS: the three largest store chains after R001 report by store (dozens to a few hundred stores
  each, by scale: `stores`, `sell_out_store`, and `inventory_store` for the first of them); the stores add up
  exactly to the chain rows, which stay what the rest of the demo planted. Planted in the stores: voids, a store
  x SKU selling nothing for 6 to 20 weeks or to the end while the chain sells it
  (`truth.voids(retailer_id, store_id, sku_id, first_week, last_week)`), and decoys that are not voids: 2-3 week
  gaps, stores that close and stores that open late;
- a 53-Monday year: the calendar starts in January three years before as-of, so 2024 (Mondays 2024-01-01 ..
  2024-12-30) lies inside it; trend runs on days (not 52-week years), targets phase weeks into the month of
  their Monday, and season and Easter follow the date, so nothing assumes 52 weeks a year.

The truth is what the data can show: lost sales and phantom stock are recorded in reported weeks only, and a
promotion's `true_post_dip_units` counts its dip weeks that were reported (its lift is always fully reported).

Demand per retailer x SKU x week is
    base x trend(retailer) x season(category, week) x noise x promotion x post-promotion dip
with AR(1) log-normal noise, then a Poisson draw. Retailer stock follows
sell-in minus sell-out: each retailer orders up to its own weeks of cover,
buys in ahead of promotions (forward buying), and now and then gets nothing
shipped (a supply disruption), which is where stock-outs come from.

The same seed and as-of date give identical tables.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from kam_dash import derived, schema, store_summary
from kam_dash.filters import monday


@dataclass(frozen=True)
class Scale:
    retailers: int
    skus: int
    promotions: int
    base_median: float  # median weekly units of a retailer x SKU in store


SCALES = {
    "small": Scale(retailers=6, skus=24, promotions=60, base_median=600.0),
    "default": Scale(retailers=24, skus=150, promotions=400, base_median=600.0),
    "large": Scale(retailers=150, skus=1700, promotions=4000, base_median=600.0),
    # shaped like real feeds (issue 16): >= 60 accounts, 250 SKUs, 20K promotions starting in the latest 52 weeks
    "shape": Scale(retailers=80, skus=330, promotions=84000, base_median=600.0),
}

# Store-level retailers per scale: how many stores each reports POS for (dozens to a few hundred), and how many
# voids and decoys are planted in each. A separate table so the scales above stay as they are.
STORE_LEVEL = {
    "small": ((10, 14, 18), 15),
    "default": ((30, 45, 60), 16),
    "large": ((120, 200, 300), 30),
}
STORE_FORMATS = {"hypermarket": 1.8, "supermarket": 1.0, "express": 0.45}  # format: relative store size
VOID_MIN_WEEKS = 6  # planted voids last at least this long (the detector's default minimum is 4)

CATEGORIES = {
    # name: (brands, subcategories, list price range)
    "Ice Cream": (("Polar", "Scoops"), ("Tubs", "Sticks"), (2.5, 6.0)),
    "Soft Drinks": (("Fizzo", "Citra"), ("Cola", "Lemon", "Water"), (0.8, 2.5)),
    "Sun Care": (("Solara",), ("Lotion", "Spray"), (6.0, 14.0)),
    "Soups": (("Hearth", "Kettle"), ("Canned", "Carton"), (1.2, 3.0)),
    "Hot Drinks": (("Brewhouse", "Kettle"), ("Coffee", "Tea", "Cocoa"), (2.0, 8.0)),
    "Confectionery": (("Cocoa Co", "Sweetly"), ("Chocolate", "Candy", "Seasonal"), (1.0, 5.0)),
    "Snacks": (("Crunch", "Sweetly"), ("Crisps", "Nuts"), (1.0, 3.5)),
    "Household": (("Brightly",), ("Cleaners", "Paper"), (2.0, 7.0)),
}

CHANNEL_MIX = (
    ["grocery"] * 8 + ["mass"] * 3 + ["discount"] * 3 + ["drug"] * 2 + ["convenience"] * 2
    + ["club"] * 2 + ["wholesale"] * 2 + ["other"] * 1
)
REGIONS = ("North", "South", "East", "West", "National")
KAMS = ("Avery Chen", "Blake Morgan", "Casey Patel", "Drew Okafor", "Emerson Ruiz", "Finley Novak")
NAME_PARTS = (
    "Fresh", "Value", "Metro", "Green", "Sun", "Family", "Prime", "Corner", "Harbor", "Summit",
    "Oak", "River", "Budget", "Urban", "Country", "Golden", "Star", "Maple", "Coastal", "Pioneer",
)
NAME_KINDS = {
    "grocery": "Market", "mass": "Mart", "discount": "Discount", "drug": "Pharmacy",
    "convenience": "Express", "club": "Club", "ecommerce": "Online", "wholesale": "Wholesale", "other": "Stores",
}


def easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month = (h + ell - 7 * m + 114) // 31
    day = (h + ell - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def seasonal_multiplier(category: str, week: dt.date) -> float:
    """The planted seasonality of a category in a week (the week's Thursday sets the day of year)."""
    mid = week + dt.timedelta(days=3)
    doy = mid.timetuple().tm_yday
    angle = 2 * np.pi * (doy - 196) / 365.25  # 0 at mid-July
    summer = np.cos(angle)  # +1 mid-July, -1 mid-January
    days_to_xmas = (dt.date(mid.year, 12, 25) - mid).days
    xmas = 1.0 if 0 <= days_to_xmas < 21 else (0.5 if 21 <= days_to_xmas < 35 else 0.0)
    days_to_easter = (easter(mid.year) - mid).days
    easter_bump = 1.0 if -3 <= days_to_easter < 11 else (0.4 if 11 <= days_to_easter < 18 else 0.0)
    if category == "Ice Cream":
        return 1.0 + 0.4 * summer
    if category == "Soft Drinks":
        return 1.0 + 0.25 * summer + 0.30 * xmas
    if category == "Sun Care":
        return float(0.35 + 1.6 * np.exp(-((doy - 190) / 45.0) ** 2))
    if category == "Soups":
        return 1.0 - 0.3 * summer
    if category == "Hot Drinks":
        return 1.0 - 0.2 * summer + 0.25 * xmas
    if category == "Confectionery":
        return 1.0 + 1.4 * xmas + 1.1 * easter_bump
    if category == "Snacks":
        return 1.0 + 0.15 * summer + 0.55 * xmas
    if category == "Household":
        spring = np.exp(-((doy - 100) / 40.0) ** 2)
        return 1.0 + 0.30 * spring - 0.10 * xmas
    raise KeyError(category)


def calendar(as_of: dt.date) -> list[dt.date]:
    """Weeks of the demo: Mondays from the first in January three years before as-of,
    to the last complete week before as-of."""
    last = monday(as_of) - dt.timedelta(weeks=1)
    first = dt.date(as_of.year - 3, 1, 1)
    first = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    n = (last - first).days // 7 + 1
    return [first + dt.timedelta(weeks=i) for i in range(n)]


# Lift by mechanic: lift = intercept + slope x discount (discount as a fraction).
MECHANIC_LIFT = {
    "tpr": (0.05, 1.9, (10, 35)),
    "multibuy": (0.10, 1.6, (15, 35)),
    "bogo": (0.30, 1.3, (50, 50)),
    "display": (0.25, 1.0, (0, 10)),
    "feature": (0.30, 1.2, (0, 15)),
    "other": (0.10, 1.2, (5, 20)),
}
# How often a category is promoted, relative to 1.0 for the rest: the more a line sells on its season, the
# less it sells on deals (tuned for issue 5: the two other strongly seasonal categories, soft drinks and hot
# drinks, join the list, and the strongest seasons are promoted a little less than before).
PROMOTABILITY = {"Sun Care": 0.1, "Ice Cream": 0.35, "Soups": 0.4, "Soft Drinks": 0.6, "Hot Drinks": 0.6}
MECHANIC_WEIGHTS = {"tpr": 0.40, "multibuy": 0.15, "bogo": 0.08, "display": 0.15, "feature": 0.15, "other": 0.07}


def _in_peak_freeze(day: dt.date, category: str | None = None, ramp: float = 0.10) -> bool:
    """No promotion on this day: the Christmas peak freeze (mid-November to mid-January, every line), or the
    line's season is ramping (its seasonal level moved more than `ramp` over the past 4 weeks).

    Revenue managers keep deals off a seasonal ramp: the season lifts volume anyway, so a deal then mostly pays
    for units that would have come, and its lift cannot be read against the weeks before it. (Added for
    issue 5; before it, promotions were placed at any time of year outside the Christmas freeze.)
    """
    if (day.month == 11 and day.day >= 15) or day.month == 12 or (day.month == 1 and day.day <= 15):
        return True
    if category is None:
        return False
    now = seasonal_multiplier(category, monday(day))
    before = seasonal_multiplier(category, monday(day) - dt.timedelta(weeks=4))
    return abs(now / before - 1) > ramp


def _seasonality_truth(weeks: list[dt.date]) -> pd.DataFrame:
    """The planted seasonal index, computed from the multipliers exactly as the estimator defines it."""
    rows = []
    frame = pd.DataFrame({"week": pd.to_datetime(weeks)})
    frame["year"] = frame.week.dt.year
    frame["month"] = frame.week.dt.month
    iso = frame.week.dt.isocalendar()
    frame["iso_year"] = iso.year.astype(int)
    frame["iso_week"] = iso.week.astype(int).clip(upper=52)
    full_years = [y for y, g in frame.groupby("year") if g.month.nunique() == 12 and g.week.min().day <= 7
                  and g.week.max().month == 12 and g.week.max().day >= 25]
    full_iso = [y for y, g in frame.groupby("iso_year") if len(g) in (52, 53)]
    for cat in CATEGORIES:
        frame["m"] = [seasonal_multiplier(cat, w.date()) for w in frame.week]
        ratios = []
        for y in full_years:
            g = frame[frame.year == y].groupby("month")["m"].mean()
            ratios.append(g / g.mean())
        idx = pd.concat(ratios, axis=1).mean(axis=1)
        idx = idx / idx.mean() * 100
        rows += [(cat, "month", int(p), float(v)) for p, v in idx.items()]
        ratios = []
        for y in full_iso:
            g = frame[frame.iso_year == y].groupby("iso_week")["m"].mean()
            ratios.append(g / g.mean())
        idx = pd.concat(ratios, axis=1).mean(axis=1)
        idx = idx / idx.mean() * 100
        rows += [(cat, "week", int(p), float(v)) for p, v in idx.items()]
    return pd.DataFrame(rows, columns=["category", "grain", "period", "index"])


@dataclass(frozen=True)
class ReportingMess:
    """How retailers' feeds fall short of the truth (retailers and weeks as indices)."""
    unreported: np.ndarray  # (retailers, weeks): no sell-out row of that retailer in that week
    lags: dict[int, int]  # retailer -> weeks its latest sell-out lags the latest week
    gaps: list[tuple[int, int, str, bool]]  # (retailer, week, kind, first week after one of its promotions)
    sell_out_only: np.ndarray  # (retailers,): no sell-in at all

    def sell_out_only_ids(self, ret_ids: list[str]) -> list[str]:
        return [ret_ids[r] for r in np.nonzero(self.sell_out_only)[0]]


def _plant_reporting_mess(mess: np.random.Generator, weeks: list[dt.date], ret_ids: list[str],
                          channels: list[str], sells_online: np.ndarray, ser_r: np.ndarray,
                          promo_touch: np.ndarray, dip_parts: list) -> ReportingMess:
    """Choose the retailers whose feeds are late, gappy or sell-out only, and the weeks they miss.

    The largest account (R001) stays clean, so a complete account is always there to compare with. Every
    other role goes to a different retailer. No missing week is ever a promotion week of its retailer, so
    each event's lift is fully visible; some missing weeks are the first week after one of its promotions.
    """
    R, W = len(ret_ids), len(weeks)
    year_now = weeks[-1].year
    touched = np.zeros((R, W), dtype=np.int64)
    np.add.at(touched, ser_r, promo_touch)
    touched = touched > 0  # weeks in which the retailer runs any promotion
    post_promo = np.zeros((R, W), dtype=bool)  # the first week after one of the retailer's promotions
    for i, parts in dip_parts:
        post_promo[ser_r[i], parts[0][0]] = True
    is_ecom = np.array(channels) == "ecommerce"
    free = list(range(1, R))
    unreported = np.zeros((R, W), dtype=bool)
    gaps: list[tuple[int, int, str, bool]] = []

    # A chain-wide missing week: a store chain that also sells online sends no POS at all, in either
    # channel, for the week of 15 December last year (the Christmas peak). Any store chain if none of the
    # free ones sells online.
    chains = [r for r in free if sells_online[r] and not is_ecom[r]] or [r for r in free if not is_ecom[r]]
    chain = int(mess.choice(chains))
    free.remove(chain)
    w_chain = weeks.index(monday(dt.date(year_now - 1, 12, 15)))
    while touched[chain, w_chain]:
        w_chain -= 1
    gaps.append((chain, w_chain, "chain_wide", bool(post_promo[chain, w_chain])))

    # Scattered missed weeks: four weeks, from two years ago to two months before the end, at least six
    # weeks apart; two of them right after one of the retailer's promotions (where a dip would be read).
    window = [i for i, w in enumerate(weeks) if w.year >= year_now - 2 and i < W - 8]
    after = {r: [w for w in window if post_promo[r, w] and not touched[r, w]] for r in free if not is_ecom[r]}
    enough = [r for r in after if len(after[r]) >= 2] or [max(after, key=lambda r: len(after[r]))]
    gappy = int(mess.choice(enough))
    free.remove(gappy)
    chosen: list[int] = []
    plain = [w for w in window if not touched[gappy, w] and not post_promo[gappy, w]]
    for pool, upto in ((after[gappy], 2), (plain, 4)):
        for w in mess.permutation(pool):
            if len(chosen) < upto and all(abs(int(w) - c) >= 6 for c in chosen):
                chosen.append(int(w))
    gaps += [(gappy, w, "scattered", bool(post_promo[gappy, w])) for w in sorted(chosen)]
    for r, w, _, _ in gaps:
        unreported[r, w] = True

    # A retailer that buys through a distributor: its POS and stock reach us, our shipments to it do not exist.
    sell_out_only = np.zeros(R, dtype=bool)
    sell_out_only[int(mess.choice([r for r in free if not is_ecom[r]]))] = True
    free = [r for r in free if not sell_out_only[r]]

    # Late POS: two or three retailers whose sell-out arrives one or two weeks after our shipments.
    laggards = sorted(int(r) for r in mess.choice(free, 2 if R < 10 else 3, replace=False))
    lag_weeks = [1, 2, int(mess.integers(1, 3))][: len(laggards)]
    lags = dict(zip(laggards, lag_weeks, strict=True))
    for r, lag in lags.items():
        unreported[r, W - lag:] = True
    return ReportingMess(unreported, lags, sorted(gaps), sell_out_only)


def generate(scale: str = "default", seed: int = 7, as_of: dt.date | None = None,
             progress: Callable[[str, float], None] | None = None) -> dict[str, pd.DataFrame]:
    """Build every table in memory. Keys are table names; truth tables are prefixed `truth.`."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}")
    sc = SCALES[scale]
    rng = np.random.default_rng(seed)
    as_of = as_of or dt.date.today()
    say = progress or (lambda stage, frac: None)
    weeks = calendar(as_of)
    W = len(weeks)
    week_ts = pd.to_datetime(weeks)
    # Years by the day, not by 52 weeks: 2024 has 53 Mondays, and a 52-week year would drift the trend.
    years_from_start = np.array([(w - weeks[0]).days for w in weeks]) / 365.25

    # -- retailers ----------------------------------------------------------------------
    say("retailers and products", 0.02)
    R = sc.retailers
    channels = ["ecommerce"] + [CHANNEL_MIX[i % len(CHANNEL_MIX)] for i in range(R - 1)]
    channels = list(rng.permutation(channels))
    size = np.sort(rng.pareto(1.6, R) + 1.0)[::-1]  # Pareto-distributed account sizes
    size = size / size.max()
    ret_ids = [f"R{i + 1:03d}" for i in range(R)]
    used_names: set[str] = set()
    names = []
    for i, ch in enumerate(channels):
        name = f"{NAME_PARTS[i % len(NAME_PARTS)]} {NAME_KINDS[ch]}"
        if name in used_names:
            name = f"{name} {i + 1}"
        used_names.add(name)
        names.append(name)
    store_count = np.where(np.array(channels) == "ecommerce", 0, np.round(20 + 900 * size)).astype(int)
    growth = rng.uniform(-0.10, 0.13, R)
    # Accounts differ in trend, but the portfolio as a whole grows about 1% a year
    # (a steep portfolio trend would leak into every seasonal index).
    growth = growth - np.average(growth, weights=size) + 0.01
    cover = rng.uniform(2.5, 4.5, R)
    lean = rng.random(R) < 0.2
    cover[lean] = rng.uniform(1.2, 1.8, lean.sum())
    heavy = (~lean) & (rng.random(R) < 0.15)
    cover[heavy] = rng.uniform(7.0, 9.0, heavy.sum())
    terms = rng.uniform(0.12, 0.28, R)
    forward_buy_weeks = rng.uniform(0.3, 2.0, R)
    online_start = np.zeros(R)
    online_end = np.zeros(R)
    is_ecom = np.array(channels) == "ecommerce"
    online_start[is_ecom] = online_end[is_ecom] = 1.0
    growing = (~is_ecom) & (rng.random(R) < 0.35)
    growing[np.argmax(~is_ecom)] = True  # at least one store retailer sells online
    online_start[growing] = rng.uniform(0.02, 0.08, growing.sum())
    online_end[growing] = online_start[growing] + rng.uniform(0.05, 0.15, growing.sum())
    woc_min = np.full(R, 2.0)
    woc_max = np.full(R, 6.0)
    custom_band = rng.random(R) < 0.3
    woc_min[custom_band] = 1.5
    woc_max[custom_band] = 5.0
    retailers_df = pd.DataFrame({
        "retailer_id": ret_ids,
        "retailer_name": names,
        "channel": channels,
        "region": [REGIONS[i] for i in rng.integers(0, len(REGIONS), R)],
        "kam": [KAMS[i % len(KAMS)] for i in range(R)],
        "store_count": pd.array(np.where(is_ecom, pd.NA, store_count), dtype="Int32"),
        "strategic_priority": pd.array(rng.integers(1, 6, R), dtype="Int32"),
        "woc_min": woc_min,
        "woc_max": woc_max,
    })

    # -- products -----------------------------------------------------------------------
    cats = list(CATEGORIES)
    K = sc.skus
    sku_cat = np.array([i % len(cats) for i in range(K)])
    rng.shuffle(sku_cat)
    sku_ids = [f"SKU{i + 1:05d}" for i in range(K)]
    brands, subcats, prices = [], [], []
    for k in range(K):
        b, s, (lo, hi) = CATEGORIES[cats[sku_cat[k]]]
        brands.append(b[rng.integers(len(b))])
        subcats.append(s[rng.integers(len(s))])
        prices.append(round(float(rng.uniform(lo, hi)), 2))
    list_price = np.array(prices)
    unit_cost = np.round(list_price * rng.uniform(0.35, 0.6, K), 2)
    cost_missing = rng.random(K) < 0.04
    popularity = rng.lognormal(0, 0.6, K)
    products_df = pd.DataFrame({
        "sku_id": sku_ids,
        "sku_name": [f"{brands[k]} {subcats[k]} {k + 1}" for k in range(K)],
        "brand": brands,
        "category": [cats[c] for c in sku_cat],
        "subcategory": subcats,
        "unit_cost": pd.array(np.where(cost_missing, np.nan, unit_cost), dtype="Float64"),
        "list_price": list_price,
    })
    # SKU life: most run throughout; a few launch or are delisted mid-history, at the
    # January range reset (so the range changes do not pose as seasonality).
    resets = [i for i, w in enumerate(weeks) if w.month == 1 and w.day <= 7 and i > 0]
    launch = np.zeros(K, dtype=int)
    delist = np.full(K, W)
    late = rng.random(K) < 0.06
    launch[late] = rng.choice(resets, late.sum())
    gone = (~late) & (rng.random(K) < 0.04)
    delist[gone] = rng.choice(resets, gone.sum())
    # Ranges also churn inside a year: a few tail lines are discontinued partway through last year (at every
    # retailer at once) and a few new lines are listed this year, so last year holds sales of SKUs that sell
    # nothing this year. The mess is drawn from its own stream, so the rest of the demo keeps its draws.
    mess = np.random.default_rng([seed, 10])
    n_churn = max(2, round(0.04 * K))
    year_now = weeks[-1].year
    last_year_mid = [i for i, w in enumerate(weeks) if w.year == year_now - 1 and 3 <= w.month <= 9]
    # (early in January there is no room left this year: the new lines then arrive in the last half-year)
    this_year = [i for i, w in enumerate(weeks) if w.year == year_now and i < W - 8] or list(range(W - 26, W - 8))
    steady = np.nonzero((launch == 0) & (delist == W))[0]
    tail = steady[np.argsort(popularity[steady], kind="stable")][: max(len(steady) // 2, 2 * n_churn)]
    discontinued = np.sort(mess.choice(tail, n_churn, replace=False))
    # the first week no longer listed; distinct weeks while there are enough (the large scale churns more lines)
    delist[discontinued] = mess.choice(last_year_mid, n_churn, replace=n_churn > len(last_year_mid))
    newcomers = np.sort(mess.choice(np.setdiff1d(steady, discontinued), n_churn, replace=False))
    launch[newcomers] = mess.choice(this_year, n_churn, replace=n_churn > len(this_year))

    # -- series: which retailer carries which SKU ---------------------------------------
    say("demand", 0.08)
    carry_p = 0.35 + 0.6 * size  # big accounts carry most of the range
    carried = rng.random((R, K)) < carry_p[:, None]
    ser_r, ser_k = np.nonzero(carried)
    S = len(ser_r)
    start_w = launch[ser_k].copy()
    late_listing = rng.random(S) < 0.04
    start_w[late_listing] = np.maximum(start_w[late_listing], rng.choice(resets, late_listing.sum()))
    end_w = delist[ser_k]
    t_idx = np.arange(W)
    listed = (t_idx[None, :] >= start_w[:, None]) & (t_idx[None, :] < end_w[:, None])

    base = sc.base_median * (0.15 + 2.5 * size[ser_r]) * popularity[ser_k] * rng.lognormal(0, 0.35, S)
    base = np.maximum(base, 4.0)
    season = np.array([[seasonal_multiplier(c, w) for w in weeks] for c in cats])  # (C, W)
    trend = (1.0 + growth[ser_r, None]) ** years_from_start[None, :]
    expected = base[:, None] * trend * season[sku_cat[ser_k]]  # what the retailer plans on

    # AR(1) log noise: realistic weekly wobble that persists a little.
    phi, sigma = 0.85, 0.05
    eps = np.empty((S, W))
    eps[:, 0] = rng.normal(0, sigma, S)
    innov = rng.normal(0, sigma * np.sqrt(1 - phi**2), (S, W))
    for t in range(1, W):
        eps[:, t] = phi * eps[:, t - 1] + innov[:, t]
    counterfactual = expected * np.exp(eps - sigma**2 / 2)

    # -- promotions ----------------------------------------------------------------------
    say("promotions", 0.2)
    first_day, last_day = weeks[0], weeks[-1] + dt.timedelta(days=6)
    promo_mult = np.ones((S, W))
    dip_mult = np.ones((S, W))
    promo_touch = np.zeros((S, W), dtype=bool)
    busy = np.zeros((S, W), dtype=bool)  # weeks already claimed by a promotion, its dip and a gap
    # Strongly seasonal lines sell on the season, not on deals: they are promoted less often.
    promotability = np.array([PROMOTABILITY.get(c, 1.0) for c in cats])[sku_cat[ser_k]]
    weight = base * promotability / (base * promotability).sum()
    weight_cdf = weight.cumsum()  # draw like rng.choice(S, p=weight), without its O(S) checks per draw
    promo_rows, truth_rows = [], []
    dip_parts = []  # per event: (series, ((week, dip units), (week, dip units)))
    mech_names = list(MECHANIC_WEIGHTS)
    mech_p = np.array(list(MECHANIC_WEIGHTS.values()))
    span_days = (last_day - first_day).days
    attempts = 0
    while len(promo_rows) < sc.promotions and attempts < sc.promotions * 30:
        attempts += 1
        i = min(int(weight_cdf.searchsorted(rng.random(), side="right")), S - 1)
        r = rng.random()
        duration = 1 if r < 0.04 else (7 if r < 0.55 else (14 if r < 0.9 else 21))
        if len(promo_rows) < 3:  # a few events right at the start of the data
            start = first_day + dt.timedelta(days=int(rng.integers(0, 10)))
        else:
            start = first_day + dt.timedelta(days=int(rng.integers(0, span_days - duration - 14)))
        if rng.random() < 0.7:
            start = monday(start) if monday(start) >= first_day else start
        end = start + dt.timedelta(days=duration - 1)
        # The peak trading freeze (mid-November to mid-January) and no deals on a seasonal ramp.
        category = cats[sku_cat[ser_k[i]]]
        if len(promo_rows) >= 3 and (_in_peak_freeze(start, category) or _in_peak_freeze(end, category)):
            continue
        w0 = (monday(start) - first_day).days // 7
        w1 = (monday(end) - first_day).days // 7
        if w1 + 2 >= W or not listed[i, w0:w1 + 3].all():
            continue
        lo, hi = max(0, w0 - 4), min(W, w1 + 7)
        if busy[i, lo:hi].any():
            continue
        mech = mech_names[int(rng.choice(len(mech_names), p=mech_p))]
        a, b, (d_lo, d_hi) = MECHANIC_LIFT[mech]
        disc = float(rng.integers(d_lo, d_hi + 1))
        lift = (a + b * disc / 100.0) * float(rng.lognormal(0, 0.15))
        dip1 = min(0.35, 0.18 * lift)
        dip2 = dip1 / 2
        busy[i, lo:hi] = True
        cf_total = incr_total = 0.0
        for w in range(w0, w1 + 1):
            wk_start = weeks[w]
            days = sum(1 for dd in range(7) if start <= wk_start + dt.timedelta(days=dd) <= end)
            frac = days / 7.0
            promo_mult[i, w] = 1.0 + lift * frac
            promo_touch[i, w] = True
            cf_total += counterfactual[i, w]
            incr_total += counterfactual[i, w] * lift * frac
        dip_mult[i, w1 + 1] = 1 - dip1
        dip_mult[i, w1 + 2] = 1 - dip2
        dip_units = counterfactual[i, w1 + 1] * dip1 + counterfactual[i, w1 + 2] * dip2
        r_i, k_i = ser_r[i], ser_k[i]
        shelf = list_price[k_i] * 1.35
        trade_spend = round(incr_total * 0.6 * shelf * disc / 100 + (1500 if mech in ("display", "feature") else 0)
                            + float(rng.uniform(0, 400)), 2)
        if rng.random() < 0.04:
            trade_spend = 0.0
        planned = round(incr_total * float(rng.lognormal(0.05, 0.25))) if rng.random() < 0.8 else None
        pid = f"P{len(promo_rows) + 1:05d}"
        promo_rows.append((pid, ret_ids[r_i], sku_ids[k_i], start, end, mech, disc, trade_spend, planned, i, lift))
        truth_rows.append((pid, incr_total, incr_total / cf_total, dip_units))
        dip_parts.append((i, ((w1 + 1, counterfactual[i, w1 + 1] * dip1),
                              (w1 + 2, counterfactual[i, w1 + 2] * dip2))))

    promotions_df = pd.DataFrame(
        [p[:9] for p in promo_rows],
        columns=["promo_id", "retailer_id", "sku_id", "start_date", "end_date", "mechanic", "discount_pct",
                 "trade_spend", "planned_incremental_units"],
    )
    promotions_df["planned_incremental_units"] = promotions_df["planned_incremental_units"].astype("Float64")
    truth_promo = pd.DataFrame(truth_rows, columns=["promo_id", "true_incremental_units", "true_lift_pct",
                                                     "true_post_dip_units"])
    mess_plan = _plant_reporting_mess(mess, weeks, ret_ids, channels, online_end > 0, ser_r, promo_touch,
                                      dip_parts)
    unreported = mess_plan.unreported  # (R, W): no sell-out row of that retailer in that week
    # The post-promotion dip counts only the weeks the retailer reported: a dip in a week whose POS never
    # arrived cannot be seen in the data (promotion weeks themselves are always reported, so the lift is exact).
    truth_promo["true_post_dip_units"] = [
        sum(units for w, units in parts if not unreported[ser_r[i], w]) for i, parts in dip_parts]
    # discount depth during the promotion's days, for shelf prices
    disc_frac = np.zeros((S, W))
    for p in promo_rows:
        i, lift = p[9], p[10]
        touched = promo_touch[i] & (promo_mult[i] > 1.0)
        disc_frac[i, touched] = p[6] / 100.0 * (promo_mult[i, touched] - 1.0) / lift

    demand_expected = counterfactual * promo_mult * dip_mult
    demand = rng.poisson(demand_expected * listed).astype(float)

    # -- phantom inventory: stock on the books, nothing scans ---------------------------
    phantom = np.zeros((S, W), dtype=bool)
    n_phantom = max(2, S // 150)
    for i in rng.choice(S, n_phantom, replace=False):
        w0 = int(rng.integers(20, W - 6))
        length = int(rng.integers(2, 5))
        if listed[i, w0:w0 + length].all() and not promo_touch[i, w0:w0 + length].any():
            phantom[i, w0:w0 + length] = True

    # -- retailer stock and our shipments -------------------------------------------------
    say("stock and shipments", 0.35)
    cov = cover[ser_r]
    fb = forward_buy_weeks[ser_r]
    expected_promo = expected * promo_mult  # the retailer knows its promotion calendar
    promo_ahead = np.zeros((S, W))
    # forward buying: the promotion's extra volume plus some weeks of normal demand, bought 1-2 weeks ahead
    for p in promo_rows:
        i = p[9]
        touched_w = np.nonzero(promo_touch[i])[0]
        start_w_p = touched_w.min()
        extra = float((expected_promo[i, touched_w] - expected[i, touched_w]).sum()) + fb[i] * expected[i, start_w_p]
        for lead, share in ((2, 0.4), (1, 0.6)):
            w = start_w_p - lead
            if w >= 0:
                promo_ahead[i, w] += extra * share
    disrupted = np.zeros((S, W), dtype=bool)
    starts = rng.random((S, W)) < 0.008
    for length in range(4):
        shifted = np.zeros_like(starts)
        shifted[:, length:] = starts[:, : W - length]
        disrupted |= shifted & (rng.random((S, W)) < (1.0 if length < 2 else 0.6))

    on_hand = np.zeros((S, W))
    sell_in_units = np.zeros((S, W))
    sold = np.zeros((S, W))
    lost = np.zeros((S, W))
    stock = np.where(listed[:, 0], np.round(cov * expected[:, 0]), 0.0)
    # Returns come back while a line is listed; a delisted line's leftovers are cleared by the retailer (so a
    # discontinued SKU has no sell-in at all after its last listed week, not returns years later).
    returns = (rng.random((S, W)) < 0.002) & listed
    for t in range(W):
        nxt = expected[:, t + 1] if t + 1 < W else expected[:, t]
        target = cov * nxt
        order = np.maximum(0.0, np.round(target + expected_promo[:, t] - stock + promo_ahead[:, t]))
        order = np.where(listed[:, t] & ~disrupted[:, t], order, 0.0)
        # a SKU being delisted is run down: no shipments in its last 3 weeks (SKUs that stay listed
        # have end_w == W and must keep shipping to the end of the data)
        order = np.where((end_w < W) & (t >= end_w - 3), 0.0, order)
        ret = np.where(returns[:, t] & (stock > 5), -np.round(0.2 * stock), 0.0)
        available = stock + order + ret
        s = np.where(phantom[:, t], 0.0, np.minimum(demand[:, t], available))
        lost[:, t] = np.where(phantom[:, t], 0.0, demand[:, t] - s)
        stock = available - s
        sell_in_units[:, t] = order + ret
        sold[:, t] = s
        on_hand[:, t] = stock

    # -- long tables ---------------------------------------------------------------------
    say("tables", 0.6)
    ser_rid = pd.Categorical.from_codes(ser_r, categories=ret_ids)
    ser_sid = pd.Categorical.from_codes(ser_k, categories=sku_ids)

    def long(mask: np.ndarray, **cols: np.ndarray) -> pd.DataFrame:
        ii, tt = np.nonzero(mask)
        data = {"week": week_ts[tt], "retailer_id": ser_rid[ii], "sku_id": ser_sid[ii]}
        for name, arr in cols.items():
            data[name] = arr[ii, tt]
        return pd.DataFrame(data)

    gross_price = list_price[ser_k][:, None]
    net_factor = (1 - terms[ser_r])[:, None]
    sell_in_df = long(
        (sell_in_units != 0) & ~mess_plan.sell_out_only[ser_r, None],
        units=sell_in_units,
        gross_sales=np.round(sell_in_units * gross_price, 2),
        net_sales=np.round(sell_in_units * gross_price * net_factor, 2),
    )

    share_online = online_start[ser_r, None] + (online_end - online_start)[ser_r, None] * (t_idx / max(W - 1, 1))
    online_units = rng.binomial(sold.astype(np.int64), np.clip(share_online, 0, 1)).astype(float)
    store_units = sold - online_units
    shelf_price = (list_price[ser_k] * 1.35)[:, None] * (1 - disc_frac)
    dist = rng.uniform(0.6, 1.0, S)
    stores_selling = np.round(store_count[ser_r] * dist)[:, None] * np.ones((1, W))
    reported = ~unreported[ser_r]
    store_df = long((store_units > 0) & reported, units=store_units,
                    sales_value=np.round(store_units * shelf_price, 2), stores_selling=stores_selling,
                    promo_flag=promo_touch)
    store_df.insert(3, "sales_channel", "store")
    online_df = long((online_units > 0) & reported, units=online_units,
                     sales_value=np.round(online_units * shelf_price, 2), promo_flag=promo_touch)
    online_df.insert(3, "sales_channel", "online")
    online_df["stores_selling"] = np.nan
    online_df = online_df[store_df.columns]
    sell_out_df = pd.concat([store_df, online_df], ignore_index=True)
    sell_out_df["stores_selling"] = sell_out_df["stores_selling"].astype("Int32")
    sell_out_df["sales_channel"] = pd.Categorical(sell_out_df["sales_channel"], categories=["store", "online"])

    inventory_df = long(listed, on_hand_units=on_hand)

    # Stock-outs and phantom stock are recorded where the data can show them: in weeks the retailer reported.
    lost_df = long((lost > 0.5) & reported, lost_units=lost)
    phantom_df = long(phantom & reported)

    # -- targets --------------------------------------------------------------------------
    say("targets", 0.75)
    targets_df = _targets(rng, weeks, expected * listed, ser_r, ser_k, sku_cat, cats, list_price, terms, growth, ret_ids, as_of)

    # The sell-out-only account buys through a distributor: no shipments of ours, and no plan with us.
    targets_df = targets_df[~targets_df["retailer_id"].isin(mess_plan.sell_out_only_ids(ret_ids))]
    targets_df = targets_df.reset_index(drop=True)

    say("stores", 0.78)
    levels = STORE_LEVEL.get(scale, STORE_LEVEL["default"])
    store_tables = _store_level(np.random.default_rng([seed, 120]), levels, weeks, ret_ids, names, channels,
                                ser_r, ser_k, sku_ids, store_units, shelf_price, promo_touch, on_hand, listed,
                                unreported)
    _chain_is_sum_of_stores(sell_out_df, inventory_df, retailers_df, store_tables)

    seasonality_truth = _seasonality_truth(weeks)
    trend_df = pd.DataFrame({"retailer_id": ret_ids, "annual_growth": growth})
    return {
        "retailers": retailers_df,
        "products": products_df,
        "sell_in": sell_in_df,
        "sell_out": sell_out_df,
        "inventory": inventory_df,
        "promotions": promotions_df,
        "targets": targets_df,
        "stores": store_tables["stores"],
        "sell_out_store": store_tables["sell_out_store"],
        "inventory_store": store_tables["inventory_store"],
        "truth.voids": store_tables["truth.voids"],
        "truth.promo_lift": truth_promo,
        "truth.seasonality": seasonality_truth,
        "truth.lost_sales": lost_df,
        "truth.phantom": phantom_df,
        "truth.retailer_trend": trend_df,
        "truth.sell_out_lag": pd.DataFrame({
            "retailer_id": [ret_ids[r] for r in mess_plan.lags],
            "lag_weeks": np.array(list(mess_plan.lags.values()), dtype=np.int32)}),
        "truth.unreported_weeks": pd.DataFrame(
            mess_plan.gaps, columns=["retailer_id", "week", "kind", "after_promotion"]).assign(
                retailer_id=lambda f: [ret_ids[r] for r in f["retailer_id"]],
                week=lambda f: pd.to_datetime([weeks[w] for w in f["week"]])),
        "truth.sell_out_only": pd.DataFrame({
            "retailer_id": mess_plan.sell_out_only_ids(ret_ids), "has_targets": False, "has_inventory": True}),
        "truth.sku_life": pd.DataFrame(
            [(sku_ids[k], week_ts[launch[k]], week_ts[delist[k] - 1]) for k in range(K)
             if launch[k] > 0 or delist[k] < W],
            columns=["sku_id", "first_week", "last_week"]),
    }


def _store_level(rng: np.random.Generator, levels: tuple[tuple[int, ...], int], weeks: list[dt.date],
                 ret_ids: list[str], names: list[str], channels: list[str], ser_r: np.ndarray, ser_k: np.ndarray,
                 sku_ids: list[str], store_units: np.ndarray, shelf_price: np.ndarray, promo_touch: np.ndarray,
                 on_hand: np.ndarray, listed: np.ndarray, unreported: np.ndarray) -> dict[str, pd.DataFrame]:
    """Split the store-channel sell-out of three chains over their stores, and plant voids and decoys.

    The chains are the three largest store retailers after R001 (which stays clean). Each chain's weekly units of
    a SKU are shared among its open stores by a multinomial draw weighted by store size, so the stores add up
    exactly to the chain figures the rest of the demo planted (lift, lost sales and trend stay true). Planted:
    - voids: a store x SKU that sold well, then nothing for 6 to 20 weeks, or to the end (`truth.voids`, the
      first and last week of the void in which the store reported);
    - decoys, not voids: gaps of 2 or 3 weeks, stores that close (close_date, then no rows) and stores that
      open late (open_date, no rows before).
    The first chain also reports stock by store: its chain stock shared the same way, except that half its void
    stores hold no stock (out of stock) and the other half keep theirs (stock on the books, none sold).
    """
    counts, n_voids = levels
    W = len(weeks)
    week_ts = pd.to_datetime(weeks)
    candidates = [r for r in range(1, len(ret_ids)) if channels[r] != "ecommerce"][: len(counts)]
    stores_rows, so_parts, inv_parts, voids = [], [], [], []
    formats = list(STORE_FORMATS)
    for rank, r in enumerate(candidates):
        n = counts[rank]
        fmt = rng.choice(formats, n, p=[0.2, 0.55, 0.25])
        weight = np.array([STORE_FORMATS[f] for f in fmt]) * rng.lognormal(0, 0.25, n)
        opens = np.zeros(n, dtype=int)
        closes = np.full(n, W)  # first week closed
        late = rng.choice(n, max(1, n // 15), replace=False)
        opens[late] = rng.integers(W // 4, W // 2, len(late))
        shut = rng.choice(np.setdiff1d(np.arange(n), late), max(1, n // 15), replace=False)
        closes[shut] = rng.integers(W // 2, W - 10, len(shut))
        open_w = (np.arange(W)[None, :] >= opens[:, None]) & (np.arange(W)[None, :] < closes[:, None])
        store_ids = [f"{ret_ids[r]}-S{i + 1:03d}" for i in range(n)]
        stores_rows.append(pd.DataFrame({
            "store_id": store_ids, "retailer_id": ret_ids[r],
            "store_name": [f"{names[r]} #{i + 1}" for i in range(n)],
            "region": [REGIONS[i] for i in rng.integers(0, 4, n)], "format": fmt,
            "acv_weight": np.round(weight, 2),
            "open_date": pd.to_datetime([weeks[o] if o > 0 else None for o in opens]),
            "close_date": pd.to_datetime([weeks[c] - dt.timedelta(days=1) if c < W else None for c in closes]),
        }))
        idx = np.nonzero(ser_r == r)[0]
        units = store_units[idx]  # (SKUs of the chain, weeks)
        reported = ~unreported[r]
        zero = np.zeros((len(idx), W, n), dtype=bool)  # planted: no sales of that SKU in that store and week
        stocked_void = np.zeros((len(idx), W, n), dtype=bool)
        # Voids and decoy gaps go where the store would surely sell: a SKU selling at least 3 units a week
        # per store, listed throughout, in a store open throughout.
        per_weight = np.where(listed[idx], units, np.inf).min(axis=1) / weight.sum()  # slowest week, per size
        fast = np.nonzero((per_weight * weight.min() >= 1) & listed[idx].all(axis=1))[0]
        steady = np.nonzero((opens == 0) & (closes == W))[0]
        taken: set[tuple[int, int]] = set()
        for kind, how_many in (("void", n_voids), ("gap", n_voids)):
            made = tries = 0
            while made < how_many and len(fast) and len(steady) and tries < 50 * how_many:
                tries += 1
                k, st = int(rng.choice(fast)), int(rng.choice(steady))
                if (k, st) in taken or per_weight[k] * weight[st] < 3:  # the store sells 3 or more a week
                    continue
                taken.add((k, st))
                if kind == "void":
                    w0 = int(rng.integers(40, W - VOID_MIN_WEEKS))
                    w1 = W - 1 if rng.random() < 0.3 else min(W - 1, w0 + int(rng.integers(VOID_MIN_WEEKS, 21)) - 1)
                else:
                    w0 = int(rng.integers(40, W - 4))
                    w1 = w0 + int(rng.integers(2, 4)) - 1
                seen = np.nonzero(reported[w0:w1 + 1])[0] + w0
                if kind == "void" and len(seen) < VOID_MIN_WEEKS:
                    continue
                zero[k, w0:w1 + 1, st] = True
                if kind == "void":
                    stocked_void[k, w0:w1 + 1, st] = made % 2 == 1
                    voids.append((ret_ids[r], store_ids[st], sku_ids[ser_k[idx[k]]], week_ts[seen[0]],
                                  week_ts[seen[-1]]))
                made += 1
        p = weight[None, None, :] * open_w.T[None, :, :] * ~zero
        p = p / p.sum(axis=2, keepdims=True)
        split = np.stack([_share_out(rng, units[k], p[k]) for k in range(len(idx))])
        kk, ww, ss = np.nonzero((split > 0) & reported[None, :, None])
        sold_units = split[kk, ww, ss].astype(float)
        so_parts.append(pd.DataFrame({
            "week": week_ts[ww], "retailer_id": ret_ids[r], "sku_id": np.array(sku_ids)[ser_k[idx[kk]]],
            "store_id": np.array(store_ids)[ss], "sales_channel": "store", "units": sold_units,
            "sales_value": np.round(sold_units * shelf_price[idx[kk], ww], 2),
            "promo_flag": promo_touch[idx[kk], ww]}))
        if rank == 0:
            # stock: the chain's, shared by size among open stores; an out-of-stock void store holds none
            q = weight[None, None, :] * open_w.T[None, :, :] * ~(zero & ~stocked_void)
            q = q / q.sum(axis=2, keepdims=True)
            stock = np.stack([_share_out(rng, on_hand[idx[k]], q[k]) for k in range(len(idx))])
            kk, ww, ss = np.nonzero(listed[idx][:, :, None] & open_w.T[None, :, :])
            inv_parts.append(pd.DataFrame({
                "week": week_ts[ww], "retailer_id": ret_ids[r], "sku_id": np.array(sku_ids)[ser_k[idx[kk]]],
                "store_id": np.array(store_ids)[ss], "on_hand_units": stock[kk, ww, ss].astype(float)}))
    so = pd.concat(so_parts, ignore_index=True)
    so["stores_selling"] = pd.array([pd.NA] * len(so), dtype="Int32")
    so["promo_flag"] = so["promo_flag"].astype("boolean")
    so = so[list(schema.SELL_OUT_STORE.column_names)]
    inv = pd.concat(inv_parts, ignore_index=True)[list(schema.INVENTORY_STORE.column_names)]
    return {
        "stores": pd.concat(stores_rows, ignore_index=True),
        "sell_out_store": so,
        "inventory_store": inv,
        "truth.voids": pd.DataFrame(voids, columns=["retailer_id", "store_id", "sku_id", "first_week", "last_week"]),
    }


def _share_out(rng: np.random.Generator, totals: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Split whole-unit totals (weeks,) over stores by shares (weeks, stores), exactly: each store gets the whole
    part of its share, and the units left over go one by one to stores drawn by their fractional parts. A
    store whose share is a unit or more a week always sells (as a real store's steady lines do); only the
    slow lines of small stores miss weeks by chance."""
    expected = totals.astype(np.int64)[:, None] * shares
    base = np.floor(expected + 1e-9).astype(np.int64)
    left = totals.astype(np.int64) - base.sum(axis=1)
    frac = np.clip(expected - base, 0, None)
    weight = frac.sum(axis=1, keepdims=True)
    pvals = np.where(weight > 0, frac / np.where(weight > 0, weight, 1), 1.0 / shares.shape[1])
    return base + rng.multinomial(np.maximum(left, 0), pvals)


def _chain_is_sum_of_stores(sell_out_df: pd.DataFrame, inventory_df: pd.DataFrame, retailers_df: pd.DataFrame,
                            store_tables: dict[str, pd.DataFrame]) -> None:
    """Make the store-level chains' rows the rollup the importer would write: units are already the stores' sum
    (the split is exact); sales value becomes the sum of the stores' rounded values, stores_selling the count of
    stores with a sale, and store_count the stores listed. In place."""
    so = store_tables["sell_out_store"]
    key = ["week", "retailer_id", "sku_id", "sales_channel"]
    rollup = so.groupby(key, observed=True, as_index=False).agg(
        sales_value=("sales_value", "sum"), stores_selling=("units", "size"))
    rollup["sales_channel"] = rollup["sales_channel"].astype(str)
    chain = sell_out_df[key].astype({"retailer_id": str, "sku_id": str, "sales_channel": str})
    hit = chain.reset_index().merge(rollup, on=key, how="inner")
    sell_out_df.loc[hit["index"].to_numpy(), "sales_value"] = hit["sales_value"].round(2).to_numpy()
    sell_out_df.loc[hit["index"].to_numpy(), "stores_selling"] = hit["stores_selling"].astype("int32").to_numpy()
    inv = store_tables["inventory_store"]
    ikey = ["week", "retailer_id", "sku_id"]
    inv_rollup = inv.groupby(ikey, as_index=False)["on_hand_units"].sum()
    ichain = inventory_df[ikey].astype({"retailer_id": str, "sku_id": str})
    ihit = ichain.reset_index().merge(inv_rollup, on=ikey, how="inner")
    inventory_df.loc[ihit["index"].to_numpy(), "on_hand_units"] = ihit["on_hand_units"].to_numpy()
    n_stores = store_tables["stores"].groupby("retailer_id").size()
    at = retailers_df["retailer_id"].isin(n_stores.index)
    retailers_df.loc[at, "store_count"] = retailers_df.loc[at, "retailer_id"].map(n_stores).astype("Int32")


# How each category's plan phasing differs from its real season: the plan shifts
# or flattens a few categories, so the plan can ask for more than the season gives.
PLAN_PHASING = {"Sun Care": ("flatten", 0.5), "Soups": ("shift", 4), "Confectionery": ("flatten", 0.3)}


def _targets(rng, weeks, expected, ser_r, ser_k, sku_cat, cats, list_price, terms, growth, ret_ids, as_of):
    """Monthly plan per retailer and category (and an all-category row), for every data year in full."""
    first_year, last_year = weeks[0].year, as_of.year
    plan_weeks = []
    d = weeks[0]
    while d.year <= last_year:
        plan_weeks.append(d)
        d += dt.timedelta(weeks=1)
    P = len(plan_weeks)
    W = len(weeks)
    # The plan starts from the demand the business expects (trend and season), extended past the
    # data by repeating the year before with the retailer's growth; then each account's plan is a
    # little ambitious or timid, and some categories are phased differently from their real season.
    future = np.empty((expected.shape[0], P))
    future[:, :W] = expected
    for t in range(W, P):
        # the same week last year is the one 364 days earlier (the calendar's rule), also after a 53-Monday year
        future[:, t] = future[:, t - 52] * (1 + growth[ser_r])
    season = np.array([[seasonal_multiplier(c, w) for w in plan_weeks] for c in cats])
    phased = season.copy()
    for c, (how, amount) in PLAN_PHASING.items():
        ci = cats.index(c)
        if how == "flatten":
            phased[ci] = season[ci].mean() + (season[ci] - season[ci].mean()) * amount
        else:
            phased[ci] = np.roll(season[ci], int(amount))
    ambition = rng.normal(0.02, 0.05, len(ret_ids))
    planned = future * (1 + ambition[ser_r, None]) * (phased / season)[sku_cat[ser_k]]
    net = planned * (list_price[ser_k] * (1 - terms[ser_r]))[:, None]
    shelf = planned * (list_price[ser_k] * 1.35)[:, None]
    month = pd.to_datetime(plan_weeks).to_period("M").to_timestamp()
    frame = pd.DataFrame({
        "retailer_id": np.repeat(np.array(ret_ids)[ser_r], P),
        "category": np.repeat(np.array(cats)[sku_cat[ser_k]], P),
        "month": np.tile(month, len(ser_r)),
        "net": net.ravel(),
        "shelf": shelf.ravel(),
        "units": planned.ravel(),
    })
    by_cat = frame.groupby(["retailer_id", "month", "category"], as_index=False).sum(numeric_only=True)
    all_cat = by_cat.groupby(["retailer_id", "month"], as_index=False).sum(numeric_only=True)
    all_cat["category"] = ""
    out = pd.concat([by_cat, all_cat], ignore_index=True)
    out = out[out["month"].dt.year >= first_year]
    return pd.DataFrame({
        "retailer_id": out["retailer_id"],
        "month": out["month"],
        "category": out["category"],
        "net_sales_target": out["net"].round(-1),
        "sell_out_target": out["shelf"].round(-1),
        "units_target": out["units"].round(),
    }).sort_values(["retailer_id", "month", "category"]).reset_index(drop=True)


def write(tables: dict[str, pd.DataFrame], path: str | Path,
          progress: Callable[[str, float], None] | None = None,
          then: Callable[[duckdb.DuckDBPyConnection], None] | None = None) -> None:
    """Write the tables into a new DuckDB file, atomically: a half-built file never takes the name. `then` adds
    more in SQL on the same connection before the file takes its name (the store chains of `stores200m`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".building")
    for p in (tmp, Path(str(tmp) + ".wal")):
        if p.exists():
            p.unlink()
    say = progress or (lambda stage, frac: None)
    con = duckdb.connect(str(tmp))
    try:
        schema.create_all(con, with_truth=True)
        names = list(tables)
        for n, name in enumerate(names):
            say(f"writing {name}", 0.8 + 0.2 * n / len(names))
            frame = tables[name]
            target = ".".join(schema.quote_ident(part) for part in
                              (name.split(".") if name.startswith("truth.") else ["main", name]))
            cols = ", ".join(schema.quote_ident(c) for c in frame.columns)
            con.register("frame_to_load", frame)
            insert = "INSERT INTO " + target + " (" + cols + ") SELECT " + cols + " FROM frame_to_load"
            if "week" in frame.columns and not name.startswith("truth."):
                # Stored in week order, so a query for a few weeks skips most of the table (zone maps).
                insert += " ORDER BY week, retailer_id, sku_id"
            con.execute(insert)
            con.unregister("frame_to_load")
        if then is not None:
            then(con)
        say("store summaries", 0.99)
        store_summary.build(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    say("deriving tables (lift per promotion, seasonal index)", 0.99)
    derived.derive_file(tmp)  # once per data version, before the file takes its name
    os.replace(tmp, path)


def build(path: str | Path, scale: str = "default", seed: int = 7, as_of: dt.date | None = None,
          progress: Callable[[str, float], None] | None = None) -> dict[str, int]:
    """Generate and write a demo database; return the row count per table.

    A scale of `demo_stores.SCALES` (`stores200m`) is its pandas base scale plus store chains written in SQL."""
    from kam_dash import demo_stores

    if scale not in demo_stores.SCALES:
        tables = generate(scale, seed, as_of, progress)
        write(tables, path, progress)
        return {name: len(frame) for name, frame in tables.items()}
    base, chains = demo_stores.SCALES[scale]
    as_of = as_of or dt.date.today()
    tables = generate(base, seed, as_of, progress)
    counts = {name: len(frame) for name, frame in tables.items()}

    def add_chains(con: duckdb.DuckDBPyConnection) -> None:
        demo_stores.limit_memory(con, Path(str(path) + ".tmp"))
        added = demo_stores.add_store_chains(con, chains, calendar(as_of), seed, progress)
        for name, n in added.items():
            counts[name] = counts.get(name, 0) + n

    try:
        write(tables, path, progress, then=add_chains)
    finally:
        shutil.rmtree(Path(str(path) + ".tmp"), ignore_errors=True)
    return counts
