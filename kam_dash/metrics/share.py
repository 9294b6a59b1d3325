"""Revenue share by retailer: the portfolio's Pareto, growth and plan at a glance."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from kam_dash import freshness
from kam_dash.engine import Engine
from kam_dash.export import export_metric
from kam_dash.filters import Filters
from kam_dash.metrics import plan
from kam_dash.scope import Scope, resolve, retailers_in_scope

DEFINITIONS = {
    "Net sales": "Sell-in net sales (our invoiced sales after discounts and credits, returns negative) of the "
    "weeks whose Monday falls in the period, up to sell-in's own latest week.",
    "Sell-out value": "Retailer point-of-sale value (store and online) of the same weeks; each retailer's sell-out "
    "stops at its own latest sell-out week, and a week it did not report is skipped (the page says how many).",
    "Basis": "One basis per view: where any retailer in view has sell-in in the period, shares, growth, A/B/C, "
    "the key-account score, tiers and health are of sell-in net sales (a retailer that reports sell-out only then "
    "has no share and is named); where none has sell-in (a sell-out-only account, or no sell-in table), they are "
    "of sell-out value, with attainment against the sell-out target. Exports name it in the `basis` column.",
    "Last year (LY)": "The last year of each week of the period that has one (see Last year): the week 52 weeks "
    "(364 days) earlier, never a 53-Monday year's first week; up to the table's own latest week.",
    "Growth vs last year": "Value of the weeks that have a last year divided by the value of their last-year "
    "weeks, minus 1 (0.05 = +5%); a 53rd Monday is left out of both sides. Empty where last year's value is "
    "missing, zero or negative. Sell-out growth compares, per retailer, only weeks where the week and its last "
    "year were both reported, and keeps last year's sales of SKUs that sell nothing this year.",
    "Revenue share": "A retailer's value (on the view's basis) divided by the value of all retailers in view. "
    "Cumulative share adds the shares in order of value, largest first.",
    "ABC class": "Of the whole portfolio: retailers ranked by value over every retailer (the period, category "
    "and brand filters apply; the retailer, channel and KAM filters do not, so picking some retailers never "
    "re-classes them), A while the cumulative share is at most 80%, B up to 95%, C beyond; the largest retailer "
    "is always A.",
    "Sell-out share": "A retailer's sell-out value divided by the sell-out value of all retailers in view.",
}

SHARE_COLUMNS = ["retailer_id", "retailer_name", "basis", "value", "share", "cum_share", "abc_class", "value_ly",
                 "yoy_growth", "net_sales", "net_sales_ly", "sell_out_value", "sell_out_value_ly", "sell_out_growth",
                 "sell_out_share", "unreported_weeks", "net_sales_target", "attainment"]
# What growth divides: the value of the weeks that have a (reported) last year. Kept beside the export's columns
# so the portfolio totals compare like with like.
_COMPARABLE = {"sell_in": "net_sales_comparable", "sell_out": "sell_out_comparable"}
INTERNAL_COLUMNS = ["value_comparable", "sell_out_comparable"]


def _sum_where(col, mask):
    return ibis.cases((mask, col), else_=0.0).sum()


def table_latest(engine: Engine, table: str) -> dt.date | None:
    """A table's own latest week (None when it holds no rows)."""
    return freshness.freshness(engine).table_latest.get(table)


def net_sales_by_retailer(engine: Engine, scope: Scope) -> pd.DataFrame:
    """Net sales of the period and, for growth, of its weeks that have a last year and of those last years, per
    retailer from one scan of sell-in (up to sell-in's own latest week)."""
    p = scope.period
    until = table_latest(engine, "sell_in") or p.end
    t = scope.weekly(engine.table("sell_in"), start=min(p.ly_start, p.start), end=p.end)
    in_period = t.week.between(p.start, min(p.end, until))
    comparable, ly = scope.comparable_mask(t.week, until), scope.ly_mask(t.week, until)
    expr = t.group_by("retailer_id").aggregate(
        net_sales=_sum_where(t.net_sales, in_period), net_sales_comparable=_sum_where(t.net_sales, comparable),
        net_sales_ly=_sum_where(t.net_sales, ly), has_cy=in_period.any(), has_ly=ly.any())
    frame = engine.execute(expr)
    frame.loc[~frame["has_cy"].astype(bool), ["net_sales", "net_sales_comparable"]] = np.nan
    frame.loc[~frame["has_ly"].astype(bool), "net_sales_ly"] = np.nan
    return frame.drop(columns=["has_cy", "has_ly"])


SELL_OUT_COLUMNS = ["retailer_id", "sell_out_value", "sell_out_comparable", "sell_out_value_ly",
                    "unreported_weeks"]


def weekly_sell_out(engine: Engine, scope: Scope, by: tuple[str, ...] = ("retailer_id",)) -> pd.DataFrame:
    """Sell-out value per `by` x week over the period and its last-year range (weeks as dates)."""
    p = scope.period
    t = scope.weekly(engine.table("sell_out"), start=min(p.ly_start, p.start), end=p.end)
    frame = engine.execute(t.group_by([*by, "week"]).aggregate(value=t.sales_value.sum()))
    frame["week"] = pd.to_datetime(frame["week"]).dt.date
    return frame


def sell_out_growth_parts(engine: Engine, scope: Scope, weekly: pd.DataFrame,
                          by: tuple[str, ...] = ("retailer_id",)) -> pd.DataFrame:
    """Per `by` (which holds retailer_id): sell_out_value (the period's weeks; each retailer's sell-out stops at
    its own latest week), and for growth sell_out_comparable / sell_out_value_ly: the weeks that the retailer
    reported both this year and last year (freshness.comparable_weeks) and their last years. Last year keeps
    every row of those weeks, so a SKU that sells nothing this year still counts last year (issue 10, item 4)."""
    p = scope.period
    by = list(by)
    cur = weekly[weekly["week"].between(p.start, p.end)].groupby(by)["value"].sum().rename("sell_out_value")
    pairs = freshness.comparable_weeks(engine, p, scope.retailer_ids)
    on_cur = weekly.merge(pairs[["retailer_id", "week"]], on=["retailer_id", "week"])
    on_ly = weekly.merge(pairs[["retailer_id", "ly_week"]].rename(columns={"ly_week": "week"}),
                         on=["retailer_id", "week"])
    frame = pd.concat([cur, on_cur.groupby(by)["value"].sum().rename("sell_out_comparable"),
                       on_ly.groupby(by)["value"].sum().rename("sell_out_value_ly")], axis=1)
    return frame.rename_axis(by).reset_index()


def unreported_by_retailer(engine: Engine, scope: Scope) -> pd.Series:
    """retailer_id -> weeks of the period in which it reported no sell-out (gaps, and weeks not arrived yet)."""
    p = scope.period
    if p.empty or not engine.has("sell_out"):
        return pd.Series(dtype=int)
    missing = freshness.unreported_weeks(engine, p.start, p.end, scope.retailer_ids)
    return missing.groupby("retailer_id").size()


def sell_out_by_retailer(engine: Engine, scope: Scope) -> pd.DataFrame:
    """SELL_OUT_COLUMNS per retailer (see sell_out_growth_parts and unreported_by_retailer)."""
    frame = sell_out_growth_parts(engine, scope, weekly_sell_out(engine, scope))
    frame = frame.dropna(subset=["sell_out_value"])  # a retailer with only last-year sell-out has none this period
    frame["unreported_weeks"] = frame["retailer_id"].map(unreported_by_retailer(engine, scope)).fillna(0).astype(int)
    return frame[SELL_OUT_COLUMNS]


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


def basis_of(frame: pd.DataFrame) -> str | None:
    """The view's one basis (see DEFINITIONS["Basis"]): sell_in where any retailer has net sales, else sell_out
    where any has sell-out value, else None."""
    if frame["net_sales"].notna().any():
        return "sell_in"
    if frame["sell_out_value"].notna().any():
        return "sell_out"
    return None


def targets_on(engine: Engine, scope: Scope, basis: str | None) -> pd.DataFrame:
    """retailer_id, target: the period's target on the basis (net sales up to sell-in's own latest week, or the
    sell-out target up to the period's end)."""
    p = scope.period
    if basis == "sell_out":
        weekly = plan.weekly_targets(engine, scope, p.start, p.end, measure="sell_out_target")
        return weekly.groupby("retailer_id", as_index=False)["target"].sum(min_count=1)
    end = min(p.end, table_latest(engine, "sell_in") or p.end)
    return plan.target_by_retailer(engine, scope, p.start, end)


def whole_portfolio(filters: Filters) -> Filters:
    """The same period, categories and brands over every retailer (no retailer, channel or KAM filter)."""
    return filters.with_(retailers=(), channels=(), kams=())


def revenue_share(engine: Engine, filters: Filters, scope: Scope | None = None) -> pd.DataFrame:
    """Revenue share by retailer on the view's basis, ranked by value (see DEFINITIONS)."""
    scope = resolve(engine, filters) if scope is None else scope
    if scope is None or scope.period.empty:
        return pd.DataFrame(columns=SHARE_COLUMNS + INTERNAL_COLUMNS)
    names = retailers_in_scope(engine, scope)[["retailer_id", "retailer_name"]]
    frame = names.copy()
    if engine.has("sell_in"):
        frame = frame.merge(net_sales_by_retailer(engine, scope), on="retailer_id", how="left")
    else:
        frame[["net_sales", "net_sales_comparable", "net_sales_ly"]] = np.nan
    if engine.has("sell_out"):
        frame = frame.merge(sell_out_by_retailer(engine, scope), on="retailer_id", how="left")
    else:
        frame[SELL_OUT_COLUMNS[1:]] = np.nan
    basis = basis_of(frame)
    frame["basis"] = basis
    targets = targets_on(engine, scope, basis).rename(columns={"target": "net_sales_target"})
    frame = frame.merge(targets, on="retailer_id", how="left")

    has_any = frame[["net_sales", "net_sales_ly", "sell_out_value", "net_sales_target"]].notna().any(axis=1)
    frame = frame[has_any].copy()
    value_col, ly_col = ("sell_out_value", "sell_out_value_ly") if basis == "sell_out" else ("net_sales",
                                                                                            "net_sales_ly")
    frame["value"], frame["value_ly"] = frame[value_col], frame[ly_col]
    frame["value_comparable"] = frame[_COMPARABLE.get(basis, "net_sales_comparable")]
    frame = frame.sort_values(["value", "retailer_id"], ascending=[False, True], na_position="last")
    total = frame["value"].sum(min_count=1)
    frame["share"] = frame["value"] / total if pd.notna(total) and total > 0 else np.nan
    frame["cum_share"] = frame["share"].cumsum()
    frame["abc_class"] = abc_classes(frame["cum_share"]) if frame["share"].notna().any() else None
    frame.loc[frame["share"].isna(), ["cum_share", "abc_class"]] = None
    if scope.retailer_ids is not None:  # classes are of the whole portfolio, whatever retailers are in view
        whole = revenue_share(engine, whole_portfolio(filters))
        frame["abc_class"] = frame["retailer_id"].map(dict(zip(whole["retailer_id"], whole["abc_class"])))
    frame["yoy_growth"] = growth(frame["value_comparable"], frame["value_ly"])
    frame["sell_out_growth"] = growth(frame["sell_out_comparable"], frame["sell_out_value_ly"])
    so_total = frame["sell_out_value"].sum(min_count=1)
    frame["sell_out_share"] = frame["sell_out_value"] / so_total if pd.notna(so_total) and so_total > 0 else np.nan
    frame["attainment"] = frame["value"] / frame["net_sales_target"].where(frame["net_sales_target"] > 0)
    return frame[SHARE_COLUMNS + INTERNAL_COLUMNS].reset_index(drop=True)


def portfolio_kpis(engine: Engine, filters: Filters, shares: pd.DataFrame | None = None) -> dict[str, float | None]:
    """The Portfolio tiles: totals over the retailers in view, on the view's basis (see DEFINITIONS)."""
    shares = revenue_share(engine, filters) if shares is None else shares

    def total(col: str) -> float | None:
        value = shares[col].sum(min_count=1) if len(shares) else np.nan
        return None if pd.isna(value) else float(value)

    # Growth and attainment compare like with like: only retailers that have both sides.
    both_ly = shares.dropna(subset=["value_comparable", "value_ly"])
    both_t = shares.dropna(subset=["value", "net_sales_target"])
    so_ly = shares.dropna(subset=["sell_out_comparable", "sell_out_value_ly"])
    ly_sum, t_sum = both_ly["value_ly"].sum(), both_t["net_sales_target"].sum()
    so_ly_sum = so_ly["sell_out_value_ly"].sum() if len(so_ly) else 0.0
    basis = shares["basis"].dropna().iloc[0] if len(shares) and shares["basis"].notna().any() else None
    return {
        "basis": basis,
        "value": total("value"),
        "net_sales": total("net_sales"),
        "net_sales_ly": total("net_sales_ly"),
        "sell_out_value": total("sell_out_value"),
        "net_sales_target": total("net_sales_target"),
        "unreported_weeks": int(shares["unreported_weeks"].fillna(0).sum()) if len(shares) else 0,
        "yoy_growth": float(both_ly["value_comparable"].sum() / ly_sum - 1) if len(both_ly) and ly_sum > 0 else None,
        "sell_out_growth": float(so_ly["sell_out_comparable"].sum() / so_ly_sum - 1)
        if len(so_ly) and so_ly_sum > 0 else None,
        "attainment": float(both_t["value"].sum() / t_sum) if len(both_t) and t_sum > 0 else None,
    }


@export_metric("revenue-share", columns=SHARE_COLUMNS)
def export_revenue_share(engine: Engine, filters: Filters) -> pd.DataFrame:
    return revenue_share(engine, filters)[SHARE_COLUMNS]
