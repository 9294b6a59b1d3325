"""Figures for inventory: the coverage heatmap, cover against the agreed band, the stock reconciliation
waterfall and pipeline fill."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from kam_dash.charts import PALETTE, aligned_axes, base_layout

STATUS_COLORS = {
    "oos": PALETTE["bad"],
    "low": PALETTE["warn"],
    "ok": PALETTE["good"],
    "high": "#7b5ea7",
    "no_sales": PALETTE["neutral"],
    "too_few_weeks": "#c9c9c9",
}
LEGEND_BELOW = {"legend": dict(orientation="h", yanchor="top", y=-0.12, x=0)}  # clear of the title
STATUS_LABELS = {"oos": "Out of stock", "low": "Below band", "ok": "In band", "high": "Above band",
                 "no_sales": "Stock, no sales", "too_few_weeks": "Stock, too few weeks to average"}


def coverage_heatmap(cells: pd.DataFrame, retailer_name: str, window: int) -> go.Figure:
    """SKU x week, each cell coloured by its cover status and labelled with its weeks of cover."""
    order = list(STATUS_COLORS)
    code = {s: i for i, s in enumerate(order)}
    frame = cells.assign(label=cells["sku_name"].fillna(cells["sku_id"]))
    z = frame.pivot_table(index="label", columns="week", values="status",
                          aggfunc="first").map(lambda s: code.get(s) if isinstance(s, str) else None)
    cover = frame.pivot_table(index="label", columns="week", values="weeks_of_cover", aggfunc="first")
    cover = cover.reindex(index=z.index, columns=z.columns)
    status = z.map(lambda c: STATUS_LABELS[order[int(c)]] if pd.notna(c) else "no stock count")
    # a stepwise scale: each status code gets one flat colour band
    n = len(order)
    scale = []
    for i, s in enumerate(order):
        scale += [(i / n, STATUS_COLORS[s]), ((i + 1) / n, STATUS_COLORS[s])]
    fig = go.Figure(go.Heatmap(
        z=z.to_numpy(dtype=float), x=list(z.columns), y=list(z.index), zmin=-0.5, zmax=n - 0.5,
        colorscale=scale, showscale=False, xgap=1, ygap=1,
        customdata=np.dstack([status.to_numpy(dtype=object), cover.to_numpy(dtype=object)]),
        hovertemplate="%{y}<br>week of %{x|%d %b %Y}<br>%{customdata[0]}<br>"
                      "%{customdata[1]:.1f} weeks of cover<extra></extra>",
    ))
    for s in order:  # a legend for the discrete colours
        fig.add_scatter(x=[None], y=[None], mode="markers", name=STATUS_LABELS[s],
                        marker=dict(color=STATUS_COLORS[s], symbol="square", size=12))
    height = max(320, 22 * len(z.index) + 160)
    fig = base_layout(fig, f"{retailer_name}: cover status by SKU and week ({window}-week average)", height)
    return fig.update_layout(yaxis=dict(autorange="reversed", title=None), xaxis_title=None, plot_bgcolor="white",
                             **LEGEND_BELOW)


def cover_trend(trend: pd.DataFrame, band: tuple[float, float], retailer_name: str, window: int) -> go.Figure:
    """The retailer's weeks of cover week by week, with its agreed band shaded, and the share of lines in stock
    on a right axis whose round ticks share the left axis' gridlines and zero (aligned_axes)."""
    fig = go.Figure()
    low, high = band
    fig.add_hrect(y0=low, y1=high, fillcolor=PALETTE["good"], opacity=0.12, line_width=0,
                  annotation_text=f"agreed band {low:g}-{high:g} weeks", annotation_position="top left")
    fig.add_scatter(x=trend["week"], y=trend["weeks_of_cover"], mode="lines+markers", name="Weeks of cover",
                    line=dict(color=PALETTE["actual"]),
                    hovertemplate="week of %{x|%d %b %Y}<br>%{y:.1f} weeks of cover<extra></extra>")
    fig.add_scatter(x=trend["week"], y=trend["in_stock_share"], mode="lines", name="Lines in stock",
                    yaxis="y2", line=dict(color=PALETTE["neutral"], dash="dot"),
                    hovertemplate="week of %{x|%d %b %Y}<br>%{y:.1%} of lines in stock<extra></extra>")
    # the band's top is always in view; a share never reads above 100%
    main, second = aligned_axes([*trend["weeks_of_cover"], high * 1.1], [*trend["in_stock_share"], 1.0],
                                headroom=0.0, second_top=1.0)
    fig = base_layout(fig, f"{retailer_name}: weeks of cover ({window}-week average) against the agreed band")
    return fig.update_layout(yaxis=dict(title="Weeks of cover", **main),
                             yaxis2=dict(title="Lines in stock", overlaying="y", side="right", tickformat=".0%",
                                         showgrid=False, **second), **LEGEND_BELOW)


def reconciliation_waterfall(row: pd.Series, title: str) -> go.Figure:
    """Opening stock + sell-in - sell-out - unexplained = closing stock, in units, in two panels: the stock
    levels (opening, closing) and what changed them (sell-in minus sell-out, the unexplained part, the change
    in stock), each on its own scale. Sell-in and sell-out are far larger than stock: drawn whole they would
    hide the rest, so their difference is the step and both are named in its label and hover."""
    def units(value) -> str:
        return "–" if pd.isna(value) else f"{value:,.0f}"

    net_flow = row["sell_in_units"] - row["sell_out_units"]
    fig = make_subplots(rows=1, cols=2, column_widths=[0.4, 0.6], horizontal_spacing=0.12,
                        subplot_titles=["Stock (units)", "What changed it (units)"])
    levels = [("Opening stock", row["opening_units"]), ("Closing stock", row["closing_units"])]
    fig.add_trace(go.Bar(x=[s[0] for s in levels], y=[s[1] for s in levels], marker_color=PALETTE["actual"],
                         text=[units(s[1]) for s in levels], textposition="auto", name="Stock",
                         hovertemplate="%{x}<br>%{y:,.0f} units<extra></extra>"), row=1, col=1)
    flow_label = f"Sell-in {units(row['sell_in_units'])}<br>- sell-out {units(row['sell_out_units'])}"
    steps = [(flow_label, net_flow, "relative"), ("- Unexplained", -row["unexplained_units"], "relative"),
             ("Change in stock", row["closing_units"] - row["opening_units"], "total")]
    fig.add_trace(go.Waterfall(
        x=[s[0] for s in steps], y=[s[1] for s in steps], measure=[s[2] for s in steps], name="Change",
        text=[f"{v + 0.0:+,.0f}" if pd.notna(v) else "–" for _, v, _ in steps], textposition="outside",
        increasing=dict(marker_color=PALETTE["good"]), decreasing=dict(marker_color=PALETTE["bad"]),
        totals=dict(marker_color=PALETTE["neutral"]), connector=dict(line=dict(color=PALETTE["neutral"])),
        hovertemplate="%{x}<br>%{y:+,.0f} units<extra></extra>"), row=1, col=2)
    # room for the labels outside the bars, and zero always in view
    walk = [0.0, net_flow, net_flow - row["unexplained_units"]]
    low, high = min(walk), max(walk)
    pad = max((high - low) * 0.25, 1.0)
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_yaxes(range=[low - (pad if low < 0 else 0), high + pad], zeroline=True, row=1, col=2)
    fig.update_layout(showlegend=False)
    return base_layout(fig, title)


def pipeline_fill(fill: pd.DataFrame, limit: float, weeks: int) -> go.Figure:
    """Pipeline fill in weeks of sell-out per retailer, with the warning line."""
    frame = fill.dropna(subset=["fill_weeks"])
    colors = [PALETTE["bad"] if w else PALETTE["actual"] for w in frame["warning"]]
    fig = go.Figure(go.Bar(x=frame["retailer_name"].fillna(frame["retailer_id"]), y=frame["fill_weeks"],
                           marker_color=colors,
                           hovertemplate="%{x}<br>%{y:.1f} weeks of sell-out<extra></extra>"))
    fig.add_hline(y=limit, line=dict(dash="dot", color=PALETTE["bad"]),
                  annotation_text=f"limit: {limit:g} weeks of sell-out", annotation_position="top left")
    fig.update_layout(yaxis_title="Fill (weeks of sell-out)", xaxis_tickangle=-40, showlegend=False)
    return base_layout(fig, f"Pipeline fill over the last {weeks} weeks (sell-in minus sell-out)")
