"""The only Streamlit-aware module of the library: engine and caches, the shared
sidebar filters (kept in the URL), page headers, tiles and definitions."""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
from dataclasses import replace
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
import streamlit as st

from kam_dash import datahealth, fmt, freshness, labels, scope
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


# Sessions asking for the same key at once share one computation: st.cache_data holds a lock per key while it
# computes (each caller then gets its own copy). Results shared as they are live in Engine.memo (SingleFlight).
@st.cache_data(max_entries=256, show_spinner=False)
def _cached(_fn: Callable, fn_key: str, version: str, filters_key: tuple, kwargs_key: tuple, reader_key: tuple,
            _filters, _kwargs):
    return _fn(engine(), _filters, **_kwargs)


def compute(fn: Callable, filters: Filters, **kwargs):
    """Run a metric function (engine, filters, **kwargs) through the cache, keyed on the data's version and on
    what the signed-in user may read (a result never reaches a user who may not read all of it)."""
    eng = engine()
    key = f"{fn.__module__}.{fn.__qualname__}"
    kwargs_key = tuple(sorted((k, repr(v)) for k, v in kwargs.items()))
    access = signed_in_access()
    if access is not None:
        filters = replace(filters, retailers=access.restrict(filters.retailers))
    reader_key = ("open",) if access is None else access.cache_key
    return _cached(fn, key, eng.data_version, filters.cache_key(), kwargs_key, reader_key, filters, kwargs)


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
    """Draw the shared filters in the sidebar; seed them from the URL once; keep the URL in step.
    With sign-in, first the sign-in screen (nothing else before it), and a user whose reads are restricted
    is offered, and gets, only their retailers."""
    access = signed_in_access()
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
    names = {i: n for i, n in zip(r["retailer_id"], r["retailer_name"]) if access is None or access.can_read(i)}
    with st.sidebar:
        if access is not None:
            _signed_in_box(access)
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
        kams = sorted(set(r.loc[r["retailer_id"].isin(names), "kam"].dropna())) if "kam" in r else []
        st.multiselect("KAM", kams, **_widget("f_kam"), placeholder="All KAMs",
                       help="The key account manager of each retailer (the retailers table's kam column): their "
                       "accounts only.")
        st.multiselect("Retailers", sorted(names, key=lambda i: names[i]), format_func=lambda i: names.get(i, i),
                       **_widget("f_retailer"), placeholder="All retailers")
        st.multiselect("Channels", sorted(set(r["channel"])), **_widget("f_channel"), placeholder="All channels")
        st.multiselect("Categories", sorted(set(p["category"].dropna())), **_widget("f_category"),
                       placeholder="All categories")
        st.multiselect("Brands", sorted(set(p["brand"].dropna())), **_widget("f_brand"),
                       placeholder="All brands")

    chosen = Filters(period=period, year=year, start=start, end=end,
                     **{name: tuple(state.get(f"f_{key}", [])) for key, name in LIST_PARAMS.items()})
    # the URL keeps what the user chose; every query gets the choice within what they may read
    filters = chosen if access is None else replace(chosen, retailers=access.restrict(chosen.retailers))
    previous = state.get(FILTERS_KEY)
    if previous is not None and previous != filters:
        state["kam_url_warnings"] = []  # the user has moved on from the link's problems
    state[FILTERS_KEY] = filters
    _write_url(chosen)
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
ACCESS_KEY = "kam_access"


def sign_in_configured() -> bool:
    """Sign-in is on when the secrets have an [auth] section (Streamlit's OpenID Connect); else the app is open."""
    return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)


def menu_position() -> str:
    """The page menu is hidden before sign-in (the sign-in screen is all there is)."""
    return "hidden" if sign_in_configured() and not st.user.is_logged_in else "sidebar"


def _sign_in_screen() -> None:
    st.title("kam-dash")
    st.markdown("Sign in to see the dashboards and the account plans.")
    st.button("Sign in", type="primary", icon=":material/login:", key="sign_in", on_click=st.login)
    st.stop()


def _signed_in_box(access) -> None:
    user = access.user
    st.caption(f"Signed in as **{fmt.md_text(user.name)}** ({fmt.md_text(user.email)}), {user.role}"
               + (", your retailers only" if access.readable is not None else ""))
    st.button("Sign out", icon=":material/logout:", key="sign_out", on_click=st.logout)


def signed_in_access():
    """The signed-in user's kam_dash.auth.Access, or None when sign-in is off (the app is open to all).

    Before sign-in this draws the sign-in screen and stops the run, so no figure is ever shown; a signed-in
    email without a kam-dash account (or a restricted one without retailers) is told so and stopped.
    Resolved once per run (a changed role applies on the user's next click)."""
    from kam_dash import auth

    if not sign_in_configured():
        return None
    if not st.user.is_logged_in:
        _sign_in_screen()
    run = _run_marker()
    kept = st.session_state.get(ACCESS_KEY)
    email = auth.normal_email(st.user.get("email"))
    if kept is not None and kept[0] is run and kept[1].user.email == email:
        return kept[1]
    # a provider that says it has not verified the address cannot vouch for who this is
    user = None if st.user.get("email_verified") is False else auth.get_user(state(), email)
    if user is None:
        why = ("whose email the sign-in provider has not verified: verify it there, then sign in again"
               if st.user.get("email_verified") is False else "who has no kam-dash account: ask an admin to add you")
        st.error(f"You are signed in as {fmt.md_text(email or '(no email)')}, {why}.", icon=":material/person_off:")
        st.button("Sign out", icon=":material/logout:", key="sign_out_unknown", on_click=st.logout)
        st.stop()
    access = auth.access_for(user, scope.retailers(engine()))
    if access.readable is not None and not access.readable:
        st.error(f"{fmt.md_text(email)} may read only their own retailers, and none is assigned: ask an admin.",
                 icon=":material/person_off:")
        st.button("Sign out", icon=":material/logout:", key="sign_out_none", on_click=st.logout)
        st.stop()
    st.session_state[ACCESS_KEY] = (run, access)
    return access


def admin_gate(page: str) -> bool:
    """The one place that decides who may use an admin page (Data, Users): everyone while sign-in is off;
    with sign-in, admins only (anyone else is told why)."""
    access = signed_in_access()
    if access is None or access.user.role == "admin":
        return True
    st.title(page)
    st.warning(f"The {page} page is for admins; you are signed in as {fmt.md_text(access.user.email)} "
               f"({access.user.role}).", icon=":material/lock:")
    return False


def may_edit(retailer_id: str, names: Mapping[str, str] | None = None) -> bool:
    """Whether the user may edit this account's plan; says why not once (the library refuses such saves too)."""
    access = signed_in_access()
    if access is None or access.can_edit(retailer_id):
        return True
    st.info(fmt.md_text(access.edit_refusal(retailer_id, dict(names or {}))), icon=":material/lock:")
    return False


def filters_in_force() -> Filters:
    """The filters the router set this run, without drawing the sidebar (for a page whose content does not
    follow them, such as the Data page: its header still describes them)."""
    return st.session_state.get(FILTERS_KEY) or Filters()


# -- page furniture -------------------------------------------------------------------
PHONE_WIDTH = 640  # px: below it Streamlit stacks columns one per row
_LAYOUT_CSS = f"""<style>
/* A link's label (the needs-attention lines) wraps instead of being clipped at the edge, at any width. */
[data-testid="stPageLink"] p {{ white-space: normal; overflow-wrap: anywhere; }}
[data-testid="stPageLink"] a {{ height: auto; }}
@media (max-width: {PHONE_WIDTH}px) {{
  /* Tiles two per row, not one under another. */
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] > [data-testid="stVerticalBlock"]
      > [data-testid="stElementContainer"] [data-testid="stMetric"]) {{ flex-wrap: wrap; gap: 0.5rem; }}
  [data-testid="stColumn"]:has(> [data-testid="stVerticalBlock"] > [data-testid="stElementContainer"]
      [data-testid="stMetric"]) {{
    flex: 1 1 calc(50% - 0.5rem) !important; width: calc(50% - 0.5rem) !important;
    min-width: calc(50% - 0.5rem) !important; max-width: calc(50% - 0.5rem) !important;
  }}
  [data-testid="stMetricValue"] {{ font-size: 1.4rem; }}
  [data-testid="stMetricLabel"] p {{ white-space: normal; }}
}}
</style>"""


def phone_layout() -> None:
    """Style the app for small screens (called once per run by the router): tiles two per row below
    PHONE_WIDTH, link labels that wrap instead of being cut off. Expert controls stay in collapsed expanders."""
    st.html(_LAYOUT_CSS)


@functools.cache
def _chart_code_url() -> str | None:
    """The URL of the browser code that draws plotly charts (a 4.7 MB chunk of Streamlit's frontend), or None
    when this Streamlit's build does not have exactly one."""
    import streamlit

    found = sorted((Path(streamlit.__file__).parent / "static" / "static" / "js").glob("PlotlyChart.*.js"))
    if len(found) != 1:
        return None
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return "/" + (f"{base}/" if base else "") + f"static/js/{found[0].name}"


def start_chart_code() -> None:
    """Have the browser load and run the plotly chart code now, while the server computes the page.

    Why: a new tab runs plotly's code (about 1.1 s of the browser's one thread on a 2-core machine) only when
    the first chart arrives, after the page's queries; started here it overlaps them (drawn 0.6 s sooner on a
    three-chart page with 0.6 s of server work; on the app's pages the gain was within the machine's noise).
    Called by the router for pages that draw charts; a page without charts would only wait
    longer for it. Loading the module a second time (a rerun, another page) does nothing."""
    url = _chart_code_url()
    if url is not None:
        st.html(f"<script type=\"module\">import({json.dumps(url)}).catch(() => {{}});</script>",
                unsafe_allow_javascript=True)


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
    r = scope.retailers(eng)
    retailer_names = dict(zip(r["retailer_id"], r["retailer_name"]))
    st.caption(f"Data through the week of **{latest:%d %b %Y}** · "
               f"{filters.describe(resolved.period, fmt.md_text, retailer_names)}")
    ids = None if resolved.retailer_ids is None else set(resolved.retailer_ids)
    names = {rid: fmt.md_text(name) for rid, name in zip(r["retailer_id"], r["retailer_name"])}  # shown as typed
    for line in freshness.describe(eng, tables, ids, names):
        st.caption(line)
    units = datahealth.units_note(eng, names) if "sell_out" in tables else None
    if units:
        st.caption(units)
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
         delta_color: str = "normal", delta_arrow: str = "auto") -> None:
    """A figure with its label; `delta` must say what it compares with ("+3.0% vs plan", "-1.2 pts")."""
    column.metric(label, value, delta=delta if delta and not delta.startswith(fmt.DASH) else None, help=help,
                  delta_color=delta_color, delta_arrow=delta_arrow)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV for a download button: text that a spreadsheet would run as a formula is neutralised."""
    from kam_dash.export import to_csv_bytes

    return to_csv_bytes(frame)


def all_rows_csv(frame: pd.DataFrame) -> bytes:
    """Every row of a table as the CSV under it: codes and headings in words, spreadsheet-safe."""
    return csv_bytes(labels.spell_codes(frame).rename(columns=labels.headings(frame.columns)))


TABLE_ROWS = 200  # rows a table shows on screen; the CSV under it holds them all
# An id column is left out on screen where the name beside it says the same (the CSV keeps both).
_ID_BESIDE_NAME = {"retailer_id": "retailer_name", "sku_id": "sku_name", "store_id": "store_name"}


def table(frame: pd.DataFrame, formats: Mapping[str, Callable] | None = None, key: str | None = None, *,
          limit: int = TABLE_ROWS, csv_name: str | None = None, column_config: Mapping | None = None, **kwargs):
    """The one way a table reaches the screen, so every table reads alike: headings in words (a machine name
    becomes its labels.heading), mechanic, channel, status and function codes in words, ids left out where a
    name says the same, numbers formatted for people (`formats`, keyed by column as given; a dash for missing).

    A table longer than `limit` rows shows its first `limit`, says "200 of 21,312 rows shown", and offers every
    row as CSV (spreadsheet-safe, as every export) under `csv_name` (default: the key)."""
    formats = dict(formats or {})
    shown = frame.drop(columns=[i for i, n in _ID_BESIDE_NAME.items() if i in frame and n in frame])
    total = len(shown)
    if total > limit:
        shown = shown.head(limit)
    shown = labels.spell_codes(shown)
    for col, f in formats.items():
        if col in shown:
            shown[col] = shown[col].map(lambda v, f=f: fmt.DASH if _missing(v) else f(v))
    shown = shown.astype(object).where(shown.notna(), fmt.DASH)
    names = labels.headings(shown.columns)
    shown = shown.rename(columns=names)
    config = {names.get(c, labels.heading(c)): v for c, v in (column_config or {}).items()}
    event = st.dataframe(shown, hide_index=True, width="stretch", key=key, column_config=config or None,
                         **kwargs)
    if total > limit:
        left, right = st.columns([2, 1])
        left.caption(f"{limit:,} of {total:,} rows shown; the CSV holds them all.")
        # built when the button is clicked, not on every rerun (21K rows took ~1.7 s per run)
        right.download_button("Download all rows (CSV)", lambda: all_rows_csv(frame),
                              f"{csv_name or key or 'table'}.csv", "text/csv",
                              key=None if key is None else f"{key}_all_rows", icon=":material/download:")
    return event


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array cell is not missing
        return False


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


# -- account plans (the read-write state) ---------------------------------------------
ACTOR_KEY = "kam_actor"
FLASH_KEY = "kam_plan_flash"
STATUS_COLOR = {"on track": "green", "at risk": "orange", "off track": "red", "no data": "gray"}


def current_actor(ask: bool = True) -> str | None:
    """Who is editing, recorded with every change: with sign-in the signed-in email (never asked); without,
    the name the user gives once per session (asked for here when `ask` and not given yet)."""
    access = signed_in_access()
    if access is not None:
        return access.actor
    name = (st.session_state.get(ACTOR_KEY) or "").strip()
    if name or not ask:
        return name or None

    def keep():
        st.session_state[ACTOR_KEY] = st.session_state["actor_input"].strip()

    st.text_input("Your name", key="actor_input", on_change=keep, placeholder="e.g. Avery Chen",
                  help="Recorded with every change you make; asked once per session.")
    st.caption("Give your name to add or edit: every change is recorded with its author.")
    return None


@st.cache_resource(max_entries=4, show_spinner=False)
def _store(path: str):
    from kam_dash.state.store import Store

    return Store(path)


def state(required: bool = True):
    """The state database (account plans); stops the page with a message when `required` and it cannot open,
    else returns None so an analytics page goes on without the plan."""
    from kam_dash.state.store import StateError, state_path_from_env

    path = state_path_from_env()
    if not required and not path.exists():
        return None  # no plan kept yet: an analytics page does not create one
    try:
        return _store(str(path))
    except (StateError, OSError) as exc:
        (st.error if required else st.caption)(f"The account plans are unavailable: {exc}")
        if required:
            st.stop()
        return None


LAST_ACCOUNT_KEY = "kam_last_account"


def own_accounts() -> frozenset[str]:
    """The signed-in KAM's own retailers (empty for anyone else, and while sign-in is off)."""
    access = signed_in_access()
    if access is None or access.user.role != "kam" or access.editable is None:
        return frozenset()
    return access.editable


def pick_account(eng: Engine, filters: Filters, key: str = "account"):
    """The retailer in view and the choices {id: name}, a signed-in KAM's own accounts first: the URL's `key`
    (a link), else the account last viewed in this session, else the biggest account in view by YTD sales (a
    signed-in KAM's biggest own account first; within what the user may read and the KAM filter), else the
    first by name. Keeps the URL and the session in step; warns when a link cannot be honoured."""
    from kam_dash.metrics import account

    choices = account.account_choices(eng, filters)
    own = own_accounts()
    requested = st.query_params.get(key)
    preferred = (st.session_state.get(LAST_ACCOUNT_KEY),)
    if requested is None and preferred[0] not in set(choices["retailer_id"]):
        biggest_own = compute(account.biggest_account, filters.with_(retailers=tuple(sorted(own)))) if own else None
        preferred = (biggest_own, compute(account.biggest_account, filters))
    rid, warning = account.pick_account(choices, scope.retailers(eng)["retailer_id"], requested, preferred)
    if warning:
        st.warning(warning, icon=":material/link_off:")
    if rid is None:
        return None, {}
    if st.query_params.get(key) != rid:
        st.query_params[key] = rid
    st.session_state[key] = st.session_state[LAST_ACCOUNT_KEY] = rid  # the URL decides, then the session keeps it
    ordered = sorted(zip(choices["retailer_id"], choices["retailer_name"]), key=lambda pair: pair[0] not in own)
    return rid, dict(ordered)


def account_picker(eng: Engine, filters: Filters, key: str = "account"):
    """The retailer in view (see pick_account) and its selectbox, kept in the URL."""
    rid, names = pick_account(eng, filters, key)
    if rid is None:
        st.info("No retailer matches the sidebar filters.")
        return None, {}

    def keep() -> None:
        st.query_params[key] = st.session_state[LAST_ACCOUNT_KEY] = st.session_state[key]

    st.selectbox("Account", list(names), format_func=names.get, key=key, on_change=keep)
    return rid, names


def plan_progress(eng: Engine, objectives: pd.DataFrame) -> pd.DataFrame:
    """Objectives with their live progress and status (metric values cached like every page's)."""
    from kam_dash.metrics import objectives as objective_metrics

    return objective_metrics.plan_progress(eng, objectives, compute=compute)


def _shown_value(measure: str, value) -> str:
    from kam_dash.metrics.objectives import MEASURE_INFO

    return fmt.money(value) if MEASURE_INFO[measure].unit == "money" else fmt.pct(value)


def objectives_progress(eng: Engine, store, retailer_id: str, year: int, compact: bool = False) -> pd.DataFrame:
    """Draw a retailer's objectives of a plan year with progress bars and status; returns them with progress."""
    from kam_dash.metrics.objectives import MEASURE_INFO
    from kam_dash.state import plans

    objectives = plans.records(store, "objectives", retailer_id, year)
    if objectives.empty:
        st.caption(f"No objectives for {year} yet." + (" Add them on the Account plan page." if compact else ""))
        return objectives
    progressed = plan_progress(eng, objectives)
    columns = st.columns(2) if compact else [st.container()]
    for i, o in enumerate(progressed.itertuples()):
        with columns[i % len(columns)]:
            st.markdown(f"**{o.title}** · {MEASURE_INFO[o.measure].label} · :{STATUS_COLOR[o.status]}[{o.status}]",
                        help=o.status_reason)
            bar = 0.0 if pd.isna(o.progress) else float(min(max(o.progress, 0.0), 1.0))
            st.progress(bar, text=f"{_shown_value(o.measure, o.actual_value)} of "
                        f"{_shown_value(o.measure, o.target_value)} ({fmt.pct(o.progress, 0)}); "
                        f"{fmt.pct(o.expected_progress, 0)} expected by now · due {o.due_date}"
                        + ("" if compact else f" · {o.owner}"))
            if not compact:
                st.caption(f"{o.status.capitalize()}: {o.status_reason}")
    return progressed


def flash(message: str) -> None:
    """A message to show after the rerun that follows a save."""
    st.session_state[FLASH_KEY] = message


def show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message, icon=":material/check:")


def _field_input(f, value, key: str, choices: Mapping[str, Mapping] | None, disabled: bool = False):
    label = f.name.replace("_", " ").capitalize() + ("" if f.required else " (optional)")
    options = (choices or {}).get(f.name)
    if options is not None or f.allowed:
        options = dict(options) if options is not None else {a: a.replace("_", " ") for a in f.allowed}
        if not f.required:
            options = {"": "(none)", **options}
        keys = list(options)
        index = keys.index(value) if value in keys else 0
        return st.selectbox(label, keys, index=index, format_func=options.get, key=key, disabled=disabled)
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else (
        f"{value:.15g}" if isinstance(value, float) else str(value))  # every digit: a save must not round
    if f.kind == "long_text":
        return st.text_area(label, text, key=key, height=90, disabled=disabled)
    placeholder = "YYYY-MM-DD" if f.kind == "date" else None
    return st.text_input(label, text, key=key, placeholder=placeholder, disabled=disabled, help=f.meaning or None)


def _save_record(store, kind: str, key: str, pick: str, fixed: Mapping, refs, version: int | None,
                 delete: bool, values: Mapping | None = None) -> None:
    """The editor's Save / Delete (a button callback: it runs before the page, so the page draws the result).
    values: the form's values (default: read from its widgets)."""
    from kam_dash.state import plans
    from kam_dash.state.store import StaleEdit, StateError

    spec = plans.RECORD_TYPES[kind]
    actor = current_actor(ask=False)
    prefix = f"{key}:{pick}:"
    st.session_state.pop(f"{key}_stale", None)
    try:
        if delete:
            plans.delete(store, kind, pick, actor, version, access=signed_in_access())
            message = f"Deleted {spec.label} {pick}."
        else:
            if values is None:
                values = {f.name: fixed[f.name] if f.name in fixed else st.session_state.get(prefix + f.name)
                          for f in spec.fields}
                if version is not None:
                    values[spec.key] = pick
                values = {k: (None if v == "" else v) for k, v in values.items()}
            saved = plans.save(store, kind, values, actor, version, refs, access=signed_in_access())
            message = f"Saved {spec.label} {saved[spec.key]}."
    except StaleEdit as exc:
        # someone else saved (or deleted) it since this form was drawn: ask, never overwrite silently
        current = plans.get(store, kind, pick)
        st.session_state[f"{key}_stale"] = {"pick": pick, "message": str(exc), "values": values, "delete": delete,
                                            "version": None if current is None else current["version"]}
        return
    except StateError as exc:
        st.session_state[f"{key}_error"] = str(exc)
        return
    for k in [k for k in st.session_state if str(k).startswith(f"{key}:__new__:")] + [f"{key}_new_id"]:
        del st.session_state[k]
    if delete:
        st.session_state[f"{key}_pick"] = "__new__"
    flash(message)


def _keep_theirs(key: str, pick: str) -> None:
    """Drop the refused edit and show the stored record in the form again."""
    st.session_state.pop(f"{key}_stale", None)
    for k in [k for k in st.session_state if str(k).startswith(f"{key}:{pick}:")]:
        del st.session_state[k]


def _ask_about_stale_edit(store, kind: str, key: str, pick: str, fixed: Mapping, refs) -> None:
    """After a refused save: say who changed the record, and offer to keep theirs or to save this edit over it."""
    stale = st.session_state.get(f"{key}_stale")
    if not stale or stale["pick"] != pick:
        return
    st.warning(stale["message"].replace("reload to see theirs, then edit again", "keep theirs, or save yours "
                                        "over it"), icon=":material/sync_problem:")
    left, right = st.columns(2)
    left.button("Keep theirs", key=f"{key}_theirs", icon=":material/undo:", on_click=_keep_theirs, args=(key, pick))
    if stale["version"] is not None:  # a deleted record has nothing to save over
        right.button("Delete theirs" if stale["delete"] else "Save mine over theirs", key=f"{key}_mine",
                     icon=":material/save:", on_click=_save_record,
                     args=(store, kind, key, pick, fixed, refs, stale["version"], stale["delete"], stale["values"]))


def record_editor(store, kind: str, frame: pd.DataFrame, refs, key: str, fixed: Mapping | None = None,
                  choices: Mapping[str, Mapping] | None = None, defaults: Mapping | None = None,
                  describe: Callable | None = None, editable: bool = True) -> None:
    """Add, edit or delete one record of `kind` with a form: every save validated (a message in words, nothing
    stored when refused), checked against the version read, recorded in the history shown below it.

    fixed: fields the page decides (e.g. the retailer); choices: field -> {value: label} for pickers;
    describe: row -> label in the record picker; editable: False for a reader (see may_edit): no form."""
    from kam_dash.state import plans

    if not editable:
        return

    spec = plans.RECORD_TYPES[kind]
    fixed, defaults = dict(fixed or {}), dict(defaults or {})
    rows = {r[spec.key]: r for r in frame.to_dict("records")}
    new = "__new__"
    if st.session_state.get(f"{key}_pick", new) not in (new, *rows):
        st.session_state[f"{key}_pick"] = new  # the record went away (deleted elsewhere, or another account)
    pick = st.selectbox(f"Add or edit {spec.label}s", [new, *rows], key=f"{key}_pick",
                        format_func=lambda k: f"+ New {spec.label}" if k == new else
                        (describe(rows[k]) if describe else k))
    record = rows.get(pick)
    new_id_key = f"{key}_new_id"
    if new_id_key not in st.session_state:
        st.session_state[new_id_key] = plans.new_id(kind)
    prefix = f"{key}:{pick}:"
    actor = current_actor(ask=False)
    version = None if record is None else int(record["version"])
    with st.form(f"{key}_form_{pick}", border=True):
        for f in spec.fields:
            if f.name in fixed:
                continue
            if f.name == spec.key:
                _field_input(f, st.session_state[new_id_key] if record is None else pick, prefix + f.name, None,
                             disabled=record is not None)
            else:
                _field_input(f, (record or defaults).get(f.name), prefix + f.name, choices)
        left, right = st.columns(2)
        left.form_submit_button("Save", type="primary", icon=":material/save:", disabled=actor is None,
                                key=f"{key}_save", on_click=_save_record,
                                args=(store, kind, key, pick, fixed, refs, version, False))
        if record is not None:
            right.form_submit_button("Delete", icon=":material/delete:", disabled=actor is None,
                                     key=f"{key}_delete", on_click=_save_record,
                                     args=(store, kind, key, pick, fixed, refs, version, True))
    error = st.session_state.pop(f"{key}_error", None)
    if error:
        st.error(error, icon=":material/error:")
    _ask_about_stale_edit(store, kind, key, pick, fixed, refs)
    if actor is None:
        st.caption("Give your name above to save changes.")
    if record is not None:
        with st.expander(f"History of {spec.label} {pick}", icon=":material/history:"):
            table(plans.history(store, kind, pick), key=f"{key}_history")


def _make_initiative(store, key: str, steps: list, refs) -> None:
    from kam_dash.state import plans
    from kam_dash.state.store import StateError

    state_ = st.session_state
    step = steps[state_[f"{key}_step"]][2]
    try:
        saved = plans.save(store, "initiatives", dict(
            initiative_id=plans.new_id("initiatives"), objective_id=state_[f"{key}_objective"], title=step,
            owner=state_[f"{key}_owner"], function=state_[f"{key}_function"], status="planned",
            due_date=state_[f"{key}_due"]), current_actor(ask=False), refs=refs,
            access=signed_in_access())
    except StateError as exc:
        state_[f"{key}_error"] = str(exc)
        return
    flash(f"Saved initiative {saved['initiative_id']}: {step}")


def next_step_to_initiative(store, meetings: pd.DataFrame, objective_titles: Mapping[str, str], refs,
                            key: str, editable: bool = True) -> None:
    """Turn a meeting's next step into an initiative under an objective of the account."""
    from kam_dash.state import plans

    if not editable:
        return

    steps = [(m["meeting_id"], m["date"], step) for m in meetings.to_dict("records") for step in plans.next_steps(m)]
    if not steps:
        return
    if not objective_titles:
        st.caption("Add an objective for this plan year to turn next steps into initiatives.")
        return
    actor = current_actor(ask=False)
    with st.form(f"{key}_form"):
        st.markdown("**Make a next step an initiative**")
        st.selectbox("Next step", range(len(steps)), key=f"{key}_step",
                     format_func=lambda i: f"{steps[i][2]} (meeting of {steps[i][1]})")
        c = st.columns(4)
        c[0].selectbox("Objective", list(objective_titles), format_func=objective_titles.get, key=f"{key}_objective")
        c[1].selectbox("Function", plans.FUNCTIONS, key=f"{key}_function")
        c[2].text_input("Owner", actor or "", key=f"{key}_owner")
        c[3].text_input("Due date", (dt.date.today() + dt.timedelta(weeks=2)).isoformat(), key=f"{key}_due",
                        placeholder="YYYY-MM-DD")
        st.form_submit_button("Make it an initiative", icon=":material/add_task:", disabled=actor is None,
                              key=f"{key}_make", on_click=_make_initiative, args=(store, key, steps, refs))
    error = st.session_state.pop(f"{key}_error", None)
    if error:
        st.error(error, icon=":material/error:")


def stale_contacts_warning(store, retailer_id: str) -> None:
    """Name the account's decision makers not contacted lately (see plans.relationship_flags)."""
    from kam_dash.state import plans
    from kam_dash.state.store import StateError

    try:
        flags = plans.relationship_flags(store, dt.date.today())
    except StateError as exc:  # a bad KAM_DASH_STALE_CONTACT_DAYS
        st.caption(f"Stale contacts are not checked: {exc}")
        return
    reasons = [part for reason in flags.loc[flags["retailer_id"] == retailer_id, "reason"]
               for part in reason.split("; ") if part.startswith("decision maker")]
    if reasons:
        words = "; ".join(reasons)
        st.warning(words[0].upper() + words[1:], icon=":material/person_alert:")


def relationship_attention(store, filters: Filters, page: str = "pages/account_plan.py") -> None:
    """The Portfolio's attention lines from the plan and the relationship: overdue or blocked initiatives and
    decision makers not contacted lately, each a link to that account's plan."""
    from kam_dash.state import plans
    from kam_dash.state.store import StateError

    try:
        flags = plans.relationship_flags(store, dt.date.today())
    except StateError as exc:
        st.caption(f"Plan and relationship checks unavailable: {exc}")
        return
    from kam_dash.metrics import account

    in_view = account.account_choices(engine(), filters)  # the sidebar's retailers and channels
    names = dict(zip(in_view["retailer_id"], in_view["retailer_name"]))
    flags = flags[flags["retailer_id"].isin(names)]
    if flags.empty:
        return
    st.markdown(f"**Plan and relationship ({len(flags)} account{'s' if len(flags) > 1 else ''})** · click to "
                "open the account plan")
    for r in flags.itertuples():
        st.page_link(page, label=f"**{names.get(r.retailer_id, r.retailer_id)}**: {r.reason}",
                     icon=":material/handshake:", query_params={**filters.to_params(), "account": r.retailer_id})


def account_objectives(eng: Engine, filters: Filters, retailer_id: str) -> None:
    """The account's plan objectives with live progress, for the top of the Account review (one call)."""
    from kam_dash.metrics import plan
    from kam_dash.state import plans

    store = state(required=False)
    latest = scope.latest_week(eng)
    if store is None or latest is None:
        return
    year = plan.plan_year(filters, latest)
    if plans.records(store, "objectives", retailer_id, year).empty:
        return  # no plan for this account and year: the Account plan page is in the menu
    with st.expander(f"Account plan {year}: objectives", expanded=True, icon=":material/handshake:"):
        objectives_progress(eng, store, retailer_id, year, compact=True)
        st.page_link("pages/account_plan.py", label="Open the account plan", icon=":material/arrow_forward:",
                     query_params={**filters.to_params(), "account": retailer_id})

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
