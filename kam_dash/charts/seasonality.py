"""Figures for seasonality: the index heatmap, year-over-year lines, retailer vs portfolio, plan phasing
against the season, and the trend / seasonal / remainder split."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from kam_dash.charts import PALETTE, base_layout
from kam_dash.charts.plan import legend_below

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# A diverging scale centred on 100 (an average period): blue below, orange above.
INDEX_SCALE = [[0.0, "#1f5fa8"], [0.5, "#f7f7f7"], [1.0, "#d9480f"]]
YEAR_COLORS = ("#c3d4ea", "#9bb7d4", "#6d9dd1", "#1f5fa8", "#0b3d77", "#f08a24")


def _labels(periods, grain: str) -> list[str]:
    return [MONTHS[int(p) - 1] if grain == "month" else f"W{int(p):02d}" for p in periods]


def index_heatmap(index: pd.DataFrame, grain: str) -> go.Figure:
    """Series (categories) down, periods across, coloured by index around 100."""
    wide = index.pivot_table(index="series", columns="period", values="index").sort_index(ascending=False)
    fig = go.Figure(go.Heatmap(
        z=wide.to_numpy(), x=_labels(wide.columns, grain), y=list(wide.index), colorscale=INDEX_SCALE,
        zmid=100, colorbar=dict(title="Index"),
        text=wide.round(0).to_numpy(), texttemplate="%{text:.0f}" if grain == "month" else None,
        hovertemplate="%{y}, %{x}<br>Index %{z:.1f}<extra></extra>"))
    fig.update_layout(xaxis=dict(type="category"), yaxis=dict(type="category"))
    title = "Seasonal index by category and month" if grain == "month" else "Seasonal index by category and ISO week"
    return base_layout(fig, title, height=max(260, 60 + 34 * len(wide)))


def yoy_lines(yoy: pd.DataFrame, category: str) -> go.Figure:
    """Weekly units, one line per ISO year, on an ISO-week axis."""
    fig = go.Figure()
    years = sorted(yoy["year"].unique())
    for i, year in enumerate(years):
        one = yoy[yoy["year"] == year].sort_values("week_of_year")
        color = YEAR_COLORS[-1] if i == len(years) - 1 else YEAR_COLORS[min(i, len(YEAR_COLORS) - 2)]
        fig.add_scatter(x=one["week_of_year"], y=one["units"], mode="lines", name=str(year),
                        line=dict(color=color, width=3 if i == len(years) - 1 else 2),
                        hovertemplate=f"{year} W%{{x}}<br>%{{y:,.0f}} units<extra></extra>")
    fig.update_layout(xaxis=dict(title="ISO week", range=[1, 53], dtick=4), yaxis=dict(title="Sell-out units"))
    return legend_below(base_layout(fig, f"{category}: weekly sell-out, year over year"))


def retailer_vs_portfolio(comparison: pd.DataFrame, grain: str, category: str) -> go.Figure:
    """The chosen retailer's index beside the portfolio's (series 'Portfolio')."""
    fig = go.Figure()
    for name, one in comparison.groupby("series", sort=False):
        one = one.sort_values("period")
        portfolio = name == "Portfolio"
        fig.add_scatter(x=_labels(one["period"], grain), y=one["index"], name=name, mode="lines+markers",
                        line=dict(color=PALETTE["neutral"] if portfolio else PALETTE["actual"],
                                  dash="dot" if portfolio else "solid"),
                        hovertemplate=f"{name}, %{{x}}<br>Index %{{y:.1f}}<extra></extra>")
    fig.add_hline(y=100, line=dict(color=PALETTE["neutral"], width=1))
    fig.update_layout(xaxis=dict(type="category"), yaxis=dict(title="Index (100 = average)"))
    return legend_below(base_layout(fig, f"{category}: retailer vs portfolio seasonality"))


def plan_vs_season(phasing: pd.DataFrame, category: str, year: int | None, measure: str | None) -> go.Figure:
    """The plan's monthly phasing index against the seasonal index, with a bar between the two lines: red
    where the plan asks for more than the season gives, green where it asks for less."""
    frame = phasing.sort_values("period")
    months = _labels(frame["period"], "month")
    gap = (frame["plan_index"] - frame["seasonal_index"]).fillna(0.0)
    fig = go.Figure()
    fig.add_bar(x=months, y=gap, base=frame["seasonal_index"], name="Plan minus season", opacity=0.35,
                marker_color=[PALETTE["bad"] if g > 0 else PALETTE["good"] for g in gap],
                hovertemplate="%{x}<br>Plan minus season %{y:+.1f} points<extra></extra>")
    fig.add_scatter(x=months, y=frame["seasonal_index"], name="Seasonal index", mode="lines+markers",
                    line=dict(color=PALETTE["actual"]), hovertemplate="%{x}<br>Season %{y:.1f}<extra></extra>")
    fig.add_scatter(x=months, y=frame["plan_index"], name=f"Plan {year or ''} phasing".replace("  ", " "),
                    mode="lines+markers", line=dict(color=PALETTE["target"], dash="dash"),
                    hovertemplate="%{x}<br>Plan %{y:.1f}<extra></extra>")
    fig.add_hline(y=100, line=dict(color=PALETTE["neutral"], width=1))
    fig.update_layout(xaxis=dict(type="category"), yaxis=dict(title="Index (100 = average month)"))
    suffix = f" ({measure})" if measure else ""
    return legend_below(base_layout(fig, f"{category}: plan phasing vs seasonality{suffix}"))


def stl_panels(stl: pd.DataFrame, category: str) -> go.Figure:
    """Observed weekly units and their trend, seasonal and remainder parts, one panel each."""
    parts = (("observed", "Weekly units"), ("trend", "Trend"), ("seasonal", "Seasonal"),
             ("remainder", "Remainder"))
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=[label for _, label in parts])
    for row, (col, label) in enumerate(parts, start=1):
        hover = f"%{{x|%d %b %Y}}<br>{label} %{{y:,.0f}}<extra></extra>"
        if col == "remainder":
            trace = go.Bar(x=stl["week"], y=stl[col], marker_color=PALETTE["neutral"], hovertemplate=hover)
        else:
            trace = go.Scatter(x=stl["week"], y=stl[col], mode="lines", line=dict(color=PALETTE["actual"]),
                               hovertemplate=hover)
        fig.add_trace(trace.update(name=label, showlegend=False), row=row, col=1)
    if "interpolated" in stl and stl["interpolated"].any():
        # Weeks a retailer did not report are interpolated, not zeros: mark them so nobody reads them as sales.
        gaps = stl[stl["interpolated"]]
        fig.add_trace(go.Scatter(x=gaps["week"], y=gaps["observed"], mode="markers", name="Interpolated (unreported)",
                                 marker=dict(color=PALETTE["neutral"], symbol="circle-open", size=8),
                                 hovertemplate="%{x|%d %b %Y}<br>Unreported week, interpolated %{y:,.0f}"
                                               "<extra></extra>"), row=1, col=1)
    return base_layout(fig, f"{category}: trend, seasonal and remainder (STL)", height=640)
