"""Account review: one retailer, for the KAM preparing its review."""

import streamlit as st

from kam_dash import calendar, freshness, fmt, ui
from kam_dash.charts import account as charts
from kam_dash.metrics import account, plan, share

MONEY = lambda v: fmt.money(v, compact=False)  # noqa: E731 - a formatter, named for the tables below
SIGNED = lambda v: fmt.pct(v, signed=True)  # noqa: E731
# Table headings for the white-space and SKU columns, and how each is formatted.
HEADINGS = {"category": ("Category", None), "retailer_sales": ("Net sales", MONEY),
            "retailer_share": ("Share of retailer", fmt.pct), "portfolio_share": ("Share of portfolio", fmt.pct),
            "opportunity": ("Opportunity", MONEY), "sku_name": ("Product", None), "net_sales": ("Net sales", MONEY),
            "net_sales_ly": ("Net sales last year", MONEY), "growth": ("Growth vs last year", SIGNED),
            "contribution": ("Contribution", lambda v: fmt.pct(v, 2, signed=True)),
            "sell_out_value": ("Sell-out", MONEY), "store_value": ("Store", MONEY), "online_value": ("Online", MONEY),
            "sell_out_value_ly": ("Sell-out last year", MONEY),
            "sell_out_growth": ("Sell-out growth vs last year", SIGNED)}


def table(frame, columns, key):
    ui.table(frame[columns].rename(columns={c: HEADINGS[c][0] for c in columns}),
             {HEADINGS[c][0]: HEADINGS[c][1] for c in columns if HEADINGS[c][1]}, key=key)


engine = ui.engine()
filters = ui.current_filters()
if ui.page_header("Account review", engine, filters, tables=("sell_in", "sell_out")):
    rid, names = ui.account_picker(engine, filters)
    if rid is None:
        st.stop()

    data = ui.compute(account.account_page_data, filters, account=rid)
    r, k = data.retailer, data.kpis
    st.subheader(fmt.md_text(r["retailer_name"]))
    st.caption(f"{fmt.md_text(r['retailer_id'])} · channel **{fmt.md_text(r['channel'])}** · region "
               f"{fmt.md_text(r['region'])} · KAM **{fmt.md_text(r['kam'])}** · "
               f"strategic priority {fmt.number(r['strategic_priority'])} · {account.period_label(engine, filters)}")
    if data.missing:
        st.info(f"{fmt.md_text(r['retailer_name'])} has {'; '.join(data.missing)}. The parts that need it are left out.",
                icon=":material/info:")
    ui.review_pack_download(engine, filters, rid)
    ui.account_objectives(engine, filters, rid)

    on_sell_out = k["basis"] == "sell_out"
    if on_sell_out:
        st.caption(f"{fmt.md_text(r['retailer_name'])} has no sell-in in this period: its growth, attainment (against the "
                   "sell-out target), SKUs and category mix are of sell-out value.")
    if k["unreported_weeks"]:
        st.caption(f"Sell-out figures skip {k['unreported_weeks']} week{'s' if k['unreported_weeks'] != 1 else ''} "
                   f"of this period that {fmt.md_text(r['retailer_name'])} did not report (left out, never read as 0).")
    c = st.columns(6)
    ui.tile(c[0], "Net sales", fmt.money(k["net_sales"]), SIGNED(k["yoy_growth"]) + " vs last year"
            if k["yoy_growth"] is not None else None, help=share.DEFINITIONS["Net sales"])
    ui.tile(c[1], "Plan attainment", fmt.pct(k["attainment"]), None if k["attainment"] is None else
            f"{fmt.pct(k['attainment'] - 1, signed=True)} vs plan", help=share.DEFINITIONS["Basis"] if on_sell_out
            else plan.DEFINITIONS["Plan attainment"])
    ui.tile(c[2], "Sell-out value", fmt.money(k["sell_out_value"]), SIGNED(k["sell_out_growth"]) + " vs last year"
            if k["sell_out_growth"] is not None else None, help=share.DEFINITIONS["Sell-out value"])
    ui.tile(c[3], "Gross margin", fmt.pct(k["margin_pct"]), help=account.DEFINITIONS["Gross margin"])
    ui.tile(c[4], f"Landing {data.landing_year}", fmt.money(k["landing_estimate"]),
            fmt.money(k["landing_gap"]) + " vs plan" if k["landing_gap"] is not None else None,
            help=plan.DEFINITIONS["Landing estimate"])
    ui.tile(c[5], "Online share", fmt.pct(k["online_share"]), help=account.DEFINITIONS["Store vs online"])
    ui.store_tiles(engine, filters, rid)  # where the account reports POS by store

    if data.monthly["actual"].notna().any() or data.monthly["target"].notna().any():
        st.plotly_chart(charts.monthly_vs_target(data.monthly, data.landing_year), key="monthly")
    else:
        st.info(f"No net sales or targets for {data.landing_year}.")

    if data.pipeline[["sell_in_units", "sell_out_units"]].notna().any().any():
        st.plotly_chart(charts.pipeline(data.pipeline), key="pipeline")
        if data.pipeline["cum_pipeline_units"].isna().all():
            st.caption("Pipeline fill needs both sell-in and sell-out for this retailer.")

    st.subheader("Category mix and white space")
    ws = data.white_space
    if ws.empty or ws["retailer_share"].isna().all():
        st.info(f"{fmt.md_text(r['retailer_name'])} has no positive net sales in this period to compare with the portfolio.")
    else:
        left, right = st.columns(2)
        left.plotly_chart(charts.category_mix(ws, r["retailer_name"]), key="category_mix")
        with right:
            table(ws, ["category", "opportunity", "retailer_share", "portfolio_share", "retailer_sales"],
                  "white_space")

    st.subheader("SKUs: top and bottom" + (" (sell-out value)" if on_sell_out else ""))
    if data.skus["growth"].notna().any():
        by = st.segmented_control("Rank by", ["growth", "contribution"], default="growth", key="sku_rank",
                                  format_func={"growth": "Growth", "contribution": "Contribution to change"}.get)
        top, bottom = account.top_bottom(data.skus, by or "growth")
        # sell-out leads, beside net sales; the store / online split and last year's values are in the CSV
        cols = (["sku_name", "sell_out_value", "growth", "contribution"] if on_sell_out
                else ["sku_name", "net_sales", "growth", "contribution", "sell_out_value", "sell_out_growth"])
        left, right = st.columns(2)
        with left:
            st.markdown("**Top**")
            table(top, cols, "sku_top")
        with right:
            st.markdown("**Bottom**")
            table(bottom, cols, "sku_bottom")
        st.download_button("Download every SKU of the account (CSV)", ui.csv_bytes(data.skus),
                           f"skus-{rid}.csv", "text/csv", key="sku_download")
    else:
        st.info(f"No SKU of {r['retailer_name']} has sales in both this period's weeks and their last year.")

    if data.channels["online"].sum() > 0 and data.channels["store"].sum() > 0:
        st.subheader("Store vs online")
        st.plotly_chart(charts.store_vs_online(data.channels), key="store_online")
    ui.definitions({**account.DEFINITIONS, **plan.DEFINITIONS, **share.DEFINITIONS, **freshness.DEFINITIONS,
                    **calendar.DEFINITIONS}, [*account.REVIEW_TERMS, "Landing estimate", "Basis",
                                              *freshness.DEFINITIONS, "Last year", "Period"])
