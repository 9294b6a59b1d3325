"""Seasonality: when do sales come? (category managers)"""

import streamlit as st

from kam_dash import fmt, freshness, ui
from kam_dash.charts import seasonality as charts
from kam_dash.metrics import seasonality


def url_choice(widget, label: str, param: str, options: list, what: str, **kwargs):
    """A selector whose value lives in the URL under `param` (also its key): a link sets it, a change updates
    it. A value the data does not hold is dropped with a warning."""
    raw = st.query_params.get(param)
    if raw is not None and raw not in options:
        st.warning(f"The {what} in the link is not in the data; showing {fmt.md_text(options[0])}.", icon=":material/link_off:")
        raw = None
    if raw is not None:
        st.session_state[param] = raw
    elif st.session_state.get(param) not in options:
        st.session_state[param] = options[0]

    def keep_in_url():
        st.query_params[param] = st.session_state[param]

    value = widget(label, options, key=param, on_change=keep_in_url, **kwargs)
    if st.query_params.get(param) != value:
        st.query_params[param] = value
    return value


engine = ui.engine()
filters = ui.current_filters()
caption = ("When in the year each category sells, from sell-out units over every complete year loaded. "
           "The period filter does not apply here; retailer, channel, category and brand filters do.")
if ui.page_header("Seasonality", engine, filters, caption, tables=("sell_out",)) and ui.missing_note(engine, ["sell_out"], "Seasonality"):
    categories, retailer_names = seasonality.choices(engine, filters)
    if not categories or not retailer_names:
        st.info("No retailer or product matches the sidebar filters.")
        st.stop()
    c1, c2, c3 = st.columns([1, 2, 2])
    grain = url_choice(c1.radio, "Grain", "grain", list(seasonality.GRAINS), "grain",
                         format_func=seasonality.GRAINS.get, horizontal=True)
    category = url_choice(c2.selectbox, "Category for the detail charts", "series", categories, "category")
    retailer = url_choice(c3.selectbox, "Retailer to compare with the portfolio", "compare",
                            list(retailer_names), "retailer", format_func=retailer_names.get)
    data = ui.compute(seasonality.page_data, filters, grain=grain, category=category, retailer=retailer)
    for text in data.warnings:
        st.warning(text, icon=":material/warning:")
    for text in data.notes:
        st.info(text, icon=":material/info:")

    if data.index.empty:
        st.info("No category in view has a complete year of sell-out, so there is no seasonal index.")
    else:
        st.plotly_chart(charts.index_heatmap(data.index, grain), key="season_heatmap")
    left, right = st.columns(2)
    if len(data.yoy):
        left.plotly_chart(charts.yoy_lines(data.yoy, data.category), key="season_yoy")
    if len(data.comparison):
        right.plotly_chart(charts.retailer_vs_portfolio(data.comparison, grain, data.category), key="season_vs")
    if data.phasing_measure:
        st.plotly_chart(charts.plan_vs_season(data.phasing, data.category, data.plan_year, data.phasing_measure),
                        key="season_plan")
    if len(data.peaks):
        st.subheader("Peaks and troughs")
        ui.table(data.peaks[["series", "kind", "rank", "label", "index"]].rename(
            columns={"series": "Category", "kind": "Peak or trough", "rank": "Rank", "label": "Period", "index": "Index"}),
            {"Index": fmt.number}, key="season_peaks", height=280)
    if data.stl is not None:
        st.plotly_chart(charts.stl_panels(data.stl, data.category), key="season_stl")
    if len(data.index):
        export = data.index.rename(columns={"series": "category"})[seasonality.INDEX_COLUMNS]
        st.download_button("Download the seasonal index (CSV)", ui.csv_bytes(export),
                           f"seasonality-{grain}.csv", "text/csv", key="season_download")
    ui.definitions({**seasonality.DEFINITIONS, **freshness.DEFINITIONS})
