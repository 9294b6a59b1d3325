"""Importing while the app runs: a copy is written and swapped in; readers never see half an import; imports
queue on a lock file and a refusal names the true holder."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kam_dash import cli, ingest
from kam_dash.config import Settings
from kam_dash.engine import DuckDBEngine, LiveDatabase
from kam_dash.filters import Filters
from kam_dash.metrics import share
from tests.ingest.dbcheck import checksums, rows

LATEST = dt.date(2026, 11, 16)  # the small demo's latest week (AS_OF 2026-11-26)


def week_file(tmp_path: Path, week: dt.date, skus: int = 5) -> Path:
    """A sell-in file of one new week: SKU00001..SKU0000n of R001, net sales 10 each."""
    lines = "".join(f"{week},R001,SKU{s:05d},1,10,10\n" for s in range(1, skus + 1))
    path = tmp_path / f"sell_in_{week}.csv"
    path.write_text("week,retailer_id,sku_id,units,gross_sales,net_sales\n" + lines)
    return path


def holder(script: str, db: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", script, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, cwd=Path(__file__).resolve().parents[2])
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_import_succeeds_while_another_process_reads_and_that_reader_keeps_its_whole_old_view(demo_copy, tmp_path):
    reader = holder("import duckdb, sys\ncon = duckdb.connect(sys.argv[1], read_only=True)\nprint('ready', flush=True)\n"
                    "sys.stdin.readline()\nprint(con.execute('SELECT max(week) FROM sell_in').fetchone()[0], "
                    "flush=True)", demo_copy)
    try:
        assert cli.main(["import", str(week_file(tmp_path, LATEST + dt.timedelta(weeks=1))),
                         "--db", str(demo_copy)]) == 0
        reader.stdin.write("go\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == str(LATEST)  # its open file is the old one, intact
    finally:
        reader.kill()
        reader.wait()
    assert rows(demo_copy, "SELECT max(week) FROM sell_in") == [(LATEST + dt.timedelta(weeks=1),)]
    leftovers = [p.name for p in demo_copy.parent.iterdir() if p.name.endswith((".tmp", ".tmp.wal"))]
    assert leftovers == []


def test_a_writer_in_another_program_is_named_as_such(demo_copy, tmp_path, capsys):
    before = checksums(demo_copy)
    writer = holder("import duckdb, sys\ncon = duckdb.connect(sys.argv[1])\nprint('ready', flush=True)\n"
                    "sys.stdin.readline()", demo_copy)
    try:
        status = cli.main(["import", str(week_file(tmp_path, LATEST)), "--db", str(demo_copy)])
    finally:
        writer.kill()
        writer.wait()
    err = capsys.readouterr().err
    assert status == 1
    assert f"the database {demo_copy} is being written by another program (process {writer.pid}" in err
    assert "not by `kam-dash import`" in err and "not by the app" in err
    assert checksums(demo_copy) == before


LOCK_HOLDER = ("import sys\nfrom pathlib import Path\nfrom kam_dash import ingest\n"
               "with ingest.import_lock(Path(sys.argv[1])):\n    print('ready', flush=True)\n    sys.stdin.readline()\n")


def test_a_second_import_is_refused_after_its_wait_naming_the_other_import(demo_copy, tmp_path, capsys):
    before = checksums(demo_copy)
    other = holder(LOCK_HOLDER, demo_copy)
    try:
        status = cli.main(["import", str(week_file(tmp_path, LATEST)), "--db", str(demo_copy), "--wait", "0.3"])
    finally:
        other.kill()
        other.wait()
    err = capsys.readouterr().err
    assert status == 1
    assert f"another import is loading into {demo_copy} (kam-dash import, process {other.pid}, started" in err
    assert "waited 0.3 s" in err and "running app" not in err
    assert checksums(demo_copy) == before


def test_a_second_import_waits_for_the_first_and_then_loads(demo_copy, tmp_path):
    other = holder(LOCK_HOLDER, demo_copy)
    result: list = []
    waiting = threading.Thread(target=lambda: result.append(ingest.import_files(
        [week_file(tmp_path, LATEST + dt.timedelta(weeks=1))], demo_copy, wait=60)))
    try:
        waiting.start()
        other.stdin.write("done\n")  # the first import finishes; the waiting one takes the lock
        other.stdin.flush()
        waiting.join(60)
    finally:
        other.kill()
        other.wait()
    assert result and result[0].tables["sell_in"].added == 5
    assert rows(demo_copy, "SELECT max(week) FROM sell_in") == [(LATEST + dt.timedelta(weeks=1),)]


def test_a_folder_that_cannot_be_written_gets_a_message(demo_copy, tmp_path, monkeypatch):
    real_open = os.open

    def refusing(path, flags, *args):
        if str(path).startswith(str(demo_copy.parent)) and flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(ingest.os, "open", refusing)  # the suite runs as root, which chmod cannot stop
    with pytest.raises(ingest.ImportFailed, match=rf"cannot write in the folder {demo_copy.parent} "
                                                  r"\(Permission denied\)\. An import writes the new database"):
        ingest.import_files([week_file(tmp_path, LATEST)], demo_copy)


def test_eight_readers_during_three_imports_see_whole_versions_only(demo_copy, tmp_path):
    """8 threads read the latest week and its net sales, and compute revenue share as the Portfolio page does,
    through the app's LiveDatabase (as sessions do: a lease per run) while three imports each add a week of
    5 x 10 = 50 net sales. Every read must be one whole
    version: latest week LATEST + k weeks with 50 in it (k = 1..3), or the original week. No error."""
    original = rows(demo_copy, "SELECT sum(net_sales) FROM sell_in WHERE week = ?", [LATEST])[0][0]
    whole = {LATEST: original, **{LATEST + dt.timedelta(weeks=k): 50.0 for k in (1, 2, 3)}}
    live = LiveDatabase(Settings(db=demo_copy))
    stop = threading.Event()
    seen: list[tuple] = []

    def session() -> int:
        runs = 0
        while not stop.is_set() or runs < 3:
            lease = live.acquire()
            try:
                cur = lease.engine.cursor()
                week = cur.execute("SELECT max(week) FROM sell_in").fetchone()[0]
                total = cur.execute("SELECT sum(net_sales) FROM sell_in WHERE week = ?", [week]).fetchone()[0]
                seen.append((week, total))
                # what a page does on the same engine: the metric code through Ibis, last 13 weeks
                shares = share.revenue_share(lease.engine, Filters(period="l13w"))
                assert shares["share"].sum() == pytest.approx(1.0)
            finally:
                lease.release()
            runs += 1
        return runs

    files = [week_file(tmp_path, LATEST + dt.timedelta(weeks=k)) for k in (1, 2, 3)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(session) for _ in range(8)]
        for f in files:
            ingest.import_files([f], demo_copy)
        stop.set()
        runs = [f.result(120) for f in futures]  # re-raises any reader's error
    assert min(runs) >= 3
    assert {w for w, _ in seen} <= set(whole)
    assert all(total == pytest.approx(whole[w]) for w, total in seen)
    assert len({w for w, _ in seen}) >= 2  # the readers did overlap the imports
    # every reader ends on the last version; the engines of older files were closed once released
    last = live.acquire()
    assert last.engine.cursor().execute("SELECT max(week) FROM sell_in").fetchone()[0] == LATEST + dt.timedelta(weeks=3)
    last.release()
    assert live.open_engines() == 1


def test_an_engine_reads_the_file_it_opened_even_after_a_swap(demo_copy, tmp_path):
    old = DuckDBEngine(demo_copy)
    ingest.import_files([week_file(tmp_path, LATEST + dt.timedelta(weeks=1))], demo_copy)
    new = DuckDBEngine(demo_copy)
    assert old.cursor().execute("SELECT max(week) FROM sell_in").fetchone()[0] == LATEST
    assert new.cursor().execute("SELECT max(week) FROM sell_in").fetchone()[0] == LATEST + dt.timedelta(weeks=1)
    assert old.data_version != new.data_version
    old.close()
    new.close()


def test_an_old_engine_stays_open_while_a_session_holds_it_and_closes_when_released(demo_copy, tmp_path):
    live = LiveDatabase(Settings(db=demo_copy))
    held = live.acquire()
    assert held.current()
    ingest.import_files([week_file(tmp_path, LATEST + dt.timedelta(weeks=1))], demo_copy)
    assert not held.current()  # the file changed under it
    fresh = live.acquire()
    assert fresh.engine is not held.engine and live.open_engines() == 2
    sql = "SELECT max(week) FROM sell_in"
    assert held.engine.cursor().execute(sql).fetchone()[0] == LATEST  # still answering, on the old file
    held.release()
    assert live.open_engines() == 1
    with pytest.raises(Exception, match="closed"):
        held.engine.cursor()
    again = live.acquire()
    assert again.engine is fresh.engine  # same version: the same engine, shared
    again.release()
    fresh.release()
    assert live.open_engines() == 1  # the current engine stays open for the next session
