"""Static chart images for the deck: one headless Chromium (kaleido) renders every chart.

Starting Chromium and loading plotly.js into it takes seconds (4-5 s on the shared 2-core machine);
rendering a figure then takes a fraction of one. So a ChartImages starts kaleido once, in a background
thread with its own event loop (the caller may be a Streamlit script thread, which must not block on an
event loop of its own), and every figure is rendered by that one browser. `start()` returns at once: the
browser boots while the pack's numbers are being computed. `shared()` is the process's browser, started
on the first pack and reused by every pack after it (the app's downloads, a CLI batch) until exit.

Kaleido finds the browser through the BROWSER_PATH environment variable (Debian: /usr/bin/chromium).
MathJax is switched off: kaleido would otherwise fetch it from a CDN, and the charts use no TeX.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading
from concurrent.futures import Future
from pathlib import Path

import plotly.graph_objects as go

SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
WIDTH = 1280  # px of a chart image; the height is the figure's own
SCALE = 1.5
TIMEOUT = 120  # seconds to wait for the browser or one image


NO_BROWSER_NOTE = ("Chart images are left out of this PowerPoint: drawing them needs a Chrome or Chromium browser, "
                   "and none was found on the machine that built it. Install one (Debian or Ubuntu: `sudo apt-get "
                   "install chromium`) or point BROWSER_PATH at one, then build the pack again. The HTML pack has "
                   "every chart.")
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_browser() -> str | None:
    """The browser kaleido will use: BROWSER_PATH, else Debian's Chromium, else one on the PATH; None if none."""
    import shutil

    configured = os.environ.get("BROWSER_PATH")
    if configured:
        return configured if Path(configured).exists() else None
    if SYSTEM_CHROMIUM.exists():
        return str(SYSTEM_CHROMIUM)
    return next((found for name in BROWSER_NAMES if (found := shutil.which(name))), None)


def _kaleido_class():
    # One kept tab instead of a reload per image: the adapter and why live in kam_dash.compat.
    from kam_dash.compat import kaleido_keep_tab_class

    return kaleido_keep_tab_class()


class ChartImages:
    """PNG images of plotly figures from one kaleido browser. Use as a context manager, or start()/close()."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido = None
        self._opened: Future | None = None

    def start(self) -> ChartImages:
        """Boot the browser in the background (returns at once; idempotent)."""
        if self._loop is not None:
            return self
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kaleido", daemon=True)
        self._thread.start()
        self._opened = asyncio.run_coroutine_threadsafe(self._open(), self._loop)
        return self

    async def _open(self) -> None:
        options = {}
        browser = find_browser()
        if "BROWSER_PATH" not in os.environ and browser:
            options["path"] = browser
        self._kaleido = _kaleido_class()(n=1, mathjax=False, **options)
        await self._kaleido.__aenter__()

    def submit(self, fig: go.Figure | dict, width: int = WIDTH, height: int | None = None) -> Future:
        """Queue a figure (a Figure or its dict); the future's result is the PNG bytes."""
        self.start()
        layout = fig.get("layout", {}) if isinstance(fig, dict) else fig.layout.to_plotly_json()
        height = height or int(layout.get("height") or 480)
        opts = {"format": "png", "width": width, "height": height, "scale": SCALE}
        return asyncio.run_coroutine_threadsafe(self._render(fig, opts), self._loop)

    async def _render(self, fig: go.Figure | dict, opts: dict) -> bytes:
        await asyncio.wrap_future(self._opened)
        return await self._kaleido.calc_fig(fig, opts=opts)

    def png(self, fig: go.Figure | dict, width: int = WIDTH, height: int | None = None) -> bytes:
        return self.submit(fig, width, height).result(TIMEOUT)

    def close(self) -> None:
        """Stop the browser and the loop (safe to call twice, and after a failed start)."""
        if self._loop is None:
            return
        try:
            # a browser still booting is let finish, then stopped; one that failed to start has nothing to stop
            opened = self._opened is not None and self._opened.exception(TIMEOUT) is None
            if opened:
                asyncio.run_coroutine_threadsafe(self._kaleido.__aexit__(None, None, None), self._loop).result(TIMEOUT)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(TIMEOUT)
            self._loop.close()
            self._loop = self._thread = self._kaleido = self._opened = None

    def __enter__(self) -> ChartImages:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


_SHARED: ChartImages | None = None
_SHARED_LOCK = threading.Lock()


def shared() -> ChartImages:
    """The process's browser: started on first use, reused by every later pack, stopped at exit."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = ChartImages().start()
            atexit.register(_SHARED.close)
        return _SHARED


def discard(images: ChartImages) -> None:
    """Stop a browser that failed; when it is the shared one, the next pack starts a fresh one."""
    global _SHARED
    with _SHARED_LOCK:
        if images is _SHARED:
            _SHARED = None
    try:
        images.close()
    except Exception:  # noqa: BLE001 - it already failed; the caller reports the first error
        pass
