"""The state database: one SQLite file in WAL mode, a schema with numbered migrations, one transaction per
save, an append-only history and an optimistic version check.

SQLite rather than DuckDB: a DuckDB file admits one writing process, and the app and the CLI write the plan
at the same time. WAL mode lets readers go on while one writer commits; a writer waits (busy timeout) for
another to finish instead of failing. synchronous=FULL plus one transaction per save means a kill -9 at any
moment leaves each record as it was before or after the save, never half-written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kam_dash.config import DEFAULT_DB

BUSY_TIMEOUT_S = 30.0


class StateError(ValueError):
    """A save the state refuses, with the reason in words (the stored data stays as it was)."""


class StaleEdit(StateError):
    """The record changed (or went) since it was read: the save would overwrite someone else's edit."""


# Each entry upgrades the schema by one version; never edit a released one, append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE objectives (
        objective_id TEXT PRIMARY KEY, retailer_id TEXT NOT NULL, year INTEGER NOT NULL, title TEXT NOT NULL,
        measure TEXT NOT NULL, target_value REAL NOT NULL, due_date TEXT NOT NULL, owner TEXT NOT NULL,
        version INTEGER NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL);
    CREATE INDEX objectives_retailer ON objectives (retailer_id, year);
    CREATE TABLE initiatives (
        initiative_id TEXT PRIMARY KEY, objective_id TEXT NOT NULL REFERENCES objectives (objective_id),
        title TEXT NOT NULL, owner TEXT NOT NULL, function TEXT NOT NULL, status TEXT NOT NULL,
        due_date TEXT NOT NULL, promo_id TEXT,
        version INTEGER NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL);
    CREATE INDEX initiatives_objective ON initiatives (objective_id);
    CREATE TABLE contacts (
        contact_id TEXT PRIMARY KEY, retailer_id TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL,
        influence TEXT NOT NULL, relationship_owner TEXT NOT NULL, last_contact TEXT,
        version INTEGER NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL);
    CREATE INDEX contacts_retailer ON contacts (retailer_id);
    CREATE TABLE meetings (
        meeting_id TEXT PRIMARY KEY, retailer_id TEXT NOT NULL, date TEXT NOT NULL, attendees TEXT NOT NULL,
        notes TEXT, decisions TEXT, next_steps TEXT,
        version INTEGER NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL);
    CREATE INDEX meetings_retailer ON meetings (retailer_id, date);
    CREATE TABLE history (
        history_id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL,
        table_name TEXT NOT NULL, record_id TEXT NOT NULL, action TEXT NOT NULL,
        before TEXT, after TEXT);
    CREATE INDEX history_record ON history (table_name, record_id);
    CREATE TRIGGER history_no_update BEFORE UPDATE ON history
        BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;
    CREATE TRIGGER history_no_delete BEFORE DELETE ON history
        BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;
    """,
    # 2: who may sign in and what they may see and edit (kam_dash.auth); retailers is a JSON list of ids
    """
    CREATE TABLE users (
        email TEXT PRIMARY KEY, name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'leadership', 'kam', 'viewer')),
        retailers TEXT NOT NULL DEFAULT '[]', restrict_reads INTEGER NOT NULL DEFAULT 0 CHECK (restrict_reads IN (0, 1)),
        version INTEGER NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL);
    """,
)


def default_state_path(db: Path | str) -> Path:
    """Beside the analytics database: data/kam.duckdb -> data/kam.state.sqlite."""
    db = Path(db)
    return db.with_name(f"{db.stem}.state.sqlite")


def state_path_from_env(environ: dict[str, str] | None = None) -> Path:
    """KAM_DASH_STATE, else beside KAM_DASH_DB (else beside the default database)."""
    env = os.environ if environ is None else environ
    return state_path_for(env.get("KAM_DASH_DB") or DEFAULT_DB, env)


def state_path_for(database: Path | str, environ: dict[str, str] | None = None) -> Path:
    """The state database that goes with an analytics database (a DuckDB file or a Parquet folder):
    KAM_DASH_STATE when set, else beside it."""
    env = os.environ if environ is None else environ
    return Path(env["KAM_DASH_STATE"]) if env.get("KAM_DASH_STATE") else default_state_path(database)


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Store:
    """A state database file. Cheap to create; each call opens its own connection (threads and processes
    each get theirs), so one Store may be shared by a Streamlit server's threads."""

    def __init__(self, path: Path | str, create: bool = True):
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise StateError(f"the state database {self.path} is a folder, not a file")
        if not create and not self.path.exists():
            raise StateError(f"there is no state database at {self.path} (give --state, or set KAM_DASH_STATE)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.migrate()

    def connect(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            con.row_factory = sqlite3.Row
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            con.execute("PRAGMA foreign_keys=ON")
        except sqlite3.DatabaseError as exc:
            raise StateError(f"cannot open the state database {self.path}: {exc}") from exc
        return con

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        con = self.connect()
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or none (an error or a kill rolls it back).

        BEGIN IMMEDIATE takes the write lock up front, so the version read inside cannot change before the
        write (two writers queue instead of both reading the same version)."""
        con = self.connect()
        try:
            try:
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # still locked after the busy timeout
                raise StateError(f"the state database {self.path} is busy ({exc}); nothing was saved, "
                                 "try again") from exc
            try:
                yield con
            except sqlite3.IntegrityError as exc:
                con.execute("ROLLBACK")
                raise StateError(f"not saved: {exc}") from exc
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    def schema_version(self) -> int:
        with self.read() as con:
            return con.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> None:
        with self.transaction() as con:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise StateError(f"the state database {self.path} is from a newer kam-dash (schema {version}; "
                                 f"this one knows {len(MIGRATIONS)})")
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in _statements(script):
                    con.execute(statement)
                con.execute(f"PRAGMA user_version = {number}")  # an int we own, not user input


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit the open transaction)."""
    out, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        joined = "\n".join(current).strip()
        if sqlite3.complete_statement(joined):  # knows a trigger's body runs to its END
            out.append(joined)
            current = []
    if "\n".join(current).strip():
        out.append("\n".join(current).strip())
    return out


def record_history(con: sqlite3.Connection, actor: str, table: str, record_id: str, action: str,
                   before: dict | None, after: dict | None) -> None:
    con.execute("INSERT INTO history (at, actor, table_name, record_id, action, before, after) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (now(), actor, table, record_id, action,
                 None if before is None else json.dumps(before, sort_keys=True),
                 None if after is None else json.dumps(after, sort_keys=True)))
