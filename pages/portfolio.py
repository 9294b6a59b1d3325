"""Portfolio: how is the portfolio doing? (leadership)"""

import streamlit as st

from kam_dash import calendar, freshness, fmt, ui
from kam_dash.charts import share as share_charts
from kam_dash.metrics import account, share

REVIEW = "pages/account_review.py"
HEALTH_ICON = {"red": ":material/error:", "amber": ":material/warning:"}
# The key-account table's columns and their headings (cut to what fits; priority and channel are in the CSV).
COLUMNS = {"retailer_name": "Retailer", "tier": "Tier", "score": "Score", "health": "Health",
           "health_reason": "Why", "value": "Net sales", "share": "Share", "yoy_growth": "Growth vs last year",
           "margin_pct": "Margin %"}
# The revenue-share table on screen, in reading order; the CSV has every column.
SHARE_COLUMNS = ["retailer_name", "value", "share", "cum_share", "abc_class", "yoy_growth", "net_sales_target",
                 "attainment", "sell_out_value", "sell_out_growth"]
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
if ui.page_header("Portfolio", engine, filters, tables=("sell_in", "sell_out", "inventory")):
    data = ui.compute(account.portfolio_page_data, filters)
    shares, kpis = data.shares, data.kpis
    value_name = share_charts.VALUE_TITLES.get(kpis["basis"], "Net sales")
    on_sell_out = kpis["basis"] == "sell_out"

    c1, c2, c3, c4, c5, c6 = st.columns(6)
    ui.tile(c1, value_name, fmt.money(kpis["value"]), help=share.DEFINITIONS["Basis"] if on_sell_out
            else share.DEFINITIONS["Net sales"])
    if on_sell_out:  # the other measure: none of the retailers in view has sell-in
        ui.tile(c2, "Net sales", fmt.money(kpis["net_sales"]), help="No sell-in in this view.")
    else:
        ui.tile(c2, "Sell-out value", fmt.money(kpis["sell_out_value"]),
                delta=None if kpis["sell_out_growth"] is None
                else f"{fmt.pct(kpis['sell_out_growth'], signed=True)} vs last year",
                help=share.DEFINITIONS["Sell-out value"])
    c3.metric("Gross margin", fmt.pct(kpis["gross_margin"]), help=account.DEFINITIONS["Gross margin"],
              delta=f"on {fmt.pct(kpis['cost_coverage'], 0)} of net sales" if kpis["cost_coverage"] else None,
              delta_color="off", delta_arrow="off")
    ui.tile(c4, "Plan attainment", fmt.pct(kpis["attainment"]),
            delta=None if kpis["attainment"] is None else f"{fmt.pct(kpis['attainment'] - 1, signed=True)} vs plan",
            help=f"{value_name} / {'sell-out ' if on_sell_out else ''}target of the same weeks")
    ui.tile(c5, "Growth vs last year", fmt.pct(kpis["yoy_growth"], signed=True),
            help=share.DEFINITIONS["Growth vs last year"])
    ui.tile(c6, "Accounts off plan", f"{kpis['accounts_off_plan']} of {kpis['accounts_with_target']}"
            if kpis["accounts_with_target"] else fmt.DASH, help=account.DEFINITIONS["Accounts off plan"])
    st.caption(account.basis_note(data, name=fmt.md_text))
    ui.missing_note(engine, ["targets"], "Plan attainment")
    ui.missing_note(engine, ["products"], "Gross margin")
    if filters.brands:
        st.info("Targets are set by retailer and category, so plan figures are hidden under a brand filter.")
    if shares.empty:
        st.info("No retailer has data in this period with these filters.")
        st.stop()

    st.subheader("Key accounts")
    attention = account.needing_attention(data.accounts)  # health and money at stake do not hang on the weights
    if len(attention):
        flagged = int(data.accounts["health"].isin(["red", "amber"]).sum())
        st.markdown(f"**Needs attention: {len(attention)} of the {flagged} red or amber accounts, those with the "
                    "most money at stake** · click to open the review", help=account.DEFINITIONS["Needs attention"])
        for r in attention.itertuples():
            color = "red" if r.health == "red" else "orange"
            st.page_link(REVIEW, label=f"**{fmt.md_text(r.retailer_name)}** :{color}[{r.health}]: "
                         f"{fmt.md_text(r.attention_reason)}",
                         icon=HEALTH_ICON[r.health], query_params={**filters.to_params(), "account": r.retailer_id})
    else:
        st.caption("No account needs attention: none is red or amber with material money at stake.",
                   help=account.DEFINITIONS["Needs attention"])
    if data.health_period:
        st.caption(f"Health is judged on the year to date ({data.health_period}), whatever the period shown: a "
                   "status should not change with the window looked at.")
    plan_store = ui.state(required=False)
    if plan_store is not None:
        ui.relationship_attention(plan_store, filters)
    if not data.availability_judged:
        st.caption("Health does not judge availability yet: it needs the inventory table.")

    with st.expander("Score weights and tiers (expert)", icon=":material/tune:"):
        w = st.columns(3)
        weights = {col: w[i % 3].number_input(f"Weight: {label}", 0.0, 1.0, account.DEFAULT_WEIGHTS[col], 0.05,
                                              key=f"w_{col}")
                   for i, (col, label) in enumerate(account.COMPONENTS.items())}
        tiers = (w[1].number_input("Strategic: top %", 0, 100, account.DEFAULT_TIER_PCTS[0], 5, key="tier_strategic"),
                 w[2].number_input("Key: next %", 0, 100, account.DEFAULT_TIER_PCTS[1], 5, key="tier_key"))
    try:
        scored = account.score_accounts(data.accounts, weights, tiers)
    except ValueError as exc:
        st.warning(f"{exc}; showing the default weights and tiers.")
        scored = account.score_accounts(data.accounts)
    st.markdown(" · ".join(f"**{tier} ({len(names)}):** "
                           f"{', '.join(map(fmt.md_text, names)) if len(names) <= 8 else 'see the table'}"
                           for tier, names in account.tier_members(scored).items()))

    event = ui.table(scored[list(COLUMNS)].rename(columns={**COLUMNS, "value": value_name}),
                     {value_name: MONEY, "Share": fmt.pct, "Growth vs last year": lambda v: fmt.pct(v, signed=True),
                      "Margin %": fmt.pct, "Score": lambda v: fmt.number(v, 3)},
                     key="accounts_table", on_select="rerun", selection_mode="single-row")
    st.caption("Select a row, a bar or a box to open that retailer's account review.")
    open_review(scored["retailer_id"].iloc[event.selection.rows[0]] if event.selection.rows else None)

    left, right = st.columns(2)
    if shares["share"].notna().any():
        open_review(clicked(left.plotly_chart(share_charts.pareto(shares), key="pareto", on_select="rerun",
                                              selection_mode="points")))
    if (scored["value"] > 0).any():
        open_review(clicked(right.plotly_chart(share_charts.treemap(scored), key="treemap", on_select="rerun",
                                               selection_mode="points")))
    left, right = st.columns(2)
    open_review(clicked(left.plotly_chart(share_charts.plan_vs_actual_share(scored), key="plan_share",
                                          on_select="rerun", selection_mode="points")))
    if shares["net_sales_target"].notna().any():
        open_review(clicked(right.plotly_chart(share_charts.net_sales_vs_plan(shares), key="net_sales_vs_plan",
                                               on_select="rerun", selection_mode="points")))

    st.subheader("Revenue share by retailer")
    signed = lambda v: fmt.pct(v, signed=True)  # noqa: E731
    shown = [c for c in SHARE_COLUMNS if not (on_sell_out and c.startswith("sell_out"))]  # value is sell-out
    ui.table(shares[shown].rename(columns={"value": value_name}), {
        **dict.fromkeys([value_name, "net_sales_target", "sell_out_value"], MONEY),
        **dict.fromkeys(["share", "cum_share", "attainment"], fmt.pct),
        "yoy_growth": signed, "sell_out_growth": signed}, key="share_table")
    st.caption("Last year's values, sell-out share and unreported weeks are in the CSV.")
    c1, c2 = st.columns(2)
    c1.download_button("Download revenue share (CSV)", ui.csv_bytes(shares), "revenue-share.csv",
                       "text/csv", key="download_share")
    c2.download_button("Download account scores (CSV)", ui.csv_bytes(scored[account.ACCOUNT_SCORE_COLUMNS]),
                       "account-scores.csv", "text/csv", key="download_scores")
    ui.definitions({**share.DEFINITIONS, **account.DEFINITIONS, **freshness.DEFINITIONS, **calendar.DEFINITIONS},
                   [*share.DEFINITIONS, *account.PORTFOLIO_TERMS, *freshness.DEFINITIONS, "Last year", "Period"])
