"""One or two lines under each chart of the review pack, written from its numbers.

Pure functions: numbers in, a sentence out. Every number is formatted by kam_dash.fmt, so the pack's
words show the same figures as the app's tiles and tables; a missing number is named in words
(never "nan", never "None").
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from kam_dash import fmt


def _present(value) -> bool:
    if value is None:
        return False
    try:
        return not math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def _sentence(text: str) -> str:
    text = text.strip()
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".") if text else ""


def _lower_first(text: str) -> str:
    """'Below plan' -> 'below plan'; an acronym ('YTD net sales') keeps its case."""
    return text if len(text) > 1 and text[1].isupper() else text[:1].lower() + text[1:]


def gap_words(gap, what: str = "the annual target") -> str:
    """'$1.20M short of the annual target' / '$300K ahead of ...' / 'on ...'."""
    if not _present(gap):
        return f"no {what.removeprefix('the ')} to compare"
    if gap < 0:
        return f"{fmt.money(-gap)} short of {what}"
    if gap > 0:
        return f"{fmt.money(gap)} ahead of {what}"
    return f"on {what}"


def key_figures(net_sales, growth, attainment, landing_gap, what: str = "Net sales") -> str:
    """'Net sales $1.23M, +4.2% vs last year, 97.0% of plan; landing $1.20M short of the annual target.'
    what: the account's basis ('Net sales', or 'Sell-out value' for an account without sell-in)."""
    if not _present(net_sales):
        head = f"No {what.lower()} in the period"
    else:
        head = f"{what} {fmt.money(net_sales)}, " + (
            f"{fmt.pct(growth, signed=True)} vs last year" if _present(growth) else "no last year to compare")
        head += f", {fmt.pct(attainment)} of plan" if _present(attainment) else ", no target for the period"
    if _present(landing_gap):
        head += f"; landing {gap_words(landing_gap)}"
    return _sentence(head)


def standing(tier, score, health, health_reason) -> str:
    """'Strategic account (score 0.82); health amber: YTD net sales at 97.0% of plan (below 100%).'"""
    parts = []
    if isinstance(tier, str) and tier:
        parts.append(f"{tier} account" + (f" (key-account score {fmt.number(score, 2)})" if _present(score) else ""))
    if isinstance(health, str) and health:
        reason = health_reason.rstrip(".") if isinstance(health_reason, str) and health_reason else ""
        parts.append(f"health {health}" + (f": {_lower_first(reason)}" if reason else ""))
    return _sentence("; ".join(parts)) if parts else ""


def plan(year, landing, annual_target, run_rate) -> str:
    """'Landing estimate for 2026: $12.3M against a $13.5M annual target ($1.20M short); $350K a week needed
    from here.'"""
    label = f" for {year}" if year else ""
    if not _present(landing):
        return _sentence(f"No landing estimate{label}: no net sales or targets")
    if not _present(annual_target):
        return _sentence(f"Landing estimate{label}: {fmt.money(landing)} (no annual target loaded)")
    gap = landing - annual_target
    short = f"{fmt.money(-gap)} short" if gap < 0 else f"{fmt.money(gap)} ahead" if gap > 0 else "on target"
    text = f"Landing estimate{label}: {fmt.money(landing)} against a {fmt.money(annual_target)} annual target ({short})"
    if _present(run_rate) and run_rate > 0:
        text += f"; {fmt.money(run_rate)} a week needed from here to reach it"
    return _sentence(text)


def pipeline(sell_in_units, sell_out_units, fill_units) -> str:
    """Sell-in against sell-out over the period and what it did to the retailer's stock."""
    has_in, has_out = _present(sell_in_units), _present(sell_out_units)
    if not has_in and not has_out:
        return "No sell-in or sell-out in the period."
    if not has_out:
        return _sentence(f"Sell-in {fmt.number(sell_in_units)} units over the period; no sell-out reported, so no "
                         "pipeline fill")
    if not has_in:
        return _sentence(f"Sell-out {fmt.number(sell_out_units)} units over the period; no sell-in")
    text = f"Sell-in {fmt.number(sell_in_units)} units vs sell-out {fmt.number(sell_out_units)} units over the period"
    if _present(fill_units) and fill_units > 0:
        text += f": retailer stock built up by {fmt.number(fill_units)} units (pipeline fill)"
    elif _present(fill_units) and fill_units < 0:
        text += f": retailer stock ran down by {fmt.number(-fill_units)} units"
    else:
        text += ": retailer stock unchanged"
    return _sentence(text)


def channels(store_value, online_value) -> str:
    """'Online 12.3% of sell-out value ($123K of $1.00M).'"""
    total = (store_value or 0.0) + (online_value or 0.0)
    if not total > 0:
        return "No sell-out value in the period."
    return _sentence(f"Online {fmt.pct(online_value / total)} of sell-out value ({fmt.money(online_value)} of "
                     f"{fmt.money(total)})")


def white_space(frame: pd.DataFrame) -> str:
    """The largest white-space category and the total (frame: the white-space export)."""
    if frame.empty or not frame["retailer_share"].notna().any():
        return "No positive net sales in the period to compare with the portfolio."
    gaps = frame[frame["opportunity"] > 0].sort_values(["opportunity", "category"], ascending=[False, True])
    if gaps.empty:
        return "The category mix matches the portfolio's: no white space."
    top = gaps.iloc[0]
    text = (f"Largest white space: {top['category']}, {fmt.money(top['opportunity'])} (portfolio share "
            f"{fmt.pct(top['portfolio_share'])} vs {fmt.pct(top['retailer_share'])} here)")
    if len(gaps) > 1:
        text += f"; {fmt.money(gaps['opportunity'].sum())} across {len(gaps)} categories in all"
    return _sentence(text)


def products(what: str, gain: tuple | None, loss: tuple | None) -> str:
    """'Sell-out value vs last year: largest gain Crisps, +$20 (+10.0%); no product below last year.'
    gain, loss: (product name, change, growth) of the largest gain and loss, or None."""
    def one(word: str, product: tuple) -> str:
        name, change, growth = product
        growth_words = fmt.pct(growth, signed=True) if _present(growth) else "no sales last year"
        return f"largest {word} {name}, {'+' if change > 0 else ''}{fmt.money(change)} ({growth_words})"

    return _sentence(f"{what} vs last year: " + "; ".join((
        one("gain", gain) if gain else "no product above last year",
        one("loss", loss) if loss else "no product below last year")))


def range_gaps(count: int, retailer: str, first: str = "", listing: int = 0, comparable: int = 0,
               est_value=None) -> str:
    """What the range gaps say: how many products comparable accounts sell that the retailer does not list,
    and the first of them; or that there is none, or nothing to compare with."""
    if count:
        return _sentence(f"{count} product{'s' if count != 1 else ''} that comparable accounts sell "
                         f"{'are' if count != 1 else 'is'} not listed at {retailer}; the first, {first}, sells in "
                         f"{listing} of {comparable} comparable accounts and would add an estimated "
                         f"{fmt.money(est_value)} at their rate")
    if not comparable:
        return f"No other account with sales in the period to compare the range of {retailer} with."
    return (f"{retailer} lists every product its {comparable} comparable account{'s' if comparable != 1 else ''} "
            "sold in the period: no range gap.")


def promotions(events: int, measured: int, median_lift, incremental_units) -> str:
    """'18 promotions in the period, 16 with a measured lift: median lift +28.6%, 42,736 incremental units.'"""
    if not events:
        return "No promotions in the period."
    head = f"{events} promotion{'s' if events != 1 else ''} in the period"
    if not measured:
        return _sentence(f"{head}, none with enough clean weeks to measure a lift")
    return _sentence(f"{head}, {measured} with a measured lift: median lift {fmt.pct(median_lift, signed=True)}, "
                     f"{fmt.number(incremental_units)} incremental units")


def roi(roi_value, trade_spend, paid_back_share, events_with_roi: int, best: tuple[str, float] | None = None) -> str:
    """'ROI -15.2% on $43.6K of trade spend; 17.6% of 17 events paid back; best mechanic: display (+20.0%).'"""
    if not _present(roi_value):
        return "No ROI: the events lack trade spend, unit costs or a measured lift."
    text = (f"ROI {fmt.pct(roi_value, signed=True)} on {fmt.money(trade_spend)} of trade spend; "
            f"{fmt.pct(paid_back_share)} of {events_with_roi} event{'s' if events_with_roi != 1 else ''} paid back")
    if best is not None and _present(best[1]):
        text += f"; best mechanic: {best[0]} ({fmt.pct(best[1], signed=True)})"
    return _sentence(text)


def availability(in_stock_rate, oos_weeks: int, lost_units, lost_value) -> str:
    """'In stock 96.2% of SKU-weeks; 14 out-of-stock weeks lost an estimated 1,234 units ($12.3K).'"""
    head = f"In stock {fmt.pct(in_stock_rate)} of SKU-weeks" if _present(in_stock_rate) else "No in-stock rate"
    if not oos_weeks:
        return _sentence(f"{head}; no out-of-stock weeks in the period")
    return _sentence(f"{head}; {oos_weeks} out-of-stock week{'s' if oos_weeks != 1 else ''} lost an estimated "
                     f"{fmt.number(lost_units)} units ({fmt.money(lost_value)})")


STATUS_WORDS = (("ok", "in band"), ("low", "below band"), ("high", "above band"), ("oos", "out of stock"),
                ("no_sales", "with stock and no sales"))


def cover(on_hand_units, avg_weekly_units, band: tuple[float, float] | None, counts: Mapping[str, int],
          week=None) -> str:
    """'Stock covers 4.1 weeks of sell-out at the week of 16 Nov 2026 (agreed band 2-6 weeks): 130 lines in
    band, 5 below band, ...' (counts: lines per cover status)."""
    when = f" at the week of {week:%d %b %Y}" if week is not None else ""
    if _present(on_hand_units) and _present(avg_weekly_units) and avg_weekly_units > 0:
        head = f"Stock covers {fmt.number(on_hand_units / avg_weekly_units, 1)} weeks of sell-out{when}"
    else:
        head = f"No weeks of cover{when}: no sell-out in the trailing weeks"
    if band is not None:
        head += f" (agreed band {band[0]:g}-{band[1]:g} weeks)"
    shown = [f"{counts[s]:,} line{'s' if counts[s] != 1 else ''} {w}" for s, w in STATUS_WORDS if counts.get(s)]
    return _sentence(head + (": " + ", ".join(shown) if shown else ""))


def status_mix(counts: Mapping[str, int], lines: int, weeks: int) -> str:
    """'Line-weeks over 25 lines and 26 weeks: out of stock 3.1%, below band 10.2%, above band 2.0%.'"""
    total = sum(counts.values())
    if not total:
        return "No stock counts in the weeks shown."
    parts = [f"{w} {fmt.pct(counts.get(s, 0) / total)}" for s, w in STATUS_WORDS if s != "ok" and counts.get(s)]
    if not parts:
        return _sentence(f"Every line-week over {lines} lines and {weeks} weeks was in band")
    return _sentence(f"Line-weeks over {lines} lines and {weeks} weeks: " + ", ".join(parts))


def reconciliation(sell_in_units, sell_out_units, on_hand_change, unexplained_units) -> str:
    """Sell-in minus sell-out against the change in stock, and what is left unexplained."""
    if not _present(on_hand_change):
        return "No stock reconciliation: stock counts are missing at the start or end of the period."
    head = (f"Sell-in {fmt.number(sell_in_units)} units minus sell-out {fmt.number(sell_out_units)} units against "
            f"a stock change of {fmt.number(on_hand_change)} units")
    if not _present(unexplained_units) or round(unexplained_units) == 0:
        return _sentence(f"{head}: nothing unexplained")
    word = "missing" if unexplained_units > 0 else "more stock than the flows explain"
    return _sentence(f"{head}: {fmt.number(abs(unexplained_units))} units unexplained ({word}: shrink, waste or a data "
                     "error)")
