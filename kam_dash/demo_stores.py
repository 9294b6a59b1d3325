"""Store-level chains written by DuckDB SQL, for sizes pandas cannot hold: the `stores200m` demo scale.

`kam-dash demo --scale stores200m` builds the default demo and adds a few store-level retailers with thousands of
stores each (over 200M `sell_out_store` rows over the demo's weeks). The rows never pass through Python: every
value comes from DuckDB's `hash()` of (seed, what, store, SKU, week), so the same seed gives the same tables, and
the build works in week batches under a memory limit (KAM_DASH_DUCKDB_MEMORY_LIMIT, default 2500MB), spilling to a
temporary folder beside the database.

What the chains are:
- stores: formats hypermarket / supermarket / express (20 / 55 / 25%) with their relative size as acv_weight;
  one store in 15 opens late (open_date, no rows before) and one in 15 closes (close_date, no rows after);
- range: a hypermarket carries every SKU, a supermarket 90% and an express store 60% of them (drawn per store);
  a store x SKU it does not carry has no rows; SKUs keep their listed weeks (`truth.sku_life`);
- units: the SKU's rate per unit of store size x acv_weight x season (+-25% over the year) x noise uniform in
  0.6..1.4, rounded; a store x SKU x week that rounds to 0 has no row (slow lines of small stores miss weeks);
- planted, per chain, in stores open throughout and SKUs selling at least 3 units a week there: voids (nothing
  sold for 6 to 20 weeks, or to the end; `truth.voids`) and as many decoy gaps of 2 or 3 weeks.
The chain rows in `sell_out` are the rollup the importer writes (`ingest.roll_up_stores`), so chain pages read
them as for any retailer. The chains have no sell-in, stock or targets (`truth.sell_out_only`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from kam_dash import config

MEMORY_LIMIT_DEFAULT = "2500MB"
WEEK_BATCH = 13  # weeks written per INSERT: bounds the memory of one statement and keeps rows in week order
FORMAT_MIX = (("hypermarket", 0.20, 1.8, 1.0), ("supermarket", 0.55, 1.0, 0.9), ("express", 0.25, 0.45, 0.6))
# (format, share of stores, relative size, share of the range carried)
CHAIN_NAMES = ("Grand Union Markets", "Northway Stores", "Cityline Grocers", "Harvest Hypermarkets")
VOID_MIN_WEEKS, VOID_MAX_WEEKS = 6, 20
FIRST_PLANT_WEEK = 40  # voids and gaps start after this many weeks of selling
FAST_UNITS = 3.0  # planted only where the store sells at least this many units a week at the season's low


@dataclass(frozen=True)
class StoreChains:
    stores: tuple[int, ...]  # stores per added retailer
    voids: int = 20  # planted voids per retailer (and as many decoy gaps)
    first_retailer: int = 901  # retailer ids R901, R902, ...


# scale -> (the pandas demo scale it extends, the chains added in SQL)
SCALES = {"stores200m": ("default", StoreChains(stores=(5000, 3500, 2300)))}


def memory_limit(environ: dict[str, str] | None = None) -> str:
    """The build's DuckDB memory limit: KAM_DASH_DUCKDB_MEMORY_LIMIT, else MEMORY_LIMIT_DEFAULT."""
    return config.duckdb_memory_limit(environ) or MEMORY_LIMIT_DEFAULT


def limit_memory(con: duckdb.DuckDBPyConnection, temp_dir: Path) -> None:
    """Keep a big build inside the memory limit: spill to temp_dir, and let inserts reorder rows (no buffering)."""
    temp_dir.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit = '{memory_limit()}'")
    con.execute("SET temp_directory = '" + str(temp_dir).replace("'", "''") + "'")
    con.execute("SET preserve_insertion_order = false")


def _u(tag: int, *cols: str) -> str:
    """SQL for a uniform number in [0, 1) from the hash of (seed, tag, cols): deterministic noise."""
    return f"(hash($seed, {tag}, {', '.join(cols)})::DOUBLE / 18446744073709551616.0)"


def add_store_chains(con: duckdb.DuckDBPyConnection, chains: StoreChains, weeks: list[dt.date], seed: int,
                     progress: Callable[[str, float], None] | None = None) -> dict[str, int]:
    """Add the chains to a demo database open in `con` (products loaded): retailers, stores, sell_out_store, the
    chain rollup in sell_out and the planted truth. Returns the rows added per table."""
    say = progress or (lambda stage, frac: None)
    W = len(weeks)
    if W < FIRST_PLANT_WEEK + VOID_MIN_WEEKS + 1:
        raise ValueError(f"store chains need at least {FIRST_PLANT_WEEK + VOID_MIN_WEEKS + 1} weeks, not {W}")
    ids = [f"R{chains.first_retailer + i:03d}" for i in range(len(chains.stores))]
    p = {"seed": seed}
    con.register("kam_weeks_in", pd.DataFrame({"w": range(W), "week": pd.to_datetime(weeks)}))
    # season: +-25% over the year, high in mid-July (the week's Thursday sets the day of year)
    con.execute("CREATE OR REPLACE TEMP TABLE kam_weeks AS SELECT w::INTEGER AS w, week::DATE AS week, "
                "1 + 0.25 * cos(2 * pi() * (dayofyear(week::DATE + 3) - 196) / 365.25) AS season FROM kam_weeks_in")
    con.unregister("kam_weeks_in")
    con.register("kam_chains_in", pd.DataFrame({
        "c": range(len(ids)), "retailer_id": ids, "n_stores": chains.stores,
        "retailer_name": [CHAIN_NAMES[i % len(CHAIN_NAMES)] for i in range(len(ids))]}))
    con.execute("CREATE OR REPLACE TEMP TABLE kam_chains AS SELECT * FROM kam_chains_in")
    con.unregister("kam_chains_in")
    fmt_case = _cases([(share, name) for name, share, _, _ in FORMAT_MIX], _u(1, "c", "i"))
    size = " ".join(f"WHEN '{name}' THEN {rel}" for name, _, rel, _ in FORMAT_MIX)
    carry = " ".join(f"WHEN '{name}' THEN {share}" for name, _, _, share in FORMAT_MIX)
    say("store chains: stores", 0.0)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE kam_stores_raw AS
        SELECT c, retailer_id, retailer_name, i, {fmt_case} AS format, {_u(3, 'c', 'i')} AS status,
               {_u(4, 'c', 'i')} AS when_u, {_u(2, 'c', 'i')} AS size_u, {_u(5, 'c', 'i')} AS region_u
        FROM (SELECT c, retailer_id, retailer_name, unnest(range(n_stores)) AS i FROM kam_chains)""", p)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE kam_stores AS
        SELECT row_number() OVER (ORDER BY c, i) AS store_key, c, retailer_id,
               retailer_id || '-S' || lpad((i + 1)::VARCHAR, 4, '0') AS store_id,
               retailer_name || ' #' || (i + 1)::VARCHAR AS store_name,
               ['North', 'South', 'East', 'West'][1 + floor(region_u * 4)::INTEGER] AS region, format,
               round((CASE format {size} END) * (0.75 + 0.5 * size_u), 2) AS acv_weight,
               CASE format {carry} END AS carry,
               CASE WHEN status < 1 / 15 THEN {W // 4} + floor(when_u * {W // 4})::INTEGER ELSE 0 END AS open_w,
               CASE WHEN status >= 1 / 15 AND status < 2 / 15 THEN {W // 2} + floor(when_u * {W // 2 - 10})::INTEGER
                    ELSE {W} END AS close_w
        FROM kam_stores_raw""")
    con.execute("DROP TABLE kam_stores_raw")
    has_life = bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'truth' "
                                "AND table_name = 'sku_life'").fetchone()[0])
    life = ("LEFT JOIN truth.sku_life l USING (sku_id)" if has_life
            else "LEFT JOIN (SELECT NULL::VARCHAR AS sku_id, NULL::DATE AS first_week, NULL::DATE AS last_week) l "
                 "USING (sku_id)")
    # a SKU's rate: units a week in a store of size 1, log-uniform from 0.4 to 10
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE kam_skus AS
        SELECT row_number() OVER (ORDER BY p.sku_id) AS k, p.sku_id, coalesce(p.list_price, 2.0) * 1.35 AS price,
               0.4 * pow(25, {_u(6, 'p.sku_id', '0')}) AS rate,
               coalesce((SELECT min(w) FROM kam_weeks x WHERE x.week >= l.first_week), 0) AS first_w,
               coalesce((SELECT max(w) FROM kam_weeks x WHERE x.week <= l.last_week), {W - 1}) AS last_w
        FROM main.products p {life}""", p)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE kam_carried AS
        SELECT s.store_key, k.k FROM kam_stores s, kam_skus k WHERE {_u(7, 's.store_key', 'k.k')} < s.carry""", p)
    # planted: per chain, store x SKU pairs that surely sell (steady store, listed throughout, fast enough even at
    # the season's low), in hash order: the first `voids` get a void, the next as many a 2-3 week gap
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE kam_planted AS
        WITH eligible AS (
            SELECT s.c, s.store_key, k.k, row_number() OVER (PARTITION BY s.c ORDER BY {_u(8, 's.store_key', 'k.k')})
                   AS n, {_u(9, 's.store_key', 'k.k')} AS start_u, {_u(10, 's.store_key', 'k.k')} AS end_u,
                   {_u(11, 's.store_key', 'k.k')} AS len_u
            FROM kam_carried cr JOIN kam_stores s USING (store_key) JOIN kam_skus k USING (k)
            WHERE s.open_w = 0 AND s.close_w = {W} AND k.first_w = 0 AND k.last_w = {W - 1}
              AND k.rate * s.acv_weight * 0.75 * 0.6 >= {FAST_UNITS})
        SELECT c, store_key, k, n <= $voids AS is_void,
               CASE WHEN n <= $voids THEN {FIRST_PLANT_WEEK} + floor(start_u * {W - VOID_MIN_WEEKS - FIRST_PLANT_WEEK})
                    ELSE {FIRST_PLANT_WEEK} + floor(start_u * {W - 4 - FIRST_PLANT_WEEK}) END::INTEGER AS w0,
               CASE WHEN n > $voids THEN w0 + 1 + floor(len_u * 2)::INTEGER
                    WHEN end_u < 0.3 THEN {W - 1}
                    ELSE least({W - 1}, w0 + {VOID_MIN_WEEKS - 1}
                               + floor(len_u * {VOID_MAX_WEEKS - VOID_MIN_WEEKS + 1})::INTEGER) END AS w1
        FROM eligible WHERE n <= 2 * $voids""", {**p, "voids": chains.voids})
    units = (f"floor(k.rate * s.acv_weight * w.season * (0.6 + 0.8 * {_u(12, 'cr.store_key', 'cr.k', 'w.w')}) "
             "+ 0.5)")
    for a in range(0, W, WEEK_BATCH):
        say(f"store chains: weeks {a + 1}-{min(W, a + WEEK_BATCH)} of {W}", a / W)
        con.execute(f"""
            INSERT INTO main.sell_out_store (week, retailer_id, sku_id, store_id, sales_channel, units, sales_value,
                                            stores_selling, promo_flag)
            SELECT week, retailer_id, sku_id, store_id, 'store', units, round(units * price, 2), NULL, FALSE
            FROM (SELECT w.week, s.retailer_id, k.sku_id, s.store_id, k.price, {units} AS units
                  FROM kam_carried cr JOIN kam_stores s USING (store_key) JOIN kam_skus k USING (k)
                  JOIN kam_weeks w ON w.w >= $a AND w.w < $b AND w.w >= s.open_w AND w.w < s.close_w
                                  AND w.w >= k.first_w AND w.w <= k.last_w
                  LEFT JOIN kam_planted pl ON pl.store_key = cr.store_key AND pl.k = cr.k
                  WHERE pl.store_key IS NULL OR w.w NOT BETWEEN pl.w0 AND pl.w1)
            WHERE units > 0""", {**p, "a": a, "b": a + WEEK_BATCH})
    say("store chains: the chain rollup", 0.95)
    con.execute("""
        INSERT INTO main.retailers (retailer_id, retailer_name, channel, region, kam, store_count, strategic_priority,
                                    woc_min, woc_max)
        SELECT retailer_id, retailer_name, 'grocery', 'National', 'Avery Chen', n_stores, 2, 2.0, 6.0
        FROM kam_chains""")
    con.execute("""
        INSERT INTO main.stores (store_id, retailer_id, store_name, region, format, acv_weight, open_date, close_date)
        SELECT store_id, retailer_id, store_name, region, format, acv_weight,
               (SELECT week FROM kam_weeks WHERE w = open_w AND open_w > 0),
               (SELECT week - INTERVAL 1 DAY FROM kam_weeks WHERE w = close_w)::DATE
        FROM kam_stores ORDER BY store_key""")
    from kam_dash import ingest  # here: ingest imports the schema and more than a demo build needs up front

    con.execute("CREATE OR REPLACE TEMP VIEW kam_incoming AS SELECT DISTINCT retailer_id, week, sales_channel "
                "FROM main.sell_out_store WHERE retailer_id IN (SELECT retailer_id FROM kam_chains)")
    ingest.roll_up_stores(con, "sell_out_store")
    con.execute("DROP VIEW kam_incoming")
    truth = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                       "WHERE table_schema = 'truth'").fetchall()}
    if "voids" in truth:
        con.execute("""
            INSERT INTO truth.voids (retailer_id, store_id, sku_id, first_week, last_week)
            SELECT s.retailer_id, s.store_id, k.sku_id, a.week, b.week
            FROM kam_planted pl JOIN kam_stores s USING (store_key) JOIN kam_skus k USING (k)
            JOIN kam_weeks a ON a.w = pl.w0 JOIN kam_weeks b ON b.w = pl.w1 WHERE pl.is_void""")
    if "sell_out_only" in truth:
        con.execute("INSERT INTO truth.sell_out_only (retailer_id, has_targets, has_inventory) "
                    "SELECT retailer_id, FALSE, FALSE FROM kam_chains")
    counts = {name: con.execute(f"SELECT count(*) FROM main.{name} WHERE retailer_id IN "
                                "(SELECT retailer_id FROM kam_chains)").fetchone()[0]
              for name in ("stores", "sell_out_store", "sell_out")}
    counts["truth.voids"] = con.execute("SELECT count(*) FROM kam_planted WHERE is_void").fetchone()[0]
    for name in ("kam_weeks", "kam_chains", "kam_stores", "kam_skus", "kam_carried", "kam_planted"):
        con.execute(f"DROP TABLE {name}")
    return counts


def _cases(shares: list[tuple[float, str]], u: str) -> str:
    """CASE picking a name by a uniform number u, each with its share."""
    parts, upto = [], 0.0
    for share, name in shares[:-1]:
        upto += share
        parts.append(f"WHEN {u} < {upto!r} THEN '{name}'")
    return "CASE " + " ".join(parts) + f" ELSE '{shares[-1][1]}' END"
