"""Figures for the account review: plan and landing by month, pipeline, category mix, store vs online."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from kam_dash.charts import PALETTE, aligned_axes, base_layout


def partial_note(weeks_loaded, weeks_in_month) -> str:
    """'partial: 2 of 5 weeks' for a month still running."""
    return f"partial: {int(weeks_loaded)} of {int(weeks_in_month)} weeks"


def monthly_vs_target(monthly: pd.DataFrame, year: int | None) -> go.Figure:
    """Net sales by month this year vs last year and target, the landing as a dashed continuation.

    Each month's target is a marker over its own bar (same x). The month still running (monthly_plan's
    `partial`) has a hatched, lighter bar and is set against the target of its loaded weeks only, so it does
    not read as a miss."""
    fig = go.Figure()
    partial = monthly["partial"].fillna(False).astype(bool) if "partial" in monthly else \
        pd.Series(False, index=monthly.index)
    done = monthly[monthly["actual"].notna()]
    part = partial.loc[done.index]
    notes = [partial_note(r.weeks_loaded, r.weeks_in_month) if p else ""
             for r, p in zip(done.itertuples(), part)]
    fig.add_bar(x=done["month"], y=done["actual"], name=f"Net sales {year or ''}".strip(),
                marker=dict(color=PALETTE["actual"], opacity=[0.5 if p else 1.0 for p in part],
                            pattern=dict(shape=["/" if p else "" for p in part], fgcolor="white")),
                customdata=[f"<br>{n} loaded" if n else "" for n in notes],
                hovertemplate="%{x|%b %Y}<br>Net sales %{y:,.0f}%{customdata}<extra></extra>")
    ly = monthly[monthly["last_year"].notna()]
    # the line stays on whole months; a running month's hover adds the last year of its loaded weeks
    ly_text = [f"<br>(its {int(r.weeks_loaded)} loaded weeks: {r.last_year_loaded:,.0f})"
               if p and pd.notna(getattr(r, "last_year_loaded", None)) else ""
               for r, p in zip(ly.itertuples(), partial.loc[ly.index])]
    fig.add_scatter(x=ly["month"], y=ly["last_year"], name="Last year", mode="lines+markers",
                    line=dict(color=PALETTE["last_year"]), customdata=ly_text,
                    hovertemplate="%{x|%b %Y}<br>Last year %{y:,.0f}%{customdata}<extra></extra>")
    tgt = monthly[monthly["target"].notna()]
    tgt_part = partial.loc[tgt.index]
    # a running month is compared with the target of the weeks it holds, not the whole month's
    tgt_y = tgt["target_loaded"].where(tgt_part, tgt["target"]) if "target_loaded" in tgt else tgt["target"]
    tgt_text = [f"<br>target of the {int(r.weeks_loaded)} loaded weeks; whole month {r.target:,.0f}" if p else ""
                for r, p in zip(tgt.itertuples(), tgt_part)]
    fig.add_scatter(x=tgt["month"], y=tgt_y, name="Target", mode="markers",
                    marker=dict(symbol="line-ew", size=24, line=dict(width=4, color=PALETTE["target"])),
                    customdata=tgt_text, hovertemplate="%{x|%b %Y}<br>Target %{y:,.0f}%{customdata}<extra></extra>")
    ahead = monthly.dropna(subset=["landing"])
    if not ahead.empty:
        # Start the dashed line at the last month that is wholly actual, so it continues the bars.
        before = done[(done["month"] < ahead["month"].min()) & ~part].tail(1)
        path = pd.concat([before.assign(landing=before["actual"]), ahead])
        fig.add_scatter(x=path["month"], y=path["landing"], name="Landing estimate", mode="lines+markers",
                        line=dict(color=PALETTE["landing"], dash="dash"),
                        hovertemplate="%{x|%b %Y}<br>Landing %{y:,.0f}<extra></extra>")
    for r, p, note in zip(done.itertuples(), part, notes):
        if p:
            top = max(r.actual, r.target_loaded if pd.notna(r.target_loaded) else r.actual)
            fig.add_annotation(x=r.month, y=top, text=note, showarrow=False, yshift=16, font=dict(size=11),
                               bgcolor="rgba(255,255,255,0.8)")
    xaxis = dict(dtick="M1", tickformat="%b")
    if len(monthly):
        # half a month either side of the first and last bar: no stray tick of the year before or after
        months = pd.to_datetime(monthly["month"])
        xaxis["range"] = [months.min() - pd.Timedelta(days=16), months.max() + pd.Timedelta(days=16)]
    fig.update_layout(yaxis=dict(title="Net sales", rangemode="tozero"), xaxis=xaxis, barmode="overlay")
    return base_layout(fig, f"Monthly net sales vs target, {year}" if year else "Monthly net sales vs target")


def pipeline(frame: pd.DataFrame) -> go.Figure:
    """Sell-in and sell-out units by week with the cumulative pipeline fill on a second axis."""
    fig = go.Figure()
    if frame["sell_in_units"].notna().any():
        fig.add_bar(x=frame["week"], y=frame["sell_in_units"], name="Sell-in units", marker_color=PALETTE["target"],
                    opacity=0.75, hovertemplate="%{x|%d %b %Y}<br>Sell-in %{y:,.0f}<extra></extra>")
    if frame["sell_out_units"].notna().any():
        fig.add_scatter(x=frame["week"], y=frame["sell_out_units"], name="Sell-out units", mode="lines",
                        line=dict(color=PALETTE["actual"]),
                        hovertemplate="%{x|%d %b %Y}<br>Sell-out %{y:,.0f}<extra></extra>")
    fig.update_layout(yaxis=dict(title="Units per week"))
    if frame["cum_pipeline_units"].notna().any():
        fig.add_scatter(x=frame["week"], y=frame["cum_pipeline_units"], name="Pipeline fill (cumulative)",
                        yaxis="y2", mode="lines", line=dict(color=PALETTE["bad"], dash="dot"),
                        hovertemplate="%{x|%d %b %Y}<br>Pipeline %{y:,.0f} units<extra></extra>")
        flows = [*frame["sell_in_units"], *frame["sell_out_units"]]
        main, second = aligned_axes(flows, frame["cum_pipeline_units"])
        fig.update_layout(yaxis=main, yaxis2=dict(title="Cumulative sell-in - sell-out", overlaying="y",
                                                  side="right", zeroline=True, showgrid=False, tickformat=",.0f",
                                                  **second))
    # else one flow only (a sell-out-only account, or no sell-out): no fill axis is drawn
    return base_layout(fig, "Sell-in vs sell-out by week, and pipeline fill")


def category_mix(white_space: pd.DataFrame, retailer_name: str) -> go.Figure:
    """Each category's share of the retailer's net sales (or sell-out value, the frame's basis) beside the
    portfolio's."""
    frame = white_space.sort_values("portfolio_share")
    what = "sell-out value" if "basis" in frame and (frame["basis"] == "sell_out").any() else "net sales"
    fig = go.Figure()
    fig.add_bar(y=frame["category"], x=frame["portfolio_share"], name="Portfolio", orientation="h",
                marker_color=PALETTE["neutral"], hovertemplate="%{y}<br>Portfolio %{x:.1%}<extra></extra>")
    fig.add_bar(y=frame["category"], x=frame["retailer_share"], name=retailer_name, orientation="h",
                marker_color=PALETTE["actual"], hovertemplate="%{y}<br>" + retailer_name + " %{x:.1%}<extra></extra>")
    fig.update_layout(barmode="group", xaxis=dict(title=f"Share of {what}", tickformat=".0%"))
    return base_layout(fig, "Category mix vs the portfolio")


def store_vs_online(trend: pd.DataFrame) -> go.Figure:
    """Weekly sell-out value in stores and online (stacked) and the online share."""
    fig = go.Figure()
    for col, color, label in (("store", PALETTE["last_year"], "Store"), ("online", PALETTE["actual"], "Online")):
        fig.add_scatter(x=trend["week"], y=trend[col], name=label, mode="lines", stackgroup="value",
                        line=dict(color=color), hovertemplate="%{x|%d %b %Y}<br>" + label + " %{y:,.0f}<extra></extra>")
    fig.add_scatter(x=trend["week"], y=trend["online_share"], name="Online share", yaxis="y2", mode="lines",
                    line=dict(color=PALETTE["target"]), hovertemplate="%{x|%d %b %Y}<br>Online %{y:.1%}<extra></extra>")
    main, second = aligned_axes(trend["store"].fillna(0.0) + trend["online"].fillna(0.0), trend["online_share"],
                                second_top=1.0)
    fig.update_layout(yaxis=dict(title="Sell-out value", **main),
                      yaxis2=dict(title="Online share", overlaying="y", side="right", tickformat=".0%",
                                  showgrid=False, **second))
    return base_layout(fig, "Store vs online sell-out")
