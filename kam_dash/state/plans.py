"""Account plans and the relationship: objectives, initiatives, contacts and meetings.

Each record type is described once here (its fields, allowed values and references); the page's forms,
the CSV import and export, docs/DATA_MODEL.md and the checks all follow that description.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import uuid
from dataclasses import dataclass, field

import pandas as pd

from kam_dash.state.store import StaleEdit, StateError, Store, now, record_history

# The live metrics an objective can be bound to (kam_dash.metrics.objectives computes each). Numeric
# distribution needs store-level sell-out, which the data model does not hold yet, so it is not offered.
MEASURES = ("net_sales", "sell_out_value", "yoy_growth", "plan_attainment", "gross_margin", "in_stock_rate",
            "lost_sales", "promo_roi")
FUNCTIONS = ("sales", "marketing", "supply_chain", "customer_service", "finance", "category", "other")
STATUSES = ("planned", "in_progress", "done", "blocked", "dropped")
OPEN_STATUSES = ("planned", "in_progress", "blocked")  # an initiative still to deliver
INFLUENCES = ("decision_maker", "influencer", "user", "gatekeeper")
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_TEXT = 200
MAX_LONG_TEXT = 5000
YEARS = (2000, 2100)
DEFAULT_STALE_CONTACT_DAYS = 60
# Bounds of a sensible target per measure (fractions for rates): (lowest, highest, inclusive lowest?).
TARGET_BOUNDS = {
    "net_sales": (0.0, None, False), "sell_out_value": (0.0, None, False), "lost_sales": (0.0, None, True),
    "yoy_growth": (-1.0, None, False), "plan_attainment": (0.0, None, False), "gross_margin": (-1.0, 1.0, False),
    "in_stock_rate": (0.0, 1.0, False), "promo_roi": (-1.0, None, False),
}


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # id, text, long_text, int, number, date
    required: bool = True
    allowed: tuple[str, ...] = ()
    meaning: str = ""


@dataclass(frozen=True)
class RecordType:
    name: str  # the table and the CSV file's stem
    label: str  # one record, for messages
    fields: tuple[Field, ...]
    references: dict[str, str] = field(default_factory=dict)  # column -> what it must name

    @property
    def key(self) -> str:
        return self.fields[0].name

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


OBJECTIVES = RecordType("objectives", "objective", (
    Field("objective_id", "id", meaning="Objective key"),
    Field("retailer_id", "id", meaning="The retailer the objective is for"),
    Field("year", "int", meaning=f"Plan year ({YEARS[0]} to {YEARS[1]}); progress is that calendar year to date"),
    Field("title", "text", meaning="The objective in words"),
    Field("measure", "text", allowed=MEASURES, meaning="The live metric progress is read from"),
    Field("target_value", "number", meaning="In the measure's unit: money, or a fraction for rates "
          "(0.05 = 5%), within the measure's bounds"),
    Field("due_date", "date", meaning="Not before 1 January of the plan year"),
    Field("owner", "text", meaning="Who answers for the objective"),
), {"retailer_id": "retailers"})

INITIATIVES = RecordType("initiatives", "initiative", (
    Field("initiative_id", "id", meaning="Initiative key"),
    Field("objective_id", "id", meaning="The objective it serves"),
    Field("title", "text", meaning="What is to be done"),
    Field("owner", "text", meaning="Who delivers it"),
    Field("function", "text", allowed=FUNCTIONS, meaning="The function that delivers it"),
    Field("status", "text", allowed=STATUSES, meaning="Overdue when not done or dropped after its due date"),
    Field("due_date", "date", meaning="When it is due"),
    Field("promo_id", "id", required=False, meaning="A promotion of the promotions table it runs through"),
), {"objective_id": "objectives", "promo_id": "promotions"})

CONTACTS = RecordType("contacts", "contact", (
    Field("contact_id", "id", meaning="Contact key"),
    Field("retailer_id", "id", meaning="The retailer the person works for"),
    Field("name", "text", meaning="The person's name"),
    Field("role", "text", meaning="Job title at the retailer"),
    Field("influence", "text", allowed=INFLUENCES, meaning="Their part in the retailer's decisions"),
    Field("relationship_owner", "text", meaning="Who on our side keeps the relationship"),
    Field("last_contact", "date", required=False, meaning="Not in the future; a decision maker not contacted for "
          f"{DEFAULT_STALE_CONTACT_DAYS} days (KAM_DASH_STALE_CONTACT_DAYS) is an account-health reason"),
), {"retailer_id": "retailers"})

MEETINGS = RecordType("meetings", "meeting", (
    Field("meeting_id", "id", meaning="Meeting key"),
    Field("retailer_id", "id", meaning="The retailer met"),
    Field("date", "date", meaning="The day of the meeting"),
    Field("attendees", "text", meaning="Names, comma-separated; saving a past meeting on the page sets the last "
          "contact of the retailer's contacts named here to its date, when later"),
    Field("notes", "long_text", required=False, meaning="What was discussed"),
    Field("decisions", "long_text", required=False, meaning="What was agreed"),
    Field("next_steps", "long_text", required=False, meaning="One per line; each can become an initiative"),
), {"retailer_id": "retailers"})

RECORD_TYPES: dict[str, RecordType] = {t.name: t for t in (OBJECTIVES, INITIATIVES, CONTACTS, MEETINGS)}
ID_PREFIX = {"objectives": "OBJ", "initiatives": "INI", "contacts": "CON", "meetings": "MTG"}
BOOKKEEPING = ["version", "updated_at", "updated_by"]


@dataclass(frozen=True)
class Refs:
    """What references are checked against; None leaves that reference unchecked (e.g. no promotions
    table loaded). Objective ids are always checked against the state itself."""

    retailers: frozenset[str] | None = None
    promo_ids: frozenset[str] | None = None
    today: dt.date | None = None  # for "not in the future"; default the real today


def refs_from_engine(engine, today: dt.date | None = None) -> Refs:
    """The retailer and promotion ids of the analytics database, to check references against."""
    from kam_dash import scope

    retailers = frozenset(scope.retailers(engine)["retailer_id"]) if engine.has("retailers") else None

    def promo_ids():  # once per engine (a page reruns on every click; Spark answers in seconds, not ms)
        t = engine.table("promotions")
        return frozenset(engine.execute(t.select("promo_id").distinct())["promo_id"])

    return Refs(retailers, engine.memo("plan_promo_ids", promo_ids) if engine.has("promotions") else None, today)


def new_id(kind: str) -> str:
    return f"{ID_PREFIX[kind]}-{uuid.uuid4().hex[:8].upper()}"


def check_actor(actor: str | None) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise StateError("say who is making the change (your name): every change is recorded with its author")
    return actor[:MAX_TEXT]


# -- validation -------------------------------------------------------------------------------------------------
def _blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        if pd.isna(value) is True:
            return True
    except (TypeError, ValueError):
        pass
    return isinstance(value, str) and not value.strip()


def _clean_value(f: Field, value):
    """(clean value, error or None) for one field."""
    label = f.name
    if _blank(value):
        return None, (f"{label} is required" if f.required else None)
    if f.kind in ("id", "text", "long_text"):
        text = str(value).strip()
        if f.kind == "id" and not ID_PATTERN.match(text):
            return None, (f"{label} {text!r} is not a valid id (letters, digits, '-', '_' or '.', at most 64, "
                          "starting with a letter or digit)")
        limit = MAX_LONG_TEXT if f.kind == "long_text" else MAX_TEXT
        if len(text) > limit:
            return None, f"{label} is {len(text)} characters long; at most {limit}"
        if f.allowed and text not in f.allowed:
            return None, f"{label} {text!r} is not one of: {', '.join(f.allowed)}"
        return text, None
    if f.kind == "int":
        try:
            number = float(str(value).strip()) if not isinstance(value, (int, float)) else float(value)
        except ValueError:
            return None, f"{label} {value!r} is not a whole number"
        if not number.is_integer():
            return None, f"{label} {value!r} is not a whole number"
        return int(number), None
    if f.kind == "number":
        try:
            number = float(str(value).strip().replace(",", "")) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            return None, f"{label} {value!r} is not a number"
        if not math.isfinite(number):
            return None, f"{label} {value!r} is not a finite number"
        return number, None
    if f.kind == "date":
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return value.isoformat(), None
        text = str(value).strip()
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                raise ValueError
            return dt.date.fromisoformat(text).isoformat(), None
        except ValueError:
            return None, f"{label} {text!r} is not a date (YYYY-MM-DD)"
    raise AssertionError(f"unknown field kind {f.kind}")


def validate(kind: str, values: dict, refs: Refs) -> tuple[dict, list[str]]:
    """The record cleaned to stored values, and every problem in words (empty when it may be saved).

    References to objectives are checked by the caller against the state (inside its transaction)."""
    spec = RECORD_TYPES[kind]
    unknown = sorted(set(values) - set(spec.columns) - set(BOOKKEEPING))
    errors = [f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"] if unknown else []
    record = {}
    for f in spec.fields:
        record[f.name], error = _clean_value(f, values.get(f.name))
        if error:
            errors.append(error)
    today = refs.today or dt.date.today()
    if kind == "objectives":
        year, measure, target, due = (record[k] for k in ("year", "measure", "target_value", "due_date"))
        if year is not None and not YEARS[0] <= year <= YEARS[1]:
            errors.append(f"year {year} is outside {YEARS[0]} to {YEARS[1]}")
        elif year is not None and due is not None and due < f"{year}-01-01":
            errors.append(f"due_date {due} is before the plan year {year} starts")
        if measure in TARGET_BOUNDS and target is not None:
            low, high, low_ok = TARGET_BOUNDS[measure]
            if target < low or (target == low and not low_ok) or (high is not None and target > high):
                errors.append(f"target_value {target:g} is out of range for {measure}: "
                              f"{target_range_words(measure)}")
    if kind == "contacts" and record["last_contact"] is not None and record["last_contact"] > today.isoformat():
        errors.append(f"last_contact {record['last_contact']} is in the future")
    if "retailer_id" in spec.references and refs.retailers is not None and record.get("retailer_id") is not None \
            and record["retailer_id"] not in refs.retailers:
        errors.append(f"retailer_id {record['retailer_id']!r} is not a retailer of the analytics database")
    if "promo_id" in spec.references and refs.promo_ids is not None and record.get("promo_id") is not None \
            and record["promo_id"] not in refs.promo_ids:
        errors.append(f"promo_id {record['promo_id']!r} is not a promotion of the analytics database")
    return record, errors


def target_range_words(measure: str) -> str:
    low, high, low_ok = TARGET_BOUNDS[measure]
    words = f"{'at least' if low_ok else 'above'} {low:g}"
    return words + (f" and at most {high:g}" if high is not None else "")


# -- reading ----------------------------------------------------------------------------------------------------
def _row_dict(row) -> dict:
    return {k: row[k] for k in row.keys()}


def get(store: Store, kind: str, record_id: str) -> dict | None:
    spec = RECORD_TYPES[kind]
    with store.read() as con:
        row = con.execute(f'SELECT * FROM "{spec.name}" WHERE "{spec.key}" = ?', (record_id,)).fetchone()
    return None if row is None else _row_dict(row)


def records(store: Store, kind: str, retailer_id: str | None = None, year: int | None = None) -> pd.DataFrame:
    """The records of one type (of one retailer, and plan year for objectives and initiatives), with version
    and last change; initiatives also carry their objective's retailer_id and title."""
    spec = RECORD_TYPES[kind]
    cols = [*spec.columns, *BOOKKEEPING]
    where, params = [], []
    if kind == "initiatives":
        select = ", ".join(f'i."{c}"' for c in cols) + ', o.retailer_id, o.title AS objective_title, o.year'
        source = "initiatives i JOIN objectives o ON o.objective_id = i.objective_id"
        cols += ["retailer_id", "objective_title", "year"]
        prefix = "o."
        order = 'o.retailer_id, i.due_date, i.initiative_id'
    else:
        select, source, prefix = ", ".join(f'"{c}"' for c in cols), f'"{spec.name}"', ""
        order = {"objectives": "retailer_id, year, due_date, objective_id", "contacts": "retailer_id, name",
                 "meetings": "retailer_id, date DESC, meeting_id"}[kind]
    if retailer_id is not None:
        where.append(f"{prefix}retailer_id = ?")
        params.append(retailer_id)
    if year is not None and kind in ("objectives", "initiatives"):
        where.append(f"{prefix}year = ?")
        params.append(int(year))
    sql = f"SELECT {select} FROM {source}{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY {order}"
    with store.read() as con:
        rows = con.execute(sql, params).fetchall()
    return pd.DataFrame([tuple(r) for r in rows], columns=cols)


def history(store: Store, kind: str, record_id: str) -> pd.DataFrame:
    """Every change of one record, oldest first: at, actor, action, changed (field: before -> after)."""
    with store.read() as con:
        rows = con.execute("SELECT at, actor, action, before, after FROM history WHERE table_name = ? "
                           "AND record_id = ? ORDER BY history_id", (kind, record_id)).fetchall()
    out = []
    for r in rows:
        before = json.loads(r["before"]) if r["before"] else {}
        after = json.loads(r["after"]) if r["after"] else {}
        changed = [f"{k}: {_shown(before.get(k))} -> {_shown(after.get(k))}"
                   for k in RECORD_TYPES[kind].columns if before.get(k) != after.get(k)]
        out.append({"at": r["at"], "actor": r["actor"], "action": r["action"], "changes": "; ".join(changed)})
    return pd.DataFrame(out, columns=["at", "actor", "action", "changes"])


def _shown(value) -> str:
    return "(empty)" if value is None else f"{value:,.10g}" if isinstance(value, float) else str(value)


# -- writing ----------------------------------------------------------------------------------------------------
def _check_objective_exists(con, objective_id: str | None) -> str | None:
    if objective_id is None:
        return None
    row = con.execute("SELECT 1 FROM objectives WHERE objective_id = ?", (objective_id,)).fetchone()
    return None if row else f"objective_id {objective_id!r} is not an objective of the account plan"


def _stale_message(spec: RecordType, record_id: str, current: dict | None, expected: int) -> str:
    if current is None:
        return (f"{spec.label} {record_id} was deleted by someone else after you opened it; "
                "your change was not saved")
    return (f"{spec.label} {record_id} was changed by {current['updated_by']} at {current['updated_at']} after "
            f"you opened it (version {current['version']}, you had {expected}); your change was not saved: "
            "reload to see theirs, then edit again")


def write_record(con, kind: str, record: dict, actor: str, expected_version: int | None) -> dict:
    """Insert or update one validated record inside an open transaction, with its history row.

    expected_version None means a new record (refused if the id exists); otherwise the version read
    before editing, which must still be the stored one."""
    spec = RECORD_TYPES[kind]
    rid = record[spec.key]
    row = con.execute(f'SELECT * FROM "{spec.name}" WHERE "{spec.key}" = ?', (rid,)).fetchone()
    current = None if row is None else _row_dict(row)
    if expected_version is None and current is not None:
        raise StateError(f"{spec.label} {rid} already exists; choose another id or edit that one")
    if expected_version is not None and (current is None or current["version"] != expected_version):
        raise StaleEdit(_stale_message(spec, rid, current, expected_version))
    before = None if current is None else {k: current[k] for k in spec.columns}
    if before == record:
        return current  # nothing changed: no new version, no history row
    stored = {**record, "version": 1 if current is None else current["version"] + 1, "updated_at": now(),
              "updated_by": actor}
    cols = list(stored)
    con.execute(f'INSERT OR REPLACE INTO "{spec.name}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})',
                [stored[c] for c in cols])
    record_history(con, actor, spec.name, rid, "insert" if current is None else "update", before, record)
    return stored


def _record_retailer(con, kind: str, record: dict | None) -> str | None:
    """The retailer a record belongs to (an initiative: its objective's)."""
    if record is None:
        return None
    if kind != "initiatives":
        return record.get("retailer_id")
    row = con.execute("SELECT retailer_id FROM objectives WHERE objective_id = ?", (record["objective_id"],)).fetchone()
    return None if row is None else row[0]


def _check_access(con, access, kind: str, record: dict | None, current: dict | None) -> None:
    """With sign-in (an Access), the record's retailer before and after the change must be one the user may
    edit: a KAM cannot write another KAM's account, nor move a record out of or into one."""
    if access is None:
        return
    label = RECORD_TYPES[kind].label
    for row in (current, record):
        if row is not None:
            access.check_edit(_record_retailer(con, kind, row), label)


def save(store: Store, kind: str, values: dict, actor: str, expected_version: int | None = None,
         refs: Refs = Refs(), access=None) -> dict:
    """Validate and save one record in one transaction; raises StateError (or StaleEdit) with the reason.
    access: the signed-in user's kam_dash.auth.Access (None when sign-in is off): a save outside the user's
    retailers is refused (AccessDenied) and nothing is written."""
    actor = check_actor(actor)
    record, errors = validate(kind, values, refs)
    if errors:
        raise StateError(f"{RECORD_TYPES[kind].label} not saved: " + "; ".join(errors))
    with store.transaction() as con:
        if kind == "initiatives":
            problem = _check_objective_exists(con, record["objective_id"])
            if problem:
                raise StateError(f"initiative not saved: {problem}")
        if access is not None:
            spec = RECORD_TYPES[kind]
            row = con.execute(f'SELECT * FROM "{spec.name}" WHERE "{spec.key}" = ?', (record[spec.key],)).fetchone()
            _check_access(con, access, kind, record, None if row is None else _row_dict(row))
        saved = write_record(con, kind, record, actor, expected_version)
        if kind == "meetings" and record["date"] <= (refs.today or dt.date.today()).isoformat():
            _touch_contacts(con, record, actor)
        return saved


def attendee_names(attendees: str | None) -> set[str]:
    return {name.strip().casefold() for name in (attendees or "").split(",") if name.strip()}


def _touch_contacts(con, meeting: dict, actor: str) -> None:
    """A held meeting is contact: the retailer's contacts named among its attendees get its date as their last
    contact, when it is later (in the meeting's transaction, with their own history rows)."""
    names = attendee_names(meeting["attendees"])
    rows = con.execute("SELECT * FROM contacts WHERE retailer_id = ?", (meeting["retailer_id"],)).fetchall()
    for row in rows:
        contact = _row_dict(row)
        if contact["name"].casefold() in names and (contact["last_contact"] or "") < meeting["date"]:
            updated = {**{k: contact[k] for k in CONTACTS.columns}, "last_contact": meeting["date"]}
            write_record(con, "contacts", updated, actor, contact["version"])


def delete(store: Store, kind: str, record_id: str, actor: str, expected_version: int, access=None) -> None:
    """Delete one record (refused if it changed since read, if initiatives still hang from an objective, or,
    with an `access`, if the record's retailer is not one the user may edit)."""
    actor = check_actor(actor)
    spec = RECORD_TYPES[kind]
    with store.transaction() as con:
        row = con.execute(f'SELECT * FROM "{spec.name}" WHERE "{spec.key}" = ?', (record_id,)).fetchone()
        current = None if row is None else _row_dict(row)
        _check_access(con, access, kind, None, current)
        if current is None or current["version"] != expected_version:
            raise StaleEdit(_stale_message(spec, record_id, current, expected_version))
        if kind == "objectives":
            n = con.execute("SELECT count(*) FROM initiatives WHERE objective_id = ?", (record_id,)).fetchone()[0]
            if n:
                raise StateError(f"objective {record_id} still has {n} initiative{'s' if n > 1 else ''}: "
                                 "delete them or move them to another objective first")
        con.execute(f'DELETE FROM "{spec.name}" WHERE "{spec.key}" = ?', (record_id,))
        record_history(con, actor, spec.name, record_id, "delete", {k: current[k] for k in spec.columns}, None)


def next_steps(meeting: dict) -> list[str]:
    """A meeting's next steps, one per non-empty line (a leading '-' or '*' bullet dropped)."""
    lines = (meeting.get("next_steps") or "").splitlines()
    return [s for s in (re.sub(r"^\s*[-*•]\s*", "", line).strip() for line in lines) if s]


# -- relationship health ----------------------------------------------------------------------------------------
def stale_contact_days(environ: dict[str, str] | None = None) -> int:
    """KAM_DASH_STALE_CONTACT_DAYS: days without contact after which a decision maker is stale (default 60)."""
    env = os.environ if environ is None else environ
    raw = env.get("KAM_DASH_STALE_CONTACT_DAYS", "").strip()
    if not raw:
        return DEFAULT_STALE_CONTACT_DAYS
    if not raw.isdigit() or int(raw) < 1:
        raise StateError(f"KAM_DASH_STALE_CONTACT_DAYS must be a whole number of days above 0, not {raw!r}")
    return int(raw)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def relationship_flags(store: Store, today: dt.date, stale_days: int | None = None) -> pd.DataFrame:
    """Account-health reasons from the plan and the relationship, one row per retailer that has any:
    retailer_id, reason (in words, reasons joined by '; '). See DEFINITIONS in kam_dash.metrics.objectives."""
    stale_days = stale_contact_days() if stale_days is None else stale_days
    initiatives = records(store, "initiatives")
    contacts = records(store, "contacts")
    reasons: dict[str, list[str]] = {}
    day = today.isoformat()
    open_ = initiatives[initiatives["status"].isin(OPEN_STATUSES)]
    for rid, group in open_.groupby("retailer_id", sort=True):
        overdue = group[group["due_date"] < day]
        blocked = group[group["status"] == "blocked"]
        if len(overdue):
            reasons.setdefault(rid, []).append(f"{_plural(len(overdue), 'initiative')} overdue")
        if len(blocked):
            reasons.setdefault(rid, []).append(f"{_plural(len(blocked), 'initiative')} blocked")
    cutoff = (today - dt.timedelta(days=stale_days)).isoformat()
    deciders = contacts[contacts["influence"] == "decision_maker"]
    for rid, group in deciders.groupby("retailer_id", sort=True):
        stale = group[group["last_contact"].isna() | (group["last_contact"] < cutoff)]
        for c in stale.itertuples():
            since = ("never contacted" if c.last_contact is None or pd.isna(c.last_contact) else
                     f"not contacted for {(today - dt.date.fromisoformat(c.last_contact)).days} days")
            reasons.setdefault(rid, []).append(f"decision maker {c.name} {since}")
    rows = [{"retailer_id": rid, "reason": "; ".join(rs)} for rid, rs in sorted(reasons.items())]
    return pd.DataFrame(rows, columns=["retailer_id", "reason"])
