"""Figures for seasonality: the index heatmap, year-over-year lines, retailer vs portfolio, plan phasing
against the season, and the trend / seasonal / remainder split."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from kam_dash.charts import PALETTE, base_layout
from kam_dash.charts.plan import legend_below

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# A diverging scale centred on 100 (an average period): blue below, orange above.
INDEX_SCALE = [[0.0, "#1f5fa8"], [0.5, "#f7f7f7"], [1.0, "#d9480f"]]
# Earlier years in distinct hues (newest first); the latest year is drawn in the house blue, thicker.
EARLIER_YEAR_COLORS = ("#f08a24", "#2e9e5b", "#8e5ea2", "#d64541", "#8a8f98", "#b8860b")
LATEST_YEAR_COLOR = PALETTE["actual"]
# The ISO week each month's first Monday usually falls in: month ticks for a week-grain axis.
MONTH_START_WEEKS = (1, 5, 9, 14, 18, 22, 27, 31, 36, 40, 44, 49)


def _index_scale(top: float) -> list:
    """INDEX_SCALE stretched over 0..top with its white point at 100."""
    mid = 100.0 / top
    return [[0.0, INDEX_SCALE[0][1]], [mid, INDEX_SCALE[1][1]], [1.0, INDEX_SCALE[2][1]]]


def _labels(periods, grain: str) -> list[str]:
    return [MONTHS[int(p) - 1] if grain == "month" else f"W{int(p):02d}" for p in periods]


def index_heatmap(index: pd.DataFrame, grain: str) -> go.Figure:
    """Series (categories) down, periods across, coloured by index around 100. At week grain the axis is
    numbered by ISO week and ticked by month (52 week labels cannot be read)."""
    wide = index.pivot_table(index="series", columns="period", values="index").sort_index(ascending=False)
    what = "month" if grain == "month" else "week"
    by_week = grain != "month"
    # from 0 (an index is never negative) with white at 100: blue below an average period, orange above
    top = max(200.0, math.ceil(float(np.nanmax(wide.to_numpy()))) if wide.notna().any().any() else 200.0)
    fig = go.Figure(go.Heatmap(
        z=wide.to_numpy(), x=[int(p) for p in wide.columns] if by_week else _labels(wide.columns, grain),
        y=list(wide.index), colorscale=_index_scale(top), zmin=0, zmax=top,
        colorbar=dict(title=dict(text=f"Index<br>(100 = an<br>average {what})")),
        text=wide.round(0).to_numpy(), texttemplate=None if by_week else "%{text:.0f}",
        hovertemplate="%{y}, " + ("week %{x}" if by_week else "%{x}") + "<br>Index %{z:.1f}<extra></extra>"))
    if by_week:
        fig.update_layout(xaxis=dict(type="linear", tickmode="array", tickvals=list(MONTH_START_WEEKS),
                                     ticktext=list(MONTHS), title="ISO week (ticks at each month's start)"))
    else:
        fig.update_layout(xaxis=dict(type="category"))
    fig.update_layout(yaxis=dict(type="category"))
    title = "Seasonal index by category and month" if grain == "month" else "Seasonal index by category and ISO week"
    return base_layout(fig, title, height=max(260, 60 + 34 * len(wide)))


def yoy_lines(yoy: pd.DataFrame, category: str) -> go.Figure:
    """Weekly units, one line per ISO year, on an ISO-week axis from zero units: the latest year in blue and
    thicker, earlier years each in a hue of its own."""
    fig = go.Figure()
    years = sorted(yoy["year"].unique())
    for i, year in enumerate(years):
        one = yoy[yoy["year"] == year].sort_values("week_of_year")
        latest = i == len(years) - 1
        back = len(years) - 2 - i  # 0 = the year before the latest
        color = LATEST_YEAR_COLOR if latest else EARLIER_YEAR_COLORS[back % len(EARLIER_YEAR_COLORS)]
        fig.add_scatter(x=one["week_of_year"], y=one["units"], mode="lines", name=str(year),
                        line=dict(color=color, width=3.5 if latest else 1.8),
                        hovertemplate=f"{year} W%{{x}}<br>%{{y:,.0f}} units<extra></extra>")
    fig.update_layout(xaxis=dict(title="ISO week", range=[1, 53], dtick=4),
                      yaxis=dict(title="Sell-out units", rangemode="tozero"))
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
    # two traces, so the legend says what each colour means
    for above, name, color in ((True, "Plan asks more than the season", PALETTE["bad"]),
                               (False, "Plan asks less than the season", PALETTE["good"])):
        pick = (gap > 0) if above else (gap <= 0)
        fig.add_bar(x=[m for m, p in zip(months, pick) if p], y=gap[pick], base=frame["seasonal_index"][pick],
                    name=name, opacity=0.35, marker_color=color,
                    hovertemplate="%{x}<br>Plan minus season %{y:+.1f} points<extra></extra>")
    fig.add_scatter(x=months, y=frame["seasonal_index"], name="Seasonal index", mode="lines+markers",
                    line=dict(color=PALETTE["actual"]), hovertemplate="%{x}<br>Season %{y:.1f}<extra></extra>")
    fig.add_scatter(x=months, y=frame["plan_index"], name=f"Plan {year or ''} phasing".replace("  ", " "),
                    mode="lines+markers", line=dict(color=PALETTE["target"], dash="dash"),
                    hovertemplate="%{x}<br>Plan %{y:.1f}<extra></extra>")
    fig.add_hline(y=100, line=dict(color=PALETTE["neutral"], width=1))
    fig.update_layout(xaxis=dict(type="category", categoryorder="array", categoryarray=months),
                      yaxis=dict(title="Index (100 = average month)"), barmode="overlay")
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
