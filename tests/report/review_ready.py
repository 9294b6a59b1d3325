"""What a written pack must be before a KAM takes it into the room (issue 13), as checks on the files themselves:
shared by the demo tests (tests/report/test_pack_review_ready.py) and the real-data ones (tests/realdata)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from openpyxl import load_workbook
from pptx import Presentation

from kam_dash.engine import Engine

NAME_HEADINGS = ("Product", "Retailer", "Store")
CODE_LIKE = re.compile(r"^(SKU\d+|R\d{3}|DFF\d+)$")  # the demo's and Dominick's ids


def deck_titles(pptx: bytes | Path) -> list[str]:
    deck = Presentation(io.BytesIO(pptx) if isinstance(pptx, bytes) else str(pptx))
    return [s.shapes.title.text if s.shapes.title is not None else "" for s in deck.slides]


def ids_with_names(engine: Engine) -> set[str]:
    """Every retailer, product and store id whose name differs from it: none may be shown where a name goes."""
    out = set()
    for table, key, name in (("retailers", "retailer_id", "retailer_name"), ("products", "sku_id", "sku_name"),
                             ("stores", "store_id", "store_name")):
        if engine.has(table):
            frame = engine.execute(engine.table(table).select(key, name))
            out |= {k for k, n in zip(frame[key], frame[name]) if k != n}
    return out


def workbook_problems(xlsx: bytes | Path, ids: set[str]) -> list[str]:
    """Headings with an underscore, and name columns (Product, Retailer, Store) holding an id, per sheet."""
    book = load_workbook(io.BytesIO(xlsx) if isinstance(xlsx, bytes) else xlsx)
    problems = []
    for ws in book.worksheets:
        header = [c.value for c in ws[1]]
        problems += [f"{ws.title}: heading {h!r}" for h in header if h is None or "_" in str(h)]
        for col, heading in enumerate(header, start=1):
            if heading not in NAME_HEADINGS:
                continue
            for (value,) in ws.iter_rows(min_row=2, min_col=col, max_col=col, values_only=True):
                if isinstance(value, str) and (value in ids or CODE_LIKE.match(value)):
                    problems.append(f"{ws.title}: {heading} {value!r}")
                    break
    return problems


def charts_by_sheet(xlsx: bytes | Path) -> dict[str, list]:
    book = load_workbook(io.BytesIO(xlsx) if isinstance(xlsx, bytes) else xlsx)
    return {ws.title: list(ws._charts) for ws in book.worksheets}


def html_sections(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)">', html)


def html_headings(html: str) -> list[str]:
    return re.findall(r"<th[^>]*>([^<]*)</th>", html)
