"""The state survives kill -9 mid-write, and two processes writing at once lose nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys


from kam_dash.state import plans
from kam_dash.state.store import Store
from tests.conftest import ROOT
from tests.state.writer import SLOTS, objective

KILLS = 6


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.state.writer", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def check_whole(path) -> int:
    """Every record is whole (all fields from one save) and its history matches it; returns the records."""
    store = Store(path)
    with store.read() as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        history = {}
        for row in con.execute("SELECT record_id, after FROM history WHERE table_name = 'objectives' "
                               "ORDER BY history_id"):
            history.setdefault(row["record_id"], []).append(json.loads(row["after"]))
    stored = plans.records(store, "objectives")
    for r in stored.to_dict("records"):
        n = int(r["title"][1:])
        assert {k: r[k] for k in plans.OBJECTIVES.columns} == objective(r["objective_id"], n)
        # one history row per version, the last one being the stored record: saves are all-or-nothing
        assert len(history[r["objective_id"]]) == r["version"]
        assert history[r["objective_id"]][-1] == objective(r["objective_id"], n)
    assert set(history) == set(stored["objective_id"])  # no history row without its record
    return len(stored)


def test_kill_9_during_writes_leaves_every_record_whole_or_absent(tmp_path):
    path = tmp_path / "state.sqlite"
    rng = random.Random(14)
    saves = 0
    for _ in range(KILLS):
        writer = start(str(path), "loop", "writer")
        # let it commit a random number of saves, then kill it wherever it is (mid-transaction or not)
        for _ in range(rng.randint(1, 60)):
            line = writer.stdout.readline()
            assert line, writer.stderr.read()
            saves += 1
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        assert writer.returncode == -signal.SIGKILL
        assert 1 <= check_whole(path) <= SLOTS
    assert saves >= KILLS


def test_two_processes_writing_the_same_record_lose_no_update(tmp_path):
    path = tmp_path / "state.sqlite"
    store = Store(path)
    plans.save(store, "objectives", {**objective("SHARED", 0), "target_value": 1000.0}, "setup")
    times = 40
    writers = [start(str(path), "increment", name, str(times)) for name in ("ann", "bo")]
    outputs = [w.communicate(timeout=120) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], [err for _, err in outputs]
    shared = plans.get(store, "objectives", "SHARED")
    assert shared["target_value"] == 1000 + 2 * times  # every increment kept: none overwrote another
    assert shared["version"] == 1 + 2 * times
    actors = plans.history(store, "objectives", "SHARED")["actor"].tolist()
    assert actors.count("ann") == actors.count("bo") == times
