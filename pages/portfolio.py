"""Portfolio: how is the portfolio doing? (leadership)"""

import streamlit as st

from kam_dash import fmt, ui
from kam_dash.charts import share as share_charts
from kam_dash.metrics import share

engine = ui.engine()
filters = ui.current_filters()
if ui.page_header("Portfolio", engine, filters):
    shares = ui.compute(share.revenue_share, filters)
    kpis = share.portfolio_kpis(engine, filters, shares)

    c1, c2, c3, c4 = st.columns(4)
    ui.tile(c1, "Net sales", fmt.money(kpis["net_sales"]), help=share.DEFINITIONS["Net sales"])
    ui.tile(c2, "Sell-out value", fmt.money(kpis["sell_out_value"]), help=share.DEFINITIONS["Sell-out value"])
    ui.tile(c3, "Plan attainment", fmt.pct(kpis["attainment"]),
            delta=fmt.pct(None if kpis["attainment"] is None else kpis["attainment"] - 1, signed=True),
            help="Net sales / target of the same weeks")
    ui.tile(c4, "Growth vs last year", fmt.pct(kpis["yoy_growth"], signed=True),
            help=share.DEFINITIONS["Growth vs last year"])
    ui.missing_note(engine, ["sell_in"], "Net sales, share and growth")
    ui.missing_note(engine, ["targets"], "Plan attainment")
    if filters.brands:
        st.info("Targets are set by retailer and category, so plan figures are hidden under a brand filter.")

    if shares["net_sales"].notna().any():
        left, right = st.columns(2)
        left.plotly_chart(share_charts.net_sales_vs_plan(shares), key="net_sales_vs_plan")
        right.plotly_chart(share_charts.pareto(shares), key="pareto")
    elif shares.empty:
        st.info("No retailer has data in this period with these filters.")

    st.subheader("Revenue share by retailer")
    ui.table(shares, {
        "net_sales": lambda v: fmt.money(v, compact=False), "net_sales_ly": lambda v: fmt.money(v, compact=False),
        "sell_out_value": lambda v: fmt.money(v, compact=False),
        "net_sales_target": lambda v: fmt.money(v, compact=False),
        "share": fmt.pct, "cum_share": fmt.pct, "sell_out_share": fmt.pct, "attainment": fmt.pct,
        "yoy_growth": lambda v: fmt.pct(v, signed=True),
    }, key="share_table")
    st.download_button("Download revenue share (CSV)", shares.to_csv(index=False), "revenue-share.csv",
                       "text/csv", key="download_share")
    ui.definitions(share.DEFINITIONS)
