"""The portfolio's account table: score components, health, the key-account score and tiers, and what the
Portfolio page shows (`portfolio_page_data`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kam_dash import fmt
from kam_dash import scope as scopes
from kam_dash.engine import Engine
from kam_dash.export import export_metric
from kam_dash.filters import Filters
from kam_dash.metrics import plan, share
from kam_dash.metrics.account.common import (ACCOUNT_SCORE_COLUMNS, ATTENTION_MIN_SHARE, ATTENTION_MIN_STAKE,
                                             ATTENTION_MOST, COMPONENTS, DEFAULT_TIER_PCTS, DEFAULT_WEIGHTS, TIERS, _num, _ytd, margin_and_ytd, ytd_dates)
from kam_dash.metrics.account.health import SELL_OUT_ONLY_REASON, _availability, health, sell_out_only
from kam_dash.scope import resolve


# -- the portfolio's account table ------------------------------------------------------------------------------
ACCOUNT_COLUMNS = ["retailer_id", "retailer_name", "channel", "basis", "value", "net_sales", "sell_out_value",
                   "share", "yoy_growth", "margin_pct", "strategic_priority", "net_sales_target", "attainment",
                   "plan_share", "ytd_attainment", "ytd_growth", "landing_vs_plan", "in_stock_rate", "health",
                   "health_reason", "ytd_value", "plan_shortfall", "ytd_drop", "lost_value", "money_at_stake"]


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

    basis = shares["basis"].dropna().iloc[0] if shares["basis"].notna().any() else None
    frame = frame.merge(ytd_plan_and_growth(engine, filters, shares, extras), on="retailer_id", how="left")
    avail = _availability(engine, _ytd(filters))
    if avail is None:
        frame[["in_stock_rate", "lost_value"]] = np.nan
    else:
        frame = frame.merge(avail[["retailer_id", "in_stock_rate", "lost_value"]], on="retailer_id", how="left")
    if basis == "sell_out":  # no landing: the YTD sell-out short of its YTD target
        target = frame["ytd_value"] / frame["ytd_attainment"].where(frame["ytd_attainment"] > 0)
        frame["plan_shortfall"] = target - frame["ytd_value"]
    frame["money_at_stake"] = money_at_stake(frame)
    year = resolve(engine, _ytd(filters)).period.end.year
    if basis == "sell_out":
        plan_col, words = "ytd_attainment", dict(plan_what="YTD sell-out value", growth_what="YTD sell-out value")
    else:
        plan_col, words = "landing_vs_plan", dict(plan_what=f"Landing {year}", growth_what="YTD net sales")
    pos_only = sell_out_only(engine)
    graded = [(("unknown", SELL_OUT_ONLY_REASON) if basis == "sell_in" and r["retailer_id"] in pos_only else
               health(_num(r[plan_col]), _num(r["ytd_growth"]), _num(r["in_stock_rate"]), avail is not None, **words))
              for _, r in frame.iterrows()]
    frame["health"] = [g[0] for g in graded]
    frame["health_reason"] = [g[1] for g in graded]
    frame["strategic_priority"] = pd.to_numeric(frame["strategic_priority"], errors="coerce")
    return frame[ACCOUNT_COLUMNS].reset_index(drop=True)


def landing_vs_plan(engine: Engine, filters: Filters) -> pd.DataFrame:
    """retailer_id, landing_vs_plan: plan.landing's landing estimate of the year to date's year divided by its
    annual target (empty without a positive target); plan_shortfall: the annual target minus that landing."""
    landing = plan.landing(engine, _ytd(filters))
    if landing.empty:
        return pd.DataFrame({"retailer_id": pd.Series(dtype=str), "landing_vs_plan": pd.Series(dtype=float),
                             "plan_shortfall": pd.Series(dtype=float)})
    target = landing["annual_target"].where(landing["annual_target"] > 0)
    return pd.DataFrame({"retailer_id": landing["retailer_id"],
                         "landing_vs_plan": (landing["landing_estimate"] / target).astype(float),
                         "plan_shortfall": (target - landing["landing_estimate"]).astype(float)})


def ytd_plan_and_growth(engine: Engine, filters: Filters, shares: pd.DataFrame,
                        extras: pd.DataFrame) -> pd.DataFrame:
    """Per retailer, for the year to date whatever the period: ytd_attainment and ytd_growth as revenue_share
    computes them for the year to date, and landing_vs_plan (sell-in basis only).

    Under a YTD period they are the shares' own; otherwise, on sell-in, from margin_and_ytd's sums and the YTD
    targets (one scan shared with the margin), and on sell-out from the YTD revenue share.
    """
    basis = shares["basis"].dropna().iloc[0] if len(shares) and shares["basis"].notna().any() else None
    money = {"value": "ytd_value", "value_comparable": "ytd_comparable", "value_ly": "ytd_ly"}
    if filters.period == "ytd":
        ytd = shares[["retailer_id", "attainment", "yoy_growth", *money]].rename(columns=money)
    elif basis == "sell_out":
        ytd = share.revenue_share(engine, _ytd(filters))[["retailer_id", "attainment", "yoy_growth", *money]] \
            .rename(columns=money)
    else:
        scope = resolve(engine, _ytd(filters))
        end = min(scope.period.end, share.table_latest(engine, "sell_in") or scope.period.end)
        target = plan.target_by_retailer(engine, scope, scope.period.start, end)
        ytd = extras[["retailer_id", "ytd_net_sales", "ytd_net_sales_comparable", "ytd_net_sales_ly"]].merge(
            target, on="retailer_id", how="outer")
        ytd["yoy_growth"] = share.growth(ytd["ytd_net_sales_comparable"], ytd["ytd_net_sales_ly"])
        ytd["attainment"] = ytd["ytd_net_sales"] / ytd["target"].where(ytd["target"] > 0)
        ytd = ytd.rename(columns={"ytd_net_sales": "ytd_value", "ytd_net_sales_comparable": "ytd_comparable",
                                  "ytd_net_sales_ly": "ytd_ly"})
    # the money lost on last year: last year's sales of the comparable weeks less this year's
    ytd = ytd.assign(ytd_drop=ytd["ytd_ly"] - ytd["ytd_comparable"])
    ytd = ytd[["retailer_id", "attainment", "yoy_growth", "ytd_value", "ytd_drop"]].rename(
        columns={"attainment": "ytd_attainment", "yoy_growth": "ytd_growth"})
    if basis == "sell_out":
        return ytd.assign(landing_vs_plan=np.nan, plan_shortfall=np.nan)
    return ytd.merge(landing_vs_plan(engine, filters), on="retailer_id", how="outer")


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
    size = "value" if "value" in out else "net_sales"  # the view's basis where the table has it
    out = out.sort_values(["rank", size, "retailer_id"], ascending=[True, False, True], na_position="last")
    return out.reset_index(drop=True)


def tier_members(scored: pd.DataFrame) -> dict[str, list[str]]:
    """Retailer names per tier, best score first (every tier present, possibly empty)."""
    return {tier: list(scored.loc[scored["tier"] == tier, "retailer_name"]) for tier in TIERS}


def money_at_stake(table: pd.DataFrame) -> pd.Series:
    """Per account, the largest of the money it is behind by (see DEFINITIONS["Needs attention"]): the annual
    target less the landing (on sell-out, the YTD target less YTD sell-out), last year's YTD sales less this
    year's, and the sales lost to empty shelves YTD; 0 where none is positive."""
    parts = [pd.to_numeric(table[c], errors="coerce").clip(lower=0)
             for c in ("plan_shortfall", "ytd_drop", "lost_value") if c in table]
    if not parts:
        return pd.Series(0.0, index=table.index)
    return pd.concat(parts, axis=1).max(axis=1).fillna(0.0)


def _stake_words(r, least: float) -> str:
    """What the money at stake is made of, in words, largest first (parts below `least` left out as noise)."""
    parts = [(r.get("plan_shortfall"), "short of plan"), (r.get("ytd_drop"), "below last year YTD"),
             (r.get("lost_value"), "lost to empty shelves YTD")]
    shown = [f"{fmt.money(v)} {what}" for v, what in sorted(((v, w) for v, w in parts
                                                             if _num(v) and v > 0 and v >= least),
                                                            key=lambda p: -p[0])]
    return "; ".join(shown)


def needing_attention(scored: pd.DataFrame, min_share: float = ATTENTION_MIN_SHARE,
                      min_stake: float = ATTENTION_MIN_STAKE, most: int = ATTENTION_MOST) -> pd.DataFrame:
    """The few red or amber accounts that matter most, largest money at stake first, each with its reason in
    words (`attention_reason`; see DEFINITIONS["Needs attention"]).

    min_share: the least share of the accounts' YTD sales an account must have; min_stake: the least money at
    stake as a fraction of the account's own YTD sales; most: how many are listed."""
    flagged = scored[scored["health"].isin(["red", "amber"])].copy()
    if "money_at_stake" not in flagged:
        flagged["money_at_stake"] = money_at_stake(flagged)
    size = pd.to_numeric(scored["ytd_value"] if "ytd_value" in scored else scored.get("value", scored.get(
        "net_sales")), errors="coerce")
    total = size.where(size > 0).sum()
    own = size.loc[flagged.index]
    material = (own >= min_share * total) & (flagged["money_at_stake"] > 0) & (
        flagged["money_at_stake"] >= min_stake * own)
    flagged = flagged[material.fillna(False)]
    flagged = flagged.sort_values(["money_at_stake", "retailer_id"], ascending=[False, True]).head(most)
    least = (min_stake * own.loc[flagged.index]).fillna(0)
    flagged["attention_reason"] = [f"{_stake_words(r, least[i])}. {r['health_reason']}"
                                   for i, r in flagged.iterrows()]
    return flagged.reset_index(drop=True)


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
    kpis: dict = field(default_factory=dict)  # includes basis, value, unreported_weeks
    availability_judged: bool = False
    health_period: str | None = None  # the YTD dates health is judged on, when the view's period differs
    sell_out_only: list[str] = field(default_factory=list)  # names of POS-only retailers left out of a sell-in view


def basis_note(data: PortfolioData, name=str) -> str:
    """The view's basis in words, with the retailers it leaves out and the unreported weeks sell-out skipped.
    name: how a retailer name is written (the page escapes markdown)."""
    if data.kpis.get("basis") == "sell_out":
        text = ("No retailer in view has sell-in in this period, so shares, growth, A/B/C, the key-account score, "
                "tiers and health are of sell-out value (attainment against the sell-out target).")
    else:
        text = "Shares, growth, A/B/C, the key-account score, tiers and health are of sell-in net sales."
        if data.sell_out_only:
            names = [name(n) for n in data.sell_out_only]
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            one = len(names) == 1
            text += (f" {len(names)} retailer{'' if one else 's'} report{'s' if one else ''} sell-out only "
                     f"({shown}): no share of net sales; {'its' if one else 'their'} sell-out is in the sell-out "
                     "value.")
    weeks = data.kpis.get("unreported_weeks") or 0
    if weeks:
        text += (f" Sell-out figures skip {weeks} unreported retailer-week{'s' if weeks != 1 else ''} in this "
                 "period (a week a retailer's POS did not arrive is left out, never read as 0).")
    return text


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
    pos_only = []
    if kpis["basis"] == "sell_in" and len(table):
        pos_only = list(table.loc[table["retailer_id"].isin(sell_out_only(engine)), "retailer_name"])
    return PortfolioData(shares=shares[share.SHARE_COLUMNS], accounts=table, kpis=kpis,
                         availability_judged=bool(judged),
                         health_period=ytd_dates(engine, filters), sell_out_only=pos_only)


@export_metric("account-scores", columns=ACCOUNT_SCORE_COLUMNS,
               examples=({}, {"filters": {"period": "l52w", "categories": ("Snacks", "Soups")}}))
def export_account_scores(engine: Engine, filters: Filters) -> pd.DataFrame:
    return score_accounts(accounts(engine, filters))[ACCOUNT_SCORE_COLUMNS]
