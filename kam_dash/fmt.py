"""Numbers formatted for people, in one place: currency, thousands, percent, a dash for missing."""

from __future__ import annotations

import math
import os

DASH = "–"


def currency_symbol() -> str:
    return os.environ.get("KAM_DASH_CURRENCY", "$")


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def number(value, decimals: int = 0) -> str:
    """12345.6 -> '12,346'."""
    if _missing(value):
        return DASH
    return f"{float(value):,.{decimals}f}"


def money(value, compact: bool = True) -> str:
    """Currency: compact ('$1.23M', '$45.6K') for tiles, full ('$1,234,567') for tables."""
    if _missing(value):
        return DASH
    v = float(value)
    sign = "-" if v < 0 else ""
    a = abs(v)
    sym = currency_symbol()
    if not compact:
        return f"{sign}{sym}{a:,.0f}"
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if a >= limit:
            return f"{sign}{sym}{a / limit:,.2f}{suffix}" if a / limit < 100 else f"{sign}{sym}{a / limit:,.1f}{suffix}"
    return f"{sign}{sym}{a:,.0f}"


def pct(value, decimals: int = 1, signed: bool = False) -> str:
    """A fraction as a percent: 0.0421 -> '4.2%' (signed: '+4.2%')."""
    if _missing(value):
        return DASH
    v = float(value) * 100
    return f"{v:+,.{decimals}f}%" if signed else f"{v:,.{decimals}f}%"


def weeks(value, decimals: int = 1) -> str:
    if _missing(value):
        return DASH
    return f"{float(value):,.{decimals}f} wk"


_MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()#+-.!|<>~$:=")


def md_text(value: object) -> str:
    """A name from the data (retailer, region, category, brand, KAM, SKU) made safe to put in markdown: every
    markdown, HTML or Streamlit-directive character (`:red[...]`, `:material/...:`) is backslash-escaped, so
    `**Big** [deal](http://x)` shows as typed. Use it wherever data text meets a heading, caption, page link,
    warning or any other markdown; tables (st.dataframe) show text as text already."""
    text = "" if value is None else str(value)
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in text).replace("\n", " ")


def day(value) -> str:
    """A date as people read it (16 Nov 2026); a dash for missing."""
    if value is None or not hasattr(value, "strftime") or value != value:  # None, NaT, not a date
        return DASH
    return f"{value:%d %b %Y}"
