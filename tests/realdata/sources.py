"""Real public POS panels (../shared/real-data, read in place, never copied) turned into contract files.

- Dominick's Finer Foods orange juice: 83 stores x 3 brands x weeks 40-160 (Jun 1990 - Sep 1992). Until the
  store level exists each store is its own account ("DFF002" ...). Weeks a store did not report are simply absent
  (87-121 weeks per store): the unreported-weeks rule on real data. No sell-in, inventory or targets: the
  sell-out-only case. Feature-ad runs become promotion events (mechanic "feature").
- Walmart: 45 stores x 81 departments, weekly sales dated by the Friday ending each week; departments stand for SKUs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tests.conftest import real_data

DFF_BRANDS = {"tropicana": "Tropicana Premium 64 oz", "minute.maid": "Minute Maid 64 oz",
              "dominicks": "Dominick's 64 oz"}


def dominicks_mondays() -> dict[int, str]:
    """DFF week number -> the Monday (ISO) of the week holding its Thursday start."""
    weeks = pd.read_csv(real_data("dominicks-lookups", "weeks.csv"), header=None,
                        names=["week", "start", "end", "event"])
    thursday = pd.to_datetime(weeks["start"], format="%m/%d/%y")
    return dict(zip(weeks["week"], (thursday - pd.Timedelta(days=3)).dt.strftime("%Y-%m-%d"), strict=True))


def dominicks_units(oj: pd.DataFrame) -> pd.Series:
    """exp(logmove) is ounces, an exact multiple of the 64 oz carton (SOURCE.md)."""
    return (np.exp(oj["logmove"]) / 64).round().astype(int)


def dominicks_folder(folder: Path) -> Path:
    """Contract CSVs (retailers, products, sell_out, promotions) for the orange juice panel."""
    oj = pd.read_csv(real_data("dominicks-oj", "oj.csv"))
    stores = pd.read_csv(real_data("dominicks-lookups", "stores.csv"), header=None,
                         names=["store", "city", "tier", "zone", "zip", "address"])
    monday = dominicks_mondays()
    folder.mkdir(parents=True, exist_ok=True)
    in_oj = stores[stores["store"].isin(oj["store"].unique())]
    pd.DataFrame({
        "retailer_id": "DFF" + in_oj["store"].astype(str).str.zfill(3),
        "retailer_name": "Dominick's " + in_oj["city"],
        "channel": "grocery",
        "region": "Zone " + in_oj["zone"].astype(str),
        "kam": "Chicago team",
    }).to_csv(folder / "retailers.csv", index=False)
    pd.DataFrame({"sku_id": list(DFF_BRANDS), "sku_name": list(DFF_BRANDS.values()),
                  "brand": ["Tropicana", "Minute Maid", "Dominick's"], "category": "Refrigerated juice",
                  }).to_csv(folder / "products.csv", index=False)
    units = dominicks_units(oj)
    pd.DataFrame({
        "week": oj["week"].map(monday),
        "retailer_id": "DFF" + oj["store"].astype(str).str.zfill(3),
        "sku_id": oj["brand"],
        "units": units,
        "sales_value": (units * oj["price"]).round(2),
        "promo_flag": oj["feat"].map({1: "yes", 0: "no"}),
    }).to_csv(folder / "sell_out.csv", index=False)
    dominicks_promotions(oj, monday).to_csv(folder / "promotions.csv", index=False)
    return folder


def dominicks_promotions(oj: pd.DataFrame, monday: dict[int, str]) -> pd.DataFrame:
    """One event per run of consecutive feature-ad weeks of a store x brand; the discount is the price cut
    against the median price of that store x brand's weeks without a feature."""
    oj = oj.sort_values(["store", "brand", "week"])
    regular = oj[oj["feat"] == 0].groupby(["store", "brand"])["price"].median()
    featured = oj[oj["feat"] == 1].copy()
    new_run = (featured.groupby(["store", "brand"])["week"].diff() != 1)
    featured["run"] = new_run.cumsum()
    events = featured.groupby("run").agg(store=("store", "first"), brand=("brand", "first"),
                                         first=("week", "min"), last=("week", "max"), price=("price", "mean"))
    reg = regular.reindex(pd.MultiIndex.from_frame(events[["store", "brand"]])).to_numpy()
    discount = np.clip((1 - events["price"].to_numpy() / reg) * 100, 0, 100)
    start = pd.to_datetime(events["first"].map(monday))
    return pd.DataFrame({
        "promo_id": [f"DFF-F{i:05d}" for i in range(len(events))],
        "retailer_id": "DFF" + events["store"].astype(str).str.zfill(3).to_numpy(),
        "sku_id": events["brand"].to_numpy(),
        "start_date": start.dt.strftime("%Y-%m-%d").to_numpy(),
        "end_date": (pd.to_datetime(events["last"].map(monday)) + pd.Timedelta(days=6)).dt.strftime("%Y-%m-%d")
        .to_numpy(),
        "mechanic": "feature",
        "discount_pct": np.where(np.isfinite(discount), discount.round(1), np.nan),
    })


def walmart_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(retailers, products, sell_out as delivered: Friday week-ending dates, sales value only, returns negative)."""
    train = pd.read_csv(real_data("walmart-store-sales", "train.csv"))
    kinds = pd.read_csv(real_data("walmart-store-sales", "stores_unix.csv"))
    retailers = pd.DataFrame({
        "retailer_id": "WM" + kinds["Store"].astype(str).str.zfill(2),
        "retailer_name": "Walmart store " + kinds["Store"].astype(str),
        "channel": "mass",
        "region": "Type " + kinds["Type"],
        "kam": "Walmart team",
        "store_count": 1,
    })
    depts = np.sort(train["Dept"].unique())
    products = pd.DataFrame({"sku_id": [f"D{d:02d}" for d in depts], "sku_name": [f"Department {d}" for d in depts],
                             "brand": "Walmart", "category": "Department"})
    sell_out = pd.DataFrame({
        "week": train["Date"],
        "retailer_id": "WM" + train["Store"].astype(str).str.zfill(2),
        "sku_id": "D" + train["Dept"].astype(str).str.zfill(2),
        "sales_value": train["Weekly_Sales"],
    })
    return retailers, products, sell_out


def dominicks_store_folder(folder: Path) -> Path:
    """The orange juice panel as it should be: ONE retailer (Dominick's) with its 83 stores, store rows of
    sell-out (a `store_id` column), the store's price tier as its format."""
    oj = pd.read_csv(real_data("dominicks-oj", "oj.csv"))
    lookup = pd.read_csv(real_data("dominicks-lookups", "stores.csv"), header=None,
                         names=["store", "city", "tier", "zone", "zip", "address"])
    monday = dominicks_mondays()
    folder.mkdir(parents=True, exist_ok=True)
    in_oj = lookup[lookup["store"].isin(oj["store"].unique())]
    pd.DataFrame([{"retailer_id": "DFF", "retailer_name": "Dominick's Finer Foods", "channel": "grocery",
                   "region": "Chicago", "kam": "Chicago team", "store_count": len(in_oj)}]).to_csv(
        folder / "retailers.csv", index=False)
    pd.DataFrame({"sku_id": list(DFF_BRANDS), "sku_name": list(DFF_BRANDS.values()),
                  "brand": ["Tropicana", "Minute Maid", "Dominick's"], "category": "Refrigerated juice",
                  }).to_csv(folder / "products.csv", index=False)
    pd.DataFrame({
        "store_id": "DFF" + in_oj["store"].astype(str).str.zfill(3),
        "retailer_id": "DFF",
        "store_name": "Dominick's " + in_oj["city"],
        "region": "Zone " + in_oj["zone"].astype(str),
        "format": in_oj["tier"],
    }).to_csv(folder / "stores.csv", index=False)
    units = dominicks_units(oj)
    pd.DataFrame({
        "week": oj["week"].map(monday),
        "retailer_id": "DFF",
        "store_id": "DFF" + oj["store"].astype(str).str.zfill(3),
        "sku_id": oj["brand"],
        "units": units,
        "sales_value": (units * oj["price"]).round(2),
        "promo_flag": oj["feat"].map({1: "yes", 0: "no"}),
    }).to_csv(folder / "sell_out.csv", index=False)
    return folder


def walmart_store_folder(folder: Path) -> Path:
    """Walmart's store x department file as ONE retailer "Walmart" with 45 stores (format: store type, acv
    weight: store size); sell-out of value only, dated by the Friday ending each week (import with
    week_ending="fri")."""
    train = pd.read_csv(real_data("walmart-store-sales", "train.csv"))
    kinds = pd.read_csv(real_data("walmart-store-sales", "stores_unix.csv"))
    _, products, _ = walmart_frames()
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([{"retailer_id": "WM", "retailer_name": "Walmart", "channel": "mass", "region": "US",
                   "kam": "Walmart team", "store_count": len(kinds)}]).to_csv(folder / "retailers.csv", index=False)
    products.to_csv(folder / "products.csv", index=False)
    pd.DataFrame({
        "store_id": "WM" + kinds["Store"].astype(str).str.zfill(2),
        "retailer_id": "WM",
        "store_name": "Walmart store " + kinds["Store"].astype(str),
        "format": "Type " + kinds["Type"],
        "acv_weight": kinds["Size"],
    }).to_csv(folder / "stores.csv", index=False)
    pd.DataFrame({
        "week": train["Date"],
        "retailer_id": "WM",
        "store_id": "WM" + train["Store"].astype(str).str.zfill(2),
        "sku_id": "D" + train["Dept"].astype(str).str.zfill(2),
        "sales_value": train["Weekly_Sales"],
    }).to_csv(folder / "sell_out.csv", index=False)
    return folder
