"""The pack as a PowerPoint deck the KAM edits: a cover, the key figures as a native table, one slide per
chart (a static image, its title and its narrative as editable text), what is not in the pack, and the
definitions of every metric shown.
"""

from __future__ import annotations

import io

from PIL import Image
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Emu, Inches, Pt

from kam_dash import fmt
from kam_dash.report.pack import Chart, Pack, Section, show

WIDE, HIGH = Inches(13.333), Inches(7.5)  # 16:9
MARGIN = Inches(0.5)
BODY_WIDTH = WIDE - 2 * MARGIN
ACCENT = RGBColor(0x1F, 0x5F, 0xA8)
DEFINITION_CHARS = 1700  # text per definitions slide
TITLE_SLIDE, TITLE_ONLY = 0, 5  # layouts of python-pptx's default template


def _title(slide, text: str) -> None:
    shape = slide.shapes.title
    shape.left, shape.top, shape.width, shape.height = MARGIN, Inches(0.3), BODY_WIDTH, Inches(0.9)
    shape.text = text
    for p in shape.text_frame.paragraphs:
        p.font.size = Pt(28)
        p.font.color.rgb = ACCENT


def _text(slide, top, height, lines: list[str], size: int = 16):
    box = slide.shapes.add_textbox(MARGIN, top, BODY_WIDTH, height)
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(lines):
        p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        p.text = line
        p.font.size = Pt(size)
    return box


def _cover(prs: Presentation, pack: Pack) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_SLIDE])
    r = pack.retailer
    slide.shapes.title.text = pack.title
    slide.shapes.title.left, slide.shapes.title.width = MARGIN, BODY_WIDTH
    sub = slide.placeholders[1]
    sub.left, sub.width = MARGIN, BODY_WIDTH
    lines = [pack.period, pack.freshness, f"Filters: {pack.filters}",
             f"{r['retailer_id']} · channel {r.get('channel') or '–'} · KAM {r.get('kam') or '–'}",
             f"Prepared {pack.generated:%d %b %Y}"]
    sub.text = lines[0]
    for line in lines[1:]:
        sub.text_frame.add_paragraph().text = line
    for p in sub.text_frame.paragraphs:
        p.font.size = Pt(16)


def _key_figures(prs: Presentation, section: Section) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    _title(slide, section.title)
    _text(slide, Inches(1.2), Inches(0.9), [section.lead], size=16)
    table = section.tables[0]
    frame = table.frame
    headers = ["Measure", "This period", "Last year", "vs last year", "Plan", "Share of plan"]
    shape = slide.shapes.add_table(len(frame) + 1, len(headers), MARGIN, Inches(2.3), BODY_WIDTH,
                                   Inches(0.45) * (len(frame) + 1))
    grid = shape.table
    for c, text in enumerate(headers):
        grid.cell(0, c).text = text
    for i, row in enumerate(frame.itertuples(index=False)):
        kind = table.row_kinds[i]
        values = [row.measure, show(row.value, kind), show(row.last_year, kind),
                  fmt.pct(row.change_vs_last_year, signed=True), show(row.plan, kind), show(row.share_of_plan, "pct")]
        for c, text in enumerate(values):
            grid.cell(i + 1, c).text = text
    for r in range(len(frame) + 1):
        for c in range(len(headers)):
            for p in grid.cell(r, c).text_frame.paragraphs:
                p.font.size = Pt(14)


def _chart(prs: Presentation, chart: Chart, png: bytes | None) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    _title(slide, chart.title)
    _text(slide, Inches(1.15), Inches(0.8), [chart.narrative], size=16)
    top, room_h = Inches(2.0), HIGH - Inches(2.0) - Inches(0.3)
    if png is None:  # no browser to draw it: the slide keeps its words; the last slide says why
        _text(slide, top, Inches(0.6), ["(Chart image not included: see 'Not in this pack'.)"], size=12)
        return
    with Image.open(io.BytesIO(png)) as img:
        aspect = img.width / img.height
    width = BODY_WIDTH
    height = int(width / aspect)
    if height > room_h:
        height = room_h
        width = int(height * aspect)
    slide.shapes.add_picture(io.BytesIO(png), Emu(int((WIDE - width) / 2)), top, Emu(width), Emu(height))


def _list_slide(prs: Presentation, title: str, lines: list[str]) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    _title(slide, title)
    _text(slide, Inches(1.3), HIGH - Inches(1.6), [f"• {line}" for line in lines], size=15)


def _definitions(prs: Presentation, definitions: list[tuple[str, str]]) -> None:
    pages, page, size = [], [], 0
    for term, text in definitions:
        if page and size + len(term) + len(text) > DEFINITION_CHARS:
            pages.append(page)
            page, size = [], 0
        page.append((term, text))
        size += len(term) + len(text)
    if page:
        pages.append(page)
    for n, items in enumerate(pages, start=1):
        slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
        _title(slide, "Definitions" + (f" ({n} of {len(pages)})" if len(pages) > 1 else ""))
        box = slide.shapes.add_textbox(MARGIN, Inches(1.3), BODY_WIDTH, HIGH - Inches(1.6))
        frame = box.text_frame
        frame.word_wrap = True
        for i, (term, text) in enumerate(items):
            p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            head = p.add_run()
            head.text = f"{term}: "
            head.font.bold = True
            body = p.add_run()
            body.text = text
            p.font.size = Pt(11)
            head.font.size = body.font.size = Pt(11)
            p.space_after = Pt(6)


def render(pack: Pack, images: list[bytes] | None, note: str | None = None) -> bytes:
    """images: one PNG per chart of pack.charts, in order; None writes each chart's slide without its image, and
    `note` (why, and how to add them) on the cover's "Not in this pack" slide."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDE, HIGH
    prs.core_properties.title = pack.title
    prs.core_properties.subject = pack.period
    _cover(prs, pack)
    pngs = iter(images) if images is not None else None
    for section in pack.sections:
        if section.key == "key-figures" and section.tables:
            _key_figures(prs, section)
        elif section.lead:
            _list_slide(prs, section.title, [section.lead])
        for chart in section.charts:
            _chart(prs, chart, next(pngs) if pngs is not None else None)
    gaps = [*pack.gaps, *([note] if note else [])]
    if gaps:
        _list_slide(prs, "Not in this pack", gaps)
    if pack.definitions:
        _definitions(prs, pack.definitions)
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()
