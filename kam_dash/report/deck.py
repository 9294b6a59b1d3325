"""The pack as a PowerPoint deck the KAM edits, in the order a review is told: a cover, the key figures as a
native table, the story (plan, pipeline, promotions, availability, and stores where the account reports them),
one slide per chart (a static image, its title and its narrative as editable text), the top and bottom products,
the white space (products not listed here, the category mix), the objectives and next steps, what is not in
the pack, and the definitions of the metrics shown on at most two slides (short forms; the workbook's
Definitions sheet and the HTML have them in full).
"""

from __future__ import annotations

import io

from PIL import Image
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Emu, Inches, Pt

from kam_dash import fmt, labels
from kam_dash.report.pack import RANGE_GAP_ROWS, Chart, Pack, Section, Table, show

WIDE, HIGH = Inches(13.333), Inches(7.5)  # 16:9
MARGIN = Inches(0.5)
BODY_WIDTH = WIDE - 2 * MARGIN
ACCENT = RGBColor(0x1F, 0x5F, 0xA8)
DEFINITION_SLIDES, DEFINITION_COLUMNS = 2, 2  # at most two slides of two columns each
DEFINITION_LINE_CHARS, DEFINITION_LINES = 88, 34  # what one column holds at 9 pt
VOID_ROWS = 10
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
             f"Channel {labels.channel(r['channel']) if r.get('channel') else '–'} · KAM {r.get('kam') or '–'}",
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


def _grid(slide, pack: Pack, table: Table, left, top, width, rows: int | None = None, size: int = 12,
          columns: list[str] | None = None) -> None:
    """A native table of a pack table as people read it (names, words), its first `rows` rows."""
    people = pack.people(table, on_page=True)
    keep = [i for i, c in enumerate(people.columns) if columns is None or c in columns]
    frame = people.frame.head(rows) if rows else people.frame
    shape = slide.shapes.add_table(len(frame) + 1, len(keep), left, top, width, Inches(0.36) * (len(frame) + 1))
    grid = shape.table
    # names (text) get twice the room of a number, so a product's name stays on one line
    shares = [2 if people.kinds[i] == "text" else 1 for i in keep]
    for c, share in enumerate(shares):
        grid.columns[c].width = Emu(int(width * share / sum(shares)))
    for c, i in enumerate(keep):
        grid.cell(0, c).text = people.headings[i]
    for r, row in enumerate(frame.itertuples(index=False), start=1):
        for c, i in enumerate(keep):
            kind = people.kinds[i]
            grid.cell(r, c).text = show(row[i], kind if isinstance(kind, str) else kind[r - 1])
    for r in range(len(frame) + 1):
        for c in range(len(keep)):
            for p in grid.cell(r, c).text_frame.paragraphs:
                p.font.size = Pt(size)


def _products(prs: Presentation, pack: Pack, section: Section) -> None:
    """Top and bottom products side by side, by name."""
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    _title(slide, section.title)
    _text(slide, Inches(1.15), Inches(0.8), [section.lead or " ".join(section.notes)], size=15)
    half = (BODY_WIDTH - Inches(0.3)) // 2
    for n, table in enumerate(t for t in section.tables if not t.detail):
        left = MARGIN + n * (half + Inches(0.3))
        _text_at(slide, left, Inches(2.0), half, table.title, 13, bold=True)
        _grid(slide, pack, table, left, Inches(2.45), half, size=11,
              columns=["sku_name", table.frame.columns[2], "change", "growth"])


def _text_at(slide, left, top, width, text: str, size: int, bold: bool = False) -> None:
    box = slide.shapes.add_textbox(left, top, width, Inches(0.4))
    box.text_frame.word_wrap = True
    p = box.text_frame.paragraphs[0]
    p.text = text
    p.font.size = Pt(size)
    p.font.bold = bold


def _white_space(prs: Presentation, pack: Pack, section: Section) -> None:
    """The products not listed here that comparable accounts sell (range gaps), by name."""
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    _title(slide, section.title)
    _text(slide, Inches(1.15), Inches(0.9), [section.lead], size=15)
    gaps = next((t for t in section.tables if t.sheet == "Range gaps"), None)
    if gaps is not None:
        _grid(slide, pack, gaps, MARGIN, Inches(2.2), BODY_WIDTH, rows=RANGE_GAP_ROWS, size=11,
              columns=["sku_name", "brand", "category", "accounts_listing", "listing_share", "est_value"])


def _voids(prs: Presentation, pack: Pack, section: Section) -> None:
    table = next((t for t in section.tables if t.sheet == "Top voids"), None)
    if table is None:
        return
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    _title(slide, "Top voids: stores that stopped selling a product")
    _text(slide, Inches(1.15), Inches(0.6), [f"The {min(VOID_ROWS, len(table.frame))} voids with the most "
                                             "estimated lost units; the workbook has the rest."], size=14)
    _grid(slide, pack, table, MARGIN, Inches(1.8), BODY_WIDTH, rows=VOID_ROWS, size=11)


def short_definition(text: str, limit: int) -> str:
    """A definition's first sentence, cut at a word to `limit` characters."""
    first = text.split(". ")[0].rstrip(".") + "."
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(",;:(") + "…"


def definition_columns(definitions: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """The definitions in short form laid into at most DEFINITION_SLIDES x DEFINITION_COLUMNS columns: each is
    cut shorter until they all fit."""
    import math

    capacity = DEFINITION_SLIDES * DEFINITION_COLUMNS
    for limit in (320, 240, 180, 130, 90, 60):
        columns, column, lines = [], [], 0
        for term, text in definitions:
            short = short_definition(text, limit)
            need = math.ceil((len(term) + len(short) + 2) / DEFINITION_LINE_CHARS) + 0.4  # + space after
            if column and lines + need > DEFINITION_LINES:
                columns.append(column)
                column, lines = [], 0
            column.append((term, short))
            lines += need
        if column:
            columns.append(column)
        if len(columns) <= capacity:
            return columns
    return columns[:capacity]  # never more than two slides, even if the last terms must go


def _definitions(prs: Presentation, definitions: list[tuple[str, str]]) -> None:
    columns = definition_columns(definitions)
    pages = [columns[i:i + DEFINITION_COLUMNS] for i in range(0, len(columns), DEFINITION_COLUMNS)]
    gap = Inches(0.3)
    width = (BODY_WIDTH - gap * (DEFINITION_COLUMNS - 1)) // DEFINITION_COLUMNS
    for n, page in enumerate(pages, start=1):
        slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
        _title(slide, "Definitions" + (f" ({n} of {len(pages)})" if len(pages) > 1 else ""))
        for c, items in enumerate(page):
            box = slide.shapes.add_textbox(MARGIN + c * (width + gap), Inches(1.2), width, HIGH - Inches(1.7))
            frame = box.text_frame
            frame.word_wrap = True
            for i, (term, text) in enumerate(items):
                p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
                head = p.add_run()
                head.text = f"{term}: "
                head.font.bold = True
                body = p.add_run()
                body.text = text
                head.font.size = body.font.size = Pt(9)
                p.space_after = Pt(3)
        if n == len(pages):
            _text_at(slide, MARGIN, HIGH - Inches(0.45), BODY_WIDTH, "Short forms: the workbook's Definitions "
                     "sheet and the web page have each definition in full.", 9)


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
        elif section.key == "skus":
            _products(prs, pack, section)
        elif section.key == "white-space":
            _white_space(prs, pack, section)
        elif section.key == "objectives" or section.lead or section.points:
            _list_slide(prs, section.title, [line for line in (section.lead, *section.points) if line]
                        or [*section.notes])
        for chart in section.charts:
            _chart(prs, chart, next(pngs) if pngs is not None else None)
        if section.key == "distribution":
            _voids(prs, pack, section)
    gaps = [*pack.gaps, *([note] if note else [])]
    if gaps:
        _list_slide(prs, "Not in this pack", gaps)
    if pack.definitions:
        _definitions(prs, pack.definitions)
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()
