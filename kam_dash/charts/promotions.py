"""Figures for promotions: the calendar, one event against its baselines, lift vs depth, ROI."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from kam_dash import labels
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


CALENDAR_ROWS = {"retailer": "By retailer", "product": "By product"}
MAX_CALENDAR_ROWS = 25  # more rows than this cannot each carry a readable label


def calendar_rows(events: pd.DataFrame, rows: str = "retailer",
                  max_rows: int = MAX_CALENDAR_ROWS) -> tuple[pd.DataFrame, list[str], int]:
    """The calendar's rows: one per retailer x product, labelled "Retailer · Product" (rows="retailer": grouped
    by retailer) or "Product · Retailer" (rows="product": grouped by product). Only the max_rows rows with the
    most trade spend (then the most net incremental units) are kept.

    Returns (the events of the kept rows with their `row` label, the kept rows top to bottom, all rows).
    """
    frame = events.copy()
    product = frame["sku_name"].fillna(frame["sku_id"]) if "sku_id" in frame else frame["sku_name"]
    retailer = frame["retailer_name"].astype(str)
    by_retailer = rows != "product"
    product = product.astype(str)
    frame["group"] = retailer if by_retailer else product
    frame["row"] = (retailer + " · " + product) if by_retailer else (product + " · " + retailer)
    spend = frame["trade_spend"] if "trade_spend" in frame else pd.Series(0.0, index=frame.index)
    units = frame["net_incremental_units"] if "net_incremental_units" in frame else pd.Series(0.0, index=frame.index)
    ranked = (frame.assign(spend=pd.to_numeric(spend, errors="coerce").fillna(0.0),
                           units=pd.to_numeric(units, errors="coerce").fillna(0.0))
              .groupby(["group", "row"], as_index=False)[["spend", "units"]].sum()
              .sort_values(["spend", "units", "row"], ascending=[False, False, True]))
    total = len(ranked)
    kept = ranked.head(max_rows)
    # the kept rows grouped: the group with the most spend first, and within it the row with the most spend
    group_spend = kept.groupby("group")["spend"].transform("sum")
    kept = kept.assign(group_spend=group_spend).sort_values(["group_spend", "group", "spend", "units", "row"],
                                                            ascending=[False, True, False, False, True])
    order = list(kept["row"])
    return frame[frame["row"].isin(order)], order, total


def calendar_note(events: pd.DataFrame, rows: str = "retailer", max_rows: int = MAX_CALENDAR_ROWS) -> str:
    """What the calendar leaves out, in words ("" when it shows every row)."""
    _, order, total = calendar_rows(events, rows, max_rows)
    if len(order) >= total:
        return ""
    return (f"{len(order)} of {total} retailer x product rows shown: those with the most trade spend (then net "
            f"incremental units). The events table below lists every promotion.")


def calendar(events: pd.DataFrame, rows: str = "retailer", start=None, end=None,
             max_rows: int = MAX_CALENDAR_ROWS) -> go.Figure:
    """A Gantt of the events over the period start..end (when given): one labelled row per retailer x product
    (calendar_rows: at most max_rows, by trade spend), a bar per event coloured by mechanic (in words)."""
    frame, order, total = calendar_rows(events, rows, max_rows)
    frame["finish"] = pd.to_datetime(frame["end_date"]) + pd.Timedelta(days=1)  # the end date is inclusive
    frame["days"] = (frame["finish"] - pd.to_datetime(frame["start_date"])).dt.days
    fig = go.Figure()
    for mechanic, g in frame.groupby("mechanic", sort=True):
        words = labels.mechanic(mechanic)
        # a horizontal bar on a date axis: base = start, length in milliseconds (as px.timeline draws it)
        fig.add_bar(
            y=g["row"], x=g["days"] * 86_400_000, base=pd.to_datetime(g["start_date"]), orientation="h",
            name=words, marker_color=MECHANIC_COLORS.get(mechanic, PALETTE["neutral"]),
            customdata=g[["promo_id", "days"]].to_numpy(),
            hovertemplate="%{customdata[0]} · %{y}<br>" + words + " from %{base|%d %b %Y}, %{customdata[1]} days"
                          "<extra></extra>",
        )
    xaxis = dict(type="date")
    if start is not None and end is not None:
        xaxis["range"] = [pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=7)]
    top_down = order[::-1]  # plotly draws the first category at the bottom
    # every row labelled: an explicit tick per row, so plotly does not thin them out
    fig.update_layout(barmode="overlay", xaxis=xaxis,
                      yaxis=dict(categoryorder="array", categoryarray=top_down, tickmode="array",
                                 tickvals=top_down, ticktext=top_down, title=None, automargin=True))
    height = max(260, 140 + 26 * len(order))
    fig = _legend_below(base_layout(fig, "Promotion calendar", height=height))
    if len(order) < total:
        fig.update_layout(title_subtitle_text=f"{len(order)} of {total} rows shown (most trade spend)")
    return fig


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
        color, words = MECHANIC_COLORS.get(mechanic, PALETTE["neutral"]), labels.mechanic(mechanic)
        fig.add_scatter(x=g["discount_pct"], y=g["lift_pct"], mode="markers", name=words, legendgroup=mechanic,
                        marker=dict(color=color, size=8, opacity=0.7),
                        customdata=g[["promo_id", "retailer_name"]].to_numpy(),
                        hovertemplate="%{customdata[0]} · %{customdata[1]}<br>discount %{x:.0f}%<br>"
                                      "lift %{y:+.0%}<extra>" + words + "</extra>")
        curve = curves[curves["mechanic"] == mechanic]
        if len(curve):
            fig.add_scatter(x=curve["discount_pct"], y=curve["lift_pct"], mode="lines", legendgroup=mechanic,
                            showlegend=False, line=dict(color=color, width=2), hoverinfo="skip")
    fig.update_layout(xaxis_title="Discount depth (%)", yaxis=dict(title="Lift", tickformat="+.0%"))
    return _legend_below(base_layout(fig, "Lift vs discount depth"))


def roi_bars(summary: pd.DataFrame, title: str, groups: str = "retailer") -> go.Figure:
    """ROI of each group (bars green when it paid back), with the share of its events that paid back.
    groups="mechanic": the groups are mechanic codes, shown in words."""
    frame = summary.dropna(subset=["roi"])
    names = labels.mechanics(frame["group"]) if groups == "mechanic" else frame["group"]
    fig = go.Figure()
    fig.add_bar(x=names, y=frame["roi"],
                marker_color=[PALETTE["good"] if v >= 0 else PALETTE["bad"] for v in frame["roi"]],
                customdata=frame[["events_with_roi", "paid_back_share", "trade_spend"]].to_numpy(),
                hovertemplate="%{x}: ROI %{y:+.0%}<br>%{customdata[0]} events with an ROI, "
                              "%{customdata[1]:.0%} paid back<br>trade spend %{customdata[2]:,.0f}<extra></extra>")
    fig.add_hline(y=0, line=dict(color=PALETTE["neutral"]))
    fig.update_layout(yaxis=dict(title="ROI", tickformat="+.0%"), xaxis_tickangle=-30, showlegend=False)
    return base_layout(fig, title, height=360)
