"""Distribution & stores: in how many stores we sell, how fast, and where a store stopped selling (voids)."""

import streamlit as st

from kam_dash import fmt, scope, ui
from kam_dash.charts import stores as charts
from kam_dash.metrics import stores

MONEY = lambda v: fmt.money(v, compact=False)  # noqa: E731 - a formatter, named for the tables below
VOID_HEADINGS = {"retailer": "Retailer", "store_name": "Store", "format": "Format", "sku_name": "Product",
                 "first_week": "Since week", "weeks": "Weeks", "still_open": "Still void",
                 "est_lost_units": "Estimated lost units", "phantom": "Stock on hand"}
STORE_HEADINGS = {"retailer": "Retailer", "rank": "Rank", "store_name": "Store", "format": "Format",
                  "region": "Region", "sell_out": "Sell-out", "sell_out_ly": "Sell-out last year",
                  "lfl_growth": "Like-for-like growth", "skus_carried": "SKUs carried"}


def week_text(value):
    return fmt.DASH if value is None or value != value else f"{value:%d %b %Y}"


engine = ui.engine()
filters = ui.current_filters()
caption = ("Store-level point of sale: distribution and velocity per SKU, voids (a store that stopped selling "
           "a SKU the rest of the chain sells) and the store ranking. Chain pages read the stores' total.")
if ui.page_header("Distribution & stores", engine, filters, caption, tables=("sell_out",)) and ui.missing_note(
        engine, ["sell_out_store"], "Distribution & stores"):
    data = ui.compute(stores.page_data, filters)
    if data is None or data.distribution.empty:
        st.info("No store-level sell-out matches the sidebar filters in this period.", icon=":material/info:")
        st.stop()
    names = dict(zip(scope.retailers(engine)["retailer_id"], scope.retailers(engine)["retailer_name"]))
    d, skus, voids = data.distribution, data.skus, data.voids
    c = st.columns(7)
    ui.tile(c[0], "Stores reporting", fmt.number(len(data.stores)), help=stores.DEFINITIONS["Store open"])
    ui.tile(c[1], "Numeric distribution", fmt.pct(d["stores_selling"].sum() / d["stores_open"].sum()),
            help=stores.DEFINITIONS["Numeric distribution"])
    ui.tile(c[2], "%ACV (mean of SKUs)", fmt.pct(skus["acv_distribution"].mean()),
            help=stores.DEFINITIONS["ACV-weighted distribution (%ACV)"])
    ui.tile(c[3], "Velocity", fmt.number(d["units"].sum() / max(d["stores_selling"].sum(), 1), 1) + " u/store/wk",
            help=stores.DEFINITIONS["Velocity"])
    ui.tile(c[4], "Voids", fmt.number(len(voids)), help=stores.DEFINITIONS["Void"])
    ui.tile(c[5], "Est. lost units", fmt.number(voids["est_lost_units"].sum() if len(voids) else 0),
            help=stores.DEFINITIONS["Estimated lost units"])
    ui.tile(c[6], "Like-for-like growth", fmt.pct(stores.like_for_like_growth(data.stores), signed=True),
            help=stores.DEFINITIONS["Like-for-like growth"])

    left, right = st.columns(2)
    left.plotly_chart(charts.quadrant(skus, names), key="stores_quadrant")
    right.plotly_chart(charts.trend(data.tdp_retailer, names), key="stores_trend")

    st.subheader("Voids, by estimated lost sales")
    if voids.empty:
        st.info("No void in this period: every store that sold a SKU kept selling it while the chain did.")
    else:
        shown = voids.assign(retailer=voids["retailer_id"].map(names),
                             sku_name=voids["sku_id"].map(dict(zip(skus["sku_id"], skus["sku_name"])))
                             .fillna(voids["sku_id"]))
        if not data.store_stock:
            shown = shown.drop(columns="phantom")
        cols = [c for c in VOID_HEADINGS if c in shown]
        ui.table(shown[cols].rename(columns=VOID_HEADINGS),
                 {"Since week": week_text, "Estimated lost units": fmt.number,
                  "Still void": lambda v: "yes" if v else "no",
                  "Stock on hand": lambda v: "yes (phantom)" if v is True else ("no" if v is False else fmt.DASH)},
                 key="stores_voids", height=320)
        st.download_button("Download the voids (CSV)", ui.csv_bytes(voids[stores.VOID_COLUMNS]), "voids.csv",
                           "text/csv", key="stores_voids_download")

    st.subheader("Stores")
    table = data.stores.assign(retailer=data.stores["retailer_id"].map(names))
    ui.table(table[list(STORE_HEADINGS)].rename(columns=STORE_HEADINGS),
             {"Sell-out": MONEY, "Sell-out last year": MONEY,
              "Like-for-like growth": lambda v: fmt.pct(v, signed=True)},
             key="stores_table", height=360)
    st.download_button("Download the store table (CSV)", ui.csv_bytes(data.stores), "stores.csv", "text/csv",
                       key="stores_table_download")
    ui.definitions(stores.DEFINITIONS)
