"""Adapters to the two places where the pinned libraries disagree with each other or with us.

Each adapter is small, applied in one place, and guarded by tests/unit/test_compat.py, which fails as
soon as a pin in requirements.txt moves: whoever bumps DuckDB, Ibis or kaleido re-checks the adapter
(and deletes it when the upstream fix has landed) instead of finding out from a page that fails.

1. DuckDB 2.0 renamed `fetch_arrow_table()` / `fetch_record_batch()` to `to_arrow_table()` /
   `to_arrow_reader()`; Ibis 12 still calls the old names on the connection it is given. Ibis accepts
   only a real `DuckDBPyConnection` (no wrapper), so the old names are added back to that class, once,
   as thin aliases of the new ones. No supported path exists at these pins (Ibis 12.0.0 has no option
   for it).
2. kaleido 1.5 reloads its browser tab after every image (re-parsing 4.6 MB of plotly.js). The deck's
   figures are ours and few, so one tab is kept: 9 charts of a default-scale pack take 2.2 s instead of
   5.1 s on the shared 2-core machine. kaleido offers no option for this; the override is one private
   coroutine, `_return_kaleido_tab`, and the test checks it still exists with the signature we replace.
"""

from __future__ import annotations

import warnings

# The versions the adapters were written against (requirements.txt pins the same).
PINNED = {"duckdb": "2.0.0", "ibis-framework": "12.0.0", "kaleido": "1.5.0"}


def duckdb_arrow_names_for_ibis() -> None:
    """Give DuckDB 2.0 connections the Arrow method names Ibis 12 calls (idempotent)."""
    import duckdb

    conn_cls = duckdb.DuckDBPyConnection
    if not hasattr(conn_cls, "fetch_arrow_table"):

        def fetch_arrow_table(self):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return self.to_arrow_table()

        conn_cls.fetch_arrow_table = fetch_arrow_table
    if not hasattr(conn_cls, "fetch_record_batch"):

        def fetch_record_batch(self, rows_per_batch: int = 1_000_000):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return self.to_arrow_reader(rows_per_batch)

        conn_cls.fetch_record_batch = fetch_record_batch


def kaleido_keep_tab_class():
    """kaleido.Kaleido, minus the page reload after each image (see the module docstring)."""
    import kaleido

    class KeepTabKaleido(kaleido.Kaleido):
        async def _return_kaleido_tab(self, tab) -> None:
            await self.tabs_ready.put(tab)

    return KeepTabKaleido
