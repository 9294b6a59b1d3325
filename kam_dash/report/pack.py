"""What a retailer review pack holds: its sections, charts, narratives and tables, collected once and then
written as HTML, Excel and PowerPoint by the writers of this package.

Every number comes from what the app computes: the account review's page data, the metric modules' page
data and their chart builders (kam_dash/charts), and the export registry (each workbook sheet of an
export is exactly `kam-dash export NAME` for the retailer). A section whose metric module has not landed
in this installation, or whose tables are not loaded, is left out and the pack says so.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from kam_dash import export, fmt
from kam_dash import scope as scopes
from kam_dash.engine import Engine
from kam_dash.filters import PERIODS, Filters
from kam_dash.report import narrative

# The pack's own summaries of the metrics' numbers (the metrics themselves are defined in their modules).
DEFINITIONS = {
    "Landing vs annual target": "The landing estimate divided by the annual target (the key figures' share of "
    "plan on the landing row; 1.0 = the year lands on plan).",
    "Retailer stock cover": "The on-hand units of all the retailer's lines with a stock count at the period's "
    "last week, divided by the sum of their mean weekly sell-out units (the coverage export's on_hand_units and "
    "avg_weekly_units): how many weeks the whole stock lasts at the recent rate of sale.",
    "Line-weeks by status": "Of the cells of the cover heatmap (the retailer's best-selling lines over the last "
    "weeks of the period, one cell per line and week with a stock count), the share in each cover status.",
    "Median lift": "The median lift of the period's promotions that have a measured lift (pre-period baseline).",
}

# -- tables: what kind of number each column holds --------------------------------------------------------------
# Kinds: money, pct (a fraction shown as a percent), change (a signed percent), units (whole numbers), int,
# decimal, date, text, flag.
COLUMN_KINDS = {
    "share": "pct", "cum_share": "pct", "margin_pct": "pct", "attainment": "pct", "sell_out_share": "pct",
    "retailer_share": "pct", "portfolio_share": "pct", "in_stock_rate": "pct", "paid_back_share": "pct",
    "online_share": "pct", "share_of_plan": "pct",
    "yoy_growth": "change", "sell_out_growth": "change",
    "change_vs_last_year": "change", "lift_pct": "change", "roi": "change",
    "score": "decimal", "growth_ratio": "decimal", "discount_pct": "decimal", "weeks_of_cover": "decimal",
    "forward_cover": "decimal", "avg_weekly_units": "decimal", "net_price": "decimal", "unit_cost": "decimal",
    "strategic_priority": "int", "unreported_weeks": "int",
    "clean_weeks": "int", "oos_weeks": "int", "remaining_weeks": "int",
    "phantom_candidate": "flag",
}
MONEY_WORDS = ("sales", "value", "opportunity", "target", "actual", "landing", "trade_spend", "profit", "gap",
               "run_rate", "store", "online", "last_year", "plan")


def column_kind(name: str, values: pd.Series) -> str:
    if name in COLUMN_KINDS:
        return COLUMN_KINDS[name]
    if pd.api.types.is_bool_dtype(values):
        return "flag"
    if pd.api.types.is_datetime64_any_dtype(values) or name in ("week", "month") or name.endswith("_week"):
        return "date"
    if not pd.api.types.is_numeric_dtype(values):
        return "text"
    if "units" in name:
        return "units"
    if any(word in name for word in MONEY_WORDS):
        return "money"
    return "decimal"


def show(value, kind: str) -> str:
    """A cell for people (HTML and slides): the app's formats, a dash for missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return fmt.DASH
    if kind == "money":
        return fmt.money(value, compact=False)
    if kind == "pct":
        return fmt.pct(value)
    if kind == "change":
        return fmt.pct(value, signed=True)
    if kind in ("units", "int"):
        return fmt.number(value)
    if kind == "decimal":
        return fmt.number(value, 2)
    if kind == "date":
        return f"{pd.Timestamp(value):%d %b %Y}"
    if kind == "flag":
        return "yes" if bool(value) else "no"
    return str(value)


@dataclass
class Table:
    sheet: str  # workbook sheet name (31 characters at most)
    title: str
    frame: pd.DataFrame
    export: str | None = None  # the registered export this table is (for the retailer), if any
    row_kinds: list[str] | None = None  # per-row kind for columns of kind "row" (the key figures)
    kinds: dict[str, str] = field(default_factory=dict)  # overrides of column_kind

    def kind(self, column: str) -> str:
        return self.kinds.get(column) or column_kind(column, self.frame[column])


@dataclass
class Chart:
    key: str
    title: str
    figure: go.Figure
    narrative: str

    def untitled(self) -> dict:
        """The figure without its own title, for a page or slide that shows the title as text (plotly draws
        the title over the legend otherwise). A plain dict: copying a Figure re-validates every property,
        which costs more than drawing it."""
        fig = self.figure.to_dict()
        fig.setdefault("layout", {})["title"] = {"text": ""}
        return fig


@dataclass
class Section:
    key: str
    title: str
    lead: str = ""  # a line above the section's charts (the key figures' narrative)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what this section cannot show, in words
    terms: list[tuple[str, str]] = field(default_factory=list)  # (metric module, DEFINITIONS key) shown
    points: list[str] = field(default_factory=list)  # lines of a section told as a list (objectives, next steps)


@dataclass
class Pack:
    retailer: dict
    period: str
    filters: str
    freshness: str
    generated: dt.datetime
    start: dt.date | None
    end: dt.date | None
    sections: list[Section] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # sections left out, and why
    definitions: list[tuple[str, str]] = field(default_factory=list)  # (term, definition) of every metric shown

    @property
    def title(self) -> str:
        return f"{self.retailer['retailer_name']}: account review"

    @property
    def charts(self) -> list[Chart]:
        return [c for s in self.sections for c in s.charts]

    @property
    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]

    @property
    def gaps(self) -> list[str]:
        """Everything the pack does not show, in words: sections left out, then parts of sections."""
        return [*self.missing, *(f"{s.title}: {n}" for s in self.sections for n in s.notes)]


# -- helpers ------------------------------------------------------------------------------------------------
def _module(name: str, *attrs: str):
    """A kam_dash module with the attributes a section needs, or None while it has not landed."""
    try:
        mod = importlib.import_module(f"kam_dash.{name}")
    except ImportError:
        return None
    return mod if all(hasattr(mod, a) for a in attrs) else None


def _export(name: str, engine: Engine, filters: Filters, **options) -> pd.DataFrame | None:
    """A registered export, or None while its module has not landed."""
    if name not in export.registry():
        return None
    return export.compute(name, engine, filters, **options)


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _sum(frame: pd.DataFrame, column: str) -> float | None:
    return _num(frame[column].sum(min_count=1)) if len(frame) else None


def _filters_words(filters: Filters) -> str:
    parts = [f"{name}: {', '.join(getattr(filters, name))}" for name in ("categories", "brands")
             if getattr(filters, name)]
    return "; ".join(parts) if parts else "all categories and brands"


def _period_words(filters: Filters, start: dt.date, end: dt.date) -> str:
    label = f"Full year {start.year}" if filters.period == "year" else PERIODS[filters.period]
    return f"{label}, {start:%d %b %Y} to {end:%d %b %Y}"


class _Collector:
    """Builds the sections of one pack (see collect)."""

    def __init__(self, engine: Engine, filters: Filters, retailer_id: str, info: dict) -> None:
        self.engine, self.filters, self.rid, self.info = engine, filters, retailer_id, info
        self.name = info["retailer_name"]
        # the account's own numbers: the retailer and channel filters are replaced by the one account
        self.mine = filters.with_(retailers=(retailer_id,), channels=())
        # the portfolio it is compared with: every retailer the other filters leave in view
        self.portfolio = filters.with_(retailers=())
        self.missing: list[str] = []
        self.account = None

    def retailer_rows(self, name: str) -> pd.DataFrame | None:
        """A portfolio-wide export's rows of this retailer."""
        frame = _export(name, self.engine, self.portfolio)
        return None if frame is None else frame[frame["retailer_id"] == self.rid].reset_index(drop=True)

    # -- key figures ----------------------------------------------------------------------------------------
    def key_figures(self) -> Section | None:
        account = _module("metrics.account", "account_page_data")
        if account is None:
            self.missing.append("Key figures, plan, sell-in vs sell-out and category mix: the account review "
                                "metrics (kam_dash.metrics.account) are not in this installation.")
            return None
        self.account = data = account.account_page_data(self.engine, self.filters, self.rid)
        k = data.kpis
        section = Section("key-figures", "Key figures vs plan and last year", notes=[
            m[0].upper() + m[1:] + "." for m in data.missing])
        shares = self.retailer_rows("revenue-share")
        share = _num(shares["share"].iloc[0]) if shares is not None and len(shares) else None
        landing_vs_plan = (k["landing_estimate"] / k["annual_target"]
                           if k["landing_estimate"] is not None and k["annual_target"] else None)
        # One basis: the plan sits on the row of the account's basis (sell-out value for a sell-out-only account).
        on_sell_out = k.get("basis") == "sell_out"
        basis = shares["basis"].iloc[0] if shares is not None and len(shares) and "basis" in shares else None
        plan_of = (k["net_sales_target"], k["attainment"])
        rows = [
            ("Net sales", "money", k["net_sales"], k["net_sales_ly"], k["yoy_growth"],
             *((None, None) if on_sell_out else plan_of)),
            ("Sell-out value", "money", k["sell_out_value"], k["sell_out_value_ly"], k["sell_out_growth"],
             *(plan_of if on_sell_out else (None, None))),
            ("Gross margin", "pct", k["margin_pct"], None, None, None, None),
            (f"Landing estimate {data.landing_year}", "money", k["landing_estimate"], None, None,
             k["annual_target"], landing_vs_plan),
            (f"Share of the portfolio's {'sell-out value' if basis == 'sell_out' else 'net sales'}", "pct", share,
             None, None, None, None),
            ("Online share of sell-out", "pct", k["online_share"], None, None, None, None),
        ]
        frame = pd.DataFrame(
            [r[:1] + r[2:] for r in rows],
            columns=["measure", "value", "last_year", "change_vs_last_year", "plan", "share_of_plan"])
        frame = frame.astype({c: float for c in frame.columns[1:]})
        kinds = {"value": "row", "last_year": "row", "plan": "row"}
        section.tables.append(Table("Key figures", "Key figures", frame, row_kinds=[r[1] for r in rows],
                                    kinds=kinds))
        section.lead = narrative.key_figures(
            *((k["sell_out_value"], k["sell_out_growth"]) if on_sell_out else (k["net_sales"], k["yoy_growth"])),
            k["attainment"], k["landing_gap"], what="Sell-out value" if on_sell_out else "Net sales")
        if k.get("unreported_weeks"):
            section.notes.append(f"Sell-out figures skip {k['unreported_weeks']} unreported week"
                                 f"{'s' if k['unreported_weeks'] != 1 else ''} of the period (left out, never 0).")
        scores = self.retailer_rows("account-scores")
        if scores is not None and len(scores):
            r = scores.iloc[0]
            section.lead += " " + narrative.standing(r["tier"], r["score"], r["health"], r["health_reason"])
            section.tables.append(Table("Account score", "Key-account score and health", scores,
                                        export="account-scores"))
            section.terms += [("account", "Key-account score"), ("account", "Tiers"), ("account", "Health")]
        if shares is not None and len(shares):
            section.tables.append(Table("Revenue share", "Revenue share in the portfolio", shares,
                                        export="revenue-share"))
        section.terms = [("share", "Net sales"), ("share", "Sell-out value"), ("share", "Basis"),
                         ("share", "Last year (LY)"),
                         ("share", "Growth vs last year"), ("plan", "Plan attainment"), ("account", "Gross margin"),
                         ("plan", "Landing estimate"), ("report", "Landing vs annual target"),
                         ("share", "Revenue share"), ("account", "Store vs online"), *section.terms]
        return section

    # -- plan -----------------------------------------------------------------------------------------------
    def plan(self) -> Section | None:
        charts = _module("charts.account", "monthly_vs_target")
        if self.account is None or charts is None:
            return None
        data = self.account
        section = Section("plan", "Monthly net sales vs target", terms=[
            ("account", "Monthly net sales vs target"), ("plan", "Target (period)"), ("plan", "Landing estimate"),
            ("plan", "Landing gap"), ("plan", "Required weekly run rate")])
        rows = _export("plan", self.engine, self.mine)
        overall = rows[rows["category"] == ""] if rows is not None else pd.DataFrame()
        if data.monthly["actual"].notna().any() or data.monthly["target"].notna().any():
            # the plan export's all-category row (its landing is the account page's), else the page's own
            first = overall.iloc[0] if len(overall) else {
                "landing_estimate": data.kpis["landing_estimate"], "annual_target": data.kpis["annual_target"],
                "required_weekly_run_rate": None}
            line = narrative.plan(data.landing_year, _num(first["landing_estimate"]), _num(first["annual_target"]),
                                  _num(first["required_weekly_run_rate"]))
            fig = charts.monthly_vs_target(data.monthly, data.landing_year)
            section.charts.append(Chart("monthly", fig.layout.title.text, fig, line))
        else:
            section.notes.append(f"No net sales or targets for {data.landing_year}.")
        if rows is not None and len(rows):
            section.tables.append(Table("Plan by month", f"Plan by month, {data.landing_year}", rows, export="plan"))
            section.terms.append(("plan", "Monthly plan rows (export)"))
        return section

    # -- sell-in vs sell-out, store vs online ---------------------------------------------------------------
    def pipeline(self) -> Section | None:
        charts = _module("charts.account", "pipeline", "store_vs_online")
        if self.account is None or charts is None:
            return None
        data = self.account
        section = Section("sell-in-sell-out", "Sell-in vs sell-out", terms=[("account", "Pipeline fill")])
        frame = _export("pipeline", self.engine, self.mine)
        if frame is None:
            frame = data.pipeline
        if frame[["sell_in_units", "sell_out_units"]].notna().any().any():
            fill = frame["cum_pipeline_units"].dropna()
            line = narrative.pipeline(_sum(frame, "sell_in_units"), _sum(frame, "sell_out_units"),
                                      _num(fill.iloc[-1]) if len(fill) else None)
            fig = charts.pipeline(frame)
            section.charts.append(Chart("pipeline", fig.layout.title.text, fig, line))
            section.tables.append(Table("Sell-in vs sell-out", "Sell-in vs sell-out units by week", frame,
                                        export="pipeline" if "pipeline" in export.registry() else None))
        else:
            section.notes.append("No sell-in or sell-out in the period.")
        if frame["sell_out_units"].isna().all():
            section.notes.append("No sell-out reported, so no pipeline fill.")
        trend = data.channels
        if len(trend) and trend["online"].sum() > 0 and trend["store"].sum() > 0:
            fig = charts.store_vs_online(trend)
            section.charts.append(Chart("store-online", fig.layout.title.text, fig,
                                        narrative.channels(float(trend["store"].sum()),
                                                           float(trend["online"].sum()))))
            section.tables.append(Table("Store vs online", "Sell-out value by week, store and online", trend))
            section.terms.append(("account", "Store vs online"))
        return section

    # -- category mix and white space -----------------------------------------------------------------------
    def mix(self) -> Section | None:
        charts = _module("charts.account", "category_mix")
        if self.account is None or charts is None:
            return None
        section = Section("category-mix", "Category mix and white space",
                          terms=[("account", "Category mix and white space")])
        frame = _export("white-space", self.engine, self.mine)
        if frame is None:
            frame = self.account.white_space
        if frame.empty or frame["retailer_share"].isna().all():
            section.notes.append("No positive net sales in the period to compare with the portfolio.")
            return section
        fig = charts.category_mix(frame, self.name)
        section.charts.append(Chart("category-mix", fig.layout.title.text, fig, narrative.white_space(frame)))
        section.tables.append(Table("White space", "Category mix and white space", frame,
                                    export="white-space" if "white-space" in export.registry() else None))
        return section

    # -- promotions -----------------------------------------------------------------------------------------
    def promotions(self) -> Section | None:
        promos = _module("metrics.promotions", "promotions_of", "kpis", "roi_summary", "DEFINITIONS")
        charts = _module("charts.promotions", "calendar", "roi_bars")
        if promos is None or charts is None or "promo-lift" not in export.registry():
            self.missing.append("Promotions: the promotion lift metrics (kam_dash.metrics.promotions) are not in "
                                "this installation.")
            return None
        if not self.engine.has("promotions"):
            self.missing.append("Promotions: the promotions table is not loaded.")
            return None
        terms = ("Promotion event", "Baseline: seasonal_pre (default)", "Clean week", "Low baseline coverage",
                 "Incremental units", "Lift", "Post-promotion dip", "Net incremental units",
                 "Incremental gross profit", "ROI", "Share paid back", "ROI by mechanic / retailer")
        section = Section("promotions", "Promotions of the period: lift and ROI",
                          terms=[("promotions", t) for t in terms] + [("report", "Median lift")])
        # The default method's lift table is the export itself; the page's other methods are not in the pack.
        table = _export("promo-lift", self.engine, self.mine)
        if table.empty:
            section.notes.append(f"No promotions of {self.name} in the period.")
            return section
        lacking = self.engine.missing("sell_out", "inventory", "sell_in")
        if lacking:
            section.notes.append("Lift and ROI are partial: " + ", ".join(lacking) + " not loaded.")
        k = promos.kpis(table)
        fig = charts.calendar(self._calendar_events(promos, table))
        section.charts.append(Chart("promotion-calendar", fig.layout.title.text, fig, narrative.promotions(
            k["events"], k["measured"], k["median_lift"], k["incremental_units"])))
        by_mechanic = promos.roi_summary(table, "mechanic")
        with_roi = by_mechanic.dropna(subset=["roi"])
        if len(with_roi):
            best = with_roi.sort_values(["roi", "group"], ascending=[False, True]).iloc[0]
            fig = charts.roi_bars(by_mechanic, "ROI by mechanic", groups="mechanic")
            section.charts.append(Chart("promotion-roi", "ROI by mechanic", fig, narrative.roi(
                k["roi"], _sum(table[table["roi"].notna()], "trade_spend"), k["paid_back_share"],
                int(table["roi"].notna().sum()), (str(best["group"]), float(best["roi"])))))
        else:
            section.notes.append("No event has an ROI (trade spend, unit costs or a measured lift are missing).")
        section.tables.append(Table("Promotions", "Promotion lift and ROI (seasonal pre-period baseline)", table,
                                    export="promo-lift"))
        return section

    def _calendar_events(self, promos, table: pd.DataFrame) -> pd.DataFrame:
        """The lift table with what the calendar draws: names and the events' dates."""
        scope = scopes.resolve(self.engine, self.mine)
        dates = promos.promotions_of(self.engine, scope).set_index("promo_id")
        products = scopes.products(self.engine).set_index("sku_id")
        return table.assign(
            retailer_name=self.name,
            sku_name=table["sku_id"].map(products["sku_name"]).fillna(table["sku_id"]),
            brand=table["sku_id"].map(products["brand"]),
            start_date=table["promo_id"].map(dates["start_date"]),
            end_date=table["promo_id"].map(dates["end_date"]))

    # -- inventory ------------------------------------------------------------------------------------------
    def inventory(self) -> Section | None:
        inv = _module("metrics.inventory", "page_data", "DEFINITIONS")
        charts = _module("charts.inventory", "cover_trend", "coverage_heatmap", "reconciliation_waterfall")
        if inv is None or charts is None:
            self.missing.append("Inventory: the coverage and availability metrics (kam_dash.metrics.inventory) are "
                                "not in this installation.")
            return None
        if not self.engine.has("inventory"):
            self.missing.append("Inventory coverage and availability: the inventory table is not loaded.")
            return None
        section = Section("inventory", "Inventory coverage and availability", terms=[
            ("inventory", t) for t in ("Weeks of cover", "Cover status", "Forward cover", "In-stock rate",
                                       "Out-of-stock weeks", "Lost sales (units)", "Lost sales (value)",
                                       "Phantom inventory candidate", "Stock reconciliation")]
            + [("report", "Retailer stock cover"), ("report", "Line-weeks by status")])
        page = inv.page_data(self.engine, self.mine, retailer=self.rid)
        if not page.has_inventory or page.retailer != self.rid:
            section.notes.append(f"No stock counts for {self.name} in the period.")
            return section
        coverage = _export("coverage", self.engine, self.mine)
        availability = _export("availability", self.engine, self.mine)
        reconciliation = _export("reconciliation", self.engine, self.mine)
        if coverage is not None and len(coverage):
            counts = coverage["status"].value_counts().to_dict()
            line = narrative.cover(_sum(coverage, "on_hand_units"), _sum(coverage, "avg_weekly_units"), page.band,
                                   counts, pd.Timestamp(coverage["week"].iloc[0]))
        else:
            line = narrative.cover(None, None, page.band, {}, page.last)
        fig = charts.cover_trend(page.trend, page.band, self.name, page.window)
        section.charts.append(Chart("cover-trend", "Weeks of cover against the agreed band", fig, line))
        if availability is not None:
            oos = int(availability["oos_weeks"].sum())
            avail_line = narrative.availability(page.kpis.get("in_stock_rate"), oos, _sum(availability, "lost_units"),
                                                _sum(availability, "lost_value"))
        else:
            avail_line = narrative.availability(page.kpis.get("in_stock_rate"), page.kpis.get("oos_weeks", 0),
                                                page.kpis.get("lost_units"), page.kpis.get("lost_value"))
        if len(page.heatmap):
            cells = page.heatmap.dropna(subset=["status"])
            mix = narrative.status_mix(cells["status"].value_counts().to_dict(), cells["sku_id"].nunique(),
                                       cells["week"].nunique())
            fig = charts.coverage_heatmap(page.heatmap, self.name, page.window)
            section.charts.append(Chart("cover-heatmap", "Cover status by SKU and week", fig,
                                        f"{avail_line} {mix}"))
        else:
            section.lead = avail_line
        if page.waterfall is not None and reconciliation is not None and len(reconciliation):
            r = reconciliation.iloc[0]
            fig = charts.reconciliation_waterfall(page.waterfall, f"{self.name}: stock reconciliation (units)")
            section.charts.append(Chart("reconciliation", "Stock reconciliation", fig, narrative.reconciliation(
                r["sell_in_units"], r["sell_out_units"], r["on_hand_change"], r["unexplained_units"])))
        for frame, sheet, title, name in (
                (coverage, "Coverage", "Weeks of cover and status by SKU, at the period's last week", "coverage"),
                (availability, "Availability", "Out-of-stock weeks and lost sales by SKU", "availability"),
                (reconciliation, "Stock reconciliation", "Stock reconciliation", "reconciliation")):
            if frame is not None and len(frame):
                section.tables.append(Table(sheet, title, frame, export=name))
        return section

    # -- the account plan: objectives and next steps ----------------------------------------------------------
    def objectives(self) -> Section | None:
        from kam_dash.metrics import objectives as objective_metrics
        from kam_dash.metrics.plan import plan_year
        from kam_dash.state import plans
        from kam_dash.state.store import StateError, Store, state_path_for

        path = state_path_for(self.engine.location)
        if not path.exists():
            return None  # no account plans kept beside this database: nothing is missing, the feature is unused
        try:
            store = Store(path, create=False)
            year = plan_year(self.filters, scopes.latest_week(self.engine))
            progressed = objective_metrics.plan_progress(self.engine, plans.records(store, "objectives", self.rid,
                                                                                     year))
            initiatives = plans.records(store, "initiatives", self.rid, year)
            meetings = plans.records(store, "meetings", self.rid)
        except StateError as exc:
            self.missing.append(f"Objectives and next steps: {exc}.")
            return None
        section = Section("objectives", "Objectives and next steps", terms=[
            ("objectives", t) for t in ("Objective measures", "Share of the plan year elapsed",
                                        "Objective progress", "Objective status", "Overdue initiative")])
        if progressed.empty:
            section.notes.append(f"No objectives for {year} in the account plan.")
        today = dt.date.today().isoformat()
        open_ = initiatives[initiatives["status"].isin(plans.OPEN_STATUSES)].sort_values("due_date")
        overdue = open_["due_date"] < today
        counts = progressed["status"].value_counts()
        section.lead = (f"{len(progressed)} objective{'s' if len(progressed) != 1 else ''} for {year}: "
                        + ", ".join(f"{counts.get(s, 0)} {s}" for s in objective_metrics.STATUSES if counts.get(s))
                        + f". {len(open_)} open initiative{'s' if len(open_) != 1 else ''}, {int(overdue.sum())} "
                        f"overdue, {int((open_['status'] == 'blocked').sum())} blocked.") if len(progressed) else ""
        units = ["money" if objective_metrics.MEASURE_INFO[m].unit == "money" else "pct"
                 for m in progressed["measure"]]
        for o, unit in zip(progressed.itertuples(), units):
            section.points.append(f"{o.title}: {show(o.actual_value, unit)} of {show(o.target_value, unit)} "
                                  f"({fmt.pct(o.progress, 0)}), {o.status}")
        for i in open_.head(8).itertuples():
            section.points.append(f"Next: {i.title} ({i.function.replace('_', ' ')}, {i.owner}, due {i.due_date}"
                                  f"{', overdue' if i.due_date < today else ''}{', blocked' if i.status == 'blocked' else ''})")
        if len(meetings):
            last = meetings.iloc[0]
            section.points += [f"From the meeting of {last['date']}: {step}" for step in plans.next_steps(last)]
        if len(progressed):
            frame = progressed[["objective_id", "title", "measure", "target_value", "actual_value", "progress",
                                "status", "status_reason", "due_date", "owner"]]
            section.tables.append(Table("Objectives", f"Objectives {year} with live progress", frame,
                                        row_kinds=units, kinds={"target_value": "row", "actual_value": "row",
                                                                "progress": "pct", "due_date": "text"}))
        if len(open_):
            section.tables.append(Table("Next steps", "Open initiatives, by due date", open_.assign(
                overdue=overdue)[["initiative_id", "title", "objective_title", "function", "owner", "status",
                                  "due_date", "overdue", "promo_id"]], kinds={"due_date": "text"}))
        return section


    def distribution(self) -> Section | None:
        """Store-level accounts only: distribution x velocity per SKU and the top voids (issue 12)."""
        st = _module("metrics.stores", "page_data", "DEFINITIONS")
        charts = _module("charts.stores", "quadrant")
        if st is None or charts is None or not self.engine.has("sell_out_store"):
            return None
        data = st.page_data(self.engine, self.mine, with_stores=False)
        if data is None or data.distribution.empty:
            return None  # the account reports by chain: nothing to say about stores
        section = Section("distribution", "Distribution, velocity and voids", terms=[
            ("stores", t) for t in ("Numeric distribution", "ACV-weighted distribution (%ACV)", "Velocity", "Void",
                                    "Estimated lost units")])
        d, voids = data.distribution, data.voids
        numeric = d["stores_selling"].sum() / d["stores_open"].sum()
        velocity = d["units"].sum() / d["stores_selling"].sum() if d["stores_selling"].sum() else None
        line = (f"{self.name} sold our SKUs in {fmt.pct(numeric)} of its open store-weeks, at "
                f"{fmt.number(velocity, 1)} units per store selling per week; {len(voids):,} "
                f"void{'' if len(voids) == 1 else 's'} (a store that stopped selling a SKU the chain sells) cost an "
                f"estimated {fmt.number(voids['est_lost_units'].sum() if len(voids) else 0)} units.")
        section.charts.append(Chart("distribution-quadrant", "Distribution x velocity per SKU",
                                    charts.quadrant(data.skus, {self.rid: self.name}), line))
        skus = data.skus[["sku_id", "sku_name", "numeric_distribution", "acv_distribution", "velocity",
                          "velocity_open", "units"]].sort_values("acv_distribution", ascending=False)
        section.tables.append(Table("Distribution", "Distribution and velocity by SKU", skus.reset_index(drop=True)))
        if len(voids):
            top = voids[st.VOID_COLUMNS].head(20).reset_index(drop=True)
            section.tables.append(Table("Top voids", "The 20 voids with the most estimated lost units", top,
                                        export="voids"))
        return section


SECTIONS: tuple[Callable[[_Collector], Section | None], ...] = (
    _Collector.key_figures, _Collector.objectives, _Collector.plan, _Collector.pipeline, _Collector.mix,
    _Collector.promotions, _Collector.inventory, _Collector.distribution)


def definitions_of(terms: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(term, definition) of each (module, key), in order, once each: from the metric modules' DEFINITIONS, and
    this module's for module "report"."""
    out, seen = [], set()
    for module_name, key in terms:
        if (module_name, key) in seen:
            continue
        seen.add((module_name, key))
        defs = DEFINITIONS if module_name == "report" else getattr(
            _module(f"metrics.{module_name}", "DEFINITIONS"), "DEFINITIONS", {})
        if key in defs:
            out.append((key, defs[key]))
    return out


def collect(engine: Engine, filters: Filters, retailer_id: str) -> Pack:
    """The review pack of one retailer for the period and filters in force (the retailer and channel filters
    are replaced by the one account). Raises ValueError for an unknown retailer."""
    dims = scopes.retailers(engine)
    row = dims[dims["retailer_id"] == retailer_id]
    if row.empty:
        raise ValueError(f"unknown retailer {retailer_id!r}")
    info = {k: (None if not isinstance(v, str) and pd.isna(v) else v) for k, v in row.iloc[0].to_dict().items()}
    latest = scopes.latest_week(engine)
    generated = dt.datetime.now().replace(microsecond=0)
    if latest is None:
        return Pack(info, PERIODS[filters.period], _filters_words(filters), "No sales data is loaded.", generated,
                    None, None, missing=["Everything: no sales data is loaded."])
    period = scopes.resolve(engine, filters).period  # clamped to the loaded weeks, as on the pages
    start, end = period.start, period.end
    pack = Pack(info, _period_words(filters, start, end), _filters_words(filters),
                f"Data to the week of {latest:%d %b %Y} (the latest week loaded)", generated, start, end)
    collector = _Collector(engine, filters, retailer_id, info)
    for build in SECTIONS:
        section = build(collector)
        if section is not None:
            pack.sections.append(section)
    pack.missing = collector.missing
    pack.definitions = definitions_of([t for s in pack.sections for t in s.terms])
    return pack


def file_name(retailer_id: str, retailer_name: str, start: dt.date | None, end: dt.date | None, fmt_: str) -> str:
    """'review-R001-fresh-pharmacy-2026-01-05-to-2026-11-16.pptx': safe on every file system."""
    slug = "".join(ch if ch.isalnum() else "-" for ch in f"{retailer_id}-{retailer_name}".lower())
    slug = "-".join(part for part in slug.split("-") if part)[:60]
    dates = f"-{start:%Y-%m-%d}-to-{end:%Y-%m-%d}" if start and end else ""
    return f"review-{slug}{dates}.{fmt_}"


