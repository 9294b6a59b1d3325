"""Account health: red / amber / green from the landing vs plan, growth and availability (see
DEFINITIONS["Health"])."""

from __future__ import annotations

import pandas as pd

from kam_dash import freshness
from kam_dash.engine import Engine
from kam_dash.filters import Filters
from kam_dash.metrics.account.common import (ATTAINMENT_AMBER, ATTAINMENT_RED, GROWTH_AMBER, GROWTH_RED, HEALTH_ORDER,
                                             IN_STOCK_AMBER, IN_STOCK_RED)


# -- health -----------------------------------------------------------------------------------------------------
def shown_pct(value) -> float | None:
    """A fraction as the percent shown (one decimal): what health compares, so the words never contradict."""
    if value is None or pd.isna(value):
        return None
    return float(f"{float(value) * 100:.1f}")


def _grade(value, red: float, amber: float) -> str | None:
    """Grade a fraction on its shown percent (94.96% shows as 95.0%: not below 95%)."""
    shown = shown_pct(value)
    if shown is None:
        return None
    return "red" if shown < red * 100 else "amber" if shown < amber * 100 else "green"


def health(attainment, growth, in_stock=None, availability_loaded: bool = False, *,
           plan_what: str = "YTD net sales", growth_what: str = "YTD net sales") -> tuple[str, str]:
    """One retailer's status and its reason in words (see DEFINITIONS["Health"]).

    attainment: the plan criterion (the landing over the annual target, or YTD sell-out over its target), named
    by plan_what in the reason; growth: YTD growth, named by growth_what. availability_loaded: inventory data
    exists, so a missing in-stock rate is named as missing.
    """
    judged = []  # (grade, phrase)
    missing = []
    a = _grade(attainment, ATTAINMENT_RED, ATTAINMENT_AMBER)
    if a is None:
        missing.append("no target for the year so far")
    else:
        limit = {"red": " (below 95%)", "amber": " (below 100%)", "green": ""}[a]
        judged.append((a, f"{plan_what} at {shown_pct(attainment):.1f}% of plan{limit}"))
    g = _grade(growth, GROWTH_RED, GROWTH_AMBER)
    if g is None:
        missing.append("no last-year sales to compare")
    else:
        word = "down" if shown_pct(growth) < 0 else "up"
        limit = {"red": " (worse than -5%)", "amber": "", "green": ""}[g]
        judged.append((g, f"{growth_what} {word} {abs(shown_pct(growth)):.1f}% on last year{limit}"))
    s = _grade(in_stock, IN_STOCK_RED, IN_STOCK_AMBER)
    if s is not None:
        limit = {"red": " (below 90%)", "amber": " (below 95%)", "green": ""}[s]
        judged.append((s, f"in-stock rate {shown_pct(in_stock):.1f}% YTD{limit}"))
    elif availability_loaded:
        missing.append("no availability data")
    if not judged:
        return "unknown", "Not rated: " + ", ".join(missing) + "."
    status = min((grade for grade, _ in judged), key=HEALTH_ORDER.get)
    if status == "green":
        phrases = [p for _, p in judged]
    else:  # the failing criteria only, worst first
        phrases = [p for grade, p in sorted(judged, key=lambda gp: HEALTH_ORDER[gp[0]]) if grade != "green"]
    text = "; ".join(phrases + missing)
    return status, text[0].upper() + text[1:] + "."


def sell_out_only(engine: Engine) -> set[str]:
    """Retailers with sell-out rows and no sell-in row at all (POS-only accounts)."""
    fresh = freshness.freshness(engine)
    return set(fresh.retailer_latest("sell_out")) - set(fresh.retailer_latest("sell_in"))


SELL_OUT_ONLY_REASON = "Not rated: reports sell-out only, and this view is on sell-in net sales."


def _availability(engine: Engine, filters: Filters) -> pd.DataFrame | None:
    """In-stock rate per retailer from the inventory module, or None while it is not available."""
    if not engine.has("inventory"):
        return None
    try:
        from kam_dash.metrics.inventory import availability_by_retailer
    except ImportError:  # the inventory domain is built in parallel; health then goes without it
        return None
    return availability_by_retailer(engine, filters)
