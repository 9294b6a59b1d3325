"""Portfolio: how is the portfolio doing? (leadership)"""

import streamlit as st

from kam_dash import fmt, ui
from kam_dash.charts import share as share_charts
from kam_dash.metrics import account, share

REVIEW = "pages/account_review.py"
HEALTH_ICON = {"red": ":material/error:", "amber": ":material/warning:"}
# The key-account table's columns and their headings.
COLUMNS = {"retailer_name": "Retailer", "tier": "Tier", "score": "Score", "health": "Health",
           "health_reason": "Why", "net_sales": "Net sales", "share": "Share", "yoy_growth": "Growth vs LY",
           "margin_pct": "Margin %", "strategic_priority": "Priority", "channel": "Channel"}
MONEY = lambda v: fmt.money(v, compact=False)  # noqa: E731 - a formatter, named for the tables below


def open_review(retailer_id):
    """Go to that retailer's account review, keeping the filters."""
    if retailer_id:
        st.switch_page(REVIEW, query_params={**filters.to_params(), "account": retailer_id})


def clicked(event):
    """The retailer id behind a clicked chart point (its customdata[0])."""
    points = event.selection.points if event else []
    return (points[0].get("customdata") or [None])[0] if points else None


engine = ui.engine()
filters = ui.current_filters()
if ui.page_header("Portfolio", engine, filters):
    data = ui.compute(account.portfolio_page_data, filters)
    shares, kpis = data.shares, data.kpis

    c1, c2, c3, c4, c5, c6 = st.columns(6)
    ui.tile(c1, "Net sales", fmt.money(kpis["net_sales"]), help=share.DEFINITIONS["Net sales"])
    ui.tile(c2, "Sell-out value", fmt.money(kpis["sell_out_value"]), help=share.DEFINITIONS["Sell-out value"])
    c3.metric("Gross margin", fmt.pct(kpis["gross_margin"]), help=account.DEFINITIONS["Gross margin"],
              delta=f"on {fmt.pct(kpis['cost_coverage'], 0)} of net sales" if kpis["cost_coverage"] else None,
              delta_color="off", delta_arrow="off")
    ui.tile(c4, "Plan attainment", fmt.pct(kpis["attainment"]),
            delta=fmt.pct(None if kpis["attainment"] is None else kpis["attainment"] - 1, signed=True),
            help="Net sales / target of the same weeks")
    ui.tile(c5, "Growth vs last year", fmt.pct(kpis["yoy_growth"], signed=True),
            help=share.DEFINITIONS["Growth vs last year"])
    ui.tile(c6, "Accounts off plan", f"{kpis['accounts_off_plan']} of {kpis['accounts_with_target']}"
            if kpis["accounts_with_target"] else fmt.DASH, help=account.DEFINITIONS["Accounts off plan"])
    ui.missing_note(engine, ["sell_in"], "Net sales, share and growth")
    ui.missing_note(engine, ["targets"], "Plan attainment")
    ui.missing_note(engine, ["products"], "Gross margin")
    if filters.brands:
        st.info("Targets are set by retailer and category, so plan figures are hidden under a brand filter.")
    if shares.empty:
        st.info("No retailer has data in this period with these filters.")
        st.stop()

    st.subheader("Key accounts")
    w = st.columns(6)
    weights = {col: w[i].number_input(f"Weight: {label}", 0.0, 1.0, account.DEFAULT_WEIGHTS[col], 0.05,
                                      key=f"w_{col}") for i, (col, label) in enumerate(account.COMPONENTS.items())}
    tiers = (w[4].number_input("Strategic: top %", 0, 100, account.DEFAULT_TIER_PCTS[0], 5, key="tier_strategic"),
             w[5].number_input("Key: next %", 0, 100, account.DEFAULT_TIER_PCTS[1], 5, key="tier_key"))
    try:
        scored = account.score_accounts(data.accounts, weights, tiers)
    except ValueError as exc:
        st.warning(f"{exc}; showing the default weights and tiers.")
        scored = account.score_accounts(data.accounts)

    st.markdown(" · ".join(f"**{tier} ({len(names)}):** {', '.join(map(fmt.md_text, names)) if len(names) <= 8 else 'see the table'}"
                           for tier, names in account.tier_members(scored).items()))
    attention = account.needing_attention(scored)
    if len(attention):
        st.markdown(f"**Needs attention ({len(attention)} of {len(scored)} accounts)** · click to open the review")
        for r in attention.head(10).itertuples():
            color = "red" if r.health == "red" else "orange"
            st.page_link(REVIEW, label=f"**{fmt.md_text(r.retailer_name)}** :{color}[{r.health}]: {r.health_reason}",
                         icon=HEALTH_ICON[r.health], query_params={**filters.to_params(), "account": r.retailer_id})
        if len(attention) > 10:
            st.caption(f"and {len(attention) - 10} more: see the table below.")
    if not data.availability_judged:
        st.caption("Health does not judge availability yet: it needs the inventory table.")

    event = ui.table(scored[list(COLUMNS)].rename(columns=COLUMNS),
                     {"Net sales": MONEY, "Share": fmt.pct, "Growth vs LY": lambda v: fmt.pct(v, signed=True),
                      "Margin %": fmt.pct, "Score": lambda v: fmt.number(v, 3), "Priority": fmt.number},
                     key="accounts_table", on_select="rerun", selection_mode="single-row")
    st.caption("Select a row, a bar or a box to open that retailer's account review.")
    open_review(scored["retailer_id"].iloc[event.selection.rows[0]] if event.selection.rows else None)

    left, right = st.columns(2)
    open_review(clicked(left.plotly_chart(share_charts.pareto(shares), key="pareto", on_select="rerun",
                                          selection_mode="points")))
    open_review(clicked(right.plotly_chart(share_charts.treemap(scored), key="treemap", on_select="rerun",
                                           selection_mode="points")))
    left, right = st.columns(2)
    open_review(clicked(left.plotly_chart(share_charts.plan_vs_actual_share(scored), key="plan_share",
                                          on_select="rerun", selection_mode="points")))
    open_review(clicked(right.plotly_chart(share_charts.net_sales_vs_plan(shares), key="net_sales_vs_plan",
                                           on_select="rerun", selection_mode="points")))

    st.subheader("Revenue share by retailer")
    ui.table(shares, {
        "net_sales": MONEY, "net_sales_ly": MONEY, "sell_out_value": MONEY, "net_sales_target": MONEY,
        "share": fmt.pct, "cum_share": fmt.pct, "sell_out_share": fmt.pct, "attainment": fmt.pct,
        "yoy_growth": lambda v: fmt.pct(v, signed=True),
    }, key="share_table")
    c1, c2 = st.columns(2)
    c1.download_button("Download revenue share (CSV)", ui.csv_bytes(shares), "revenue-share.csv",
                       "text/csv", key="download_share")
    c2.download_button("Download account scores (CSV)", ui.csv_bytes(scored[account.ACCOUNT_SCORE_COLUMNS]),
                       "account-scores.csv", "text/csv", key="download_scores")
    ui.definitions({**share.DEFINITIONS, **account.DEFINITIONS}, [*share.DEFINITIONS, *account.PORTFOLIO_TERMS])
