"""Promotions: what each promotion really added, and whether it paid (KAMs, revenue management)."""

import pandas as pd
import streamlit as st

from kam_dash import fmt, freshness, labels, ui
from kam_dash.charts import promotions as charts
from kam_dash.metrics import promotions as promo
from kam_dash.metrics import seasonality

UNITS = fmt.number
MONEY = lambda v: fmt.money(v, compact=False)  # noqa: E731 - a formatter, named for the tables below
SIGNED = lambda v: fmt.pct(v, 0, signed=True)  # noqa: E731
TABLE = {"baseline_units": UNITS, "actual_units": UNITS, "incremental_units": UNITS, "post_dip_units": UNITS,
         "net_incremental_units": UNITS, "planned_incremental_units": UNITS, "lift_pct": SIGNED, "vs_plan": SIGNED,
         "trade_spend": MONEY, "incremental_gross_profit": MONEY, "roi": SIGNED, "discount_pct": fmt.number,
         "cost_per_incremental_unit": lambda v: fmt.money(v, compact=False) if v is None or v >= 100
         else fmt.number(v, 2), "start_date": lambda d: f"{d:%d %b %Y}", "end_date": lambda d: f"{d:%d %b %Y}"}
LABELS = {"promo_id": "Promotion", "retailer_name": "Retailer", "sku_name": "Product", "mechanic": "Mechanic",
          "discount_pct": "Discount %", "start_date": "Start", "end_date": "End", "clean_weeks": "Clean weeks",
          "baseline_units": "Baseline units", "actual_units": "Actual units", "incremental_units": "Incremental units",
          "planned_incremental_units": "Planned incremental", "vs_plan": "Actual vs plan", "lift_pct": "Lift",
          "post_dip_units": "Dip units", "net_incremental_units": "Net incremental units", "trade_spend": "Trade spend",
          "incremental_gross_profit": "Incremental gross profit", "roi": "ROI",
          "cost_per_incremental_unit": "Cost per incremental unit", "unreported_weeks": "Unreported weeks",
          "flag": "Flag", "method_name": "Method"}


def show_table(frame, cols: list[str], key: str) -> None:
    ui.table(frame[cols].rename(columns=LABELS), {LABELS[c]: f for c, f in TABLE.items() if c in cols}, key=key)


def in_url(param: str, options: list, what: str) -> None:
    """Seed the widget promo_<param> from the URL's `param` (validated); keep_in_url writes changes back."""
    raw, key = st.query_params.get(param), f"promo_{param}"
    if raw is not None and raw not in options:
        st.warning(f"The {what} in the link is not one this page offers; showing {fmt.md_text(options[0])}.",
                   icon=":material/link_off:")
        del st.query_params[param]
    elif raw is not None:
        st.session_state[key] = raw
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]


def keep_in_url(param: str) -> None:
    st.query_params[param] = st.session_state[f"promo_{param}"]


engine = ui.engine()
filters = ui.current_filters()
if ui.page_header("Promotions", engine, filters, "What each promotion added over its baseline, and whether "
                  "it paid.", tables=("sell_out", "sell_in", "inventory")) and ui.missing_note(engine, ["promotions", "sell_out"], "Promotion lift"):
    in_url("method", list(promo.METHODS), "baseline method")
    method = st.segmented_control("Baseline method", list(promo.METHODS), format_func=promo.METHODS.get,
                                  key="promo_method", on_change=keep_in_url, args=("method",)) or promo.DEFAULT_METHOD
    data = ui.compute(promo.page_data, filters, method=method)
    ui.missing_note(engine, ["inventory"], "Leaving stock-out weeks out of the baselines")
    ui.missing_note(engine, ["sell_in"], "The net price, and so profit and ROI,")
    events, k = data.events, data.kpis
    if events.empty:
        st.info("No promotion of the retailers and products in view touches this period.", icon=":material/info:")
        st.stop()

    c = st.columns(6)
    ui.tile(c[0], "Promotions", fmt.number(k["events"]), help=promo.DEFINITIONS["Promotion event"])
    ui.tile(c[1], "With a lift", fmt.number(k["measured"]), help=promo.DEFINITIONS["Low baseline coverage"])
    ui.tile(c[2], "Net incremental units", fmt.number(k["net_incremental_units"]),
            help=promo.DEFINITIONS["Net incremental units"])
    ui.tile(c[3], "Median lift", SIGNED(k["median_lift"]), help=promo.DEFINITIONS["Lift"])
    ui.tile(c[4], "ROI", SIGNED(k["roi"]), help=promo.DEFINITIONS["ROI of a group"])
    ui.tile(c[5], "Paid back", fmt.pct(k["paid_back_share"], 0), help=promo.DEFINITIONS["Share paid back"])
    if note := promo.skipped_note(k):
        st.caption(note)

    rows = st.radio("Calendar rows", list(charts.CALENDAR_ROWS), format_func=charts.CALENDAR_ROWS.get,
                    horizontal=True, key="promo_calendar_rows")
    st.plotly_chart(charts.calendar(events, rows, data.start, data.end), key="promo_calendar")
    if note := charts.calendar_note(events, rows):
        st.caption(note)

    st.subheader("Events")
    f1, f2, f3 = st.columns([2, 2, 2])
    mechanics = f1.multiselect("Mechanic", sorted(events["mechanic"].unique()), key="promo_mechanics",
                               format_func=labels.mechanic, placeholder="All mechanics")
    show = f2.selectbox("Show", list(promo.SHOW), format_func=promo.SHOW.get, key="promo_show")
    sort_by = f3.selectbox("Sort by", ["start_date", "net_incremental_units", "lift_pct", "roi", "trade_spend"],
                           format_func=LABELS.get, key="promo_sort")
    shown = promo.filter_events(events, mechanics, show).sort_values(sort_by, ascending=False, na_position="last")
    # ROI and its flag first; the baseline, dip, plan and cost columns are in the CSV
    cols = ["retailer_name", "sku_name", "mechanic", "start_date", "roi", "flag", "lift_pct", "net_incremental_units",
            "trade_spend", "incremental_gross_profit", "promo_id"]
    st.caption(f"{len(shown):,} of {len(events):,} events · baseline: {promo.METHODS[method]} · every column "
               "(baseline, dip, plan, cost per unit) is in the CSV")
    show_table(shown, cols, "promo_table")
    # The file is written when the button is clicked, not on every run (seconds for 20K events).
    st.download_button("Download the events (CSV)", lambda: ui.csv_bytes(shown[promo.EXPORT_COLUMNS]),
                       f"promo-lift-{method}.csv", "text/csv", key="promo_download")

    st.subheader("Event detail")
    chosen, warning = promo.pick_event(events, st.query_params.get("event"))
    if warning and st.session_state.get("promo_event") != st.query_params.get("event"):  # a link, not our pick
        st.warning(warning, icon=":material/link_off:")
    st.query_params["event"] = chosen
    st.session_state["promo_event"] = chosen  # the URL decides (a link, or the selectbox via keep_in_url)
    offered = events
    if len(events) > promo.PICK_LIMIT:  # a list of thousands is read by nobody: narrow, search, the biggest first
        n1, n2 = st.columns(2)
        retailer = n1.selectbox("Narrow to a retailer", sorted(events["retailer_name"].unique()), index=None,
                                placeholder="Every retailer", key="promo_pick_retailer")
        search = n2.text_input("Find by id, retailer, SKU or mechanic", key="promo_pick_search")
        offered, matched = promo.event_choices(events, retailer, search)
        st.caption(f"The list offers {len(offered):,} of the {matched:,} promotions "
                   f"{'that match' if retailer or search.strip() else 'in view'}, largest trade spend first"
                   + ("; narrow to a retailer or search to find another." if matched > len(offered) else "."))
    if not (offered["promo_id"] == chosen).any():  # the one picked (or linked) stays on offer
        offered = pd.concat([events[events["promo_id"] == chosen], offered])
    labels = {r["promo_id"]: promo.event_label(r) for _, r in offered.iterrows()}
    st.selectbox("Promotion", list(labels), format_func=labels.get, key="promo_event", on_change=keep_in_url,
                 args=("event",))
    weeks, methods = promo.event_detail(data, chosen, ui.compute(promo.event_weeks, filters, promo_id=chosen))
    st.plotly_chart(charts.event_weeks(weeks, methods, labels[chosen]), key="promo_event_chart")
    show_table(methods, ["method_name", "clean_weeks", "baseline_units", "actual_units", "incremental_units",
                         "lift_pct", "post_dip_units", "net_incremental_units", "flag"], "promo_methods")

    left, right = st.columns(2)
    points, measured = promo.scatter_points(events)
    left.plotly_chart(charts.lift_vs_discount(points, data.curves), key="promo_lift_depth")
    if len(points) < measured:
        left.caption(f"Drawn: the {len(points):,} events with the largest trade spend of the {measured:,} with a "
                     f"lift; the lines are fitted on all {measured:,}.")
    if data.by_mechanic["roi"].notna().any():
        right.plotly_chart(charts.roi_bars(data.by_mechanic, "ROI by mechanic", groups="mechanic"), key="promo_roi_mechanic")
        st.plotly_chart(charts.roi_bars(data.by_retailer, "ROI by retailer"), key="promo_roi_retailer")
        st.caption(f"{fmt.pct(k['paid_back_share'], 0)} of the events with an ROI paid back their trade spend.")
    else:
        right.info("No event in view has an ROI: it needs a lift, the dip after, a unit cost, a net price and "
                   "a trade spend.", icon=":material/info:")
    season = {f"Seasonality: {k}": seasonality.DEFINITIONS[k] for k in ("Seasonal index", "Complete year")}
    ui.definitions({**promo.DEFINITIONS, **season, **freshness.DEFINITIONS})
