"""Users, roles and per-KAM access: who may read which retailers and edit which account plans.

The rules live here (no Streamlit), so the app, the CLI and the tests apply the same ones, and a save is
refused in the library (kam_dash.state.plans checks an Access), not only by hiding a button:
- admin: reads and edits everything, manages users and loads data;
- leadership, viewer: read everything, edit nothing;
- kam: reads everything, edits the plans, contacts and meetings of their own retailers: the user's
  `retailers` list, or when that is empty the retailers whose `kam` column is the user's name.
`restrict_reads` (for brokers and agencies) limits every read to the user's retailers as well.

Users live in the state database's `users` table (migration 2), imported and exported as CSV with the
columns email, name, role, retailers (ids separated by ';') and restrict_reads.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kam_dash.state.store import StateError, Store, now, record_history

ROLES = ("admin", "leadership", "kam", "viewer")
ROLE_MEANING = {
    "admin": "reads and edits every account plan, manages users and loads data",
    "leadership": "reads everything, edits nothing",
    "kam": "reads everything, edits the plans of their own retailers",
    "viewer": "reads everything, edits nothing",
}
CSV_COLUMNS = ("email", "name", "role", "retailers", "restrict_reads")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_NAME = 200


class AccessDenied(StateError):
    """A read or a save the user's role does not allow (nothing was written)."""


@dataclass(frozen=True)
class User:
    email: str
    name: str
    role: str
    retailers: tuple[str, ...] = ()
    restrict_reads: bool = False


def normal_email(email: str | None) -> str:
    return (email or "").strip().lower()


def validate_user(values: dict) -> User:
    """A User from raw values (a form, a CSV row); raises StateError naming every problem."""
    email = normal_email(values.get("email"))
    name = str(values.get("name") or "").strip()
    role = str(values.get("role") or "").strip().lower()
    raw = values.get("retailers") or ()
    retailers = [r.strip() for r in (raw.replace(",", ";").split(";") if isinstance(raw, str) else raw)]
    restrict = values.get("restrict_reads", False)
    if isinstance(restrict, str):
        text = restrict.strip().lower()
        if text not in ("", "0", "1", "true", "false", "yes", "no"):
            raise StateError(f"user {email or '?'} not saved: restrict_reads {restrict!r} is not true or false")
        restrict = text in ("1", "true", "yes")
    errors = []
    if not EMAIL.match(email):
        errors.append(f"email {email!r} is not an email address")
    if not name:
        errors.append("name is empty")
    elif len(name) > MAX_NAME:
        errors.append(f"name is longer than {MAX_NAME} characters")
    if role not in ROLES:
        errors.append(f"role {role!r} is not one of: {', '.join(ROLES)}")
    if errors:
        raise StateError(f"user {email or '?'} not saved: " + "; ".join(errors))
    return User(email, name, role, tuple(sorted({r for r in retailers if r})), bool(restrict))


def _from_row(row) -> User:
    return User(row["email"], row["name"], row["role"], tuple(json.loads(row["retailers"])),
                bool(row["restrict_reads"]))


def get_user(store: Store, email: str | None) -> User | None:
    with store.read() as con:
        row = con.execute("SELECT * FROM users WHERE email = ?", (normal_email(email),)).fetchone()
    return None if row is None else _from_row(row)


def users(store: Store) -> pd.DataFrame:
    """Every user (email, name, role, retailers as 'A;B', restrict_reads, updated_at, updated_by)."""
    with store.read() as con:
        rows = con.execute("SELECT * FROM users ORDER BY email").fetchall()
    frame = pd.DataFrame([dict(r) for r in rows], columns=[*CSV_COLUMNS, "version", "updated_at", "updated_by"])
    frame["retailers"] = frame["retailers"].map(lambda j: ";".join(json.loads(j)))
    frame["restrict_reads"] = frame["restrict_reads"].astype(bool)
    return frame


def _row(user: User) -> dict:
    return {"email": user.email, "name": user.name, "role": user.role,
            "retailers": json.dumps(list(user.retailers)), "restrict_reads": int(user.restrict_reads)}


def _write(con, user: User, actor: str) -> bool:
    current = con.execute("SELECT * FROM users WHERE email = ?", (user.email,)).fetchone()
    before = None if current is None else {k: current[k] for k in _row(user)}
    after = _row(user)
    if before == after:
        return False
    version = 1 if current is None else current["version"] + 1
    con.execute("INSERT OR REPLACE INTO users (email, name, role, retailers, restrict_reads, version, updated_at, "
                "updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (*after.values(), version, now(), actor))
    record_history(con, actor, "users", user.email, "insert" if current is None else "update", before, after)
    return True


def _check_admin_left(con, removing: str | None = None) -> None:
    n = con.execute("SELECT count(*) FROM users WHERE role = 'admin' AND email != ?", (removing or "",)).fetchone()[0]
    if removing is not None and n == 0:
        raise StateError(f"{removing} is the last admin: make someone else admin first (nobody could manage users)")


def save_user(store: Store, values: dict | User, actor: str) -> User:
    """Add or replace one user (validated; recorded in the history with the actor)."""
    user = values if isinstance(values, User) else validate_user(values)
    with store.transaction() as con:
        current = con.execute("SELECT role FROM users WHERE email = ?", (user.email,)).fetchone()
        if current is not None and current["role"] == "admin" and user.role != "admin":
            _check_admin_left(con, user.email)
        _write(con, user, actor)
    return user


def delete_user(store: Store, email: str, actor: str) -> None:
    email = normal_email(email)
    with store.transaction() as con:
        current = con.execute("SELECT * FROM users WHERE email = ?", (email,)).fetchone()
        if current is None:
            raise StateError(f"there is no user {email}")
        if current["role"] == "admin":
            _check_admin_left(con, email)
        con.execute("DELETE FROM users WHERE email = ?", (email,))
        record_history(con, actor, "users", email, "delete", {k: current[k] for k in _row(_from_row(current))}, None)


def import_csv(store: Store, path: Path | str, actor: str) -> tuple[int, int]:
    """Add or replace the users of a CSV file (email, name, role, retailers[, restrict_reads]); all or nothing.
    Returns (rows read, users changed)."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = [c for c in CSV_COLUMNS[:4] if c not in (reader.fieldnames or [])]
            if missing:
                raise StateError(f"{path.name}: no column {', '.join(missing)} (the columns are "
                                 f"{', '.join(CSV_COLUMNS)}); nothing was imported")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise StateError(f"cannot read {path}: {exc}") from exc
    users_, problems, seen = [], [], {}
    for line, row in enumerate(rows, start=2):
        try:
            user = validate_user(row)
        except StateError as exc:
            problems.append(f"{path.name} line {line}: {exc}")
            continue
        if user.email in seen:
            problems.append(f"{path.name} line {line}: {user.email} is also on line {seen[user.email]}")
        seen[user.email] = line
        users_.append(user)
    if problems:
        raise StateError("Nothing was imported; fix these and run again:\n  " + "\n  ".join(problems[:50]))
    with store.transaction() as con:
        changed = sum(_write(con, user, actor) for user in users_)
        admins = con.execute("SELECT count(*) FROM users WHERE role = 'admin'").fetchone()[0]
        if users_ and not admins:
            raise StateError("Nothing was imported: no user would be an admin (nobody could manage users)")
    return len(users_), changed


def export_csv(store: Store, path: Path | str) -> int:
    frame = users(store)[list(CSV_COLUMNS)]
    frame = frame.assign(restrict_reads=frame["restrict_reads"].map({True: "true", False: "false"}))
    frame.to_csv(path, index=False)
    return len(frame)


# -- the rules ----------------------------------------------------------------------------------------------------
def own_retailers(user: User, retailers: pd.DataFrame) -> frozenset[str]:
    """A user's retailers: their `retailers` assignment, else those whose `kam` column is their name (by name,
    case and spacing aside)."""
    if user.retailers:
        return frozenset(user.retailers)
    if retailers.empty or "kam" not in retailers:
        return frozenset()
    name = " ".join(user.name.split()).casefold()
    kam = retailers["kam"].fillna("").map(lambda k: " ".join(str(k).split()).casefold())
    return frozenset(retailers.loc[kam == name, "retailer_id"])


@dataclass(frozen=True)
class Access:
    """What one signed-in user may do, resolved once per run: `editable` and `readable` are retailer ids,
    None meaning every retailer."""
    user: User
    editable: frozenset[str] | None
    readable: frozenset[str] | None

    @property
    def actor(self) -> str:
        return self.user.email

    @property
    def cache_key(self) -> tuple:
        """What a cached result depends on: the retailers the user may read (not who they are otherwise)."""
        return ("all",) if self.readable is None else tuple(sorted(self.readable))

    def can_edit(self, retailer_id: str | None) -> bool:
        return self.editable is None or (retailer_id is not None and retailer_id in self.editable)

    def can_read(self, retailer_id: str) -> bool:
        return self.readable is None or retailer_id in self.readable

    def edit_refusal(self, retailer_id: str, names: dict[str, str] | None = None) -> str:
        who = (names or {}).get(retailer_id, retailer_id)
        if self.user.role in ("leadership", "viewer"):
            return f"Signed in as {self.user.email} ({self.user.role}): you may read {who}'s plan but not edit it."
        return (f"{who} is not one of your accounts ({self.user.email}): you may read its plan; only its KAM "
                "or an admin may edit it.")

    def check_edit(self, retailer_id: str | None, what: str = "record") -> None:
        if not self.can_edit(retailer_id):
            raise AccessDenied(f"{what} not saved: {self.edit_refusal(retailer_id or '?')}")

    def restrict(self, retailer_ids: Iterable[str]) -> tuple[str, ...]:
        """A Filters' retailers intersected with what the user may read. An empty result would mean "every
        retailer" to a Filters, so a selection with nothing readable (or none) gives all the user may read."""
        chosen = tuple(retailer_ids)
        if self.readable is None:
            return chosen
        return tuple(sorted(set(chosen) & self.readable)) or tuple(sorted(self.readable))


def access_for(user: User, retailers: pd.DataFrame) -> Access:
    own = own_retailers(user, retailers)
    editable = None if user.role == "admin" else (own if user.role == "kam" else frozenset())
    readable = None if (user.role == "admin" or not user.restrict_reads) else own
    return Access(user, editable, readable)


# -- the demo users (KAM_DASH_AUTH=mock) --------------------------------------------------------------------------
DEMO_USERS = (
    ("admin@example.com", "Demo Admin", "admin"),
    ("kam@example.com", "Demo KAM", "kam"),
    ("viewer@example.com", "Demo Viewer", "viewer"),
)


def seed_demo_users(store: Store, retailers: pd.DataFrame, kam_accounts: int = 3) -> list[User]:
    """The three demo users; the KAM gets the first `kam_accounts` retailers (by id) as their accounts."""
    ids = sorted(retailers["retailer_id"])[:kam_accounts] if not retailers.empty else []
    out = []
    for email, name, role in DEMO_USERS:
        out.append(save_user(store, User(email, name, role, tuple(ids) if role == "kam" else ()), "kam-dash demo"))
    return out
