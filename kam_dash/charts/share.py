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
