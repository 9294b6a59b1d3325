"""The data contract: the tables kam-dash reads, their columns, types, keys and checks.

One definition serves the importer (validation), the demo generator (DDL), the
docs (docs/DATA_MODEL.md) and the engines (which tables exist). Column names
used in queries come from here: nothing else is an allowed identifier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CHANNELS = ("grocery", "mass", "discount", "drug", "convenience", "club", "ecommerce", "wholesale", "other")
SALES_CHANNELS = ("store", "online")
MECHANICS = ("tpr", "multibuy", "bogo", "display", "feature", "other")

# Logical types -> DuckDB types.
SQL_TYPES = {"text": "VARCHAR", "date": "DATE", "int": "INTEGER", "float": "DOUBLE", "bool": "BOOLEAN"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # one of SQL_TYPES
    required: bool = True  # must be present in an import file
    nullable: bool = False  # may hold empty values
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    default: object = None  # value used when an optional column is absent or empty
    description: str = ""

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    description: str
    # columns that must name a known retailer / SKU
    references: dict[str, str] = field(default_factory=dict)
    weekly: bool = False  # has a `week` column; a daily `date` column is rolled up into it

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def ddl(self, schema: str = "main") -> str:
        cols = ", ".join(f'"{c.name}" {c.sql_type}' for c in self.columns)
        if self.weekly:
            # Weekly fact tables run to tens of millions of rows: a key index would make loading them
            # several times slower for no query benefit. The importer enforces their keys instead.
            return f'CREATE TABLE IF NOT EXISTS {schema}."{self.name}" ({cols})'
        key = ", ".join(f'"{k}"' for k in self.key)
        return f'CREATE TABLE IF NOT EXISTS {schema}."{self.name}" ({cols}, PRIMARY KEY ({key}))'


RETAILER_REF = {"retailer_id": "retailers"}
SKU_REF = {"sku_id": "products"}
BOTH_REFS = {**RETAILER_REF, **SKU_REF}

RETAILERS = Table(
    "retailers",
    (
        Column("retailer_id", "text", description="Retailer key"),
        Column("retailer_name", "text"),
        Column("channel", "text", allowed=CHANNELS),
        Column("region", "text"),
        Column("kam", "text", description="Key account manager who owns the account"),
        Column("store_count", "int", required=False, nullable=True, min=0),
        Column("strategic_priority", "int", required=False, nullable=True, min=1, max=5),
        Column("woc_min", "float", required=False, min=0, default=2.0, description="Agreed minimum weeks of cover"),
        Column("woc_max", "float", required=False, min=0, default=6.0, description="Agreed maximum weeks of cover"),
    ),
    key=("retailer_id",),
    description="One row per key account.",
)

PRODUCTS = Table(
    "products",
    (
        Column("sku_id", "text"),
        Column("sku_name", "text"),
        Column("brand", "text"),
        Column("category", "text"),
        Column("subcategory", "text", required=False, nullable=True),
        Column("unit_cost", "float", required=False, nullable=True, min=0),
        Column("list_price", "float", required=False, nullable=True, min=0),
    ),
    key=("sku_id",),
    description="One row per SKU we sell.",
)

SELL_IN = Table(
    "sell_in",
    (
        Column("week", "date"),
        Column("retailer_id", "text"),
        Column("sku_id", "text"),
        Column("units", "float", description="Units shipped; negative for returns"),
        Column("gross_sales", "float"),
        Column("net_sales", "float", description="After invoice discounts and credits; may be negative"),
    ),
    key=("week", "retailer_id", "sku_id"),
    description="Our shipments to each retailer (sell-in), by week.",
    references=BOTH_REFS,
    weekly=True,
)

SELL_OUT = Table(
    "sell_out",
    (
        Column("week", "date"),
        Column("retailer_id", "text"),
        Column("sku_id", "text"),
        Column("sales_channel", "text", required=False, allowed=SALES_CHANNELS, default="store"),
        # Signs are checked together (ingest: a negative value with negative or empty units is a net return;
        # opposite signs are refused), so neither column has a minimum of its own.
        Column("units", "float", required=False, nullable=True,
               description="Units sold to shoppers; may be absent or empty when the retailer reports value only"),
        Column("sales_value", "float"),
        Column("stores_selling", "int", required=False, nullable=True, min=0),
        Column("promo_flag", "bool", required=False, nullable=True),
    ),
    key=("week", "retailer_id", "sku_id", "sales_channel"),
    description="Retailer point-of-sale (sell-out), by week. A missing week sold 0 units.",
    references=BOTH_REFS,
    weekly=True,
)

INVENTORY = Table(
    "inventory",
    (
        Column("week", "date"),
        Column("retailer_id", "text"),
        Column("sku_id", "text"),
        Column("on_hand_units", "float", min=0, description="End of week, retailer DC plus stores"),
    ),
    key=("week", "retailer_id", "sku_id"),
    description="Retailer stock at the end of each week.",
    references=BOTH_REFS,
    weekly=True,
)

STORES = Table(
    "stores",
    (
        Column("store_id", "text", description="Store key, unique across retailers"),
        Column("retailer_id", "text", description="The retailer the store belongs to"),
        Column("store_name", "text"),
        Column("region", "text", required=False, nullable=True),
        Column("format", "text", required=False, nullable=True,
               description="Store format (e.g. hypermarket, supermarket); voids compare stores of one format"),
        Column("acv_weight", "float", required=False, min=0, default=1.0,
               description="All-commodity volume or size; above 0; weights %ACV distribution"),
        Column("open_date", "date", required=False, nullable=True, description="First day open, if known"),
        Column("close_date", "date", required=False, nullable=True, description="Last day open, if known"),
    ),
    key=("store_id",),
    description="One row per store of a retailer that reports point of sale by store.",
    references=RETAILER_REF,
)

STORE_REF = {"store_id": "stores"}


def _store_level(chain: Table, name: str, description: str) -> Table:
    """A chain table's store-level twin: the same columns and a store_id, keyed by store too."""
    store = Column("store_id", "text", description="The store (see `stores`); its retailer must be the row's")
    columns = (*chain.columns[:3], store, *chain.columns[3:])
    return Table(name, columns, key=(*chain.key, "store_id"), description=description,
                 references={**chain.references, **STORE_REF}, weekly=True)


SELL_OUT_STORE = _store_level(
    SELL_OUT, "sell_out_store",
    "Point of sale by store, by week. Each import of store rows also rebuilds the retailer's chain rows in "
    "`sell_out` for those weeks and channels as the sum of its stores.")
INVENTORY_STORE = _store_level(
    INVENTORY, "inventory_store",
    "Stock by store at the end of each week. Each import also rebuilds the retailer's `inventory` rows for "
    "those weeks as the sum of its stores.")
# A sell_out or inventory file with a store_id column holds store rows: it loads into the store-level twin.
STORE_LEVEL = {"sell_out": "sell_out_store", "inventory": "inventory_store"}

PROMOTIONS = Table(
    "promotions",
    (
        Column("promo_id", "text"),
        Column("retailer_id", "text"),
        Column("sku_id", "text"),
        Column("start_date", "date"),
        Column("end_date", "date", description="Inclusive; not before start_date"),
        Column("mechanic", "text", allowed=MECHANICS),
        Column("discount_pct", "float", required=False, nullable=True, min=0, max=100),
        Column("trade_spend", "float", required=False, nullable=True, min=0),
        Column("planned_incremental_units", "float", required=False, nullable=True),
    ),
    key=("promo_id",),
    description="Promotion events, one retailer x SKU each.",
    references=BOTH_REFS,
)

TARGETS = Table(
    "targets",
    (
        Column("retailer_id", "text"),
        Column("month", "date", description="First day of the month"),
        Column("category", "text", required=False, default="", description="Empty = all categories"),
        Column("net_sales_target", "float"),
        Column("sell_out_target", "float", required=False, nullable=True),
        Column("units_target", "float", required=False, nullable=True),
    ),
    key=("retailer_id", "month", "category"),
    description="Monthly plan per retailer (and optionally per category).",
    references=RETAILER_REF,
)

TABLES: dict[str, Table] = {t.name: t for t in (RETAILERS, PRODUCTS, STORES, SELL_IN, SELL_OUT, SELL_OUT_STORE,
                                                 INVENTORY, INVENTORY_STORE, PROMOTIONS, TARGETS)}
FACT_TABLES = ("sell_in", "sell_out", "inventory", "promotions", "targets")
# Loading order: dimensions first so facts can reference them; store rows after chain rows, so that the chain
# rollup they rebuild wins over a chain row of the same retailer, week and channel in the same import.
LOAD_ORDER = ("retailers", "products", "stores", "sell_in", "sell_out", "sell_out_store", "inventory",
              "inventory_store", "promotions", "targets")

# The demo generator's planted truth; not part of the import contract.
TRUTH_DDL = {
    "promo_lift": "CREATE TABLE truth.promo_lift (promo_id VARCHAR PRIMARY KEY, true_incremental_units DOUBLE, "
    "true_lift_pct DOUBLE, true_post_dip_units DOUBLE)",
    "seasonality": "CREATE TABLE truth.seasonality (category VARCHAR, grain VARCHAR, period INTEGER, "
    '"index" DOUBLE, PRIMARY KEY (category, grain, period))',
    "lost_sales": "CREATE TABLE truth.lost_sales (retailer_id VARCHAR, sku_id VARCHAR, week DATE, "
    "lost_units DOUBLE, PRIMARY KEY (retailer_id, sku_id, week))",
    "phantom": "CREATE TABLE truth.phantom (retailer_id VARCHAR, sku_id VARCHAR, week DATE, "
    "PRIMARY KEY (retailer_id, sku_id, week))",
    "retailer_trend": "CREATE TABLE truth.retailer_trend (retailer_id VARCHAR PRIMARY KEY, annual_growth DOUBLE)",
    # The demo's real-world mess: late POS, missed POS weeks, an account without sell-in, range churn.
    "sell_out_lag": "CREATE TABLE truth.sell_out_lag (retailer_id VARCHAR PRIMARY KEY, lag_weeks INTEGER)",
    "unreported_weeks": "CREATE TABLE truth.unreported_weeks (retailer_id VARCHAR, week DATE, kind VARCHAR, "
    "after_promotion BOOLEAN, PRIMARY KEY (retailer_id, week))",
    "sell_out_only": "CREATE TABLE truth.sell_out_only (retailer_id VARCHAR PRIMARY KEY, has_targets BOOLEAN, "
    "has_inventory BOOLEAN)",
    # Store-level POS: a store x SKU that stopped selling while the rest of the chain sold it.
    "voids": "CREATE TABLE truth.voids (retailer_id VARCHAR, store_id VARCHAR, sku_id VARCHAR, first_week DATE, "
    "last_week DATE, PRIMARY KEY (store_id, sku_id, first_week))",
    "sku_life": "CREATE TABLE truth.sku_life (sku_id VARCHAR PRIMARY KEY, first_week DATE, last_week DATE)",
}


def quote_ident(name: str) -> str:
    """An SQL identifier, quoted. Only names from this module are ever passed (the allow-list)."""
    return '"' + name.replace('"', '""') + '"'


def create_all(con, with_truth: bool = False) -> None:
    """Create every contract table (and the truth schema) on a DuckDB connection."""
    for name in LOAD_ORDER:
        con.execute(TABLES[name].ddl())
    if with_truth:
        con.execute("CREATE SCHEMA IF NOT EXISTS truth")
        for ddl in TRUTH_DDL.values():
            con.execute(ddl)
