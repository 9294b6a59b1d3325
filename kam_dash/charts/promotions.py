"""Figures for promotions: the calendar, one event against its baselines, lift vs depth, ROI."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from kam_dash.charts import PALETTE, base_layout

MECHANIC_COLORS = {
    "tpr": "#1f5fa8", "multibuy": "#f08a24", "bogo": "#d64541", "display": "#2e9e5b", "feature": "#8e5ea2",
    "other": "#8a8f98",
}
METHOD_COLORS = {"pre_period": "#f08a24", "pre_post": "#2e9e5b", "seasonal_pre": "#8e5ea2",
                 "last_year": "#d64541"}
METHOD_DASH = {"pre_period": "solid", "pre_post": "dash", "seasonal_pre": "dot", "last_year": "dashdot"}


def _legend_below(fig: go.Figure) -> go.Figure:
    # below the plot: above it the legend runs into a long title or a half-width chart's title
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))
    return fig


def _pct(value) -> str:
    return "–" if pd.isna(value) else f"{value * 100:+.0f}%"


def calendar(events: pd.DataFrame, rows: str = "sku", start=None, end=None) -> go.Figure:
    """A Gantt of the events: one row per retailer x SKU (or brand), a bar per event coloured by mechanic,
    over the period start..end (when given)."""
    frame = events.copy()
    what = frame["sku_name"] if rows == "sku" else frame["brand"].fillna("(no brand)")
    frame["row"] = frame["retailer_name"] + " · " + what.astype(str)
    frame["finish"] = pd.to_datetime(frame["end_date"]) + pd.Timedelta(days=1)  # the end date is inclusive
    frame["days"] = (frame["finish"] - pd.to_datetime(frame["start_date"])).dt.days
    order = sorted(frame["row"].unique(), reverse=True)
    fig = go.Figure()
    for mechanic, g in frame.groupby("mechanic", sort=True):
        # a horizontal bar on a date axis: base = start, length in milliseconds (as px.timeline draws it)
        fig.add_bar(
            y=g["row"], x=g["days"] * 86_400_000, base=pd.to_datetime(g["start_date"]), orientation="h",
            name=mechanic, marker_color=MECHANIC_COLORS.get(mechanic, PALETTE["neutral"]),
            customdata=g[["promo_id", "days"]].to_numpy(),
            hovertemplate="%{customdata[0]} · %{y}<br>from %{base|%d %b %Y}, %{customdata[1]} days"
                          "<extra>" + mechanic + "</extra>",
        )
    xaxis = dict(type="date")
    if start is not None and end is not None:
        xaxis["range"] = [pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=7)]
    fig.update_layout(barmode="overlay", xaxis=xaxis,
                      yaxis=dict(categoryorder="array", categoryarray=order, title=None))
    height = min(max(260, 60 + 20 * len(order)), 1400)
    return base_layout(fig, "Promotion calendar", height=height)


def event_weeks(weeks: pd.DataFrame, methods: pd.DataFrame, title: str) -> go.Figure:
    """Weekly actual sell-out around one event, the event weeks shaded, every method's baseline drawn over it."""
    frame = weeks.sort_values("week")
    fig = go.Figure()
    event = frame[frame["role"] == "event"]
    if len(event):
        fig.add_vrect(x0=event["week"].min() - pd.Timedelta(days=3), x1=event["week"].max() + pd.Timedelta(days=4),
                      fillcolor=PALETTE["warn"], opacity=0.15, line_width=0, annotation_text="event",
                      annotation_position="top left")
    fig.add_scatter(x=frame["week"], y=frame["units"], name="Actual sell-out", mode="lines+markers",
                    line=dict(color=PALETTE["actual"], width=2),
                    marker=dict(size=8, color=[PALETTE["actual"] if c else "white" for c in frame["clean"]],
                                line=dict(color=PALETTE["actual"], width=1.5)),
                    customdata=frame["reason"].replace("", "clean"),
                    hovertemplate="%{x|%d %b %Y}: %{y:,.0f} units (%{customdata})<extra></extra>")
    results = methods.set_index("method")
    for method, color in METHOD_COLORS.items():
        col = f"baseline_{method}"
        line = frame[frame[col].notna()]
        if line.empty:
            continue
        lift = results["lift_pct"].get(method) if method in results.index else None
        label = results["method_name"].get(method, method) if "method_name" in results else method
        fig.add_scatter(x=line["week"], y=line[col], name=f"{label} ({_pct(lift)})", mode="lines+markers",
                        line=dict(color=color, dash=METHOD_DASH[method], width=2), marker=dict(size=5),
                        hovertemplate=f"{label}: " + "%{y:,.0f} units<extra></extra>")
    fig.update_layout(yaxis_title="Units per week", xaxis_title=None)
    return _legend_below(base_layout(fig, title))


def lift_vs_discount(events: pd.DataFrame, curves: pd.DataFrame) -> go.Figure:
    """Each event's lift against its discount depth, by mechanic, with each mechanic's fitted line."""
    frame = events.dropna(subset=["lift_pct", "discount_pct"])
    fig = go.Figure()
    for mechanic, g in frame.groupby("mechanic", sort=True):
        color = MECHANIC_COLORS.get(mechanic, PALETTE["neutral"])
        fig.add_scatter(x=g["discount_pct"], y=g["lift_pct"], mode="markers", name=mechanic, legendgroup=mechanic,
                        marker=dict(color=color, size=8, opacity=0.7),
                        customdata=g[["promo_id", "retailer_name"]].to_numpy(),
                        hovertemplate="%{customdata[0]} · %{customdata[1]}<br>discount %{x:.0f}%<br>"
                                      "lift %{y:+.0%}<extra>" + mechanic + "</extra>")
        curve = curves[curves["mechanic"] == mechanic]
        if len(curve):
            fig.add_scatter(x=curve["discount_pct"], y=curve["lift_pct"], mode="lines", legendgroup=mechanic,
                            showlegend=False, line=dict(color=color, width=2), hoverinfo="skip")
    fig.update_layout(xaxis_title="Discount depth (%)", yaxis=dict(title="Lift", tickformat="+.0%"))
    return _legend_below(base_layout(fig, "Lift vs discount depth"))


def roi_bars(summary: pd.DataFrame, title: str) -> go.Figure:
    """ROI of each group (bars green when it paid back), with the share of its events that paid back."""
    frame = summary.dropna(subset=["roi"])
    fig = go.Figure()
    fig.add_bar(x=frame["group"], y=frame["roi"],
                marker_color=[PALETTE["good"] if v >= 0 else PALETTE["bad"] for v in frame["roi"]],
                customdata=frame[["events_with_roi", "paid_back_share", "trade_spend"]].to_numpy(),
                hovertemplate="%{x}: ROI %{y:+.0%}<br>%{customdata[0]} events with an ROI, "
                              "%{customdata[1]:.0%} paid back<br>trade spend %{customdata[2]:,.0f}<extra></extra>")
    fig.add_hline(y=0, line=dict(color=PALETTE["neutral"]))
    fig.update_layout(yaxis=dict(title="ROI", tickformat="+.0%"), xaxis_tickangle=-30, showlegend=False)
    return base_layout(fig, title, height=360)
