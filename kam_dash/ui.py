"""The only Streamlit-aware module of the library: engine and caches, the shared
sidebar filters (kept in the URL), page headers, tiles and definitions."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
import streamlit as st

from kam_dash import datahealth, fmt, freshness, scope
from kam_dash.config import Settings, settings_from_env
from kam_dash.engine import DataError, Engine, LiveDatabase
from kam_dash.filters import FILTER_PARAMS, LIST_PARAMS, PERIODS, Filters, custom_bounds

FILTERS_KEY = "kam_filters"


# -- engine and caching ---------------------------------------------------------------
@st.cache_resource(max_entries=4, show_spinner=False)
def _live(kind: str, db: str, master: str) -> LiveDatabase:
    return LiveDatabase(Settings(db=Path(db), engine=kind, spark_master=master))


LEASE_KEY = "kam_engine_lease"
LEASE_RUN_KEY = "kam_engine_run"


def _run_marker() -> object:
    """An object unique to this script run (identity, held while stored). Streamlit gives every run a fresh
    `cursors` dict (ScriptRunContext.reset); a rerun may reuse the thread, so the thread cannot say it."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        marker = getattr(ctx, "cursors", None)
        if isinstance(marker, dict):
            return marker
    except ImportError:  # internals moved: a new thread at least marks a new runner
        pass
    return threading.current_thread()


def engine() -> Engine:
    """The engine of this session's run; stops the page with a message when the database cannot open.

    A session keeps one engine for a whole run (every number of a page comes from one version of the
    data). On its next run it checks the file (a stat) and, when `kam-dash import` or another tool has
    changed it, moves to an engine on the new file: no restart, and no run ever mixes two versions.
    """
    settings = settings_from_env()
    live = _live(settings.engine, str(settings.db), settings.spark_master)
    state = st.session_state
    lease = state.get(LEASE_KEY)
    run = _run_marker()
    fresh = lease is None or lease.live is not live
    if fresh or (state.get(LEASE_RUN_KEY) is not run and not lease.current()):
        try:
            new = live.acquire()
        except DataError as exc:
            st.error(str(exc))
            st.stop()
        if lease is not None:
            lease.release()
        lease = state[LEASE_KEY] = new
    state[LEASE_RUN_KEY] = run
    return lease.engine


@st.cache_data(max_entries=256, show_spinner=False)
def _cached(_fn: Callable, fn_key: str, version: str, filters_key: tuple, kwargs_key: tuple, _filters, _kwargs):
    return _fn(engine(), _filters, **_kwargs)


def compute(fn: Callable, filters: Filters, **kwargs):
    """Run a metric function (engine, filters, **kwargs) through the cache, keyed on the data's version."""
    eng = engine()
    key = f"{fn.__module__}.{fn.__qualname__}"
    kwargs_key = tuple(sorted((k, repr(v)) for k, v in kwargs.items()))
    return _cached(fn, key, eng.data_version, filters.cache_key(), kwargs_key, filters, kwargs)


# -- filters --------------------------------------------------------------------------
def _url_params() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params.keys()}


def _write_url(filters: Filters) -> None:
    wanted = filters.to_params()
    current = _url_params()
    for key in FILTER_PARAMS:
        if key in wanted and current.get(key) != wanted[key]:
            st.query_params[key] = wanted[key] if len(wanted[key]) > 1 else wanted[key][0]
        elif key not in wanted and key in current:
            del st.query_params[key]


WIDGET_KEYS = ("f_period", "f_year", "f_range", *(f"f_{key}" for key in LIST_PARAMS))


def _keep(key: str) -> None:
    st.session_state[f"keep_{key}"] = st.session_state[key]


def _widget(key: str) -> dict:
    return {"key": key, "on_change": _keep, "args": (key,)}


def _seed_widgets(filters: Filters, known) -> None:
    state = st.session_state
    values = {"f_period": filters.period,
              "f_year": filters.year or (known.latest_week.year if known.latest_week else None)}
    if filters.period == "custom":
        values["f_range"] = (filters.start, filters.end)
    for key, name in LIST_PARAMS.items():
        values[f"f_{key}"] = list(getattr(filters, name))
    for key, value in values.items():
        state[key] = state[f"keep_{key}"] = value


def sidebar_filters(eng: Engine) -> Filters:
    """Draw the shared filters in the sidebar; seed them from the URL once; keep the URL in step."""
    known = scope.known(eng)
    state = st.session_state
    if "kam_seeded" not in state:
        filters, warnings = Filters.from_params(_url_params(), known)
        state["kam_url_warnings"] = warnings
        _seed_widgets(filters, known)
        state["kam_seeded"] = True
    else:
        # Streamlit resets a widget whose identity changed between runs (AppTest draws the sidebar
        # from the page after a page switch); the user's choices are kept apart and put back.
        for key in WIDGET_KEYS:
            if f"keep_{key}" in state:
                state[key] = state[f"keep_{key}"]

    r = scope.retailers(eng)
    p = scope.products(eng)
    names = dict(zip(r["retailer_id"], r["retailer_name"]))
    with st.sidebar:
        st.header("Filters")
        st.selectbox("Period", list(PERIODS), format_func=PERIODS.get, **_widget("f_period"))
        period = state["f_period"]
        year = start = end = None
        if period == "year":
            years = list(known.years) or [dt.date.today().year]
            if state.get("f_year") not in years:
                state["f_year"] = state["keep_f_year"] = years[-1]
            st.selectbox("Year", years, **_widget("f_year"))
            year = state["f_year"]
        elif period == "custom":
            latest = known.latest_week or dt.date.today()
            low, high = custom_bounds(known)
            kept = state.get("f_range")
            if not (isinstance(kept, (tuple, list)) and all(low <= d <= high for d in kept)):
                state["f_range"] = state["keep_f_range"] = (max(dt.date(latest.year, 1, 1), low), latest)
            picked = st.date_input("Weeks starting between", **_widget("f_range"), format="YYYY-MM-DD",
                                   min_value=low, max_value=high)
            if isinstance(picked, (tuple, list)) and len(picked) == 2:
                start, end = picked
            else:  # the user has picked only the first date so far
                period = "ytd"
        st.multiselect("Retailers", sorted(names, key=lambda i: names[i]), format_func=lambda i: names.get(i, i),
                       **_widget("f_retailer"), placeholder="All retailers")
        st.multiselect("Channels", sorted(set(r["channel"])), **_widget("f_channel"), placeholder="All channels")
        st.multiselect("Categories", sorted(set(p["category"].dropna())), **_widget("f_category"),
                       placeholder="All categories")
        st.multiselect("Brands", sorted(set(p["brand"].dropna())), **_widget("f_brand"),
                       placeholder="All brands")

    filters = Filters(period=period, year=year, start=start, end=end,
                      **{name: tuple(state.get(f"f_{key}", [])) for key, name in LIST_PARAMS.items()})
    previous = state.get(FILTERS_KEY)
    if previous is not None and previous != filters:
        state["kam_url_warnings"] = []  # the user has moved on from the link's problems
    state[FILTERS_KEY] = filters
    _write_url(filters)
    return filters


def _sidebar_drawn_this_run() -> bool:
    # A page of a `pages/` folder can run without the router: under AppTest after the first run,
    # and under `streamlit run` when the first request after start is a page's URL (Streamlit's
    # old pages-folder mode stays on until st.navigation has been called once). A page must then
    # be able to draw the sidebar itself.
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        return ctx is not None and "f_period" in ctx.shared.widget_user_keys_this_run
    except (AttributeError, ImportError):  # internals moved: drawing again would duplicate keys
        return FILTERS_KEY in st.session_state


def _leave_pages_folder_mode() -> None:
    """Under `streamlit run`, switch off the old pages-folder mode and rerun through the router."""
    try:
        from streamlit import runtime
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # internals moved: the page still works, with the default navigation
        return
    if runtime.exists() and PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what st.navigation itself does
        st.rerun()


def current_filters() -> Filters:
    """The filters in force; draws the shared sidebar if the router has not this run."""
    if not _sidebar_drawn_this_run():
        _leave_pages_folder_mode()
        return sidebar_filters(engine())
    return st.session_state.get(FILTERS_KEY, Filters())


# -- access ---------------------------------------------------------------------------
def admin_gate(page: str) -> bool:
    """The one place that decides who may use an admin page (the Data page). Open to everyone until sign-in
    exists; sign-in guards this function (say why and return False for a non-admin), not the pages."""
    return True


def filters_in_force() -> Filters:
    """The filters the router set this run, without drawing the sidebar (for a page whose content does not
    follow them, such as the Data page: its header still describes them)."""
    return st.session_state.get(FILTERS_KEY) or Filters()


# -- page furniture -------------------------------------------------------------------
def page_header(title: str, eng: Engine, filters: Filters, caption: str | None = None,
                tables: tuple[str, ...] = freshness.WEEKLY_TABLES) -> bool:
    """Title, freshness (overall, then each table the page reads, and the retailers whose sell-out is behind)
    and the filters in force. Returns False (after saying why) when there is no data."""
    st.title(title)
    if caption:
        st.caption(caption)
    for warning in st.session_state.get("kam_url_warnings", []):
        st.warning(warning, icon=":material/link_off:")
    if getattr(eng, "exists", True) is False and eng.location != ":memory:":
        st.info(f"The database {fmt.md_text(eng.location)} does not exist. Check KAM_DASH_DB (or `make run "
                "DB=...`); build the demo with `kam-dash demo`, or load your files on the Data page or with "
                "`kam-dash import FILES --db PATH`.", icon=":material/database:")
        return False
    latest = scope.latest_week(eng)
    if latest is None:
        st.info(
            "No sales data is loaded yet. Build the demo with `kam-dash demo`, or load your files with "
            "`kam-dash import FILES --db PATH` (see docs/DATA_MODEL.md for the format).",
            icon=":material/database:",
        )
        return False
    resolved = scope.resolve(eng, filters)
    st.caption(f"Data through the week of **{latest:%d %b %Y}** · {fmt.md_text(filters.describe(resolved.period))}")
    r = scope.retailers(eng)
    ids = None if resolved.retailer_ids is None else set(resolved.retailer_ids)
    names = dict(zip(r["retailer_id"], r["retailer_name"]))
    for line in freshness.describe(eng, tables, ids, names):
        st.caption(fmt.md_text(line))  # retailer names from the data: shown as typed
    units = datahealth.units_note(eng, names) if "sell_out" in tables else None
    if units:
        st.caption(fmt.md_text(units))
    return True


def missing_note(eng: Engine, tables: list[str], what: str) -> bool:
    """Say plainly which tables a part of the page needs but lacks. True when all are there."""
    missing = eng.missing(*tables)
    if missing:
        st.info(f"{what} needs the {', '.join(missing)} table{'s' if len(missing) > 1 else ''}, which "
                f"{'is' if len(missing) == 1 else 'are'} not loaded.", icon=":material/info:")
        return False
    return True


def definitions(defs: Mapping[str, str], keys: list[str] | None = None) -> None:
    with st.expander("How is this computed?"):
        for name in keys or list(defs):
            st.markdown(f"**{name}.** {defs[name]}")


def tile(column, label: str, value: str, delta: str | None = None, help: str | None = None,
         delta_color: str = "normal") -> None:
    column.metric(label, value, delta=delta if delta and delta != fmt.DASH else None, help=help,
                  delta_color=delta_color)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV for a download button: text that a spreadsheet would run as a formula is neutralised."""
    from kam_dash.export import to_csv_bytes

    return to_csv_bytes(frame)


def table(frame: pd.DataFrame, formats: Mapping[str, Callable], key: str | None = None, **kwargs):
    """Show a table with people-formatted numbers (a dash for missing)."""
    shown = frame.copy()
    for col, f in formats.items():
        if col in shown:
            shown[col] = shown[col].map(f)
    shown = shown.astype(object).where(shown.notna(), fmt.DASH)
    return st.dataframe(shown, hide_index=True, width="stretch", key=key, **kwargs)


def review_pack_download(eng: Engine, filters: Filters, retailer_id: str) -> None:
    """The "Download review pack" control: pick formats; each file is built only when clicked."""
    from kam_dash import report

    with st.expander("Download review pack", icon=":material/download:"):
        st.caption("The numbers on this page for this account, period and filters, with a line on each chart "
                   "and the definitions, ready for the retailer meeting.")
        chosen = st.multiselect("Formats", list(report.FORMATS), default=list(report.FORMATS),
                                format_func=report.FORMAT_LABELS.get, key="pack_formats")
        for column, fmt_ in zip(st.columns(max(len(chosen), 1)), chosen):
            column.download_button(
                report.FORMAT_LABELS[fmt_], icon=":material/download:", key=f"pack_{fmt_}", on_click="ignore",
                data=lambda fmt_=fmt_: report.build_pack(eng, filters, retailer_id, [fmt_])[fmt_],
                file_name=report.file_name(eng, filters, retailer_id, fmt_), mime=report.MIME[fmt_])


def store_tiles(eng: Engine, filters: Filters, retailer_id: str) -> None:
    """Distribution and velocity tiles for an account that reports POS by store (nothing for other accounts)."""
    from kam_dash.metrics import stores

    if not stores.has_store_data(eng):
        return
    k = compute(stores.account_tiles, filters, retailer_id=retailer_id)
    if k is None:
        return
    defs = stores.DEFINITIONS
    c = st.columns(4)
    tile(c[0], "Numeric distribution", fmt.pct(k["numeric_distribution"]), help=defs["Numeric distribution"])
    tile(c[1], "%ACV distribution (mean of SKUs)", fmt.pct(k["acv_distribution"]),
         help=defs["ACV-weighted distribution (%ACV)"])
    tile(c[2], "Velocity (units per store selling per week)", fmt.number(k["velocity"], 1), help=defs["Velocity"])
    tile(c[3], "Total distribution points", fmt.number(k["tdp"]), help=defs["Total distribution points (TDP)"])
