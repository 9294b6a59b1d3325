"""Words for people: column headings, promotion mechanics and statuses as a KAM reads them.

Tables on screen and the review pack's sheets use these; the metric export (`kam-dash export`) keeps its machine
column names, which are its contract. One place, so a heading reads the same on every page and in every file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

MECHANIC_WORDS = {
    "tpr": "Price cut", "multibuy": "Multi-buy", "bogo": "Buy one get one", "display": "Display",
    "feature": "Feature ad", "other": "Other",
}

CHANNEL_WORDS = {
    "grocery": "Grocery", "mass": "Mass", "discount": "Discount", "drug": "Drug", "convenience": "Convenience",
    "club": "Club", "ecommerce": "E-commerce", "wholesale": "Wholesale", "other": "Other",
    "store": "Store", "online": "Online",
}

STATUS_WORDS = {
    "planned": "Planned", "in_progress": "In progress", "done": "Done", "blocked": "Blocked", "dropped": "Dropped",
    "on track": "On track", "at risk": "At risk", "off track": "Off track", "no data": "No data",
    "red": "Red", "amber": "Amber", "green": "Green", "unknown": "Not rated",
    "oos": "Out of stock", "low": "Below band", "ok": "In band", "high": "Above band", "no_sales": "No sales",
    "too_few_weeks": "Too few weeks for cover",
}
FUNCTION_WORDS = {
    "sales": "Sales", "marketing": "Marketing", "supply_chain": "Supply chain",
    "customer_service": "Customer service", "finance": "Finance", "category": "Category", "other": "Other",
}
# Heading (as shown) -> the words its codes are spelled in, for tables whose columns were renamed already.
CODE_WORDS_BY_HEADING = {"Mechanic": MECHANIC_WORDS, "Channel": CHANNEL_WORDS, "Status": STATUS_WORDS,
                         "Health": STATUS_WORDS, "Function": FUNCTION_WORDS, "Cover status": STATUS_WORDS}

# Column name -> heading. Names not listed fall back to `heading()`'s word rules.
HEADINGS = {
    "retailer_id": "Retailer ID", "retailer_name": "Retailer", "retailer": "Retailer",
    "sku_id": "SKU ID", "sku_name": "Product", "product": "Product", "brand": "Brand", "category": "Category",
    "store_id": "Store ID", "store_name": "Store", "format": "Format", "channel": "Channel", "kam": "KAM",
    "week": "Week", "month": "Month", "quarter": "Quarter", "year": "Year",
    "net_sales": "Net sales", "net_sales_ly": "Net sales last year", "gross_sales": "Gross sales",
    "sell_in": "Sell-in", "sell_out": "Sell-out", "sell_in_value": "Sell-in value", "sell_out_value": "Sell-out value",
    "sell_out_ly": "Sell-out last year", "units": "Units", "units_ly": "Units last year",
    "yoy_growth": "Growth vs last year", "growth": "Growth vs last year", "share": "Share",
    "target": "Target", "annual_target": "Annual target", "attainment": "Attainment", "landing": "Landing",
    "gap": "Gap to target", "gap_to_target": "Gap to target",
    "mechanic": "Mechanic", "status": "Status", "flag": "Flag", "roi": "ROI", "lift": "Lift", "uplift": "Uplift",
    "discount_pct": "Discount", "start_week": "First week", "end_week": "Last week",
    "first_week": "First week", "last_week": "Last week", "weeks": "Weeks",
    "stores_open": "Stores open", "stores_selling": "Stores selling",
    "numeric_distribution": "Numeric distribution", "acv_distribution": "ACV distribution",
    "velocity": "Units per store selling per week", "est_lost_units": "Estimated lost units",
    "score": "Score", "tier": "Tier", "health": "Health", "health_reason": "Why",
    "value": "Value", "value_ly": "Value last year", "cum_share": "Cumulative share",
    "sell_out_share": "Sell-out share", "sell_out_growth": "Sell-out growth vs last year",
    "sell_out_value_ly": "Sell-out value last year", "net_sales_target": "Target",
    "unreported_weeks": "Unreported weeks", "margin_pct": "Margin", "strategic_priority": "Strategic priority",
    "basis": "Basis", "rows": "Rows", "new": "New rows", "replaced": "Replaced rows", "table": "Table",
    "latest_week": "Latest week", "weeks_behind": "Weeks behind", "not_yet_arrived": "Weeks not yet arrived",
    "email": "Email", "name": "Name", "role": "Role", "retailers": "Retailers", "own_retailers": "Own retailers",
    "restrict_reads": "Reads restricted", "updated_at": "Updated", "updated_by": "Updated by",
    "abc_class": "A/B/C class", "reason": "Reason",
}

# Words kept upper case, or spelled out, when a heading is made from a machine name.
_TOKEN_WORDS = {
    "id": "ID", "sku": "SKU", "skus": "SKUs", "ly": "last year", "yoy": "vs last year", "ytd": "year to date",
    "pct": "%", "roi": "ROI", "acv": "ACV", "tdp": "TDP", "oos": "out of stock", "woc": "weeks of cover",
    "kam": "KAM", "avg": "average", "qty": "quantity", "lfl": "like-for-like", "num": "number", "est": "estimated",
}


def heading(column: str) -> str:
    """The heading of a column: the listed one, else the name in words (underscores gone, tokens spelled out).

    >>> heading("net_sales_ly")
    'Net sales last year'
    >>> heading("promo_roi")
    'Promo ROI'
    """
    if column in HEADINGS:
        return HEADINGS[column]
    words = [_TOKEN_WORDS.get(token, token) for token in str(column).split("_") if token]
    if not words:
        return str(column)
    text = " ".join(words)
    return text[0].upper() + text[1:]


def headings(columns: Iterable[str], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """{column: heading} for a rename; `overrides` win over the shared words."""
    overrides = overrides or {}
    return {c: overrides.get(c, heading(c)) for c in columns}


def mechanic(code: object) -> str:
    """A promotion mechanic in words ("bogo" -> "Buy one get one"); an unknown code is shown as given."""
    if code is None or (isinstance(code, float) and pd.isna(code)):
        return ""
    return MECHANIC_WORDS.get(str(code), str(code))


def mechanics(codes: pd.Series) -> pd.Series:
    """`mechanic()` over a column, by lookup (fast on many rows)."""
    return codes.map(lambda c: MECHANIC_WORDS.get(c, c) if isinstance(c, str) else c)


def channel(code: object) -> str:
    """A channel in words; an unknown code is shown as given."""
    return CHANNEL_WORDS.get(str(code), str(code))


def spell_codes(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with the codes of mechanic, channel, status, health and function columns in words, whether the
    column still has its machine name or already its heading (numbers and unknown codes are left as they are)."""
    out = frame.copy()
    for col in out.columns:
        words = CODE_WORDS_BY_HEADING.get(heading(col))
        if words is not None and not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(lambda c, words=words: words.get(c, c) if isinstance(c, str) else c)
    return out


def in_words(frame: pd.DataFrame, overrides: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A copy with headings in words and mechanic and channel codes spelled out: for tables and sheets people read."""
    out = frame.copy()
    for col, words in (("mechanic", MECHANIC_WORDS), ("channel", CHANNEL_WORDS)):
        if col in out and not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(lambda c, words=words: words.get(c, c) if isinstance(c, str) else c)
    return out.rename(columns=headings(out.columns, overrides))
