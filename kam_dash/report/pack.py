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

from kam_dash import export, fmt, labels
from kam_dash import scope as scopes
from kam_dash.engine import Engine
from kam_dash.filters import PERIODS, Filters
from kam_dash.report import narrative

TOP_PRODUCTS = 5  # products on each side of the top/bottom slide
RANGE_GAP_ROWS = 10  # range gaps on the white-space slide and page; the workbook has them all

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
    "Top and bottom products": "The retailer's products ranked by change in sell-out value vs last year (over the "
    "weeks it reported both years, as in SKU growth and contribution), or in net sales where it reports no "
    f"sell-out both years: the {TOP_PRODUCTS} largest gains and the {TOP_PRODUCTS} largest losses (with fewer "
    f"than {2 * TOP_PRODUCTS} products, the better half and the rest). Growth is shown beside the change.",
    "Gaps and opportunities": "Without objectives in an account plan, the pack's next steps are the largest money "
    "gaps and opportunities of the numbers shown, largest first: the landing gap to the annual target, lost sales "
    "from out-of-stock weeks, the product with the largest loss vs last year, the first range gaps, the largest "
    "category white space and promotion spend that did not pay back; then voids (counted in units).",
}

# -- tables: what kind of number each column holds --------------------------------------------------------------
# Kinds: money, pct (a fraction shown as a percent), change (a signed percent), units (whole numbers), int,
# decimal, date, text, flag.
COLUMN_KINDS = {
    "share": "pct", "cum_share": "pct", "margin_pct": "pct", "attainment": "pct", "sell_out_share": "pct",
    "retailer_share": "pct", "portfolio_share": "pct", "in_stock_rate": "pct", "paid_back_share": "pct",
    "online_share": "pct", "share_of_plan": "pct", "numeric_distribution": "pct", "acv_distribution": "pct",
    "yoy_growth": "change", "sell_out_growth": "change",
    "change_vs_last_year": "change", "lift_pct": "change", "roi": "change",
    "score": "decimal", "growth_ratio": "decimal", "discount_pct": "decimal", "weeks_of_cover": "decimal",
    "forward_cover": "decimal", "avg_weekly_units": "decimal", "net_price": "decimal", "unit_cost": "decimal",
    "strategic_priority": "int", "unreported_weeks": "int",
    "clean_weeks": "int", "oos_weeks": "int", "remaining_weeks": "int", "weeks": "int", "stores_selling": "int",
    "stores_open": "int",
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


@dataclass(frozen=True)
class SheetChart:
    """A native chart drawn on a table's workbook sheet from its own cells."""
    kind: str  # "column", "bar" or "line"
    category: str  # the column along the axis (an id column is drawn by its names)
    values: tuple[str, ...]  # the columns drawn, one series each
    title: str
    first_rows: int | None = None  # chart only the table's leading rows (the plan's all-category months)


@dataclass
class Table:
    sheet: str  # workbook sheet name (31 characters at most)
    title: str
    frame: pd.DataFrame
    export: str | None = None  # the registered export this table is (for the retailer), if any
    row_kinds: list[str] | None = None  # per-row kind for columns of kind "row" (the key figures)
    kinds: dict[str, str] = field(default_factory=dict)  # overrides of column_kind
    detail: bool = False  # raw rows (weekly tables, every product): the workbook only, not the page or deck
    chart: SheetChart | None = None
    headings: dict[str, str] = field(default_factory=dict)  # this table's own words for a column
    page_columns: tuple[str, ...] | None = None  # what the page and slides show, first things first (all: None)

    def kind(self, column: str) -> str:
        return self.kinds.get(column) or column_kind(column, self.frame[column])


# An id column and the name column that says the same for people.
ID_NAMES = {"retailer_id": "retailer_name", "sku_id": "sku_name", "store_id": "store_name"}
BASIS_WORDS = {"sell_in": "Net sales (sell-in)", "sell_out": "Sell-out value"}
METHOD_WORDS = {"seasonal_pre": "Seasonal pre-period", "pre_period": "Pre-period", "pre": "Pre-period"}
# The pack's headings where the shared vocabulary (kam_dash.labels) has none and its word rules read badly.
HEADINGS = {
    "value": "Sales", "value_ly": "Sales last year", "cum_share": "Cumulative share",
    "sell_in_units": "Sell-in units", "sell_out_units": "Sell-out units", "cum_pipeline_units": "Pipeline fill (units)",
    "sell_out_value_ly": "Sell-out value last year", "sell_out_growth": "Sell-out growth vs last year",
    "sell_out_share": "Share of the portfolio's sell-out", "net_sales_target": "Net sales target",
    "on_hand_units": "Units on hand", "on_hand_change": "Change in units on hand", "oos_weeks": "Out-of-stock weeks",
    "oos_weeks_unreported": "Out-of-stock weeks not reported", "phantom_candidate": "Phantom stock candidate",
    "promo_id": "Promotion", "lift_pct": "Lift", "post_dip_units": "Post-promotion dip (units)",
    "est_value": "Estimated value", "listing_share": "Share of comparable accounts listing",
    "accounts_listing": "Comparable accounts listing", "mean_share_where_listed": "Share of sales where listed",
    "retailer_sales": "Sales here", "objective_title": "Objective", "title": "Title", "change": "Change vs last year",
    "contribution": "Contribution to growth", "margin_pct": "Gross margin", "cover_weeks": "Weeks averaged",
    "velocity_open": "Units per open store per week",
}
COVER_STATUS_WORDS = dict(narrative.STATUS_WORDS)
# Columns that name the view rather than a row: dropped from the page and slides when one value fills them.
CONTEXT_COLUMNS = ("retailer_id", "retailer_name", "week", "through_week", "basis", "method")
# Keys of the account plan's own records: their titles say the same for people.
PLAN_KEYS = ("objective_id", "initiative_id")


@dataclass
class PeopleTable:
    """A table as people read it: ids replaced by names, codes in words, headings in words. `columns` are the
    machine names of what is kept (kinds and charts are looked up by them), `headings` the words shown."""
    frame: pd.DataFrame
    columns: list[str]
    headings: list[str]
    kinds: list  # a kind per column, or per row (a list) for the key figures' "row" columns


def for_people(table: Table, names: dict[str, dict[str, str]], on_page: bool = False) -> PeopleTable:
    """The table with products, retailers and stores by name (an id column becomes its name column, or goes when
    the name is already there), mechanics, channels, bases and cover statuses in words, headings in words
    (kam_dash.labels). on_page: the page's and slides' cut - the table's page_columns in their order, and no
    CONTEXT_COLUMNS that hold one value; the workbook has every column."""
    frame = table.frame
    if on_page and table.page_columns:
        frame = frame[[c for c in table.page_columns if c in frame.columns]]
    out, columns, headings, kinds = {}, [], [], []
    for column in frame.columns:
        values = frame[column]
        kind = table.kind(column)
        if column in PLAN_KEYS or (on_page and column in CONTEXT_COLUMNS and len(frame)
                                   and values.nunique(dropna=False) <= 1):
            continue
        heading_of = column
        if column in ID_NAMES:
            if ID_NAMES[column] in frame.columns:
                continue  # the name column says it in words
            lookup = names.get(column, {})
            values = values.map(lambda v, lookup=lookup: lookup.get(v, v) if isinstance(v, str) else v)
            heading_of = ID_NAMES[column]
        elif column == "mechanic" or (column == "group" and values.isin(list(labels.MECHANIC_WORDS)).any()):
            values = labels.mechanics(values)
        elif column in ("channel", "sales_channel"):
            values = values.map(lambda c: labels.CHANNEL_WORDS.get(c, c) if isinstance(c, str) else c)
        elif column in ("basis", "method"):
            words = BASIS_WORDS if column == "basis" else METHOD_WORDS
            values = values.map(lambda c, words=words: words.get(c, c) if isinstance(c, str) else c)
        elif column == "status" and values.isin(list(COVER_STATUS_WORDS)).any():
            values = values.map(lambda c: COVER_STATUS_WORDS.get(c, c) if isinstance(c, str) else c)
        out[column] = values
        columns.append(column)
        headings.append(table.headings.get(column) or HEADINGS.get(heading_of) or labels.heading(heading_of))
        kinds.append(table.row_kinds if kind == "row" else kind)
    return PeopleTable(pd.DataFrame(out, index=frame.index), columns, headings, kinds)


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
    names: dict[str, dict[str, str]] = field(default_factory=dict)  # id column -> {id: name}, for people

    def people(self, table: Table, on_page: bool = False) -> PeopleTable:
        return for_people(table, self.names, on_page)

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
        # (money at stake, next step in words) from each section: the next steps when no account plan has any
        self.opportunities: list[tuple[float, str]] = []

    def retailer_rows(self, name: str) -> pd.DataFrame | None:
        """A portfolio-wide export's rows of this retailer."""
        frame = _export(name, self.engine, self.portfolio)
        return None if frame is None else frame[frame["retailer_id"] == self.rid].reset_index(drop=True)

    def product(self, sku_id) -> str:
        """A product by name (its id when the products table has no name for it)."""
        if not hasattr(self, "_products"):
            products = scopes.products(self.engine)
            self._products = dict(zip(products["sku_id"], products["sku_name"]))
        name = self._products.get(sku_id)
        return name if isinstance(name, str) and name else str(sku_id)

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
                                    kinds=kinds, headings={"value": "This period"}))
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
                                        export="account-scores",
                                        page_columns=("tier", "score", "health", "health_reason", "share",
                                                      "yoy_growth", "margin_pct", "strategic_priority")))
            section.terms += [("account", "Key-account score"), ("account", "Tiers"), ("account", "Health")]
        if shares is not None and len(shares):
            section.tables.append(Table("Revenue share", "Revenue share in the portfolio", shares,
                                        export="revenue-share",
                                        page_columns=("value", "share", "abc_class", "value_ly", "yoy_growth",
                                                      "net_sales_target", "attainment", "unreported_weeks")))
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
            landing, target = _num(first["landing_estimate"]), _num(first["annual_target"])
            if landing is not None and target is not None and landing < target:
                run_rate = _num(first["required_weekly_run_rate"])
                self.opportunities.append((target - landing, (
                    f"Close the {fmt.money(target - landing)} gap between the landing estimate and the "
                    f"{data.landing_year} annual target" + (f": {fmt.money(run_rate)} a week needed from here"
                                                           if run_rate else ""))))
            fig = charts.monthly_vs_target(data.monthly, data.landing_year)
            section.charts.append(Chart("monthly", fig.layout.title.text, fig, line))
        else:
            section.notes.append(f"No net sales or targets for {data.landing_year}.")
        if rows is not None and len(rows):
            overall_rows = int((rows["category"] == "").cummin().sum())  # the all-category months come first
            section.tables.append(Table("Plan by month", f"Plan by month, {data.landing_year}", rows, export="plan",
                                        page_columns=("category", "month", "actual", "target", "attainment"),
                                        chart=SheetChart("column", "month", ("actual", "target"),
                                                         "Net sales vs target by month, all categories",
                                                         first_rows=overall_rows) if overall_rows else None))
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
                                        export="pipeline" if "pipeline" in export.registry() else None,
                                        detail=True, chart=SheetChart("line", "week",
                                                                      ("sell_in_units", "sell_out_units"),
                                                                      "Sell-in vs sell-out units by week")))
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
            section.tables.append(Table("Store vs online", "Sell-out value by week, store and online", trend,
                                        detail=True, chart=SheetChart("line", "week", ("store", "online"),
                                                                      "Sell-out value by week, store and online")))
            section.terms.append(("account", "Store vs online"))
        return section

    # -- products: top and bottom vs last year -------------------------------------------------------------
    def skus(self) -> Section | None:
        account = _module("metrics.account", "top_bottom")
        if self.account is None or account is None:
            return None
        section = Section("skus", "Products: biggest gains and losses vs last year", terms=[
            ("account", "SKU growth and contribution"), ("report", "Top and bottom products")])
        skus = self.account.skus
        # What the buyer sees: sell-out where the account reports it both years, else the account's basis (the
        # SKU table's change and growth, of net sales for a sell-in account). Sell-out change is the SKU table's
        # rule on sell-out: the weeks reported both years against last year, empty when both are.
        sell_out_change = (skus["sell_out_comparable"].fillna(0.0) - skus["sell_out_value_ly"].fillna(0.0)).where(
            skus["sell_out_comparable"].notna() | skus["sell_out_value_ly"].notna())
        if sell_out_change.notna().any():
            skus = skus.assign(change=sell_out_change, growth=skus["sell_out_growth"])
            size, last, what = "sell_out_value", "sell_out_value_ly", "sell-out value"
        elif len(skus) and skus["basis"].iloc[0] == "sell_in":
            size, last, what = "net_sales", "net_sales_ly", "net sales"
        else:
            size, last, what = "sell_out_value", "sell_out_value_ly", "sell-out value"
        basis = self.account.skus["basis"].iloc[0] if len(self.account.skus) else "sell_in"
        basis_what = "net sales" if basis == "sell_in" else "sell-out value"  # of the SKU table's change
        top, bottom = account.top_bottom(skus, "change", TOP_PRODUCTS)
        if top.empty:
            section.notes.append("No product has sales this period or last year to compare.")
            return section
        columns = ["sku_name", "category", size, last, "change", "growth"]
        gains, losses = top[top["change"] > 0], bottom[bottom["change"] < 0]
        gain = (gains.iloc[0]["sku_name"], gains.iloc[0]["change"], gains.iloc[0]["growth"]) if len(gains) else None
        loss = (losses.iloc[0]["sku_name"], losses.iloc[0]["change"], losses.iloc[0]["growth"]) if len(losses) else None
        if loss is not None:
            self.opportunities.append((-float(loss[1]), (
                f"Win back {loss[0]}: {fmt.money(-loss[1])} of {what} below last year "
                f"({fmt.pct(loss[2], signed=True)})")))
        section.lead = narrative.products(what, gain, loss)
        chart = SheetChart("bar", "sku_name", ("change",), f"Change in {what} vs last year")
        section.tables += [t for t in (
            Table("Top products", f"Top {len(top)} products by change in {what} vs last year", top[columns],
                  kinds={"change": "money", "growth": "change"}, chart=chart),
            Table("Bottom products", f"Bottom {len(bottom)} products by change in {what} vs last year",
                  bottom[columns], kinds={"change": "money", "growth": "change"}, chart=chart),
            Table("Products", "Every product: net sales and sell-out value, this period and last year",
                  self.account.skus[["sku_name", "category", "net_sales", "net_sales_ly", "change", "growth",
                                     "contribution", "sell_out_value", "sell_out_value_ly", "sell_out_growth",
                                     "units"]].dropna(axis=1, how="all"),
                  kinds={"change": "money", "growth": "change", "contribution": "change"},
                  headings={"change": f"Change in {basis_what} vs last year",
                            "growth": f"Growth in {basis_what} vs last year"}, detail=True)) if len(t.frame)]
        return section

    # -- white space: products not listed here, and the category mix ----------------------------------------
    def white_space(self) -> Section | None:
        account = _module("metrics.account", "range_gaps_of", "period_sales", "comparable_accounts")
        charts = _module("charts.account", "category_mix")
        if self.account is None or account is None:
            return None
        section = Section("white-space", "White space: products and categories to add", terms=[
            ("account", "Range gaps"), ("account", "Category mix and white space")])
        sales = account.period_sales(self.engine, self.filters, self.rid)
        retailers = scopes.retailers(self.engine)
        gaps = account.range_gaps_of(sales, retailers, scopes.products(self.engine), self.rid)
        peers, _ = account.comparable_accounts(retailers, set(sales.loc[sales["value"] > 0, "retailer_id"]), self.rid)
        if len(gaps):
            top = gaps.head(RANGE_GAP_ROWS)
            first = top.iloc[0]
            section.lead = narrative.range_gaps(len(gaps), self.name, first["sku_name"], int(first["accounts_listing"]),
                                                int(first["comparable_accounts"]), first["est_value"])
            names = ", ".join(top["sku_name"].head(3))
            self.opportunities.append((float(top["est_value"].head(3).sum()), (
                f"Propose listing {names}: an estimated {fmt.money(top['est_value'].head(3).sum())} over a period "
                "like this one, at the rate of comparable accounts")))
            section.tables.append(Table("Range gaps", f"Products not listed at {self.name} that comparable accounts "
                                        "sell, by estimated value", gaps,
                                        kinds={"est_value": "money", "listing_share": "pct",
                                               "mean_share_where_listed": "pct", "accounts_listing": "int",
                                               "comparable_accounts": "int"},
                                        chart=SheetChart("bar", "sku_name", ("est_value",),
                                                         "Estimated value of the products not listed"),
                                        page_columns=("sku_name", "brand", "category", "est_value",
                                                      "accounts_listing", "comparable_accounts",
                                                      "mean_share_where_listed")))
        else:
            section.lead = narrative.range_gaps(0, self.name, comparable=len(peers))
        frame = _export("white-space", self.engine, self.mine)
        if frame is None:
            frame = self.account.white_space
        if frame.empty or frame["retailer_share"].isna().all():
            section.notes.append("No positive net sales in the period to compare with the portfolio.")
            return section
        mix_line = narrative.white_space(frame)
        if charts is not None:
            fig = charts.category_mix(frame, self.name)
            section.charts.append(Chart("category-mix", fig.layout.title.text, fig, mix_line))
        else:
            section.lead += " " + mix_line
        opportunities = frame[frame["opportunity"] > 0]
        if len(opportunities):
            c = opportunities.iloc[0]
            self.opportunities.append((float(c["opportunity"]), (
                f"Grow {c['category']}: {fmt.money(c['opportunity'])} more if its share here matched the portfolio's "
                f"({fmt.pct(c['retailer_share'])} here vs {fmt.pct(c['portfolio_share'])})")))
        section.tables.append(Table("White space", "Category mix and white space", frame,
                                    export="white-space" if "white-space" in export.registry() else None,
                                    chart=SheetChart("column", "category", ("retailer_share", "portfolio_share"),
                                                     f"Category mix: {self.name} vs the portfolio")))
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
            section.notes.append("Lift and ROI are partial: " + ", ".join(t.replace("_", "-") for t in lacking)
                                 + " not loaded.")
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
                int(table["roi"].notna().sum()), (labels.mechanic(best["group"]), float(best["roi"])))))
        else:
            section.notes.append("No event has an ROI (trade spend, unit costs or a measured lift are missing).")
        section.tables.append(Table("Promotions", "Promotion lift and ROI (seasonal pre-period baseline)", table,
                                    export="promo-lift", chart=SheetChart("column", "sku_id", ("lift_pct", "roi"),
                                                                          "Lift and ROI by promotion"),
                                    page_columns=("sku_id", "mechanic", "start_week", "end_week", "roi", "flag",
                                                  "lift_pct", "incremental_units", "trade_spend",
                                                  "incremental_gross_profit")))
        losing = table[table["roi"] < 0]
        if len(losing):
            lost = float((losing["trade_spend"] - losing["incremental_gross_profit"]).sum())
            self.opportunities.append((lost, (
                f"Rework or drop the {len(losing)} promotion{'s' if len(losing) != 1 else ''} that did not pay "
                f"back: {fmt.money(losing['trade_spend'].sum())} of trade spend earned {fmt.money(lost)} less "
                "incremental gross profit than it cost")))
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
        for frame, sheet, title, name, chart, shown in (
                (coverage, "Coverage", "Weeks of cover and status by product, at the period's last week", "coverage",
                 SheetChart("bar", "sku_id", ("weeks_of_cover",), "Weeks of cover by product"),
                 ("sku_id", "weeks_of_cover", "status", "on_hand_units", "avg_weekly_units", "forward_cover")),
                (availability, "Availability", "Out-of-stock weeks and lost sales by product", "availability",
                 SheetChart("bar", "sku_id", ("lost_value",), "Lost sales (value) by product"),
                 ("sku_id", "lost_value", "lost_units", "oos_weeks", "phantom_candidate")),
                (reconciliation, "Stock reconciliation", "Stock reconciliation", "reconciliation", None, None)):
            if frame is not None and len(frame):
                section.tables.append(Table(sheet, title, frame, export=name, chart=chart, page_columns=shown))
        if availability is not None and len(availability) and (availability["lost_value"] > 0).any():
            worst = availability.sort_values(["lost_value", "sku_id"], ascending=[False, True]).iloc[0]
            lost = float(availability["lost_value"].sum())
            self.opportunities.append((lost, (
                f"Recover the {fmt.money(lost)} of sales lost in {int(availability['oos_weeks'].sum())} out-of-stock "
                f"weeks; most on {self.product(worst['sku_id'])} ({fmt.money(worst['lost_value'])})")))
        return section

    # -- the account plan: objectives and next steps ----------------------------------------------------------
    def objectives(self) -> Section:
        """The account plan's objectives and open initiatives where it has any for the year; else the largest
        gaps and opportunities of the sections before, in words (see DEFINITIONS["Gaps and opportunities"])."""
        section = Section("objectives", "Objectives and next steps")
        if not self._account_plan(section):
            steps = sorted(self.opportunities, key=lambda o: -o[0])[:6]
            section.terms.append(("report", "Gaps and opportunities"))
            section.lead = (("No objectives in an account plan for this account: " if not section.lead else
                             section.lead + " ")
                            + ("the largest gaps and opportunities in the numbers of this pack." if steps else
                               "and no gap or opportunity in the numbers of this pack."))
            section.points += [step for _, step in steps]
        return section

    def _account_plan(self, section: Section) -> bool:
        """Fill the section from the account plan kept beside the database; False when it has no objectives
        and no open initiatives for the year."""
        from kam_dash.metrics import objectives as objective_metrics
        from kam_dash.metrics.plan import plan_year
        from kam_dash.state import plans
        from kam_dash.state.store import StateError, Store, state_path_for

        path = state_path_for(self.engine.location)
        if not path.exists():
            return False  # no account plans kept beside this database
        try:
            store = Store(path, create=False)
            year = plan_year(self.filters, scopes.latest_week(self.engine))
            progressed = objective_metrics.plan_progress(self.engine, plans.records(store, "objectives", self.rid,
                                                                                     year))
            initiatives = plans.records(store, "initiatives", self.rid, year)
            meetings = plans.records(store, "meetings", self.rid)
        except StateError as exc:
            self.missing.append(f"Objectives and next steps from the account plan: {exc}.")
            return False
        today = dt.date.today().isoformat()
        open_ = initiatives[initiatives["status"].isin(plans.OPEN_STATUSES)].sort_values("due_date")
        if progressed.empty and open_.empty:
            section.lead = f"No objectives for {year} in the account plan:"
            return False
        section.terms += [("objectives", t) for t in ("Objective measures", "Share of the plan year elapsed",
                                                      "Objective progress", "Objective status", "Overdue initiative")]
        if progressed.empty:
            section.notes.append(f"No objectives for {year} in the account plan.")
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
            flags = f"{', overdue' if i.due_date < today else ''}{', blocked' if i.status == 'blocked' else ''}"
            section.points.append(f"Next: {i.title} ({i.function.replace('_', ' ')}, {i.owner}, due {i.due_date}"
                                  f"{flags})")
        if len(meetings):
            last = meetings.iloc[0]
            section.points += [f"From the meeting of {last['date']}: {step}" for step in plans.next_steps(last)]
        if len(progressed):
            frame = progressed.assign(measure=progressed["measure"].map(
                lambda m: objective_metrics.MEASURE_INFO[m].label))[
                ["objective_id", "title", "measure", "target_value", "actual_value", "progress", "status",
                 "status_reason", "due_date", "owner"]]
            section.tables.append(Table("Objectives", f"Objectives {year} with live progress", frame,
                                        row_kinds=units, kinds={"target_value": "row", "actual_value": "row",
                                                                "progress": "pct", "due_date": "text"},
                                        chart=SheetChart("bar", "title", ("progress",), "Progress by objective")))
        if len(open_):
            section.tables.append(Table("Next steps", "Open initiatives, by due date", open_.assign(
                overdue=overdue)[["initiative_id", "title", "objective_title", "function", "owner", "status",
                                  "due_date", "overdue", "promo_id"]], kinds={"due_date": "text"}))
        return True

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
        section.tables.append(Table("Distribution", "Distribution and velocity by product", skus.reset_index(drop=True),
                                    chart=SheetChart("bar", "sku_name", ("acv_distribution",),
                                                     "ACV-weighted distribution by product")))
        if len(voids):
            top = voids[st.VOID_COLUMNS].head(20).reset_index(drop=True)
            section.tables.append(Table("Top voids", "The 20 voids with the most estimated lost units", top,
                                        export="voids"))
            self.opportunities.append((0.0, (  # units, not money: after the money steps
                f"Fix the {len(voids):,} void{'s' if len(voids) != 1 else ''} (stores that stopped selling a product "
                f"the chain sells): an estimated {fmt.number(voids['est_lost_units'].sum())} units lost")))
        return section


# The story a KAM tells, in order: where the account stands, the plan, the pipeline, promotions, availability
# (and stores where the account reports them), its products, what it could add, then what to do next. The
# next steps come last because, without an account plan, they are drawn from the sections before.
SECTIONS: tuple[Callable[[_Collector], Section | None], ...] = (
    _Collector.key_figures, _Collector.plan, _Collector.pipeline, _Collector.promotions, _Collector.inventory,
    _Collector.distribution, _Collector.skus, _Collector.white_space, _Collector.objectives)


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


def names_of(engine: Engine) -> dict[str, dict[str, str]]:
    """{id column: {id: name}} of retailers, products and (where loaded) stores: what a sheet shows for an id."""
    out = {}
    for column, frame in (("retailer_id", scopes.retailers(engine)), ("sku_id", scopes.products(engine))):
        out[column] = {k: v for k, v in zip(frame[column], frame[ID_NAMES[column]]) if isinstance(v, str) and v}
    if engine.has("stores"):
        stores = engine.execute(engine.table("stores").select("store_id", "store_name"))
        out["store_id"] = {k: v for k, v in zip(stores["store_id"], stores["store_name"]) if isinstance(v, str) and v}
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
    pack.names = names_of(engine)
    pack.definitions = definitions_of([t for s in pack.sections for t in s.terms])
    return pack


def file_name(retailer_id: str, retailer_name: str, start: dt.date | None, end: dt.date | None, fmt_: str) -> str:
    """'review-R001-fresh-pharmacy-2026-01-05-to-2026-11-16.pptx': safe on every file system."""
    slug = "".join(ch if ch.isalnum() else "-" for ch in f"{retailer_id}-{retailer_name}".lower())
    slug = "-".join(part for part in slug.split("-") if part)[:60]
    dates = f"-{start:%Y-%m-%d}-to-{end:%Y-%m-%d}" if start and end else ""
    return f"review-{slug}{dates}.{fmt_}"


