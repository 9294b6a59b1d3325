"""How fresh each table is, and which weeks each retailer's POS did not arrive for.

Real feeds do not end on the same week: retailer POS (sell-out) usually lags our
own shipments (sell-in) by a week or more, and now and then a retailer's POS for
a week never arrives. Two rules follow (docs/METRICS.md, "Freshness" and
"Unreported weeks"):

- Each table has its own latest week, and sell-out has one per retailer. A
  measure never reads past its own table's (and retailer's) latest week, and
  its last year stops at the same place.
- A week in which a retailer has no sell-out row for any SKU is unreported for
  that retailer: skipped and named, never read as zero. Inside a reported week
  a missing retailer x SKU row does mean 0 sold.

Everything here is computed once per engine (the engine is new for each data
version) from small group-bys.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from kam_dash.calendar import WEEK, Period, last_year, next_monday_on_or_after
from kam_dash.engine import Engine
from kam_dash.export import export_metric

WEEKLY_TABLES = ("sell_in", "sell_out", "inventory")
TABLE_LABELS = {"sell_in": "Sell-in", "sell_out": "Sell-out", "inventory": "Inventory"}
FRESHNESS_COLUMNS = ["retailer_id", "table", "latest_week", "weeks_behind"]

DEFINITIONS = {
    "Freshness": "Each weekly table (sell-in, sell-out, inventory) has its own latest week, and sell-out has one per "
    "retailer. 'Data through the week of D' is the latest week of any of these tables. A measure reads its own "
    "table's weeks only: sell-out measures stop at each retailer's latest sell-out week, and their last year stops at "
    "the same week a year earlier, so a retailer whose POS arrives a week late is compared like for like, never "
    "with a zero week. Weeks behind = weeks from a retailer's latest week in a table to the latest week of any table.",
    "Unreported weeks": "A week in which a retailer has no sell-out row for any SKU, between its first sell-out week "
    "and the latest week loaded, is unreported for that retailer: its POS did not arrive. It is skipped, never read "
    "as 0: it is not a clean or dip week for promotions, not a zero in weeks of cover, seasonal decomposition or "
    "growth (growth compares a week only when the week and its last year were both reported), and a year's seasonal "
    "index uses only the retailers that reported every week of that year. Pages say how many unreported weeks a "
    "figure skipped. Inside a reported week, a retailer x SKU with no row sold 0.",
}


@dataclass(frozen=True)
class Freshness:
    """The latest week of each weekly table, overall and per retailer."""

    latest_week: dt.date | None  # of any weekly table: "Data through the week of ..."
    table_latest: dict[str, dt.date]  # per table that holds rows
    by_retailer: pd.DataFrame  # FRESHNESS_COLUMNS, one row per retailer x table with rows

    def retailer_latest(self, table: str) -> dict[str, dt.date]:
        """retailer_id -> that retailer's latest week in a table."""
        rows = self.by_retailer[self.by_retailer["table"] == table]
        return dict(zip(rows["retailer_id"], rows["latest_week"]))

    def behind(self, table: str = "sell_out", retailer_ids=None) -> pd.DataFrame:
        """Rows of retailers whose latest week in a table is before the latest week of any table."""
        rows = self.by_retailer[(self.by_retailer["table"] == table) & (self.by_retailer["weeks_behind"] > 0)]
        if retailer_ids is not None:
            rows = rows[rows["retailer_id"].isin(list(retailer_ids))]
        return rows.sort_values(["weeks_behind", "retailer_id"], ascending=[False, True]).reset_index(drop=True)


def _weeks_by_retailer(engine: Engine, table: str) -> pd.DataFrame:
    t = engine.table(table)
    frame = engine.execute(t.group_by("retailer_id").aggregate(first_week=t.week.min(), latest_week=t.week.max()))
    for col in ("first_week", "latest_week"):
        frame[col] = pd.to_datetime(frame[col]).dt.date
    return frame


def freshness(engine: Engine) -> Freshness:
    """Latest weeks per table and retailer (computed once per engine)."""

    def load() -> Freshness:
        rows, table_latest = [], {}
        for table in WEEKLY_TABLES:
            if not engine.has(table):
                continue
            per = _weeks_by_retailer(engine, table)
            table_latest[table] = max(per["latest_week"])
            rows.append(per.assign(table=table))
        latest = max(table_latest.values()) if table_latest else None
        if rows:
            frame = pd.concat(rows, ignore_index=True)
            frame["weeks_behind"] = [(latest - w).days // 7 for w in frame["latest_week"]]
            frame = frame[FRESHNESS_COLUMNS].sort_values(["table", "retailer_id"]).reset_index(drop=True)
        else:
            frame = pd.DataFrame(columns=FRESHNESS_COLUMNS)
        return Freshness(latest, table_latest, frame)

    return engine.memo("freshness", load)


def first_week(engine: Engine) -> dt.date | None:
    """The earliest week of any weekly table."""

    def load():
        firsts = []
        for table in WEEKLY_TABLES:
            if engine.has(table):
                t = engine.table(table)
                firsts.append(pd.Timestamp(engine.execute_scalar(t.week.min())).date())
        return min(firsts) if firsts else None

    return engine.memo("first_week", load)


def reported_weeks(engine: Engine) -> pd.DataFrame:
    """retailer_id, week (date): the weeks each retailer reported any sell-out (computed once per engine)."""

    def load() -> pd.DataFrame:
        if not engine.has("sell_out"):
            return pd.DataFrame({"retailer_id": pd.Series(dtype=object), "week": pd.Series(dtype=object)})
        t = engine.table("sell_out")
        frame = engine.execute(t.select("retailer_id", "week").distinct())
        frame["week"] = pd.to_datetime(frame["week"]).dt.date
        return frame.sort_values(["retailer_id", "week"]).reset_index(drop=True)

    return engine.memo("reported_weeks", load)


def unreported_weeks(engine: Engine, start: dt.date | None = None, end: dt.date | None = None,
                     retailer_ids=None) -> pd.DataFrame:
    """retailer_id, week, kind: the weeks a retailer did not report sell-out, from its first sell-out week to the
    latest week of any table. kind is 'gap' (a later week did arrive) or 'late' (after its latest sell-out week:
    not arrived yet). Optionally only weeks start..end and some retailers."""
    fresh = freshness(engine)
    reported = reported_weeks(engine)
    out = []
    if fresh.latest_week is not None and len(reported):
        for rid, weeks in reported.groupby("retailer_id", sort=True)["week"]:
            if retailer_ids is not None and rid not in retailer_ids:
                continue
            have = set(weeks)
            first, last = min(have), max(have)
            day = max(first, next_monday_on_or_after(start)) if start else first
            stop = min(fresh.latest_week, end) if end else fresh.latest_week
            while day <= stop:
                if day not in have:
                    out.append((rid, day, "gap" if day < last else "late"))
                day += WEEK
    return pd.DataFrame(out, columns=["retailer_id", "week", "kind"])


def comparable_weeks(engine: Engine, period: Period, retailer_ids=None) -> pd.DataFrame:
    """retailer_id, week, ly_week: the sell-out weeks of the period that count in growth for each retailer: the
    week and its last year were both reported by that retailer (see DEFINITIONS)."""
    reported = reported_weeks(engine)
    if retailer_ids is not None:
        reported = reported[reported["retailer_id"].isin(list(retailer_ids))]
    have = set(zip(reported["retailer_id"], reported["week"]))
    rows = []
    for rid in sorted(set(reported["retailer_id"])):
        for week in period.comparable:
            ly = last_year(week)
            if (rid, week) in have and (rid, ly) in have:
                rows.append((rid, week, ly))
    return pd.DataFrame(rows, columns=["retailer_id", "week", "ly_week"])


@export_metric("freshness", FRESHNESS_COLUMNS, examples=({}, {"filters": {"retailers": ("R001",)}}))
def freshness_table(engine: Engine, filters=None) -> pd.DataFrame:
    """The `freshness` export: retailer_id, table, latest_week, weeks_behind (against the latest week of any
    table), for the retailers in the filters (channels and retailers; period and product filters do not apply)."""
    frame = freshness(engine).by_retailer.copy()
    if filters is not None and (filters.retailers or filters.channels):
        from kam_dash import scope

        resolved = scope.resolve(engine, filters)
        if resolved is not None and resolved.retailer_ids is not None:
            frame = frame[frame["retailer_id"].isin(resolved.retailer_ids)]
    return frame.reset_index(drop=True)


def describe(engine: Engine, tables: tuple[str, ...] = WEEKLY_TABLES, retailer_ids=None,
             names: dict[str, str] | None = None) -> list[str]:
    """Lines for a page header: each table's latest week where it differs from the overall latest, and the
    retailers whose sell-out is behind (names where given)."""
    fresh = freshness(engine)
    if fresh.latest_week is None:
        return []
    names = names or {}
    parts = []
    for table in tables:
        if table not in fresh.table_latest:
            continue
        latest = fresh.table_latest[table]
        parts.append(f"{TABLE_LABELS[table]} through {latest:%d %b %Y}")
    lines = [" · ".join(parts)] if parts else []
    if "sell_out" in tables:
        behind = fresh.behind("sell_out", retailer_ids)
        if len(behind):
            shown = [f"{names.get(r.retailer_id, r.retailer_id)} ({r.weeks_behind} week"
                     f"{'s' if r.weeks_behind != 1 else ''} behind, through {r.latest_week:%d %b %Y})"
                     for r in behind.head(8).itertuples()]
            more = f" and {len(behind) - 8} more" if len(behind) > 8 else ""
            lines.append(f"Sell-out behind for {len(behind)} retailer{'s' if len(behind) != 1 else ''}: "
                         f"{', '.join(shown)}{more}. Their sell-out figures stop at their own latest week.")
    return lines
