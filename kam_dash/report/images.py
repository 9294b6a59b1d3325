"""Static chart images for the deck: one headless Chromium (kaleido) per pack, or per batch of packs.

Starting Chromium and loading plotly.js into it takes seconds; rendering a figure then takes a fraction
of one. So a ChartImages starts kaleido once, in a background thread with its own event loop (the
caller may be a Streamlit script thread, which must not block on an event loop of its own), and every
figure of the pack is rendered by that one browser. `start()` returns at once: the browser boots while
the pack's numbers are being computed.

Kaleido finds the browser through the BROWSER_PATH environment variable (Debian: /usr/bin/chromium).
MathJax is switched off: kaleido would otherwise fetch it from a CDN, and the charts use no TeX.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import Future
from pathlib import Path

import plotly.graph_objects as go

SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
WIDTH = 1280  # px of a chart image; the height is the figure's own
SCALE = 1.5
TIMEOUT = 120  # seconds to wait for the browser or one image


def _kaleido_class():
    import kaleido

    class KeepTabKaleido(kaleido.Kaleido):
        """Kaleido, minus the page reload after each image.

        Kaleido reloads its tab after every image (re-parsing the 4.6 MB of plotly.js) so that each figure
        starts from a fresh page. plotly's toImage draws into a detached element and purges it, and a pack's
        figures are ours and few: the reload cost more than the images (9 charts of a default-scale pack:
        5.1 s with it, 2.2 s without, on the shared 2-core machine). kaleido is pinned exactly in
        requirements.txt; tests/report/test_review_pack.py renders through this class and compares the
        images with stock kaleido's.
        """

        async def _return_kaleido_tab(self, tab) -> None:
            await self.tabs_ready.put(tab)

    return KeepTabKaleido


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
        if "BROWSER_PATH" not in os.environ and SYSTEM_CHROMIUM.exists():
            options["path"] = str(SYSTEM_CHROMIUM)
        self._kaleido = _kaleido_class()(n=1, mathjax=False, **options)
        await self._kaleido.__aenter__()

    def submit(self, fig: go.Figure, width: int = WIDTH, height: int | None = None) -> Future:
        """Queue a figure; the future's result is the PNG bytes."""
        self.start()
        height = height or int(fig.layout.height or 480)
        opts = {"format": "png", "width": width, "height": height, "scale": SCALE}
        return asyncio.run_coroutine_threadsafe(self._render(fig, opts), self._loop)

    async def _render(self, fig: go.Figure, opts: dict) -> bytes:
        await asyncio.wrap_future(self._opened)
        return await self._kaleido.calc_fig(fig, opts=opts)

    def png(self, fig: go.Figure, width: int = WIDTH, height: int | None = None) -> bytes:
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
