"""Figures for revenue share and plan by retailer."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from kam_dash.charts import CLASS_COLORS, PALETTE, base_layout


def net_sales_vs_plan(shares: pd.DataFrame) -> go.Figure:
    """Net sales by retailer with each retailer's target of the same weeks beside it."""
    frame = shares.dropna(subset=["net_sales"])
    fig = go.Figure()
    fig.add_bar(x=frame["retailer_name"], y=frame["net_sales"], name="Net sales", marker_color=PALETTE["actual"],
                customdata=frame[["retailer_id"]], hovertemplate="%{x}<br>Net sales %{y:,.0f}<extra></extra>")
    fig.add_bar(x=frame["retailer_name"], y=frame["net_sales_target"], name="Plan", marker_color=PALETTE["target"],
                hovertemplate="%{x}<br>Plan %{y:,.0f}<extra></extra>")
    fig.update_layout(barmode="group", yaxis_title="Net sales", xaxis_tickangle=-40)
    return base_layout(fig, "Net sales by retailer vs plan")


def pareto(shares: pd.DataFrame) -> go.Figure:
    """Bars of net sales by retailer, the cumulative share line, and A/B/C bands."""
    frame = shares.dropna(subset=["share"])
    fig = go.Figure()
    fig.add_bar(x=frame["retailer_name"], y=frame["net_sales"], name="Net sales",
                marker_color=[CLASS_COLORS.get(c, PALETTE["neutral"]) for c in frame["abc_class"]],
                customdata=frame[["retailer_id", "abc_class"]],
                hovertemplate="%{x} (class %{customdata[1]})<br>Net sales %{y:,.0f}<extra></extra>")
    fig.add_scatter(x=frame["retailer_name"], y=frame["cum_share"], name="Cumulative share", yaxis="y2",
                    mode="lines+markers", line=dict(color=PALETTE["target"]),
                    hovertemplate="%{x}<br>Cumulative %{y:.1%}<extra></extra>")
    for cut in (0.80, 0.95):
        fig.add_hline(y=cut, yref="y2", line=dict(dash="dot", color=PALETTE["neutral"]),
                      annotation_text=f"{cut:.0%}", annotation_position="right")
    fig.update_layout(yaxis=dict(title="Net sales"),
                      yaxis2=dict(title="Cumulative share", overlaying="y", side="right", tickformat=".0%",
                                  range=[0, 1.05]),
                      xaxis_tickangle=-40)
    return base_layout(fig, "Revenue concentration (Pareto, A/B/C)")


def treemap(accounts: pd.DataFrame) -> go.Figure:
    """Net sales by channel and retailer (retailers with positive net sales; a treemap cannot show less)."""
    frame = accounts[accounts["net_sales"] > 0]
    channels = frame.groupby("channel", as_index=False)["net_sales"].sum()
    total = frame["net_sales"].sum()
    ids = ["all"] + [f"c/{c}" for c in channels["channel"]] + [f"r/{r}" for r in frame["retailer_id"]]
    labels = ["All retailers"] + list(channels["channel"]) + list(frame["retailer_name"])
    parents = [""] + ["all"] * len(channels) + [f"c/{c}" for c in frame["channel"]]
    values = [total] + list(channels["net_sales"]) + list(frame["net_sales"])
    # customdata carries the retailer id so a click can open that account (empty for the channel boxes)
    custom = [[""]] * (1 + len(channels)) + [[r] for r in frame["retailer_id"]]
    fig = go.Figure(go.Treemap(
        ids=ids, labels=labels, parents=parents, values=values, branchvalues="total", customdata=custom,
        texttemplate="%{label}<br>%{percentRoot:.1%}",
        hovertemplate="%{label}<br>Net sales %{value:,.0f}<br>%{percentRoot:.1%} of all<extra></extra>",
        marker=dict(colors=[PALETTE["neutral"]] + [PALETTE["last_year"]] * len(channels)
                    + [PALETTE["actual"]] * len(frame)),
    ))
    return base_layout(fig, "Net sales by channel and retailer")


def plan_vs_actual_share(accounts: pd.DataFrame) -> go.Figure:
    """Each retailer's share of net sales beside its share of the plan (targets)."""
    frame = accounts.dropna(subset=["share"]).sort_values("share", ascending=False)
    fig = go.Figure()
    fig.add_bar(x=frame["retailer_name"], y=frame["share"], name="Actual share", marker_color=PALETTE["actual"],
                customdata=frame[["retailer_id"]], hovertemplate="%{x}<br>Actual %{y:.1%}<extra></extra>")
    fig.add_bar(x=frame["retailer_name"], y=frame["plan_share"], name="Plan share", marker_color=PALETTE["target"],
                customdata=frame[["retailer_id"]], hovertemplate="%{x}<br>Plan %{y:.1%}<extra></extra>")
    fig.update_layout(barmode="group", yaxis=dict(title="Share", tickformat=".0%"), xaxis_tickangle=-40)
    return base_layout(fig, "Plan share vs actual share")
