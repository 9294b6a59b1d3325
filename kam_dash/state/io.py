"""CSV import and export of the account plans: objectives.csv, initiatives.csv, contacts.csv, meetings.csv.

Import is validated like the data import and all-or-nothing: every problem of every file is listed with its
file and line, and nothing is written unless all rows are good. Rows are replaced by id (a row whose id is
stored replaces that record; others are added; stored records not in the files stay). Export writes the
same four files, so export -> import gives the same rows.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kam_dash.state import plans
from kam_dash.state.store import StateError, Store

MAX_PROBLEMS_SHOWN = 50


class PlanImportFailed(StateError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        super().__init__("Nothing was imported; fix these and run again:\n  " + "\n  ".join(shown)
                         + (f"\n  ... and {more} more" if more else ""))


@dataclass
class PlanImportReport:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # file -> added / replaced / unchanged

    def render(self) -> str:
        lines = ["Imported the account plans:"]
        for name, c in self.counts.items():
            lines.append(f"  {name + '.csv':<16} {c['added']:>5} added, {c['replaced']:>5} replaced, "
                         f"{c['unchanged']:>5} unchanged")
        return "\n".join(lines)


def _read(path: Path, spec: plans.RecordType, problems: list[str]) -> list[tuple[int, dict]]:
    """(line number, raw row) pairs of one file; header problems go to `problems`."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [f.name for f in spec.fields if f.required and f.name not in header]
            unknown = [h for h in header if h not in spec.columns]
            if missing:
                problems.append(f"{path.name}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
            if unknown:
                problems.append(f"{path.name}: unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                                f"(expected {', '.join(spec.columns)})")
            if missing or unknown:
                return []
            reader.fieldnames = header
            return [(reader.line_num, {k: v for k, v in row.items() if k is not None}) for row in reader]
    except UnicodeDecodeError:
        problems.append(f"{path.name}: not UTF-8 text")
    except csv.Error as exc:
        problems.append(f"{path.name}: not a readable CSV file ({exc})")
    return []


def found_files(folder: Path) -> dict[str, Path]:
    return {name: folder / f"{name}.csv" for name in plans.RECORD_TYPES if (folder / f"{name}.csv").exists()}


def import_dir(store: Store, folder: Path | str, refs: plans.Refs, actor: str) -> PlanImportReport:
    """Validate every file in the folder, then write all rows in one transaction (or none)."""
    actor = plans.check_actor(actor)
    folder = Path(folder)
    if not folder.is_dir():
        raise PlanImportFailed([f"{folder} is not a folder"])
    files = found_files(folder)
    if not files:
        raise PlanImportFailed([f"{folder} holds none of {', '.join(n + '.csv' for n in plans.RECORD_TYPES)}"])
    problems: list[str] = []
    cleaned: dict[str, list[dict]] = {}
    for name, path in files.items():
        spec = plans.RECORD_TYPES[name]
        seen: dict[str, int] = {}
        cleaned[name] = []
        for line, raw in _read(path, spec, problems):
            record, errors = plans.validate(name, raw, refs)
            rid = record[spec.key]
            if rid is not None and rid in seen:
                errors.append(f"{spec.key} {rid} repeats line {seen[rid]}")
            elif rid is not None:
                seen[rid] = line
            problems += [f"{path.name} line {line}: {e}" for e in errors]
            if not errors:
                cleaned[name].append(record)
    report = PlanImportReport()
    with store.transaction() as con:
        stored_objectives = {r[0] for r in con.execute("SELECT objective_id FROM objectives")}
        known = stored_objectives | {r["objective_id"] for r in cleaned.get("objectives", [])}
        for record in cleaned.get("initiatives", []):
            if record["objective_id"] not in known:
                problems.append(f"initiatives.csv: initiative {record['initiative_id']}: objective_id "
                                f"{record['objective_id']!r} is neither stored nor in objectives.csv")
        if problems:
            raise PlanImportFailed(problems)  # rolls the (empty) transaction back
        for name in plans.RECORD_TYPES:  # objectives before the initiatives that name them
            if name not in cleaned:
                continue
            spec = plans.RECORD_TYPES[name]
            counts = {"added": 0, "replaced": 0, "unchanged": 0}
            for record in cleaned[name]:
                row = con.execute(f'SELECT * FROM "{name}" WHERE "{spec.key}" = ?', (record[spec.key],)).fetchone()
                if row is None:
                    counts["added"] += 1
                elif {k: row[k] for k in spec.columns} == record:
                    counts["unchanged"] += 1
                else:
                    counts["replaced"] += 1
                plans.write_record(con, name, record, actor, None if row is None else row["version"])
            report.counts[name] = counts
    return report


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def export_dir(store: Store, folder: Path | str) -> dict[str, int]:
    """Write the four files (every record, the import's columns, ordered by id); returns rows per file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, spec in plans.RECORD_TYPES.items():
        frame = plans.records(store, name)[spec.columns].sort_values(spec.key)
        path = folder / f"{name}.csv"
        tmp = path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(spec.columns)
            for row in frame.itertuples(index=False):
                writer.writerow([_cell(v) for v in row])
        tmp.replace(path)  # a reader never sees half a file
        written[name] = len(frame)
    return written
