"""One retailer's range gaps: products it does not list that sell well in comparable accounts.

`range_gaps_of` is pure pandas on hand-made tables (the unit tests build them); `retailer_range_gaps` reads the
period's sales per retailer and SKU and calls it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kam_dash import scope as scopes
from kam_dash.engine import Engine
from kam_dash.filters import Filters
from kam_dash.scope import resolve

MIN_PEERS = 2  # fewer comparable accounts in the retailer's channel than this: compare with every other account

DEFINITIONS = {
    "Range gaps": "Products the retailer does not list (no sales in the period) that comparable accounts sell. "
    "Comparable accounts are the other retailers of its channel with sales in the period, or every other retailer "
    f"with sales when its channel has fewer than {MIN_PEERS}. For each product: the accounts listing it (selling it "
    "in the period) out of the comparable ones, its mean share of a listing account's sales, and an estimated "
    "value = listing share x mean share x the retailer's own sales in the period: what the product would sell "
    "here at the rate of a comparable account picked at random (an account that does not list it counts 0). "
    "Ranked by estimated value, largest first. Sales are net sales (sell-in) where the retailer has sell-in in "
    "the period, else sell-out value, for every account alike.",
}

RANGE_GAP_COLUMNS = ["sku_id", "sku_name", "brand", "category", "accounts_listing", "comparable_accounts",
                     "listing_share", "mean_share_where_listed", "est_value"]


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c in ("listing_share", "mean_share_where_listed",
                                                           "est_value") else object) for c in RANGE_GAP_COLUMNS})


def comparable_accounts(retailers: pd.DataFrame, selling: set[str], retailer_id: str) -> tuple[list[str], str]:
    """The accounts a retailer is compared with and how they were chosen ("same channel" or "all accounts")."""
    others = retailers[(retailers["retailer_id"] != retailer_id) & retailers["retailer_id"].isin(selling)]
    mine = retailers.loc[retailers["retailer_id"] == retailer_id, "channel"]
    if len(mine) and pd.notna(mine.iloc[0]):
        same = others[others["channel"] == mine.iloc[0]]
        if len(same) >= MIN_PEERS:
            return sorted(same["retailer_id"]), "same channel"
    return sorted(others["retailer_id"]), "all accounts"


def range_gaps_of(sales: pd.DataFrame, retailers: pd.DataFrame, products: pd.DataFrame,
                  retailer_id: str) -> pd.DataFrame:
    """See DEFINITIONS["Range gaps"]. sales: retailer_id, sku_id, value (the period's sales per account and SKU);
    retailers: retailer_id, channel; products: sku_id, sku_name, brand, category. RANGE_GAP_COLUMNS, ranked."""
    sales = sales[sales["value"] > 0]
    totals = sales.groupby("retailer_id")["value"].sum()
    own_total = float(totals.get(retailer_id, 0.0))
    if own_total <= 0:
        return _empty()  # a retailer that sells nothing has no range to compare
    peers, _ = comparable_accounts(retailers, set(totals.index), retailer_id)
    if not peers:
        return _empty()
    listed_here = set(sales.loc[sales["retailer_id"] == retailer_id, "sku_id"])
    peer_sales = sales[sales["retailer_id"].isin(peers) & ~sales["sku_id"].isin(listed_here)]
    if peer_sales.empty:
        return _empty()
    share = peer_sales["value"] / peer_sales["retailer_id"].map(totals)
    by_sku = peer_sales.assign(share=share).groupby("sku_id").agg(
        accounts_listing=("retailer_id", "nunique"), mean_share_where_listed=("share", "mean")).reset_index()
    by_sku["comparable_accounts"] = len(peers)
    by_sku["listing_share"] = by_sku["accounts_listing"] / len(peers)
    by_sku["est_value"] = by_sku["listing_share"] * by_sku["mean_share_where_listed"] * own_total
    names = products.reindex(columns=["sku_id", "sku_name", "brand", "category"])
    out = by_sku.merge(names, on="sku_id", how="left")
    out["sku_name"] = out["sku_name"].fillna(out["sku_id"])
    out = out.sort_values(["est_value", "sku_id"], ascending=[False, True])
    return out[RANGE_GAP_COLUMNS].reset_index(drop=True)


def period_sales(engine: Engine, filters: Filters, retailer_id: str) -> pd.DataFrame:
    """The period's sales per retailer and SKU over every retailer the other filters leave in view: net sales
    where the retailer has sell-in in the period, else sell-out value (columns retailer_id, sku_id, value)."""
    scope = resolve(engine, filters.with_(retailers=()))
    empty = pd.DataFrame({"retailer_id": pd.Series(dtype=object), "sku_id": pd.Series(dtype=object),
                          "value": pd.Series(dtype=float)})
    if scope is None:
        return empty
    frame = empty
    for table, column in (("sell_in", "net_sales"), ("sell_out", "sales_value")):
        if not engine.has(table):
            continue
        t = scope.weekly(engine.table(table))
        frame = engine.execute(t.group_by("retailer_id", "sku_id").aggregate(value=t[column].sum()))
        if (frame["retailer_id"] == retailer_id).any():
            break
    frame["value"] = frame["value"].astype(float)
    return frame


def retailer_range_gaps(engine: Engine, filters: Filters, retailer_id: str) -> pd.DataFrame:
    """One retailer's range gaps for the period and filters in force (see DEFINITIONS["Range gaps"])."""
    sales = period_sales(engine, filters, retailer_id)
    return range_gaps_of(sales, scopes.retailers(engine), scopes.products(engine), retailer_id)


# DEFINITIONS is not exported by name: the package merges it into its own (kam_dash.metrics.account.DEFINITIONS).
__all__ = ["MIN_PEERS", "RANGE_GAP_COLUMNS", "comparable_accounts", "period_sales", "range_gaps_of",
           "retailer_range_gaps"]
