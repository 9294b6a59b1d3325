"""Pure figure builders, one module per domain: DataFrame in, plotly Figure out.

They never query, format with Streamlit or read global state, so the pages and
the review pack draw the same figures.
"""

import math

import plotly.io as pio

# Every figure's look: plotly_white as the default template, applied when the figure is serialised. Naming it on
# each figure (layout.template="plotly_white") copies the whole template there: 11-15 ms a figure, over a tenth of
# a chart page's server time (bench/profile_page.py); the figure's JSON is the same either way.
pio.templates.default = "plotly_white"

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
        separators=".,",
    )
    return fig


NICE_MULTIPLES = (1, 2, 5)  # tick steps people read at a glance: 1, 2, 5, 10, 20, 50, ...


def nice_step(at_least: float) -> float:
    """The smallest round step (1, 2 or 5 times a power of ten) that is at least `at_least` (> 0)."""
    if not at_least > 0 or not math.isfinite(at_least):
        return 1.0
    power = 10.0 ** math.floor(math.log10(at_least))
    for multiple in (*NICE_MULTIPLES, 10):
        step = multiple * power
        if step >= at_least * (1 - 1e-12):
            return float(step)
    return 10.0 * power  # unreachable: 10 x power >= at_least


def _span(values) -> tuple[float, float]:
    """The lowest and highest finite value, with 0 always inside (the axes share a zero)."""
    finite = []
    for v in values:
        try:
            number = float(v)
        except (TypeError, ValueError):  # None, pd.NA: a missing value
            continue
        if math.isfinite(number):
            finite.append(number)
    return min([0.0, *finite]), max([0.0, *finite])


def aligned_axes(main_values, second_values, intervals=(4, 5, 6, 7), headroom: float = 0.02,
                 second_top: float | None = None) -> tuple[dict, dict]:
    """Tick layouts for a main and a secondary y axis drawn over each other: both with round steps, the same
    number of ticks, and zero at the same height, so a gridline means the same on both sides.

    Returns (main, second): dicts of range, tick0, dtick and tickmode to merge into layout.yaxis / yaxis2.
    Of the candidate layouts (total intervals x intervals below zero) the one whose ranges the data fill most
    is taken. `headroom` leaves a little room above the highest value so markers at the top are not clipped;
    `second_top` caps the secondary axis (1.0 for a share, which never reads above 100%) when a layout allows.
    """
    spans = [_span(values) for values in (main_values, second_values)]
    spans = [(lo, hi + (hi - lo) * headroom) for lo, hi in spans]
    best = None
    for total in intervals:
        below_options = range(0, total + 1) if any(lo < 0 for lo, _ in spans) else (0,)
        for below in below_options:
            above = total - below
            steps = []
            for lo, hi in spans:
                need_below = -lo / below if below else (math.inf if lo < 0 else 0.0)
                need_above = hi / above if above else (math.inf if hi > 0 else 0.0)
                need = max(need_below, need_above)
                if not math.isfinite(need):
                    break
                steps.append(nice_step(need) if need > 0 else 1.0)
            else:
                fill = min((hi - lo) / (total * s) for (lo, hi), s in zip(spans, steps))
                # prefer the fuller axes; at equal fill, fewer ticks
                over = second_top is not None and above * steps[1] > second_top * (1 + 1e-9)
                score = (not over, round(fill, 6), -total)
                if best is None or score > best[0]:
                    best = (score, below, above, steps)
    _, below, above, steps = best
    return tuple(dict(range=[-below * s, above * s], tick0=0, dtick=s, tickmode="linear") for s in steps)
