"""Figures for store-level POS: the distribution x velocity quadrant and the distribution trend."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from kam_dash.charts import PALETTE, aligned_axes, base_layout


def quadrant(skus: pd.DataFrame, retailer_names: dict[str, str]) -> go.Figure:
    """One point per retailer x SKU: %ACV distribution across, velocity up, sized by units; the lines are the
    medians, so the four corners read: widen distribution, defend, fix the rate of sale, review."""
    frame = skus.dropna(subset=["acv_distribution", "velocity"]).assign(
        retailer=lambda f: f["retailer_id"].map(retailer_names).fillna(f["retailer_id"]),
        label=lambda f: f["sku_name"].fillna(f["sku_id"]))
    fig = px.scatter(frame, x="acv_distribution", y="velocity", size="units", color="retailer",
                     hover_name="label", hover_data={"numeric_distribution": ":.0%", "acv_distribution": ":.0%",
                                                     "velocity": ":.1f", "units": ":,.0f", "retailer": True},
                     labels={"acv_distribution": "%ACV distribution", "velocity": "Units per store selling per week",
                             "numeric_distribution": "Numeric distribution", "retailer": "Retailer"})
    if len(frame):
        fig.add_vline(x=float(frame["acv_distribution"].median()), line_dash="dot", line_color=PALETTE["neutral"])
        fig.add_hline(y=float(frame["velocity"].median()), line_dash="dot", line_color=PALETTE["neutral"])
    fig.update_xaxes(tickformat=".0%", range=[0, 1.05])
    return base_layout(fig, "Distribution x velocity per SKU (lines: medians)", height=460)


def trend(weekly: pd.DataFrame, retailer_names: dict[str, str]) -> go.Figure:
    """Per retailer and week: total distribution points (left) and velocity (right, dotted)."""
    fig = go.Figure()
    for rid, g in weekly.groupby("retailer_id", sort=True):
        name = retailer_names.get(rid, rid)
        fig.add_trace(go.Scatter(x=g["week"], y=g["tdp"], name=f"{name} TDP", mode="lines"))
        fig.add_trace(go.Scatter(x=g["week"], y=g["velocity"], name=f"{name} velocity", mode="lines",
                                 line=dict(dash="dot"), yaxis="y2"))
    main, second = aligned_axes(weekly["tdp"] if len(weekly) else [], weekly["velocity"] if len(weekly) else [])
    fig.update_layout(yaxis=dict(title="Total distribution points", **main),
                      yaxis2=dict(title="Units per store selling", overlaying="y", side="right", showgrid=False,
                                  **second))
    return base_layout(fig, "Distribution points and velocity by week", height=400)
