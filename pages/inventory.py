"""Inventory: is the shelf full, and is the pipeline honest? (key account managers, supply chain)"""

import streamlit as st

from kam_dash import fmt, freshness, scope, ui
from kam_dash.charts import inventory as charts
from kam_dash.metrics import inventory

MONEY = lambda v: fmt.money(v, compact=False)  # noqa: E731 - a formatter, named for the tables below
DAY = lambda d: fmt.DASH if d != d else f"{d:%d %b %Y}"  # noqa: E731 - a missing week (NaT) is not equal to itself
FORMATS = {**dict.fromkeys(["lost_value", "shortfall_value", "excess_value", "on_hand_value"], MONEY),
           **dict.fromkeys(["weeks_of_cover", "forward_cover", "woc_min", "woc_max"], fmt.weeks),
           **dict.fromkeys(["lost_units", "on_hand", "avg_weekly_units", "shortfall_units", "excess_units",
                            "opening_units", "sell_in_units", "sell_out_units", "closing_units", "on_hand_change",
                            "unexplained_units", "cover_weeks", "unreported_weeks", "oos_weeks_unreported"],
                          fmt.number), "in_stock_rate": fmt.pct,
           **dict.fromkeys(["through_week", "checked_week"], DAY)}
HEADERS = {**inventory.HEADERS, "sku_name": "Product"}  # products by name, as on every page
TABLES = {"out_of_stock": "Out of stock", "low_cover": "Low cover", "phantom": "Phantom candidates",
          "overstock": "Overstock", "too_few_weeks": "No cover"}


# Availability by retailer on screen: what a KAM reads first; the CSV under it has every column.
RETAILER_COLUMNS = ["in_stock_rate", "lost_value", "oos_weeks", "now_oos", "now_low", "now_high", "now_phantom",
                    "woc_min", "woc_max"]


def show(frame, key: str, columns: list[str] | None = None) -> None:
    """A table of the columns that have a header (or of `columns`), under their headers, names first."""
    cols = [c for c in ("retailer_name", "sku_name") if c in frame] + [
        c for c in (columns or frame.columns) if c in inventory.HEADERS and c not in ("retailer_name", "sku_name")]
    ui.table(frame[cols].rename(columns=HEADERS), {HEADERS[c]: f for c, f in FORMATS.items() if c in cols}, key=key)


def from_url(param: str, options: list[str], what: str) -> str | None:
    """A page choice kept in the URL; a value the page does not offer is dropped with a warning."""
    raw = st.query_params.get(param)
    if raw is not None and raw not in options:
        st.warning(f"The {what} in the link is not one this page offers; it was ignored.", icon=":material/link_off:")
        del st.query_params[param]
        return None
    return raw


def keep_in_url(param: str) -> None:
    st.query_params[param] = str(st.session_state[param])


engine = ui.engine()
filters = ui.current_filters()
if ui.page_header("Inventory", engine, filters, "Weeks of cover against each retailer's agreed band, availability "
                  "and lost sales, phantom stock, the stock reconciliation and forward buying.",
                  tables=("inventory", "sell_out", "sell_in")):
    has_stock = ui.missing_note(engine, ["inventory"], "Weeks of cover, availability and the reconciliation")
    windows = [str(w) for w in inventory.WINDOWS]
    window = from_url("inv_window", windows, "cover window") or st.session_state.get("inv_window") or windows[0]
    wanted = from_url("inv_retailer", list(scope.retailers(engine)["retailer_id"]), "retailer")
    data = ui.compute(inventory.page_data, filters, window=int(window),
                      retailer=wanted or st.session_state.get("inv_retailer"))
    if data.last is None:
        st.info("The period holds no week of data.")
        st.stop()
    if has_stock and not data.has_inventory:
        st.info("No stock counts for the retailers, products and weeks in view: no cover, availability or "
                "reconciliation to show. Forward buying below needs only sell-in and sell-out.",
                icon=":material/inventory_2:")
    if data.has_inventory:
        k = data.kpis
        if wanted and wanted != data.retailer:
            st.warning(f"The retailer in the link has no inventory in view; showing {fmt.md_text(data.retailer)}.",
                       icon=":material/link_off:")
        names = dict(zip(data.retailers["retailer_id"], data.retailers["retailer_name"]))
        st.session_state["inv_window"], st.session_state["inv_retailer"] = window, data.retailer
        st.query_params["inv_window"], st.query_params["inv_retailer"] = window, data.retailer
        left, right = st.columns([1, 3])
        left.radio("Cover window (weeks)", windows, key="inv_window", horizontal=True, on_change=keep_in_url,
                   args=("inv_window",), help=inventory.DEFINITIONS["Weeks of cover"])
        right.selectbox("Retailer for the heatmap, trend and reconciliation", data.retailer_choices,
                        key="inv_retailer", format_func=names.get, on_change=keep_in_url, args=("inv_retailer",))
        st.caption(f"Positions at the end of the week of **{data.at:%d %b %Y}**; availability and lost sales over "
                   f"the weeks from {data.first:%d %b %Y} to {data.last:%d %b %Y}.")
        for note in data.notes:
            st.caption(note)
        c = [*st.columns(3), *st.columns(3)]
        ui.tile(c[0], "In-stock rate", fmt.pct(k["in_stock_rate"]), help=inventory.DEFINITIONS["In-stock rate"])
        ui.tile(c[1], "Lost sales", fmt.money(k["lost_value"]), f"{fmt.number(k['lost_units'])} units",
                delta_color="off", delta_arrow="off", help=inventory.DEFINITIONS["Lost sales (units)"])
        ui.tile(c[2], "Out of stock now", fmt.number(k["now_oos"]), f"of {fmt.number(k['positions'])} lines",
                delta_color="off", delta_arrow="off", help=inventory.DEFINITIONS["Cover status"])
        ui.tile(c[3], "Below band now", fmt.number(k["now_low"]), help=inventory.DEFINITIONS["Cover status"])
        ui.tile(c[4], "Above band now", fmt.number(k["now_high"]), help=inventory.DEFINITIONS["Cover status"])
        ui.tile(c[5], "Phantom candidates", fmt.number(k["now_phantom"]),
                help=inventory.DEFINITIONS["Phantom inventory candidate"])

        rname = names.get(data.retailer, data.retailer)
        if not data.heatmap.empty:
            st.plotly_chart(charts.coverage_heatmap(data.heatmap, rname, int(window)), key="inv_heatmap")
        if not data.trend.empty:
            st.plotly_chart(charts.cover_trend(data.trend, data.band, rname, int(window)), key="inv_trend")

        st.subheader("Worst positions now")
        for tab, (name, label) in zip(st.tabs(list(TABLES.values())), TABLES.items()):
            frame = getattr(data, name)
            with tab:
                if frame.empty:
                    st.info(f"{label}: none in view.")
                else:
                    show(frame, f"inv_{name}")

        st.subheader("Availability by retailer")
        show(data.retailers, "inv_retailers", RETAILER_COLUMNS)
        st.download_button("Download availability by retailer (CSV)", ui.csv_bytes(data.retailers),
                           "availability-by-retailer.csv", "text/csv", key="inv_retailers_download")

        st.subheader("Stock reconciliation")
        if data.waterfall is not None:
            st.plotly_chart(charts.reconciliation_waterfall(data.waterfall, f"{rname}: stock over the period"),
                            key="inv_waterfall")
        for r in data.reconciliation[data.reconciliation["unreported_weeks"] > 0].itertuples():
            st.info(f"{fmt.md_text(r.retailer_name)} did not report sell-out for {r.unreported_weeks} week(s) up to "
                    f"{r.through_week:%d %b %Y}: its stock cannot be reconciled over the period.",
                    icon=":material/info:")
        show(data.reconciliation, "inv_recon")
        with st.expander(f"{rname}: the lines with the largest unexplained change"):
            show(data.reconciliation_lines, "inv_recon_lines")

    st.subheader("Forward buying")
    if data.sell_out_only:
        one = len(data.sell_out_only) == 1
        st.info(f"Forward buying compares sell-in with sell-out, so it needs sell-in: {', '.join(data.sell_out_only)} "
                f"{'has' if one else 'have'} sell-out only and {'is' if one else 'are'} not scored.",
                icon=":material/info:")
    for note in data.forward_buy_notes:
        st.caption(note)
    if data.forward_buy.empty:
        ui.missing_note(engine, ["sell_in", "sell_out"], "Forward-buy warnings")
    else:
        for r in data.forward_buy[data.forward_buy["warning"]].itertuples():
            st.warning(f"{fmt.md_text(r.retailer_name)} filled its pipeline with {fmt.weeks(r.fill_weeks)} of sell-out in its "
                       f"{r.weeks} reported weeks to {r.through_week:%d %b %Y}: expect its orders to dip for about "
                       "that long.",
                       icon=":material/trending_down:")
        st.plotly_chart(charts.pipeline_fill(data.forward_buy, inventory.FORWARD_BUY_LIMIT,
                                             inventory.FORWARD_BUY_WEEKS), key="inv_fill")
    ui.definitions({**inventory.DEFINITIONS, **freshness.DEFINITIONS})
