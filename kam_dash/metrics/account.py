"""Key accounts: the key-account score and tiers, account health, and one retailer's review.

The review covers plan and landing by month, sell-in vs sell-out (pipeline), category white space, SKUs, and
store vs online.

The Portfolio page reads `portfolio_page_data`; the Account review page reads `account_page_data`. Both
return small frames; the key-account score is pure arithmetic on the portfolio's account table
(`score_accounts`), so moving a weight on the page re-scores without querying again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd

from kam_dash import scope as scopes
from kam_dash.engine import Engine
from kam_dash.export import export_metric
from kam_dash.filters import PERIODS, Filters
from kam_dash.metrics import plan, share
from kam_dash.scope import Scope, resolve

# The score's components: account-table column -> label. Weights are given in this order.
COMPONENTS = {"share": "Revenue share", "yoy_growth": "Growth vs LY", "margin_pct": "Margin %",
              "strategic_priority": "Strategic priority"}
DEFAULT_WEIGHTS = {"share": 0.4, "yoy_growth": 0.3, "margin_pct": 0.2, "strategic_priority": 0.1}
# Tier cut-offs in whole percent of the scored accounts: Strategic = top 10%, Key = the next 20%.
DEFAULT_TIER_PCTS = (10, 20)
TIERS = ("Strategic", "Key", "Maintain")

# Health thresholds (fractions). A status is the worst of the criteria that can be judged.
ATTAINMENT_RED, ATTAINMENT_AMBER = 0.95, 1.00
GROWTH_RED, GROWTH_AMBER = -0.05, 0.0
IN_STOCK_RED, IN_STOCK_AMBER = 0.90, 0.95
HEALTH_ORDER = {"red": 0, "amber": 1, "green": 2, "unknown": 3}

DEFINITIONS = {
    "Gross margin": "(Net sales - units x unit cost) / net sales, over the sell-in of SKUs that have a unit cost "
    "in the products table (a cost of 0 counts). Cost coverage is the share of net sales from SKUs with a cost; "
    "the margin says nothing about the rest. Empty where the costed net sales are zero or negative.",
    "Accounts off plan": "Retailers whose net sales are below the target of the same weeks (attainment under "
    "100%), out of the retailers that have a target in the period.",
    "Plan share": "A retailer's target for the period divided by the targets of all retailers in view, shown beside "
    "its actual share of net sales.",
    "Key-account score": "A weighted sum of four components, each min-max normalised across the retailers in view "
    "((value - lowest) / (highest - lowest), so 0 to 1): revenue share, growth vs last year, margin % and strategic "
    "priority (1-5 from the retailers table). Default weights 0.4 / 0.3 / 0.2 / 0.1; the weights are divided by "
    "their sum, so the score runs from 0 to 1. A missing value (no net sales, no last year, no unit costs, no "
    "priority) counts as the lowest (0). Where every retailer has the same value, that component is 1 for all.",
    "Tiers": "Retailers are ranked by score, highest first; tied scores share the better rank (the number of "
    "retailers with a strictly higher score, plus one). With n retailers, rank <= ceil(10% x n) is Strategic, "
    "rank <= ceil(30% x n) is Key (the next 20%), the rest Maintain. The two cut-offs can be changed on the page; "
    "with 24 retailers the defaults give 3 Strategic and 5 Key.",
    "Health": "Red / amber / green per retailer, the worst of three criteria judged on the year to date (1 January "
    "of the latest data year to the latest loaded week), whatever the period chosen: plan attainment (red below "
    "95%, amber below 100%), growth vs last year (red below -5%, amber below 0%) and, where inventory is loaded, "
    "the in-stock rate (red below 90%, amber below 95%). A criterion without data (no target, no last year, no "
    "inventory) is not judged and is named in the reason; with none judged the status is 'unknown'.",
    "Needs attention": "Red accounts first, then amber; within each, the larger account (net sales) first. The "
    "reason lists the failing criteria, worst first.",
    "Monthly net sales vs target": "Net sales by month (a week belongs to the month its Monday falls in) for the "
    "calendar year of the latest loaded week (or the chosen year), beside last year's same ISO weeks and the "
    "month's target. The dashed line continues the months after the latest loaded week with the landing estimate "
    "(see Plan: Landing estimate).",
    "Pipeline fill": "Cumulative sell-in units minus cumulative sell-out units from the first week of the period: "
    "the implied change in the retailer's stock (positive = stock building up). A week with no sell-out row sold "
    "0 units; a retailer with no sell-out row at all in the period does not report sell-out and has no pipeline.",
    "Category mix and white space": "Each category's share of the retailer's net sales beside its share of the "
    "portfolio's (all retailers in view, ignoring the retailer filter). White-space opportunity = (portfolio share "
    "- retailer share) x the retailer's total net sales where positive, else 0: the sales the retailer would add "
    "if its mix matched the portfolio's. Ranked largest first.",
    "SKU growth and contribution": "Per SKU: net sales this period and last year, growth (this / last - 1, empty "
    "without positive last-year sales) and contribution to change = (this - last year) / the retailer's "
    "last-year net sales, so the contributions add up to the retailer's growth. Store and online sell-out value "
    "are shown where the retailer reports online sales.",
    "Store vs online": "Weekly sell-out value by sales channel (store, online) and the online share of it.",
}

# The definitions each page's "How is this computed?" shows.
PORTFOLIO_TERMS = ("Gross margin", "Accounts off plan", "Plan share", "Key-account score", "Tiers", "Health",
                   "Needs attention")
REVIEW_TERMS = tuple(k for k in DEFINITIONS if k not in PORTFOLIO_TERMS or k == "Gross margin")

ACCOUNT_SCORE_COLUMNS = ["retailer_id", "retailer_name", "net_sales", "share", "yoy_growth", "margin_pct",
                         "strategic_priority", "score", "tier", "health", "health_reason"]
WHITE_SPACE_COLUMNS = ["retailer_id", "category", "retailer_sales", "retailer_share", "portfolio_share",
                       "opportunity"]
PIPELINE_COLUMNS = ["retailer_id", "week", "sell_in_units", "sell_out_units", "cum_pipeline_units"]


# -- shared helpers ---------------------------------------------------------------------------------------------
def _ytd(filters: Filters) -> Filters:
    return filters.with_(period="ytd", year=None, start=None, end=None)


def _sum_between(col, week, start, end):
    return ibis.cases((week.between(start, end), col), else_=0.0).sum()


def period_weeks(scope: Scope) -> list[dt.date]:
    """The Mondays in the period up to the latest loaded week."""
    p = scope.period
    day = p.start + dt.timedelta(days=(7 - p.start.weekday()) % 7)
    out = []
    while day <= min(p.end, p.latest_week):
        out.append(day)
        day += dt.timedelta(weeks=1)
    return out


def period_label(engine: Engine, filters: Filters) -> str:
    """The period in words with its dates, e.g. 'Year to date, 05 Jan 2026 to 16 Nov 2026'."""
    latest = scopes.latest_week(engine)
    if latest is None:
        return PERIODS[filters.period]
    period = resolve(engine, filters).period
    label = f"Full year {filters.year or latest.year}" if filters.period == "year" else PERIODS[filters.period]
    return f"{label}, {period.describe_dates()}"


def _one_retailer(engine: Engine, filters: Filters, what: str) -> str:
    """The single retailer an account-level export is about (from --retailer)."""
    if len(filters.retailers) != 1:
        raise ValueError(f"{what} is about one retailer: give exactly one --retailer (got {len(filters.retailers)})")
    rid = filters.retailers[0]
    if rid not in set(scopes.retailers(engine)["retailer_id"]):
        raise ValueError(f"unknown retailer {rid!r}")
    return rid


# -- margin -----------------------------------------------------------------------------------------------------
EXTRA_COLUMNS = ["retailer_id", "net_sales_costed", "cost", "margin_pct", "ytd_net_sales", "ytd_net_sales_ly"]


def margin_and_ytd(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Per retailer, from one scan of sell-in: the period's net sales of SKUs with a unit cost, their cost
    (units x unit cost) and margin_pct; and, when the period is not the year to date, YTD net sales and last
    year's (empty without a row in those weeks; under a YTD period the columns are left empty)."""
    scope = resolve(engine, filters)
    if scope is None or not engine.has("sell_in"):
        return pd.DataFrame(columns=EXTRA_COLUMNS)
    p = scope.period
    y = None if filters.period == "ytd" else resolve(engine, _ytd(filters)).period
    t = scope.weekly(engine.table("sell_in"), start=p.start if y is None else min(p.start, y.ly_start),
                     end=p.end if y is None else max(p.end, y.end))
    if engine.has("products"):
        prods = engine.table("products")
        costs = prods.filter(prods.unit_cost.notnull()).select(cost_sku=prods.sku_id, unit_cost=prods.unit_cost)
        t = t.left_join(costs, t.sku_id == costs.cost_sku)
    aggs = {}
    if y is not None:
        aggs = dict(ytd_net_sales=_sum_between(t.net_sales, t.week, y.start, y.end),
                    ytd_net_sales_ly=_sum_between(t.net_sales, t.week, y.ly_start, y.ly_end),
                    has_ytd=t.week.between(y.start, y.end).any(), has_ly=t.week.between(y.ly_start, y.ly_end).any())
    if engine.has("products"):
        costed = t.week.between(p.start, p.end) & t.unit_cost.notnull()
        aggs.update(net_sales_costed=ibis.cases((costed, t.net_sales), else_=0.0).sum(),
                    cost=ibis.cases((costed, t.units * t.unit_cost), else_=0.0).sum(),
                    has_cost=costed.any())
    if not aggs:
        return pd.DataFrame(columns=EXTRA_COLUMNS)
    frame = engine.execute(t.group_by("retailer_id").aggregate(**aggs))
    for col in EXTRA_COLUMNS[1:]:
        if col not in frame:
            frame[col] = np.nan
    if "has_cost" in frame:
        frame.loc[~frame["has_cost"].astype(bool), ["net_sales_costed", "cost"]] = np.nan
    if "has_ytd" in frame:
        frame.loc[~frame["has_ytd"].astype(bool), "ytd_net_sales"] = np.nan
        frame.loc[~frame["has_ly"].astype(bool), "ytd_net_sales_ly"] = np.nan
    frame["margin_pct"] = margin(frame["net_sales_costed"], frame["cost"])
    return frame[EXTRA_COLUMNS]


def margin(net_sales_costed, cost):
    """(net sales - cost) / net sales, empty where the costed net sales are not positive."""
    ns = pd.Series(net_sales_costed, dtype=float) if not isinstance(net_sales_costed, pd.Series) else net_sales_costed
    return (ns - cost) / ns.where(ns > 0)


# -- health -----------------------------------------------------------------------------------------------------
def _grade(value, red: float, amber: float) -> str | None:
    if value is None or pd.isna(value):
        return None
    return "red" if value < red else "amber" if value < amber else "green"


def health(attainment, growth, in_stock=None, availability_loaded: bool = False) -> tuple[str, str]:
    """One retailer's status and its reason in words (see DEFINITIONS["Health"]).

    availability_loaded: inventory data exists, so a missing in-stock rate is named as missing.
    """
    judged = []  # (grade, phrase)
    missing = []
    a = _grade(attainment, ATTAINMENT_RED, ATTAINMENT_AMBER)
    if a is None:
        missing.append("no target for the year so far")
    else:
        limit = {"red": " (below 95%)", "amber": " (below 100%)", "green": ""}[a]
        judged.append((a, f"YTD net sales at {attainment * 100:.1f}% of plan{limit}"))
    g = _grade(growth, GROWTH_RED, GROWTH_AMBER)
    if g is None:
        missing.append("no last-year sales to compare")
    else:
        word = "down" if growth < 0 else "up"
        limit = {"red": " (worse than -5%)", "amber": "", "green": ""}[g]
        judged.append((g, f"YTD net sales {word} {abs(growth) * 100:.1f}% on last year{limit}"))
    s = _grade(in_stock, IN_STOCK_RED, IN_STOCK_AMBER)
    if s is not None:
        limit = {"red": " (below 90%)", "amber": " (below 95%)", "green": ""}[s]
        judged.append((s, f"in-stock rate {in_stock * 100:.1f}% YTD{limit}"))
    elif availability_loaded:
        missing.append("no availability data")
    if not judged:
        return "unknown", "Not rated: " + ", ".join(missing) + "."
    status = min((grade for grade, _ in judged), key=HEALTH_ORDER.get)
    if status == "green":
        phrases = [p for _, p in judged]
    else:  # the failing criteria only, worst first
        phrases = [p for grade, p in sorted(judged, key=lambda gp: HEALTH_ORDER[gp[0]]) if grade != "green"]
    text = "; ".join(phrases + missing)
    return status, text[0].upper() + text[1:] + "."


def _availability(engine: Engine, filters: Filters) -> pd.DataFrame | None:
    """In-stock rate per retailer from the inventory module, or None while it is not available."""
    if not engine.has("inventory"):
        return None
    try:
        from kam_dash.metrics.inventory import availability_by_retailer
    except ImportError:  # the inventory domain is built in parallel; health then goes without it
        return None
    return availability_by_retailer(engine, filters)


# -- the portfolio's account table ------------------------------------------------------------------------------
ACCOUNT_COLUMNS = ["retailer_id", "retailer_name", "channel", "net_sales", "share", "yoy_growth", "margin_pct",
                   "strategic_priority", "net_sales_target", "attainment", "plan_share", "ytd_attainment",
                   "ytd_growth", "in_stock_rate", "health", "health_reason"]


def accounts(engine: Engine, filters: Filters, shares: pd.DataFrame | None = None,
             extras: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every retailer in view with the score's components and its health (unscored; see score_accounts).

    shares / extras: revenue_share and margin_and_ytd of the same filters, when already computed.
    """
    shares = share.revenue_share(engine, filters) if shares is None else shares
    scope = resolve(engine, filters)
    if scope is None or shares.empty:
        return pd.DataFrame(columns=ACCOUNT_COLUMNS)
    extras = margin_and_ytd(engine, filters) if extras is None else extras
    dims = scopes.retailers(engine)[["retailer_id", "channel", "strategic_priority"]]
    frame = shares.merge(dims, on="retailer_id", how="left")
    frame = frame.merge(extras[["retailer_id", "margin_pct"]], on="retailer_id", how="left")
    total_target = frame["net_sales_target"].sum(min_count=1)
    frame["plan_share"] = frame["net_sales_target"] / total_target if total_target and total_target > 0 else np.nan

    frame = frame.merge(ytd_plan_and_growth(engine, filters, shares, extras), on="retailer_id", how="left")
    avail = _availability(engine, _ytd(filters))
    if avail is None:
        frame["in_stock_rate"] = np.nan
    else:
        frame = frame.merge(avail[["retailer_id", "in_stock_rate"]], on="retailer_id", how="left")
    graded = [health(_num(r.ytd_attainment), _num(r.ytd_growth), _num(r.in_stock_rate), avail is not None)
              for r in frame.itertuples()]
    frame["health"] = [g[0] for g in graded]
    frame["health_reason"] = [g[1] for g in graded]
    frame["strategic_priority"] = pd.to_numeric(frame["strategic_priority"], errors="coerce")
    return frame[ACCOUNT_COLUMNS].reset_index(drop=True)


def ytd_plan_and_growth(engine: Engine, filters: Filters, shares: pd.DataFrame,
                        extras: pd.DataFrame) -> pd.DataFrame:
    """Per retailer: ytd_attainment and ytd_growth, as revenue_share computes them for the year to date.

    Under a YTD period they are the shares' own; otherwise from margin_and_ytd's sums and the YTD targets.
    """
    if filters.period == "ytd":
        ytd = shares[["retailer_id", "attainment", "yoy_growth"]]
    else:
        target = plan.target_by_retailer(engine, resolve(engine, _ytd(filters)))
        ytd = extras[["retailer_id", "ytd_net_sales", "ytd_net_sales_ly"]].merge(target, on="retailer_id",
                                                                                  how="outer")
        ytd["yoy_growth"] = share.growth(ytd["ytd_net_sales"], ytd["ytd_net_sales_ly"])
        ytd["attainment"] = ytd["ytd_net_sales"] / ytd["target"].where(ytd["target"] > 0)
    return ytd[["retailer_id", "attainment", "yoy_growth"]].rename(
        columns={"attainment": "ytd_attainment", "yoy_growth": "ytd_growth"})


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def normalise(values: pd.Series) -> pd.Series:
    """Min-max to 0..1 across the values present; missing -> 0; all equal -> 1 (see DEFINITIONS)."""
    v = pd.to_numeric(values, errors="coerce").astype(float)
    present = v.dropna()
    if present.empty:
        return pd.Series(0.0, index=v.index)
    lo, hi = present.min(), present.max()
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        out = pd.Series(1.0, index=v.index)
    else:
        out = (v - lo) / (hi - lo)
    return out.where(v.notna(), 0.0)


def tier_counts(n: int, tier_pcts: tuple[int, int] = DEFAULT_TIER_PCTS) -> tuple[int, int]:
    """The rank limits of Strategic and Key among n accounts: ceil(p1% x n) and ceil((p1+p2)% x n).

    Whole percents in integer arithmetic, so 30% of 10 is exactly 3 (in floats 0.3 * 10 > 3).
    """
    p1, p2 = int(tier_pcts[0]), int(tier_pcts[1])
    if p1 < 0 or p2 < 0 or p1 + p2 > 100:
        raise ValueError("tier cut-offs must be non-negative whole percents adding up to at most 100")
    return -(-p1 * n // 100), -(-(p1 + p2) * n // 100)


def score_accounts(table: pd.DataFrame, weights: dict[str, float] | None = None,
                   tier_pcts: tuple[int, int] = DEFAULT_TIER_PCTS) -> pd.DataFrame:
    """The account table with score, rank and tier, sorted by score (see DEFINITIONS)."""
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    if any(w < 0 for w in weights.values()):
        raise ValueError("score weights cannot be negative")
    total_weight = sum(weights[c] for c in COMPONENTS)
    if total_weight <= 0:
        raise ValueError("give at least one score weight above zero")
    out = table.copy()
    score = pd.Series(0.0, index=out.index)
    for col in COMPONENTS:
        score += weights[col] / total_weight * normalise(out[col])
    # Rounded so that equal inputs summed in a different order still tie.
    out["score"] = score.round(10)
    out["rank"] = (out["score"].rank(method="min", ascending=False)).astype(int) if len(out) else []
    strategic, key = tier_counts(len(out), tier_pcts)
    out["tier"] = np.where(out["rank"] <= strategic, TIERS[0], np.where(out["rank"] <= key, TIERS[1], TIERS[2]))
    out = out.sort_values(["rank", "net_sales", "retailer_id"], ascending=[True, False, True], na_position="last")
    return out.reset_index(drop=True)


def tier_members(scored: pd.DataFrame) -> dict[str, list[str]]:
    """Retailer names per tier, best score first (every tier present, possibly empty)."""
    return {tier: list(scored.loc[scored["tier"] == tier, "retailer_name"]) for tier in TIERS}


def needing_attention(scored: pd.DataFrame) -> pd.DataFrame:
    """Red then amber accounts, larger first (see DEFINITIONS["Needs attention"])."""
    flagged = scored[scored["health"].isin(["red", "amber"])].copy()
    flagged["_order"] = flagged["health"].map(HEALTH_ORDER)
    flagged = flagged.sort_values(["_order", "net_sales", "retailer_id"], ascending=[True, False, True],
                                  na_position="last")
    return flagged.drop(columns="_order").reset_index(drop=True)


def portfolio_margin(by_retailer: pd.DataFrame, total_net_sales) -> dict[str, float | None]:
    """Portfolio gross margin (over SKUs with a cost) and the share of net sales those SKUs make."""
    costed, cost = by_retailer["net_sales_costed"].sum(), by_retailer["cost"].sum()
    has = len(by_retailer) > 0
    gm = (costed - cost) / costed if has and costed > 0 else None
    coverage = costed / total_net_sales if has and _num(total_net_sales) and total_net_sales > 0 else None
    return {"gross_margin": _num(gm), "cost_coverage": _num(coverage)}


@dataclass
class PortfolioData:
    shares: pd.DataFrame  # the revenue-share export
    accounts: pd.DataFrame  # ACCOUNT_COLUMNS, unscored
    kpis: dict = field(default_factory=dict)
    availability_judged: bool = False


def portfolio_page_data(engine: Engine, filters: Filters) -> PortfolioData:
    """Everything the Portfolio page shows, for one filter set (the score is applied on the page)."""
    shares = share.revenue_share(engine, filters)
    extras = margin_and_ytd(engine, filters)
    table = accounts(engine, filters, shares, extras)
    kpis = share.portfolio_kpis(engine, filters, shares)
    kpis.update(portfolio_margin(extras.dropna(subset=["net_sales_costed"]), shares["net_sales"].sum(min_count=1)))
    with_target = table.dropna(subset=["attainment"])
    kpis["accounts_with_target"] = len(with_target)
    kpis["accounts_off_plan"] = int((with_target["attainment"] < 1.0).sum())
    judged = engine.has("inventory") and table["in_stock_rate"].notna().any()
    return PortfolioData(shares=shares, accounts=table, kpis=kpis, availability_judged=bool(judged))


@export_metric("account-scores", columns=ACCOUNT_SCORE_COLUMNS,
               examples=({}, {"filters": {"period": "l52w", "categories": ("Snacks", "Soups")}}))
def export_account_scores(engine: Engine, filters: Filters) -> pd.DataFrame:
    return score_accounts(accounts(engine, filters))[ACCOUNT_SCORE_COLUMNS]


# -- one retailer: white space ----------------------------------------------------------------------------------
def white_space(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Category mix of the one retailer in filters.retailers against the portfolio's (see DEFINITIONS)."""
    rid = _one_retailer(engine, filters, "white-space")
    return _white_space(engine, filters, rid)


def _white_space(engine: Engine, filters: Filters, rid: str) -> pd.DataFrame:
    scope = resolve(engine, filters.with_(retailers=()))
    if scope is None or not (engine.has("sell_in") and engine.has("products")):
        return pd.DataFrame(columns=WHITE_SPACE_COLUMNS)
    t = scope.weekly(engine.table("sell_in"))
    p = engine.table("products").select("sku_id", "category")
    j = t.join(p, "sku_id")
    mine = j.retailer_id == rid
    by_cat = engine.execute(j.group_by("category").aggregate(
        retailer_sales=ibis.cases((mine, j.net_sales), else_=0.0).sum(), portfolio_sales=j.net_sales.sum()))
    if by_cat.empty:
        return pd.DataFrame(columns=WHITE_SPACE_COLUMNS)
    r_total, p_total = by_cat["retailer_sales"].sum(), by_cat["portfolio_sales"].sum()
    by_cat["retailer_id"] = rid
    by_cat["retailer_share"] = by_cat["retailer_sales"] / r_total if r_total > 0 else np.nan
    by_cat["portfolio_share"] = by_cat["portfolio_sales"] / p_total if p_total > 0 else np.nan
    gap = (by_cat["portfolio_share"] - by_cat["retailer_share"]) * r_total
    by_cat["opportunity"] = gap.clip(lower=0.0).where(gap.notna())
    by_cat = by_cat.sort_values(["opportunity", "portfolio_sales", "category"], ascending=[False, False, True],
                                na_position="last")
    return by_cat[WHITE_SPACE_COLUMNS].reset_index(drop=True)


@export_metric("white-space", columns=WHITE_SPACE_COLUMNS,
               examples=({"filters": {"retailers": ("R001",)}},
                         {"filters": {"retailers": ("R003",), "period": "l13w"}}))
def export_white_space(engine: Engine, filters: Filters) -> pd.DataFrame:
    return white_space(engine, filters)


# -- one retailer: pipeline -------------------------------------------------------------------------------------
def pipeline(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Sell-in vs sell-out units by week and the cumulative pipeline fill of the one retailer in
    filters.retailers (see DEFINITIONS["Pipeline fill"])."""
    rid = _one_retailer(engine, filters, "pipeline")
    return _pipeline(engine, filters.with_(retailers=(rid,), channels=()), rid)


def weekly_flows(engine: Engine, scope: Scope) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The period's sell-in units by week (week, units) and sell-out by week and sales channel (week,
    sales_channel, units, value); None for a table with no row in scope and period (not reported)."""
    out = []
    for table, by, values in (("sell_in", ["week"], {"units": "units"}),
                              ("sell_out", ["week", "sales_channel"], {"units": "units", "value": "sales_value"})):
        frame = None
        if engine.has(table):
            t = scope.weekly(engine.table(table))
            frame = engine.execute(t.group_by(by).aggregate(**{k: t[c].sum() for k, c in values.items()}))
            if frame.empty:
                frame = None
            else:
                frame["week"] = pd.to_datetime(frame["week"])
        out.append(frame)
    return out[0], out[1]


def _week_index(scope: Scope) -> pd.Series:
    return pd.to_datetime(pd.Series(period_weeks(scope), dtype="datetime64[ns]"))


def pipeline_frame(scope: Scope, rid: str, sell_in: pd.DataFrame | None,
                   sell_out: pd.DataFrame | None) -> pd.DataFrame:
    """PIPELINE_COLUMNS from weekly_flows: every week of the period, a week without a row counting 0."""
    frame = pd.DataFrame({"retailer_id": rid, "week": _week_index(scope)})
    for flows, col in ((sell_in, "sell_in_units"), (sell_out, "sell_out_units")):
        if flows is None:
            frame[col] = np.nan
        else:
            units = flows.groupby("week", as_index=False)["units"].sum().rename(columns={"units": col})
            frame = frame.merge(units, on="week", how="left")
            frame[col] = frame[col].fillna(0.0)
    frame["cum_pipeline_units"] = frame["sell_in_units"].cumsum() - frame["sell_out_units"].cumsum()
    return frame[PIPELINE_COLUMNS]


def _pipeline(engine: Engine, filters: Filters, rid: str) -> pd.DataFrame:
    scope = resolve(engine, filters)
    if scope is None:
        return pd.DataFrame(columns=PIPELINE_COLUMNS)
    return pipeline_frame(scope, rid, *weekly_flows(engine, scope))


@export_metric("pipeline", columns=PIPELINE_COLUMNS,
               examples=({"filters": {"retailers": ("R001",)}},
                         {"filters": {"retailers": ("R005",), "period": "l13w"}}))
def export_pipeline(engine: Engine, filters: Filters) -> pd.DataFrame:
    return pipeline(engine, filters)


# -- one retailer: the account review ---------------------------------------------------------------------------
SKU_COLUMNS = ["sku_id", "sku_name", "category", "net_sales", "net_sales_ly", "change", "growth", "contribution",
               "sell_out_value", "store_value", "online_value", "sell_out_value_ly", "units", "unit_cost"]


def sku_table(engine: Engine, scope: Scope) -> pd.DataFrame:
    """Per SKU of the retailer(s) in scope: net sales this period and last year, growth, contribution to change,
    and sell-out value by sales channel (see DEFINITIONS["SKU growth and contribution"])."""
    p = scope.period
    frames = []
    if engine.has("sell_in"):
        t = scope.weekly(engine.table("sell_in"), start=p.ly_start, end=p.end)
        si = engine.execute(t.group_by("sku_id").aggregate(
            net_sales=_sum_between(t.net_sales, t.week, p.start, p.end),
            net_sales_ly=_sum_between(t.net_sales, t.week, p.ly_start, p.ly_end),
            units=_sum_between(t.units, t.week, p.start, p.end),
            has_cy=t.week.between(p.start, p.end).any(), has_ly=t.week.between(p.ly_start, p.ly_end).any()))
        # A SKU with no row in a period has no sales there (empty), not sales of 0.
        si.loc[~si["has_cy"].astype(bool), "net_sales"] = np.nan
        si.loc[~si["has_ly"].astype(bool), "net_sales_ly"] = np.nan
        frames.append(si.drop(columns=["has_cy", "has_ly"]))
    if engine.has("sell_out"):
        t = scope.weekly(engine.table("sell_out"), start=p.ly_start, end=p.end)
        so = engine.execute(t.group_by(["sku_id", "sales_channel"]).aggregate(
            value=_sum_between(t.sales_value, t.week, p.start, p.end),
            value_ly=_sum_between(t.sales_value, t.week, p.ly_start, p.ly_end),
            has_cy=t.week.between(p.start, p.end).any()))
        so = so[so["has_cy"].astype(bool)]
        if not so.empty:
            wide = so.pivot_table(index="sku_id", columns="sales_channel", values="value", aggfunc="sum")
            wide = wide.reindex(columns=["store", "online"]).add_suffix("_value")
            wide["sell_out_value"] = wide[["store_value", "online_value"]].sum(axis=1, min_count=1)
            wide["sell_out_value_ly"] = so.groupby("sku_id")["value_ly"].sum()
            frames.append(wide.reset_index())
    if not frames:
        return pd.DataFrame(columns=SKU_COLUMNS)
    frame = frames[0]
    for other in frames[1:]:
        frame = frame.merge(other, on="sku_id", how="outer")
    for col in SKU_COLUMNS[3:-1]:
        if col not in frame:
            frame[col] = np.nan
    frame = frame.merge(scopes.products(engine)[["sku_id", "sku_name", "category", "unit_cost"]], on="sku_id",
                        how="left")
    frame["change"] = frame["net_sales"].fillna(0.0) - frame["net_sales_ly"].fillna(0.0)
    frame.loc[frame["net_sales"].isna() & frame["net_sales_ly"].isna(), "change"] = np.nan
    # Shipping nothing this period after selling last year is -100%, not unknown.
    frame["growth"] = share.growth(frame["net_sales"].fillna(0.0), frame["net_sales_ly"])
    ly_total = frame["net_sales_ly"].sum(min_count=1)
    frame["contribution"] = frame["change"] / ly_total if pd.notna(ly_total) and ly_total > 0 else np.nan
    return frame[SKU_COLUMNS].sort_values(["net_sales", "sku_id"], ascending=[False, True], na_position="last") \
        .reset_index(drop=True)


def sku_margin(skus: pd.DataFrame) -> float | None:
    """Gross margin over the SKU table's SKUs that have a unit cost (see DEFINITIONS["Gross margin"])."""
    costed = skus[skus["unit_cost"].notna() & skus["net_sales"].notna()]
    if costed.empty:
        return None
    net = costed["net_sales"].sum()
    return _num(margin(pd.Series([net]), (costed["units"] * costed["unit_cost"]).sum()).iloc[0])


def top_bottom(skus: pd.DataFrame, by: str, n: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The n best and n worst SKUs by a column (growth or contribution), SKUs without a value left out.

    With fewer than 2n SKUs the better half is the top and the rest the bottom, so neither side is empty.
    """
    ranked = skus.dropna(subset=[by]).sort_values([by, "sku_id"], ascending=[False, True])
    n_top = min(n, (len(ranked) + 1) // 2)
    bottom = ranked.iloc[n_top:].sort_values([by, "sku_id"]).head(n)
    return ranked.head(n_top).reset_index(drop=True), bottom.reset_index(drop=True)


def channel_trend(scope: Scope, sell_out: pd.DataFrame | None) -> pd.DataFrame:
    """Weekly sell-out value by sales channel (from weekly_flows): columns week, store, online, online_share."""
    cols = ["week", "store", "online", "online_share"]
    if sell_out is None:
        return pd.DataFrame(columns=cols)
    wide = sell_out.pivot_table(index="week", columns="sales_channel", values="value", aggfunc="sum")
    wide = wide.reindex(index=_week_index(scope), columns=["store", "online"]).fillna(0.0)
    total = wide["store"] + wide["online"]
    wide["online_share"] = wide["online"] / total.where(total > 0)
    return wide.rename_axis("week").reset_index()[cols]


def monthly_plan(weeks: pd.DataFrame) -> pd.DataFrame:
    """Landing weeks (plan.landing_weeks, summed over retailers) rolled up to months.

    Columns: month, actual (months with a loaded week), last_year, target, landing (actual + projection of
    months with a remaining week; the dashed continuation).
    """
    cols = ["month", "actual", "last_year", "target", "landing"]
    if weeks.empty:
        return pd.DataFrame(columns=cols)
    w = weeks.copy()
    w["month"] = pd.to_datetime(w["week"]).dt.to_period("M").dt.to_timestamp()
    done = w["basis"] == "actual"
    w["done_actual"] = w["actual"].where(done)
    w["is_remaining"] = ~done
    g = w.groupby("month")
    out = pd.DataFrame({
        "actual": g["done_actual"].sum(min_count=1),
        "last_year": g["ly_actual"].sum(min_count=1),
        "target": g["target"].sum(min_count=1),
        "projected": g["projected"].sum(min_count=1),
        "remaining": g["is_remaining"].any(),
    }).reset_index()
    out["landing"] = np.where(out["remaining"], out["actual"].fillna(0.0) + out["projected"].fillna(0.0), np.nan)
    out.loc[out["remaining"] & out["projected"].isna(), "landing"] = np.nan
    return out[cols]


def period_target(engine: Engine, scope: Scope, year_weeks: pd.DataFrame, year: int) -> float:
    """The period's target: from the plan year's weekly targets (landing_weeks) when the period lies within
    that year, else read for the period (both spread by plan.weekly_targets)."""
    p = scope.period
    if dt.date(year, 1, 1) <= p.start and p.end <= dt.date(year, 12, 31):
        weeks = year_weeks[(year_weeks["week"] >= pd.Timestamp(p.start)) & (year_weeks["week"] <= pd.Timestamp(p.end))]
        return weeks["target"].sum(min_count=1) if len(weeks) else np.nan
    return plan.target_by_retailer(engine, scope)["target"].sum(min_count=1)


@dataclass
class AccountData:
    retailer: dict  # retailer_id, retailer_name, channel, kam, region, strategic_priority
    kpis: dict
    monthly: pd.DataFrame  # monthly_plan
    landing_year: int | None
    pipeline: pd.DataFrame  # PIPELINE_COLUMNS
    white_space: pd.DataFrame  # WHITE_SPACE_COLUMNS
    skus: pd.DataFrame  # SKU_COLUMNS
    channels: pd.DataFrame  # channel_trend
    missing: list[str] = field(default_factory=list)  # what this retailer's data lacks, in words


def account_page_data(engine: Engine, filters: Filters, account: str) -> AccountData | None:
    """Everything the Account review page shows for one retailer (None when the retailer is unknown).

    The sidebar's category and brand filters and the period apply; the retailer and channel filters are
    replaced by the one account. Its category mix is compared with the portfolio in view.
    """
    dims = scopes.retailers(engine)
    row = dims[dims["retailer_id"] == account]
    if row.empty:
        return None
    info = {k: (None if pd.isna(v) else v) for k, v in row.iloc[0].to_dict().items()}
    mine = filters.with_(retailers=(account,), channels=())
    scope = resolve(engine, mine)
    if scope is None:
        return None
    skus = sku_table(engine, scope)
    year = plan.plan_year(filters, scope.period.latest_week)
    weeks = plan.landing_weeks(engine, mine, year)
    landing = plan.landing_summary(weeks, ["retailer_id"])  # = plan.landing, without a second scan
    sell_in_weeks, sell_out_weeks = weekly_flows(engine, scope)
    channels = channel_trend(scope, sell_out_weeks)
    pipe = pipeline_frame(scope, account, sell_in_weeks, sell_out_weeks)

    net = skus["net_sales"].sum(min_count=1)
    net_ly = skus["net_sales_ly"].sum(min_count=1)
    target = period_target(engine, scope, weeks, year)
    sell_out, sell_out_ly = skus["sell_out_value"].sum(min_count=1), skus["sell_out_value_ly"].sum(min_count=1)
    online = skus["online_value"].sum(min_count=1)
    kpis = {
        "net_sales": _num(net), "net_sales_ly": _num(net_ly), "yoy_growth": _num(share.growth(
            pd.Series([net]), pd.Series([net_ly])).iloc[0]),
        "net_sales_target": _num(target), "attainment": plan.attainment(_num(net), _num(target)),
        "sell_out_value": _num(sell_out), "sell_out_value_ly": _num(sell_out_ly),
        "sell_out_growth": _num(share.growth(pd.Series([sell_out]), pd.Series([sell_out_ly])).iloc[0]),
        "online_share": _num(online.sum() / sell_out) if _num(sell_out) else None,
        "margin_pct": sku_margin(skus),
        "landing_estimate": _num(landing["landing_estimate"].sum(min_count=1)) if len(landing) else None,
        "annual_target": _num(landing["annual_target"].sum(min_count=1)) if len(landing) else None,
    }
    kpis["landing_gap"] = (kpis["landing_estimate"] - kpis["annual_target"]
                           if kpis["landing_estimate"] is not None and kpis["annual_target"] is not None else None)

    missing = []
    if kpis["net_sales"] is None:
        missing.append("no sell-in (net sales) in this period")
    elif kpis["net_sales_ly"] is None:
        missing.append("no sales last year to compare with")
    if kpis["net_sales_target"] is None:
        missing.append("no target for this period" + (" (targets have no brand)" if filters.brands else ""))
    if channels.empty:
        missing.append("no sell-out reported in this period")
    return AccountData(
        retailer=info, kpis=kpis, monthly=monthly_plan(weeks), landing_year=year, pipeline=pipe,
        white_space=_white_space(engine, filters, account), skus=skus, channels=channels,
        missing=missing)


def account_choices(engine: Engine, filters: Filters) -> pd.DataFrame:
    """The retailers the sidebar filters leave in view (retailer_id, retailer_name), by name."""
    scope = resolve(engine, filters)
    frame = scopes.retailers(engine) if scope is None else scopes.retailers_in_scope(engine, scope)
    return frame[["retailer_id", "retailer_name"]].sort_values(["retailer_name", "retailer_id"]) \
        .reset_index(drop=True)


def pick_account(choices: pd.DataFrame, known_ids, requested: str | None) -> tuple[str | None, str | None]:
    """The account to show for a requested id (from the URL) and a warning when it cannot be honoured.

    The requested value is never echoed: it may be anything a link carries.
    """
    ids = list(choices["retailer_id"])
    if not ids:
        return None, None
    if requested is None or requested in ids:
        return requested or ids[0], None
    first = choices["retailer_name"].iloc[0]
    if requested in set(known_ids):
        return ids[0], f"The account in the link is outside the sidebar filters; showing {first}."
    return ids[0], f"The account in the link is not a known retailer; showing {first}."
