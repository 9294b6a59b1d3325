"""Plan tracking: will we land the year? (key account managers)"""

from urllib.parse import urlencode

import streamlit as st

from kam_dash import calendar, fmt, freshness, ui
from kam_dash.charts import plan as charts
from kam_dash.metrics import plan

MONEY = lambda v: fmt.money(v, compact=False)  # noqa: E731 - a formatter, named for the tables below
SORTS = {"landing_gap": "Landing gap (furthest behind first)", "ytd_gap": "YTD gap (furthest behind first)",
         "ytd_attainment": "YTD attainment (lowest first)", "retailer_name": "Name"}
COLUMNS = {"mtd": "MTD", "qtd": "QTD", "ytd": "YTD"}
BULLETS = 15  # retailers drawn in the bullet chart
HEADERS = {**{f"{p}_{m}": f"{label} {m}" for p, label in COLUMNS.items()
              for m in ("target", "actual", "attainment", "gap")},
           "ly_actual": "Last year", "landing_estimate": "Landing", "annual_target": "Annual target",
           "landing_low": "Landing low", "landing_high": "Landing high",
           "landing_gap": "Landing gap", "required_weekly_run_rate": "Run rate needed per week"}
FORMATS = {col: (fmt.pct if col.endswith("attainment") else MONEY) for col in HEADERS}
# The columns on screen, what a KAM reads first first; the CSV has every column.
SHOWN = ["landing_estimate", "landing_gap", "annual_target", "required_weekly_run_rate", "ytd_actual",
         "ytd_attainment", "ytd_gap", "qtd_attainment", "mtd_attainment", "ly_actual"]

TABLE_FORMATS = {HEADERS[col]: f for col, f in FORMATS.items()}


def net_sales_plan(data: plan.PlanPage, filters) -> None:
    """Tiles, charts and tables of the accounts tracked on net sales (sell-in)."""
    t = data.totals
    c = st.columns(5)
    ui.tile(c[0], "YTD net sales", fmt.money(t["ytd_actual"]),
            delta=f"{fmt.pct(t['ytd_attainment'] - 1, signed=True)} vs plan", help=plan.DEFINITIONS["Plan attainment"])
    ui.tile(c[1], "Landing estimate", fmt.money(t["landing_estimate"]), help=plan.DEFINITIONS["Landing estimate"])
    ui.tile(c[2], "Landing range", f"{fmt.money(t['landing_low'])} – {fmt.money(t['landing_high'])}",
            help=plan.DEFINITIONS["Landing range"])
    ui.tile(c[3], "Landing gap", fmt.money(t["landing_gap"]), help=plan.DEFINITIONS["Landing gap"])
    ui.tile(c[4], "Run rate needed per week", fmt.money(t["required_weekly_run_rate"]),
            delta=None if data.current_run_rate is None else f"now {fmt.money(data.current_run_rate)} per week",
            delta_color="off", delta_arrow="off",
            help=f"{plan.DEFINITIONS['Required weekly run rate']} Now: {plan.DEFINITIONS['Current weekly run rate']}")

    left, right = st.columns(2)
    left.plotly_chart(charts.landing_waterfall(data.waterfall, data.year), key="plan_waterfall")
    by = st.session_state.get("plan_sort", "landing_gap")
    accounts = data.retailers.sort_values([by, "retailer_id"], na_position="last", kind="stable")
    right.plotly_chart(charts.retailer_bullets(accounts, BULLETS), key="plan_bullets")
    if len(accounts) > BULLETS:
        right.caption(f"The first {BULLETS} of {len(accounts)} accounts in the table's order.")

    st.subheader("By retailer")
    st.selectbox("Sort accounts by", list(SORTS), format_func=SORTS.get, key="plan_sort")
    links = [f"account_review?{urlencode({**filters.to_params(), 'account': rid}, doseq=True)}"
             for rid in accounts["retailer_id"]]
    shown = accounts.assign(review=links)[["retailer_name", *SHOWN, "review"]]
    ui.table(shown.rename(columns={"retailer_name": "Retailer", "review": "Account review", **HEADERS}),
             TABLE_FORMATS, key="plan_retailers",
             column_config={"Account review": st.column_config.LinkColumn("Account review", display_text="Open")})
    worst = accounts.head(5)
    st.caption("Open the account review of the accounts at the top of this order:")
    cols = st.columns(len(worst))
    for col, row in zip(cols, worst.itertuples()):
        col.page_link("pages/account_review.py", label=row.retailer_name, icon=":material/storefront:",
                      query_params={**filters.to_params(), "account": row.retailer_id})

    st.subheader("By category")
    if len(data.categories):
        st.plotly_chart(charts.attainment_by_category(data.categories), key="plan_categories")
        ui.table(data.categories[["category", *SHOWN]].rename(columns={"category": "Category", **HEADERS}),
                 TABLE_FORMATS, key="plan_category_table")
    else:
        st.info("No category has sales or category targets in view.")
    st.download_button("Download plan by retailer (CSV)", ui.csv_bytes(data.retailers),
                       f"plan-{data.year}.csv", "text/csv", key="plan_download")


engine = ui.engine()
filters = ui.current_filters()
if ui.page_header("Plan tracking", engine, filters, tables=("sell_in", "sell_out")):
    data = ui.compute(plan.page_data, filters)
    for note in data.notes:
        st.info(note, icon=":material/info:")
    if data.retailers.empty and data.sell_out_accounts.empty:
        st.info(f"No retailer in view has sales or targets for {data.year or 'the plan year'}.")
        st.stop()
    if len(data.retailers):
        st.caption(f"Plan year **{data.year}**: weeks through {data.cutoff:%d %b %Y} (sell-in's latest week) "
                   f"count as done ({data.month_label}, {data.quarter_label}; "
                   f"{calendar.CALENDARS[data.calendar_name]}); {data.remaining_weeks} weeks remain. The landing "
                   "and the annual target cover the whole plan year; month, quarter and year to date only the "
                   "weeks done.")
        net_sales_plan(data, filters)
    if len(data.sell_out_accounts):
        st.subheader("Sell-out-only accounts")
        st.caption(f"Plan year **{data.year}**. No sell-in is loaded for these retailers: their plan is tracked "
                   "on sell-out value against their sell-out target, each through its own latest sell-out week "
                   f"({calendar.CALENDARS[data.calendar_name]}).")
        shown = data.sell_out_accounts[["retailer_name", *SHOWN, "through_week"]]
        ui.table(shown.rename(columns={"retailer_name": "Retailer", "through_week": "Sell-out through", **HEADERS}),
                 {**TABLE_FORMATS, "Sell-out through": fmt.day}, key="plan_sell_out_accounts")
    ui.definitions({**{k: calendar.DEFINITIONS[k] for k in ("Week", "Last year")},
                    **freshness.DEFINITIONS, **plan.DEFINITIONS})
