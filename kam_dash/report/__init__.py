"""The retailer review pack: the deck and workbook a KAM takes into the room.

`build_pack(engine, filters, retailer_id, formats)` returns the files' bytes by format; `file_name(...)`
names them; `write_pack(...)` writes them to a folder (the CLI's `kam-dash review`). No Streamlit here:
the account review page calls these from its download buttons.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from kam_dash import scope as scopes
from kam_dash.engine import Engine
from kam_dash.filters import Filters
from kam_dash.report import pack as packs
from kam_dash.report.images import NO_BROWSER_NOTE, find_browser
from kam_dash.report.images import TIMEOUT as IMAGE_TIMEOUT
from kam_dash.report.images import ChartImages
from kam_dash.report.images import discard as discard_images
from kam_dash.report.images import shared as shared_images
from kam_dash.report.pack import Pack, collect

FORMATS = ("html", "xlsx", "pptx")
FORMAT_LABELS = {"html": "Web page (HTML)", "xlsx": "Workbook (Excel)", "pptx": "Deck (PowerPoint)"}
MIME = {
    "html": "text/html",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def check_formats(formats: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        raise ValueError(f"formats must be among {', '.join(FORMATS)}" + (f", not {', '.join(bad)}" if bad else ""))
    return chosen


def render(pack: Pack, formats: Iterable[str], images: ChartImages | None = None) -> dict[str, bytes]:
    """Write a collected pack in each format. The deck's chart images come from `images`, by default the
    process's one browser (started on the first pack, reused after)."""
    from kam_dash.report import deck, html_doc, workbook

    formats = check_formats(formats)
    # Without a browser the deck is still written, without chart images and with a note saying how to add them.
    drawn = "pptx" in formats and (images is not None or find_browser() is not None)
    owned = drawn and images is None
    if owned:
        images = shared_images()
    # queue every chart image first: the browser renders them while the HTML and workbook are written
    try:
        pending = [images.submit(c.untitled()) for c in pack.charts] if drawn else []
        out = {}
        if "html" in formats:
            out["html"] = html_doc.render(pack)
        if "xlsx" in formats:
            out["xlsx"] = workbook.render(pack)
        if "pptx" in formats:
            out["pptx"] = (deck.render(pack, [p.result(IMAGE_TIMEOUT) for p in pending]) if drawn
                           else deck.render(pack, None, NO_BROWSER_NOTE))
    except Exception:
        if owned:
            discard_images(images)  # a shared browser that failed once is not trusted with the next pack
        raise
    return {f: out[f] for f in formats}


RECENT_PACKS, RECENT_SECONDS = 8, 600
_recent: OrderedDict[tuple, tuple[float, Pack]] = OrderedDict()
_recent_lock = threading.Lock()


def collect_recent(engine: Engine, filters: Filters, retailer_id: str) -> Pack:
    """collect(), remembered for a few minutes per database version, filters and retailer: a KAM downloading
    the deck, then the workbook, of the same view waits for the numbers once."""
    key = (engine.location, engine.data_version, filters.cache_key(), retailer_id)
    now = time.monotonic()
    with _recent_lock:
        hit = _recent.get(key)
        if hit is not None and now - hit[0] < RECENT_SECONDS:
            _recent.move_to_end(key)
            return hit[1]
    pack = collect(engine, filters, retailer_id)
    with _recent_lock:
        _recent[key] = (now, pack)
        while len(_recent) > RECENT_PACKS:
            _recent.popitem(last=False)
    return pack


def build_pack(engine: Engine, filters: Filters, retailer_id: str, formats: Iterable[str] = FORMATS,
               images: ChartImages | None = None) -> dict[str, bytes]:
    """The review pack of one retailer for the period and filters in force: {format: file bytes}.

    Raises ValueError for an unknown retailer or format.
    """
    formats = check_formats(formats)
    if "pptx" in formats and images is None:
        shared_images()  # started now (on the first pack), the browser boots while the numbers are computed
    return render(collect_recent(engine, filters, retailer_id), formats, images)


def file_name(engine: Engine, filters: Filters, retailer_id: str, fmt: str) -> str:
    """The pack's file name for a format, e.g. 'review-r001-fresh-pharmacy-2026-01-05-to-2026-11-16.pptx'."""
    dims = scopes.retailers(engine)
    names = dict(zip(dims["retailer_id"], dims["retailer_name"]))
    resolved = scopes.resolve(engine, filters)
    start = end = None
    if resolved is not None:
        start, end = resolved.period.start, resolved.period.end
    return packs.file_name(retailer_id, names.get(retailer_id, ""), start, end, fmt)


def write_pack(engine: Engine, filters: Filters, retailer_id: str, formats: Iterable[str], folder: Path,
               images: ChartImages | None = None) -> list[Path]:
    """Build the pack and write one file per format into folder; the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = build_pack(engine, filters, retailer_id, formats, images)
    paths = []
    for fmt, data in files.items():
        path = folder / file_name(engine, filters, retailer_id, fmt)
        path.write_bytes(data)
        paths.append(path)
    return paths


__all__ = ["FORMATS", "FORMAT_LABELS", "MIME", "ChartImages", "Pack", "build_pack", "check_formats", "collect",
           "collect_recent", "file_name", "render", "shared_images", "write_pack"]
