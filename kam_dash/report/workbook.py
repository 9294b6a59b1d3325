"""The pack as an Excel workbook: one sheet per table, numbers as numbers with number formats, a frozen
header row and an autofilter on every sheet.

Sheets: About (the cover), then every table of the pack in section order (an export's sheet is exactly
that export for the retailer), then Definitions.
"""

from __future__ import annotations

import io

import pandas as pd
import xlsxwriter

from kam_dash.report.pack import Pack, Table

NUMBER_FORMATS = {
    "money": "#,##0", "pct": "0.0%", "change": "+0.0%;-0.0%;0.0%", "units": "#,##0", "int": "0",
    "decimal": "#,##0.00", "date": "yyyy-mm-dd",
}
INVALID = set('[]:*?/\\')


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unique sheet name: no []:*?/\\, at most 31 characters."""
    clean = "".join("-" if ch in INVALID else ch for ch in name).strip("'")[:31] or "Sheet"
    candidate, n = clean, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = clean[:31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


class _Writer:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.header = book.add_format({"bold": True, "bg_color": "#F3F5F8", "bottom": 1, "text_wrap": True,
                                       "valign": "top"})
        self.formats = {kind: book.add_format({"num_format": f}) for kind, f in NUMBER_FORMATS.items()}
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.taken: set[str] = set()

    def cell(self, sheet, row: int, col: int, value, kind: str) -> None:
        fmt = self.formats.get(kind)
        if value is None or (not isinstance(value, (str, bool)) and pd.isna(value)):
            sheet.write_blank(row, col, None, fmt)
        elif kind == "date":
            stamp = pd.Timestamp(value)
            sheet.write_datetime(row, col, stamp.to_pydatetime().replace(tzinfo=None), fmt)
        elif isinstance(value, (bool,)) or kind == "flag":
            sheet.write_boolean(row, col, bool(value))
        elif isinstance(value, str):
            sheet.write_string(row, col, value, self.wrap if len(value) > 60 else None)
        else:
            sheet.write_number(row, col, float(value), fmt)

    def frame(self, name: str, frame: pd.DataFrame, kinds: list[str], widths: list[int] | None = None) -> str:
        title = sheet_name(name, self.taken)
        sheet = self.book.add_worksheet(title)
        for c, column in enumerate(frame.columns):
            sheet.write_string(0, c, str(column), self.header)
            width = widths[c] if widths else max(10, min(40, len(str(column)) + 2))
            sheet.set_column(c, c, width)
        values = frame.to_numpy(dtype=object)
        for r, row in enumerate(values, start=1):
            for c, value in enumerate(row):
                kind = kinds[c] if isinstance(kinds[c], str) else kinds[c][r - 1]
                self.cell(sheet, r, c, value, kind)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(frame), 1), max(len(frame.columns) - 1, 0))
        return title

    def table(self, table: Table) -> str:
        kinds: list = []
        for column in table.frame.columns:
            kind = table.kind(column)
            kinds.append(table.row_kinds if kind == "row" else kind)
        return self.frame(table.sheet, table.frame, kinds)


def render(pack: Pack) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties({"title": pack.title, "subject": pack.period, "comments": pack.freshness})
    writer = _Writer(book)
    r = pack.retailer
    about = [("Retailer", f"{r['retailer_name']} ({r['retailer_id']})"), ("Channel", r.get("channel")),
             ("Key account manager", r.get("kam")), ("Period", pack.period), ("Data", pack.freshness),
             ("Filters", pack.filters), ("Prepared", pack.generated.strftime("%Y-%m-%d %H:%M"))]
    about += [("Not in this pack", gap) for gap in pack.gaps]
    writer.frame("About", pd.DataFrame(about, columns=["item", "value"]), ["text", "text"], widths=[22, 110])
    for table in pack.tables:
        writer.table(table)
    if pack.definitions:
        writer.frame("Definitions", pd.DataFrame(pack.definitions, columns=["term", "definition"]),
                     ["text", "text"], widths=[32, 120])
    book.close()
    return buffer.getvalue()

