"""Figures for plan tracking: last year to landing (waterfall), actual / landing / target per retailer
(bullets), and attainment by category."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from kam_dash import fmt
from kam_dash.charts import PALETTE, base_layout


def legend_below(fig: go.Figure) -> go.Figure:
    """Legend under the plot: in a half-width column a legend above it runs into the title."""
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.18, x=0), margin=dict(b=40))
    return fig


def landing_waterfall(steps: pd.DataFrame, year: int | None) -> go.Figure:
    """From last year's actual to this year's landing, one step per retailer (frame from plan.waterfall).

    The value axis starts at zero, so "Last year" and "Landing" compare by their heights; each retailer's step
    is labelled with its value, since beside the totals it is small."""
    fig = go.Figure(go.Waterfall(
        x=steps["step"], y=steps["value"], measure=steps["measure"],
        increasing=dict(marker_color=PALETTE["good"]), decreasing=dict(marker_color=PALETTE["bad"]),
        totals=dict(marker_color=PALETTE["actual"]), connector=dict(line=dict(color=PALETTE["neutral"], width=1)),
        text=[("+" if m == "relative" and v > 0 else "") + fmt.money(v)
              for v, m in zip(steps["value"], steps["measure"])],
        textposition="outside", cliponaxis=False,
        hovertemplate="%{x}<br>%{y:,.0f}<extra></extra>"))
    level, levels = 0.0, []
    for value, measure in zip(steps["value"], steps["measure"]):
        level = level + value if measure == "relative" else value
        levels.append(level)
    low, high = min([0.0, *levels]), max([0.0, *levels])
    fig.update_layout(yaxis=dict(title="Net sales", range=[low * 1.12, high * 1.12 if high > 0 else 1.0]),
                      xaxis_tickangle=-35, showlegend=False)
    return base_layout(fig, f"Last year to the {year or ''} landing, by retailer".replace("  ", " "))


def retailer_bullets(frame: pd.DataFrame, max_rows: int = 15) -> go.Figure:
    """A bullet per retailer: landing (band, with its low-high range as a whisker), YTD actual (bar) and
    annual target (tick).

    frame: plan.PlanPage.retailers, in the order to show (the first max_rows rows).
    """
    rows = frame.head(max_rows).iloc[::-1]  # plotly draws the first category at the bottom
    names = rows["retailer_name"]
    fig = go.Figure()
    fig.add_bar(y=names, x=rows["landing_estimate"], orientation="h", name="Landing estimate", width=0.8,
                marker_color=PALETTE["last_year"],
                error_x=dict(type="data", symmetric=False, color=PALETTE["neutral"], thickness=1.5, width=6,
                             array=(rows["landing_high"] - rows["landing_estimate"]).fillna(0.0),
                             arrayminus=(rows["landing_estimate"] - rows["landing_low"]).fillna(0.0)),
                customdata=rows[["landing_low", "landing_high"]].to_numpy(),
                hovertemplate="%{y}<br>Landing %{x:,.0f} (range %{customdata[0]:,.0f} to %{customdata[1]:,.0f})"
                              "<extra></extra>")
    fig.add_bar(y=names, x=rows["ytd_actual"], orientation="h", name="Actual (YTD)", width=0.35,
                marker_color=PALETTE["actual"], hovertemplate="%{y}<br>Actual YTD %{x:,.0f}<extra></extra>")
    fig.add_scatter(y=names, x=rows["annual_target"], mode="markers", name="Annual target",
                    marker=dict(symbol="line-ns", size=26, line=dict(width=4, color=PALETTE["target"])),
                    hovertemplate="%{y}<br>Annual target %{x:,.0f}<extra></extra>")
    fig.update_layout(barmode="overlay", xaxis_title="Net sales", yaxis=dict(type="category"))
    fig = base_layout(fig, "Actual, landing and annual target by retailer", height=max(300, 120 + 32 * len(rows)))
    return legend_below(fig)


def attainment_by_category(frame: pd.DataFrame) -> go.Figure:
    """Month, quarter and year-to-date attainment by category (frame: plan.PlanPage.categories)."""
    fig = go.Figure()
    for period, label, color in (("mtd", "Month to date", PALETTE["last_year"]),
                                 ("qtd", "Quarter to date", "#6d9dd1"), ("ytd", "Year to date", PALETTE["actual"])):
        fig.add_bar(x=frame["category"], y=frame[f"{period}_attainment"], name=label, marker_color=color,
                    hovertemplate=f"%{{x}}<br>{label} %{{y:.1%}}<extra></extra>")
    fig.add_hline(y=1.0, line=dict(color=PALETTE["target"], dash="dash"), annotation_text="Plan",
                  annotation_position="right")
    fig.update_layout(barmode="group", yaxis=dict(title="Attainment", tickformat=".0%"))
    return legend_below(base_layout(fig, "Plan attainment by category"))
