"""Run records: a run whose process was killed is marked `interrupted` by the next run and
resumed like a failed one; `hotpapers runs` lists the recent runs."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import OperationalError
from werkzeug import Request, Response

from conftest import sqlite_only
from hotpapers.store.db import connect
from hotpapers.store.runs import RECORD_TRIES, RECORD_WAIT, last_cursors, load_runs, recorded_run
from hotpapers.store.schema import runs

T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)


def add_run(engine, **values) -> int:
    row = {"command": "fetch papers", "started_at": T0, "status": "running"} | values
    with engine.begin() as conn:
        return conn.execute(runs.insert().values(**row)).inserted_primary_key[0]


def statuses(engine) -> dict[int, str]:
    with engine.connect() as conn:
        return {r["id"]: r["status"] for r in load_runs(conn, 100)}


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_p15_a_killed_run_is_marked_interrupted_by_the_next_run(cli, db_url, httpserver,
                                                                 tmp_path, engine):
    arrived, release = threading.Event(), threading.Event()

    def stall(_request: Request) -> Response:  # the harvest's first page never comes
        arrived.set()
        release.wait(60)
        return Response("late", status=503)

    httpserver.expect_request("/oai").respond_with_handler(stall)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")} | {
        "HOTPAPERS_DB": db_url, "HOTPAPERS_ARXIV_OAI_URL": httpserver.url_for("/oai"),
        "HOTPAPERS_HTTP_RETRIES": "0", "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    killed = subprocess.Popen([sys.executable, "-m", "hotpapers", "fetch", "papers",
                               "--date", "2024-03-05"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        assert arrived.wait(60), killed.communicate(timeout=60)
        assert cli("fetch", "papers", "--date", "2024-03-09").code == 3  # a Saturday
        with engine.connect() as conn:
            victim, other = load_runs(conn, 2)[::-1]
        assert (victim["pid"], victim["host"]) == (killed.pid, socket.gethostname())
        assert victim["status"] == "running"  # alive: left alone
        os.kill(killed.pid, signal.SIGKILL)
        assert killed.wait(60) == -signal.SIGKILL
    finally:
        release.set()
    assert cli("fetch", "papers", "--date", "2024-03-09").code == 3
    found = statuses(engine)
    assert found[victim["id"]] == "interrupted" and found[other["id"]] == "nothing"


def test_p15_only_dead_processes_of_this_host_are_judged(engine):
    host = socket.gethostname()
    with recorded_run(engine, "import legacy", lambda: T0):
        pass
    with engine.connect() as conn:
        mine = load_runs(conn, 1)[0]
    alive = add_run(engine, pid=os.getpid(), host=host, process_start=mine["process_start"])
    reused = add_run(engine, pid=os.getpid(), host=host, process_start="another-boot:1")
    dead = add_run(engine, pid=dead_pid(), host=host)
    elsewhere = add_run(engine, pid=dead_pid(), host=f"not-{host}")
    unknown = add_run(engine)  # recorded before pids were
    with recorded_run(engine, "import legacy", lambda: T0):
        pass
    found = statuses(engine)
    assert [found[i] for i in (alive, reused, dead, elsewhere, unknown)] == [
        "running", "interrupted", "interrupted", "running", "running"]


def test_p15_an_interrupted_run_is_resumed_like_a_failed_one(engine):
    cursors = {"day": "2024-03-05", "set": "cs", "token": "t-2"}
    add_run(engine, status="ok", cursors={"day": "2024-03-05", "token": None})
    add_run(engine, status="interrupted", cursors=cursors)
    with engine.connect() as conn:
        assert last_cursors(conn, "fetch papers", {"day": "2024-03-05"}) == cursors


def test_p15_runs_lists_recent_runs(cli, engine):
    add_run(engine, command="import legacy", status="ok", finished_at=T0.replace(minute=2),
            counts={"posts": 3})
    add_run(engine, command="fetch mentions", status="partial",
            finished_at=T0.replace(second=30), counts={"hn": {"mentions": 2}},
            errors=["hf: HTTP 503"])
    add_run(engine, pid=dead_pid(), host=socket.gethostname())
    result = cli("runs", "--json")
    assert result.code == 0, result.err
    listed = json.loads(result.out)
    assert [r["command"] for r in listed] == ["fetch papers", "fetch mentions", "import legacy"]
    assert [r["status"] for r in listed] == ["interrupted", "partial", "ok"]
    assert listed[1]["duration_s"] == 30 and listed[1]["errors"] == ["hf: HTTP 503"]
    assert listed[2]["counts"] == {"posts": 3} and listed[2]["started_at"].startswith("2026-12")
    table = cli("runs", "--limit", "2")
    assert table.code == 0
    assert "fetch mentions" in table.out and "import legacy" not in table.out
    assert "hf: HTTP 503" in table.out and "hn.mentions=2" in table.out
    assert "Done: 2 runs" in table.out


@sqlite_only("its one write lock and busy timeout")
def test_a_runs_record_outlasts_another_jobs_long_write(tmp_path):
    """Another job holds SQLite's write lock past the busy timeout when the run ends: the
    record is written again after a wait (the run's work is saved; it must not fail on its
    record), and a store that stays busy fails the run on the last try only."""
    path = tmp_path / "store.sqlite3"
    engine = connect(f"sqlite:///{path}?timeout=0.01")
    other = sqlite3.connect(path, isolation_level=None)
    waits: list[float] = []

    def wait(seconds: float) -> None:  # the other job commits during the first wait
        waits.append(seconds)
        other.execute("COMMIT")

    with recorded_run(engine, "fetch papers", lambda: T0, sleep=wait) as run:
        run.counts["papers"] = 3
        other.execute("BEGIN IMMEDIATE")
    with engine.connect() as conn:
        (row,) = load_runs(conn)
    assert (row["status"], row["counts"], waits) == ("ok", {"papers": 3}, [RECORD_WAIT])

    with pytest.raises(OperationalError, match="locked"), \
            recorded_run(engine, "fetch papers", lambda: T0, sleep=waits.append):
        other.execute("BEGIN IMMEDIATE")  # and this time it never commits
    assert waits == [RECORD_WAIT] * RECORD_TRIES  # the first run's wait, then 5 between 6
    other.execute("ROLLBACK")
    engine.dispose()


@sqlite_only("its one write lock and busy timeout")
def test_a_run_starts_after_another_jobs_long_write(tmp_path):
    """The store is busy when a run begins: its start is written again after a wait, and
    the run goes on, recorded once."""
    path = tmp_path / "store.sqlite3"
    engine = connect(f"sqlite:///{path}?timeout=0.01")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # the other job commits during the second wait
            other.execute("COMMIT")

    with recorded_run(engine, "fetch papers", lambda: T0, sleep=wait) as run:
        assert waits == [RECORD_WAIT, RECORD_WAIT]
        run.counts["papers"] = 2
    with engine.connect() as conn:
        rows = load_runs(conn)
    assert [(r["status"], r["counts"]) for r in rows] == [("ok", {"papers": 2})]
    engine.dispose()
