"""Figures for revenue share and plan by retailer."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from kam_dash.charts import CLASS_COLORS, PALETTE, aligned_axes, base_layout

VALUE_TITLES = {"sell_in": "Net sales", "sell_out": "Sell-out value"}


def value_title(frame: pd.DataFrame) -> str:
    """'Net sales' or 'Sell-out value': the one basis of the view (the frame's `basis` column)."""
    basis = frame["basis"].dropna() if "basis" in frame else pd.Series(dtype=object)
    return VALUE_TITLES.get(basis.iloc[0] if len(basis) else "sell_in", "Net sales")


def net_sales_vs_plan(shares: pd.DataFrame) -> go.Figure:
    """Value (the view's basis) by retailer with each retailer's target of the same weeks beside it."""
    frame = shares.dropna(subset=["value"])
    title = value_title(shares)
    fig = go.Figure()
    fig.add_bar(x=frame["retailer_name"], y=frame["value"], name=title, marker_color=PALETTE["actual"],
                customdata=frame[["retailer_id"]], hovertemplate="%{x}<br>" + title + " %{y:,.0f}<extra></extra>")
    fig.add_bar(x=frame["retailer_name"], y=frame["net_sales_target"], name="Plan", marker_color=PALETTE["target"],
                hovertemplate="%{x}<br>Plan %{y:,.0f}<extra></extra>")
    fig.update_layout(barmode="group", yaxis_title=title, xaxis_tickangle=-40)
    return base_layout(fig, f"{title} by retailer vs plan")


def pareto(shares: pd.DataFrame) -> go.Figure:
    """Bars of value (the view's basis) by retailer, the cumulative share line, and A/B/C bands."""
    frame = shares.dropna(subset=["share"])
    title = value_title(shares)
    fig = go.Figure()
    fig.add_bar(x=frame["retailer_name"], y=frame["value"], name=title,
                marker_color=[CLASS_COLORS.get(c, PALETTE["neutral"]) for c in frame["abc_class"]],
                customdata=frame[["retailer_id", "abc_class"]],
                hovertemplate="%{x} (class %{customdata[1]})<br>" + title + " %{y:,.0f}<extra></extra>")
    fig.add_scatter(x=frame["retailer_name"], y=frame["cum_share"], name="Cumulative share", yaxis="y2",
                    mode="lines+markers", cliponaxis=False, line=dict(color=PALETTE["target"]),
                    hovertemplate="%{x}<br>Cumulative %{y:.1%}<extra></extra>")
    for cut in (0.80, 0.95):
        fig.add_hline(y=cut, yref="y2", line=dict(dash="dot", color=PALETTE["neutral"]),
                      annotation_text=f"{cut:.0%}", annotation_position="right")
    main, second = aligned_axes(frame["value"], [*frame["cum_share"], 1.0], second_top=1.0, headroom=0.0)
    fig.update_layout(yaxis=dict(title=title, **main),
                      yaxis2=dict(title="Cumulative share", overlaying="y", side="right", tickformat=".0%",
                                  showgrid=False, **second),
                      xaxis_tickangle=-40)
    return base_layout(fig, f"Revenue concentration (Pareto, A/B/C), {title.lower()}")


def treemap(accounts: pd.DataFrame) -> go.Figure:
    """Value (the view's basis) by channel and retailer (retailers with a positive value; a treemap cannot show
    less)."""
    title = value_title(accounts)
    frame = accounts[accounts["value"] > 0].rename(columns={"value": "amount"})
    channels = frame.groupby("channel", as_index=False)["amount"].sum()
    total = frame["amount"].sum()
    ids = ["all"] + [f"c/{c}" for c in channels["channel"]] + [f"r/{r}" for r in frame["retailer_id"]]
    labels = ["All retailers"] + list(channels["channel"]) + list(frame["retailer_name"])
    parents = [""] + ["all"] * len(channels) + [f"c/{c}" for c in frame["channel"]]
    values = [total] + list(channels["amount"]) + list(frame["amount"])
    # customdata carries the retailer id so a click can open that account (empty for the channel boxes)
    custom = [[""]] * (1 + len(channels)) + [[r] for r in frame["retailer_id"]]
    fig = go.Figure(go.Treemap(
        ids=ids, labels=labels, parents=parents, values=values, branchvalues="total", customdata=custom,
        texttemplate="%{label}<br>%{percentRoot:.1%}",
        hovertemplate="%{label}<br>" + title + " %{value:,.0f}<br>%{percentRoot:.1%} of all<extra></extra>",
        marker=dict(colors=[PALETTE["neutral"]] + [PALETTE["last_year"]] * len(channels)
                    + [PALETTE["actual"]] * len(frame)),
    ))
    return base_layout(fig, f"{title} by channel and retailer")


def plan_vs_actual_share(accounts: pd.DataFrame) -> go.Figure:
    """Each retailer's share of value (the view's basis) beside its share of the plan (targets)."""
    frame = accounts.dropna(subset=["share"]).sort_values("share", ascending=False)
    fig = go.Figure()
    fig.add_bar(x=frame["retailer_name"], y=frame["share"], name="Actual share", marker_color=PALETTE["actual"],
                customdata=frame[["retailer_id"]], hovertemplate="%{x}<br>Actual %{y:.1%}<extra></extra>")
    fig.add_bar(x=frame["retailer_name"], y=frame["plan_share"], name="Plan share", marker_color=PALETTE["target"],
                customdata=frame[["retailer_id"]], hovertemplate="%{x}<br>Plan %{y:.1%}<extra></extra>")
    fig.update_layout(barmode="group", yaxis=dict(title="Share", tickformat=".0%"), xaxis_tickangle=-40)
    return base_layout(fig, "Plan share vs actual share")
