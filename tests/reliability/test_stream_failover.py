"""Issue 18's failover test: `hotpapers stream bluesky` consumers as real processes on one
store (PostgreSQL with HOTPAPERS_TEST_POSTGRES, else a SQLite file) and one paced loopback
Jetstream. The active one is killed with SIGKILL, its standby takes over; that one is stopped
with SIGSTOP past its lease, a third takes over, and when the stopped one resumes it is
fenced off (its batch refused). The store ends as one uninterrupted consumer leaves it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.data import jetstream_events
from harness.digest import differences, store_rows
from harness.procs import hp_env
from harness.servers import Jetstream

from hotpapers.jobs.jetstream_ingest import CURSOR
from hotpapers.store.db import connect
from hotpapers.store.stream_lease import read_lease
from hotpapers.store.stream_state import load_cursor
from web_support import fresh_url

EVENTS = 1200
LEASE = "3"  # seconds


class PacedJetstream(Jetstream):
    """Sends each frame `pace` seconds after the last, so a pass takes a while."""

    pace = 0.004

    def _frames(self, index: int, line: str) -> list[str]:
        time.sleep(self.pace)
        return super()._frames(index, line)


def until(what: str, ready: Callable[[], bool], limit: float = 40.0) -> None:
    deadline = time.monotonic() + limit
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {limit:.0f} s for {what}")
        time.sleep(0.05)


class Consumers:
    """`hotpapers -v stream bluesky` processes on one store, their stderr in files."""

    def __init__(self, home: Path, db_url: str, jetstream: str) -> None:
        self.home, self.db_url = home, db_url
        home.mkdir(parents=True, exist_ok=True)
        self.env = hp_env(home, db_url, bsky_jetstream_url=jetstream, bsky_lease_seconds=LEASE,
                          bsky_rewind_seconds="2", http_timeout="5")
        self.engine = connect(db_url)
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> subprocess.Popen:
        log = open(self.home / f"{name}.err", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", "hotpapers", "-v", "stream", "bluesky"],
                                env=self.env, stdout=subprocess.DEVNULL, stderr=log)
        self.procs[name] = proc
        return proc

    def err(self, name: str) -> str:
        return (self.home / f"{name}.err").read_text(errors="replace")

    def holder_pid(self) -> int | None:
        with self.engine.connect() as conn:
            holder = read_lease(conn, CURSOR).holder
        return int(holder.split(":")[1]) if holder else None

    def cursor(self) -> int:
        with self.engine.connect() as conn:
            stored = load_cursor(conn, CURSOR)
        return stored["time_us"] if isinstance(stored, dict) else 0

    def stop_all(self) -> dict[str, int]:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)
                proc.terminate()
        codes = {name: proc.wait(timeout=60) for name, proc in self.procs.items()}
        self.engine.dispose()
        return codes


def reference_rows(events: list[str], home: Path) -> dict:
    """What one consumer, never disturbed, leaves in a new store of the same kind."""
    last = json.loads(events[-1])["time_us"]
    with fresh_url(home, "reference") as url, Jetstream(events) as server:
        consumers = Consumers(home, url, server.url)
        consumers.start("reference")
        until("the reference run to read every event", lambda: consumers.cursor() == last)
        assert consumers.stop_all() == {"reference": 0}
        return store_rows(url)  # the lease's row is not compared (harness/digest.py)


def test_killed_and_stalled_consumers_leave_no_gap_and_no_double_count(db_url, tmp_path):
    events = jetstream_events(EVENTS, seed=18)
    last = json.loads(events[-1])["time_us"]
    with PacedJetstream(events) as server:
        group = Consumers(tmp_path, db_url, server.url)
        try:
            a = group.start("a")
            until("a to hold the lease and write", lambda: group.holder_pid() == a.pid
                  and group.cursor() > 0)
            b = group.start("b")
            until("b to stand by", lambda: "standing by" in group.err("b"))
            assert group.holder_pid() == a.pid
            os.kill(a.pid, signal.SIGKILL)  # 1: the active consumer dies mid-stream
            a.wait(timeout=30)
            at_kill = group.cursor()
            until("b to take over", lambda: group.holder_pid() == b.pid)
            until("b to write", lambda: group.cursor() > at_kill)
            assert group.cursor() < last, "the stream ended before b could be stopped"
            os.kill(b.pid, signal.SIGSTOP)  # 2: the new active one stalls past its lease
            c = group.start("c")
            until("c to take over", lambda: group.holder_pid() == c.pid)
            os.kill(b.pid, signal.SIGCONT)  # b comes back, still believing it writes
            until("b to be fenced off", lambda: "the lease passed to" in group.err("b"))
            until("the stream's last event to be applied", lambda: group.cursor() == last)
            assert group.holder_pid() == c.pid
        finally:
            codes = group.stop_all()
    assert codes["b"] == 0 and codes["c"] == 0 and codes["a"] == -signal.SIGKILL
    got = store_rows(db_url)
    expected = reference_rows(events, tmp_path / "reference")
    assert sum(expected["engagements"].values()) > EVENTS // 2
    assert got == expected, differences(expected, got)
