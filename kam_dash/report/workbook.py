"""The pack as an Excel workbook: one sheet per table, numbers as numbers with number formats, a frozen
header row and an autofilter on every sheet, and a native Excel chart beside the table where one helps.

Sheets: About (the cover), then every table of the pack in section order, then Definitions. An export's sheet
holds that export's rows for the retailer, as people read them: headings in words, products, retailers and stores
by name (not id), mechanics and statuses in words (pack.for_people). `kam-dash export` keeps the machine names.
"""

from __future__ import annotations

import io

import pandas as pd
import xlsxwriter

from kam_dash import labels
from kam_dash.report.pack import ID_NAMES, Pack, PeopleTable, SheetChart

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

    def frame(self, name: str, frame: pd.DataFrame, kinds: list[str], widths: list[int] | None = None,
              headings: list[str] | None = None):
        title = sheet_name(name, self.taken)
        sheet = self.book.add_worksheet(title)
        for c, column in enumerate(headings or frame.columns):
            sheet.write_string(0, c, str(column), self.header)
            # wide enough for the heading and the longest name (numbers fit in 12), at most 40
            longest = max((len(v) for v in frame.iloc[:, c] if isinstance(v, str)), default=10)
            width = widths[c] if widths else max(12, min(40, max(len(str(column)), longest) + 2))
            sheet.set_column(c, c, width)
        values = frame.to_numpy(dtype=object)
        for r, row in enumerate(values, start=1):
            for c, value in enumerate(row):
                kind = kinds[c] if isinstance(kinds[c], str) else kinds[c][r - 1]
                self.cell(sheet, r, c, value, kind)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(frame), 1), max(len(frame.columns) - 1, 0))
        return sheet

    def table(self, name: str, table: PeopleTable, chart: SheetChart | None) -> None:
        sheet = self.frame(name, table.frame, table.kinds, headings=table.headings)
        if chart is not None and len(table.frame):
            self.chart(sheet, table, chart)

    def chart(self, sheet, table: PeopleTable, spec: SheetChart) -> None:
        """A native chart of the sheet's own cells, to the right of the table."""
        where = {c: i for i, c in enumerate(table.columns)}
        category = spec.category if spec.category in where else ID_NAMES.get(spec.category)
        values = [v for v in spec.values if v in where]
        if category not in where or not values:
            return
        last = min(len(table.frame), spec.first_rows or len(table.frame))
        chart = self.book.add_chart({"type": spec.kind})
        for v in values:
            col = where[v]
            kind = table.kinds[col] if isinstance(table.kinds[col], str) else "decimal"
            chart.add_series({"name": [sheet.name, 0, col], "categories": [sheet.name, 1, where[category], last,
                                                                             where[category]],
                              "values": [sheet.name, 1, col, last, col]})
        number_format = NUMBER_FORMATS.get(kind, "General")
        value_axis = {"num_format": number_format, "major_gridlines": {"visible": True,
                                                                          "line": {"color": "#E5E8EC"}}}
        category_axis = {"num_format": "mmm yy"} if table.kinds[where[category]] == "date" else {}
        if spec.kind == "bar":  # products top to bottom in the table's order
            category_axis["reverse"] = True
            chart.set_x_axis(value_axis)
            chart.set_y_axis(category_axis)
        else:
            chart.set_x_axis(category_axis)
            chart.set_y_axis(value_axis)
        chart.set_title({"name": spec.title, "name_font": {"size": 12}})
        chart.set_legend({"position": "bottom"} if len(values) > 1 else {"none": True})
        height = max(320, min(720, 22 * last + 120)) if spec.kind == "bar" else 360
        chart.set_size({"width": 720, "height": height})
        sheet.insert_chart(1, len(table.columns) + 1, chart)


def render(pack: Pack) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties({"title": pack.title, "subject": pack.period, "comments": pack.freshness})
    writer = _Writer(book)
    r = pack.retailer
    about = [("Retailer", r["retailer_name"]), ("Channel", labels.channel(r["channel"]) if r.get("channel") else None),
             ("Key account manager", r.get("kam")), ("Period", pack.period), ("Data", pack.freshness),
             ("Filters", pack.filters), ("Prepared", pack.generated.strftime("%Y-%m-%d %H:%M"))]
    about += [("Not in this pack", gap) for gap in pack.gaps]
    writer.frame("About", pd.DataFrame(about, columns=["Item", "Value"]), ["text", "text"], widths=[22, 110])
    for table in pack.tables:
        writer.table(table.sheet, pack.people(table), table.chart)
    if pack.definitions:
        writer.frame("Definitions", pd.DataFrame(pack.definitions, columns=["Term", "Definition"]),
                     ["text", "text"], widths=[32, 120])
    book.close()
    return buffer.getvalue()

