"""One retailer's review: category white space, sell-in vs sell-out (pipeline), SKUs, store vs online, plan
by month, and what the Account review page shows (`account_page_data`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd

from kam_dash import calendar, freshness
from kam_dash import scope as scopes
from kam_dash.engine import Engine
from kam_dash.export import export_metric
from kam_dash.filters import Filters
from kam_dash.metrics import plan, share
from kam_dash.metrics.account.common import (PIPELINE_COLUMNS, WHITE_SPACE_COLUMNS, _num, _one_retailer, _where,
                                             _ytd, margin)
from kam_dash.scope import Scope, resolve


# -- one retailer: white space ----------------------------------------------------------------------------------
def white_space(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Category mix of the one retailer in filters.retailers against the portfolio's (see DEFINITIONS)."""
    rid = _one_retailer(engine, filters, "white-space")
    return _white_space(engine, filters, rid)


def _white_space(engine: Engine, filters: Filters, rid: str) -> pd.DataFrame:
    scope = resolve(engine, filters.with_(retailers=()))
    if scope is None or not engine.has("products"):
        return pd.DataFrame(columns=WHITE_SPACE_COLUMNS)
    p = engine.table("products").select("sku_id", "category")
    # One basis: sell-in where the retailer has sell-in in the period, else its sell-out where it has some,
    # else sell-in (the retailer then has no share of any category).
    by_cat = None
    for table, col, basis in (("sell_in", "net_sales", "sell_in"), ("sell_out", "sales_value", "sell_out")):
        if not engine.has(table):
            continue
        t = scope.weekly(engine.table(table))
        j = t.join(p, "sku_id")
        mine = j.retailer_id == rid
        frame = engine.execute(j.group_by("category").aggregate(
            retailer_sales=ibis.cases((mine, j[col]), else_=0.0).sum(), portfolio_sales=j[col].sum(),
            retailer_rows=mine.any())).assign(basis=basis)
        if by_cat is None or frame["retailer_rows"].astype(bool).any():
            by_cat = frame
        if frame["retailer_rows"].astype(bool).any():
            break
    if by_cat is None or by_cat.empty:
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
    """The period's Mondays (clamped to the loaded weeks by scope.resolve) as datetime64."""
    return pd.to_datetime(pd.Series(list(scope.period.weeks), dtype="datetime64[ns]"))


def reported_mask(engine: Engine, rid: str, weeks: pd.Series) -> pd.Series:
    """True for the weeks (datetime64) in which the retailer reported any sell-out (freshness.reported_weeks)."""
    reported = freshness.reported_weeks(engine)
    have = set(pd.to_datetime(reported.loc[reported["retailer_id"] == rid, "week"]))
    return weeks.isin(have)


def pipeline_frame(scope: Scope, rid: str, sell_in: pd.DataFrame | None,
                   sell_out: pd.DataFrame | None, reported: pd.Series | None = None) -> pd.DataFrame:
    """PIPELINE_COLUMNS from weekly_flows: every week of the period. A week without a sell-in row shipped 0; a
    week the retailer reported sell-out without a row for these SKUs sold 0; a week it did not report has no
    sell-out and is left out of the cumulative fill, its sell-in too (reported: one boolean per week, from
    reported_mask; None = every week reported)."""
    frame = pd.DataFrame({"retailer_id": rid, "week": _week_index(scope)})
    if sell_out is None and reported is not None and reported.any():  # reported, none of these SKUs sold
        sell_out = pd.DataFrame({"week": pd.Series(dtype="datetime64[ns]"), "units": pd.Series(dtype=float)})
    for flows, col in ((sell_in, "sell_in_units"), (sell_out, "sell_out_units")):
        if flows is None:
            frame[col] = np.nan
        else:
            units = flows.groupby("week", as_index=False)["units"].sum().rename(columns={"units": col})
            frame = frame.merge(units, on="week", how="left")
            frame[col] = frame[col].fillna(0.0)
    counted = pd.Series(True, index=frame.index) if reported is None else pd.Series(reported.to_numpy(),
                                                                                    index=frame.index)
    if sell_out is not None:
        frame.loc[~counted, "sell_out_units"] = np.nan
    fill = (frame["sell_in_units"] - frame["sell_out_units"]).where(counted)
    frame["cum_pipeline_units"] = fill.cumsum().where(counted)
    return frame[PIPELINE_COLUMNS]


def _pipeline(engine: Engine, filters: Filters, rid: str) -> pd.DataFrame:
    scope = resolve(engine, filters)
    if scope is None:
        return pd.DataFrame(columns=PIPELINE_COLUMNS)
    reported = reported_mask(engine, rid, _week_index(scope)) if engine.has("sell_out") else None
    return pipeline_frame(scope, rid, *weekly_flows(engine, scope), reported)


@export_metric("pipeline", columns=PIPELINE_COLUMNS,
               examples=({"filters": {"retailers": ("R001",)}},
                         {"filters": {"retailers": ("R005",), "period": "l13w"}}))
def export_pipeline(engine: Engine, filters: Filters) -> pd.DataFrame:
    return pipeline(engine, filters)


# -- one retailer: the account review ---------------------------------------------------------------------------
SKU_COLUMNS = ["sku_id", "sku_name", "category", "basis", "net_sales", "net_sales_ly", "change", "growth",
               "contribution", "sell_out_value", "store_value", "online_value", "sell_out_value_ly", "sell_out_growth",
               "units", "unit_cost"]
# What growth divides (the value of the weeks with a last year), kept for the account's totals.
SKU_INTERNAL = ["net_sales_comparable", "sell_out_comparable"]


def _sku_sell_in(engine: Engine, scope: Scope) -> pd.DataFrame | None:
    p = scope.period
    until = share.table_latest(engine, "sell_in") or p.end
    t = scope.weekly(engine.table("sell_in"), start=min(p.ly_start, p.start), end=p.end)
    in_period = t.week.between(p.start, min(p.end, until))
    comparable, ly = scope.comparable_mask(t.week, until), scope.ly_mask(t.week, until)
    si = engine.execute(t.group_by("sku_id").aggregate(
        net_sales=_where(t.net_sales, in_period), net_sales_comparable=_where(t.net_sales, comparable),
        net_sales_ly=_where(t.net_sales, ly), units=_where(t.units, in_period),
        has_cy=in_period.any(), has_ly=ly.any()))
    # A SKU with no row in a period has no sales there (empty), not sales of 0.
    si.loc[~si["has_cy"].astype(bool), ["net_sales", "net_sales_comparable", "units"]] = np.nan
    si.loc[~si["has_ly"].astype(bool), "net_sales_ly"] = np.nan
    si = si.drop(columns=["has_cy", "has_ly"])
    return si if len(si) else None


def _sku_sell_out(engine: Engine, scope: Scope) -> pd.DataFrame | None:
    """Per SKU: store / online / total sell-out value of the period, and growth's parts over the weeks each
    retailer reported both years (share.sell_out_growth_parts), SKUs sold last year only included."""
    p = scope.period
    weekly = share.weekly_sell_out(engine, scope, by=("retailer_id", "sku_id", "sales_channel"))
    if weekly.empty:
        return None
    cur = weekly[weekly["week"].between(p.start, p.end)]
    wide = cur.pivot_table(index="sku_id", columns="sales_channel", values="value", aggfunc="sum")
    wide = wide.reindex(columns=["store", "online"]).add_suffix("_value")
    parts = share.sell_out_growth_parts(engine, scope, weekly.groupby(["retailer_id", "sku_id", "week"],
                                                                      as_index=False)["value"].sum(),
                                        by=("retailer_id", "sku_id"))
    parts = parts.groupby("sku_id")[["sell_out_value", "sell_out_comparable", "sell_out_value_ly"]].sum(min_count=1)
    return parts.join(wide, how="left").rename_axis("sku_id").reset_index()


def sku_table(engine: Engine, scope: Scope) -> pd.DataFrame:
    """Per SKU of the retailer(s) in scope: net sales this period and last year, growth, contribution to change
    on the view's basis (sell-in, else sell-out value), and sell-out value by sales channel with its own growth
    (see DEFINITIONS["SKU growth and contribution"])."""
    frames = [f for f in (_sku_sell_in(engine, scope) if engine.has("sell_in") else None,
                          _sku_sell_out(engine, scope) if engine.has("sell_out") else None) if f is not None]
    if not frames:
        return pd.DataFrame(columns=SKU_COLUMNS + SKU_INTERNAL)
    frame = frames[0]
    for other in frames[1:]:
        frame = frame.merge(other, on="sku_id", how="outer")
    for col in SKU_COLUMNS[4:-1] + SKU_INTERNAL:
        if col not in frame:
            frame[col] = np.nan
    frame = frame.merge(scopes.products(engine)[["sku_id", "sku_name", "category", "unit_cost"]], on="sku_id",
                        how="left")
    basis = "sell_in" if frame["net_sales"].notna().any() else "sell_out"
    frame["basis"] = basis
    comparable, ly = (("net_sales_comparable", "net_sales_ly") if basis == "sell_in"
                      else ("sell_out_comparable", "sell_out_value_ly"))
    frame["change"] = frame[comparable].fillna(0.0) - frame[ly].fillna(0.0)
    frame.loc[frame[comparable].isna() & frame[ly].isna(), "change"] = np.nan
    # Selling nothing this period after selling last year is -100%, not unknown.
    frame["growth"] = share.growth(frame[comparable].fillna(0.0), frame[ly])
    ly_total = frame[ly].sum(min_count=1)
    frame["contribution"] = frame["change"] / ly_total if pd.notna(ly_total) and ly_total > 0 else np.nan
    frame["sell_out_growth"] = share.growth(frame["sell_out_comparable"].fillna(0.0), frame["sell_out_value_ly"])
    size = "net_sales" if basis == "sell_in" else "sell_out_value"
    return frame[SKU_COLUMNS + SKU_INTERNAL].sort_values([size, "sku_id"], ascending=[False, True],
                                                         na_position="last").reset_index(drop=True)


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


def channel_trend(scope: Scope, sell_out: pd.DataFrame | None, reported: pd.Series | None = None) -> pd.DataFrame:
    """Weekly sell-out value by sales channel (from weekly_flows): columns week, store, online, online_share.
    A week the retailer did not report (reported: reported_mask) is empty, not 0."""
    cols = ["week", "store", "online", "online_share"]
    if sell_out is None and reported is not None and reported.any():  # reported, none of these SKUs sold
        sell_out = pd.DataFrame({"week": pd.Series(dtype="datetime64[ns]"), "sales_channel": pd.Series(dtype=str),
                                 "value": pd.Series(dtype=float)})
    if sell_out is None:
        return pd.DataFrame(columns=cols)
    wide = sell_out.pivot_table(index="week", columns="sales_channel", values="value", aggfunc="sum")
    wide = wide.reindex(index=_week_index(scope), columns=["store", "online"]).fillna(0.0)
    if reported is not None:
        wide.loc[~reported.to_numpy(), ["store", "online"]] = np.nan
    total = wide["store"] + wide["online"]
    wide["online_share"] = wide["online"] / total.where(total > 0)
    return wide.rename_axis("week").reset_index()[cols]


def monthly_plan(weeks: pd.DataFrame) -> pd.DataFrame:
    """Landing weeks (plan.landing_weeks, summed over retailers) rolled up to calendar months (targets are
    calendar-month rows; a week counts in the month its Monday falls in, calendar.month_of).

    Columns: month, actual (months with a loaded week), last_year, target (the whole month's), landing (actual +
    projection of months with a remaining week; the dashed continuation), weeks_loaded (the month's weeks up to
    sell-in's latest week, the landing's done weeks), weeks_in_month (calendar.weeks_of_month), target_loaded
    (the target of the loaded weeks only: what a month still running is compared with), last_year_loaded (the
    last year of those weeks) and partial (a month with some, not all, of its weeks loaded).
    """
    cols = ["month", "actual", "last_year", "target", "landing", "weeks_loaded", "weeks_in_month",
            "target_loaded", "last_year_loaded", "partial"]
    if weeks.empty:
        return pd.DataFrame(columns=cols)
    w = weeks.copy()
    w["week"] = pd.to_datetime(w["week"])
    w["month"] = [pd.Timestamp(*calendar.month_of(d.date(), calendar.GREGORIAN), 1) for d in w["week"]]
    done = w["basis"] == "actual"
    w["done_actual"] = w["actual"].where(done)
    w["done_target"] = w["target"].where(done)
    w["done_ly"] = w["ly_actual"].where(done)
    w["done_week"] = w["week"].where(done)
    w["is_remaining"] = ~done
    g = w.groupby("month")
    out = pd.DataFrame({
        "actual": g["done_actual"].sum(min_count=1),
        "last_year": g["ly_actual"].sum(min_count=1),
        "target": g["target"].sum(min_count=1),
        "projected": g["projected"].sum(min_count=1),
        "remaining": g["is_remaining"].any(),
        "weeks_loaded": g["done_week"].nunique(),  # retailers share the weeks: count each week once
        "target_loaded": g["done_target"].sum(min_count=1),
        "last_year_loaded": g["done_ly"].sum(min_count=1),
    }).reset_index()
    out["landing"] = np.where(out["remaining"], out["actual"].fillna(0.0) + out["projected"].fillna(0.0), np.nan)
    out.loc[out["remaining"] & out["projected"].isna(), "landing"] = np.nan
    out["weeks_in_month"] = [len(calendar.weeks_of_month(m.date())) for m in out["month"]]
    out["weeks_loaded"] = out["weeks_loaded"].astype(int)
    out["partial"] = (out["weeks_loaded"] > 0) & (out["weeks_loaded"] < out["weeks_in_month"])
    return out[cols]


def period_target(engine: Engine, scope: Scope, year_weeks: pd.DataFrame, year: int,
                  basis: str = "sell_in") -> float:
    """The period's target on the basis: net sales up to sell-in's own latest week, from the plan year's weekly
    targets (landing_weeks) when the period lies within that year, else read for the period (both spread by
    plan.weekly_targets); on sell-out, the sell-out target of the period (share.targets_on)."""
    if basis == "sell_out":
        return share.targets_on(engine, scope, basis)["target"].sum(min_count=1)
    p = scope.period
    end = min(p.end, share.table_latest(engine, "sell_in") or p.end)
    if dt.date(year, 1, 1) <= p.start and p.end <= dt.date(year, 12, 31) and len(year_weeks):
        weeks = year_weeks[(year_weeks["week"] >= pd.Timestamp(p.start)) & (year_weeks["week"] <= pd.Timestamp(end))]
        return weeks["target"].sum(min_count=1) if len(weeks) else np.nan
    return plan.target_by_retailer(engine, scope, p.start, end)["target"].sum(min_count=1)


@dataclass
class AccountData:
    retailer: dict  # retailer_id, retailer_name, channel, kam, region, strategic_priority
    kpis: dict  # includes basis ('sell_in' | 'sell_out') and unreported_weeks
    monthly: pd.DataFrame  # monthly_plan
    landing_year: int | None
    pipeline: pd.DataFrame  # PIPELINE_COLUMNS
    white_space: pd.DataFrame  # WHITE_SPACE_COLUMNS
    skus: pd.DataFrame  # SKU_COLUMNS
    channels: pd.DataFrame  # channel_trend
    missing: list[str] = field(default_factory=list)  # what this retailer's data lacks, in words


def _ratio_growth(current, last_year) -> float | None:
    return _num(share.growth(pd.Series([current], dtype=float), pd.Series([last_year], dtype=float)).iloc[0])


def account_page_data(engine: Engine, filters: Filters, account: str) -> AccountData | None:
    """Everything the Account review page shows for one retailer (None when the retailer is unknown).

    The sidebar's category and brand filters and the period apply; the retailer and channel filters are
    replaced by the one account. Its category mix is compared with the portfolio in view. The view's basis is
    sell-in where the account has sell-in in the period, else sell-out value (kpis["basis"]).
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
    basis = skus["basis"].iloc[0] if len(skus) else None
    year = plan.plan_year(filters, scope.period.latest_week)
    weeks = plan.landing_weeks(engine, mine, year)
    landing = plan.landing_summary(weeks, ["retailer_id"])  # = plan.landing, without a second scan
    sell_in_weeks, sell_out_weeks = weekly_flows(engine, scope)
    reported = reported_mask(engine, account, _week_index(scope)) if engine.has("sell_out") else None
    channels = channel_trend(scope, sell_out_weeks, reported)
    pipe = pipeline_frame(scope, account, sell_in_weeks, sell_out_weeks, reported)

    def total(col):
        return _num(skus[col].sum(min_count=1))

    net, target = total("net_sales"), _num(period_target(engine, scope, weeks, year, basis or "sell_in"))
    sell_out, online = total("sell_out_value"), total("online_value")
    value = sell_out if basis == "sell_out" else net
    kpis = {
        "basis": basis,
        "net_sales": net, "net_sales_ly": total("net_sales_ly"),
        "yoy_growth": _ratio_growth(total("net_sales_comparable"), total("net_sales_ly")),
        "net_sales_target": target, "attainment": plan.attainment(value, target),
        "sell_out_value": sell_out, "sell_out_value_ly": total("sell_out_value_ly"),
        "sell_out_growth": _ratio_growth(total("sell_out_comparable"), total("sell_out_value_ly")),
        "unreported_weeks": int(share.unreported_by_retailer(engine, scope).get(account, 0)),
        "online_share": online / sell_out if online is not None and sell_out else None,
        "margin_pct": sku_margin(skus),
        "landing_estimate": _num(landing["landing_estimate"].sum(min_count=1)) if len(landing) else None,
        "annual_target": _num(landing["annual_target"].sum(min_count=1)) if len(landing) else None,
    }
    kpis["landing_gap"] = (kpis["landing_estimate"] - kpis["annual_target"]
                           if kpis["landing_estimate"] is not None and kpis["annual_target"] is not None else None)

    missing = []
    if kpis["net_sales"] is None:
        missing.append("no sell-in (net sales) in this period" + (
            ", so its figures are of sell-out value" if basis == "sell_out" else ""))
    elif kpis["net_sales_ly"] is None:
        missing.append("no sales last year to compare with")
    if kpis["net_sales_target"] is None:
        what = "sell-out target" if basis == "sell_out" else "target"
        missing.append(f"no {what} for this period" + (" (targets have no brand)" if filters.brands else ""))
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


def biggest_account(engine: Engine, filters: Filters) -> str | None:
    """The retailer in view with the largest year-to-date sales (on the view's basis), or None."""
    shares = share.revenue_share(engine, _ytd(filters))
    shares = shares.dropna(subset=["value"])
    return None if shares.empty else str(shares["retailer_id"].iloc[0])  # ranked by value, largest first


def pick_account(choices: pd.DataFrame, known_ids, requested: str | None,
                 preferred: tuple[str | None, ...] = ()) -> tuple[str | None, str | None]:
    """The account to show for a requested id (from the URL) and a warning when it cannot be honoured.
    Without a request, the first of `preferred` in view (the account last viewed, then the biggest), else the
    first by name.

    The requested value is never echoed: it may be anything a link carries.
    """
    ids = list(choices["retailer_id"])
    if not ids:
        return None, None
    if requested is None:
        return next((p for p in preferred if p in ids), ids[0]), None
    if requested in ids:
        return requested, None
    first = choices["retailer_name"].iloc[0]
    if requested in set(known_ids):
        return ids[0], f"The account in the link is outside the sidebar filters; showing {first}."
    return ids[0], f"The account in the link is not a known retailer; showing {first}."
