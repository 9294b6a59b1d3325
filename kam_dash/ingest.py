"""File import: read CSV, Parquet and Excel files, check them against the data contract, load all or nothing.

The contract is `kam_dash.schema`; this module only applies it. Three steps, each usable on its own (a later
upload page reuses the first two without touching the file system):

- `validate(files, known=...)` reads in-memory files (name + bytes), checks every row and returns a `Validation`:
  the problems found (file, spreadsheet row, column, reason) and, when there are none, one typed DataFrame per
  table, already rolled up to weeks;
- `load(validation, db)` writes a clean validation into a DuckDB file in one transaction: rows whose key is
  already present are deleted and inserted again (retailers restate past weeks), everything else is added;
- `import_files(paths, db, table)` does both for `kam-dash import`, holding one read-write connection throughout.

Nothing is written unless every file passes: a problem anywhere means the database stays exactly as it was.
Row numbers in messages are spreadsheet rows (the header is row 1, the first data row row 2), so a user can
open the file and go straight to the row. The rules are described for users in docs/DATA_MODEL.md.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import fcntl
import io
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from kam_dash import derived, schema, store_summary
from kam_dash.schema import LOAD_ORDER, TABLES, Column, Table

# File extension -> reader.
FORMATS = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel"}
MAX_EXAMPLES = 20  # problems kept per file in Validation.problems; the count covers all of them
EXAMPLES_PER_REASON = 5  # rows shown for each kind of problem in the report
ROW_RULE = "Row numbers are spreadsheet rows: the header is row 1, so the first data row is row 2."
# Besides an empty cell, these also mean "no value" in number, date and yes/no columns (never in text columns,
# where "NA" may well be a region).
NULL_MARKERS = frozenset({"na", "n/a", "null", "nan", "none"})
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})
INT32_MAX = 2**31 - 1  # INTEGER columns in the database
MAX_AMOUNT = 1e15  # no line of retail sales or stock comes near this; above it is a mix-up, and sums overflow
MAX_FILE_BYTES = int(float(os.environ.get("KAM_DASH_MAX_FILE_MB", "2048")) * 2**20)  # one file, read in chunks
READ_CHUNK = 64 * 2**20
WEEK_ENDINGS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAILY_COLUMN = "date"  # a weekly table's file may carry days in this column instead of `week`
# dtype of an optional column the file leaves out (filled with the column's default, or empty)
ABSENT_DTYPES = {"text": object, "float": "float64", "int": "Int64", "bool": "boolean", "date": "datetime64[us]"}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NAME_SEPARATORS = "_-. "  # `sell_out_2024.csv`, `sell_out-w12.csv`, `sell_out 2024.csv` all load into sell_out


# ---------------------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file. `row` is the spreadsheet row (None: the whole file)."""

    file: str
    row: int | None
    column: str | None
    reason: str

    def render(self) -> str:
        if self.row is None and self.column is None:
            return f"{self.file} {self.reason}"  # the reason finishes the sentence: "x.csv is empty"
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"{'columns' if ', ' in self.column else 'column'} {self.column}")
        return f"{', '.join(where)}: {self.reason}"


@dataclass(frozen=True)
class ProblemGroup:
    """One kind of problem in one file (a column and a reason), how many rows have it, and the first of them."""

    file: str
    column: str | None
    reason: str
    count: int
    examples: list[Problem]

    @property
    def title(self) -> str:
        where = f"column {self.column}: " if self.column and ", " not in self.column else (
            f"columns {self.column}: " if self.column else "")
        return f"{where}{self.reason}"


@dataclass(frozen=True)
class FileSummary:
    name: str
    table: str
    rows: int  # data rows read
    form: str  # how it was read, e.g. "CSV, semicolon-separated, decimal comma, UTF-8 with BOM"


@dataclass(frozen=True)
class Layout:
    """How a file, as a retailer delivers it, maps onto the contract. Every field is optional.

    week_ending: the file dates each week by its LAST day, this weekday ("fri" for a Saturday-to-Friday week);
        each row moves to the Monday of the ISO week holding most of its seven days, the Monday of (date - 3
        days). Every date must then fall on that weekday.
    columns: file column -> contract column, e.g. {"Weekly_Sales": "sales_value"} (case and spaces ignored).
    retailer_id: the retailer of every row, for a file from one retailer that does not name it.
    sum_over: file columns summed away: rows that differ only in them are added up (e.g. "Store": a chain's
        store rows become one chain row per week and SKU; stores_selling counts the stores with sales).
    """

    week_ending: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    retailer_id: str | None = None
    sum_over: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.week_ending is not None and self.week_ending not in WEEK_ENDINGS:
            raise ImportFailed(f"--week-ending must be one of {', '.join(WEEK_ENDINGS)}, not {self.week_ending!r}")


@dataclass
class Validation:
    """What `validate` found. `problems` holds up to MAX_EXAMPLES examples per file; `problem_counts` the totals."""

    files: list[FileSummary] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problem_counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # file -> (problems, rows affected)
    groups: list[ProblemGroup] = field(default_factory=list)  # every kind of problem, per file, with counts
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)  # table -> contract columns, typed, weekly
    notes: list[str] = field(default_factory=list)
    counted: dict[str, int] = field(default_factory=dict)  # rows accepted with a remark, e.g. "negative (returns)"

    @property
    def ok(self) -> bool:
        return not self.problem_counts

    def render(self) -> str:
        if self.ok:
            return "No problems found."
        total = sum(n for n, _ in self.problem_counts.values())
        n_files = len(self.problem_counts)
        lines = [
            f"Nothing was imported: {total:,} problem{_s(total)} in {n_files} file{_s(n_files)}. "
            "The database is unchanged.",
            ROW_RULE,
        ]
        for file, (count, rows) in self.problem_counts.items():
            groups = [g for g in self.groups if g.file == file]
            lines.append("")
            head = f"{file}: {count:,} problem{_s(count)}"
            if rows:
                head += f" in {rows:,} row{_s(rows)}"
            if len(groups) > 1:
                head += f", of {len(groups)} kinds"
            lines.append(head)
            for g in groups:
                if g.count == 1 and g.examples:
                    lines.append(f"  {g.examples[0].render()}")
                    continue
                more = f" (the first {len(g.examples)} shown)" if g.count > len(g.examples) else ""
                lines.append(f"  {g.count:,} x {g.title}{more}")
                lines.extend(f"    {p.render()}" for p in g.examples)
        return "\n".join(lines)


@dataclass(frozen=True)
class TableCounts:
    added: int  # rows with a key the table did not hold
    replaced: int  # rows whose key was already present (the old row is gone)


@dataclass
class ImportReport:
    db: Path
    created: bool
    files: list[FileSummary]
    tables: dict[str, TableCounts]
    notes: list[str]

    def render(self) -> str:
        made = " (a new database)" if self.created else ""
        lines = [f"Imported {len(self.files)} file{_s(len(self.files))} into {self.db}{made}:"]
        width = max(len(f.name) for f in self.files) if self.files else 0
        for f in self.files:
            lines.append(f"  {f.name:<{width}}  -> {f.table:<15} {f.rows:>10,} rows  ({f.form})")
        lines.append("")
        lines.append(f"  {'table':<16}{'added':>12}{'replaced':>12}")
        for name, c in self.tables.items():
            lines.append(f"  {name:<16}{c.added:>12,}{c.replaced:>12,}")
        if self.notes:
            lines.append("")
            lines.append("Notes:")
            lines.extend(f"  - {n}" for n in self.notes)
        return "\n".join(lines)


class ImportFailed(Exception):
    """Nothing was written. `render()` says why, naming files, rows and columns."""

    def __init__(self, message: str, validation: Validation | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.validation = validation

    def render(self) -> str:
        if self.validation is not None and not self.validation.ok:
            return self.validation.render()
        return f"Nothing was imported: {self.message}"

    def __str__(self) -> str:
        return self.render()


def _s(n: int) -> str:
    return "" if n == 1 else "s"


# ---------------------------------------------------------------------------------------------------------------
# Which table a file belongs to


def table_for(filename: str) -> str | None:
    """The table a file loads into, from its name: the name without its extension is a table name, or starts
    with one followed by `_`, `-`, `.` or a space (`sell_out_2024.csv`). Case does not matter."""
    name = Path(filename).name.lower()
    suffix = Path(name).suffix
    stem = name[: -len(suffix)] if suffix else name
    for table in sorted(TABLES, key=len, reverse=True):
        if stem == table or (stem.startswith(table) and stem[len(table)] in NAME_SEPARATORS):
            return table
    return None


def _normalise_header(text: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(text).replace("\ufeff", "").strip().lower())


# ---------------------------------------------------------------------------------------------------------------
# Reading files into raw frames (no checks on values yet)


class _FileError(Exception):
    """The file cannot be read at all; the message finishes the sentence '<file> ...'."""


@dataclass
class _Raw:
    header: list[str]  # as written in the file
    frame: pd.DataFrame  # one column per header cell (positional), values as read
    rows: np.ndarray  # spreadsheet row number of each frame row
    form: str
    delimiter: str | None = None  # CSV only; picks the default decimal mark
    row_findings: list[tuple[int, str]] = field(default_factory=list)  # (row, reason) found while reading


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "UTF-8 with BOM"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "UTF-16"
    if data.startswith(b"PK\x03\x04"):
        raise _FileError("is a zip file (an Excel workbook?) with a .csv name; save it as CSV or name it .xlsx")
    if b"\x00" in data[:4096]:
        raise _FileError("holds binary data, not CSV text")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _FileError(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02X} on line {line} is not valid UTF-8; the file is "
            "probably in a legacy encoding such as Windows-1252). Save it as UTF-8 (in Excel: 'CSV UTF-8') and "
            "import it again; characters are never guessed."
        ) from None


def _pick_delimiter(first_line: str, table: Table) -> str:
    """The delimiter under which the header names the most contract columns (ties: the most fields)."""
    known = set(table.column_names) | {DAILY_COLUMN}
    best, best_score = ",", (-1, -1)
    for delim in (",", ";", "\t", "|"):
        fields = next(csv.reader([first_line], delimiter=delim), [])
        score = (sum(_normalise_header(f) in known for f in fields), len(fields))
        if score > best_score:
            best, best_score = delim, score
    return best


DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def _read_csv(data: bytes, table: Table) -> _Raw:
    if not data.strip():
        raise _FileError("is empty: there is no header row")
    text, encoding = _decode(data)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = _pick_delimiter(first_line, table)
    form = f"CSV, {DELIMITER_NAMES[delimiter]}-separated, {encoding}"
    fast = _read_plain_csv(data, text, delimiter) if encoding.startswith("UTF-8") else None
    if fast is not None:
        header, frame, rows = fast
        return _Raw(header, frame, rows, form, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    records: list[list[str]] = []
    rows_read: list[int] = []
    findings: list[tuple[int, str]] = []
    try:
        for row, fields in enumerate(reader, start=1):
            if not any(f.strip() for f in fields):
                continue  # blank lines keep their row number but carry nothing
            if header is None:
                header = fields
                continue
            if len(fields) > len(header) and not any(f.strip() for f in fields[len(header):]):
                fields = fields[: len(header)]  # trailing delimiters
            if len(fields) != len(header):
                findings.append((row, f"has {len(fields)} fields but the header has {len(header)} "
                                      "(a stray delimiter or a missing one?)"))
                continue
            records.append(fields)
            rows_read.append(row)
    except csv.Error as exc:
        raise _FileError(f"cannot be parsed as CSV near line {reader.line_num}: {exc} (check the quotes)") from None
    if header is None:
        raise _FileError("is empty: there is no header row")
    columns = list(zip(*records)) if records else [()] * len(header)
    frame = pd.DataFrame({i: pd.array(list(c), dtype="str") for i, c in enumerate(columns)})
    return _Raw(header, frame, np.asarray(rows_read, dtype=np.int64), form, delimiter, findings)


def _read_plain_csv(data: bytes, text: str, delimiter: str) -> tuple[list[str], pd.DataFrame, np.ndarray] | None:
    """The fast path for the common machine-written file: no quotes, so every line is one row, read by Arrow.
    None when the file needs the careful reader (quotes, old Mac line ends, a row of the wrong length)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if '"' in text or text.count("\r") != text.count("\r\n"):
        return None
    body = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
    lines = np.frombuffer(body, dtype=np.uint8)
    ends = np.flatnonzero(lines == 10)
    starts = np.r_[0, ends + 1]
    stops = np.r_[ends, len(lines)]
    lengths = stops - starts - (np.r_[lines[np.maximum(ends - 1, 0)] == 13, False] & (stops > starts))
    filled = np.flatnonzero(lengths > 0)  # Arrow skips empty lines; spreadsheet rows still count them
    if not len(filled):
        return None
    first = int(filled[0])
    header = body[starts[first]:stops[first]].decode("utf-8").rstrip("\r").split(delimiter)
    rows = filled[1:] + 1
    names = [str(i) for i in range(len(header))]
    refused: list[object] = []
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=first + 1),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=False,
                                              invalid_row_handler=lambda row: refused.append(row) or "skip"),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False))
    except pa.ArrowInvalid:
        return None
    if refused or table.num_rows != len(rows):
        return None
    frame = table.to_pandas()
    frame.columns = range(len(header))
    blank = np.zeros(len(frame), dtype=bool)
    if len(frame):
        blank = (frame == "").all(axis=1).to_numpy()  # a row of delimiters only
    return header, frame[~blank].reset_index(drop=True), rows[~blank]


def _read_excel(data: bytes, table: Table) -> _Raw:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = book.sheet_names
        sheet_name = next((n for n in names if n.strip().lower() == table.name), names[0] if names else None)
        if sheet_name is None:
            raise _FileError("is a workbook without sheets")
        cells = book.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except _FileError:
        raise
    except Exception as exc:  # calamine raises its own errors, zip and XML errors alike
        raise _FileError(f"cannot be read as an Excel workbook ({exc}); is it damaged or password-protected?") \
            from None

    def blank(v) -> bool:
        return v is None or (isinstance(v, str) and not v.strip())

    filled = [i for i, r in enumerate(cells) if not all(blank(v) for v in r)]
    if not filled:
        raise _FileError(f"has nothing on sheet '{sheet_name}': there is no header row")
    # Title rows above the table are common in workbooks: the header is the first row naming a contract column.
    known = set(table.column_names) | {DAILY_COLUMN}
    header_at = next((i for i in filled if any(_normalise_header(v) in known for v in cells[i] if not blank(v))),
                     filled[0])
    header = ["" if blank(v) else str(v) for v in cells[header_at]]
    body = [(i + 1, r) for i, r in enumerate(cells) if i > header_at and not all(blank(v) for v in r)]
    findings: list[tuple[int, str]] = []
    # Columns without a header are dropped when empty; with values they are a problem.
    for j, h in enumerate(header):
        if h == "":
            used = [n for n, r in body if j < len(r) and not blank(r[j])]
            if used:
                findings.append((used[0], f"has a value in spreadsheet column {j + 1}, which has no header"))
    keep = [j for j, h in enumerate(header) if h != ""]
    records = [[r[j] if j < len(r) else "" for j in keep] for _, r in body]
    frame = pd.DataFrame(records, columns=range(len(keep)), dtype=object) if records else pd.DataFrame(
        {i: pd.Series([], dtype=object) for i in range(len(keep))})
    form = f"Excel, sheet '{sheet_name}'"
    if len(names) > 1:
        form += f" of {len(names)}"
    return _Raw([header[j] for j in keep], frame, np.asarray([n for n, _ in body], dtype=np.int64), form,
                None, findings)


def _read_parquet(data: bytes, table: Table) -> _Raw:
    import pyarrow.parquet as pq

    if not data:
        raise _FileError("is empty")
    try:
        frame = pq.read_table(io.BytesIO(data)).to_pandas(date_as_object=False)  # dates as datetime64: vectorised
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError for damaged files
        raise _FileError(f"cannot be read as Parquet ({exc})") from None
    header = [str(c) for c in frame.columns]
    frame.columns = range(len(header))
    # Parquet has no spreadsheet rows; number them the same way so every message reads alike.
    return _Raw(header, frame.reset_index(drop=True), np.arange(2, len(frame) + 2, dtype=np.int64), "Parquet")


READERS = {"csv": _read_csv, "excel": _read_excel, "parquet": _read_parquet}


# ---------------------------------------------------------------------------------------------------------------
# Problems found in one file, kept as row arrays so a file with a million bad rows is still cheap


class _Findings:
    def __init__(self, file: str, rows: np.ndarray, column_order: Sequence[str]) -> None:
        self.file = file
        self.rows = rows
        self._order = {c: i for i, c in enumerate(column_order)}
        self._whole_file: list[Problem] = []
        self.accepted: dict[str, int] = {}  # rows loaded with a remark, by remark
        # (column, spreadsheet rows, reason for the i-th of them, the reason in general)
        self._groups: list[tuple[str | None, np.ndarray, Callable[[int], str], str | None]] = []

    def file_problem(self, reason: str, column: str | None = None) -> None:
        self._whole_file.append(Problem(self.file, None, column, reason))

    def count_accepted(self, remark: str, n: int) -> None:
        if n:
            self.accepted[remark] = self.accepted.get(remark, 0) + n

    @property
    def has_file_problems(self) -> bool:
        return bool(self._whole_file)

    def at_rows(self, column: str | None, rows: np.ndarray, reason: Callable[[int], str],
                label: str | None = None) -> None:
        if len(rows):
            self._groups.append((column, np.asarray(rows), reason, label))

    def where(self, column: str | None, mask, reason: Callable[[int], str], label: str | None = None) -> None:
        """Rows of the frame where `mask` holds; `reason(position)` words the problem at that frame position;
        `label` names the kind of problem in the report's summary (default: the first row's reason)."""
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(positions):
            self._groups.append((column, self.rows[positions], lambda i, p=positions: reason(int(p[i])), label))

    @property
    def count(self) -> int:
        return len(self._whole_file) + sum(len(rows) for _, rows, _, _ in self._groups)

    @property
    def rows_affected(self) -> int:
        if not self._groups:
            return 0
        return len(np.unique(np.concatenate([rows for _, rows, _, _ in self._groups])))

    def examples(self, limit: int = MAX_EXAMPLES) -> list[Problem]:
        candidates = []
        for g, (column, rows, _, _) in enumerate(self._groups):
            for i in np.argsort(rows, kind="stable")[:limit]:
                candidates.append((int(rows[i]), self._order.get(column, len(self._order)), g, int(i)))
        candidates.sort()
        out = list(self._whole_file[:limit])
        for row, _, g, i in candidates[: max(0, limit - len(out))]:
            column, _, reason, _ = self._groups[g]
            out.append(Problem(self.file, row, column, reason(i)))
        return out

    def by_reason(self, limit: int = EXAMPLES_PER_REASON) -> list[ProblemGroup]:
        """The problems grouped by kind (column and reason), largest first, with the first rows of each."""
        merged: dict[tuple[str | None, str], list] = {}
        for p in self._whole_file:
            merged.setdefault((p.column, p.reason), [0, []])
            merged[(p.column, p.reason)][0] += 1
            merged[(p.column, p.reason)][1].append(p)
        for column, rows, reason, label in self._groups:
            order = np.argsort(rows, kind="stable")
            first = [Problem(self.file, int(rows[i]), column, reason(int(i))) for i in order[:limit]]
            key = (column, label or first[0].reason)
            entry = merged.setdefault(key, [0, []])
            entry[0] += len(rows)
            entry[1] = sorted(entry[1] + first, key=lambda p: p.row or 0)[:limit]
        groups = [ProblemGroup(self.file, column, label, count, examples)
                  for (column, label), (count, examples) in merged.items()]
        return sorted(groups, key=lambda g: -g.count)


def _show(value) -> str:
    """A cell's value as a message quotes it."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return "an empty cell"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f"'{text}'"
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------------------------------------------------------
# Cell values -> typed values


@dataclass
class _Parsed:
    values: pd.Series
    missing: pd.Series  # no value given (empty cell)
    issues: list[tuple[np.ndarray, str]]  # (mask, reason with {value}) for values that could not be read


def _split_strings(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(stripped text of the string cells, '' elsewhere; mask of string cells)."""
    if isinstance(raw.dtype, pd.StringDtype):
        is_str = raw.notna()
        text = raw.fillna("").str.strip()
    else:
        is_str = raw.map(lambda v: isinstance(v, str)).astype(bool)
        text = raw.where(is_str, "").astype("str").str.strip()
    return text, is_str


def _blank(raw: pd.Series, text: pd.Series, is_str: pd.Series, markers: bool) -> pd.Series:
    empty = is_str & (text == "")
    if markers:
        empty |= is_str & text.str.lower().isin(NULL_MARKERS)
    return empty | (~is_str & raw.isna())


def _is_typed(raw: pd.Series) -> bool:
    return not (raw.dtype == object or isinstance(raw.dtype, pd.StringDtype))


def _parse_text(raw: pd.Series, column: Column) -> _Parsed:
    text, is_str = _split_strings(raw)
    missing = _blank(raw, text, is_str, markers=False)

    def cell(v):
        if isinstance(v, float) and v.is_integer():
            return str(int(v))  # Excel stores 101 as 101.0; an id is '101'
        if isinstance(v, (dt.date, pd.Timestamp)):
            return _show(v)
        return str(v)

    values = text.astype(object)
    others = ~is_str & ~missing
    if others.any():
        values[others] = raw[others].map(cell)
    values = values.where(~missing, None)
    issues = []
    if column.allowed is not None:
        canonical = {a.lower(): a for a in column.allowed}
        codes, uniques = pd.factorize(values)  # few distinct values: look each up once
        spelled = np.array([canonical.get(str(u).lower()) for u in uniques] + [None], dtype=object)
        mapped = pd.Series(spelled[codes], index=values.index)  # code -1 (missing) takes the trailing None
        bad = ~missing & mapped.isna()
        issues.append((bad.to_numpy(), "{value} is not one of: " + ", ".join(column.allowed)))
        values = mapped.where(~bad, values)
    return _Parsed(values, missing, issues)


def _number_pattern(decimal: str) -> str:
    thousands = re.escape("." if decimal == "," else ",")
    mark = re.escape(decimal)
    return rf"[+-]?(?:(?:\d+|\d{{1,3}}(?:{thousands}\d{{3}})+)(?:{mark}\d*)?|{mark}\d+)(?:[eE][+-]?\d+)?"


# Values that can only be read one way (see `_decimal_mark`).
COMMA_DECIMAL = r"[+-]?(?:\d{1,3}(?:\.\d{3})+,\d*|\d*,(?:\d{1,2}|\d{4,})|0,\d+|\d{1,3}(?:\.\d{3}){2,})"
POINT_DECIMAL = (r"[+-]?(?:\d{1,3}(?:,\d{3})+\.\d*|\d*\.(?:\d{1,2}|\d{4,})|0\.\d+|\d{1,3}(?:,\d{3}){2,}"
                 r"|\d+(?:\.\d*)?[eE][+-]?\d+)")
NUMBER_LOOKS = {",": "1.234,56", ".": "1,234.56"}


def _grouping_spaces(text: pd.Series, decimal: str) -> pd.Series:
    # 1 234,56 (a space, no-break space or narrow no-break space between digit groups) = 1.234,56
    spaced = text.str.contains("[ \u00a0\u202f]", regex=True)
    if not spaced.any():
        return text
    thousands = "." if decimal == "," else ","
    out = text.copy()
    out[spaced] = text[spaced].str.replace(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?!\d))", thousands, regex=True)
    return out


def _decimal_mark(texts: list[pd.Series], delimiter: str | None) -> str:
    """The file's decimal mark, from the number cells that can only be read one way: `12,5` and `1.234,56`
    say decimal comma; `12.5` and `1,234.56` say decimal point. More of one kind wins (the others then fail
    as unreadable numbers); with no evidence either way a semicolon-separated file uses the decimal comma
    (the European convention that puts semicolons there) and any other file the decimal point."""
    comma = point = 0
    for text in texts:
        text = text[text != ""]
        if len(text):
            comma += int(_grouping_spaces(text, ",").str.fullmatch(COMMA_DECIMAL).sum())
            point += int(_grouping_spaces(text, ".").str.fullmatch(POINT_DECIMAL).sum())
    if comma != point:
        return "," if comma > point else "."
    return "," if delimiter == ";" else "."


def _parse_number(raw: pd.Series, column: Column, decimal: str, text_file: bool) -> _Parsed:
    issues: list[tuple[np.ndarray, str]] = []
    if pd.api.types.is_bool_dtype(raw.dtype):
        missing = raw.isna()
        values = pd.Series(np.nan, index=raw.index)
        issues.append(((~missing).to_numpy(), "{value} is true/false, not a number"))
    elif pd.api.types.is_numeric_dtype(raw.dtype):
        values = raw.astype("float64")
        missing = values.isna()
    elif _is_typed(raw):
        missing = raw.isna()
        values = pd.Series(np.nan, index=raw.index)
        issues.append(((~missing).to_numpy(), "{value} is not a number"))
    else:
        text, is_str = _split_strings(raw)
        missing = _blank(raw, text, is_str, markers=True)
        values = pd.Series(np.nan, index=raw.index)
        wanted = is_str & ~missing
        if wanted.any():
            t = _grouping_spaces(text[wanted], decimal)
            readable = t.str.fullmatch(_number_pattern(decimal))
            cleaned = t.str.replace("." if decimal == "," else ",", "", regex=False)
            if decimal == ",":
                cleaned = cleaned.str.replace(",", ".", regex=False)
            values[wanted] = pd.to_numeric(cleaned.where(readable), errors="coerce")
            unreadable = pd.Series(False, index=raw.index)
            unreadable[wanted] = ~readable
            hint = f" (this file writes numbers like {NUMBER_LOOKS[decimal]})" if text_file else ""
            issues.append((unreadable.to_numpy(), "{value} is not a number" + hint))
        others = ~is_str & ~missing
        if others.any():
            cells = raw[others]
            numeric = cells.map(lambda v: isinstance(v, (int, float, np.number))
                                and not isinstance(v, (bool, np.bool_)))
            values[cells.index[numeric.to_numpy()]] = cells[numeric].astype("float64")
            wrong = pd.Series(False, index=raw.index)
            wrong[cells.index[~numeric.to_numpy()]] = True
            issues.append((wrong.to_numpy(), "{value} is not a number"))
    unread = np.zeros(len(raw), dtype=bool)
    for mask, _ in issues:
        unread |= mask
    read = ~missing.to_numpy() & ~unread
    vals = values.to_numpy(dtype="float64", na_value=np.nan)
    infinite = read & ~np.isfinite(vals)
    issues.append((infinite, "{value} is not a finite number"))
    issues.append((read & np.isfinite(vals) & (np.abs(vals) > MAX_AMOUNT),
                   f"{{value}} is larger than {MAX_AMOUNT:.0e}: no one sells or stocks that much (a unit or decimal "
                   "mark mix-up?), and sums of it overflow"))
    if column.type == "int":
        finite = read & np.isfinite(vals)
        issues.append((finite & (np.floor(vals) != vals), "{value} is not a whole number"))
        issues.append((finite & (np.abs(vals) > INT32_MAX), "{value} is too large for this column"))
    return _Parsed(values.astype("float64"), missing, issues)


ISO_DATE = r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]00:00(?::00(?:\.0+)?)?)?"
DOTTED_DATE = r"(\d{1,2})\.(\d{1,2})\.(\d{4})"
SLASHED_DATE = r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})"
SHORT_YEAR_DATE = r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2}"
YEAR_MONTH = r"(\d{4})-(\d{1,2})"
HOW_TO_WRITE_DATES = "write dates as YYYY-MM-DD, e.g. 2024-01-31"


def _parse_date_text(text: pd.Series, month_only: bool) -> tuple[pd.Series, list[tuple[pd.Series, str]]]:
    """Dates written as text. Accepted: YYYY-MM-DD (also with / or . and a 00:00 time), DD.MM.YYYY (dots are
    day first everywhere they are used), and DD/MM/YYYY or MM/DD/YYYY when the column itself settles the
    order (some day above 12 in one place and never in the other). A date that could be read both ways is
    refused, never guessed. `month_only` also accepts YYYY-MM (targets.month)."""
    y = pd.Series(np.nan, index=text.index)
    m, d = y.copy(), y.copy()
    issues: list[tuple[pd.Series, str]] = []

    def take(match: pd.DataFrame, order: tuple[int, int, int]) -> pd.Series:
        hit = match[0].notna()
        for target, g in zip((y, m, d), order, strict=True):
            target[hit] = match.loc[hit, g].astype(float)
        return hit

    matched = take(text.str.extract(rf"^{ISO_DATE}$"), (0, 1, 2))
    matched |= take(text.str.extract(rf"^{DOTTED_DATE}$"), (2, 1, 0))
    if month_only:
        ym = text.str.extract(rf"^{YEAR_MONTH}$")
        hit = ym[0].notna()
        y[hit], m[hit], d[hit] = ym.loc[hit, 0].astype(float), ym.loc[hit, 1].astype(float), 1.0
        matched |= hit
    slashed = text.str.extract(rf"^{SLASHED_DATE}$")
    hit = slashed[0].notna()
    if hit.any():
        a, b = slashed.loc[hit, 0].astype(float), slashed.loc[hit, 1].astype(float)
        day_first, month_first = bool((a > 12).any()), bool((b > 12).any())
        if day_first and not month_first:
            y[hit], m[hit], d[hit] = slashed.loc[hit, 2].astype(float), b, a
            matched |= hit
        elif month_first and not day_first:
            y[hit], m[hit], d[hit] = slashed.loc[hit, 2].astype(float), a, b
            matched |= hit
        else:
            same = hit.copy()
            same[hit] = a == b  # 05/05/2024 reads the same either way
            y[same], m[same], d[same] = slashed.loc[same, 2].astype(float), a[same], a[same]
            matched |= same
            if day_first:
                reason = ("{value} mixes day-first and month-first dates with others in this column "
                          f"(some have a day above 12 first, some second); {HOW_TO_WRITE_DATES}")
            else:
                reason = ("{value} is ambiguous: day/month or month/day? No date in this column has a day above 12 "
                          f"to settle it, so it is refused rather than guessed; {HOW_TO_WRITE_DATES}")
            issues.append((hit & ~same, reason))
    short = ~matched & text.str.fullmatch(SHORT_YEAR_DATE)
    issues.append((short, "{value} has a two-digit year; " + HOW_TO_WRITE_DATES))
    unclaimed = ~matched & ~short
    for mask, _ in issues:
        unclaimed &= ~mask
    issues.append((unclaimed, "{value} is not a date we can read; " + HOW_TO_WRITE_DATES))
    parts = pd.DataFrame({"year": y.where(matched, 2000), "month": m.where(matched, 1), "day": d.where(matched, 1)})
    values = pd.to_datetime(parts.astype("int64"), errors="coerce").where(matched)
    issues.append((matched & values.isna(), "{value} is not a real calendar date"))
    return values, issues


def _parse_date(raw: pd.Series, column: Column, month_only: bool) -> _Parsed:
    time_reason = "{value} has a time of day; give the date only"
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        stamps = raw.dt.tz_localize(None) if getattr(raw.dt, "tz", None) is not None else raw
        missing = stamps.isna()
        values = stamps.dt.normalize()
        return _Parsed(values, missing, [((~missing & (stamps != values)).to_numpy(), time_reason)])
    if _is_typed(raw):
        missing = raw.isna()
        return _Parsed(pd.Series(pd.NaT, index=raw.index, dtype="datetime64[s]"), missing,
                       [((~missing).to_numpy(), "{value} is not a date")])
    text, is_str = _split_strings(raw)
    missing = _blank(raw, text, is_str, markers=True)
    values = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
    issues: list[tuple[np.ndarray, str]] = []
    wanted = is_str & ~missing
    if wanted.any():
        # A date column repeats few values (a year of weeks is 52): read each distinct text once.
        codes, uniques = pd.factorize(text[wanted])
        parsed, text_issues = _parse_date_text(pd.Series(uniques, dtype="str"), month_only)
        values[wanted] = parsed.astype("datetime64[us]").to_numpy()[codes]
        for mask, reason in text_issues:
            full = np.zeros(len(raw), dtype=bool)
            full[np.flatnonzero(wanted.to_numpy())] = mask.to_numpy()[codes]
            issues.append((full, reason))
    others = ~is_str & ~missing
    if others.any():
        cells = raw[others]

        def kind(v) -> str:
            if isinstance(v, (dt.datetime, pd.Timestamp)):
                return "date" if v.time() == dt.time() else "time"
            if isinstance(v, dt.date):
                return "date"
            if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
                return "number"
            return "other"

        kinds = cells.map(kind)
        dates = kinds == "date"
        values[cells.index[dates.to_numpy()]] = pd.to_datetime(cells[dates].map(
            lambda v: dt.date(v.year, v.month, v.day))).astype("datetime64[us]")
        for name, reason in (("time", time_reason),
                             ("number", "{value} is a number, not a date: format the cells as dates or "
                                        + HOW_TO_WRITE_DATES),
                             ("other", "{value} is not a date")):
            mask = pd.Series(False, index=raw.index)
            mask[cells.index[(kinds == name).to_numpy()]] = True
            issues.append((mask.to_numpy(), reason))
    return _Parsed(values, missing, issues)


def _parse_bool(raw: pd.Series, column: Column) -> _Parsed:
    reason = "{value} is not yes/no: write true/false, 1/0, yes/no or y/n"
    if pd.api.types.is_bool_dtype(raw.dtype):
        return _Parsed(raw.astype("boolean"), raw.isna(), [])
    if pd.api.types.is_numeric_dtype(raw.dtype):
        missing = raw.isna()
        ok = raw.isin([0, 1])
        return _Parsed((raw == 1).astype("boolean").where(ok, pd.NA), missing, [((~missing & ~ok).to_numpy(), reason)])
    text, is_str = _split_strings(raw)
    missing = _blank(raw, text, is_str, markers=True)
    words = text.str.lower()

    def cell(v):
        if isinstance(v, str):
            return pd.NA
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        if isinstance(v, (int, float, np.number)) and v in (0, 1):
            return bool(v == 1)
        return pd.NA

    values = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    values[is_str & words.isin(TRUE_WORDS)] = True
    values[is_str & words.isin(FALSE_WORDS)] = False
    others = ~is_str & ~missing
    if others.any():
        values[others] = raw[others].map(cell).astype("boolean")
    return _Parsed(values, missing, [((~missing & values.isna()).to_numpy(), reason)])


# ---------------------------------------------------------------------------------------------------------------
# Checking one file


@dataclass
class _Checked:
    name: str
    table: Table
    frame: pd.DataFrame  # contract columns (plus `date` for a daily file), typed
    rows: np.ndarray
    daily: bool
    findings: _Findings
    summary: FileSummary


def _week_of(days: pd.Series) -> pd.Series:
    return days - pd.to_timedelta(days.dt.day_of_week, unit="D")


def _check_file(name: str, data: bytes, table: Table, notes: list[str], layout: Layout) -> _Checked | _Findings:
    kind = FORMATS[Path(name).suffix.lower()]
    try:
        raw = READERS[kind](data, table)
    except _FileError as exc:
        findings = _Findings(name, np.zeros(0, dtype=np.int64), ())
        findings.file_problem(str(exc))
        return findings

    renamed = {_normalise_header(k): v for k, v in layout.columns.items()}
    headers = [renamed.get(_normalise_header(h), _normalise_header(h)) for h in raw.header]
    if table.name in schema.STORE_LEVEL and "store_id" in headers:
        table = TABLES[schema.STORE_LEVEL[table.name]]  # store rows: their own table, and the chain's rollup
    summed = {_normalise_header(c) for c in layout.sum_over}
    wanted = set(table.column_names) | ({DAILY_COLUMN} if table.weekly else set()) | summed
    if layout.retailer_id is not None and "retailer_id" in table.column_names and "retailer_id" not in headers:
        raw.frame[len(headers)] = pd.array([layout.retailer_id] * len(raw.frame), dtype="str")
        raw.header = [*raw.header, "retailer_id"]
        headers.append("retailer_id")
        notes.append(f"{name}: every row is retailer {layout.retailer_id} (--retailer-id)")
    findings = _Findings(name, raw.rows, (*table.column_names, DAILY_COLUMN))
    read_as = {_normalise_header(h) for h in raw.header}
    for source, target in layout.columns.items():
        if target not in table.column_names and target != DAILY_COLUMN:
            findings.file_problem(f"cannot take --column {source}={target}: {table.name} has no column {target!r} "
                                  f"(its columns: {', '.join(table.column_names)})")
        elif _normalise_header(source) not in read_as:
            findings.file_problem(f"has no column {source!r} to read as {target} (--column {source}={target}; the "
                                  f"header has: {', '.join(raw.header) or 'nothing'})")
    for row, reason in raw.row_findings:
        findings.at_rows(None, np.asarray([row]), lambda i, r=reason: r)
    positions: dict[str, int] = {}
    for j, h in enumerate(headers):
        if h in positions:
            findings.file_problem(f"the column '{raw.header[j]}' appears twice", column=h)
        positions.setdefault(h, j)
    ignored = [raw.header[j] for j, h in enumerate(headers) if h not in wanted]
    if ignored:
        notes.append(f"{name}: ignored columns that are not in the {table.name} contract: {', '.join(ignored)}")

    daily = False
    if table.weekly and DAILY_COLUMN in positions:
        if "week" in positions:
            findings.file_problem("has both a 'week' and a 'date' column: give weeks or days, not both")
        else:
            daily = True
    missing_cols = [c.name for c in table.columns if c.required and c.name not in positions
                    and not (daily and c.name == "week")]
    for c in missing_cols:
        findings.file_problem(f"the required column '{c}' is missing (the header has: "
                              f"{', '.join(raw.header) or 'nothing'})", column=c)
    summary = FileSummary(name, table.name, len(raw.frame), raw.form)
    if findings.has_file_problems:
        return findings  # rows cannot be read sensibly under a header like this

    columns = [c for c in table.columns if not (daily and c.name == "week")]
    if daily:
        columns.append(Column(DAILY_COLUMN, "date"))
    number_cells = [raw.frame[positions[c.name]] for c in columns if c.type in ("int", "float") and c.name in positions]
    number_texts = [cells for cells in number_cells if not _is_typed(cells)]
    decimal = _decimal_mark([_split_strings(t)[0] for t in number_texts], raw.delimiter)
    if kind == "csv" and any(len(t) for t in number_texts):
        summary = FileSummary(name, table.name, len(raw.frame),
                              raw.form + (", decimal comma" if decimal == "," else ", decimal point"))

    typed: dict[str, pd.Series] = {}
    for col in columns:
        if col.name not in positions:
            typed[col.name] = pd.Series([col.default] * len(raw.frame), index=raw.frame.index,
                                        dtype=ABSENT_DTYPES[col.type])
            continue
        cells = raw.frame[positions[col.name]]
        if col.type == "text":
            parsed = _parse_text(cells, col)
        elif col.type in ("int", "float"):
            parsed = _parse_number(cells, col, decimal, text_file=kind == "csv")
        elif col.type == "date":
            parsed = _parse_date(cells, col, month_only=(table.name == "targets" and col.name == "month"))
        else:
            parsed = _parse_bool(cells, col)
        for mask, reason in parsed.issues:
            findings.where(col.name, mask, lambda p, r=reason, s=cells: r.format(value=_show(s.iloc[p])),
                           label=reason.replace("{value} ", "a value "))
        values, missing = parsed.values, parsed.missing.to_numpy()
        if missing.any():
            if col.default is not None:
                values = values.astype(object).where(~missing, col.default) if col.type == "text" \
                    else values.where(~missing, col.default)
            elif not col.nullable:
                findings.where(col.name, missing, lambda p, c=col.name: f"is empty, but {c} is required",
                               label=f"empty, but {col.name} is required")
        if col.type in ("int", "float"):
            v = values.to_numpy(dtype="float64", na_value=np.nan)
            if col.min is not None:
                findings.where(col.name, v < col.min,
                               lambda p, c=col, s=cells: f"{_show(s.iloc[p])} is below the minimum {c.min:g} "
                                                         f"({c.name} must be {c.min:g} or more)",
                               label=f"below the minimum {col.min:g}")
            if col.max is not None:
                findings.where(col.name, v > col.max,
                               lambda p, c=col, s=cells: f"{_show(s.iloc[p])} is above the maximum {c.max:g} "
                                                         f"({c.name} must be {c.max:g} or less)",
                               label=f"above the maximum {col.max:g}")
            values = values.round().astype("Int64") if col.type == "int" else values.astype("float64")
        typed[col.name] = values
    frame = pd.DataFrame(typed, index=raw.frame.index).reset_index(drop=True)

    rows = raw.rows
    _check_table_rules(frame, table, daily, findings, layout.week_ending)
    if layout.week_ending and table.weekly and not daily:
        notes.append(f"{name}: weeks ending on {WEEKDAYS[WEEK_ENDINGS.index(layout.week_ending)]} moved to the "
                     "Monday of the ISO week holding most of their days (the Monday of the date minus 3 days)")
    key = [DAILY_COLUMN if (daily and k == "week") else k for k in table.key]
    present_sums = [c for c in summed if c in positions]
    if present_sums and not findings.count:
        frame, rows = _sum_over(frame, rows, table, key)
        notes.append(f"{name}: rows summed over {', '.join(present_sums)} into one row per "
                     f"{', '.join(key)} ({len(raw.frame):,} rows -> {len(frame):,})")
    _check_duplicates(frame, key, findings)
    if daily:
        notes.append(f"{name}: daily rows (column 'date') rolled up into ISO weeks starting on Monday")
    if len(frame) == 0:
        notes.append(f"{name}: has a header but no data rows")
    return _Checked(name, table, frame, rows, daily, findings, summary)


def _sum_over(frame: pd.DataFrame, rows: np.ndarray, table: Table, key: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Add up rows that share a key (they differed only in a summed-away column such as the store)."""
    work = frame.assign(_row=rows)
    sums = [c.name for c in table.columns if c.type == "float" and c.name not in key]
    aggs = {c: (c, lambda v: v.sum(min_count=1)) for c in sums}
    if "stores_selling" in work and "sales_value" in work:
        work["_selling"] = (work["sales_value"] > 0).astype("int64")
        aggs["stores_selling"] = ("_selling", "sum")  # stores (rows) with a sale that week
    if "promo_flag" in work:
        work["promo_flag"] = work["promo_flag"].astype("Float64")
        aggs["promo_flag"] = ("promo_flag", "max")
    others = [c for c in frame.columns if c not in key and c not in aggs]
    for c in others:
        aggs[c] = (c, "first")
    aggs["_row"] = ("_row", "min")
    out = work.groupby(key, sort=True, as_index=False, dropna=False).agg(**aggs)
    if "promo_flag" in out:
        out["promo_flag"] = out["promo_flag"].map({1.0: True, 0.0: False}).astype("boolean")
    if "stores_selling" in out:
        out["stores_selling"] = out["stores_selling"].astype("Int64")
    kept = out.pop("_row").to_numpy()
    return out[list(frame.columns)], kept


def _check_table_rules(frame: pd.DataFrame, table: Table, daily: bool, findings: _Findings,
                       week_ending: str | None = None) -> None:
    if table.weekly and not daily and week_ending is not None:
        week = frame["week"]
        last_day = WEEK_ENDINGS.index(week_ending)
        off = (week.notna() & (week.dt.day_of_week != last_day)).to_numpy()
        findings.where("week", off,
                       lambda p: f"{week.iloc[p].date().isoformat()} is a {WEEKDAYS[week.iloc[p].weekday()]}, not a "
                                 f"{WEEKDAYS[last_day]}: with --week-ending {week_ending} every week is dated by its "
                                 "last day",
                       label=f"not a {WEEKDAYS[last_day]} (--week-ending {week_ending})")
        frame["week"] = _week_of(week - pd.Timedelta(days=3))
    elif table.weekly and not daily:
        week = frame["week"]
        off = (week.notna() & (week.dt.day_of_week != 0)).to_numpy()

        def not_monday(p: int) -> str:
            day = week.iloc[p]
            return (f"{day.date().isoformat()} is a {WEEKDAYS[day.weekday()]}, not a Monday: weeks start on Monday "
                    f"(ISO). That week's Monday is {_week_of(week.iloc[[p]]).iloc[0].date().isoformat()}; "
                    "nothing is moved for you. A file of days needs a 'date' column instead of 'week'")

        findings.where("week", off, not_monday, label="not a Monday (weeks start on Monday)")
    if table.name == "sell_out":
        units, value = frame["units"].to_numpy(dtype="float64", na_value=np.nan), frame["sales_value"].to_numpy(
            dtype="float64", na_value=np.nan)
        opposite = ((units > 0) & (value < 0)) | ((units < 0) & (value >= 0))
        findings.where("units, sales_value", opposite,
                       lambda p: f"units {_show(units[p])} and sales_value {_show(value[p])} have opposite signs (a "
                                 "return has both negative, or a negative value and no units)",
                       label="units and sales_value of opposite signs")
        zero = (units == 0) & (value < 0)
        findings.where("units, sales_value", zero,
                       lambda p: f"units 0 with sales_value {_show(value[p])}: a return has negative units, or none "
                                 "(leave units empty for a return in value only)",
                       label="a negative sales_value with units 0")
        findings.count_accepted("negative (returns)", int(((value < 0) & ((units < 0) | np.isnan(units))).sum()))
        findings.count_accepted("value without units", int((np.isnan(units) & ~np.isnan(value)).sum()))
    if table.name == "targets":
        month = frame["month"]
        findings.where("month", (month.notna() & (month.dt.day != 1)).to_numpy(),
                       lambda p: f"{month.iloc[p].date().isoformat()} is not the first day of a month "
                                 f"(targets are monthly: write {month.iloc[p].date().replace(day=1).isoformat()})")
    if table.name == "stores":
        weight = frame["acv_weight"].to_numpy(dtype="float64", na_value=np.nan)
        findings.where("acv_weight", weight == 0,
                       lambda p: "0 is not a store weight: acv_weight must be above 0 (leave it empty for 1)",
                       label="acv_weight of 0")
        opened, closed = frame["open_date"], frame["close_date"]
        findings.where("close_date", (opened.notna() & closed.notna() & (closed < opened)).to_numpy(),
                       lambda p: f"close_date {closed.iloc[p].date().isoformat()} is before open_date "
                                 f"{opened.iloc[p].date().isoformat()}")
    if table.name == "promotions":
        start, end = frame["start_date"], frame["end_date"]
        findings.where("end_date", (start.notna() & end.notna() & (end < start)).to_numpy(),
                       lambda p: f"end_date {end.iloc[p].date().isoformat()} is before start_date "
                                 f"{start.iloc[p].date().isoformat()}")


def _key_text(frame: pd.DataFrame, key: Sequence[str], p: int) -> str:
    return ", ".join(f"{k} {_show(frame[k].iloc[p])}" for k in key)


def _check_duplicates(frame: pd.DataFrame, key: Sequence[str], findings: _Findings) -> None:
    usable = frame[list(key)].notna().all(axis=1)
    sub = frame.loc[usable, list(key)]
    dup = sub.duplicated(keep="first")
    if not dup.any():
        return
    first_pos = sub.reset_index().groupby(list(key), sort=False, dropna=False)["index"].transform("first")
    first_pos.index = sub.index
    mask = np.zeros(len(frame), dtype=bool)
    mask[dup.index[dup.to_numpy()]] = True
    rows = findings.rows
    findings.where(", ".join(key), mask,
                   lambda p: f"duplicate key ({_key_text(frame, key, p)}): the same as row {rows[first_pos.loc[p]]}",
                   label="duplicate key")


# ---------------------------------------------------------------------------------------------------------------
# Checks across the files of one import, and the weekly roll-up


def _check_references(checked: list[_Checked], known: Mapping[str, set[str]]) -> None:
    ids = {name: set(known.get(name, set())) for name in ("retailers", "products", "stores")}
    store_of = dict(known.get("store_retailers", set()))  # store_id -> retailer_id
    for c in checked:
        if c.table.name in ids:
            ids[c.table.name] |= set(c.frame[c.table.key[0]].dropna())
        if c.table.name == "stores":
            store_of.update(zip(c.frame["store_id"], c.frame["retailer_id"], strict=True))
    for c in checked:
        for column, target in c.table.references.items():
            values = c.frame[column]
            unknown = (values.notna() & ~values.isin(ids[target])).to_numpy()
            c.findings.where(column, unknown,
                             lambda p, v=values, t=target: f"{_show(v.iloc[p])} is not a known {t[:-1]} id: it is "
                                                           f"neither in the database nor in a {t} file of this import")
        if "store_id" in c.table.references:
            # A store row's retailer must be its store's: a mismatch would put the store's sales in another chain.
            stores, chains = c.frame["store_id"], c.frame["retailer_id"]
            owner = stores.map(store_of)
            wrong = (owner.notna() & chains.notna() & (owner != chains)).to_numpy()
            c.findings.where("retailer_id", wrong,
                             lambda p, s=stores, r=chains, o=owner: f"{_show(r.iloc[p])} is not the retailer of store "
                                                                     f"{_show(s.iloc[p])}, which belongs to "
                                                                     f"{_show(o.iloc[p])}")


def _roll_up(c: _Checked) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Days -> ISO weeks: amounts summed, stores_selling the week's highest, promo_flag true if any day was,
    inventory the last day's stock. Returns the weekly frame, the first daily row of each week, notes."""
    frame = c.frame.copy()
    frame["week"] = _week_of(frame[DAILY_COLUMN])
    frame["_row"] = c.rows
    key = list(c.table.key)
    notes = []
    first, last = frame[DAILY_COLUMN].min(), frame[DAILY_COLUMN].max()
    if pd.notna(first) and first.weekday() != 0:
        notes.append(f"{c.name}: the first week ({_week_of(pd.Series([first])).iloc[0].date()}) starts on "
                     f"{WEEKDAYS[first.weekday()]} {first.date()}, so it covers only {7 - first.weekday()} of 7 days "
                     "and replaces any full week already loaded")
    if pd.notna(last) and last.weekday() != 6:
        notes.append(f"{c.name}: the last week ({_week_of(pd.Series([last])).iloc[0].date()}) ends on "
                     f"{WEEKDAYS[last.weekday()]} {last.date()}, so it covers only {last.weekday() + 1} of 7 days "
                     "and replaces any full week already loaded")
    if c.table.name == "inventory":
        frame = frame.sort_values([*key, DAILY_COLUMN], kind="stable")
        weekly = frame.groupby(key, sort=True, as_index=False).agg(
            on_hand_units=("on_hand_units", "last"), _row=("_row", "min"))
    else:
        sums = [col.name for col in c.table.columns if col.type == "float" and col.name not in key]
        aggs = {s: (s, "sum") for s in sums}
        if "stores_selling" in frame:
            aggs["stores_selling"] = ("stores_selling", "max")
        if "promo_flag" in frame:
            frame["promo_flag"] = frame["promo_flag"].astype("Float64")  # max of 1/0 = any; nulls skipped
            aggs["promo_flag"] = ("promo_flag", "max")
        aggs["_row"] = ("_row", "min")
        weekly = frame.groupby(key, sort=True, as_index=False).agg(**aggs)
        if "promo_flag" in weekly:
            weekly["promo_flag"] = weekly["promo_flag"].map({1.0: True, 0.0: False}).astype("boolean")
        if "stores_selling" in weekly:
            weekly["stores_selling"] = weekly["stores_selling"].astype("Int64")
    rows = weekly.pop("_row").to_numpy()
    return weekly[list(c.table.column_names)], rows, notes


def _check_sums(c: _Checked, weekly: pd.DataFrame, rows: np.ndarray) -> None:
    """A sum of rows (days into a week, stores into a chain) above MAX_AMOUNT is refused like a single value."""
    for col in c.table.columns:
        if col.type == "float" and col.name in weekly:
            v = weekly[col.name].to_numpy(dtype="float64", na_value=np.nan)
            big = ~np.isfinite(v) & ~np.isnan(v) | (np.abs(v) > MAX_AMOUNT)
            c.findings.at_rows(col.name, rows[big],
                               lambda i, w=weekly[col.name][big]: f"the rows of this week from here on add up to "
                                                                  f"{w.iloc[i]:.3g}, above {MAX_AMOUNT:.0e}",
                               label=f"adds up to more than {MAX_AMOUNT:.0e}")


def _check_across_files(table: str, parts: list[tuple[_Checked, pd.DataFrame, np.ndarray]]) -> None:
    """A key loaded by two files of one import is a problem: which one should win is the user's call."""
    if len(parts) < 2:
        return
    key = list(TABLES[table].key)
    stacked = pd.concat([f[key].assign(_file=i, _row=rows) for i, (_, f, rows) in enumerate(parts)],
                        ignore_index=True)
    first = stacked.groupby(key, sort=False)[["_file", "_row"]].transform("first")
    clash = (stacked["_file"] != first["_file"]).to_numpy()
    for i, (c, _, _) in enumerate(parts):
        mine = clash & (stacked["_file"] == i).to_numpy()
        idx = np.flatnonzero(mine)
        if len(idx):
            def reason(k: int, idx=idx) -> str:
                p = idx[k]
                other = parts[int(first["_file"].iloc[p])][0].name
                return (f"the key ({_key_text(stacked, key, p)}) is also in {other} row {int(first['_row'].iloc[p])}: "
                        "one import may give each key once")
            c.findings.at_rows(", ".join(key), stacked["_row"].to_numpy()[idx], reason)


# ---------------------------------------------------------------------------------------------------------------
# Public: validate, load, import


def validate(files: Iterable[tuple[str, bytes]], known: Mapping[str, set[str]] | None = None,
             table: str | None = None, layout: Layout | None = None) -> Validation:
    """Check in-memory files (name, bytes) against the contract, before anything is written.

    `known` holds the ids the database already has: {"retailers": {...}, "products": {...}} (see `known_ids`);
    ids in the import's own retailers/products files count as known too. `table` loads every file into that
    table; otherwise each file's name says its table (see `table_for`). The result's `frames` are ready for
    `load` when `ok`.
    """
    if table is not None and table not in TABLES:
        raise ImportFailed(f"there is no table {table!r}; the tables are: {', '.join(LOAD_ORDER)}")
    result = Validation()
    checked: list[_Checked] = []
    all_findings: list[_Findings] = []
    for name, data in files:
        target = table or table_for(name)
        findings: _Findings | None = None
        if Path(name).suffix.lower() not in FORMATS:
            findings = _Findings(name, np.zeros(0, dtype=np.int64), ())
            findings.file_problem(f"is not a CSV, Parquet or Excel file (accepted: {', '.join(FORMATS)})")
        elif target is None:
            findings = _Findings(name, np.zeros(0, dtype=np.int64), ())
            findings.file_problem(
                "is not named after a table, so it is not clear where it belongs: name it like "
                f"<table>.csv or <table>_<anything>.csv (tables: {', '.join(LOAD_ORDER)}) or pass --table")
        else:
            outcome = _check_file(name, data, TABLES[target], result.notes, layout or Layout())
            if isinstance(outcome, _Checked):
                checked.append(outcome)
                result.files.append(outcome.summary)
                findings = outcome.findings
            else:
                findings = outcome
        all_findings.append(findings)

    _check_references(checked, known or {})
    by_table: dict[str, list[tuple[_Checked, pd.DataFrame, np.ndarray]]] = {}
    for c in checked:
        if c.findings.count:
            continue
        if c.daily:
            weekly, rows, roll_notes = _roll_up(c)
            result.notes.extend(roll_notes)
        else:
            weekly, rows = c.frame[list(c.table.column_names)], c.rows
        _check_sums(c, weekly, rows)
        for remark, n in c.findings.accepted.items():
            result.counted[remark] = result.counted.get(remark, 0) + n
        by_table.setdefault(c.table.name, []).append((c, weekly, rows))
    for name, parts in by_table.items():
        _check_across_files(name, parts)

    for f in all_findings:
        if f.count:
            result.problem_counts[f.file] = (f.count, f.rows_affected)
            result.problems.extend(f.examples())
            result.groups.extend(f.by_reason())
    for remark, n in result.counted.items():
        result.notes.append(f"{n:,} sell-out row{_s(n)} accepted as {remark}")
    if result.ok:
        for name in LOAD_ORDER:
            if name in by_table:
                result.frames[name] = pd.concat([f for _, f, _ in by_table[name]], ignore_index=True)
        for name, (chain, scope_cols, _) in STORE_ROLLUPS.items():
            if name in result.frames:
                result.notes.append(
                    f"{name}: store rows; the {chain} rows of their {', '.join(scope_cols)} are rebuilt as the sum "
                    f"of the retailer's stores (any {chain} row of the same {', '.join(scope_cols)} in this "
                    "import is replaced by that sum)")
    return result


def known_ids(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """The retailer and SKU ids a database holds (tables it lacks hold none)."""
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_catalog = current_database()").fetchall()}
    out: dict[str, set] = {}
    for name in ("retailers", "products", "stores"):
        if name in present:
            key = TABLES[name].key[0]
            query = 'SELECT DISTINCT "' + key + '" FROM "' + name + '"'  # identifiers from the schema
            out[name] = {r[0] for r in con.execute(query).fetchall()}
    if "stores" in present:
        out["store_retailers"] = {(s, r) for s, r in con.execute("SELECT store_id, retailer_id FROM stores").fetchall()}
    return out


def _attach_read_only(db: Path) -> duckdb.DuckDBPyConnection:
    """A connection reading `db` (attached read-only to a private in-memory database, so that DuckDB's
    per-path instance cache never hands back a file that has since been replaced). While it is open, no
    other program can start writing the file: the importer copies it under this guard."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("ATTACH ? AS kam_source (READ_ONLY)", [str(db)])
        con.execute("USE kam_source")
    except duckdb.Error as exc:
        con.close()
        text = str(exc)
        holder = re.search(r"held in (.+?) \(PID (\d+)\)", text)
        if "lock" in text.lower():
            who = f" (process {holder.group(2)}, {holder.group(1)})" if holder else ""
            raise ImportFailed(
                f"the database {db} is being written by another program{who}: not by `kam-dash import` (imports "
                "wait for each other) and not by the app (which only reads). Wait for that program to finish "
                "or close it, then import again. The database is unchanged.") from None
        raise ImportFailed(f"cannot read the database {db}: {text}") from None
    return con


def known_ids_of(db: Path) -> dict[str, set[str]]:
    """`known_ids` of a database file, opened read-only (none when the file does not exist yet)."""
    db = Path(db)
    if not db.exists():
        return {}
    con = _attach_read_only(db)
    try:
        return known_ids(con)
    finally:
        con.close()


def _load(con: duckdb.DuckDBPyConnection, frames: Mapping[str, pd.DataFrame]) -> dict[str, TableCounts]:
    """Delete-by-key then insert, table by table in dependency order, in one transaction."""
    counts: dict[str, TableCounts] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for name in LOAD_ORDER:
            if name not in frames:
                continue
            spec = TABLES[name]
            con.execute(spec.ddl())  # a database made before this table existed
            con.register("kam_incoming_frame", frames[name])
            # Identifiers below come from the schema only; the values travel in the registered frame.
            casts = ", ".join('CAST("' + c.name + '" AS ' + c.sql_type + ') AS "' + c.name + '"' for c in spec.columns)
            con.execute("CREATE OR REPLACE TEMP TABLE kam_incoming AS SELECT " + casts + " FROM kam_incoming_frame")
            match = " AND ".join('t."' + k + '" = i."' + k + '"' for k in spec.key)
            delete = 'DELETE FROM main."' + name + '" AS t USING kam_incoming AS i WHERE ' + match
            replaced = con.execute(delete).fetchone()[0]
            cols = ", ".join('"' + c + '"' for c in spec.column_names)
            insert = 'INSERT INTO main."' + name + '" (' + cols + ") SELECT " + cols + " FROM kam_incoming"
            inserted = con.execute(insert).fetchone()[0]
            if name in STORE_ROLLUPS:
                roll_up_stores(con, name)
            con.execute("DROP TABLE kam_incoming")
            con.unregister("kam_incoming_frame")
            counts[name] = TableCounts(added=int(inserted) - int(replaced), replaced=int(replaced))
        if {"sell_out_store", "stores"} & set(frames):
            # the Distribution & stores page reads these instead of the store rows (minutes at 200M rows)
            store_summary.build(con)
        con.execute("COMMIT")
    except BaseException as exc:
        con.execute("ROLLBACK")
        if isinstance(exc, duckdb.Error):
            raise ImportFailed(f"the database refused the rows ({exc}); everything was rolled back and the "
                               "database is unchanged") from None
        raise
    # Fold the write-ahead log into the file now: the app notices new data by the file's size and time.
    con.execute("CHECKPOINT")
    return counts


# The chain rollup of store rows: store table -> (chain table, the columns a chain row is replaced by, the
# aggregates). A chain row stands for every store of its retailer in that week and channel.
STORE_ROLLUPS = {
    "sell_out_store": ("sell_out", ("retailer_id", "week", "sales_channel"), {
        "units": "sum(units)",
        "sales_value": "round(sum(sales_value), 2)",  # to the cent: a sum of doubles is only near it
        # stores with a sale that week; a value-only row (no units) counts by its value
        "stores_selling": "CAST(count(*) FILTER (WHERE coalesce(units, sales_value) > 0) AS INTEGER)",
        "promo_flag": "bool_or(promo_flag)",
    }),
    "inventory_store": ("inventory", ("retailer_id", "week"), {"on_hand_units": "sum(on_hand_units)"}),
}


def roll_up_stores(con: duckdb.DuckDBPyConnection, store_table: str) -> None:
    """Rebuild the chain rows of the retailers, weeks (and channels) the incoming store rows touch, as the sum of
    ALL the retailer's store rows there (those loaded before included). SQL text is built from the constants
    above and schema names only."""
    chain, scope_cols, aggs = STORE_ROLLUPS[store_table]
    spec = TABLES[chain]
    touched = ", ".join('"' + c + '"' for c in scope_cols)
    con.execute("CREATE OR REPLACE TEMP TABLE kam_touched AS SELECT DISTINCT " + touched + " FROM kam_incoming")
    match = " AND ".join('t."' + c + '" = k."' + c + '"' for c in scope_cols)
    con.execute('DELETE FROM main."' + chain + '" AS t USING kam_touched AS k WHERE ' + match)
    group = [c for c in spec.key]
    select = ", ".join(['s."' + c + '"' for c in group] + [aggs[c] + ' AS "' + c + '"' for c in aggs])
    match_s = " AND ".join('s."' + c + '" = k."' + c + '"' for c in scope_cols)
    cols = ", ".join('"' + c + '"' for c in (*group, *aggs))
    by = ", ".join('s."' + c + '"' for c in group)
    con.execute('INSERT INTO main."' + chain + '" (' + cols + ") SELECT " + select + ' FROM main."' + store_table
                + '" AS s JOIN kam_touched AS k ON ' + match_s + " GROUP BY " + by)
    con.execute("DROP TABLE kam_touched")


# ---------------------------------------------------------------------------------------------------------------
# Writing: one import at a time (a lock file), into a copy of the database that replaces it when complete

LOCK_WAIT_SECONDS = 120.0  # how long an import waits for another one to finish before giving up


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".import.lock")


def _not_writable(db: Path, exc: OSError) -> ImportFailed:
    return ImportFailed(
        f"cannot write in the folder {db.parent} ({exc.strerror or exc}). An import writes the new database "
        f"next to the old one and then swaps it in, so the folder must be writable: fix its permissions, or "
        "copy the database to a writable folder and import there with --db. The database is unchanged.")


@contextmanager
def import_lock(db: Path, wait: float = LOCK_WAIT_SECONDS):
    """Hold the database's import lock (a lock file beside it) for one import. A second import waits up to
    `wait` seconds, then is refused with the holder named (the lock file says which process holds it)."""
    path = lock_path(db)
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise _not_writable(db, exc) from None
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 400, 0).decode("utf-8", "replace").strip() or "another kam-dash import"
                    raise ImportFailed(
                        f"another import is loading into {db} ({holder}); this one waited {wait:g} s for it. "
                        f"Run it again when that import has finished (the lock is {path}). The database is "
                        "unchanged.") from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        stamp = dt.datetime.now().isoformat(timespec="seconds")
        os.pwrite(fd, f"kam-dash import, process {os.getpid()}, started {stamp}".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_in(db: Path, source: duckdb.DuckDBPyConnection | None,
             write: Callable[[duckdb.DuckDBPyConnection], dict[str, TableCounts]]) -> dict[str, TableCounts]:
    """Copy `db` to a temporary file beside it, `write` into the copy, make it durable and rename it onto `db`.

    `source` is the open read-only guard on `db` (None when `db` does not exist yet): while it is open no
    other program can start writing the file, so the copy is consistent. The rename is atomic: a reader
    opens either the old file or the complete new one, never half an import; the app's sessions move to the
    new file on their next run, and readers of the old one finish on it undisturbed."""
    work = db.with_name(f".{db.name}.import-{os.getpid()}.tmp")
    for leftover in (work, Path(str(work) + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        try:
            if source is not None:
                shutil.copyfile(db, work)
                shutil.copymode(db, work)
        except OSError as exc:
            raise _not_writable(db, exc) from None
        finally:
            if source is not None:
                source.close()
        con = duckdb.connect(str(work))
        try:
            schema.create_all(con)  # a new database, or one made before some table existed
            counts = write(con)
        finally:
            con.close()
        # Work that does not depend on the view is done once per data version, in the copy before it is renamed
        # into place: the app never serves derived tables of other base rows (kam_dash.derived).
        derived.derive_file(work)
        _fsync(work)
        os.replace(work, db)
        try:
            dir_fd = os.open(db.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)  # the rename itself survives a crash
            finally:
                os.close(dir_fd)
        except OSError:
            pass  # some file systems cannot fsync a folder; the rename is still atomic
    except BaseException:
        for leftover in (work, Path(str(work) + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    return counts


def load(validation: Validation, db: Path, wait: float = LOCK_WAIT_SECONDS) -> ImportReport:
    """Write a clean `validate` result into the database file `db` (created with every contract table if absent),
    all or nothing, through the same lock and swap as `kam-dash import`."""
    if not validation.ok:
        raise ImportFailed("the files have problems", validation)
    db = Path(db)
    with import_lock(db, wait):
        created = not db.exists()
        source = None if created else _attach_read_only(db)
        counts = _swap_in(db, source, lambda con: _load(con, validation.frames))
    return ImportReport(db, created, validation.files, counts, validation.notes)


def _too_large(name: str, size: int, limit: int) -> ImportFailed:
    return ImportFailed(
        f"{name} is {size / 2**20:,.1f} MB ({size:,} bytes), more than the {limit / 2**20:,.1f} MB one file may be "
        "(its rows are "
        "checked in memory). Split it into several files, e.g. one per year named sell_out_2024.csv, "
        "sell_out_2025.csv, and import them together; or raise the limit with KAM_DASH_MAX_FILE_MB if this "
        "machine has the memory. Nothing was read into the database.")


def read_file(path: Path, limit: int | None = None) -> bytes:
    """A file's bytes, read in chunks, refused before reading when it is larger than `limit` (and while
    reading, should it grow)."""
    limit = MAX_FILE_BYTES if limit is None else limit
    size = path.stat().st_size
    if size > limit:
        raise _too_large(str(path), size, limit)
    return read_stream(str(path), path.open("rb"), limit)


def read_stream(name: str, stream, limit: int | None = None) -> bytes:
    """Bytes of an open binary stream (a file, an upload), in chunks, refusing more than `limit`; closes it."""
    limit = MAX_FILE_BYTES if limit is None else limit
    buffer = bytearray()
    with stream:
        while chunk := stream.read(READ_CHUNK):
            buffer += chunk
            if len(buffer) > limit:
                raise _too_large(name, len(buffer), limit)
    return bytes(buffer)


def problem_frame(problems: Sequence[Problem]) -> pd.DataFrame:
    """Problems as a table (file, row, column, problem) for the Data page."""
    return pd.DataFrame([(p.file, p.row, p.column, p.reason) for p in problems],
                        columns=["file", "row", "column", "problem"])


PREVIEW_COLUMNS = ["table", "rows", "new", "replaced", "first_week", "last_week"]


def preview(validation: Validation, db: Path) -> pd.DataFrame:
    """What a clean validation would do to `db`, table by table: rows in the files, how many are new keys and how
    many replace rows already loaded (restated weeks), and the weeks they span. Nothing is written."""
    db = Path(db)
    con = _attach_read_only(db) if db.exists() else duckdb.connect(":memory:")
    try:
        present = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_catalog = current_database()").fetchall()}
        out = []
        for name, frame in validation.frames.items():
            spec = TABLES[name]
            replaced = 0
            if name in present and len(frame):
                con.register("kam_preview_keys", frame[list(spec.key)])
                # identifiers from the schema only; the values travel in the registered frame
                match = " AND ".join('t."' + k + '" = CAST(i."' + k + '" AS ' + spec.column(k).sql_type + ")"
                                     for k in spec.key)
                replaced = con.execute('SELECT count(*) FROM "' + name + '" AS t JOIN kam_preview_keys AS i ON '
                                       + match).fetchall()[0][0]
                con.unregister("kam_preview_keys")
            weeks = frame["week"] if "week" in frame else None
            first = weeks.min().date() if weeks is not None and len(frame) else None
            last = weeks.max().date() if weeks is not None and len(frame) else None
            out.append((name, len(frame), len(frame) - int(replaced), int(replaced), first, last))
        return pd.DataFrame(out, columns=PREVIEW_COLUMNS)
    finally:
        con.close()


def validate_uploads(uploads: Iterable[tuple[str, int, object]], db: Path, table: str | None = None,
                     layout: Layout | None = None) -> Validation:
    """The Data page's check: uploads as (name, size in bytes, binary stream), read in chunks with the same size
    limit as `kam-dash import`, against the ids `db` holds. The same `validate` as the CLI."""
    files = []
    for name, size, stream in uploads:
        if size > MAX_FILE_BYTES:
            raise _too_large(name, size, MAX_FILE_BYTES)
        files.append((name, read_stream(name, stream)))
    return validate(files, known=known_ids_of(db), table=table, layout=layout)


def _collect(paths: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """The files to read: each file given, and every supported file directly inside each folder given."""
    files: list[Path] = []
    notes: list[str] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))
            supported = [p for p in inside if p.suffix.lower() in FORMATS]
            skipped = [p.name for p in inside if p.suffix.lower() not in FORMATS]
            if skipped:
                notes.append(f"{path}: skipped files that are not CSV, Parquet or Excel: {', '.join(skipped)}")
            if not supported:
                raise ImportFailed(f"the folder {path} holds no CSV, Parquet or Excel files")
            files.extend(supported)
        elif path.is_file():
            files.append(path)
        else:
            raise ImportFailed(f"{path} does not exist")
    seen: set[Path] = set()
    unique = []
    for f in files:
        if f.resolve() not in seen:
            seen.add(f.resolve())
            unique.append(f)
    return unique, notes


def import_files(paths: Sequence[Path], db: Path, table: str | None = None,
                 layout: Layout | None = None, wait: float = LOCK_WAIT_SECONDS) -> ImportReport:
    """`kam-dash import`: check every file, then load them all at once, or raise ImportFailed having written
    nothing. A database that does not exist yet is created with every contract table. The app may be running
    and reading the database meanwhile: the import writes a copy and swaps it in (see `_swap_in`)."""
    db = Path(db)
    files, notes = _collect([Path(p) for p in paths])
    sources = [(str(f), read_file(f)) for f in files]
    with import_lock(db, wait):
        created = not db.exists()
        source = None if created else _attach_read_only(db)
        try:
            validation = validate(sources, known=known_ids(source) if source is not None else {}, table=table,
                                  layout=layout)
            if not validation.ok:
                raise ImportFailed("the files have problems", validation)
        except BaseException:
            if source is not None:
                source.close()
            raise
        validation.notes[:0] = notes
        counts = _swap_in(db, source, lambda con: _load(con, validation.frames))
    return ImportReport(db, created, validation.files, counts, validation.notes)
