"""From filters to the rows a metric reads.

Dimension tables are tiny, so a filter on channel, category or brand is
resolved here to lists of retailer and SKU ids once; the large fact tables are
then filtered by id and week only, which keeps every metric query a single
scan with no joins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import pandas as pd

from kam_dash.engine import Engine
from kam_dash import freshness
from kam_dash.calendar import Period, resolve_period
from kam_dash.filters import Filters, Known
from kam_dash.schema import CHANNELS

def retailers(engine: Engine) -> pd.DataFrame:
    """The retailers table (empty frame with the contract columns when absent)."""

    def load() -> pd.DataFrame:
        if not engine.has("retailers"):
            return pd.DataFrame(columns=["retailer_id", "retailer_name", "channel", "region", "kam",
                                         "store_count", "strategic_priority", "woc_min", "woc_max"])
        return engine.execute(engine.table("retailers").order_by("retailer_id"))

    return engine.memo("retailers", load)


def products(engine: Engine) -> pd.DataFrame:
    def load() -> pd.DataFrame:
        if not engine.has("products"):
            return pd.DataFrame(columns=["sku_id", "sku_name", "brand", "category", "subcategory",
                                         "unit_cost", "list_price"])
        return engine.execute(engine.table("products").order_by("sku_id"))

    return engine.memo("products", load)


def latest_week(engine: Engine) -> dt.date | None:
    """The latest week loaded: the latest Monday of any weekly table (sell-in, sell-out, inventory)."""
    return freshness.freshness(engine).latest_week


def first_week(engine: Engine) -> dt.date | None:
    return freshness.first_week(engine)


def known(engine: Engine) -> Known:
    r, p = retailers(engine), products(engine)
    return Known(
        retailers=frozenset(r["retailer_id"]),
        channels=frozenset(r["channel"]) | frozenset(CHANNELS) if len(r) else frozenset(),
        categories=frozenset(p["category"].dropna()),
        brands=frozenset(p["brand"].dropna()),
        kams=frozenset(r["kam"].dropna()) if "kam" in r else frozenset(),
        first_week=first_week(engine),
        latest_week=latest_week(engine),
    )


@dataclass(frozen=True)
class Scope:
    """Filters resolved against the data: the period's dates and the ids in play.

    retailer_ids / sku_ids are None when that side is not filtered.
    """

    period: Period
    retailer_ids: tuple[str, ...] | None
    sku_ids: tuple[str, ...] | None
    categories: tuple[str, ...]
    brands: tuple[str, ...]

    def weekly(self, table: ibis.Table, start: dt.date | None = None, end: dt.date | None = None) -> ibis.Table:
        """Rows of a weekly table in scope, for weeks whose Monday is within start..end."""
        start = self.period.start if start is None else start
        end = self.period.end if end is None else end
        cond = [table.week >= start, table.week <= end]
        return self.by_ids(table).filter(cond)

    def by_ids(self, table: ibis.Table) -> ibis.Table:
        """Rows whose retailer and SKU are in scope (for tables that have the columns)."""
        cond = []
        cols = set(table.columns)
        for ids, col in ((self.retailer_ids, "retailer_id"), (self.sku_ids, "sku_id")):
            if ids is not None and col in cols:
                # An empty selection matches nothing (SQL has no empty IN list).
                cond.append(table[col].isin(ids) if ids else ibis.literal(False))
        return table.filter(cond) if cond else table

    def ly_rows(self, table: ibis.Table, until: dt.date | None = None) -> ibis.Table:
        """Rows in scope of the last year of the period's weeks (those weeks that have one, up to `until`, a
        table's own latest week): ly_start..ly_end less any week that is no week's last year."""
        rng = self.period.ly_of(until or self.period.end)
        if rng is None:
            return self.by_ids(table).filter(ibis.literal(False))
        cond = [table.week >= rng[0], table.week <= rng[1]]
        if self.period.ly_gaps:
            cond.append(~table.week.isin(list(self.period.ly_gaps)))
        return self.by_ids(table).filter(cond)

    def ly_mask(self, week, until: dt.date | None = None):
        """A boolean on a week column: the week is the last year of one of the period's weeks (up to `until`)."""
        rng = self.period.ly_of(until or self.period.end)
        if rng is None:
            return ibis.literal(False)
        mask = week.between(rng[0], rng[1])
        if self.period.ly_gaps:
            mask &= ~week.isin(list(self.period.ly_gaps))
        return mask

    def comparable_mask(self, week, until: dt.date | None = None):
        """A boolean on a week column: a week of the period (up to `until`) that has a last year (growth's weeks)."""
        mask = week.between(self.period.start, min(self.period.end, until or self.period.end))
        if self.period.without_last_year:
            mask &= ~week.isin(list(self.period.without_last_year))
        return mask

    def with_period(self, period: Period) -> Scope:
        return Scope(period, self.retailer_ids, self.sku_ids, self.categories, self.brands)


def resolve(engine: Engine, filters: Filters) -> Scope | None:
    """None when no weekly data is loaded at all (an empty database)."""
    latest = latest_week(engine)
    if latest is None:
        return None
    period = resolve_period(filters, first_week(engine), latest)

    retailer_ids = None
    if filters.retailers or filters.channels or filters.kams:
        r = retailers(engine)
        mask = pd.Series(True, index=r.index)
        if filters.retailers:
            mask &= r["retailer_id"].isin(filters.retailers)
        if filters.channels:
            mask &= r["channel"].isin(filters.channels)
        if filters.kams:
            mask &= r["kam"].isin(filters.kams)
        retailer_ids = tuple(r.loc[mask, "retailer_id"])

    sku_ids = None
    if filters.categories or filters.brands:
        p = products(engine)
        mask = pd.Series(True, index=p.index)
        if filters.categories:
            mask &= p["category"].isin(filters.categories)
        if filters.brands:
            mask &= p["brand"].isin(filters.brands)
        sku_ids = tuple(p.loc[mask, "sku_id"])

    return Scope(period, retailer_ids, sku_ids, filters.categories, filters.brands)


def retailers_in_scope(engine: Engine, scope: Scope) -> pd.DataFrame:
    r = retailers(engine)
    if scope.retailer_ids is None:
        return r
    return r[r["retailer_id"].isin(scope.retailer_ids)]
