"""Inventory: is the shelf full, and is the pipeline honest?

Weeks of cover and its status, availability (in-stock rate and the sales lost to empty shelves),
phantom stock, the stock reconciliation and forward-buy warnings: the Inventory page, the
availability signal of the Portfolio health status, and the `coverage`, `availability` and
`reconciliation` exports.

How missing rows are read. Inside a week the retailer reported (any sell-out row, any SKU) a line with no
sell-out row sold nothing. A week the retailer did not report at all is unknown (freshness, "Unreported
weeks"): it is never averaged into weeks of cover, never a rate week or a zero-sales week for lost sales,
never a silent week for phantom stock, and a reconciliation or forward-buy comparison skips it or says it
cannot be done; each sell-out measure also stops at the retailer's own latest sell-out week. A week with no
inventory row is NOT an empty shelf: the stock is unknown, so that week gets no cover status, is neither in
stock nor out of stock, is not averaged into cover, never counts towards a trailing in-stock rate, breaks a
phantom run, and a reconciliation that needs it leaves the line out.

Speed. The fact tables run to tens of millions of rows. Lost sales need each out-of-stock week's
8 weeks before it, which is the one piece of row-level work; it does not depend on the filters, so
it is computed once per database for all of history (the "ledger": one row per out-of-stock week,
a few per thousand rows) and kept by the engine, like the dimension tables and each line's listing
week. What depends on the filters reads few rows: the last weeks of each fact table per line, the
period's stock counts per retailer, and one retailer, or a few lines, at a time.

Layout. What the measures read from the data goes through `IbisReads` (small pandas frames out);
the pure `finish_*` functions and `build` turn those into the page. The benchmark supplies
hand-written SQL and pandas versions of the same reads and runs the same `build`.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field, replace

import ibis
import numpy as np
import pandas as pd
from ibis import _

from kam_dash import calendar, freshness
from kam_dash import scope as scopes
from kam_dash.calendar import WEEK, first_monday, last_year, monday
from kam_dash.engine import Engine
from kam_dash.export import export_metric
from kam_dash.filters import Filters
from kam_dash.scope import Scope, resolve

KEYS = ["retailer_id", "sku_id"]

WINDOWS = (4, 8, 13)
DEFAULT_WINDOW = 4
STATUSES = ("oos", "low", "ok", "high", "no_sales", "too_few_weeks")
DEFAULT_WOC_MIN, DEFAULT_WOC_MAX = 2.0, 6.0
MIN_COVER_WEEKS = 2  # reported in-stock weeks needed to average demand
COVER_LOOKBACK = 2  # ... searched for within this many windows back
RATE_WEEKS = 8  # the trailing in-stock rate behind lost sales
PHANTOM_ZERO_WEEKS = 2  # weeks with stock and no sales
PHANTOM_HISTORY_WEEKS = 12  # the weeks before them ...
PHANTOM_MIN_SELLING_WEEKS = 6  # ... of which at least this many sold
FORWARD_HORIZON = 26  # weeks of last year's sell-out walked through for forward cover
FORWARD_BUY_WEEKS = 8
FORWARD_BUY_LIMIT = 2.0  # weeks of sell-out

DEFINITIONS = {
    "Listed": "A retailer x SKU counts as listed from the first week, anywhere in the data, that shows stock on hand "
    "above 0 or any sell-out. Weeks before that are not counted by any measure: no out-of-stock flag and no lost "
    "sales.",
    "Position week": "Cover, status and phantom stock are read at the period's last week, or at the retailer's own "
    "latest stock count when that is earlier (its inventory feed lags); the page names such retailers and their "
    "week.",
    "Weeks of cover": "On-hand units at the end of the position week divided by the mean weekly sell-out units "
    f"(store and online) of the N latest weeks at or before it, within the last {COVER_LOOKBACK}N, that the "
    "retailer reported (any sell-out row that week) and at whose end the line was in "
    "stock (N = the window: 4 by default; 8 or 13 to choose). Weeks out of stock are left out, because an empty "
    "shelf cuts sales short (a line refilled after a stock-out is not 'high'); weeks the retailer did not report, "
    "including weeks after its latest sell-out week, are skipped, never read as 0; inside a reported week a line "
    f"with no sell-out row sold 0. With fewer than {MIN_COVER_WEEKS} such weeks there is no cover (status "
    "too_few_weeks). The tables give the unreported weeks each average skipped.",
    "Cover status": "oos: on-hand is 0. too_few_weeks: stock, but fewer than "
    f"{MIN_COVER_WEEKS} reported in-stock weeks to average (no cover). no_sales: stock and such weeks, but no "
    "sell-out in them (cover is undefined, shown empty, not infinite or zero). low: cover below the retailer's "
    "agreed minimum (woc_min, 2 weeks unless the retailer has its own). high: above its agreed maximum (woc_max, 6 "
    "unless set). ok: from the minimum to the maximum, both included.",
    "Forward cover": "How many weeks the stock lasts on expected demand: walk forward from the position week "
    "through last year's sell-out of the coming weeks (each week's last year as the calendar defines it), each "
    "scaled by the YTD growth ratio (the line's sell-out units from the first week of the year to the week, over "
    "their last years, counting only weeks where the week and its last year were both reported; 1 when last year "
    "sold nothing then), until the stock runs out. A coming week whose last year the retailer did not report (or "
    "that has none) takes the mean of the reported ones. The week it runs out counts as the fraction of that "
    f"week's demand the remaining stock covers. Past {FORWARD_HORIZON} weeks the rest is spread at the "
    f"{FORWARD_HORIZON}-week average. Empty where last year sold nothing in those weeks (nothing to project from).",
    "Retailer cover (trend)": "Week by week, the retailer's total stock over the sum of its lines' average weekly "
    "sell-out (as for weeks of cover), over the lines with a stock count and an average that week; drawn against "
    "the retailer's agreed band.",
    "Missing stock counts": "A week with no inventory row is unknown, not empty: it has no cover or status, counts "
    "neither as in stock nor as out of stock, is not averaged into weeks of cover, is left out of the trailing "
    "in-stock rate behind lost sales, rules out a phantom flag, and a reconciliation needing it leaves the line "
    "out.",
    "In-stock rate": "The share of listed SKU-weeks in the period, among those with a stock count, that ended with "
    "on-hand above 0. Weeks with no stock count are left out of both sides.",
    "Out-of-stock weeks": "Listed weeks in the period that ended with on-hand 0.",
    "Lost sales (units)": f"For each out-of-stock week, the shortfall of its sell-out below the SKU's trailing "
    f"{RATE_WEEKS}-week in-stock rate: the mean weekly sell-out of those of the {RATE_WEEKS} weeks before it that "
    "ended with stock and that the retailer reported (weeks out of stock, without a count or unreported do not "
    f"count). 0 when the week sold at least that much, and 0 (not estimated) when none of the {RATE_WEEKS} weeks "
    "before it qualifies. An out-of-stock week the retailer did not report has no estimate (what it sold is "
    "unknown): it still counts as out of stock, and the page says how many such weeks it skipped.",
    "Lost sales (value)": "Lost units times the retailer x SKU's average sell-out price over the same in-stock "
    "weeks (their sell-out value divided by their units).",
    "Phantom inventory candidate": "At the position week, or at the retailer's own latest sell-out week when that "
    "is earlier (its POS lags; the week checked is shown): on-hand above 0 in it and in the week before, both weeks "
    "reported by the retailer with no sell-out of the line in either, and sell-out in at least "
    f"{PHANTOM_MIN_SELLING_WEEKS} of the {PHANTOM_HISTORY_WEEKS} weeks before those two (an unreported week is no "
    "evidence of selling). A missing stock count in either of the two weeks rules the line out (unknown), and a "
    "retailer that did not report one of the two weeks is not checked (the page names it). Stock that is on the "
    "books but does not scan: lost, damaged, in the back room or a wrong count.",
    "Stock reconciliation": "Over the period, per retailer x SKU: sell-in units (returns count negative) minus "
    "sell-out units, against the change in on-hand from the count at the end of the week before the period (0 for "
    "a line listed within the period) to the count at the end week: the period's last week, or the retailer's own "
    "latest sell-out week when earlier (through_week). Unexplained units = sell-in - sell-out - change in on-hand: "
    "positive means stock went missing (shrink, waste) or the data disagree. Lines lacking either count are left "
    "out and counted as not reconciled; a retailer that did not report sell-out for a week of that range (or has "
    "no sell-out) is not reconciled at all, since the flow cannot be closed without it; a retailer's figures are "
    "the sums over its reconciled lines.",
    "Forward-buy warning": f"Pipeline fill = sell-in units minus sell-out units over the last {FORWARD_BUY_WEEKS} "
    "weeks of the period, ending at the retailer's own latest sell-out week when that is earlier, and over the "
    "weeks of those the retailer reported (both sides skip the others). A retailer is flagged when its fill exceeds "
    f"{FORWARD_BUY_LIMIT:g} weeks of its sell-out (its mean weekly sell-out units over the same weeks). The "
    "expected order trough is the fill divided by that weekly sell-out: the weeks the extra stock lasts before "
    "orders can return to normal. It needs sell-in: a retailer with sell-out and no sell-in at all (a "
    "sell-out-only account) is named, not scored.",
}

# Column headers for people (the page's tables and the review pack); columns not listed are not shown.
HEADERS = {
    "retailer_name": "Retailer", "sku_name": "SKU", "oos_weeks": "Weeks out", "lost_units": "Lost units",
    "lost_value": "Lost value", "oos_weeks_unreported": "Weeks out, unreported",
    "on_hand": "On hand", "avg_weekly_units": "Weekly sell-out",
    "weeks_of_cover": "Weeks of cover", "forward_cover": "Forward cover", "woc_min": "Band from", "woc_max": "Band to",
    "shortfall_units": "Units short of band", "shortfall_value": "Value short of band",
    "excess_units": "Units above band", "excess_value": "Value above band",
    "cover_weeks": "Weeks averaged", "unreported_weeks": "Unreported weeks skipped",
    "selling_weeks": f"Weeks selling (of {PHANTOM_HISTORY_WEEKS})", "on_hand_value": "Stock value",
    "in_stock_rate": "In-stock rate", "now_oos": "Out now", "now_low": "Low now", "now_ok": "In band now",
    "now_high": "High now", "now_no_sales": "No sales now", "now_too_few_weeks": "No cover now",
    "now_phantom": "Phantom now",
    "through_week": "Through week", "checked_week": "Checked at week", "opening_units": "Opening stock",
    "sell_in_units": "Sell-in",
    "sell_out_units": "Sell-out", "closing_units": "Closing stock", "on_hand_change": "Change in stock",
    "unexplained_units": "Unexplained", "lines_left_out": "Lines left out",
}
AVAILABILITY_BY_RETAILER_COLUMNS = ["retailer_id", "in_stock_rate", "oos_weeks", "lost_units", "lost_value"]


# -- weeks ----------------------------------------------------------------------------------------------------
def period_weeks(scope: Scope) -> tuple[dt.date, dt.date] | None:
    """The first and last week of the period, as resolved (already clamped to the loaded weeks): None when it
    holds no week."""
    p = scope.period
    return None if p.empty else (p.start, p.end)


@dataclass(frozen=True)
class Context:
    """The filters resolved for inventory: the scope and the period's first and last week."""

    scope: Scope
    first: dt.date
    last: dt.date


def context(engine: Engine, filters: Filters, week: dt.date | None = None) -> Context | None:
    """None when no weekly data is loaded or the period holds no week.

    week: look at this week (its Monday) instead of the period's last week.
    """
    scope = resolve(engine, filters)
    if scope is None:
        return None
    weeks = period_weeks(scope)
    if week is None:
        return None if weeks is None else Context(scope, *weeks)
    last = monday(week)
    if last > scope.period.latest_week:
        return None
    return Context(scope, min(weeks[0], last) if weeks else last, last)


def _ts(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day)


def _in_scope(frame: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    if scope.retailer_ids is not None:
        mask &= frame["retailer_id"].isin(scope.retailer_ids)
    if scope.sku_ids is not None:
        mask &= frame["sku_id"].isin(scope.sku_ids)
    return frame[mask]


# -- the pure parts: small frames in, measures out --------------------------------------------------------------
LEDGER_COLUMNS = ["retailer_id", "sku_id", "week", "reported", "sold_units", "rate_weeks", "expected_units",
                  "lost_units", "price", "lost_value"]


def finish_listing(frame: pd.DataFrame) -> pd.DataFrame:
    """retailer_id, sku_id, listed (Timestamp), from the first week with stock or sales per line."""
    frame = frame[KEYS + ["listed"]].copy()
    frame["listed"] = pd.to_datetime(frame["listed"]).astype("datetime64[s]")
    return frame.sort_values(KEYS).reset_index(drop=True)


def finish_reported(frame: pd.DataFrame) -> pd.DataFrame:
    """retailer_id, week (Timestamp): the weeks each retailer reported any sell-out, sorted."""
    frame = frame[["retailer_id", "week"]].drop_duplicates().copy()
    frame["week"] = pd.to_datetime(frame["week"]).astype("datetime64[s]")
    return frame.sort_values(["retailer_id", "week"]).reset_index(drop=True)


def unreported_between(reported: pd.DataFrame, lo: dt.date, hi: dt.date, retailer_ids=None) -> pd.DataFrame:
    """retailer_id, week (Timestamp): the weeks lo..hi in which a retailer, from its first sell-out week on, reported
    no sell-out (freshness.unreported_weeks' rule, on the reads' own frame of reported weeks)."""
    empty = pd.DataFrame({"retailer_id": pd.Series(dtype=str), "week": pd.Series(dtype="datetime64[s]")})
    if reported.empty or lo > hi:
        return empty
    weeks = pd.DatetimeIndex([_ts(w) for w in calendar.weeks_between(lo, hi)]).astype("datetime64[s]")
    first = reported.groupby("retailer_id")["week"].min()
    if retailer_ids is not None:
        first = first[first.index.isin(list(retailer_ids))]
    grid = pd.MultiIndex.from_product([first.index, weeks], names=["retailer_id", "week"]).to_frame(index=False)
    grid = grid[grid["week"] >= grid["retailer_id"].map(first)]
    grid = grid.merge(reported, on=["retailer_id", "week"], how="left", indicator=True)
    return grid.loc[grid["_merge"] == "left_only", ["retailer_id", "week"]].reset_index(drop=True)


_REPORTED_SETS: dict[int, tuple[pd.DataFrame, set]] = {}


def reported_set(reported: pd.DataFrame) -> set:
    """{(retailer_id, week)} of a frame of reported weeks; the reads keep one such frame per database, so the set is
    kept beside it (keyed by the frame, which it holds so the key stays its own)."""
    kept = _REPORTED_SETS.get(id(reported))
    if kept is None or kept[0] is not reported:
        if len(_REPORTED_SETS) >= 8:
            _REPORTED_SETS.clear()
        kept = _REPORTED_SETS[id(reported)] = (reported, set(zip(reported["retailer_id"], reported["week"])))
    return kept[1]


def finish_ledger(frame: pd.DataFrame) -> pd.DataFrame:
    """Lost sales of each out-of-stock week from its own sell-out and the sell-out (units, value) and count of the
    reported in-stock weeks among the RATE_WEEKS before it (see DEFINITIONS); columns LEDGER_COLUMNS. An
    out-of-stock week the retailer did not report has no estimate (lost_units and lost_value empty)."""
    frame = frame.copy()
    frame["week"] = pd.to_datetime(frame["week"]).astype("datetime64[s]")
    frame["rate_weeks"] = frame["rate_weeks"].astype(int)
    frame["reported"] = frame["reported"].astype(float) > 0
    for col in ("rate_units", "rate_value", "sold_units"):
        frame[col] = frame[col].astype(float)
    frame["expected_units"] = (frame["rate_units"] / frame["rate_weeks"]).where(frame["rate_weeks"] > 0)
    lost = (frame["expected_units"] - frame["sold_units"]).clip(lower=0).fillna(0.0)
    frame["lost_units"] = lost.where(frame["reported"])
    frame["price"] = (frame["rate_value"] / frame["rate_units"]).where(frame["rate_units"] > 0)
    frame["lost_value"] = (frame["lost_units"] * frame["price"]).where(frame["lost_units"] > 0, 0.0).where(
        frame["reported"])
    return frame[LEDGER_COLUMNS].sort_values([*KEYS, "week"]).reset_index(drop=True)


def finish_weeks(frame: pd.DataFrame) -> pd.DataFrame:
    """retailer_id, sku_id, week (Timestamp) rows, sorted."""
    frame = frame[[*KEYS, "week"]].copy()
    frame["week"] = pd.to_datetime(frame["week"]).astype("datetime64[s]")
    return frame.sort_values([*KEYS, "week"]).reset_index(drop=True)


def ledger_rows(ledger: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """The rows of a whole-history frame (the ledger, unlisted zero weeks) in scope and in the period."""
    rows = ledger[(ledger["week"] >= _ts(ctx.first)) & (ledger["week"] <= _ts(ctx.last))]
    return _in_scope(rows, ctx.scope)


def lost_by(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Out-of-stock weeks, lost sales (the reported weeks' sums) and the out-of-stock weeks left unestimated because
    the retailer did not report them (oos_weeks_unreported), per keys."""
    return rows.assign(unreported=~rows["reported"].astype(bool)).groupby(keys, as_index=False).agg(
        oos_weeks=("week", "size"), lost_units=("lost_units", "sum"), lost_value=("lost_value", "sum"),
        oos_weeks_unreported=("unreported", "sum"))


LOST_COLUMNS = ["oos_weeks", "lost_units", "lost_value", "oos_weeks_unreported"]


def with_lost(counts: pd.DataFrame, lost: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Stock counts per keys (counted_weeks, in_stock_weeks) with out-of-stock weeks, lost sales and the in-stock
    rate; only keys with at least one listed week."""
    frame = counts.merge(lost, on=keys, how="left")
    frame[LOST_COLUMNS] = frame[LOST_COLUMNS].fillna(0)
    for col in ("counted_weeks", "in_stock_weeks", "oos_weeks", "oos_weeks_unreported"):
        frame[col] = frame[col].astype(int)
    listed_weeks = frame["in_stock_weeks"] + frame["oos_weeks"]
    frame["in_stock_rate"] = frame["in_stock_weeks"] / listed_weeks.where(listed_weeks > 0)
    return frame[listed_weeks > 0].sort_values(keys).reset_index(drop=True)


def bands_of(retailers: pd.DataFrame) -> pd.DataFrame:
    """retailer_id, retailer_name, woc_min, woc_max (the contract's defaults where a retailer has none)."""
    r = retailers[["retailer_id", "retailer_name", "woc_min", "woc_max"]].copy()
    r["woc_min"] = pd.to_numeric(r["woc_min"], errors="coerce").fillna(DEFAULT_WOC_MIN).astype(float)
    r["woc_max"] = pd.to_numeric(r["woc_max"], errors="coerce").fillna(DEFAULT_WOC_MAX).astype(float)
    return r


def classify(on_hand: pd.Series, avg: pd.Series, woc_min: pd.Series, woc_max: pd.Series) -> pd.Series:
    """The cover status of each row (see DEFINITIONS["Cover status"]); empty where there is no stock count. `avg`
    is empty where fewer than MIN_COVER_WEEKS weeks could be averaged."""
    cover = on_hand / avg.where(avg > 0)
    status = np.select(
        [on_hand.isna(), on_hand <= 0, avg.isna(), ~(avg > 0), cover < woc_min, cover > woc_max],
        [None, "oos", "too_few_weeks", "no_sales", "low", "high"], default="ok")
    return pd.Series(status, index=on_hand.index, dtype=object)


def _filled(frame: pd.DataFrame, sums: list[str], levels: list[str]) -> pd.DataFrame:
    """Sums missing for a line are 0 (no row sold or shipped nothing); stock levels missing stay missing."""
    frame = frame.copy()
    for col in sums:
        frame[col] = frame[col].fillna(0.0).astype(float) if col in frame else 0.0
    for col in levels:
        frame[col] = frame[col].astype(float) if col in frame else np.nan
    return frame


POSITION_SUMS = ["units_window", "value_window", "sold_last_two", "cover_weeks"]


def lookback_weeks(window: int) -> int:
    """How many weeks, ending with a week, weeks of cover searches for the `window` weeks it averages."""
    return COVER_LOOKBACK * window


def lookback_start(week: dt.date, window: int) -> dt.date:
    """The first of the lookback_weeks(window) weeks ending with `week`."""
    return week - (lookback_weeks(window) - 1) * WEEK


def finish_positions(raw: pd.DataFrame, listing: pd.DataFrame, bands: pd.DataFrame, last: dt.date,
                     window: int, reported: pd.DataFrame) -> pd.DataFrame:
    """Every line at the week `last`: listing, band, average weekly sell-out, weeks of cover, status (see
    DEFINITIONS), the price of the averaged weeks and the unreported weeks the average looked past
    (unreported_weeks), from its raw per-line reads (IbisReads.positions) and the reported weeks."""
    frame = _filled(raw, POSITION_SUMS, ["on_hand", "on_hand_previous"])
    frame = frame.merge(listing, on=KEYS, how="left").merge(bands, on="retailer_id", how="left")
    week = _ts(last)
    frame["cover_weeks"] = frame["cover_weeks"].astype(int)
    frame["avg_weekly_units"] = (frame["units_window"] / frame["cover_weeks"]).where(
        frame["cover_weeks"] >= MIN_COVER_WEEKS)
    # a line with no stock and no sales yet is not listed: its row says nothing about the shelf
    on_hand = frame["on_hand"].where(frame["listed"] <= week)
    frame["weeks_of_cover"] = on_hand / frame["avg_weekly_units"].where(frame["avg_weekly_units"] > 0)
    frame["status"] = classify(on_hand, frame["avg_weekly_units"], frame["woc_min"], frame["woc_max"])
    frame["price"] = (frame["value_window"] / frame["units_window"]).where(frame["units_window"] > 0)
    # the span the average searched: back to its oldest averaged week, or the whole lookback when it found fewer
    # weeks than the window
    if "cover_from" in frame:
        cover_from = pd.to_datetime(frame["cover_from"]).astype("datetime64[s]")
    else:
        cover_from = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[s]")
    span_from = cover_from.where(frame["cover_weeks"] >= window, _ts(lookback_start(last, window)))
    frame["unreported_weeks"] = skipped_weeks(frame["retailer_id"], span_from, last, reported, window)
    return frame.drop(columns=["cover_from"], errors="ignore").sort_values(KEYS).reset_index(drop=True)


def skipped_weeks(retailer_ids: pd.Series, span_from: pd.Series, last: dt.date, reported: pd.DataFrame,
                  window: int) -> pd.Series:
    """Per row: the weeks span_from..last (within the lookback) its retailer did not report sell-out."""
    missing = unreported_between(reported, lookback_start(last, window), last, set(retailer_ids))
    out = pd.Series(0, index=retailer_ids.index, dtype=int)
    if missing.empty:
        return out
    by_retailer = {r: np.sort(g["week"].to_numpy()) for r, g in missing.groupby("retailer_id")}
    for rid, rows in retailer_ids.groupby(retailer_ids).groups.items():
        weeks = by_retailer.get(rid)
        if weeks is not None:
            starts = span_from.loc[rows].to_numpy(dtype="datetime64[s]")
            out.loc[rows] = len(weeks) - np.searchsorted(weeks, starts, side="left")
    return out


PHANTOM_COLUMNS = ["retailer_id", "sku_id", "on_hand", "selling_weeks", "price"]
CHECKED_PHANTOM_COLUMNS = [*PHANTOM_COLUMNS, "checked_week"]


def silent_lines(lines: pd.DataFrame, reported: pd.DataFrame, week: dt.date) -> pd.DataFrame:
    """Lines with stock above 0 in the week and the week before and no sell-out in either, both weeks reported by
    the retailer (a week whose POS did not arrive is not silence)."""
    have = reported_set(reported)
    both = lines["retailer_id"].map(lambda r: (r, _ts(week)) in have and (r, _ts(week - WEEK)) in have)
    silent = ((lines["on_hand"] > 0) & (lines["on_hand_previous"] > 0) & ~(lines["sold_last_two"].fillna(0.0) > 0)
              & both.astype(bool))
    return lines.loc[silent, [*KEYS, "on_hand"]].reset_index(drop=True)


def phantom_weeks(at_by_retailer: dict, latest_sell_out: dict, reported: pd.DataFrame
                  ) -> tuple[dict[dt.date, list[str]], list[str]]:
    """The week each retailer's phantom check runs at: its position week (at_by_retailer), or its own latest sell-out
    week when earlier (its POS lags). Returns ({week: retailer ids}, the retailers with sell-out that cannot be
    checked because that week or the one before was not reported)."""
    have = reported_set(reported)
    groups: dict[dt.date, list[str]] = {}
    unchecked = []
    for rid in sorted(at_by_retailer):
        if rid not in latest_sell_out:
            continue
        week = min(at_by_retailer[rid], latest_sell_out[rid])
        if (rid, _ts(week)) in have and (rid, _ts(week - WEEK)) in have:
            groups.setdefault(week, []).append(rid)
        else:
            unchecked.append(rid)
    return groups, unchecked


def finish_phantom(silent: pd.DataFrame, selling: pd.DataFrame) -> pd.DataFrame:
    """The silent lines that sold in enough of the weeks before (see DEFINITIONS["Phantom inventory candidate"])."""
    frame = silent.merge(selling, on=KEYS, how="inner")
    frame = frame[frame["selling_weeks"] >= PHANTOM_MIN_SELLING_WEEKS].copy()
    frame["selling_weeks"] = frame["selling_weeks"].astype(int)
    frame["on_hand"] = frame["on_hand"].astype(float)
    frame["price"] = frame["value"] / frame["units"]
    return frame[PHANTOM_COLUMNS].sort_values(KEYS).reset_index(drop=True)


def walk_forward(on_hand: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Weeks until each row's stock runs out on its weekly demand (rows x horizon), fractional in the last week;
    past the horizon at its average; NaN where the horizon holds no demand."""
    horizon = demand.shape[1]
    cum = np.cumsum(demand, axis=1)
    total = cum[:, -1]
    out = np.full(len(on_hand), np.nan)
    for i, stock in enumerate(on_hand):
        if np.isnan(stock):
            continue
        if stock <= 0:
            out[i] = 0.0
        elif total[i] >= stock:
            k = int(np.argmax(cum[i] >= stock))  # the week (0-based) in which the stock runs out
            before = cum[i, k - 1] if k else 0.0
            out[i] = k + (stock - before) / demand[i, k]
        elif total[i] > 0:
            out[i] = horizon + (stock - total[i]) / (total[i] / horizon)
    return out


def forward_window(week: dt.date) -> tuple[dt.date, dt.date]:
    """The weeks forward cover at `week` reads: from the last year of the first week of its year (for the YTD
    growth ratio) to `week` (last year's coming weeks lie in between)."""
    return last_year(first_monday(week.year)), week


def _reported_matrix(retailer_ids: pd.Series, weeks: list, have: set) -> np.ndarray:
    """rows x weeks: whether each row's retailer reported each week (None: a week that does not exist)."""
    return np.array([[w is not None and (r, _ts(w)) in have for w in weeks] for r in retailer_ids], dtype=bool
                    ).reshape(len(retailer_ids), len(weeks))


def finish_forward_cover(stock: pd.DataFrame, weekly: pd.DataFrame, week: dt.date,
                         reported: pd.DataFrame) -> pd.Series:
    """Forward cover of each row of `stock` (retailer_id, sku_id, on_hand) at `week` from its weekly sell-out
    (IbisReads.forward_demand): last year's units of the FORWARD_HORIZON coming weeks times the YTD growth ratio
    (see DEFINITIONS["Forward cover"]). Last year is calendar.last_year; weeks the retailer did not report are
    skipped, never read as zero."""
    have = reported_set(reported)
    grid = weekly.assign(week=pd.to_datetime(weekly["week"]).astype("datetime64[s]")).pivot_table(
        index=KEYS, columns="week", values="units", aggfunc="sum")
    grid = grid.reindex(pd.MultiIndex.from_frame(stock[KEYS])).fillna(0.0)  # a reported week with no row sold 0

    def units(weeks: list) -> np.ndarray:
        cols = [_ts(w) if w is not None else None for w in weeks]
        return np.column_stack([grid[c].to_numpy(dtype=float) if c in grid.columns else np.zeros(len(grid))
                                for c in cols]) if cols else np.zeros((len(grid), 0))

    rid = stock["retailer_id"]
    pairs = [(w, last_year(w)) for w in calendar.weeks_between(first_monday(week.year), week)]
    pairs = [(w, ly) for w, ly in pairs if ly is not None]
    this_year, ly_weeks = [w for w, _ in pairs], [ly for _, ly in pairs]
    both = _reported_matrix(rid, this_year, have) & _reported_matrix(rid, ly_weeks, have)
    ytd = (units(this_year) * both).sum(axis=1)
    ytd_ly = (units(ly_weeks) * both).sum(axis=1)
    ratio = np.where(ytd_ly > 0, ytd / np.where(ytd_ly > 0, ytd_ly, 1.0), 1.0)
    coming = [last_year(week + k * WEEK) for k in range(1, FORWARD_HORIZON + 1)]
    known = _reported_matrix(rid, coming, have)
    demand = np.where(known, units(coming), np.nan)
    # an unreported (or nonexistent) week of last year takes the mean of the line's reported coming weeks
    counts = known.sum(axis=1)
    means = np.where(counts > 0, np.nansum(demand, axis=1) / np.maximum(counts, 1), np.nan)
    demand = np.where(known, demand, means[:, None])
    out = walk_forward(stock["on_hand"].to_numpy(dtype=float), np.nan_to_num(demand * ratio[:, None]))
    return pd.Series(np.where(counts > 0, out, np.nan), index=stock.index)


WEEKLY_COLUMNS = ["sku_id", "week", "on_hand", "avg_weekly_units", "weeks_of_cover", "status"]


def trailing_cover_weeks(on_hand: np.ndarray, units: np.ndarray, reported: np.ndarray, window: int
                         ) -> tuple[np.ndarray, np.ndarray]:
    """For a lines x weeks grid (consecutive weeks; on_hand NaN where no count, units 0 where no row, reported per
    week): at each week, the count and units of the `window` latest weeks within the lookback_weeks(window) ending
    there that were reported and ended in stock."""
    good = (np.nan_to_num(on_hand, nan=0.0) > 0) & reported[None, :]
    n_lines, n_weeks = good.shape
    counts = np.zeros((n_lines, n_weeks + 1))
    sums = np.zeros((n_lines, n_weeks + 1))
    counts[:, 1:] = np.cumsum(good, axis=1)
    sums[:, 1:] = np.cumsum(np.where(good, units, 0.0), axis=1)
    taken = np.zeros((n_lines, n_weeks))
    total = np.zeros((n_lines, n_weeks))
    lows = np.maximum(np.arange(n_weeks) - lookback_weeks(window) + 1, 0)  # the lookback's first week, per week
    for i in range(n_lines):
        through = counts[i, 1:]  # good weeks up to and including each week
        # the earliest prefix position holding at most `window` good weeks up to the week, within the lookback
        start = np.maximum(np.searchsorted(counts[i], through - window, side="left"), lows)
        taken[i] = through - counts[i, start]
        total[i] = sums[i, 1:] - sums[i, start]
    return taken, total


def finish_retailer_weeks(raw: pd.DataFrame, listing: pd.DataFrame, band: tuple[float, float], window: int,
                          first: dt.date, last: dt.date, reported: pd.DataFrame) -> pd.DataFrame:
    """One retailer's lines week by week in the period (raw: IbisReads.retailer_weeks, one retailer's reported
    weeks) with average, cover and status as for the last week; listed weeks with a stock count only."""
    frame = raw.copy()
    frame["week"] = pd.to_datetime(frame["week"]).astype("datetime64[s]")
    weeks = [_ts(w) for w in calendar.weeks_between(lookback_start(first, window), last)]
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in WEEKLY_COLUMNS})
    stock = frame.pivot_table(index="sku_id", columns="week", values="on_hand", aggfunc="max", dropna=False
                              ).reindex(columns=weeks)
    units = frame.pivot_table(index="sku_id", columns="week", values="units", aggfunc="sum").reindex(
        index=stock.index, columns=weeks).fillna(0.0)
    have = set(reported["week"])
    taken, total = trailing_cover_weeks(stock.to_numpy(dtype=float), units.to_numpy(dtype=float),
                                        np.array([w in have for w in weeks], dtype=bool), window)
    long = pd.DataFrame({"sku_id": np.repeat(stock.index.to_numpy(), len(weeks)),
                         "week": np.tile(np.array(weeks, dtype="datetime64[s]"), len(stock.index)),
                         "on_hand": stock.to_numpy(dtype=float).ravel(), "taken": taken.ravel(),
                         "total": total.ravel()})
    long = long.merge(listing[["sku_id", "listed"]], on="sku_id", how="inner")
    long = long[long["on_hand"].notna() & (long["week"] >= long["listed"]) & (long["week"] >= _ts(first))].copy()
    long["avg_weekly_units"] = (long["total"] / long["taken"]).where(long["taken"] >= MIN_COVER_WEEKS)
    long["weeks_of_cover"] = long["on_hand"] / long["avg_weekly_units"].where(long["avg_weekly_units"] > 0)
    long["status"] = classify(long["on_hand"], long["avg_weekly_units"],
                              pd.Series(band[0], index=long.index), pd.Series(band[1], index=long.index))
    return long[WEEKLY_COLUMNS].sort_values(["sku_id", "week"]).reset_index(drop=True)


def retailer_flows(raw: pd.DataFrame, retailer_id: str, first: dt.date, end: dt.date) -> pd.DataFrame:
    """Per line of one retailer, from its weeks (IbisReads.retailer_weeks): the raw input of `reconcile` over
    first..end (the retailer's own end, see reconciliation_ends), as IbisReads.line_flows gives it for every
    retailer."""
    week = pd.to_datetime(raw["week"])
    in_period = (week >= _ts(first)) & (week <= _ts(end))
    flows = raw[in_period].groupby("sku_id").agg(sell_in_units=("shipped", "sum"), sell_out_units=("units", "sum"))
    counts = [raw.loc[(week == _ts(day)) & raw["on_hand"].notna()].groupby("sku_id")["on_hand"].max().rename(name)
              for name, day in (("opening", first - WEEK), ("closing", end))]
    frame = pd.concat([*counts, flows], axis=1).rename_axis("sku_id").reset_index()
    frame.insert(0, "retailer_id", retailer_id)
    return frame


def trend(weeks: pd.DataFrame) -> pd.DataFrame:
    """A retailer's cover week by week: the total stock over the total average weekly sell-out of its lines with a
    stock count and an average that week, and the share of its counted lines in stock."""
    averaged = weeks["avg_weekly_units"].notna()
    grouped = weeks.assign(
        stock_averaged=weeks["on_hand"].where(averaged, 0.0),
        avg_averaged=weeks["avg_weekly_units"].where(averaged, 0.0)).groupby("week", as_index=False).agg(
        on_hand=("stock_averaged", "sum"), avg_weekly_units=("avg_averaged", "sum"),
        lines=("sku_id", "size"), in_stock=("on_hand", lambda v: int((v > 0).sum())))
    grouped["weeks_of_cover"] = grouped["on_hand"] / grouped["avg_weekly_units"].where(grouped["avg_weekly_units"] > 0)
    grouped["in_stock_share"] = grouped["in_stock"] / grouped["lines"]
    return grouped


RECONCILIATION_COLUMNS = ["retailer_id", "through_week", "sell_in_units", "sell_out_units", "on_hand_change",
                          "unexplained_units"]


def reconciliation_ends(retailer_ids, latest_sell_out: dict, reported: pd.DataFrame, first: dt.date,
                        last: dt.date) -> pd.DataFrame:
    """Per retailer: the week its reconciliation runs to (end_week: the period's last week, or its own latest
    sell-out week when earlier) and the weeks first..end_week whose sell-out it did not report (unreported_weeks).
    A retailer with no sell-out, or with unreported weeks, cannot be reconciled (ok False)."""
    rows = []
    gaps = unreported_between(reported, first, last, set(retailer_ids))
    for rid in sorted(set(retailer_ids)):
        latest = latest_sell_out.get(rid)
        end = min(last, latest) if latest is not None else last
        missing = int(((gaps["retailer_id"] == rid) & (gaps["week"] <= _ts(end))).sum())
        rows.append((rid, _ts(end), missing, latest is not None and end >= first and missing == 0))
    frame = pd.DataFrame(rows, columns=["retailer_id", "end_week", "unreported_weeks", "ok"])
    frame["end_week"] = frame["end_week"].astype("datetime64[s]")
    return frame


def reconcile(raw: pd.DataFrame, listing: pd.DataFrame, first: dt.date, ends: pd.DataFrame) -> pd.DataFrame:
    """Per line (raw: opening, closing, sell_in_units, sell_out_units; IbisReads.line_flows): opening and closing
    stock, the unexplained remainder and whether the line could be reconciled (see DEFINITIONS); `ends` from
    reconciliation_ends."""
    frame = _filled(raw, ["sell_in_units", "sell_out_units"], ["opening", "closing"])
    frame = frame.merge(listing, on=KEYS, how="inner")  # a line never listed has nothing to reconcile
    frame = frame.merge(ends, on="retailer_id", how="inner")
    new_listing = frame["listed"] >= _ts(first)
    frame["opening_units"] = frame["opening"].where(frame["opening"].notna() | ~new_listing, 0.0)
    frame["closing_units"] = frame["closing"]
    frame["reconciled"] = frame["opening_units"].notna() & frame["closing_units"].notna() & frame["ok"]
    frame["on_hand_change"] = frame["closing_units"] - frame["opening_units"]
    frame["unexplained_units"] = frame["sell_in_units"] - frame["sell_out_units"] - frame["on_hand_change"]
    frame["through_week"] = frame["end_week"]
    return frame.sort_values(KEYS).reset_index(drop=True)


def reconciliation_by_retailer(lines: pd.DataFrame) -> pd.DataFrame:
    """Sums over each retailer's reconciled lines, the week they run to, the number of lines left out and the
    unreported sell-out weeks that kept a retailer from being reconciled."""
    cols = ["opening_units", "sell_in_units", "sell_out_units", "closing_units", "on_hand_change",
            "unexplained_units"]
    frame = lines[lines["reconciled"]].groupby("retailer_id", as_index=False)[cols].sum()
    left_out = lines[~lines["reconciled"]].groupby("retailer_id").size().rename("lines_left_out").reset_index()
    meta = lines.groupby("retailer_id", as_index=False).agg(through_week=("through_week", "first"),
                                                            unreported_weeks=("unreported_weeks", "first"))
    frame = frame.merge(left_out, on="retailer_id", how="outer").merge(meta, on="retailer_id", how="left")
    frame["lines_left_out"] = frame["lines_left_out"].fillna(0).astype(int)
    frame["unreported_weeks"] = frame["unreported_weeks"].fillna(0).astype(int)
    return frame.sort_values("retailer_id").reset_index(drop=True)


FORWARD_BUY_COLUMNS = ["retailer_id", "through_week", "weeks", "unreported_weeks", "sell_in_units",
                       "sell_out_units", "fill_units", "weekly_sell_out", "fill_weeks", "warning"]


def forward_buy_weeks(retailer_ids, latest_sell_out: dict, with_sell_in: set, reported: pd.DataFrame,
                      last: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The weeks forward buying compares, per retailer with both sell-in and sell-out: the FORWARD_BUY_WEEKS weeks
    ending with the period's last week, or with the retailer's own latest sell-out week when earlier, less the
    weeks it did not report (both sides skip them). Returns (retailer_id, week) rows and per retailer its
    through_week, weeks used and unreported_weeks skipped."""
    have = reported_set(reported)
    rows, meta = [], []
    for rid in sorted(set(retailer_ids)):
        latest = latest_sell_out.get(rid)
        if latest is None or rid not in with_sell_in:
            continue
        end = min(last, latest)
        window = [end - k * WEEK for k in range(FORWARD_BUY_WEEKS)]
        used = [w for w in window if (rid, _ts(w)) in have]
        rows += [(rid, _ts(w)) for w in used]
        meta.append((rid, _ts(end), len(used), FORWARD_BUY_WEEKS - len(used)))
    weeks = pd.DataFrame(rows, columns=["retailer_id", "week"]).astype({"week": "datetime64[s]"})
    meta = pd.DataFrame(meta, columns=["retailer_id", "through_week", "weeks", "unreported_weeks"]).astype(
        {"through_week": "datetime64[s]"})
    return weeks, meta


def forward_buy(flows: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """Pipeline fill per retailer (see DEFINITIONS["Forward-buy warning"]) from its sell-in and sell-out units over
    its weeks (IbisReads.window_flows over forward_buy_weeks)."""
    per = meta.merge(flows, on="retailer_id", how="left").fillna({"sell_in_units": 0.0, "sell_out_units": 0.0})
    per = per[(per["sell_out_units"] > 0) & (per["weeks"] > 0)].copy()
    per["fill_units"] = per["sell_in_units"] - per["sell_out_units"]
    per["weekly_sell_out"] = per["sell_out_units"] / per["weeks"]
    per["fill_weeks"] = per["fill_units"] / per["weekly_sell_out"]
    per["warning"] = per["fill_weeks"] > FORWARD_BUY_LIMIT
    return per[FORWARD_BUY_COLUMNS].sort_values(["fill_weeks", "retailer_id"], ascending=[False, True]
                                                ).reset_index(drop=True)


# -- the reads, in Ibis -----------------------------------------------------------------------------------------
def weeks_before(week: ibis.DateValue, n: int) -> ibis.DateValue:
    """The Monday n weeks before, as a DATE on every backend."""
    # DuckDB types date - interval as TIMESTAMP while Ibis calls it a date (and so drops a cast to date); a
    # timestamp key joined to a DATE column would cast every probed row. The round trip keeps it a DATE.
    return (week - ibis.interval(days=7 * n)).cast("timestamp").cast("date")


def _at(col, week, day):
    return ibis.cases((week == day, col)).max()


def _by_line(parts: list[ibis.Table], keys: list[str] = KEYS) -> ibis.Table | None:
    """Per-line aggregates of several tables side by side: one row per retailer x SKU found in any of them."""
    if not parts:
        return None
    # Outer-joining the parts would chain joins; a union of the per-line rows, each part's columns filled
    # with NULL in the other parts, grouped once, gives the same table.
    columns = {c: part[c].type() for part in parts for c in part.columns if c not in keys}
    stacked = ibis.union(*[
        part.select(*keys, **{c: part[c] if c in part.columns else ibis.null(t) for c, t in columns.items()})
        for part in parts], distinct=False)
    return stacked.group_by(keys).aggregate(**{c: stacked[c].max() for c in columns})


def _dates(frame: pd.DataFrame, columns: list[str]) -> ibis.Table:
    """A small pandas frame as an Ibis table, its week columns typed DATE (to join the fact tables' weeks)."""
    table = ibis.memtable(frame)
    return table.mutate(**{c: table[c].cast("date") for c in columns})


class IbisReads:
    """What the inventory measures read from the data, as small pandas frames: the app's reads, through the
    engine (DuckDB or Spark). The benchmark has SQL and pandas versions with the same methods and results."""

    def __init__(self, engine: Engine, ctx: Context | None = None) -> None:
        self.engine = engine
        self.ctx = ctx

    def has(self, name: str) -> bool:
        return self.engine.has(name)

    def retailers(self) -> pd.DataFrame:
        return scopes.retailers(self.engine)

    def products(self) -> pd.DataFrame:
        return scopes.products(self.engine)

    def _table(self, name: str, lo: dt.date, hi: dt.date | None = None, retailer_id: str | None = None):
        t = self.ctx.scope.weekly(self.engine.table(name), lo, self.ctx.last if hi is None else hi)
        return t.filter(t.retailer_id == retailer_id) if retailer_id is not None else t

    def _run(self, expr) -> pd.DataFrame:
        return self.engine.execute(expr) if expr is not None else pd.DataFrame(columns=KEYS)

    def reported_weeks(self) -> pd.DataFrame:
        """retailer_id, week (Timestamp): the weeks each retailer reported any sell-out (freshness.reported_weeks,
        computed once per engine; every SKU counts, whatever the filters)."""
        return self.engine.memo(("inventory", "reported"),
                                lambda: finish_reported(freshness.reported_weeks(self.engine)))

    def retailer_latest(self, table: str) -> dict:
        """retailer_id -> its latest week (date) in a weekly table (freshness; empty when the table is not
        loaded)."""
        return freshness.freshness(self.engine).retailer_latest(table)

    # -- whole history, once per engine --------------------------------------------------------------------
    def _listing_expr(self) -> ibis.Table:
        parts = []
        inv = self.engine.table("inventory")
        parts.append(inv.filter(inv.on_hand_units > 0).group_by(KEYS).aggregate(first_week=_.week.min()))
        if self.has("sell_out"):
            so = self.engine.table("sell_out")
            parts.append(so.filter(so.units > 0).group_by(KEYS).aggregate(first_week=_.week.min()))
        both = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
        return both.group_by(KEYS).aggregate(listed=_.first_week.min())

    def listing(self) -> pd.DataFrame:
        """The first week with stock above 0 or any sell-out, per line that ever had either."""
        if not self.has("inventory"):
            return pd.DataFrame({"retailer_id": pd.Series(dtype=str), "sku_id": pd.Series(dtype=str),
                                 "listed": pd.Series(dtype="datetime64[s]")})
        return self.engine.memo(("inventory", "listing"),
                                lambda: finish_listing(self.engine.execute(self._listing_expr())))

    def _ledger_expr(self) -> ibis.Table:
        inv = self.engine.table("inventory")
        listed = ibis.memtable(self.listing())
        zero = inv.filter(inv.on_hand_units == 0).select(*KEYS, "week")
        out = zero.join(listed, KEYS).filter(_.week >= _.listed.cast("date")).select(*KEYS, "week")
        # The weeks before each out-of-stock week, one row per (week, earlier week); a union of fixed offsets
        # keeps the date arithmetic portable (DuckDB and Spark).
        prior = ibis.union(*[out.select(*KEYS, "week", earlier=weeks_before(out.week, k))
                             for k in range(1, RATE_WEEKS + 1)], distinct=False)
        stocked = inv.filter(inv.on_hand_units > 0).select(*KEYS, earlier=_.week)
        prior_in_stock = prior.join(stocked, [*KEYS, "earlier"]).select(*KEYS, "week", "earlier")
        wanted = ibis.union(prior_in_stock, out.select(*KEYS, "week", earlier=_.week), distinct=False)
        if self.has("sell_out"):
            so = self.engine.table("sell_out").select(*KEYS, earlier=_.week, units=_.units, value=_.sales_value)
            # A semi join hashes the few wanted weeks and streams sell-out past them once (a left join from the
            # wanted weeks would hash the whole of sell-out); the weeks that sold nothing come back by the
            # small left join below. Store and online rows of one week add up.
            sold = so.semi_join(wanted.select(*KEYS, "earlier").distinct(), [*KEYS, "earlier"]).group_by(
                [*KEYS, "earlier"]).aggregate(units=_.units.sum(), value=_.value.sum())
            weekly = wanted.left_join(sold, [*KEYS, "earlier"]).select(
                wanted.retailer_id, wanted.sku_id, wanted.week, wanted.earlier,
                units=sold.units.fill_null(0.0), value=sold.value.fill_null(0.0))
            # a week the retailer reported no sell-out for is unknown, not a week that sold 0
            rep = _dates(self.reported_weeks().rename(columns={"week": "earlier"}), ["earlier"]).mutate(
                seen=ibis.literal(1))
            weekly = weekly.left_join(rep, ["retailer_id", "earlier"]).select(
                weekly.retailer_id, weekly.sku_id, weekly.week, weekly.earlier, weekly.units, weekly.value,
                seen=rep.seen.notnull())
        else:
            weekly = wanted.mutate(units=ibis.literal(0.0), value=ibis.literal(0.0), seen=ibis.literal(False))
        before = (weekly.earlier < weekly.week) & weekly.seen
        this = (weekly.earlier == weekly.week) & weekly.seen
        return weekly.group_by([*KEYS, "week"]).aggregate(
            rate_weeks=ibis.cases((before, 1), else_=0).sum(),
            rate_units=ibis.cases((before, weekly.units), else_=0.0).sum(),
            rate_value=ibis.cases((before, weekly.value), else_=0.0).sum(),
            sold_units=ibis.cases((this, weekly.units), else_=0.0).sum(),
            reported=ibis.cases((this, 1), else_=0).max(),
        )

    def ledger(self) -> pd.DataFrame:
        """Every listed out-of-stock week in the data with its lost sales (finish_ledger)."""
        if not self.has("inventory"):
            return pd.DataFrame({c: pd.Series(dtype=float) for c in LEDGER_COLUMNS})
        return self.engine.memo(("inventory", "ledger"),
                                lambda: finish_ledger(self.engine.execute(self._ledger_expr())))

    # -- the filtered reads ----------------------------------------------------------------------------------
    def counted_weeks(self, keys: list[str]) -> pd.DataFrame:
        """Weeks with a stock count (counted_weeks) per keys over the period. Counting rows reads no stock
        column: which of them were out of stock comes from the ledger and unlisted_zero_weeks."""
        inv = self._table("inventory", self.ctx.first)
        return self.engine.execute(inv.group_by(keys).aggregate(counted_weeks=_.count()))

    def unlisted_zero_weeks(self) -> pd.DataFrame:
        """Stock counts of 0 before the line was listed (retailer_id, sku_id, week), in all of history."""
        if not self.has("inventory"):
            return pd.DataFrame({"retailer_id": pd.Series(dtype=str), "sku_id": pd.Series(dtype=str),
                                 "week": pd.Series(dtype="datetime64[s]")})

        def load() -> pd.DataFrame:
            inv = self.engine.table("inventory")
            zero = inv.filter(inv.on_hand_units == 0).select(*KEYS, "week")
            listed = ibis.memtable(self.listing())
            early = zero.left_join(listed, KEYS).filter(
                listed.listed.isnull() | (zero.week < listed.listed.cast("date"))).select(zero.retailer_id,
                                                                                          zero.sku_id, zero.week)
            return finish_weeks(self.engine.execute(early))

        return self.engine.memo(("inventory", "unlisted"), load)

    def positions(self, window: int, week: dt.date | None = None) -> pd.DataFrame:
        """Per line at `week` (default: the period's last): on_hand and on_hand_previous (stock counts of the week
        and the week before), sold_last_two, and over the `window` latest weeks of the lookback_weeks(window) ending
        with it that the retailer reported and that ended in stock: their number (cover_weeks), sell-out
        (units_window, value_window) and the oldest of them (cover_from)."""
        last = self.ctx.last if week is None else week
        previous, lo = last - WEEK, lookback_start(last, window)
        parts = []
        if self.has("inventory"):
            inv = self._table("inventory", lo, last)
            recent = inv.filter(inv.week >= previous)
            parts.append(recent.group_by(KEYS).aggregate(
                on_hand=_at(recent.on_hand_units, recent.week, last),
                on_hand_previous=_at(recent.on_hand_units, recent.week, previous)))
            if self.has("sell_out"):
                reported = self.reported_weeks()
                reported = reported[(reported["week"] >= _ts(lo)) & (reported["week"] <= _ts(last))]
                stocked = inv.filter(inv.on_hand_units > 0).select(*KEYS, "week")
                good = stocked.join(_dates(reported, ["week"]), ["retailer_id", "week"]).select(*KEYS, "week")
                so = self._table("sell_out", lo, last)
                sold = so.group_by([*KEYS, "week"]).aggregate(units=so.units.sum(), value=so.sales_value.sum())
                good = good.left_join(sold, [*KEYS, "week"]).select(
                    good.retailer_id, good.sku_id, good.week, units=sold.units.fill_null(0.0),
                    value=sold.value.fill_null(0.0))
                good = good.mutate(rank=ibis.row_number().over(group_by=KEYS, order_by=ibis.desc(good.week)))
                good = good.filter(good.rank < window)  # row_number counts from 0
                parts.append(good.group_by(KEYS).aggregate(
                    cover_weeks=good.count(), units_window=good.units.sum(), value_window=good.value.sum(),
                    cover_from=good.week.min()))
        if self.has("sell_out"):
            so = self._table("sell_out", previous, last)
            parts.append(so.group_by(KEYS).aggregate(sold_last_two=so.units.sum()))
        return self._run(_by_line(parts))

    def window_flows(self, weeks: pd.DataFrame) -> pd.DataFrame:
        """Per retailer: sell-in and sell-out units (sell_in_units, sell_out_units) of the lines in scope over the
        given retailer x week rows (forward_buy_weeks)."""
        if weeks.empty:
            return pd.DataFrame({"retailer_id": pd.Series(dtype=str), "sell_in_units": pd.Series(dtype=float),
                                 "sell_out_units": pd.Series(dtype=float)})
        wanted = _dates(weeks, ["week"])
        lo, hi = weeks["week"].min().date(), weeks["week"].max().date()
        parts = []
        for name, col in (("sell_in", "sell_in_units"), ("sell_out", "sell_out_units")):
            if self.has(name):
                t = self._table(name, lo, hi).semi_join(wanted, ["retailer_id", "week"])
                parts.append(t.group_by("retailer_id").aggregate(**{col: t.units.sum()}))
        return self._run(_by_line(parts, ["retailer_id"]))

    def recent_stock(self, week: dt.date) -> pd.DataFrame:
        """Per line: on_hand and on_hand_previous (stock counts of `week` and the week before) and sold_last_two
        (their sell-out units): what phantom candidates start from, read on its own."""
        previous = week - WEEK
        parts = []
        if self.has("inventory"):
            inv = self._table("inventory", previous, week)
            parts.append(inv.group_by(KEYS).aggregate(on_hand=_at(inv.on_hand_units, inv.week, week),
                                                      on_hand_previous=_at(inv.on_hand_units, inv.week, previous)))
        if self.has("sell_out"):
            so = self._table("sell_out", previous, week)
            parts.append(so.group_by(KEYS).aggregate(sold_last_two=so.units.sum()))
        return self._run(_by_line(parts))

    def selling_history(self, silent: pd.DataFrame, week: dt.date) -> pd.DataFrame:
        """For the given lines: weeks with sell-out (selling_weeks), units and value in the PHANTOM_HISTORY_WEEKS
        before the two silent weeks ending with `week`."""
        end = week - PHANTOM_ZERO_WEEKS * WEEK
        t = self._table("sell_out", end - (PHANTOM_HISTORY_WEEKS - 1) * WEEK, end)
        # the few silent lines only: a narrow read however large the table
        t = t.filter(t.units > 0, t.retailer_id.isin(sorted(set(silent["retailer_id"]))),
                     t.sku_id.isin(sorted(set(silent["sku_id"]))))
        return self.engine.execute(t.group_by(KEYS).aggregate(
            selling_weeks=t.week.nunique(), units=t.units.sum(), value=t.sales_value.sum()))

    def forward_demand(self, stock: pd.DataFrame, week: dt.date) -> pd.DataFrame:
        """For the given lines: sell-out units per week (retailer_id, sku_id, week, units) from a year before the
        first week of `week`'s year to `week` (see forward_window)."""
        lo, hi = forward_window(week)
        t = self._table("sell_out", lo, hi)
        t = t.filter(t.retailer_id.isin(sorted(set(stock["retailer_id"]))), t.sku_id.isin(sorted(set(stock["sku_id"]))))
        return self.engine.execute(t.group_by([*KEYS, "week"]).aggregate(units=t.units.sum()))

    def retailer_weeks(self, retailer_id: str, window: int) -> pd.DataFrame:
        """One retailer's lines week by week, from the lookback of weeks of cover before the period to its last
        week: sku_id, week, on_hand (empty: no count), units (sell-out) and shipped (sell-in)."""
        lo = lookback_start(self.ctx.first, window)
        parts = []
        for name, col in (("inventory", "on_hand"), ("sell_out", "units"), ("sell_in", "shipped")):
            if self.has(name):
                t = self._table(name, lo, retailer_id=retailer_id)
                value = t.on_hand_units if name == "inventory" else t.units
                parts.append(t.select("sku_id", "week", **{c: value if c == col else ibis.null("float64")
                                                          for c in ("on_hand", "units", "shipped")}))
        both = ibis.union(*parts, distinct=False)
        weekly = both.group_by(["sku_id", "week"]).aggregate(
            on_hand=_.on_hand.max(), units=_.units.sum().fill_null(0.0), shipped=_.shipped.sum().fill_null(0.0))
        return self.engine.execute(weekly)

    def line_flows(self, ends: pd.DataFrame) -> pd.DataFrame:
        """Per line: stock counts at the end of the week before the period (opening) and of its retailer's end week
        (closing; reconciliation_ends), and sell-in and sell-out units from the period's first week to it."""
        opening_week = self.ctx.first - WEEK
        until = _dates(ends[["retailer_id", "end_week"]], ["end_week"])
        parts = []
        if self.has("inventory"):
            inv = self._table("inventory", opening_week).join(until, "retailer_id")
            inv = inv.filter((inv.week == opening_week) | (inv.week == inv.end_week))
            parts.append(inv.group_by(KEYS).aggregate(
                opening=_at(inv.on_hand_units, inv.week, opening_week),
                closing=ibis.cases((inv.week == inv.end_week, inv.on_hand_units)).max()))
        for name, col in (("sell_in", "sell_in_units"), ("sell_out", "sell_out_units")):
            if self.has(name):
                t = self._table(name, self.ctx.first).join(until, "retailer_id")
                t = t.filter(t.week <= t.end_week)
                parts.append(t.group_by(KEYS).aggregate(**{col: t.units.sum()}))
        return self._run(_by_line(parts))


# -- the measures through the engine ----------------------------------------------------------------------------
def listing(engine: Engine) -> pd.DataFrame:
    """retailer_id, sku_id, listed (Timestamp): one row per line that ever had stock or sales (computed once)."""
    return IbisReads(engine).listing()


def ledger(engine: Engine) -> pd.DataFrame:
    """Every listed out-of-stock week in the data with its lost sales (see DEFINITIONS); columns LEDGER_COLUMNS.

    Independent of the filters, so computed once per engine; callers select their scope and weeks.
    """
    return IbisReads(engine).ledger()


def availability_by_retailer(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Availability per retailer in scope that has inventory data, over the filtered period.

    Columns: retailer_id, in_stock_rate (a fraction; see DEFINITIONS["In-stock rate"]), oos_weeks, lost_units,
    lost_value. Used by the Portfolio health status.
    """
    ctx = context(engine, filters)
    if ctx is None or not engine.has("inventory"):
        return pd.DataFrame({"retailer_id": pd.Series(dtype=str),
                             **{c: pd.Series(dtype=float) for c in AVAILABILITY_BY_RETAILER_COLUMNS[1:]}})
    return _availability(IbisReads(engine, ctx), ctx, ["retailer_id"])[AVAILABILITY_BY_RETAILER_COLUMNS]


def _availability(reads, ctx: Context, keys: list[str]) -> pd.DataFrame:
    # every stock count is in stock, out of stock (a ledger row) or before the line's listing
    out = ledger_rows(reads.ledger(), ctx)
    unlisted = ledger_rows(reads.unlisted_zero_weeks(), ctx)
    not_in_stock = pd.concat([out[keys], unlisted[keys]]).groupby(keys).size().rename("not_in_stock").reset_index()
    counts = reads.counted_weeks(keys).merge(not_in_stock, on=keys, how="left")
    counts["in_stock_weeks"] = counts["counted_weeks"] - counts["not_in_stock"].fillna(0)
    return with_lost(counts.drop(columns="not_in_stock"), lost_by(out, keys), keys)


def phantom_candidates(engine: Engine, scope: Scope, week: dt.date) -> pd.DataFrame:
    """Phantom inventory candidates at `week` (see DEFINITIONS); columns PHANTOM_COLUMNS (`price`: the average
    sell-out price of the history weeks)."""
    reads = IbisReads(engine, Context(scope, week, week))
    return _phantom(reads, reads.recent_stock(week), week)


def _phantom(reads, lines: pd.DataFrame, week: dt.date) -> pd.DataFrame:
    empty = pd.DataFrame({c: pd.Series(dtype=str if c in KEYS else float) for c in PHANTOM_COLUMNS})
    if not reads.has("inventory") or not reads.has("sell_out") or lines.empty:
        return empty  # without sell-out there is no history of selling to contrast with
    silent = silent_lines(_filled(lines, ["sold_last_two"], ["on_hand", "on_hand_previous"]),
                          reads.reported_weeks(), week)
    if silent.empty:
        return empty
    return finish_phantom(silent, reads.selling_history(silent, week))


def _sub_reads(reads, ctx: Context, retailer_ids, last: dt.date):
    """The same reads for some retailers only, with `last` as their last week."""
    sub = copy.copy(reads)
    sub.ctx = Context(replace(ctx.scope, retailer_ids=tuple(retailer_ids)), min(ctx.first, last), last)
    return sub


def phantom_at_own_weeks(reads, ctx: Context, lines: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Phantom candidates of the lines with a position (positions_at_own_weeks), each retailer checked at its own
    week (phantom_weeks), with the week checked (checked_week); and the retailers that could not be checked."""
    placed = lines[lines["status"].notna()]
    at_by = {r: w.date() for r, w in zip(placed["retailer_id"], placed["position_week"])}
    groups, unchecked = phantom_weeks(at_by, reads.retailer_latest("sell_out"), reads.reported_weeks())
    frames = [pd.DataFrame({c: pd.Series(dtype=str if c in KEYS else float) for c in PHANTOM_COLUMNS}).assign(
        checked_week=pd.Series(dtype="datetime64[s]"))]
    for week, rids in sorted(groups.items()):
        here = [r for r in rids if at_by[r] == week]  # their position rows hold the two weeks already
        if here:
            frames.append(_phantom(reads, lines[lines["retailer_id"].isin(here)], week).assign(checked_week=_ts(week)))
        lagging = [r for r in rids if at_by[r] != week]
        if lagging:  # POS behind the stock counts: their own latest two reported weeks, read on their own
            sub = _sub_reads(reads, ctx, lagging, week)
            frames.append(_phantom(sub, sub.recent_stock(week), week).assign(checked_week=_ts(week)))
    frame = pd.concat(frames, ignore_index=True)
    frame["checked_week"] = pd.to_datetime(frame["checked_week"]).astype("datetime64[s]")
    return frame[CHECKED_PHANTOM_COLUMNS].sort_values(KEYS).reset_index(drop=True), unchecked


def position_weeks(reads, ctx: Context) -> dict[dt.date, list[str]]:
    """{week: retailer ids}: each retailer in scope with stock counts is positioned at the period's last week, or at
    its own latest stock count when that is earlier (its inventory feed lags)."""
    latest = reads.retailer_latest("inventory")
    groups: dict[dt.date, list[str]] = {}
    for rid in scope_retailers(reads, ctx):
        if rid in latest:
            groups.setdefault(min(ctx.last, latest[rid]), []).append(rid)
    return groups


def positions_at_own_weeks(reads, ctx: Context, window: int, week: dt.date | None = None) -> pd.DataFrame:
    """Every line at its retailer's position week (position_weeks; or at `week` for all), as finish_positions gives
    it, with the week in position_week."""
    listing, bands, reported = reads.listing(), bands_of(reads.retailers()), reads.reported_weeks()
    groups = {week: None} if week is not None else position_weeks(reads, ctx)
    if len(groups) <= 1:  # the usual case: one read over the scope as it is
        at = next(iter(groups), None) or ctx.last
        return finish_positions(reads.positions(window, at), listing, bands, at, window, reported).assign(
            position_week=_ts(at))
    frames = [finish_positions(_sub_reads(reads, ctx, rids, at).positions(window, at), listing, bands, at, window,
                               reported).assign(position_week=_ts(at)) for at, rids in sorted(groups.items())]
    return pd.concat(frames, ignore_index=True).sort_values(KEYS).reset_index(drop=True)


def _forward_cover(reads, stock: pd.DataFrame, week: dt.date) -> pd.Series:
    if stock.empty or not reads.has("sell_out"):
        return pd.Series(np.nan, index=stock.index, dtype=float)
    return finish_forward_cover(stock, reads.forward_demand(stock, week), week, reads.reported_weeks())


def _forward_cover_at_own_weeks(reads, stock: pd.DataFrame) -> np.ndarray:
    """Forward cover of rows (retailer_id, sku_id, on_hand, position_week), each at its own position week."""
    out = np.full(len(stock), np.nan)
    for week, rows in stock.reset_index(drop=True).groupby("position_week").groups.items():
        out[rows] = _forward_cover(reads, stock.iloc[rows].reset_index(drop=True), week.date()).to_numpy()
    return out


def scope_retailers(reads, ctx: Context) -> list[str]:
    ids = list(reads.retailers()["retailer_id"])
    return ids if ctx.scope.retailer_ids is None else [r for r in ids if r in set(ctx.scope.retailer_ids)]


def forward_buying(reads, ctx: Context) -> tuple[pd.DataFrame, list[str]]:
    """Forward-buy warnings per retailer in scope (forward_buy), and the retailers in scope with sell-out but no
    sell-in at all (sell-out-only accounts: forward buying needs sell-in)."""
    ids = scope_retailers(reads, ctx)
    latest_out = reads.retailer_latest("sell_out")
    with_sell_in = set(reads.retailer_latest("sell_in"))
    only_out = [r for r in ids if r in latest_out and r not in with_sell_in]
    weeks, meta = forward_buy_weeks(ids, latest_out, with_sell_in, reads.reported_weeks(), ctx.last)
    return forward_buy(reads.window_flows(weeks), meta), only_out


def reconcile_period(reads, ctx: Context) -> pd.DataFrame:
    """The reconciliation per line over the period for every retailer in scope, each up to its own end week."""
    ends = reconciliation_ends(scope_retailers(reads, ctx), reads.retailer_latest("sell_out"),
                               reads.reported_weeks(), ctx.first, ctx.last)
    return reconcile(reads.line_flows(ends), reads.listing(), ctx.first, ends)


# -- the page ---------------------------------------------------------------------------------------------------
TOP_ROWS = 15
HEATMAP_SKUS = 25
HEATMAP_WEEKS = 26


@dataclass
class InventoryPage:
    """Everything the Inventory page shows, for one set of filters, window and retailer."""

    window: int
    first: dt.date | None = None  # the period's first and last week (None: nothing to show)
    last: dt.date | None = None
    at: dt.date | None = None  # the week of the positions: the last week, or inventory's latest when earlier
    has_inventory: bool = False  # stock counts for the lines in view
    kpis: dict = field(default_factory=dict)
    retailers: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per retailer with stock counts
    out_of_stock: pd.DataFrame = field(default_factory=pd.DataFrame)
    low_cover: pd.DataFrame = field(default_factory=pd.DataFrame)
    phantom: pd.DataFrame = field(default_factory=pd.DataFrame)
    overstock: pd.DataFrame = field(default_factory=pd.DataFrame)
    too_few_weeks: pd.DataFrame = field(default_factory=pd.DataFrame)  # stocked lines with no cover, and why
    forward_buy: pd.DataFrame = field(default_factory=pd.DataFrame)
    sell_out_only: list[str] = field(default_factory=list)  # retailer names in scope with no sell-in at all
    forward_buy_notes: list[str] = field(default_factory=list)  # the weeks forward buying skipped, in words
    notes: list[str] = field(default_factory=list)  # what the figures skipped or could not judge, in words
    retailer: str | None = None  # the retailer of the heatmap, trend and reconciliation
    retailer_choices: list[str] = field(default_factory=list)
    band: tuple[float, float] | None = None
    heatmap: pd.DataFrame = field(default_factory=pd.DataFrame)
    trend: pd.DataFrame = field(default_factory=pd.DataFrame)
    reconciliation: pd.DataFrame = field(default_factory=pd.DataFrame)  # the chosen retailer's, one row
    reconciliation_lines: pd.DataFrame = field(default_factory=pd.DataFrame)  # its lines, largest remainder first
    waterfall: pd.Series | None = None  # the chosen retailer's reconciliation, when it has reconciled lines


def _names(reads, frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["retailer_name"] = out["retailer_id"].map(dict(zip(reads.retailers()["retailer_id"],
                                                            reads.retailers()["retailer_name"])))
    if "sku_id" in out:
        out["sku_name"] = out["sku_id"].map(dict(zip(reads.products()["sku_id"], reads.products()["sku_name"])))
    return out


def _named(reads, ids) -> list[str]:
    names = dict(zip(reads.retailers()["retailer_id"], reads.retailers()["retailer_name"]))
    return [names.get(r, r) for r in ids]


def _worst(frame: pd.DataFrame, by: str, columns: list[str]) -> pd.DataFrame:
    """The TOP_ROWS rows with the largest `by` (ties by retailer and SKU), then those without a value."""
    known = frame[frame[by].notna()]
    top = known.nlargest(TOP_ROWS, by, keep="all") if len(known) > TOP_ROWS else known
    ranked = top.sort_values([by, *KEYS], ascending=[False, True, True])
    if len(ranked) < TOP_ROWS:
        ranked = pd.concat([ranked, frame[frame[by].isna()].sort_values(KEYS)])
    return ranked.head(TOP_ROWS)[columns].reset_index(drop=True)


def _tables(reads, lines: pd.DataFrame, lost: pd.DataFrame, phantom: pd.DataFrame) -> dict:
    """The worst positions at their position weeks, each with the units and value at stake."""
    ids = ["retailer_id", "retailer_name", "sku_id", "sku_name"]
    oos = lines[lines["status"] == "oos"].merge(lost, on=KEYS, how="left")
    oos[LOST_COLUMNS] = oos[LOST_COLUMNS].fillna(0)
    low = lines[lines["status"] == "low"].copy()
    low["shortfall_units"] = low["woc_min"] * low["avg_weekly_units"] - low["on_hand"]
    low["shortfall_value"] = low["shortfall_units"] * low["price"]
    high = lines[lines["status"] == "high"].copy()
    high["excess_units"] = high["on_hand"] - high["woc_max"] * high["avg_weekly_units"]
    high["excess_value"] = high["excess_units"] * high["price"]
    few = lines[lines["status"] == "too_few_weeks"].copy()
    ghost = phantom.assign(on_hand_value=phantom["on_hand"] * phantom["price"])
    tables = {
        "out_of_stock": _worst(oos, "lost_value", [*KEYS, "oos_weeks", "lost_units", "lost_value",
                                                   "oos_weeks_unreported"]),
        "low_cover": _worst(low, "shortfall_value", [*KEYS, "on_hand", "avg_weekly_units", "weeks_of_cover",
                                                     "woc_min", "shortfall_units", "shortfall_value",
                                                     "unreported_weeks", "position_week"]),
        "overstock": _worst(high, "excess_value", [*KEYS, "on_hand", "avg_weekly_units", "weeks_of_cover", "woc_max",
                                                   "excess_units", "excess_value", "unreported_weeks",
                                                   "position_week"]),
        "phantom": _worst(ghost, "on_hand_value", [*KEYS, "on_hand", "selling_weeks", "on_hand_value",
                                                   "checked_week"]),
        "too_few_weeks": _worst(few, "on_hand", [*KEYS, "on_hand", "cover_weeks", "unreported_weeks"]),
    }
    # forward cover only for the rows shown: one narrow read of last year's sell-out
    shown = pd.concat([tables["low_cover"], tables["overstock"]], ignore_index=True)
    cover = _forward_cover_at_own_weeks(reads, shown)
    tables["low_cover"]["forward_cover"] = cover[:len(tables["low_cover"])]
    tables["overstock"]["forward_cover"] = cover[len(tables["low_cover"]):]
    return {name: _names(reads, frame)[ids + [c for c in frame.columns if c not in ids]]
            for name, frame in tables.items()}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _notes(reads, ctx: Context, at: dt.date, lines: pd.DataFrame, avail: pd.DataFrame, window: int) -> list[str]:
    """What the figures skipped or could not judge, in words (unreported weeks, lagging stock counts)."""
    notes = []
    skipped = lines[lines["status"].notna() & (lines["unreported_weeks"] > 0)]
    if len(skipped):
        per = skipped.groupby("retailer_id")["unreported_weeks"].max()
        notes.append(f"Weeks of cover skipped unreported sell-out weeks (the retailer's POS did not arrive) on "
                     f"{_plural(len(skipped), 'line')} of {', '.join(_named(reads, per.index))}: up to "
                     f"{_plural(int(per.max()), 'week')} per line; they average the retailer's latest reported "
                     f"in-stock weeks instead.")
    unreported = int(avail["oos_weeks_unreported"].sum()) if len(avail) else 0
    if unreported:
        notes.append(f"Lost sales skipped {_plural(unreported, 'out-of-stock week')} whose sell-out was not "
                     "reported: no estimate is made for them.")
    few = int((lines["status"] == "too_few_weeks").sum())
    if few:
        notes.append(f"{_plural(few, 'line')} with stock {'has' if few == 1 else 'have'} no weeks of cover: fewer "
                     f"than {MIN_COVER_WEEKS} reported in-stock weeks in the last {lookback_weeks(window)} to "
                     "average.")
    placed = lines[lines["status"].notna()].drop_duplicates("retailer_id")
    for week, rows in placed[placed["position_week"] < _ts(at)].groupby("position_week"):
        one = len(rows) == 1
        notes.append(f"Positions of {', '.join(_named(reads, rows['retailer_id']))} are at {'its' if one else 'their'} "
                     f"own latest stock count, the week of {week:%d %b %Y} ({'its' if one else 'their'} inventory "
                     "feed lags).")
    return notes


def _forward_buy_notes(reads, fb: pd.DataFrame, last: dt.date) -> list[str]:
    notes = []
    behind = fb[fb["through_week"] < _ts(last)]
    if len(behind):
        its = "its" if len(behind) == 1 else "their"
        notes.append(f"Forward buying of {', '.join(_named(reads, behind['retailer_id']))} ends at {its} own latest "
                     f"sell-out week ({its} POS lags).")
    gaps = fb[fb["unreported_weeks"] > 0]
    if len(gaps):
        notes.append(f"Forward buying skipped {_plural(int(gaps['unreported_weeks'].sum()), 'unreported week')} of "
                     f"{', '.join(_named(reads, gaps['retailer_id']))}: sell-in and sell-out are compared over the "
                     "weeks the retailer reported.")
    return notes


def build(reads, ctx: Context | None, window: int = DEFAULT_WINDOW, retailer: str | None = None) -> InventoryPage:
    """The Inventory page from its reads (see page_data)."""
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {WINDOWS}")
    page = InventoryPage(window=window)
    if ctx is None:
        return page
    page.first, page.last = ctx.first, ctx.last
    page.forward_buy, only_out = forward_buying(reads, ctx)
    page.forward_buy = _names(reads, page.forward_buy)
    page.sell_out_only = _named(reads, only_out)
    page.forward_buy_notes = _forward_buy_notes(reads, page.forward_buy, ctx.last)
    page.kpis = {"forward_buy_warnings": int(page.forward_buy["warning"].sum())}
    avail = _availability(reads, ctx, ["retailer_id"]) if reads.has("inventory") else pd.DataFrame()
    page.has_inventory = len(avail) > 0
    if not page.has_inventory:
        return page

    groups = position_weeks(reads, ctx)
    page.at = at = max(groups) if groups else ctx.last
    bands = bands_of(reads.retailers())
    listed = reads.listing()
    reported = reads.reported_weeks()
    lines = positions_at_own_weeks(reads, ctx, window)
    phantom, unchecked = phantom_at_own_weeks(reads, ctx, lines)
    page.__dict__.update(_tables(reads, lines, lost_by(ledger_rows(reads.ledger(), ctx), KEYS), phantom))
    page.notes = _notes(reads, ctx, at, lines, avail, window)
    at_by = lines.drop_duplicates("retailer_id").set_index("retailer_id")["position_week"]
    lagging = sorted(set(phantom["retailer_id"][phantom["checked_week"] < phantom["retailer_id"].map(at_by)]))
    if lagging:
        its = "its" if len(lagging) == 1 else "their"
        page.notes.append(f"Phantom stock of {', '.join(_named(reads, lagging))} is checked at {its} own latest "
                          f"sell-out week ({its} POS lags): see the week checked.")
    if unchecked:
        page.notes.append(f"Phantom stock not checked for {', '.join(_named(reads, unchecked))}: their sell-out "
                          "for the week checked or the week before was not reported.")
    now = lines.groupby(["retailer_id", "status"]).size().unstack(fill_value=0).reindex(columns=list(STATUSES),
                                                                                      fill_value=0)
    now["phantom"] = phantom.groupby("retailer_id").size().reindex(now.index, fill_value=0)
    overview = avail.merge(now.add_prefix("now_").reset_index(), on="retailer_id", how="left")
    overview = overview.merge(bands, on="retailer_id", how="left").fillna(
        {f"now_{s}": 0 for s in (*STATUSES, "phantom")})
    page.retailers = overview.sort_values(["lost_value", "retailer_id"], ascending=[False, True]).reset_index(drop=True)
    listed_weeks = avail["in_stock_weeks"].sum() + avail["oos_weeks"].sum()
    counts = lines["status"].value_counts()
    page.kpis.update({
        "in_stock_rate": float(avail["in_stock_weeks"].sum() / listed_weeks),
        "oos_weeks": int(avail["oos_weeks"].sum()),
        "oos_weeks_unreported": int(avail["oos_weeks_unreported"].sum()),
        "lost_units": float(avail["lost_units"].sum()),
        "lost_value": float(avail["lost_value"].sum()),
        "positions": int(lines["status"].notna().sum()),
        **{f"now_{s}": int(counts.get(s, 0)) for s in STATUSES},
        "now_phantom": len(phantom),
    })

    # one retailer in detail, read by its id alone: cheap however large the tables
    page.retailer_choices = list(page.retailers.sort_values("retailer_name")["retailer_id"])
    page.retailer = retailer if retailer in page.retailer_choices else page.retailers["retailer_id"].iloc[0]
    band = bands.set_index("retailer_id").loc[page.retailer]
    page.band = (float(band["woc_min"]), float(band["woc_max"]))
    mine = listed[listed["retailer_id"] == page.retailer]
    raw = reads.retailer_weeks(page.retailer, window)
    weeks = finish_retailer_weeks(raw, mine, page.band, window, ctx.first, ctx.last,
                                  reported[reported["retailer_id"] == page.retailer])
    page.trend = trend(weeks)
    top = lines[lines["retailer_id"] == page.retailer].sort_values(
        ["value_window", "sku_id"], ascending=[False, True]).head(HEATMAP_SKUS)["sku_id"]
    shown_from = _ts(ctx.last - (HEATMAP_WEEKS - 1) * WEEK)
    page.heatmap = _names(reads, weeks[weeks["sku_id"].isin(top) & (weeks["week"] >= shown_from)].assign(
        retailer_id=page.retailer))
    ends = reconciliation_ends([page.retailer], reads.retailer_latest("sell_out"), reported, ctx.first, ctx.last)
    end = ends["end_week"].iloc[0].date()
    recon = reconcile(retailer_flows(raw, page.retailer, ctx.first, end), mine, ctx.first, ends)
    page.reconciliation = _names(reads, reconciliation_by_retailer(recon))
    if len(page.reconciliation) and page.reconciliation["closing_units"].notna().all():
        page.waterfall = page.reconciliation.iloc[0]
    done = recon[recon["reconciled"]]
    page.reconciliation_lines = _names(reads, done.assign(size=done["unexplained_units"].abs()).sort_values(
        ["size", "sku_id"], ascending=[False, True]).head(TOP_ROWS)[
        ["retailer_id", "sku_id", "opening_units", "sell_in_units", "sell_out_units", "closing_units",
         "unexplained_units"]])
    return page


def page_data(engine: Engine, filters: Filters, window: int = DEFAULT_WINDOW,
              retailer: str | None = None) -> InventoryPage:
    """The Inventory page's numbers (see DEFINITIONS). `retailer` picks the retailer of the heatmap, trend and
    reconciliation (default: the one losing most sales value); one with no stock counts in view is replaced."""
    ctx = context(engine, filters)
    return build(IbisReads(engine, ctx), ctx, window, retailer)


# -- exports ----------------------------------------------------------------------------------------------------
COVERAGE_COLUMNS = ["retailer_id", "sku_id", "week", "on_hand_units", "avg_weekly_units", "weeks_of_cover",
                    "forward_cover", "status", "cover_weeks", "unreported_weeks"]
AVAILABILITY_COLUMNS = ["retailer_id", "sku_id", "oos_weeks", "lost_units", "lost_value", "oos_weeks_unreported",
                        "phantom_candidate"]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@export_metric("coverage", columns=COVERAGE_COLUMNS, options=("window", "week"),
               examples=({}, {"window": 8}, {"window": 13}))
def coverage(engine: Engine, filters: Filters, window: int = DEFAULT_WINDOW,
             week: dt.date | None = None) -> pd.DataFrame:
    """Weeks of cover, forward cover and status of every listed line with a stock count at a week (default: the
    period's last week, or the retailer's latest stock count when earlier), one row per retailer x SKU; cover_weeks
    is the number of weeks averaged, unreported_weeks those the average skipped."""
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {', '.join(map(str, WINDOWS))}")
    ctx = context(engine, filters, week)
    if ctx is None or not engine.has("inventory"):
        return _empty(COVERAGE_COLUMNS)
    reads = IbisReads(engine, ctx)
    frame = positions_at_own_weeks(reads, ctx, window, week)
    frame = frame[frame["status"].notna()].reset_index(drop=True)
    frame["week"] = frame["position_week"]
    frame["on_hand_units"] = frame["on_hand"]
    frame["forward_cover"] = _forward_cover_at_own_weeks(reads, frame[[*KEYS, "on_hand", "position_week"]])
    return frame[COVERAGE_COLUMNS]


@export_metric("availability", columns=AVAILABILITY_COLUMNS)
def availability(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Out-of-stock weeks and lost sales over the period per listed retailer x SKU with a stock count (with the
    out-of-stock weeks left unestimated because their sell-out was not reported), and whether it is a phantom
    inventory candidate at the week of the positions."""
    ctx = context(engine, filters)
    if ctx is None or not engine.has("inventory"):
        return _empty(AVAILABILITY_COLUMNS)
    reads = IbisReads(engine, ctx)
    frame = _availability(reads, ctx, KEYS)
    phantom, _ = phantom_at_own_weeks(reads, ctx, positions_at_own_weeks(reads, ctx, DEFAULT_WINDOW))
    flagged = set(zip(phantom["retailer_id"], phantom["sku_id"]))
    frame["phantom_candidate"] = [k in flagged for k in zip(frame["retailer_id"], frame["sku_id"])]
    return frame[AVAILABILITY_COLUMNS]


@export_metric("reconciliation", columns=RECONCILIATION_COLUMNS)
def reconciliation(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Sell-in minus sell-out against the change in on-hand over the period, per retailer (reconciled lines), up to
    each retailer's own latest sell-out week (through_week)."""
    ctx = context(engine, filters)
    if ctx is None or not engine.has("inventory"):
        return _empty(RECONCILIATION_COLUMNS)
    per = reconciliation_by_retailer(reconcile_period(IbisReads(engine, ctx), ctx))
    return per.dropna(subset=["on_hand_change"])[RECONCILIATION_COLUMNS].reset_index(drop=True)
