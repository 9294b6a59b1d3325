"""Without a Chrome or Chromium, the review pack's PowerPoint is still written: no chart images, and a note
saying how to add them (not an error)."""

from __future__ import annotations

import io

from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from kam_dash import report
from kam_dash.engine import DuckDBEngine
from kam_dash.filters import Filters
from kam_dash.report import images

RETAILER = "R001"


def test_no_browser_gives_the_deck_without_images_and_a_note(small_db, monkeypatch, tmp_path):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chrome"))  # set, but nothing there
    monkeypatch.setattr(images, "SYSTEM_CHROMIUM", tmp_path / "absent")
    assert images.find_browser() is None
    started = []
    monkeypatch.setattr(report, "shared_images", lambda: started.append(1))  # must not be asked for
    engine = DuckDBEngine(small_db)
    try:
        pack = report.collect(engine, Filters(), RETAILER)
        out = report.render(pack, ["pptx"])
    finally:
        engine.close()
    assert started == []
    deck = Presentation(io.BytesIO(out["pptx"]))
    shapes = [shape for slide in deck.slides for shape in slide.shapes]
    assert not [s for s in shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
    text = "\n".join(s.text_frame.text for s in shapes if s.has_text_frame)
    assert "Chart images are left out of this PowerPoint" in text and "sudo apt-get install chromium" in text
    assert text.count("(Chart image not included") == len(pack.charts) > 0  # every chart slide says so
