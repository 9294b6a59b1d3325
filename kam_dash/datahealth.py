"""Data health for the Data page: per table and retailer, how many rows, how fresh, which weeks are unreported.

Freshness and unreported weeks come from kam_dash.freshness (one rule for the whole app); this module only
lays them out next to the row counts, so an admin who has just loaded files sees what the pages will see.
"""

from __future__ import annotations

import pandas as pd

from kam_dash import freshness
from kam_dash.engine import Engine
from kam_dash.schema import FACT_TABLES, LOAD_ORDER

TABLE_COLUMNS = ["table", "rows", "latest_week"]
RETAILER_COLUMNS = ["retailer_id", "table", "rows", "first_week", "latest_week", "weeks_behind", "unreported_weeks",
                    "not_yet_arrived"]


def tables(engine: Engine) -> pd.DataFrame:
    """One row per contract table: rows held and, for weekly tables, the latest week."""
    fresh = freshness.freshness(engine)
    counts = engine.row_counts()
    return pd.DataFrame([(name, counts.get(name, 0), fresh.table_latest.get(name)) for name in LOAD_ORDER],
                        columns=TABLE_COLUMNS)


def by_retailer(engine: Engine) -> pd.DataFrame:
    """One row per retailer x fact table that holds its rows: rows, first and latest week, weeks behind the latest
    week of any table, and for sell-out the weeks it did not report (gaps) and has not reported yet (late)."""
    frames = []
    for table in FACT_TABLES:
        if not engine.has(table) or table not in freshness.WEEKLY_TABLES:
            continue
        t = engine.table(table)
        frames.append(engine.execute(t.group_by("retailer_id").aggregate(
            rows=t.count(), first_week=t.week.min())).assign(table=table))
    if not frames:
        return pd.DataFrame(columns=RETAILER_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["first_week"] = pd.to_datetime(out["first_week"]).dt.date
    fresh = freshness.freshness(engine).by_retailer
    out = out.merge(fresh, on=["retailer_id", "table"], how="left")
    gaps = freshness.unreported_weeks(engine)
    counted = gaps.groupby(["retailer_id", "kind"]).size().unstack(fill_value=0) if len(gaps) else pd.DataFrame()
    sell_out = out["table"] == "sell_out"
    for column, kind in (("unreported_weeks", "gap"), ("not_yet_arrived", "late")):
        values = out["retailer_id"].map(counted[kind]) if kind in counted else pd.Series(0, index=out.index)
        out[column] = values.fillna(0).astype("Int64").where(sell_out, pd.NA)
    return out[RETAILER_COLUMNS].sort_values(["retailer_id", "table"]).reset_index(drop=True)


DEFINITIONS = {
    "Rows": "Rows held in each table, and per retailer in each weekly table.",
    "Latest week": freshness.DEFINITIONS["Freshness"],
    "Unreported weeks": freshness.DEFINITIONS["Unreported weeks"] + " On this page, unreported_weeks counts the gaps "
    "(a later week did arrive) and not_yet_arrived the weeks after a retailer's latest sell-out week.",
}


def value_only(engine: Engine) -> dict[str, int]:
    """retailer_id -> sell-out rows with a sales value and no units (retailers that report value only)."""

    def load() -> dict[str, int]:
        if not engine.has("sell_out"):
            return {}
        t = engine.table("sell_out")
        empty = t.filter(t.units.isnull())
        frame = engine.execute(empty.group_by("retailer_id").aggregate(rows=empty.count()))
        return dict(zip(frame["retailer_id"], frame["rows"].astype(int)))

    return engine.memo("value_only_sell_out", load)


def units_note(engine: Engine, names: dict[str, str] | None = None) -> str | None:
    """What a page using sell-out units must say when some rows have none, or None."""
    counts = value_only(engine)
    if not counts:
        return None
    names = names or {}
    who = ", ".join(names.get(r, r) for r in sorted(counts)[:8]) + (" and others" if len(counts) > 8 else "")
    total = sum(counts.values())
    return (f"{total:,} sell-out row{'s' if total != 1 else ''} ({who}) report sales value without units: "
            "measures in units (units sold, weeks of cover, lost sales, lift in units) leave them out; "
            "measures in value include them.")
