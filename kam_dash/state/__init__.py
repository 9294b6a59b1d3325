"""The read-write side: account plans (objectives, initiatives), contacts and the meeting log, with an
append-only edit history. It lives in its own SQLite database (WAL mode), never in the analytics file, so
the app and the CLI can write it at the same time while the analytics file stays read-only."""
