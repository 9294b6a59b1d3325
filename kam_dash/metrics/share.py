"""Revenue share by retailer: the portfolio's Pareto, growth and plan at a glance."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from kam_dash.engine import Engine
from kam_dash.export import export_metric
from kam_dash.filters import Filters
from kam_dash.metrics import plan
from kam_dash.scope import Scope, resolve, retailers_in_scope

DEFINITIONS = {
    "Net sales": "Sell-in net sales (our invoiced sales after discounts and credits, returns negative) of the "
    "weeks whose Monday falls in the period.",
    "Sell-out value": "Retailer point-of-sale value (store and online) of the same weeks.",
    "Last year (LY)": "The same ISO weeks 52 weeks earlier.",
    "Growth vs last year": "Net sales divided by last year's net sales, minus 1 (0.05 = +5%). Empty where last "
    "year's net sales are missing, zero or negative.",
    "Revenue share": "A retailer's net sales divided by the net sales of all retailers in view. Cumulative share "
    "adds the shares in order of net sales, largest first.",
    "ABC class": "A while the cumulative share is at most 80%, B up to 95%, C beyond; the largest retailer is "
    "always A.",
    "Sell-out share": "A retailer's sell-out value divided by the sell-out value of all retailers in view.",
}

SHARE_COLUMNS = ["retailer_id", "retailer_name", "net_sales", "share", "cum_share", "abc_class", "net_sales_ly",
                 "yoy_growth", "sell_out_value", "sell_out_share", "net_sales_target", "attainment"]


def _sum_between(col, week, start, end):
    return ibis.cases((week.between(start, end), col), else_=0.0).sum()


def net_sales_by_retailer(engine: Engine, scope: Scope) -> pd.DataFrame:
    """Net sales this period and last year per retailer, from one scan of sell-in."""
    p = scope.period
    t = scope.weekly(engine.table("sell_in"), start=p.ly_start, end=p.end)
    expr = t.group_by("retailer_id").aggregate(
        net_sales=_sum_between(t.net_sales, t.week, p.start, p.end),
        net_sales_ly=_sum_between(t.net_sales, t.week, p.ly_start, p.ly_end),
        has_cy=t.week.between(p.start, p.end).any(),
        has_ly=t.week.between(p.ly_start, p.ly_end).any(),
    )
    frame = engine.execute(expr)
    frame.loc[~frame["has_cy"].astype(bool), "net_sales"] = np.nan
    frame.loc[~frame["has_ly"].astype(bool), "net_sales_ly"] = np.nan
    return frame.drop(columns=["has_cy", "has_ly"])


def sell_out_by_retailer(engine: Engine, scope: Scope) -> pd.DataFrame:
    t = scope.weekly(engine.table("sell_out"))
    return engine.execute(t.group_by("retailer_id").aggregate(sell_out_value=t.sales_value.sum()))


def growth(current: pd.Series, last_year: pd.Series) -> pd.Series:
    """current / last_year - 1, empty where last year is missing or not positive."""
    ly = last_year.where(last_year > 0)
    return current / ly - 1


def abc_classes(cum_share: pd.Series) -> list[str]:
    """A while cumulative share <= 80%, B up to 95%, C beyond; the first (largest) is always A."""
    out = []
    for i, c in enumerate(cum_share):
        if i == 0 or c <= 0.80 + 1e-12:
            out.append("A")
        elif c <= 0.95 + 1e-12:
            out.append("B")
        else:
            out.append("C")
    return out


def revenue_share(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Revenue share by retailer, ranked by net sales (see DEFINITIONS)."""
    scope = resolve(engine, filters)
    if scope is None:
        return pd.DataFrame(columns=SHARE_COLUMNS)
    names = retailers_in_scope(engine, scope)[["retailer_id", "retailer_name"]]
    frame = names.copy()
    if engine.has("sell_in"):
        frame = frame.merge(net_sales_by_retailer(engine, scope), on="retailer_id", how="left")
    else:
        frame["net_sales"] = np.nan
        frame["net_sales_ly"] = np.nan
    if engine.has("sell_out"):
        frame = frame.merge(sell_out_by_retailer(engine, scope), on="retailer_id", how="left")
    else:
        frame["sell_out_value"] = np.nan
    targets = plan.target_by_retailer(engine, scope).rename(columns={"target": "net_sales_target"})
    frame = frame.merge(targets, on="retailer_id", how="left")
    if "net_sales_target" not in frame:
        frame["net_sales_target"] = np.nan

    has_any = frame[["net_sales", "net_sales_ly", "sell_out_value", "net_sales_target"]].notna().any(axis=1)
    frame = frame[has_any].copy()
    frame = frame.sort_values(["net_sales", "retailer_id"], ascending=[False, True], na_position="last")
    total = frame["net_sales"].sum(min_count=1)
    frame["share"] = frame["net_sales"] / total if pd.notna(total) and total > 0 else np.nan
    frame["cum_share"] = frame["share"].cumsum()
    frame["abc_class"] = abc_classes(frame["cum_share"]) if frame["share"].notna().any() else None
    frame.loc[frame["share"].isna(), ["cum_share", "abc_class"]] = None
    frame["yoy_growth"] = growth(frame["net_sales"], frame["net_sales_ly"])
    so_total = frame["sell_out_value"].sum(min_count=1)
    frame["sell_out_share"] = frame["sell_out_value"] / so_total if pd.notna(so_total) and so_total > 0 else np.nan
    frame["attainment"] = frame["net_sales"] / frame["net_sales_target"].where(frame["net_sales_target"] > 0)
    return frame[SHARE_COLUMNS].reset_index(drop=True)


def portfolio_kpis(engine: Engine, filters: Filters, shares: pd.DataFrame | None = None) -> dict[str, float | None]:
    """The Portfolio tiles: totals over the retailers in view (see DEFINITIONS)."""
    shares = revenue_share(engine, filters) if shares is None else shares

    def total(col: str) -> float | None:
        value = shares[col].sum(min_count=1) if len(shares) else np.nan
        return None if pd.isna(value) else float(value)

    net, ly, target = total("net_sales"), total("net_sales_ly"), total("net_sales_target")
    # Growth and attainment compare like with like: only retailers that have both sides.
    both_ly = shares.dropna(subset=["net_sales", "net_sales_ly"])
    both_t = shares.dropna(subset=["net_sales", "net_sales_target"])
    ly_sum = both_ly["net_sales_ly"].sum()
    t_sum = both_t["net_sales_target"].sum()
    return {
        "net_sales": net,
        "net_sales_ly": ly,
        "sell_out_value": total("sell_out_value"),
        "net_sales_target": target,
        "yoy_growth": float(both_ly["net_sales"].sum() / ly_sum - 1) if len(both_ly) and ly_sum > 0 else None,
        "attainment": float(both_t["net_sales"].sum() / t_sum) if len(both_t) and t_sum > 0 else None,
    }


@export_metric("revenue-share", columns=SHARE_COLUMNS)
def export_revenue_share(engine: Engine, filters: Filters) -> pd.DataFrame:
    return revenue_share(engine, filters)
