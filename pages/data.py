"""Data: load retailer files into the app's database (validated, previewed, all or nothing) and see its health."""

from __future__ import annotations

import streamlit as st

from kam_dash import datahealth, fmt, ingest, scope, ui
from kam_dash.config import settings_from_env
from kam_dash.engine import file_version
from kam_dash.schema import LOAD_ORDER

if ui.admin_gate("Data"):
    settings = settings_from_env()
    db = settings.db
    engine = ui.engine()
    ui.page_header("Data", engine, ui.filters_in_force(),
                              f"Database: {fmt.md_text(db)}. Files are checked against the data contract "
                              "(docs/DATA_MODEL.md), the same checks as `kam-dash import`; nothing is written unless "
                              "every file passes.", tables=("sell_in", "sell_out", "inventory"))

    st.subheader("Load files")
    if "data_loaded" in st.session_state:
        st.success(st.session_state.pop("data_loaded"), icon=":material/done_all:")
    files = st.file_uploader("Files: CSV, Parquet or Excel, named after their table (e.g. sell_out_2026.csv)",
                             type=[ext.lstrip(".") for ext in ingest.FORMATS], accept_multiple_files=True,
                             key=f"data_files_{st.session_state.get('data_round', 0)}")
    c1, c2, c3 = st.columns(3)
    table = c1.selectbox("Table", [None, *LOAD_ORDER], key="data_table",
                         format_func=lambda t: "From each file's name" if t is None else t)
    ending = c2.selectbox("Weeks dated by", [None, *ingest.WEEK_ENDINGS], key="data_week_ending",
                          format_func=lambda d: "Monday (week start)" if d is None else f"their last day: {d}")
    retailer = c3.text_input("Retailer of every row (files that do not name it)", key="data_retailer").strip()

    if files and settings.engine != "duckdb":
        st.info("Loading files needs the DuckDB engine; this app reads Parquet files through Spark.")
    elif files:
        layout = ingest.Layout(week_ending=ending, retailer_id=retailer or None)
        # checked once per set of files and options, not on every rerun (a large file takes seconds)
        key = (tuple(f.file_id for f in files), table, ending, retailer, file_version(db))
        if st.session_state.get("data_checked", (None,))[0] != key:
            try:
                st.session_state["data_checked"] = (key, ingest.validate_uploads(
                    [(f.name, f.size, f) for f in files], db, table, layout))
            except ingest.ImportFailed as exc:
                st.error(exc.render())
                st.stop()
        checked = st.session_state["data_checked"][1]
        if not checked.ok:
            total = sum(n for n, _ in checked.problem_counts.values())
            st.error(f"Nothing can be loaded: {total:,} problems in {len(checked.problem_counts)} file(s). "
                     f"Fix them and upload again. {ingest.ROW_RULE}", icon=":material/error:")
            for group in checked.groups:
                with st.expander(f"{fmt.md_text(group.file)}: {group.count:,} x {fmt.md_text(group.title)}"):
                    ui.table(ingest.problem_frame(group.examples), {}, key=None)
        else:
            st.success(f"{len(checked.files)} file(s) passed every check.", icon=":material/check_circle:")
            for note in checked.notes:
                st.caption(fmt.md_text(note))
            st.markdown("**What loading would do**")
            ui.table(ingest.preview(checked, db), {"rows": fmt.number, "new": fmt.number, "replaced": fmt.number})
            if st.button("Load into the database", type="primary", icon=":material/upload:", key="data_load"):
                try:
                    report = ingest.load(checked, db, wait=30)
                except ingest.ImportFailed as exc:
                    st.error(exc.render())
                else:  # a fresh run reads the new file; a new uploader key clears the loaded files
                    st.session_state["data_loaded"] = (fmt.md_text(report.render().splitlines()[0].rstrip(":"))
                                                       + ". Every page shows the new data on its next run.")
                    st.session_state["data_round"] = st.session_state.get("data_round", 0) + 1
                    st.rerun()

    st.subheader("Data health")
    if any(engine.row_counts().values()):
        ui.table(datahealth.tables(engine), {"rows": fmt.number, "latest_week": fmt.day})
        st.markdown("**Per retailer**: rows, weeks, and the sell-out weeks each retailer did not report")
        per_retailer = datahealth.by_retailer(engine)
        retailers = scope.retailers(engine)
        per_retailer.insert(0, "retailer_name", per_retailer["retailer_id"].map(
            dict(zip(retailers["retailer_id"], retailers["retailer_name"]))).fillna(per_retailer["retailer_id"]))
        ui.table(per_retailer, {"rows": fmt.number, "first_week": fmt.day,
                                                  "latest_week": fmt.day, "weeks_behind": fmt.number,
                                                  "unreported_weeks": fmt.number, "not_yet_arrived": fmt.number})
        ui.definitions(datahealth.DEFINITIONS)
    else:
        st.caption("No table holds rows yet: load files above.")
