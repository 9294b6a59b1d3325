"""The browser bench: each page as a person gets it, in headless Chromium against `streamlit run app.py`.

A page load is timed from the start of navigation until the page is drawn: the script is idle
(`[data-testid='stApp'][data-test-script-state='notRunning']`), no spinner, skeleton or stale element is left, every
plotly chart has drawn its SVG and every tile (stMetric) shows its value. The moment is taken inside the page (a
script added to every document watches the DOM and notes `performance.now()`), so the bench's own polling and
Playwright's round trips are not counted; a page counts as drawn once that state has held for SETTLE_MS (a rerun
queued right after a run would break it).

Per page, on a fresh `streamlit run`:
- cold: the page's default view as the first page the server serves (server start to drawn);
- first view: each other view's first visit, in a new session on that (now warm) server; its data work is not
  cached yet;
- warm: then `runs` more visits of the same view, each in a new browser context (a new session); the median.
Pages are read from app.py's PAGES (the sidebar), so a new page is timed without touching the bench.

In the app: the default view reached by a click in the sidebar menu from another page, as every page after the
first is reached (the browser has the app's code; click to drawn).

The stack's floor: pages with no data work (bench/floor/: tiles and a table; the same with three plotly charts),
timed the same way: what Streamlit and plotly cost by themselves on this machine.

Concurrency: `sessions` sessions at once, on different pages and views, against one warm server (a fresh server
that has served one page), beside the same loads one after another on another fresh, equally warm server. Each
session's tiles must equal those of the same page alone.

Run alone: `python -m bench.browser --scales small --pages Portfolio --runs 1`.
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from kam_dash.filters import Filters  # noqa: E402
from tests.e2e.live_app import CHROMIUM, CHROMIUM_ARGS, DRAWN_FN, start_server, stop_server  # noqa: E402

VIEWPORT = {"width": 1500, "height": 1000}
SETTLE_MS = 300  # the drawn state must hold this long (a queued rerun starts within ~100 ms of the run's end)
LOAD_TIMEOUT_S = 300  # 16 sessions at once at the larger scales took minutes when issue 16 was filed

# Added to every document: notes when the page is drawn (live_app.DRAWN_FN, as the browser tests wait for it), and
# forgets it whenever the page stops being drawn.
READY_JS = """
(() => {
  // awaitRun: set by the bench before a click inside the page; until the script has been seen running again the
  // old page does not count as drawn
  const state = { readyAt: null, idleAt: null, awaitRun: false };
  window.__kamBench = state;
  const isDrawn = %s;
  let lastScriptState = null;
  const check = () => {
    const app = document.querySelector("[data-testid='stApp']");
    const scriptState = app && app.getAttribute("data-test-script-state");
    if (scriptState === "notRunning" && lastScriptState !== "notRunning") state.idleAt = performance.now();
    lastScriptState = scriptState;
    if (state.awaitRun && scriptState && scriptState !== "notRunning") state.awaitRun = false;
    if (state.awaitRun || !isDrawn()) state.readyAt = null;
    else if (state.readyAt === null) state.readyAt = performance.now();
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
  setInterval(check, 50);
})();
""" % DRAWN_FN.strip()
SETTLED_JS = f"() => window.__kamBench && window.__kamBench.readyAt !== null " \
             f"&& performance.now() - window.__kamBench.readyAt >= {SETTLE_MS}"
# What the page shows once drawn: when it was drawn, the tiles, the charts and any exception.
READ_JS = """
() => ({
  readyAt: window.__kamBench.readyAt,
  idleAt: window.__kamBench.idleAt,
  origin: performance.timeOrigin,
  tiles: Array.from(document.querySelectorAll("[data-testid='stMetric']")).map(t => [
    (t.querySelector("[data-testid='stMetricLabel']") || {}).innerText || "",
    (t.querySelector("[data-testid='stMetricValue']") || {}).innerText || ""]),
  charts: document.querySelectorAll("[data-testid='stPlotlyChart']").length,
  exceptions: Array.from(document.querySelectorAll("[data-testid='stException']")).map(e => e.innerText),
})
"""


# -- the pages and views ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    name: str  # the file's name in pages/ without .py (as bench/pages/ names its modules)
    title: str
    url_path: str  # "" for the app's default page, served at /


def sidebar_pages(app: Path = ROOT / "app.py") -> list[Page]:
    """The pages in app.py's sidebar, in menu order: its PAGES, where the page's file exists (as app.py does)."""
    tree = ast.parse(app.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PAGES" for t in node.targets):
            sections = ast.literal_eval(node.value)
            break
    else:
        raise RuntimeError(f"{app} has no PAGES = {{...}}")
    files = [(file, title) for pages in sections.values() for file, title, _icon in pages
             if (app.parent / "pages" / file).exists()]
    return [Page(file.removesuffix(".py"), title, "" if i == 0 else file.removesuffix(".py"))
            for i, (file, title) in enumerate(files)]


def page_url(base: str, page: Page, filters: Filters) -> str:
    query = urlencode(filters.to_params(), doseq=True)
    return f"{base}/{page.url_path}?{query}"


def views_of(db: Path) -> list[tuple[str, Filters]]:
    """The views bench/run.py times, for this database."""
    from bench.scales import variants
    from kam_dash.engine import DuckDBEngine

    engine = DuckDBEngine(db)
    try:
        return variants(engine)
    finally:
        engine.close()


# -- one page load ---------------------------------------------------------------------------------------------
@dataclass
class Load:
    ms: float | None  # navigation start to drawn; None when not drawn
    script_ms: float | None = None  # navigation start to the script's last finish before drawn
    started: float = 0.0  # navigation start, epoch ms (the browser's clock)
    tiles: dict[str, str] = field(default_factory=dict)
    charts: int = 0
    error: str | None = None

    @property
    def done(self) -> float | None:
        return None if self.ms is None else self.started + self.ms


def new_session(browser):
    """A new browser context (no shared cookies or storage: a new Streamlit session) with one page."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(READY_JS)
    page = context.new_page()
    page.set_default_timeout(LOAD_TIMEOUT_S * 1000)
    return context, page


def drawn(page) -> Load:
    """Wait until the page is drawn and settled; read its figures."""
    try:
        page.wait_for_function(SETTLED_JS, polling=100, timeout=LOAD_TIMEOUT_S * 1000)
    except Exception as exc:  # a timeout or a crashed page is a result to report, not a reason to stop the bench
        return Load(None, error=f"not drawn within {LOAD_TIMEOUT_S} s: {type(exc).__name__}")
    state = page.evaluate(READ_JS)
    error = ("exception shown: " + state["exceptions"][0][:300]) if state["exceptions"] else None
    return Load(state["readyAt"], state["idleAt"], state["origin"], dict(state["tiles"]), state["charts"], error)


def load(browser, url: str) -> Load:
    """One visit in a new session."""
    context, page = new_session(browser)
    try:
        page.goto(url, wait_until="commit")
        return drawn(page)
    finally:
        context.close()


def navigate_in_app(browser, base: str, start: Page, page: Page, filters: Filters) -> Load:
    """A person already in the app: open `start`, then click `page` in the sidebar menu; click to drawn. The
    browser has the app's code loaded (no new session, no new document), as for every page after the first."""
    context, tab = new_session(browser)
    try:
        tab.goto(page_url(base, start, filters), wait_until="commit")
        first = drawn(tab)
        if first.ms is None:
            return first
        link = tab.get_by_test_id("stSidebarNav").get_by_role("link", name=page.title, exact=True)
        clicked_at = tab.evaluate("() => { window.__kamBench.readyAt = null; window.__kamBench.awaitRun = true; "
                                  "return performance.now(); }")
        link.click()
        result = drawn(tab)
        if result.ms is not None:
            result.script_ms = None if result.script_ms is None else result.script_ms - clicked_at
            result.ms -= clicked_at
        return result
    finally:
        context.close()


# -- per page: cold, first view, warm ---------------------------------------------------------------------------
def _median(values: list[float | None]) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def launch(pw):
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium')")
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def measure_page(browser, db: Path, page: Page, views, runs: int, cold_runs: int, log_dir: Path,
                 say=print, start: Page | None = None) -> list[dict]:
    """Cold, first-view and warm times of one page's views, and (with `start`, another sidebar page) the default
    view reached by a click in the sidebar from `start`; one record per view."""
    cold: list[float | None] = []
    navigated: list[Load] = []
    first: dict[str, Load] = {}
    warm: dict[str, list[Load]] = {label: [] for label, _ in views}
    default_label, default_filters = views[0]
    for attempt in range(max(cold_runs, 1)):
        t0 = time.monotonic()
        proc, base = start_server(db, log_dir / f"{page.url_path or 'default'}-{attempt}.log")
        try:
            context, tab = new_session(browser)
            try:
                t_nav = time.monotonic()
                tab.goto(page_url(base, page, default_filters), wait_until="commit")
                result = drawn(tab)
            finally:
                context.close()
            cold.append(None if result.ms is None else (t_nav - t0) * 1000 + result.ms)
            first.setdefault(default_label, result)
            say(f"  {page.title} · {default_label}: cold {_fmt(cold[-1])}")
            if attempt < max(cold_runs, 1) - 1:
                continue
            # the server is warm now: the other views' first visits, then `runs` new sessions per view
            for label, filters in views:
                url = page_url(base, page, filters)
                if label not in first:
                    first[label] = load(browser, url)
                warm[label] = [load(browser, url) for _ in range(runs)]
                say(f"  {page.title} · {label}: first view {_fmt(first[label].ms)}, "
                    f"warm {', '.join(_fmt(r.ms) for r in warm[label])} "
                    f"(script done at {', '.join(_fmt(r.script_ms) for r in warm[label])})")
            if start is not None:
                navigated = [navigate_in_app(browser, base, start, page, default_filters) for _ in range(runs)]
                say(f"  {page.title} · {default_label}: from {start.title} by the menu "
                    f"{', '.join(_fmt(r.ms) for r in navigated)}")
        finally:
            stop_server(proc)
    records = []
    for i, (label, _) in enumerate(views):
        loads = [first[label], *warm[label], *(navigated if i == 0 else [])]
        errors = sorted({r.error for r in loads if r.error})
        tiles = {tuple(sorted(r.tiles.items())) for r in loads if r.ms is not None}
        if len(tiles) > 1:
            errors.append("tiles differ between visits of the same view")
        records.append({
            "page": page.title, "view": label,
            "browser_warm_ms": _median([r.ms for r in warm[label]]),
            "browser_cold_ms": _median(cold) if i == 0 else None,
            "browser_first_view_ms": None if first[label].ms is None else round(first[label].ms, 1),
            "browser_warm_script_ms": _median([r.script_ms for r in warm[label] if r.ms is not None]),
            "browser_nav_ms": _median([r.ms for r in navigated]) if i == 0 else None,
            "browser_errors": errors,
            "charts": max(r.charts for r in loads), "tiles": first[label].tiles,
        })
    return records


def _fmt(ms: float | None) -> str:
    return "not drawn" if ms is None else f"{ms:,.0f} ms"


# -- the stack's floor --------------------------------------------------------------------------------------------
FLOOR_APPS = {"Streamlit: tiles and a table": HERE / "floor" / "tiles.py",
              "Streamlit and plotly: tiles, a table and three charts": HERE / "floor" / "charts.py"}
FLOOR_APPS_AT_ONCE = HERE / "floor" / "charts.py"  # like the app's pages; the sessions-at-once floor


def measure_floor(browser, db: Path, runs: int, log_dir: Path, say=print, sessions: int = 0) -> list[dict]:
    """Pages with no data work (bench/floor/), timed like the app's: what Streamlit and plotly cost by themselves
    on this machine, the floor under every page's figures. With `sessions`, each also that many times at once
    against the same one after another (the browsers share the machine's cores with the server, as in
    measure_concurrency)."""
    records = []
    for name, app in FLOOR_APPS.items():
        t0 = time.monotonic()
        proc, base = start_server(db, log_dir / f"floor-{app.stem}.log", app=app)
        try:
            context, tab = new_session(browser)
            try:
                t_nav = time.monotonic()
                tab.goto(base + "/", wait_until="commit")
                first = drawn(tab)
            finally:
                context.close()
            warm = [load(browser, base + "/") for _ in range(max(runs, 2))]
        finally:
            stop_server(proc)
        record = {"page": name, "browser_cold_ms": None if first.ms is None else round((t_nav - t0) * 1000 + first.ms, 1),
                  "browser_warm_ms": _median([r.ms for r in warm]),
                  "browser_warm_script_ms": _median([r.script_ms for r in warm if r.ms is not None]),
                  "browser_errors": sorted({r.error for r in [first, *warm] if r.error}), "concurrency": None,
                  "charts": max(r.charts for r in [first, *warm]), "tiles": len(first.tiles)}
        if sessions and app == FLOOR_APPS_AT_ONCE:
            _, together, summary = one_by_one_and_at_once(browser, db, ["/"] * sessions, log_dir, app)
            record["concurrency"] = summary
            record["browser_errors"] += sorted({r.error for r in together if r.error})
            say(f"  floor · {name}: {sessions} at once: slowest {_fmt(summary['slowest_session_ms'])}, one after "
                f"another {_fmt(summary['sequential_ms'])}, ratio {summary['ratio']}")
        say(f"  floor · {name}: cold {_fmt(record['browser_cold_ms'])}, warm {_fmt(record['browser_warm_ms'])} "
            f"(script done at {_fmt(record['browser_warm_script_ms'])})")
        records.append(record)
    return records


# -- concurrency -------------------------------------------------------------------------------------------------
def _warm_server(browser, db: Path, log: Path, warm_url: str, app: Path = ROOT / "app.py"):
    proc, base = start_server(db, log, app=app)
    warmup = load(browser, base + warm_url)
    if warmup.ms is None:
        stop_server(proc)
        raise RuntimeError(f"the warm-up page was not drawn: {warmup.error}; see {log}")
    return proc, base


def one_by_one_and_at_once(browser, db: Path, paths: list[str], log_dir: Path,
                           app: Path = ROOT / "app.py") -> tuple[list[Load], list[Load], dict]:
    """Each path (URL path and query) loaded one after another in new sessions on a fresh warm server, then all at
    once on another: (loads alone, loads at once, the summary figures)."""
    warm_url = "/"  # each server has served the default page once: imports done, database open
    # one after another, each in a new session, on a fresh warm server: also the figures "alone"
    proc, base = _warm_server(browser, db, log_dir / f"sequential-{app.stem}.log", warm_url, app)
    try:
        alone = [load(browser, base + path) for path in paths]
    finally:
        stop_server(proc)
    # all at once on another fresh warm server: the sessions' tabs open first, then every navigation starts
    # before any is waited for
    proc, base = _warm_server(browser, db, log_dir / f"concurrent-{app.stem}.log", warm_url, app)
    opened = []
    try:
        opened = [new_session(browser) for _ in paths]
        for path, (_, tab) in zip(paths, opened):
            tab.evaluate("url => { window.location.href = url; }", base + path)
        for _, tab in opened:  # wait for the new documents, so the readiness checks run in them
            tab.wait_for_url(lambda url: url.startswith(base), wait_until="commit")
        together = [drawn(tab) for _, tab in opened]
    finally:
        for context, _ in opened:
            context.close()
        stop_server(proc)
    sequential_ms = sum(r.ms for r in alone if r.ms is not None)
    drawn_together = [r for r in together if r.ms is not None]
    # the slowest session's end, counted from the first navigation of the batch
    slowest = (max(r.done for r in drawn_together) - min(r.started for r in together)
               if len(drawn_together) == len(together) else None)
    summary = {
        "sessions": len(paths),
        "sequential_ms": round(sequential_ms, 1),
        "slowest_session_ms": None if slowest is None else round(slowest, 1),
        "median_session_ms": _median([r.ms for r in together]),
        "ratio": None if slowest is None or not sequential_ms else round(slowest / sequential_ms, 3),
    }
    return alone, together, summary


def measure_concurrency(browser, db: Path, pages: list[Page], views, sessions: int, log_dir: Path,
                        say=print) -> dict:
    """`sessions` sessions at once on different pages and views vs the same loads one after another."""
    combos = [(page, label, filters) for label, filters in views for page in pages]
    combos = (combos * (sessions // len(combos) + 1))[:sessions]
    paths = [page_url("", page, filters) for page, _, filters in combos]
    alone, together, summary = one_by_one_and_at_once(browser, db, paths, log_dir)
    say(f"  {sessions} pages one after another: {summary['sequential_ms']:,.0f} ms in all")
    rows = []
    for (page, label, _), one, many in zip(combos, alone, together):
        problems = [e for e in (many.error,) if e]
        if many.ms is not None and one.ms is not None and many.tiles != one.tiles:
            problems.append("tiles differ from the same page alone: "
                            + "; ".join(f"{k}: {one.tiles.get(k)} alone vs {many.tiles.get(k)}"
                                        for k in sorted(set(one.tiles) | set(many.tiles))
                                        if one.tiles.get(k) != many.tiles.get(k)))
        rows.append({"page": page.title, "view": label, "alone_ms": one.ms and round(one.ms, 1),
                     "concurrent_ms": many.ms and round(many.ms, 1), "errors": problems})
    result = {**summary, "errors": sum(1 for r in rows if r["errors"]), "sessions_detail": rows}
    say(f"  {sessions} sessions at once: slowest {_fmt(result['slowest_session_ms'])}, "
        f"median {_fmt(result['median_session_ms'])}, ratio {result['ratio']}, sessions with errors {result['errors']}")
    return result


# -- a whole scale ------------------------------------------------------------------------------------------------
def measure(db: Path, only: list[str] | None = None, views=None, runs: int = 2, cold_runs: int = 1,
            sessions: int = 0, log_dir: Path | None = None, say=print) -> tuple[list[dict], dict | None]:
    """Browser figures of every sidebar page (or those titled in `only`) on one database; concurrency if
    `sessions`. Returns (records per page and view, concurrency result or None)."""
    from playwright.sync_api import sync_playwright

    pages = [p for p in sidebar_pages() if not only or p.title in only]
    if only and len(pages) != len(only):
        raise ValueError(f"unknown pages {sorted(set(only) - {p.title for p in pages})}; "
                         f"the sidebar has {[p.title for p in sidebar_pages()]}")
    views = views or views_of(db)
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="kam-bench-"))
    records: list[dict] = []
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            menu = sidebar_pages()
            for page in pages:
                start = menu[1] if page == menu[0] else menu[0]
                records += measure_page(browser, db, page, views, runs, cold_runs, log_dir, say, start=start)
            concurrency = measure_concurrency(browser, db, pages, views, sessions, log_dir, say) if sessions else None
        finally:
            browser.close()
    return records, concurrency


def floor(db: Path, runs: int = 2, log_dir: Path | None = None, say=print, sessions: int = 0) -> list[dict]:
    """The stack's floor (measure_floor) in a browser of its own."""
    from playwright.sync_api import sync_playwright

    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="kam-bench-"))
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            return measure_floor(browser, db, runs, log_dir, say, sessions)
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    from bench.scales import ensure_db

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["default"])
    parser.add_argument("--pages", nargs="*", help="page titles as in the sidebar (default: all)")
    parser.add_argument("--runs", type=int, default=2, help="warm visits per view (median)")
    parser.add_argument("--cold-runs", type=int, default=1)
    parser.add_argument("--sessions", type=int, default=16, help="concurrent sessions (0: skip)")
    parser.add_argument("--json", type=Path, help="write the records here")
    parser.add_argument("--floor", action="store_true", help="also time the stack's floor (bench/floor/)")
    args = parser.parse_args(argv)
    out = {}
    for scale in args.scales:
        db, _ = ensure_db(scale)
        print(f"[{scale}] browser", flush=True)
        records, concurrency = measure(db, args.pages, runs=args.runs, cold_runs=args.cold_runs,
                                       sessions=args.sessions)
        out[scale] = {"records": records, "concurrency": concurrency}
    if args.floor:
        out["floor"] = floor(db, args.runs, sessions=args.sessions)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
