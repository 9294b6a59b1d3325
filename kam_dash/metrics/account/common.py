"""Key accounts, shared: the score's components and thresholds, the definitions, column lists, and the
helpers both views use (periods in words, margin, the year to date)."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from kam_dash import scope as scopes
from kam_dash.engine import Engine
from kam_dash.filters import PERIODS, Filters
from kam_dash.metrics import share
from kam_dash.scope import resolve


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
# Needs attention: red or amber accounts with at least 0.2% of the accounts' YTD sales and money at stake of at
# least 1% of their own YTD sales; the five with the most money at stake.
ATTENTION_MIN_SHARE, ATTENTION_MIN_STAKE, ATTENTION_MOST = 0.002, 0.01, 5
HEALTH_ORDER = {"red": 0, "amber": 1, "green": 2, "unknown": 3}

DEFINITIONS = {
    "Gross margin": "(Net sales - units x unit cost) / net sales, over the sell-in of SKUs that have a unit cost "
    "in the products table (a cost of 0 counts). Cost coverage is the share of net sales from SKUs with a cost; "
    "the margin says nothing about the rest. Empty where the costed net sales are zero or negative.",
    "Accounts off plan": "Retailers whose net sales (sell-out value on a sell-out basis, against the sell-out "
    "target) are below the target of the same weeks (attainment under 100%), out of the retailers that have a "
    "target in the period.",
    "Plan share": "A retailer's target for the period divided by the targets of all retailers in view, shown beside "
    "its actual share (see Revenue share).",
    "Key-account score": "A weighted sum of four components, each min-max normalised across the retailers in view "
    "((value - lowest) / (highest - lowest), so 0 to 1): revenue share and growth vs last year (both on the view's "
    "basis, see Basis), margin % and strategic "
    "priority (1-5 from the retailers table). Default weights 0.4 / 0.3 / 0.2 / 0.1; the weights are divided by "
    "their sum, so the score runs from 0 to 1. A missing value (no net sales, no last year, no unit costs, no "
    "priority) counts as the lowest (0). Where every retailer has the same value, that component is 1 for all.",
    "Tiers": "Retailers are ranked by score, highest first; tied scores share the better rank (the number of "
    "retailers with a strictly higher score, plus one). With n retailers, rank <= ceil(10% x n) is Strategic, "
    "rank <= ceil(30% x n) is Key (the next 20%), the rest Maintain. The two cut-offs can be changed on the page; "
    "with 24 retailers the defaults give 3 Strategic and 5 Key.",
    "Health": "Red / amber / green per retailer, the worst of three criteria judged on the year to date (the "
    "latest data year's weeks up to the latest loaded week), whatever the period chosen, so a status does not flip "
    "with the window looked at; the page says so when its period differs. Plan: the landing estimate of the year "
    "(see Plan: Landing estimate, which leans on the plan in the first weeks) divided by the annual target (red "
    "below 95%, amber below 100%); on a sell-out basis, which has no landing, the YTD sell-out value divided by "
    "the YTD sell-out target. Growth vs last year over the YTD weeks that have a last year (red below -5%, amber "
    "below 0%). Where inventory is loaded, the YTD in-stock rate (red below 90%, amber below 95%). Each is judged "
    "on the value shown, rounded to 0.1% (94.96% shows as 95.0% and is not below 95%). A criterion without data "
    "(no target, no last year, no inventory) is not judged and is named in the reason; with none judged the status "
    "is 'unknown'. In a view on sell-in, a retailer that reports sell-out only is not rated.",
    "Needs attention": "The few red or amber accounts that matter most to the portfolio: an account is listed "
    "when it has at least 0.2% of the year-to-date sales of the accounts in view (on the view's basis) and money "
    "at stake of at least 1% of its own year-to-date sales; at most five, the most money at stake first. Money at "
    "stake is the largest of: the annual target less the landing estimate (on a sell-out basis the YTD sell-out "
    "target less YTD sell-out value), last year's sales of the YTD weeks that have a last year less this year's, "
    "and the sales lost to empty shelves YTD (see Inventory: Lost sales); each counts only when positive. The "
    "reason says what the money is, then the failing health criteria, worst first. The key-account table shows "
    "every account's health.",
    "Monthly net sales vs target": "Net sales by month (a week belongs to the month its Monday falls in) for the "
    "calendar year of the latest loaded week (or the chosen year), beside the last year of its weeks and the "
    "month's target, drawn over its own bar. The month of sell-in's latest week holds only the weeks loaded so far: "
    "its bar is hatched, marked 'partial: N of M weeks', and compared with the target of those loaded weeks only, "
    "not the whole month's. The dashed line continues the months after the latest loaded week with the landing "
    "estimate (see Plan: Landing estimate).",
    "Pipeline fill": "Cumulative sell-in units minus cumulative sell-out units from the first week of the period: "
    "the implied change in the retailer's stock (positive = stock building up). Only weeks the retailer reported "
    "sell-out count: an unreported week (and the weeks after its latest sell-out week) is skipped, its sell-in "
    "too, and shown without sell-out rather than as 0. Inside a reported week a SKU with no row sold 0. A retailer "
    "with no sell-out row at all in the period does not report sell-out and has no pipeline.",
    "Category mix and white space": "Each category's share of the retailer's net sales beside its share of the "
    "portfolio's (all retailers in view, ignoring the retailer filter). White-space opportunity = (portfolio share "
    "- retailer share) x the retailer's total net sales where positive, else 0: the sales the retailer would add "
    "if its mix matched the portfolio's. Ranked largest first. For a retailer with no sell-in in the period, both "
    "sides are of sell-out value (the `basis` column says which).",
    "SKU growth and contribution": "Per SKU: net sales this period and last year, growth (this / last - 1 over the "
    "weeks that have a last year, empty without positive last-year sales) and contribution to change = (this - "
    "last year) / the retailer's last-year net sales, so the contributions add up to the retailer's growth. For a "
    "retailer with no sell-in in the period, growth and contribution are of sell-out value, over the weeks it "
    "reported both years. A SKU sold last year only is -100%. Store and online sell-out value are shown where the "
    "retailer reports online sales.",
    "Store vs online": "Weekly sell-out value by sales channel (store, online) and the online share of it; a week "
    "the retailer did not report is left empty, not drawn as 0.",
}

# The definitions each page's "How is this computed?" shows.
PORTFOLIO_TERMS = ("Gross margin", "Accounts off plan", "Plan share", "Key-account score", "Tiers", "Health",
                   "Needs attention")
REVIEW_TERMS = tuple(k for k in DEFINITIONS if k not in PORTFOLIO_TERMS or k == "Gross margin")

ACCOUNT_SCORE_COLUMNS = ["retailer_id", "retailer_name", "basis", "value", "net_sales", "share", "yoy_growth",
                         "margin_pct",
                         "strategic_priority", "score", "tier", "health", "health_reason"]
WHITE_SPACE_COLUMNS = ["retailer_id", "basis", "category", "retailer_sales", "retailer_share", "portfolio_share",
                       "opportunity"]
PIPELINE_COLUMNS = ["retailer_id", "week", "sell_in_units", "sell_out_units", "cum_pipeline_units"]


# -- shared helpers ---------------------------------------------------------------------------------------------
def _ytd(filters: Filters) -> Filters:
    return filters.with_(period="ytd", year=None, start=None, end=None)


def ytd_dates(engine: Engine, filters: Filters) -> str | None:
    """The year to date health is judged on, in words, when the view's period is not those weeks (else None)."""
    scope, ytd = resolve(engine, filters), resolve(engine, _ytd(filters))
    if scope is None or ytd is None or scope.period.weeks == ytd.period.weeks:
        return None
    return ytd.period.describe_dates()


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
EXTRA_COLUMNS = ["retailer_id", "net_sales_costed", "cost", "margin_pct", "ytd_net_sales",
                 "ytd_net_sales_comparable", "ytd_net_sales_ly"]


def _where(col, mask):
    return ibis.cases((mask, col), else_=0.0).sum()


def margin_and_ytd(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Per retailer, from one scan of sell-in: the period's net sales of SKUs with a unit cost, their cost
    (units x unit cost) and margin_pct; and, when the period is not the year to date, YTD net sales, those of the
    YTD weeks that have a last year and their last year (empty without a row in those weeks; under a YTD period
    the columns are left empty). Every sum reads the resolved periods' weeks, up to sell-in's own latest week."""
    scope = resolve(engine, filters)
    if scope is None or not engine.has("sell_in"):
        return pd.DataFrame(columns=EXTRA_COLUMNS)
    p = scope.period
    until = share.table_latest(engine, "sell_in") or p.end
    ytd = None if filters.period == "ytd" else scope.with_period(resolve(engine, _ytd(filters)).period)
    y = None if ytd is None else ytd.period
    t = scope.weekly(engine.table("sell_in"), start=p.start if y is None else min(p.start, y.ly_start),
                     end=p.end if y is None else max(p.end, y.end))
    if engine.has("products"):
        prods = engine.table("products")
        costs = prods.filter(prods.unit_cost.notnull()).select(cost_sku=prods.sku_id, unit_cost=prods.unit_cost)
        t = t.left_join(costs, t.sku_id == costs.cost_sku)
    aggs = {}
    if ytd is not None:
        in_ytd, ly = t.week.between(y.start, min(y.end, until)), ytd.ly_mask(t.week, until)
        comparable = ytd.comparable_mask(t.week, until)
        aggs = dict(ytd_net_sales=_where(t.net_sales, in_ytd), ytd_net_sales_comparable=_where(t.net_sales, comparable),
                    ytd_net_sales_ly=_where(t.net_sales, ly), has_ytd=in_ytd.any(), has_ly=ly.any())
    if engine.has("products"):
        costed = t.week.between(p.start, min(p.end, until)) & t.unit_cost.notnull()
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
        frame.loc[~frame["has_ytd"].astype(bool), ["ytd_net_sales", "ytd_net_sales_comparable"]] = np.nan
        frame.loc[~frame["has_ly"].astype(bool), "ytd_net_sales_ly"] = np.nan
    frame["margin_pct"] = margin(frame["net_sales_costed"], frame["cost"])
    return frame[EXTRA_COLUMNS]


def margin(net_sales_costed, cost):
    """(net sales - cost) / net sales, empty where the costed net sales are not positive."""
    ns = pd.Series(net_sales_costed, dtype=float) if not isinstance(net_sales_costed, pd.Series) else net_sales_costed
    return (ns - cost) / ns.where(ns > 0)


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
