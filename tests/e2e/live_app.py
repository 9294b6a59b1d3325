"""The real app under `streamlit run`, driven by Debian's Chromium: shared by the browser tests (tests/e2e) and the
browser bench (bench/browser.py), so both start, drive and read the app the same way.

Modelled on Streamlit's own e2e suite: start the server headless on a free port, poll /_stcore/health until it
answers ok, and wait for the script to finish before reading the page.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("KAM_DASH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


# Whether the page is drawn: the script is idle, no spinner, skeleton or stale element is left, every plotly chart
# has drawn its SVG and every tile (stMetric) shows its value. A JavaScript function expression, shared by the
# browser tests' wait (tests/e2e/conftest.py) and the browser bench (bench/browser.py), so both mean the same.
DRAWN_FN = """
() => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute("data-test-script-state") !== "notRunning") return false;
  const main = document.querySelector("[data-testid='stMain']");
  if (!main || !main.querySelector("[data-testid='stElementContainer']")) return false;
  if (document.querySelector("[data-testid='stSpinner'], [data-testid='stSkeleton'], "
                             + "[data-testid='stAppSkeleton'], [data-stale='true']")) return false;
  for (const chart of document.querySelectorAll("[data-testid='stPlotlyChart']")) {
    if (!chart.querySelector("svg.main-svg")) return false;
  }
  for (const tile of document.querySelectorAll("[data-testid='stMetric']")) {
    if (!tile.querySelector("[data-testid='stMetricValue']")) return false;
  }
  return true;
}
"""


def drawn_for(ms: int) -> str:
    """A function for page.wait_for_function: true once the page has been drawn (DRAWN_FN) for `ms` without a
    break. A widget's rerun starts a moment after the click; a rerun queued at the end of a run (the URL kept in
    step) starts a moment after the run: a state that holds is the page the user sees."""
    return f"""
() => {{
  const drawn = ({DRAWN_FN})();
  const now = performance.now();
  if (!drawn) {{ window.__kamDrawnSince = null; return false; }}
  if (window.__kamDrawnSince == null) window.__kamDrawnSince = now;
  return now - window.__kamDrawnSince >= {ms};
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, log_path: Path, env_extra: dict | None = None,
                 args: list[str] | None = None, port: int | None = None,
                 app: Path = ROOT / "app.py") -> tuple[subprocess.Popen, str]:
    """args: more `streamlit run` options (e.g. --secrets.files); port: a chosen one (default a free one); app: the
    script to run (the bench's floor pages run instead of the app)."""
    port = port or _free_port()
    # The account plans go to a state file of this server's own unless a test names one: a shared demo database
    # must not get a plan beside it that another test's review pack would then show.
    env = {**os.environ, "KAM_DASH_DB": str(db), "KAM_DASH_ENGINE": "duckdb",
           "KAM_DASH_STATE": str(log_path.with_suffix(".state.sqlite")), **(env_extra or {})}
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false", *(args or [])],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early; see {log_path}:\n{log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().decode().strip() == "ok":
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"streamlit did not answer /_stcore/health within 60 s; see {log_path}")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def metric_values(page) -> dict[str, str]:
    """KPI tiles shown on the page: label -> value."""
    page.get_by_test_id("stMetric").first.wait_for(state="visible")
    out = {}
    for tile in page.get_by_test_id("stMetric").all():
        label = tile.get_by_test_id("stMetricLabel").inner_text().strip()
        value = tile.get_by_test_id("stMetricValue").inner_text().strip()
        out[label] = value
    return out
