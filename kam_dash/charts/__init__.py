"""Pure figure builders, one module per domain: DataFrame in, plotly Figure out.

They never query, format with Streamlit or read global state, so the pages and
the review pack draw the same figures.
"""

PALETTE = {
    "actual": "#1f5fa8",
    "last_year": "#9bb7d4",
    "target": "#f08a24",
    "landing": "#1f5fa8",
    "good": "#2e9e5b",
    "warn": "#f2b134",
    "bad": "#d64541",
    "neutral": "#8a8f98",
}
CLASS_COLORS = {"A": "#1f5fa8", "B": "#6d9dd1", "C": "#c3d4ea"}


def base_layout(fig, title: str | None = None, height: int = 420):
    fig.update_layout(
        # the title sits at the top of the margin and the legend just above the plot, with room between
        title=dict(text=title, y=0.98, yanchor="top", x=0.01, xanchor="left") if title else None,
        height=height,
        margin=dict(l=10, r=10, t=95 if title else 40, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.01, x=0),
        template="plotly_white",
        separators=".,",
    )
    return fig
